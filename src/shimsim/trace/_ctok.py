# SPDX-License-Identifier: MIT
"""Thin binding to the C strace tokeniser (csrc/tokenise.[ch]).

The only module of the trace package that touches ``ffi``/``lib``.  Every C
allocation is owned by an ``ffi.gc`` handle, so it is freed with the Python
object.  Batches are handed out as cdata arrays; converting them into
``Event`` objects is optional (events()), the C replay reads them directly.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shimsim import engine, model
from shimsim.errors import ShimsimError
from shimsim.trace.strace import REASONS

SYSCALLS, ERRNOS, SIGNALS = 0, 1, 2
MAX_ABI = 4
NOTE_UNPARSED, NOTE_SUMMARY = 1, 2


def _lib() -> tuple[Any, Any]:
    core = engine.core()
    return core.ffi, core.lib


@dataclass
class Note:
    kind: int
    reason: int
    file_id: int
    line: int
    text: str


class Tokeniser:
    """One C tokeniser: name tables are loaded once, then feed() per block."""

    def __init__(self, syscalls: list[dict[str, int] | None], errnos: list[dict[str, int] | None],
                 signals: list[dict[str, int] | None], modes: tuple[int, int, int]) -> None:
        self.ffi, self.lib = _lib()
        if len(syscalls) > MAX_ABI:
            raise ShimsimError(f"at most {MAX_ABI} ABIs per trace in the C tokeniser")
        ptr = self.lib.ss_tok_new()
        if ptr == self.ffi.NULL:
            raise MemoryError("ss_tok_new")
        self._t = self.ffi.gc(ptr, self.lib.ss_tok_free)
        for table, dicts in ((SYSCALLS, syscalls), (ERRNOS, errnos), (SIGNALS, signals)):
            for abi, names in enumerate(dicts):
                for name, value in (names or {}).items():
                    b = name.encode()
                    if self.lib.ss_tok_add_name(self._t, table, abi, b, len(b), value) < 0:
                        raise MemoryError("ss_tok_add_name")
        self.lib.ss_tok_set_modes(self._t, *modes)
        self._keep: bytes = b""

    def feed(self, block: bytes, file_id: int, first_line: int, default_pid: int) -> int:
        """Tokenise one block; returns the number of events now in events()."""
        self._keep = block  # events point into it until the next feed
        n = self.lib.ss_tok_feed(self._t, block, len(block), file_id, first_line, default_pid)
        if n < 0:
            raise MemoryError("the C tokeniser ran out of memory")
        return int(n)

    def next_line(self) -> int:
        return int(self.lib.ss_tok_next_line(self._t))

    def finish(self) -> int:
        n = self.lib.ss_tok_finish(self._t)
        if n < 0:
            raise MemoryError("the C tokeniser ran out of memory")
        return int(n)

    def events_ptr(self) -> Any:
        return self.lib.ss_tok_events(self._t)

    def notes(self) -> list[Note]:
        n = self.lib.ss_tok_nnotes(self._t)
        if not n:
            return []
        arr = self.lib.ss_tok_notes(self._t)
        out = []
        for k in range(n):
            x = arr[k]
            text = self.ffi.unpack(x.text, x.len).decode("utf-8", "surrogateescape") if x.len else ""
            out.append(Note(int(x.kind), int(x.reason), int(x.file_id), int(x.line), text))
        return out

    def counts(self) -> dict[str, Any]:
        c = self.ffi.new("ss_tok_counts *")
        self.lib.ss_tok_get_counts(self._t, c)
        return {
            "lines": int(c.lines), "unparsed": int(c.unparsed), "blank": int(c.blank),
            "stack": int(c.stack), "messages": int(c.messages), "summary": int(c.summary),
            "continuation": int(c.continuation),
            "by_kind": [int(c.by_kind[k]) for k in range(9)],
        }

    def syscall_stats(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        name = self.ffi.new("const char **")
        ln = self.ffi.new("uint32_t *")
        calls = self.ffi.new("uint64_t *")
        errs = self.ffi.new("uint64_t *")
        for i in range(self.lib.ss_tok_nsyscalls(self._t)):
            self.lib.ss_tok_syscall_stat(self._t, i, name, ln, calls, errs)
            if calls[0]:
                out[self.ffi.unpack(name[0], ln[0]).decode("utf-8", "surrogateescape")] = [int(calls[0]), int(errs[0])]
        return out

    def pids(self) -> set[int]:
        n = self.lib.ss_tok_npids(self._t)
        buf = self.ffi.new("int32_t[]", max(n, 1))
        m = self.lib.ss_tok_pids(self._t, buf, n)
        return {int(buf[k]) for k in range(m)}


def _text(ffi: Any, p: Any, n: int) -> str:
    return ffi.unpack(p, n).decode("utf-8", "surrogateescape") if n else ""


def to_events(ffi: Any, arr: Any, count: int, files: list[str], abis: list[str]) -> Iterator[model.Event]:
    """Python Event objects for count ss_event records (slow path, for --events,
    tests and Python consumers)."""
    from shimsim.trace.strace import F_NO_RET

    for k in range(count):
        e = arr[k]
        kind = int(e.kind)
        flags = int(e.flags)
        ev = model.Event(kind=kind, file=files[e.file_id], line=int(e.line),
                         pid=int(e.pid) if e.pid >= 0 else None,
                         tid=int(e.tid) if e.tid >= 0 else None,
                         ts=float(e.ts) if flags & model.F_HAS_TS else None,
                         dur=float(e.dur) if flags & model.F_HAS_DUR else None,
                         name=_text(ffi, e.name, e.name_len) or None,
                         args=_text(ffi, e.args, e.args_len),
                         flags=flags, abi=abis[e.abi] if e.abi < len(abis) else None)
        if kind == model.SYSCALL:
            ev.nr = int(e.nr) if e.nr >= 0 else None
            ev.rec = int(e.rec)
            ev.ret = None if flags & F_NO_RET else int(e.ret)
            if e.errname_len:
                ev.errname = _text(ffi, e.errname, e.errname_len)
                ev.err = int(e.err)
        elif kind in (model.SIGNAL, model.STOPPED, model.KILLED):
            ev.err = int(e.err)
        elif kind in (model.EXIT, model.SUPERSEDED, model.PERSONALITY):
            ev.ret = int(e.ret)
        yield ev


def reason_text(code: int) -> str:
    return REASONS[code] if 0 < code < len(REASONS) else f"reason {code}"
