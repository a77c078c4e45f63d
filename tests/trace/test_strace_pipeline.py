# SPDX-License-Identifier: MIT
"""The pipelined C path (a worker thread reads, decompresses and tokenises block
k+1 while batch k is replayed; issue 17) against the serial C path: the same
events, statistics and replay report on every strace fixture, on a
concatenated multi-megabyte trace cut into small blocks (so that block
boundaries fall between <unfinished ...> and resumed lines), for random block
sizes, and for gzip/xz input decompressed by its own thread."""
from __future__ import annotations

import gzip
import lzma
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shimsim import model, replay, shim, trace
from shimsim.engine import c as cengine
from shimsim.errors import ShimsimError
from shimsim.trace import io

FIX = Path(__file__).parents[1] / "fixtures" / "strace"
FILES = sorted(p for p in FIX.rglob("*") if p.is_file() and p.name != "SOURCES.csv")
# -f recordings with many <unfinished ...>/resumed pairs, threads, signals, personality changes
MIXED = ["pipeline_f_stderr.strace", "i386_mixed_personality.strace", "python_signals_f_tt.strace",
         "python_threads_f_tt.strace.gz", "git_gc_f_ttt_T_y.strace.gz", "curl_loopback_f_tt_T.strace",
         "exec_from_thread_superseded_f.strace", "pipeline_f.strace", "tar_czf_f_tt_T.strace.gz"]


def read_plain(p: Path) -> bytes:
    b = p.read_bytes()
    return gzip.decompress(b) if p.name.endswith(".gz") else b


def run(paths: list[str], pipelined: bool, monkeypatch: pytest.MonkeyPatch, jobs: str = "2",
        fmt: str | None = "strace"):
    """(events, statistics, replay report or its error) of one C-engine run."""
    monkeypatch.setenv("SHIMSIM_JOBS", jobs)
    monkeypatch.setattr(cengine, "pipeline_wanted", lambda _paths: pipelined)
    workers = []
    real = cengine.Pipe

    def spy(tok):
        workers.append(real(tok))
        return workers[-1]

    monkeypatch.setattr(cengine, "Pipe", spy)
    t = trace.open(paths, format=fmt, engine="c")
    evs = [e.to_json() for e in t.events()]
    assert bool(workers) == pipelined       # the path under test really ran
    stats = (t.stats.to_json(), t.stats.summary, t.stats.summary_mismatches)
    t = trace.open(paths, format=fmt, engine="c")
    try:
        rep = replay.replay_trace(t, shim.load_spec("gvisor"), events=50).to_json()
    except ShimsimError as exc:         # e.g. a guest ABI gvisor does not take: the same error
        rep = str(exc)
    return evs, stats, rep


def assert_same(paths: list[str], monkeypatch: pytest.MonkeyPatch, fmt: str | None = "strace") -> list[dict]:
    serial = run(paths, False, monkeypatch, jobs="1", fmt=fmt)
    piped = run(paths, True, monkeypatch, fmt=fmt)
    assert len(serial[0]) == len(piped[0])
    for a, b in zip(serial[0], piped[0]):
        assert a == b
    assert serial[1] == piped[1]
    assert serial[2] == piped[2]
    return serial[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIX)))
def test_fixture_pipelined_equals_serial(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "BLOCK", 1031)      # many blocks even in a small fixture
    assert_same([str(path)], monkeypatch, fmt=None)


def test_ff_set_pipelined_equals_serial(monkeypatch: pytest.MonkeyPatch) -> None:
    """Several files: the tokeniser's end of file and the next file's first block."""
    monkeypatch.setattr(io, "BLOCK", 509)
    assert_same(sorted(str(p) for p in (FIX / "gen" / "pipeline_ff").iterdir()), monkeypatch)


def small_parallel_blocks(monkeypatch: pytest.MonkeyPatch) -> list[cengine.Tokeniser]:
    """Blocks of 2 KiB in parallel chunks of 300 bytes, so chunk boundaries fall between
    pairs; the list fills with the tokenisers made from here on (their par_stats say whether
    the parallel feed ran)."""
    monkeypatch.setattr(io, "BLOCK", 2053)
    monkeypatch.setattr(cengine, "TOK_PAR_CHUNK", 300)
    toks: list[cengine.Tokeniser] = []
    real = cengine.Tokeniser

    def spy(*args):
        toks.append(real(*args))
        return toks[-1]

    monkeypatch.setattr(cengine, "Tokeniser", spy)
    return toks


