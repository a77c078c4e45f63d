# SPDX-License-Identifier: MIT
"""ParseStats: what a parse saw, shared by every format's parser.

Lenient parsing must never drop a line silently: every line is either part of
an event, skipped for a stated reason (blank, strace's own messages, -k stack
frames, summary tables) or counted as unparsed with the first few kept as
``file:line: reason`` for the report.
"""
from __future__ import annotations

from collections import Counter

from shimsim import model
from shimsim._record import Record

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

FIRST_UNPARSED = 10  # how many unparsed lines are kept verbatim for the report


class ParseStats(Record):
    """What reading a trace counted: lines, events by kind, unparsed and skipped lines, syscalls."""
    _FIELDS = ("lines", "events", "unparsed_count", "unparsed_first", "syscalls", "pids", "tids", "skipped",
               "summary", "summary_mismatches", "last_unparsed", "publication")
    lines: int
    events: Counter[str]                          # kind name -> count
    unparsed_count: int
    unparsed_first: list[tuple[str, int, str]]
    syscalls: dict[str, list[int]]                # name -> [calls, errors]
    pids: set[int]
    tids: set[tuple[int | None, int]]             # (pid, tid) of every thread seen
    skipped: Counter[str]                         # reason -> lines
    summary: dict[str, list[int]] | None          # strace -c/-C table: name -> [calls, errors]
    summary_mismatches: list[str]
    last_unparsed: tuple[str, int, str] | None    # the latest unparsed line (cut-off detection)
    publication: dict[str, Any]                   # path -> decoration found (trace.publish)

    def __init__(self, lines: int = 0, events: Counter[str] | None = None, unparsed_count: int = 0,
                 unparsed_first: list[tuple[str, int, str]] | None = None,
                 syscalls: dict[str, list[int]] | None = None, pids: set[int] | None = None,
                 tids: set[tuple[int | None, int]] | None = None, skipped: Counter[str] | None = None,
                 summary: dict[str, list[int]] | None = None, summary_mismatches: list[str] | None = None,
                 last_unparsed: tuple[str, int, str] | None = None,
                 publication: dict[str, Any] | None = None) -> None:
        self.lines = lines
        self.events = Counter() if events is None else events
        self.unparsed_count = unparsed_count
        self.unparsed_first = [] if unparsed_first is None else unparsed_first
        self.syscalls = {} if syscalls is None else syscalls
        self.pids = set() if pids is None else pids
        self.tids = set() if tids is None else tids
        self.skipped = Counter() if skipped is None else skipped
        self.summary = summary
        self.summary_mismatches = [] if summary_mismatches is None else summary_mismatches
        self.last_unparsed = last_unparsed
        self.publication = {} if publication is None else publication

    def unparsed(self, path: str, line: int, reason: str) -> None:
        """Count a line that was not understood (lenient mode)."""
        self.unparsed_count += 1
        self.last_unparsed = (path, line, reason)
        if len(self.unparsed_first) < FIRST_UNPARSED:
            self.unparsed_first.append((path, line, reason))

    def reclassify_last(self, reason: str) -> None:
        """The latest unparsed line is skipped for a stated reason after all
        (a published trace's cut-off last line)."""
        if self.last_unparsed is None:
            return
        self.unparsed_count -= 1
        if self.unparsed_first and self.unparsed_first[-1] == self.last_unparsed:
            self.unparsed_first.pop()
        self.last_unparsed = None
        self.skip(reason)

    def skip(self, reason: str, n: int = 1) -> None:
        """Count lines understood but carrying no event (blank, messages, stack frames)."""
        self.skipped[reason] += n

    def add_event(self, ev: model.Event) -> None:
        self.events[model.KIND_NAMES[ev.kind]] += 1
        if ev.pid is not None and ev.pid >= 0:
            self.pids.add(ev.pid)
        if ev.tid is not None and ev.tid >= 0:
            self.tids.add((ev.pid, ev.tid))
        if ev.kind == model.SYSCALL and ev.name is not None:
            self.count_call(ev.name, ev.rec, ev.errname)

    def count_call(self, name: str, rec: int | None, errname: str | None) -> None:
        """Per-syscall calls and errors, counted the way strace -c counts them:
        a call counts once it has returned (so not ``= ?`` without an errno, and
        not calls left unfinished), an error when it returned an errno
        (ERESTART* included, as strace does)."""
        if rec in (model.UNKNOWN, model.UNFINISHED, None) and not errname:
            return
        row = self.syscalls.get(name)
        if row is None:
            row = self.syscalls[name] = [0, 0]
        row[0] += 1
        if errname:
            row[1] += 1

    @property
    def unparsed_lines(self) -> list[str]:
        return [f"{p}:{ln}: {r}" for p, ln, r in self.unparsed_first]

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "events": dict(sorted(self.events.items())),
            # a trace without pid columns (strace without -f) is one process
            "processes": len(self.pids) or (1 if sum(self.events.values()) else 0),
            # threads as the tracer printed them (strace's [pid N] is a thread id; truss' pid/lwp)
            "threads": len(self.tids) or len(self.pids) or (1 if sum(self.events.values()) else 0),
            "unparsed": self.unparsed_count,
            "unparsed_first": self.unparsed_lines,
            "skipped": dict(sorted(self.skipped.items())),
            "syscalls": {n: {"calls": c, "errors": e} for n, (c, e) in sorted(self.syscalls.items())},
            **({"publication": self.publication} if self.publication else {}),
        }
