# SPDX-License-Identifier: MIT
"""Cross-run cache of what ``inspect`` reads from one file of this machine.

The read ELF (:class:`~shimsim.elf.reader.RawElf`) and the raw syscall
sites of a file depend only on its bytes, so they are kept across runs in
:mod:`shimsim.diskcache` (same directory, same ``SHIMSIM_NO_CACHE`` switch,
same key on the package version and the tables).  One entry per kind and
real path holds the file's identity when it was analysed, (st_dev, st_ino,
size, mtime_ns, ctime_ns), its SHA-256 and the result.  An entry is used
when the identity matches, or when it does not but the content digest does
(a reinstalled, identical library); anything else, including an entry that
cannot be unpickled or has the wrong shape, is re-analysed and rewritten.
Nothing is stored when the file changed while it was being analysed, and
the identity of a file changed less than two seconds before is not stored
(a file system's clock may be coarse enough that a rewrite of the same size
keeps the same times; as in git's "racy" check, such an entry is validated
by its digest next time, and then keeps the identity).
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

from shimsim import diskcache

RACY_NS = 2_000_000_000
FORMAT = 1                     # bump when RawElf or Site changes shape
T = TypeVar("T")
stats = {"hit": 0, "miss": 0}  # for tests: how many lookups an earlier run answered
_digests: dict[tuple, str] = {}


def _identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _trusted(ident: tuple) -> tuple | None:
    """IDENT, or None when the file changed too recently for its times to tell rewrites apart."""
    import time
    return ident if time.time_ns() - max(ident[3], ident[4]) > RACY_NS else None


def _digest(real: str, ident: tuple) -> str:
    hit = _digests.get((real, ident))
    if hit is None:
        import hashlib                  # OpenSSL's SHA-256: several times the built-in one on big files
        h = hashlib.sha256()
        with open(real, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        hit = _digests[(real, ident)] = h.hexdigest()
    return hit


_ROOT: list[str] = []


def _root() -> str:
    if not _ROOT:
        from shimsim import resources
        _ROOT.append(str(resources.tables_root()))
    return _ROOT[0]


def cached(kind: str, path: str, compute: Callable[[], T]) -> T:
    """``compute()`` for the file at PATH, or its result from an earlier run of an unchanged file."""
    if diskcache.cache_dir() is None:
        return compute()
    try:
        real = os.path.realpath(path)
        ident = _identity(os.stat(real))
        root = _root()
    except (OSError, ValueError):
        return compute()
    key = diskcache.sha256(f"{FORMAT}\0{real}".encode()).hexdigest()[:32]
    entry = diskcache.load(f"elf{kind}", root, key)
    try:
        if isinstance(entry, tuple) and len(entry) == 4 and entry[0] == real:
            if entry[1] == ident:
                stats["hit"] += 1
                return entry[3]
            if entry[2] == _digest(real, ident):
                stats["hit"] += 1
                if _trusted(ident) != entry[1]:
                    diskcache.store(f"elf{kind}", root, key, (real, _trusted(ident), entry[2], entry[3]))
                return entry[3]
    except OSError:
        return compute()
    stats["miss"] += 1
    value = compute()
    try:
        if _identity(os.stat(real)) == ident:
            diskcache.store(f"elf{kind}", root, key, (real, _trusted(ident), _digest(real, ident), value))
    except OSError:
        pass
    return value
