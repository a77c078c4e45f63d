# SPDX-License-Identifier: MIT
"""Replay throughput.

Group "replay": already-parsed events (real strace fixtures, repeated to about
one million events, packed once into an ss_event array) through the
linuxulator shim, C core versus the Python reference in one group so the
ratio is read off one run.  Targets (issue 4): C >= 20 million events/s on one
core, and >= 20x the Python reference.

Group "parse+replay": a large real strace file (the one test_bench_parse.py
makes by tracing ``python3 -m compileall`` over a copy of the stdlib, cached in
$SHIMSIM_BENCH_CACHE), C tokeniser batches straight into the C replay, end to
end.  Target: >= 150 MB/s.

    PYTHONPATH=src python -m pytest benchmarks/test_bench_replay.py --benchmark-only

Each benchmark records its rate (events/s or MB/s) in extra_info.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from shimsim import replay, shim, trace
from shimsim.engine import core

FIX = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "replay"
SOURCES = ["python_threads_f_tt.strace", "git_gc_f_ttt_T_y.strace", "ls_plain.strace", "tail_f_inotify.strace"]
C_EVENTS = 1_000_000
PY_EVENTS = 100_000


@pytest.fixture(scope="module")
def events():
    evs = []
    for name in SOURCES:
        evs += list(trace.open([str(FIX / name)], engine="python").events())
    return evs


def _repeat(evs, n):
    out = []
    while len(out) < n:
        out += evs
    return out[:n]


@pytest.fixture(scope="module")
def cs():
    return shim.load("linuxulator")


@pytest.mark.benchmark(group="replay")
def test_replay_c(benchmark, events, cs):
    mod = core()
    ffi, lib = mod.ffi, mod.lib
    packer = replay.EventPacker([cs.guest.name])
    arr, n = packer.pack(_repeat(events, C_EVENTS))
    sh = cs.c()
    sh.ptr.abi = 0
    per = ffi.new("uint64_t[]", cs.nsys * replay.NOUT)
    divs = ffi.new("ss_rp_div[]", replay.DIVS_CAP)
    unk = ffi.new("uint32_t[]", replay.DIVS_CAP)

    def run():
        st = ffi.new("ss_rp_stats *")
        st.per_nr, st.divs, st.divs_cap, st.unk, st.unk_cap = per, divs, replay.DIVS_CAP, unk, replay.DIVS_CAP
        lib.ss_replay_batch(sh.ptr, arr, n, st, ffi.NULL)
        return st.events

    assert benchmark(run) == n
    rate = n / benchmark.stats.stats.min
    benchmark.extra_info["events"] = n
    benchmark.extra_info["events_per_s"] = round(rate)


@pytest.mark.benchmark(group="replay")
def test_replay_python(benchmark, events, cs):
    evs = _repeat(events, PY_EVENTS)

    def run():
        rp = replay.Replayer(cs, "python")
        rp.feed_events(evs)
        return rp.finish().events

    assert benchmark.pedantic(run, rounds=3, iterations=1) == len(evs)
    rate = len(evs) / benchmark.stats.stats.min
    benchmark.extra_info["events"] = len(evs)
    benchmark.extra_info["events_per_s"] = round(rate)


def _big_trace() -> Path:
    try:
        from test_bench_parse import _make_trace  # same cached trace as the parse benchmark
    except ImportError:  # pragma: no cover - run from another rootdir
        pytest.skip("benchmarks/test_bench_parse.py not importable: run from the project root")
    return _make_trace()


@pytest.mark.benchmark(group="parse+replay")
def test_parse_and_replay_c(benchmark, cs):
    path = _big_trace()
    size = path.stat().st_size
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass

    def run():
        t = trace.open([str(path)], engine="c")
        rp = replay.Replayer(cs, "c")
        for b in t.batches():
            rp.feed_batch(b.events, b.count, b.files, b.abis)
        return rp.finish().events

    events = benchmark.pedantic(run, rounds=3, iterations=1)
    assert events > 100_000
    benchmark.extra_info["bytes"] = size
    benchmark.extra_info["events"] = events
    benchmark.extra_info["MB_per_s"] = round(size / 1e6 / benchmark.stats.stats.min, 1)
