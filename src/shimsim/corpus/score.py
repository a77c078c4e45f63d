# SPDX-License-Identifier: MIT
"""The corpus scores: one associative, commutative merge over analysis rows.

Definitions (docs/corpus.md has them with worked examples).  For a corpus of
inputs i with weights w_i (uniform: 1 each; see ``weights``), W = sum of w_i
over the inputs scored (errors and skipped files are not scored):

* **weighted completeness** of a shim (Tsai et al., EuroSys 2016, §2: the
  share of a typical installation that works): the weight of the inputs
  whose verdict is ``runs`` or ``emulated`` under the shim, over W;
* **API importance** of a syscall: the weight of the inputs that use it,
  over W (with uniform weights, the share of inputs that use it).  Tsai et
  al.'s own importance, the probability that an installation includes at
  least one user of the call, 1 - prod(1 - p_i) over its users with
  p_i = w_i / max w, is ``tsai_importance`` in the JSON;
* **blockers** of a shim: the calls named by the inputs that break under it;
  each with the inputs and weight it breaks (it is among their blockers) and
  the weight it alone would unlock (inputs whose only blocker it is),
  ranked by weight broken, then weight unlocked, then name.

Every quantity is an integer (weights in millionths) or a multiset of them,
so ``merge`` is exact: any partition of the rows, merged in any order, gives
the same tables.
"""
from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from shimsim.corpus.verdicts import BREAKS, EMULATED, RUNS, VERDICTS
from shimsim.corpus.weights import UNIT

OUTCOME_ORDER = ("unknown", "failed", "faked", "stubbed", "partial", "emulated", "translated")


def _counter(d: dict, key: str) -> Counter:
    c = d.get(key)
    if c is None:
        c = d[key] = Counter()
    return c


