# SPDX-License-Identifier: MIT
"""The one reader of shimsim's CSV tables: comments, provenance headers, strict shape.

Every table under tables/ is a CSV file with ``#`` comment lines and one header row.  Comment lines
of the form ``# key: value`` are metadata; the provenance keys are ``source`` (``repo@commit:path``,
several allowed), ``upstream-rows`` (rows in the upstream file), ``excluded-rows``,
``folded-rows``, ``supplement-rows`` and ``supplement-source`` (tables/README.md explains them).

``read(path, header)`` / ``parse(text, display, header)`` return a ``CsvTable``: its rows carry
their line numbers, and every problem (bad CSV, wrong header, wrong cell count, a missing or
malformed provenance line) is an ``InputError(file, line, what was expected)``.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shimsim.errors import InputError

_META = re.compile(r"#\s*([a-z][a-z0-9-]*):\s*(.*)")
_INT = re.compile(r"-?(0x[0-9a-fA-F]+|0o[0-7]+|[0-9]+)\Z")
SOURCE_RE = re.compile(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}:\S+")


@dataclass(frozen=True)
class Row:
    """One data row: its cells (stripped), its line number and the header they belong to."""

    line: int
    cells: tuple[str, ...]
    header: tuple[str, ...]

    def __getitem__(self, key: int | str) -> str:
        if isinstance(key, int):
            return self.cells[key]
        return self.cells[self.header.index(key)]

    def get(self, key: str, default: str = "") -> str:
        return self.cells[self.header.index(key)] if key in self.header else default

    def as_dict(self) -> dict[str, str]:
        return dict(zip(self.header, self.cells))


@dataclass
class CsvTable:
    """A parsed table: header, rows and the ``# key: value`` metadata with their lines."""

    display: str
    header: tuple[str, ...]
    header_line: int
    rows: list[Row]
    meta: dict[str, list[tuple[int, str]]] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def error(self, line: int | None, msg: str) -> InputError:
        return InputError(self.display, line, msg)

    def first(self, key: str) -> tuple[int, str] | None:
        """(line, value) of the first ``# key:`` line, or None."""
        got = self.meta.get(key)
        return got[0] if got else None

    def values(self, key: str) -> list[str]:
        return [v for _, v in self.meta.get(key, [])]

    def meta_int(self, key: str) -> int | None:
        """The leading integer of ``# key: N (why)``; None if the key is absent."""
        got = self.first(key)
        if got is None:
            return None
        line, text = got
        word = text.split()[0] if text.split() else ""
        if not word.isdigit():
            raise self.error(line, f"{key} must start with a row count, got {text!r}")
        return int(word)

    def require(self, key: str, what: str) -> tuple[int, str]:
        got = self.first(key)
        if got is None:
            raise self.error(None, f"missing '# {key}: {what}' provenance line")
        return got

    def check_sources(self, *, pinned: bool = True) -> list[str]:
        """The ``# source:`` lines; with PINNED each must be repo@<40-hex commit>:path."""
        self.require("source", "repo@commit:path")
        if pinned:
            for line, text in self.meta["source"]:
                if not SOURCE_RE.match(text.split()[0] if text.split() else ""):
                    raise self.error(line, f"source must be owner/repo@<40-hex commit>:path, got {text!r}")
        return self.values("source")

    def check_upstream_rows(self, rows: int | None = None) -> int:
        """Every upstream row is accounted for: rows + excluded + folded = upstream + supplement."""
        line, _ = self.require("upstream-rows", "N")
        up = self.meta_int("upstream-rows")
        assert up is not None
        extra = (self.meta_int("excluded-rows") or 0) + (self.meta_int("folded-rows") or 0)
        supp = self.meta_int("supplement-rows") or 0
        if supp and self.first("supplement-source") is None:
            raise self.error(self.first("supplement-rows")[0],   # type: ignore[index]
                             "supplement-rows needs a '# supplement-source: repo@commit:path' line")
        have = len(self.rows) if rows is None else rows
        if have + extra != up + supp:
            raise self.error(line, f"upstream-rows says {up} but the file has {have} rows"
                             + (f" + {extra} excluded/folded" if extra else "")
                             + (f" - {supp} supplemented" if supp else ""))
        return up


def parse(text: str, display: str, header: Sequence[str], *, strip: bool = True,
          allow_empty: bool = True, no_header: str | None = None) -> CsvTable:
    """Parse TEXT (named DISPLAY in errors); the first non-comment row must equal HEADER."""
    want = tuple(header)
    meta: dict[str, list[tuple[int, str]]] = {}
    rows: list[Row] = []
    header_line = 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        if raw.startswith("#"):
            m = _META.match(raw)
            if m:
                meta.setdefault(m.group(1), []).append((lineno, m.group(2).strip()))
            continue
        try:
            cells = next(csv.reader([raw], strict=True))
        except csv.Error as exc:
            raise InputError(display, lineno, f"bad CSV: {exc}") from None
        if strip:
            cells = [c.strip() for c in cells]
        if not header_line:
            if tuple(cells) != want:
                raise InputError(display, lineno,
                                 f"header must be {','.join(want)}, got {','.join(cells)}")
            header_line = lineno
            continue
        if len(cells) != len(want):
            raise InputError(display, lineno, f"expected {len(want)} columns ({','.join(want)}), "
                                              f"got {len(cells)}")
        rows.append(Row(lineno, tuple(cells), want))
    if not header_line:
        raise InputError(display, None, no_header or f"no header row (expected {','.join(want)})")
    if not allow_empty and not rows:
        raise InputError(display, header_line, "no data rows")
    return CsvTable(display, want, header_line, rows, meta)


def read(path: Path, header: Sequence[str], display: str | None = None, **kw) -> CsvTable:
    """Read and parse the file at PATH (see ``parse``); an unreadable file is an InputError too."""
    disp = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(disp, None, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise InputError(disp, None, f"not UTF-8 text: {exc.reason}") from None
    return parse(text, disp, header, **kw)


def parse_int(text: str, display: str, line: int | None, what: str = "value") -> int:
    """A 64-bit integer cell: decimal, 0x.., 0o.., optionally negative."""
    t = text.strip()
    if not _INT.match(t):
        raise InputError(display, line, f"{what} {text!r} is not an integer (decimal, 0x.. or 0o..)")
    v = int(t, 0)
    if not -(1 << 63) <= v < (1 << 64):
        raise InputError(display, line, f"{what} {text!r} does not fit in 64 bits")
    return v
