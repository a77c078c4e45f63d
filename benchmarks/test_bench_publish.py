# SPDX-License-Identifier: MIT
"""Cost of reading a published trace: the cleaner (trace.publish) on a real
trace wrapped the way people paste it, and the pre-check that keeps plain
trace files off the cleaner.

    PYTHONPATH=src python -m pytest benchmarks/test_bench_publish.py --benchmark-only

Each benchmark records lines/s in extra_info.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from shimsim.trace import io, publish

FIX = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "strace" / "gen"
TRACE = FIX / "python_threads_f_tt.strace.gz"     # 11100 lines of strace -f -tt


@pytest.fixture(scope="module")
def published() -> list[str]:
    lines = gzip.decompress(TRACE.read_bytes()).decode("utf-8", "surrogateescape").splitlines()
    return (["Here is what I get:", "", "```", "$ strace -f -tt python3 threads.py"]
            + ["    " + ln for ln in lines] + ["```"])


def test_clean_published_trace(benchmark, published: list[str]) -> None:
    benchmark.group = "publish"
    c = benchmark(publish.clean, published)
    assert c.changed and len(c.lines) == len(published) - 4
    benchmark.extra_info["lines_per_s"] = round(len(published) / benchmark.stats["mean"])


def test_precheck_plain_head(benchmark) -> None:
    benchmark.group = "publish"
    head = io.head_lines(str(TRACE))
    assert benchmark(publish.maybe_decorated, head) is False
    benchmark.extra_info["lines_per_s"] = round(len(head) / benchmark.stats["mean"])