@pytest.mark.parametrize("pipelined", [True, False])
@pytest.mark.parametrize("which", MIXED)
def test_parallel_feed_equals_serial(which: str, pipelined: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each block tokenised on three cores (csrc/tok_par.c), on the pipeline thread
    or on the caller's, in chunks of a few hundred bytes so that chunk boundaries
    fall between pairs: the serial run's events, statistics and replay report."""
    path = [str(FIX / "gen" / which)]
    serial = run(path, False, monkeypatch, jobs="1")
    toks = small_parallel_blocks(monkeypatch)
    par = run(path, pipelined, monkeypatch, jobs="3")
    assert toks and all(tok.par_stats()[0] > 10 for tok in toks)     # the parallel feed really ran
    assert len(serial[0]) == len(par[0])
    for a, b in zip(serial[0], par[0]):
        assert a == b
    assert serial[1:] == par[1:]


def test_pipelined_on_two_cores_the_waiting_consumer_tokenises(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pipelined on two cores there is no worker thread: the pipe thread and the consumer's
    thread, while it waits for a feed, share each block's chunks (with the test knob's chunks
    every chunk is speculative, so the consumer's thread must have run some for the feed to
    end).  The events are the serial ones."""
    monkeypatch.setenv("SHIMSIM_JOBS", "2")
    monkeypatch.setattr(cengine, "pipeline_wanted", lambda _paths: True)
    toks = small_parallel_blocks(monkeypatch)
    path = str(FIX / "gen" / MIXED[0])
    evs = [e.to_json() for c in trace.open(path, format="strace", engine="c").chunks() for e in c]
    assert evs == [e.to_json() for e in trace.open(path, format="strace", engine="python").events()]
    assert toks[-1].par_stats()[0] > 10


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A multi-megabyte trace: the mixed -f recordings concatenated until past 3 MB."""
    parts = [read_plain(FIX / "gen" / n) for n in MIXED]
    parts = [p if p.endswith(b"\n") else p + b"\n" for p in parts]
    one = b"".join(parts)
    data = one * (3_000_000 // len(one) + 1)
    out = tmp_path_factory.mktemp("pipeline") / "big.strace"
    out.write_bytes(data)
    return out


def test_big_trace_small_blocks(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "BLOCK", 4099)
    # the cut really falls inside pairs: some block's last line is a call left unfinished
    last_lines = [blk.rstrip(b"\n").rsplit(b"\n", 1)[-1] for blk, _ in io.blocks(str(big))]
    assert len(last_lines) > 500
    assert sum(b"<unfinished ...>" in ln for ln in last_lines) >= 10
    evs = assert_same([str(big)], monkeypatch)
    assert sum(1 for e in evs if e["flags"] & model.F_MERGED) >= 1000


def test_big_trace_default_threshold(big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Large input pipelines by itself; SHIMSIM_JOBS=1 or a small file keeps it serial."""
    monkeypatch.setattr(cengine, "PIPELINE_MIN", 1 << 20)
    monkeypatch.setenv("SHIMSIM_JOBS", "2")
    assert cengine.pipeline_wanted([str(big)])
    assert cengine.pipeline_wanted(["-"])
    assert not cengine.pipeline_wanted([str(FIX / "gen" / "ls_plain.strace")])
    monkeypatch.setenv("SHIMSIM_JOBS", "1")
    assert not cengine.pipeline_wanted([str(big)])


@pytest.mark.parametrize("value", ["0", "two", "-3"])
def test_bad_jobs_is_one_error(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIMSIM_JOBS", value)
    with pytest.raises(ShimsimError, match="SHIMSIM_JOBS"):
        io.jobs()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(block=st.integers(min_value=64, max_value=70000), which=st.sampled_from(MIXED))
def test_random_block_sizes(block: int, which: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "BLOCK", block)
    assert_same([str(FIX / "gen" / which)], monkeypatch)


@pytest.mark.parametrize("codec", ["gz", "xz"])
def test_compressed_decompressed_in_a_thread(codec: str, big: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """gzip/xz input read ahead by the decompression thread, pipelined: the same
    as the plain file read serially."""
    data = big.read_bytes()
    packed = tmp_path / f"big.strace.{codec}"
    packed.write_bytes(gzip.compress(data, 6) if codec == "gz" else lzma.compress(data, preset=1))
    monkeypatch.setattr(io, "BLOCK", 65537)
    serial = run([str(big)], False, monkeypatch, jobs="1")
    threaded = run([str(packed)], True, monkeypatch)
    for a, b in zip(serial[0], threaded[0]):
        a = dict(a, file=None)
        b = dict(b, file=None)
        assert a == b
    assert len(serial[0]) == len(threaded[0])
    assert serial[1][0]["syscalls"] == threaded[1][0]["syscalls"]
    assert str(serial[2]).replace(str(big), "F") == str(threaded[2]).replace(str(packed), "F")


def test_prefetch_blocks_identical(big: Path, tmp_path: Path) -> None:
    packed = tmp_path / "big.strace.gz"
    packed.write_bytes(gzip.compress(big.read_bytes(), 1))
    plain = [b for b, _ in io.blocks(str(packed), block_size=10007)]
    ahead = [b for b, _ in io.blocks(str(packed), block_size=10007, prefetch=True)]
    assert plain == ahead


def test_prefetch_corrupt_input_same_error(tmp_path: Path) -> None:
    """A truncated gzip stream: the same error, raised at the same block, with the thread."""
    data = gzip.compress(b"read(3, \"x\", 1) = 1\n" * 200000, 1)
    bad = tmp_path / "cut.strace.gz"
    bad.write_bytes(data[: len(data) // 2])
    got = []
    for prefetch in (False, True):
        n = 0
        with pytest.raises(ShimsimError) as exc:
            for _b in io.blocks(str(bad), block_size=4096, prefetch=prefetch):
                n += 1
        got.append((n, str(exc.value)))
    assert got[0] == got[1]
    assert "corrupt or truncated" in got[0][1]


def test_prefetch_abandoned_early_stops_its_thread(big: Path, tmp_path: Path) -> None:
    import threading

    packed = tmp_path / "big.strace.xz"
    packed.write_bytes(lzma.compress(big.read_bytes(), preset=0))
    gen = io.blocks(str(packed), block_size=4096, prefetch=True)
    next(gen)
    gen.close()
    assert not [t for t in threading.enumerate() if t.name == "shimsim-inflate"]


@pytest.mark.parametrize("bad, strict", [(b"\0\0\0\n", False), (b"this is not strace at all\n", True)])
def test_errors_at_the_same_batch(bad: bytes, strict: bool, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Bad input (a NUL byte read in block k+1, an unparsed line under --strict):
    the same error, after the same batches were handed on, in both modes."""
    good = read_plain(FIX / "gen" / "pipeline_f_stderr.strace")
    path = tmp_path / "bad.strace"
    path.write_bytes(good * 20 + bad + good)
    monkeypatch.setattr(io, "BLOCK", 2053)
    got = []
    for pipelined in (False, True):
        monkeypatch.setattr(cengine, "pipeline_wanted", lambda _paths, v=pipelined: v)
        t = trace.open([str(path)], format="strace", engine="c", strict=strict)
        n = 0
        with pytest.raises(ShimsimError) as exc:
            for b in t.chunks():
                n += b.count
        got.append((n, str(exc.value)))
    assert got[0] == got[1]
    assert got[0][0] > 0


def test_long_and_unparsed_lines_in_serial_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Over-long lines (counted while a block is read) and unparsed lines (counted
    from the tokeniser's notes) interleave in the statistics as serially."""
    good = read_plain(FIX / "gen" / "pipeline_f_stderr.strace").split(b"\n")
    out = []
    for i, line in enumerate(good * 6):
        out.append(line)
        if i % 97 == 5:
            out.append(b"x" * 3000)                 # over the patched MAX_LINE
        if i % 89 == 7:
            out.append(b"garbage that is no strace line")
    path = tmp_path / "mixed.strace"
    path.write_bytes(b"\n".join(out) + b"\n")
    monkeypatch.setattr(io, "MAX_LINE", 2048)
    monkeypatch.setattr(io, "BLOCK", 1531)
    evs = assert_same([str(path)], monkeypatch)
    assert evs
    t = trace.open([str(path)], format="strace", engine="c")
    list(t.events())
    reasons = {r for _p, _l, r in t.stats.unparsed_first}
    assert io.LONG_LINE_REASON in reasons and len(reasons) >= 2


def test_bad_jobs_on_the_command_line_is_one_error_line() -> None:
    import os
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "shimsim", "parse", str(FIX / "gen" / "ls_plain.strace")],
                       capture_output=True, text=True, env=dict(os.environ, SHIMSIM_JOBS="many"))
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == ["shimsim: error: SHIMSIM_JOBS='many': expected a whole number of "
                                             "cores, at least 1 (1 = serial)"]
