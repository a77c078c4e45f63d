# SPDX-License-Identifier: MIT
"""The one place that finds the data directory ``tables/`` (installed as ``shimsim._tables``).

Everything that reads a table asks here: ``tables_root()`` for the directory, ``table_path(rel)``
for one file and ``display(path)`` for the ``tables/...`` name used in error messages, so a
message names the file a user edits whether shimsim runs from a checkout or an install.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def tables_root() -> Path:
    """The installed tables directory (a symlink to the checkout's tables/ in development)."""
    import shimsim._tables as pkg

    here = getattr(pkg, "__file__", None)
    if here and os.path.isdir(os.path.dirname(here)):
        # a package on disk, what importlib.resources.files() would give, without importing
        # importlib.resources (it imports tempfile, zipfile and threading: ~5 ms of start-up)
        return Path(os.path.dirname(here)).resolve()
    import importlib.resources   # a zip or another loader

    return Path(str(importlib.resources.files("shimsim._tables"))).resolve()


def table_path(*parts: str) -> Path:
    """tables/<parts...> as a path (the file need not exist)."""
    return tables_root().joinpath(*parts)


def display(path: Path, root: Path | None = None) -> str:
    """PATH as shown in messages: ``tables/...`` under ROOT (default the installed tables), else as given."""
    installed = tables_root()
    root = (root or installed).resolve()
    try:
        rel = Path(path).resolve().relative_to(root)
    except ValueError:
        return str(path)
    # the installed copy is shimsim/_tables, a checkout's is tables/: both are named tables/
    return str(Path("tables" if root == installed else root.name) / rel)
