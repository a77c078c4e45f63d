# SPDX-License-Identifier: MIT
"""Whole-process start-up of the CLI: median wall-clock time of N runs of each command.

    python benchmarks/startup_whole_process.py [-n 20] [SRC ...]

Each SRC is a source tree put on PYTHONPATH (default: this checkout's src); with
several (say an older checkout's src and this one), the runs of the trees are
interleaved so machine load falls on all of them alike. A bare `python -c pass`
is run the same way, as the floor. Prints a Markdown table (milliseconds).
Byte-code is written on the first run (PYTHONDONTWRITEBYTECODE is unset), as it
would be by an installed package, so the figures do not include compiling.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = os.path.join(HERE, "tests", "fixtures", "strace", "gen", "abort_killed.strace")
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "shimsim --version": ["-m", "shimsim", "--version"],
    "shimsim --help": ["-m", "shimsim", "--help"],
    "shimsim parse SMALL": ["-m", "shimsim", "parse", SMALL],
    "shimsim parse --json SMALL": ["-m", "shimsim", "parse", "--json", SMALL],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20, help="runs of each command per tree (default 20)")
    ap.add_argument("trees", nargs="*", default=[os.path.join(HERE, "src")], metavar="SRC")
    a = ap.parse_args()
    env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    times: dict[tuple[str, str], list[float]] = {}
    for name, argv in COMMANDS.items():
        for i in range(a.n + 1):          # run 0 warms the caches (and writes byte-code)
            for tree in a.trees:
                t = time.perf_counter()
                r = subprocess.run([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   env=dict(env0, PYTHONPATH=tree), cwd=HERE)
                dt = time.perf_counter() - t
                if r.returncode != 0:
                    sys.exit(f"{name} under {tree} failed: {r.stderr.decode(errors='replace')[-500:]}")
                if i:
                    times.setdefault((name, tree), []).append(dt)
    print("| command | " + " | ".join(a.trees) + " |")
    print("| --- |" + " --- |" * len(a.trees))
    for name in COMMANDS:
        print(f"| `{name}` | " + " | ".join(f"{statistics.median(times[(name, t)]) * 1000:.0f} ms"
                                             for t in a.trees) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
