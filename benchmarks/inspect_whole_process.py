# SPDX-License-Identifier: MIT
"""Whole-process `shimsim inspect DIR`: wall-clock time and peak memory, per tree and variant.

    python benchmarks/inspect_whole_process.py [-n 1] [--dir /usr/bin] [SRC ...]

Each SRC is a source tree put on PYTHONPATH (default: this checkout's src). Variants: with
libraries (default jobs), `--jobs 1`, and `--no-libraries`; a tree that has no `--jobs` option
(older) runs only the first and the last. Runs of the trees are interleaved so machine load
falls on them alike. Peak memory is the largest resident set of the process or any of its
workers (wait4's ru_maxrss). The output is discarded; it is compared separately. Prints a
Markdown table (median wall-clock seconds, median CPU seconds of the process and its
workers, largest peak MB).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = {"libraries": [], "libraries, --jobs 1": ["--jobs", "1"], "--no-libraries": ["--no-libraries"]}


def _has_jobs(tree: str) -> bool:
    return "--jobs" in open(os.path.join(tree, "shimsim", "commands", "inspect.py")).read()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1, help="runs of each variant per tree (default 1)")
    ap.add_argument("--dir", default="/usr/bin", help="directory to inspect (default /usr/bin)")
    ap.add_argument("trees", nargs="*", default=[os.path.join(HERE, "src")], metavar="SRC")
    a = ap.parse_args()
    env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    res: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for name, extra in VARIANTS.items():
        for _ in range(a.n):
            for tree in a.trees:
                if extra[:1] == ["--jobs"] and not _has_jobs(tree):
                    continue
                t = time.perf_counter()
                p = subprocess.Popen([sys.executable, "-m", "shimsim", "inspect", a.dir, *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     env=dict(env0, PYTHONPATH=tree), cwd=HERE)
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                dt = time.perf_counter() - t
                res.setdefault((name, tree), []).append((dt, ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime))
    print("| variant | " + " | ".join(a.trees) + " |")
    print("| --- |" + " --- |" * len(a.trees))
    for name in VARIANTS:
        cells = []
        for tree in a.trees:
            r = res.get((name, tree))
            cells.append(f"{statistics.median(x for x, _, _ in r):.1f} s ({statistics.median(c for _, _, c in r):.1f} s CPU), "
                         f"{max(m for _, m, _ in r):.0f} MB" if r else "-")
        print(f"| `inspect {a.dir}` {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
