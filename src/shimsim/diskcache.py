# SPDX-License-Identifier: MIT
"""A cross-run cache of compiled tables in the user's cache directory.

Entries are pickles named by what they hold and by a digest of the package
version and of every file under the table root (relative path, size and
modification time), so editing any table, or upgrading, misses the cache.
Written to a temporary file in the same directory and renamed into place,
so two processes that race both write a whole entry and readers never see a
half-written one; an entry that cannot be read or unpickled is ignored (and
rewritten).  ``SHIMSIM_CACHE_DIR`` chooses the directory, ``SHIMSIM_NO_CACHE=1``
turns the cache off; by default ``$XDG_CACHE_HOME/shimsim`` or ``~/.cache/shimsim``.
The directory is the user's own: pickles are only read from there.
"""
from __future__ import annotations

import os

try:                     # the C unpickler alone: pickle.py (with struct, re, ...) only to write (~1 ms)
    from _pickle import load as _unpickle
except ImportError:      # pragma: no cover - implementations without the accelerator
    from pickle import load as _unpickle

try:                     # the built-in SHA-256, without loading OpenSSL through hashlib (~2.5 ms)
    from _sha256 import sha256            # CPython 3.11
except ImportError:      # pragma: no cover - other versions and implementations
    try:
        from _sha2 import sha256          # CPython 3.12+
    except ImportError:
        from hashlib import sha256

FORMAT = 2                      # bump when a cached object's shape changes (2: tables classes are plain records)
_digests: dict[str, str] = {}


def cache_dir() -> str | None:
    if os.environ.get("SHIMSIM_NO_CACHE"):
        return None
    d = os.environ.get("SHIMSIM_CACHE_DIR")
    if d:
        return d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "shimsim")


def tables_digest(root: str) -> str:
    """Digest of the package version and of every file under ROOT (path, size, mtime)."""
    hit = _digests.get(root)
    if hit is None:
        from shimsim import __version__
        h = sha256(f"shimsim {__version__} format {FORMAT}\n".encode())
        stack = [""]
        while stack:
            rel = stack.pop()
            try:
                entries = sorted(os.scandir(os.path.join(root, rel)), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                name = f"{rel}/{e.name}" if rel else e.name
                try:
                    st = e.stat()
                except OSError:
                    continue
                if e.is_dir():
                    stack.append(name)
                else:
                    h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        hit = _digests[root] = h.hexdigest()[:32]
    return hit


def _path(kind: str, root: str, key: str) -> str | None:
    d = cache_dir()
    if d is None:
        return None
    safe = "".join(c if c.isalnum() or c in "-_.@" else "_" for c in key)
    return os.path.join(d, f"{kind}-{tables_digest(root)}-{safe}.pickle")


def load(kind: str, root: str, key: str) -> object | None:
    """The cached object, or None when there is none (or it is unreadable or corrupt)."""
    path = _path(kind, root, key)
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            return _unpickle(fh)
    except Exception:  # noqa: BLE001 - missing, truncated or garbage: a miss
        return None


def store(kind: str, root: str, key: str, obj: object) -> None:
    """Write OBJ atomically; a cache that cannot be written is silently skipped."""
    path = _path(kind, root, key)
    if path is None:
        return
    import pickle
    import tempfile
    tmp = None
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-", suffix=".pickle")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        tmp = None
    except (OSError, pickle.PicklingError):
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