def _median(hist: Counter) -> float | None:
    n = sum(hist.values())
    if not n:
        return None
    vals = sorted(hist.items())

    def kth(k: int) -> int:
        seen = 0
        for v, c in vals:
            seen += c
            if seen > k:
                return v
        return vals[-1][0]
    return (kth((n - 1) // 2) + kth(n // 2)) / 2


@dataclass
class Summary:
    inputs: int = 0
    errors: int = 0
    skipped: int = 0
    unweighted: int = 0
    total_weight: int = 0
    max_weight: int = 0
    kinds: Counter = field(default_factory=Counter)
    error_rows: list = field(default_factory=list)               # (input, message)
    verdicts: dict = field(default_factory=dict)                 # shim -> Counter(verdict -> inputs)
    vweight: dict = field(default_factory=dict)                  # shim -> Counter(verdict -> weight)
    used: Counter = field(default_factory=Counter)               # syscall -> inputs
    used_w: Counter = field(default_factory=Counter)             # syscall -> weight
    used_wdist: dict = field(default_factory=dict)               # syscall -> Counter(weight -> inputs)
    blocked: dict = field(default_factory=dict)                  # shim -> Counter(syscall -> inputs)
    blocked_w: dict = field(default_factory=dict)                # shim -> Counter(syscall -> weight)
    sole: dict = field(default_factory=dict)                     # shim -> Counter(syscall -> inputs)
    sole_w: dict = field(default_factory=dict)                   # shim -> Counter(syscall -> weight)
    no_layer: Counter = field(default_factory=Counter)           # shim -> inputs it has no layer for
    cells: dict = field(default_factory=dict)                    # shim -> syscall -> Counter(outcome -> inputs)
    judged: dict = field(default_factory=dict)                   # shim -> Counter(syscall -> inputs judged)
    loupe_used: Counter = field(default_factory=Counter)         # used-call count -> workloads
    loupe_required: Counter = field(default_factory=Counter)

    # ---------------------------------------------------------------- folding
    def add(self, row: dict, weight: int, weighted: bool = True) -> None:
        """Fold one analysis row in, with its weight in UNITs."""
        if row.get("error"):
            self.errors += 1
            self.error_rows.append((row["input"], row["error"]))
            return
        if row.get("skipped"):
            self.skipped += 1
            return
        self.inputs += 1
        self.kinds[row["kind"]] += 1
        if not weighted:
            self.unweighted += 1
        self.total_weight += weight
        self.max_weight = max(self.max_weight, weight)
        used, used_w, wdist = self.used, self.used_w, self.used_wdist
        syscalls = row["syscalls"]
        for sc in syscalls:
            used[sc] += 1
            used_w[sc] += weight
            d = wdist.get(sc)
            if d is None:
                d = wdist[sc] = Counter()
            d[weight] += 1
        if "loupe" in row:
            self.loupe_used[row["loupe"]["used"]] += 1
            self.loupe_required[row["loupe"]["required"]] += 1
        for shim, r in row["shims"].items():
            v = r["verdict"]
            _counter(self.verdicts, shim)[v] += 1
            _counter(self.vweight, shim)[v] += weight
            bl = r["blockers"]
            if v == BREAKS and not bl:
                self.no_layer[shim] += 1
            if r["reason"].startswith("no layer for"):
                continue
            if bl:
                b, bw = _counter(self.blocked, shim), _counter(self.blocked_w, shim)
                for sc in bl:
                    b[sc] += 1
                    bw[sc] += weight
                if len(bl) == 1:
                    _counter(self.sole, shim)[bl[0]] += 1
                    _counter(self.sole_w, shim)[bl[0]] += weight
            cells = self.cells.get(shim)
            if cells is None:
                cells = self.cells[shim] = {}
            for sc, o in r["outcomes"].items():
                c = cells.get(sc)
                if c is None:
                    c = cells[sc] = Counter()
                c[o] += 1
            _counter(self.judged, shim).update(syscalls)

    def merge(self, other: Summary) -> Summary:
        """self + other (exact; returns self)."""
        for name in ("inputs", "errors", "skipped", "unweighted", "total_weight"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.max_weight = max(self.max_weight, other.max_weight)
        self.error_rows = self.error_rows + other.error_rows
        for name in ("kinds", "used", "used_w", "no_layer", "loupe_used", "loupe_required"):
            getattr(self, name).update(getattr(other, name))
        for name in ("verdicts", "vweight", "used_wdist", "blocked", "blocked_w", "sole", "sole_w", "judged"):
            mine = getattr(self, name)
            for k, c in getattr(other, name).items():
                mine.setdefault(k, Counter()).update(c)
        for shim, cells in other.cells.items():
            mine = self.cells.setdefault(shim, {})
            for sc, c in cells.items():
                mine.setdefault(sc, Counter()).update(c)
        return self

    # ---------------------------------------------------------------- tables
    def shim_names(self) -> list[str]:
        return sorted(self.verdicts)

    def completeness(self, shim: str) -> float | None:
        if not self.total_weight:
            return None
        vw = self.vweight.get(shim, Counter())
        return (vw[RUNS] + vw[EMULATED]) / self.total_weight

    def blockers(self, shim: str, top: int | None = None) -> list[dict]:
        b, bw = self.blocked.get(shim, Counter()), self.blocked_w.get(shim, Counter())
        s, sw = self.sole.get(shim, Counter()), self.sole_w.get(shim, Counter())
        order = sorted(b, key=lambda sc: (-bw[sc], -sw[sc], -b[sc], sc))
        return [{"syscall": sc, "inputs": b[sc], "weight": bw[sc] / UNIT,
                 "share": bw[sc] / self.total_weight if self.total_weight else None,
                 "unlocks_inputs": s[sc], "unlocks_weight": sw[sc] / UNIT,
                 "unlocks_share": sw[sc] / self.total_weight if self.total_weight else None}
                for sc in order[:top]]

    def cell(self, shim: str, sc: str) -> str | None:
        """The worst outcome any input met for this call under this shim (None: no input judged it)."""
        n = self.judged.get(shim, Counter())[sc]
        if not n:
            return None
        c = self.cells.get(shim, {}).get(sc, Counter())
        seen = [o for o in OUTCOME_ORDER if c.get(o)]
        if sum(c.values()) < n:
            seen.append("translated")
        return min(seen, key=OUTCOME_ORDER.index)

    def tsai_importance(self, sc: str) -> float:
        if not self.max_weight:
            return 0.0
        log_none = 0.0
        for w, n in sorted(self.used_wdist.get(sc, {}).items()):
            p = w / self.max_weight
            if p >= 1.0:
                return 1.0
            log_none += n * math.log1p(-p)
        return 1.0 - math.exp(log_none)

    def syscalls(self, top: int | None = None) -> list[dict]:
        order = sorted(self.used, key=lambda sc: (-self.used_w[sc], -self.used[sc], sc))
        shims = self.shim_names()
        return [{"syscall": sc, "inputs": self.used[sc],
                 "importance": self.used_w[sc] / self.total_weight if self.total_weight else None,
                 "tsai_importance": self.tsai_importance(sc),
                 "outcomes": {s: self.cell(s, sc) for s in shims}}
                for sc in order[:top]]

    def to_json(self, top: int | None = 20, weights: str = "uniform") -> dict:
        shims = []
        for s in self.shim_names():
            vc, vw = self.verdicts[s], self.vweight[s]
            shims.append({
                "shim": s, **{v: vc.get(v, 0) for v in VERDICTS},
                "no_layer": self.no_layer.get(s, 0),
                "weight": {v: vw.get(v, 0) / UNIT for v in VERDICTS},
                "completeness": self.completeness(s),
                "blockers": self.blockers(s, top),
            })
        out = {
            "inputs": self.inputs, "errors": self.errors, "skipped": self.skipped, "unweighted": self.unweighted,
            "weights": weights, "total_weight": self.total_weight / UNIT,
            "kinds": dict(sorted(self.kinds.items())),
            "shims": shims, "syscalls": self.syscalls(None),
            "loupe": None, "error_list": [{"input": p, "error": e} for p, e in sorted(self.error_rows)],
        }
        n = sum(self.loupe_used.values())
        if n:
            out["loupe"] = {"workloads": n, "median_used": _median(self.loupe_used),
                            "median_required": _median(self.loupe_required)}
        return out


def summarise(rows, weights) -> Summary:
    """Serial fold of rows (the reference every parallel run is compared with)."""
    s = Summary()
    for row in rows:
        w, found = weights.of(row)
        s.add(row, w, weights.uniform or found is not None)
    return s
