# SPDX-License-Identifier: MIT
"""Whole-process start-up of the CLI, against a bare interpreter in the same session (issue 17).

    PYTHONPATH=src python -m pytest benchmarks/test_bench_startup.py --benchmark-only

Group "startup": each round is one new process. `python -c pass` is the floor
(what Python itself costs); the others are `shimsim --version`, `--help` and
`parse` of a 36-line strace fixture.  Each shimsim benchmark records its
median over the floor's median in extra_info["x_python"].  Byte-code is
written (PYTHONDONTWRITEBYTECODE unset), as for an installed package.
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import pytest

import shimsim

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMALL = os.path.join(HERE, "tests", "fixtures", "strace", "gen", "abort_killed.strace")
SRC = os.path.dirname(os.path.dirname(os.path.abspath(shimsim.__file__)))
ENV = dict({k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, PYTHONPATH=SRC)
ROUNDS = 20
_floor: dict[str, float] = {}


def _run(argv: list[str]) -> int:
    return subprocess.run([sys.executable, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          env=ENV, cwd=HERE).returncode


def _measure(benchmark, argv: list[str]) -> float:
    rc = benchmark.pedantic(_run, args=(argv,), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    assert rc == 0, argv
    median = benchmark.stats.stats.median
    benchmark.extra_info["median_ms"] = round(median * 1000, 1)
    if "floor" in _floor:
        benchmark.extra_info["x_python"] = round(median / _floor["floor"], 2)
    return median


@pytest.mark.benchmark(group="startup")
def test_python_floor(benchmark) -> None:
    _floor["floor"] = _measure(benchmark, ["-c", "pass"])


@pytest.mark.benchmark(group="startup")
@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["parse", SMALL]], ids=["version", "help", "parse_small"])
def test_shimsim(benchmark, argv) -> None:
    if "floor" not in _floor:     # run alone (-k): measure the floor first, outside the benchmark
        ts = []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            _run(["-c", "pass"])
            ts.append(time.perf_counter() - t)
        _floor["floor"] = statistics.median(ts)
    _measure(benchmark, ["-m", "shimsim", *argv])
