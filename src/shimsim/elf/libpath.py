# SPDX-License-Identifier: MIT
"""Find a DT_NEEDED library the way the glibc loader would.

Order: DT_RPATH (when there is no DT_RUNPATH), DT_RUNPATH, /etc/ld.so.cache,
then the default directories.  A candidate whose class or machine differs
from the requesting file is skipped, as the loader does.

Where files are looked for is a :class:`Root`: this machine (:data:`HOST`)
by default; ``shimsim.image`` supplies a container image's merged file
system, with the image's own ld.so.cache and musl path file.
"""
from __future__ import annotations

import os
import struct
from functools import lru_cache
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from shimsim.elf.reader import Budget, RawElf

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


_LIBS: dict[tuple[str, int, int], "RawElf"] = {}


def read_library(path: str, budget: "Budget") -> "RawElf":
    """Libraries are shared by many programs: read each (path, size, mtime) of this machine once."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    raw = _LIBS.get(key)
    if raw is None:
        if len(_LIBS) > 2048:
            _LIBS.clear()
        raw = _LIBS[key] = read_cached(path, budget)
    return raw


def read_cached(path: str, budget: "Budget") -> "RawElf":
    """read_elf(PATH), from an earlier run when the file is unchanged (shimsim.elf.filecache)."""
    from shimsim.elf.filecache import cached
    from shimsim.elf.reader import read_elf
    raw = cached("raw", path, lambda: read_elf(path, budget))
    if raw.path != path:             # the entry is by real path; results name the path asked for
        import dataclasses
        raw = dataclasses.replace(raw)
        raw.path = path
    return raw


class Root:
    """Where the loader looks: the interface ``predict`` reads files through."""

    where = "on this machine"        # completes "not found ..."

    def candidates(self, soname: str, machine: int, requester: str, rpath: list[str],
                   runpath: list[str]) -> list[str]:
        return candidates(soname, machine, requester, rpath, runpath)

    def isfile(self, path: str) -> bool:
        return os.path.isfile(path)

    def listdir(self, path: str) -> list[str]:
        return os.listdir(path)

    def realpath(self, path: str) -> str:
        return os.path.realpath(path)

    def open(self, path: str) -> BinaryIO:
        return open(path, "rb")

    def read_library(self, path: str, budget: "Budget") -> "RawElf":
        return read_library(path, budget)


HOST = Root()
