# SPDX-License-Identifier: MIT
"""Which runtimes and libraries a program file carries: the callers that
may implement a fallback (tables/fallbacks.csv names them).

``runtimes(path)`` reads one file (and the libraries its DT_NEEDED names
resolve to on this machine, or under ``root``) and returns one
:class:`Runtime` per implementer found, each with its version when the file
shows it and the evidence.  Nothing is guessed: an implementer that leaves
no mark in the file is absent, a version that is not written down is None.

Evidence read (all of it plain facts of the file formats):

* Go: the ``.go.buildinfo`` section (magic ``\\xff Go buildinf:``; from Go
  1.18 the version string follows the 32-byte header as a varint-prefixed
  string; before it, a pointer to it) or the Go build-ID note;
* Rust std: ``rustc version X`` in ``.comment``, or std's mangled symbols;
* glibc / musl: the libc the file links (DT_NEEDED, PT_INTERP) and, for
  glibc, the ``GNU C Library ... version X.Y`` banner of the libc.so.6 the
  loader would map (or a static binary's own copy of it);
* CPython: DT_NEEDED ``libpythonX.Y.so`` or the interpreter's own exports
  (``Py_BytesMain``), version from the soname or the file name;
* OpenJDK: the ``java`` launcher's DT_NEEDED ``libjli.so`` or ``libjvm.so``;
* Node.js and libuv: Node's exports (``napi_module_register``, ``uv_version``);
* OpenSSL, systemd, libuv as shared libraries: their sonames in the closure.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

from shimsim.elf import libpath

# implementer names as tables/fallbacks.csv spells them
GLIBC, MUSL, GO, RUST, CPYTHON, OPENJDK, NODE, LIBUV, OPENSSL, SYSTEMD, COREUTILS = (
    "glibc", "musl", "go", "rust-std", "cpython", "openjdk", "node", "libuv", "openssl", "systemd", "coreutils")
DISPLAY = {GLIBC: "glibc", MUSL: "musl", GO: "Go runtime", RUST: "Rust std", CPYTHON: "CPython",
           OPENJDK: "OpenJDK", NODE: "Node.js", LIBUV: "libuv", OPENSSL: "OpenSSL", SYSTEMD: "systemd",
           COREUTILS: "GNU coreutils"}
_COREUTILS = re.compile(rb"(GNU coreutils)")
MAX_COREUTILS = 4 << 20
MAX_LIBS = 48
MAX_READ = 64 << 20

_GO_MAGIC = b"\xff Go buildinf:"
_GLIBC_BANNER = re.compile(rb"GNU C Library [^\n\0]{0,120}?version (\d+\.\d+)")
_RUSTC = re.compile(rb"rustc version (\d+\.\d+\.\d+)")
_PYSONAME = re.compile(r"^libpython(\d+\.\d+)[a-z]*\.so")
_PYNAME = re.compile(r"python(\d+\.\d+)")
_JDK_PATH = re.compile(r"/(?:java|jdk|jre)-?(\d+)[^/]*/")
_NODE_RELEASE = re.compile(rb"nodejs\.org/download/release/v(\d+\.\d+\.\d+)/")
_OPENSSL_SONAME = re.compile(r"^lib(?:ssl|crypto)\.so\.(\d+)")


@dataclass(frozen=True)
class Runtime:
    name: str                  # implementer: glibc, go, cpython, ...
    version: str | None        # "2.36", "1.19.8", None when the file does not say
    evidence: str

    def text(self) -> str:
        return DISPLAY.get(self.name, self.name) + (f" {self.version}" if self.version else "")

    def to_json(self) -> dict:
        return {"name": self.name, "version": self.version, "evidence": self.evidence}


@dataclass
class FileRuntimes:
    path: str
    found: bool                      # the file exists and could be read
    runtimes: list[Runtime] = field(default_factory=list)
    problem: str | None = None       # why nothing could be read
    interpreter: str | None = None   # a script's #! line

    def names(self) -> set[str]:
        return {r.name for r in self.runtimes}


def _under(root: str | None, path: str) -> str:
    if not root:
        return path
    return os.path.join(root, path.lstrip("/"))


def _varint(b: bytes, i: int) -> tuple[int, int]:
    v = shift = 0
    while i < len(b):
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7
    return -1, i


def go_version(data: bytes) -> str | None:
    """The Go version of a .go.buildinfo section's contents (Go 1.18+ inline form)."""
    if not data.startswith(_GO_MAGIC) or len(data) < 33:
        return None
    if data[15] & 2:        # flag: strings inline after the 32-byte header
        n, i = _varint(data, 32)
        if n <= 0 or i + n > len(data):
            return None
        return data[i:i + n].decode("ascii", "replace")
    return None


def _section(elf, name: str, cap: int = 1 << 16) -> bytes | None:
    sec = elf.get_section_by_name(name)
    if sec is None or sec["sh_type"] == "SHT_NOBITS":
        return None
    elf.stream.seek(sec["sh_offset"])
    return elf.stream.read(min(sec["sh_size"], cap))


