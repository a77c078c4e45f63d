# SPDX-License-Identifier: MIT
"""Find a DT_NEEDED library on this machine the way the glibc loader would.

Order: DT_RPATH (when there is no DT_RUNPATH), DT_RUNPATH, /etc/ld.so.cache,
then the default directories.  A candidate whose class or machine differs
from the requesting file is skipped, as the loader does.
"""
from __future__ import annotations

import os
import struct
from functools import lru_cache

from shimsim import tables

CACHE_MAGIC_NEW = b"glibc-ld.so.cache1.1"
CACHE_MAGIC_OLD = b"ld.so-1.7.0"
MAX_CACHE_BYTES = 16 << 20
MAX_CACHE_ENTRIES = 200_000


def default_dirs(machine: int) -> tuple[str, ...]:
    """The glibc loader's default directories for a Linux ELF of MACHINE (abis.toml `lib_dirs`)."""
    for name in tables.find_abis(os="linux", machine=machine):
        dirs = tables.facts(name).lib_dirs
        if dirs:
            return dirs
    return ("/lib", "/usr/lib")


def parse_ld_so_cache(data: bytes) -> list[tuple[str, str]]:
    """(soname, path) pairs in cache order from an ld.so.cache image."""
    data = data[:MAX_CACHE_BYTES]
    base = data.find(CACHE_MAGIC_NEW)
    if base < 0:
        return []
    hdr = base + len(CACHE_MAGIC_NEW)
    if hdr + 8 > len(data):
        return []
    nlibs, _strlen = struct.unpack_from("<II", data, hdr)
    entries = hdr + 8 + 4 + 4 + 12     # flags u8 + pad 3, extension offset, 3 unused words
    out: list[tuple[str, str]] = []
    for i in range(min(nlibs, MAX_CACHE_ENTRIES)):
        off = entries + 24 * i
        if off + 24 > len(data):
            break
        _flags, key, value = struct.unpack_from("<iII", data, off)
        out.append((_cstr(data, base + key), _cstr(data, base + value)))
    return out


def _cstr(data: bytes, off: int) -> str:
    if off >= len(data):
        return ""
    end = data.find(b"\0", off, off + 4096)
    return data[off:end if end >= 0 else off + 4096].decode("utf-8", "replace")


@lru_cache(maxsize=4)
def ld_so_cache(path: str = "/etc/ld.so.cache") -> dict[str, list[str]]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_CACHE_BYTES)
    except OSError:
        return {}
    out: dict[str, list[str]] = {}
    for soname, lib in parse_ld_so_cache(data):
        out.setdefault(soname, []).append(lib)
    return out


def _expand(path: str, origin: str) -> str:
    return path.replace("$ORIGIN", origin).replace("${ORIGIN}", origin)


def candidates(soname: str, machine: int, requester: str, rpath: list[str], runpath: list[str]) -> list[str]:
    """Paths to try for ``soname``, in loader order."""
    if "/" in soname:
        return [soname]
    origin = os.path.dirname(os.path.abspath(requester))
    dirs = [] if runpath else [_expand(p, origin) for p in rpath]
    dirs += [_expand(p, origin) for p in runpath]
    out = [os.path.join(d, soname) for d in dirs]
    out += ld_so_cache().get(soname, [])
    out += [os.path.join(d, soname) for d in default_dirs(machine)]
    seen: list[str] = []
    for p in out:
        if p not in seen:
            seen.append(p)
    return seen
