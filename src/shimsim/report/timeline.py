# SPDX-License-Identifier: MIT
"""Outcomes over the course of a trace, in a bounded number of bins.

The length of a trace is not known until it has been read, so bins start one
event wide and double (adjacent bins merged) whenever there are twice as many
as wanted: memory stays bounded and every bin covers the same number of events.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shimsim.shim import NONE, OUTCOME_NAMES

NSLOTS = NONE + 1   # the seven outcomes, then NONE (events that are not syscalls)


@dataclass
class Bin:
    file: str
    line: int
    counts: list[int] = field(default_factory=lambda: [0] * NSLOTS)
    filled: int = 0


class Timeline:
    """Accumulates one outcome byte per event (``ss_rp_result.outcome`` order)."""

    def __init__(self, bins: int = 100) -> None:
        self.target = max(2, bins)
        self.size = 1
        self.bins: list[Bin] = []
        self.events = 0

    def add(self, outcomes: bytes, where: Callable[[int], tuple[str, int]]) -> None:
        """Outcomes of consecutive events; ``where(i)`` gives file and line of the i-th."""
        i, n = 0, len(outcomes)
        while i < n:
            if not self.bins or self.bins[-1].filled >= self.size:
                if len(self.bins) >= 2 * self.target:
                    self._halve()
                    continue
                f, ln = where(i)
                self.bins.append(Bin(f, ln))
            b = self.bins[-1]
            take = min(self.size - b.filled, n - i)
            seg = outcomes[i:i + take]
            for o in range(NSLOTS):
                c = seg.count(o)
                if c:
                    b.counts[o] += c
            b.filled += take
            i += take
        self.events += n

    def _halve(self) -> None:
        merged: list[Bin] = []
        for k in range(0, len(self.bins), 2):
            a = self.bins[k]
            if k + 1 < len(self.bins):
                b = self.bins[k + 1]
                a.counts = [x + y for x, y in zip(a.counts, b.counts)]
                a.filled += b.filled
            merged.append(a)
        self.bins = merged
        self.size *= 2

    def to_json(self) -> dict:
        """Bins with the file:line each starts at and the count of each outcome."""
        return {
            "events_per_bin": self.size,
            "events": self.events,
            "bins": [{"file": b.file, "line": b.line, "events": b.filled,
                      "outcomes": {OUTCOME_NAMES[o]: b.counts[o] for o in range(NONE) if b.counts[o]},
                      "other": b.counts[NONE]} for b in self.bins],
        }