def _dynsyms(elf, names: tuple[str, ...]) -> set[str]:
    """Which of NAMES the file defines in .dynsym (through its hash table when it has one:
    Node's and CPython's export tables are large)."""
    from elftools.elf.hash import ELFHashSection, GNUHashSection
    from elftools.elf.sections import SymbolTableSection
    out = set()
    for hname in (".gnu.hash", ".hash"):
        h = elf.get_section_by_name(hname)
        if isinstance(h, (GNUHashSection, ELFHashSection)):
            for n in names:
                sym = h.get_symbol(n)
                if sym is not None and sym["st_shndx"] != "SHN_UNDEF":
                    out.add(n)
            return out
    sec = elf.get_section_by_name(".dynsym")
    if not isinstance(sec, SymbolTableSection) or sec.num_symbols() > 50000:
        return out
    want = set(names)
    for sym in sec.iter_symbols():
        if sym.name in want and sym["st_shndx"] != "SHN_UNDEF":
            out.add(sym.name)
    return out


@dataclass
class _Elf:
    machine: int
    needed: list[str]
    rpath: list[str]
    runpath: list[str]
    interp: str | None
    comment: bytes
    go: str | None
    go_note: bool
    exports: set[str]
    has_symtab_std: bool


_EXPORTS = ("Py_BytesMain", "Py_Initialize", "napi_module_register", "uv_version", "JNI_CreateJavaVM",
            "gnu_get_libc_version")


