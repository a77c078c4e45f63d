# SPDX-License-Identifier: MIT
"""cffi build script for the C core (API mode, out of line).

It lives in csrc/, outside the installed package (as pynacl keeps its
bindings build): setup.py names it in cffi_modules, and
``python csrc/build_ffi.py`` builds src/shimsim/_core*.so in place.

Build switches, read at install time:
  SHIMSIM_DEBUG=1     -O0 -g
  SHIMSIM_SANITIZE=1  AddressSanitizer + UndefinedBehaviorSanitizer (run Python
                      with LD_PRELOAD=$(gcc -print-file-name=libasan.so))
A compile failure fails the install: there is no silent fallback.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
# codes.h (generated from codes.def) and shimsim.h, the shared codes and types, go
# first; every other header follows.
FIRST = ("codes.h", "shimsim.h")
HEADERS = [CSRC / n for n in FIRST] + sorted(p for p in CSRC.glob("*.h") if p.name not in FIRST)


def _cdef_text() -> str:
    """Each header's part between the CDEF markers, preprocessor lines removed."""
    parts = []
    for header in HEADERS:
        text = header.read_text()
        m = re.search(r"/\* CDEF BEGIN \*/(.*)/\* CDEF END \*/", text, re.S)
        if not m:
            raise RuntimeError(f"{header}: no CDEF BEGIN/END markers")
        for line in m.group(1).splitlines():
            s = line.strip()
            if s.startswith("#") and not s.startswith("#define"):
                continue
            parts.append(line)
    return "\n".join(parts)


def _flags() -> list[str]:
    flags = ["-std=c11", "-pthread", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror=implicit-function-declaration"]
    if os.environ.get("SHIMSIM_SANITIZE") == "1":
        flags += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"]
    elif os.environ.get("SHIMSIM_DEBUG") == "1":
        flags += ["-O0", "-g"]
    else:
        flags += ["-O3"]
    return flags


def _link_flags() -> list[str]:
    # -pthread: the tokeniser's pipeline thread (csrc/tok_pipe.c)
    if os.environ.get("SHIMSIM_SANITIZE") == "1":
        return ["-pthread", "-fsanitize=address,undefined"]
    return ["-pthread"]


def make_builder(absolute: bool = False) -> FFI:
    """The cffi builder; paths relative to the project root for setup.py,
    absolute for the development build (cffi compiles from its tmpdir)."""
    def path(p: Path) -> str:
        return str(p if absolute else p.relative_to(ROOT))

    builder = FFI()
    builder.cdef(_cdef_text())
    builder.set_source(
        "shimsim._core",
        "\n".join(f'#include "{h.name}"' for h in HEADERS),
        sources=sorted(path(p) for p in CSRC.glob("*.c")),
        include_dirs=[path(CSRC)],
        depends=[path(h) for h in HEADERS],
        extra_compile_args=_flags(),
        extra_link_args=_link_flags(),
    )
    return builder


ffibuilder = make_builder()

if __name__ == "__main__":
    # Development build: writes src/shimsim/_core.*.so next to the sources, so
    # that PYTHONPATH=src runs the working tree.  Installs use setup.py.
    make_builder(absolute=True).compile(tmpdir=str(ROOT / "src"), verbose=False)
