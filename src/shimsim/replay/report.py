# SPDX-License-Identifier: MIT
"""The replay report model both engines fill: counters, per-syscall
outcomes, divergences with their reasons, the --events rows."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from shimsim.codes import (DIV_FALLBACK, DIV_NAMES, FAILED, FAKED, OUTCOME_NAMES, PARTIAL, STUBBED,
                           UNKNOWN)

LIST_CAP = 1000          # divergences listed in a report (all are counted)
FAIL_ON = ("never", "fatal", "divergence", "any", "failed", "partial")


@dataclass
class Divergence:
    file: str
    line: int
    syscall: str
    code: int
    reason: str
    fatal: bool

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "syscall": self.syscall,
                "kind": DIV_NAMES[self.code], "fatal": self.fatal, "reason": self.reason}


@dataclass
class Report:
    shim: str
    guest: str
    host: str
    engine: str
    events: int = 0
    syscalls: int = 0
    undecoded: int = 0
    outcomes: Counter = field(default_factory=Counter)
    per_syscall: dict[str, Counter] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    div_counts: Counter = field(default_factory=Counter)
    divergences: list[Divergence] = field(default_factory=list)
    first_fatal: Divergence | None = None
    event_rows: list[dict] = field(default_factory=list)   # the first --events N, per event
    callers: list[dict] = field(default_factory=list)      # the programs the trace's processes ran
    loader: dict | None = None  # no layer (bare host): what the host's loader does with the program
    unconfirmed: int = 0        # survivable divergences whose caller was not identified (listed ones)

    @property
    def ndivergences(self) -> int:
        return sum(self.div_counts.values())

    def worst(self, name: str) -> str:
        c = self.per_syscall[name]
        return OUTCOME_NAMES[min(o for o, k in c.items() if k)]

    def syscall_rows(self) -> list[dict]:
        rows = []
        for name, c in self.per_syscall.items():
            rows.append({"name": name, "calls": sum(c.values()), "outcome": self.worst(name),
                         "note": self.notes.get(name, "")})
        rows.sort(key=lambda r: (OUTCOME_NAMES.index(r["outcome"]), -r["calls"], r["name"]))
        return rows

    def to_json(self) -> dict:
        return {
            "shim": self.shim, "guest": self.guest, "host": self.host, "engine": self.engine,
            "events": self.events, "syscall_events": self.syscalls,
            "outcomes": {OUTCOME_NAMES[o]: self.outcomes.get(o, 0) for o in range(7)},
            "syscalls": [{k: r[k] for k in ("name", "calls", "outcome", "note")} for r in self.syscall_rows()],
            "divergences": self.ndivergences,
            "divergence_kinds": {DIV_NAMES[k]: v for k, v in sorted(self.div_counts.items())},
            "survivable": self.div_counts.get(DIV_FALLBACK, 0),
            "survivable_unconfirmed": self.unconfirmed,
            "callers": self.callers,
            **({"loader": self.loader} if self.loader else {}),
            "undecoded_flag_events": self.undecoded,
            "first_divergence": self.first_fatal.to_json() if self.first_fatal else None,
            "divergence_list": [d.to_json() for d in self.divergences],
            "divergences_listed": len(self.divergences),
            **({"event_list": self.event_rows} if self.event_rows else {}),
        }


def failed_conditions(conds: list[str] | None, rep: Report) -> list[str]:
    """The --fail-on conditions that hold for this report."""
    holds = {
        "fatal": rep.first_fatal is not None,
        "divergence": rep.ndivergences > 0,
        "any": rep.ndivergences > 0,
        "failed": any(rep.outcomes.get(o, 0) for o in (FAILED, UNKNOWN)),
        "partial": any(rep.outcomes.get(o, 0) for o in (PARTIAL, STUBBED, FAKED, FAILED, UNKNOWN)),
    }
    return [c for c in (conds or []) if holds.get(c)]


_NAMES_CACHE: dict[int, dict[int, str]] = {}


def names_by_value(fam) -> dict[int, str]:
    """value -> first name of a constant family (errnos, signals)."""
    d = _NAMES_CACHE.get(id(fam))
    if d is None:
        d = {}
        for n, v in fam.members.items():
            if v is not None and v not in d:
                d[v] = n
        _NAMES_CACHE[id(fam)] = d
    return d