@lru_cache(maxsize=256)
def _read(path: str) -> _Elf | str:
    """The facts of one ELF file, or why it could not be read."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    try:
        fh = open(path, "rb")
    except OSError as exc:
        return exc.strerror or str(exc)
    with fh:
        if fh.read(4) != b"\x7fELF":
            return "not an ELF file"
        fh.seek(0)
        try:
            elf = ELFFile(fh)
            needed, rpath, runpath, interp = [], [], [], None
            for seg in elf.iter_segments():
                if seg["p_type"] == "PT_INTERP":
                    interp = seg.get_interp_name()
            for sec in elf.iter_sections():
                if isinstance(sec, DynamicSection):
                    for tag in sec.iter_tags():
                        if tag.entry.d_tag == "DT_NEEDED":
                            needed.append(tag.needed)
                        elif tag.entry.d_tag == "DT_RUNPATH":
                            runpath += [p for p in tag.runpath.split(":") if p]
                        elif tag.entry.d_tag == "DT_RPATH":
                            rpath += [p for p in tag.rpath.split(":") if p]
            comment = _section(elf, ".comment") or b""
            gob = _section(elf, ".go.buildinfo", 4096)
            go_note = _section(elf, ".note.go.buildid", 256) is not None
            exports = _dynsyms(elf, _EXPORTS)
            std = False
            if not _RUSTC.search(comment) and not exports and gob is None and not go_note:
                from elftools.elf.sections import SymbolTableSection
                st = elf.get_section_by_name(".symtab")
                if isinstance(st, SymbolTableSection) and st.num_symbols() < 20000:
                    std = any(s.name.startswith(("_ZN3std", "_RNvNtCs")) and "3std" in s.name[:12]
                              for s in st.iter_symbols())
            return _Elf(elf["e_machine"] if isinstance(elf["e_machine"], int) else elf.header.e_machine,
                        needed, rpath, runpath, interp, comment, go_version(gob) if gob else None,
                        gob is not None or go_note, exports, std)
        except (ELFError, OSError, ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
            return f"corrupt ELF: {exc}"


@lru_cache(maxsize=64)
def _grep(path: str, rx: re.Pattern) -> str | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_READ)
    except OSError:
        return None
    m = rx.search(data)
    return m.group(1).decode() if m else None


def _machine_code(m) -> int:
    """pyelftools names known machines (``EM_X86_64``); libpath keys on the number."""
    from elftools.elf.enums import ENUM_E_MACHINE
    return ENUM_E_MACHINE.get(m, -1) if isinstance(m, str) else m


def runtimes(path: str, root: str | None = None) -> FileRuntimes:
    """The implementers the program file at PATH (under ROOT) carries."""
    real = _under(root, path)
    try:
        with open(real, "rb") as fh:
            head = fh.read(256)
    except OSError as exc:
        return FileRuntimes(path, False, problem=f"{real}: {exc.strerror or exc}")
    if head.startswith(b"#!"):
        line = head[2:].split(b"\n", 1)[0].strip().decode("utf-8", "replace")
        interp = line.split()[0] if line else ""
        out = runtimes(interp, root) if interp else FileRuntimes(path, True)
        return FileRuntimes(path, out.found, out.runtimes, out.problem, interpreter=line)
    e = _read(real)
    if isinstance(e, str):
        return FileRuntimes(path, False, problem=f"{real}: {e}")
    out: list[Runtime] = []
    if e.go:
        out.append(Runtime(GO, e.go.removeprefix("go"), f".go.buildinfo of {path}: {e.go}"))
    elif e.go_note:
        out.append(Runtime(GO, None, f"Go build ID / .go.buildinfo in {path} (version not written inline)"))
    m = _RUSTC.search(e.comment)
    if m:
        out.append(Runtime(RUST, m.group(1).decode(), f".comment of {path}: rustc version {m.group(1).decode()}"))
    elif e.has_symtab_std:
        out.append(Runtime(RUST, None, f"Rust std symbols in {path}"))
    base = os.path.basename(path)
    if "Py_BytesMain" in e.exports or "Py_Initialize" in e.exports:
        mv = _PYNAME.search(base) or _PYNAME.search(os.path.basename(os.path.realpath(real)))
        out.append(Runtime(CPYTHON, mv.group(1) if mv else None, f"{path} exports the CPython API (Py_BytesMain)"))
    if "napi_module_register" in e.exports:
        v = _grep(real, _NODE_RELEASE)
        out.append(Runtime(NODE, v, f"{path} exports Node-API (napi_module_register)"))
    if "uv_version" in e.exports:
        out.append(Runtime(LIBUV, None, f"{path} carries libuv (exports uv_version)"))
    if "gnu_get_libc_version" in e.exports or (not e.interp and not e.needed and _grep(real, _GLIBC_BANNER)):
        v = _grep(real, _GLIBC_BANNER)
        if v:
            out.append(Runtime(GLIBC, v, f"glibc banner in {path}: version {v}"))
    if e.interp and "musl" in e.interp:
        out.append(Runtime(MUSL, None, f"PT_INTERP {e.interp}"))
    try:
        small = os.path.getsize(real) <= MAX_COREUTILS
    except OSError:
        small = False
    if small and _grep(real, _COREUTILS):
        out.append(Runtime(COREUTILS, None, f"{path} is a GNU coreutils program (its --version text)"))
    machine = _machine_code(e.machine)
    seen = {r.name for r in out}
    queue, done = list(e.needed), set()
    nlib = 0
    while queue and nlib < MAX_LIBS:
        so = queue.pop(0)
        if so in done:
            continue
        done.add(so)
        nlib += 1
        lib = next((c for c in libpath.candidates(so, machine, real, e.rpath, e.runpath)
                    if os.path.isfile(_under(root, c) if root and not c.startswith(root) else c)), None)
        libreal = (_under(root, lib) if root and lib and not lib.startswith(root) else lib)
        for r in _soname_runtimes(so, libreal, path):
            if r.name not in seen:
                out.append(r)
                seen.add(r.name)
        if libreal:
            le = _read(libreal)
            if not isinstance(le, str):
                queue += [n for n in le.needed if n not in done]
    if e.interp and "musl" in e.interp and MUSL not in seen:
        out.append(Runtime(MUSL, None, f"PT_INTERP {e.interp}"))
    return FileRuntimes(path, True, out)


def _soname_runtimes(so: str, lib: str | None, path: str) -> list[Runtime]:
    where = f"{path} needs {so}" + (f" ({lib})" if lib else " (not found here)")
    if so == "libc.so.6":
        v = _grep(lib, _GLIBC_BANNER) if lib else None
        return [Runtime(GLIBC, v, where + (f": glibc {v}" if v else ""))]
    if so.startswith("libc.musl-") or so.startswith("ld-musl-"):
        return [Runtime(MUSL, None, where)]
    m = _PYSONAME.match(so)
    if m:
        return [Runtime(CPYTHON, m.group(1), where)]
    if so in ("libjli.so", "libjvm.so"):
        mv = _JDK_PATH.search(lib or path)
        return [Runtime(OPENJDK, mv.group(1) if mv else None, where)]
    if so.startswith("libuv.so"):
        return [Runtime(LIBUV, None, where)]
    if so.startswith("libnode.so"):
        return [Runtime(NODE, None, where), Runtime(LIBUV, None, where)]
    m = _OPENSSL_SONAME.match(so)
    if m:
        return [Runtime(OPENSSL, m.group(1), where)]
    if so.startswith("libsystemd.so") or so.startswith("libsystemd-shared"):
        return [Runtime(SYSTEMD, None, where)]
    return []


def path_runtimes(path: str) -> list[Runtime]:
    """Implementers a successfully opened library path shows in a trace (its own shape):
    a process that maps libpython3.11.so or libjvm.so is running that runtime."""
    base = os.path.basename(path)
    where = f"the trace opens {path}"
    if base == "libc.so.6":
        return [Runtime(GLIBC, None, where)]
    if base.startswith("ld-musl-") or base.startswith("libc.musl-"):
        return [Runtime(MUSL, None, where)]
    m = _PYSONAME.match(base)
    if m:
        return [Runtime(CPYTHON, m.group(1), where)]
    if base == "libjvm.so":
        mv = _JDK_PATH.search(path)
        return [Runtime(OPENJDK, mv.group(1) if mv else None, where)]
    m = _OPENSSL_SONAME.match(base)
    if m:
        return [Runtime(OPENSSL, m.group(1), where)]
    if base.startswith("libuv.so"):
        return [Runtime(LIBUV, None, where)]
    if base.startswith("libsystemd.so") or base.startswith("libsystemd-shared"):
        return [Runtime(SYSTEMD, None, where)]
    return []
