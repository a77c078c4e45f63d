# SPDX-License-Identifier: MIT
"""The share of loupedb workloads each shipped layer would run, four ways (docs/corpus.md's table).

    PYTHONPATH=src python tools/loupe_layers.py ../shared/datasets/loupedb

Columns: with tables/fallbacks.csv and Loupe's survival data (what ``shimsim
corpus`` reports), Loupe's survival only (Loupe's own method), fallbacks only,
neither.  Then, per layer, the fallback chains that rescue a workload Loupe
found does not survive ENOSYS for that call: every difference between the
first two columns.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter

from shimsim import shim as S
from shimsim.corpus import loupe

LAYERS = ["gvisor", "linuxulator", "illumos-lx", "netbsd-compat-linux", "wsl1"]


def runs(cs, w: loupe.Workload, fallbacks: bool, survival: bool) -> bool:
    for nr in w.used:
        o = cs.outcome[nr] if nr < cs.nsys else S.UNKNOWN
        if o in (S.TRANSLATED, S.EMULATED, S.PARTIAL):
            continue
        if o == S.FAILED and ((fallbacks and cs.fallback[nr] >= 0) or (survival and nr in w.stub_ok)):
            continue
        if o in (S.STUBBED, S.FAKED) and (not survival or nr in w.fake_ok):
            continue
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("loupedb")
    args = ap.parse_args(argv)
    ws = [loupe.read_workload(d) for d in loupe.workload_dirs(args.loupedb)]
    print(f"{len(ws)} workloads")
    print("| layer | fallbacks + Loupe's survival | Loupe's survival only | fallbacks only | neither |")
    print("| --- | ---: | ---: | ---: | ---: |")
    rescued = {}
    for name in LAYERS:
        cs = S.load(name, loupe.ABI)
        cells = [100 * sum(runs(cs, w, f, s) for w in ws) / len(ws)
                 for f, s in ((True, True), (False, True), (True, False), (False, False))]
        print(f"| {name} | " + " | ".join(f"{c:.1f} %" for c in cells) + " |")
        c: Counter = Counter()
        for w in ws:
            for nr in w.used:
                if cs.outcome[nr] == S.FAILED and cs.fallback[nr] >= 0 and nr not in w.stub_ok:
                    c[(cs.syscall_name(nr), cs.fallback_text(cs.fallback[nr]))] += 1
        rescued[name] = c
    for name, c in rescued.items():
        print(f"\n{name}: calls a fallback rescues where Loupe saw the workload fail with ENOSYS")
        for (sc, text), n in c.most_common():
            print(f"  {sc:18} {n:3} workload(s)  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
