# SPDX-License-Identifier: MIT
"""Corpus throughput: thousands of inputs scored under five layers, serially and on Dask.

The corpus is generated once per session from the test fixtures: every Loupe
workload of tests/fixtures/loupedb as real data, plus variants of each (the
same dyn.csv with a deterministic subset of its used calls dropped, so every
variant is a distinct input by content), and copies of the fixture strace
traces (each made distinct by a trailing line of its own pid).  Groups:

* "corpus": ``shimsim.corpus.run`` over CORPUS_INPUTS inputs, serial versus a
  local Dask cluster of two worker processes (``--jobs 2``, cluster start-up
  included, as a user pays it);
* "corpus-memory": peak RSS of a serial run over 1x and 4x the corpus, in a
  fresh process each, recorded in extra_info (flat when it does not grow).

    PYTHONPATH=src python -m pytest benchmarks/test_bench_corpus.py --benchmark-only

Each benchmark records inputs/s and the cost per input in extra_info.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim import corpus

FIX = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
SHIMS = ["gvisor", "linuxulator", "illumos-lx", "netbsd-compat-linux", "wsl1"]
CORPUS_INPUTS = int(os.environ.get("SHIMSIM_BENCH_CORPUS", "3000"))
TRACE_SHARE = 10          # one input in TRACE_SHARE is a trace, the rest Loupe workloads
TRACES = ["ls_plain.strace", "tail_f_inotify.strace", "python_Xraw.strace", "inject_fault.strace"]


def make_corpus(root: Path, n: int, seed: int = 1) -> Path:
    """n inputs under root: Loupe workload variants and strace copies (deterministic)."""
    rnd = random.Random(seed)
    works = []
    for dyn in sorted((FIX / "loupedb").glob("*/*/*/data/dyn.csv")):
        works.append(dyn.read_text().splitlines(keepends=True))
    traces = [(FIX / "replay" / t).read_text() for t in TRACES]
    for i in range(n):
        if i % TRACE_SHARE == TRACE_SHARE - 1:
            d = root / "traces" / f"{i // 1000:03d}"
            d.mkdir(parents=True, exist_ok=True)
            t = traces[i % len(traces)]
            (d / f"t{i}.strace").write_text(t + f"getpid() = {1000 + i}\n")
            continue
        lines = works[i % len(works)]
        out = [lines[0]] if lines[0].startswith("#") else []
        for ln in lines[len(out):]:
            cells = ln.split(",")
            if cells[1] == "Y" and i >= len(works) and rnd.random() < 0.05:
                cells = [cells[0], "N", "N", "N", "N\n"]     # this variant does not use the call
            out.append(",".join(cells))
        run = root / "loupe" / f"app{i:05d}" / "benchmark-gen" / "run" / "data"
        run.mkdir(parents=True)
        (run / "dyn.csv").write_text("".join(out))
    return root


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus"), CORPUS_INPUTS)


def _record(benchmark, res: corpus.Result) -> None:
    n = res.summary.inputs + res.summary.errors + res.summary.skipped
    assert n == CORPUS_INPUTS and res.summary.errors == 0
    t = benchmark.stats.stats.median
    benchmark.extra_info.update({"inputs": n, "inputs_per_s": round(n / t, 1), "ms_per_input": round(1000 * t / n, 3),
                                 "executor": res.executor})


@pytest.mark.benchmark(group="corpus")
def test_corpus_serial(benchmark, generated):
    res = benchmark.pedantic(corpus.run, args=([str(generated)], SHIMS), rounds=3, iterations=1)
    _record(benchmark, res)


@pytest.mark.benchmark(group="corpus")
def test_corpus_jobs_2(benchmark, generated):
    pytest.importorskip("distributed")
    serial = corpus.run([str(generated)], SHIMS)
    res = benchmark.pedantic(corpus.run, args=([str(generated)], SHIMS), kwargs={"jobs": 2}, rounds=3, iterations=1)
    _record(benchmark, res)
    a, b = res.tables(None), serial.tables(None)
    a.pop("run"), b.pop("run")
    assert a == b


_PEAK = """
import resource, sys
from shimsim import corpus
corpus.run([sys.argv[1]], %r)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
""" % (SHIMS,)


@pytest.mark.benchmark(group="corpus-memory")
def test_corpus_memory_is_flat(benchmark, tmp_path):
    small = make_corpus(tmp_path / "small", CORPUS_INPUTS // 4, seed=2)
    big = make_corpus(tmp_path / "big", CORPUS_INPUTS, seed=3)
    env = dict(os.environ, PYTHONPATH=str(Path(corpus.__file__).resolve().parents[2]))

    def peak(path: Path) -> int:
        out = subprocess.run([sys.executable, "-c", _PEAK, str(path)], capture_output=True, text=True, env=env,
                             check=True).stdout
        return int(out.split()[-1])

    kb_big = benchmark.pedantic(peak, args=(big,), rounds=1, iterations=1)
    kb_small = peak(small)
    benchmark.extra_info.update({"peak_rss_kb_small": kb_small, "peak_rss_kb_big": kb_big,
                                 "inputs_small": CORPUS_INPUTS // 4, "inputs_big": CORPUS_INPUTS})
    shutil.rmtree(tmp_path, ignore_errors=True)
