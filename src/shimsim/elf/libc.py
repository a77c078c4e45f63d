# SPDX-License-Identifier: MIT
"""libc symbol -> system call tables (tables/libc/*.csv).

A program's imports from libc say which kernel services it can ask for
without running it.  The table format is documented in the header of each
file; rows are facts with the glibc source file that makes the call.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shimsim import csvtable, resources, tables
from shimsim.errors import InputError

HEADER = ["symbol", "syscalls", "kind", "source", "notes"]
KINDS = {"direct", "composite", "vdso", "none", "loader", "startup"}
EQUIV_HEADER = ["x86_64", "aarch64", "source", "notes"]


@dataclass(frozen=True)
class Row:
    symbol: str
    syscalls: tuple[str, ...]
    kind: str
    source: str
    notes: str
    line: int


@dataclass
class LibcTable:
    name: str
    display: str
    rows: dict[str, Row]

    def lookup(self, symbol: str) -> tuple[Row, str] | None:
        """The row for ``symbol`` and the name it was found under.

        Fortified (``__printf_chk``), ISO C99 (``__isoc99_sscanf``),
        large-file (``open64``) and unlocked variants share the plain
        function's calls, so they fall back to it when not listed.
        """
        for cand in _candidates(symbol):
            row = self.rows.get(cand)
            if row is not None:
                return row, cand
        return None


_FORTIFY = re.compile(r"^__(\w+?)_chk$")


def _candidates(symbol: str) -> list[str]:
    name = symbol.split("@", 1)[0]
    out = [name]
    m = _FORTIFY.match(name)
    if m:
        out.append(m.group(1))
    for pre in ("__isoc99_", "__isoc23_", "__libc_", "__"):
        if name.startswith(pre):
            out.append(name[len(pre):])
    for base in list(out):
        for suf in ("_unlocked", "64", "_2", "64_2"):
            if base.endswith(suf) and len(base) > len(suf):
                out.append(base[: -len(suf)])
    seen: list[str] = []
    for c in out:
        if c not in seen:
            seen.append(c)
    return seen


def table_dir() -> Path:
    return resources.table_path("libc")


def parse_table(text: str, display: str, name: str, known: set[str] | None = None) -> LibcTable:
    """Parse and check a table; every problem is an InputError at file:line.

    ``known`` (syscall names of the ABI) rejects misspelt syscalls.
    """
    rows: dict[str, Row] = {}
    for row in csvtable.parse(text, display, HEADER, no_header="no header row"):
        lineno = row.line
        sym, calls, kind, source, notes = row.cells
        if not sym:
            raise InputError(display, lineno, "empty symbol")
        if kind not in KINDS:
            raise InputError(display, lineno, f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
        if not source:
            raise InputError(display, lineno, f"{sym}: every row needs its source file")
        names = tuple(calls.split())
        if kind == "none" and names:
            raise InputError(display, lineno, f"{sym}: kind none but syscalls listed")
        if kind != "none" and not names:
            raise InputError(display, lineno, f"{sym}: kind {kind} needs at least one syscall")
        if known is not None:
            for n in names:
                if n not in known:
                    raise InputError(display, lineno, f"{sym}: unknown syscall {n!r}")
        if sym in rows:
            raise InputError(display, lineno, f"duplicate symbol {sym} (first at line {rows[sym].line})")
        rows[sym] = Row(sym, names, kind, source, notes, lineno)
    return LibcTable(name, display, rows)


@lru_cache(maxsize=None)
def load_table(name: str) -> LibcTable:
    path = table_dir() / f"{name}.csv"
    display = f"tables/libc/{name}.csv"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(display, None, f"cannot read: {exc.strerror or exc}") from None
    return parse_table(text, display, name)


def parse_equivalents(text: str, display: str) -> dict[str, str | None]:
    """x86-64 name -> the name glibc uses on the derived ABI (None: no such call there)."""
    out: dict[str, str | None] = {}
    for row in csvtable.parse(text, display, EQUIV_HEADER, no_header="no header row"):
        cells = row.cells
        if not cells[0] or not cells[2]:
            raise InputError(display, row.line, "expected x86_64 name, replacement (may be empty), source, notes")
        if cells[0] in out:
            raise InputError(display, row.line, f"duplicate name {cells[0]}")
        out[cells[0]] = cells[1] or None
    return out


@lru_cache(maxsize=None)
def derived_table(base: str, equivalents: str) -> LibcTable:
    """``base`` with syscall names renamed for another ABI of the same libc."""
    display = f"tables/libc/{equivalents}.csv"
    try:
        text = (table_dir() / f"{equivalents}.csv").read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(display, None, f"cannot read: {exc.strerror or exc}") from None
    eq = parse_equivalents(text, display)
    src = load_table(base)
    rows: dict[str, Row] = {}
    for sym, row in src.rows.items():
        names: list[str] = []
        for n in row.syscalls:
            m = eq.get(n, n) if n in eq else n
            if m is not None and m not in names:
                names.append(m)
        kind = row.kind if names or row.kind == "none" else "none"
        rows[sym] = Row(sym, tuple(names), kind, row.source, row.notes, row.line)
    return LibcTable(f"{equivalents.removesuffix('-equivalents')} (derived from {base})", display, rows)


def table_for_abi(abi: str) -> LibcTable | None:
    """The libc table of ABI (abis.toml `libc`, derived through `libc_rename` when given)."""
    if abi not in tables.list_abis():
        return None
    f = tables.facts(abi)
    if f.libc is None:
        return None
    if f.libc_rename:
        return derived_table(f.libc, f.libc_rename)
    return load_table(f.libc)
