# SPDX-License-Identifier: MIT
"""Results as JSON Lines, streamed as they arrive, and resumed after a kill.

Each line is one analysis row with its ``key``: the SHA-256 of the input's
kind and content digest and of the shim specs (``shim_digest``), so a row is
reused only for the same content under the same shims.  ``--resume`` reads
the file back, keeps every complete row, and cuts off a half-written last
line (a run killed mid-write) before appending; rows that were errors are
analysed again.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from importlib import resources

from shimsim import __version__
from shimsim.errors import InputError


def shim_digest(shims: list[str]) -> str:
    """Digest of the shim specs (by content), the fallback table and the shimsim version."""
    from shimsim import shim as shimmod
    h = hashlib.sha256(f"shimsim {__version__}\0".encode())
    for name in shims:
        p = shimmod.resolve_spec_path(name)
        h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    fb = resources.files("shimsim._tables") / "fallbacks.csv"
    h.update(fb.read_bytes())
    return h.hexdigest()


def row_key(kind: str, digest: str, shims_digest: str) -> str:
    return hashlib.sha256(f"{kind}\0{digest}\0{shims_digest}".encode()).hexdigest()


def read_rows(path: str) -> Iterator[dict]:
    """Complete rows of a results file (a torn last line is ignored)."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.endswith("\n"):
                return                           # torn last line
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                raise InputError(path, lineno, "not a JSON results row (is this a shimsim corpus --jsonl file?)") from None
            if not isinstance(row, dict) or "key" not in row:
                raise InputError(path, lineno, "a results row needs a 'key'")
            yield row


class ResultStore:
    """Append-only JSONL of rows; ``done`` holds the reusable rows by key when resuming."""

    def __init__(self, path: str | None, resume: bool) -> None:
        self.path = path
        self.done: dict[str, dict] = {}
        self._fh = None
        if path is None:
            return
        if resume and os.path.exists(path):
            good = 0
            with open(path, "rb") as fh:
                data = fh.read()
            good = data.rfind(b"\n") + 1              # end of the last complete line
            for row in read_rows(path):
                if not row.get("error"):
                    self.done[row["key"]] = row
            if good != len(data):
                with open(path, "r+b") as fh:
                    fh.truncate(good)
            self._fh = open(path, "a", encoding="utf-8")  # noqa: SIM115
        else:
            self._fh = open(path, "w", encoding="utf-8")  # noqa: SIM115

    def write(self, row: dict) -> None:
        if self._fh is not None:
            self._fh.write(json.dumps(row, sort_keys=True) + "\n")
            self._fh.flush()

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
