# SPDX-License-Identifier: MIT
"""strace -c / -C / -w / -S / -U summary tables.

The table's columns are found from its dashed separator line (each run of
dashes is one column), and named from the header, so custom -U column sets
and orders read the same way as the default table.
"""
from __future__ import annotations

import re

_HEADER_NAMES = {"%time": "percent", "seconds": "seconds", "usecs/call": "usecs", "calls": "calls",
                 "errors": "errors", "syscall": "name", "shortest": "min", "longest": "max"}


class SummaryTable:
    """Accumulates the rows of one or more summary tables (e.g. one per
    personality, or appended runs); calls and errors summed per syscall."""

    def __init__(self) -> None:
        self.columns: list[str] = []
        self.spans: list[tuple[int, int]] | None = None
        self.rows: dict[str, list[int]] = {}
        self.total: list[int] | None = None
        self.bad_rows = 0

    def header(self, line: str) -> None:
        self.columns = [_HEADER_NAMES.get(t, t) for t in line.replace("% time", "%time").split()]
        self.spans = None

    def row(self, line: str) -> None:
        if set(line.strip()) <= {"-", " "}:
            self.spans = [(m.start(), m.end()) for m in re.finditer(r"-+", line)]
            return
        cells = self._cells(line)
        if cells is None:
            self.bad_rows += 1
            return
        name = cells.get("name", "")
        try:
            calls = int(cells.get("calls") or 0)
            errors = int(cells.get("errors") or 0)
        except ValueError:
            self.bad_rows += 1
            return
        if name == "total":
            self.total = [calls, errors]
            return
        row = self.rows.setdefault(name, [0, 0])
        row[0] += calls
        row[1] += errors

    def _cells(self, line: str) -> dict[str, str] | None:
        if not self.columns:
            return None
        if self.spans is None or len(self.spans) != len(self.columns):
            toks = line.split()
            if len(toks) != len(self.columns):
                return None
            return dict(zip(self.columns, toks))
        out = {}
        last = len(self.spans) - 1
        for k, (col, (a, b)) in enumerate(zip(self.columns, self.spans)):
            # numbers are right-aligned in their span; the name column may run past it
            prev_end = self.spans[k - 1][1] if k > 0 else 0
            cell = line[prev_end:] if k == last else line[prev_end:b]
            out[col] = cell.strip()
        return out

    def totals(self) -> dict[str, list[int]]:
        return {k: list(v) for k, v in self.rows.items()}
