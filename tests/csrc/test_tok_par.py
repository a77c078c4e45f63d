# SPDX-License-Identifier: MIT
"""The parallel feed (csrc/tok_par.c, issue 17) against the serial one: the
same events (every field), notes, counts, syscall statistics and pids, with
chunk boundaries forced everywhere (a chunk per line, and sizes that put every
unfinished/resumed pair and personality switch across a boundary in some run),
on every strace fixture, on a concatenated multi-MB trace and over random
chunk sizes and block splits."""
from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim import trace
from shimsim.engine import c as engine_c

FIX = Path(__file__).parents[1] / "fixtures" / "strace"
FILES = sorted(p for p in FIX.rglob("*") if p.is_file() and p.name != "SOURCES.csv")
FIELDS = ("line", "file_id", "kind", "rec", "flags", "pid", "tid", "nr", "err", "ret", "ts", "dur", "abi")


def raw(path: Path) -> bytes:
    b = path.read_bytes()
    return gzip.decompress(b) if b[:2] == b"\x1f\x8b" else b


def tokeniser(path: Path) -> engine_c.Tokeniser:
    t = trace.open([str(path)], format=None, engine="c")
    sc, er, sg = t.tables()
    return engine_c.Tokeniser(sc, er, sg, t.modes)


def events(tok: engine_c.Tokeniser, n: int) -> list[tuple]:
    ffi, arr = tok.ffi, tok.events_ptr()
    out = []
    for k in range(n):
        e = arr[k]
        out.append(tuple(getattr(e, f) for f in FIELDS) + (
            ffi.buffer(e.name, e.name_len)[:], ffi.buffer(e.args, e.args_len)[:],
            ffi.buffer(e.errname, e.errname_len)[:]))
    return out


def run(tok: engine_c.Tokeniser, data: bytes, cuts: list[int], threads: int, chunk: int) -> dict:
    """Feed data in the blocks cuts gives (line boundaries), then finish."""
    evs: list[tuple] = []
    notes: list = []
    start, first = 0, True
    for end in cuts + [len(data)]:
        if end <= start:
            continue
        n = tok.feed(data[start:end], 0, 1 if first else 0, -1, threads=threads, chunk=chunk)
        evs += events(tok, n)
        notes += [(x.kind, x.reason, x.file_id, x.line, x.text) for x in tok.notes()]
        start, first = end, False
    n = tok.finish()
    evs += events(tok, n)
    notes += [(x.kind, x.reason, x.file_id, x.line, x.text) for x in tok.notes()]
    return {"events": evs, "notes": notes, "counts": tok.counts(), "stats": tok.syscall_stats(),
            "pids": tok.pids(), "next_line": tok.next_line()}


def line_cuts(data: bytes, every: int) -> list[int]:
    """Block ends near every `every` bytes, each just past a newline."""
    cuts, i = [], every
    while i < len(data):
        j = data.find(b"\n", i)
        if j < 0:
            break
        cuts.append(j + 1)
        i = j + 1 + every
    return cuts


def assert_same(path: Path, data: bytes, cuts: list[int], threads: int, chunk: int) -> tuple[int, int, int]:
    want = run(tokeniser(path), data, cuts, 1, 0)
    tok = tokeniser(path)
    got = run(tok, data, cuts, threads, chunk)
    assert len(got["events"]) == len(want["events"])
    for a, b in zip(got["events"], want["events"]):
        assert a == b
    for key in ("notes", "counts", "stats", "pids", "next_line"):
        assert got[key] == want[key], key
    return tok.par_stats()


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(FIX)))
@pytest.mark.parametrize("threads,chunk", [(2, 1), (3, 1), (2, 40), (3, 150), (2, 1000)])
def test_fixture_parallel_equals_serial(path: Path, threads: int, chunk: int) -> None:
    data = raw(path)
    chunks, _redone, _reruns = assert_same(path, data, [], threads, chunk)
    j = data.find(b"\n", chunk - 1)
    if 0 <= j < len(data) - 1:      # there is a second chunk
        assert chunks > 0


def test_fixture_parallel_block_splits() -> None:
    """Blocks and chunks both small: state crosses feeds and chunks."""
    for name in ("pipeline_f_stderr.strace", "i386_mixed_personality.strace", "python_signals_f_tt.strace"):
        path = FIX / "gen" / name
        data = raw(path)
        assert_same(path, data, line_cuts(data, 257), 2, 60)


NESTED = (b'100 read(3,  <unfinished ...>\n'
          b'101 getpid()                          = 101\n'
          b'100 <... read resumed>"abc", 10 <unfinished ...>\n'
          b'101 getppid()                         = 100\n'
          b'100 <... read resumed>)                = 3\n'
          b'100 +++ exited with 0 +++\n'
          b'101 +++ exited with 0 +++\n')


@pytest.mark.parametrize("chunk", [1, 30, 60, 100])
def test_resumed_call_left_unfinished_again_across_chunks(chunk: int) -> None:
    """A call resumed and left unfinished again ('<... read resumed>ARGS <unfinished ...>'):
    the real tokeniser appends the new arguments to the pending call, a speculative one
    starting without it records only the new ones.  After the re-run the pid's states differ,
    so the chunk must be redone; the joined call keeps all of its arguments."""
    path = FIX / "gen" / "pipeline_f_stderr.strace"
    want = run(tokeniser(path), NESTED, [], 1, 0)
    reads = [e for e in want["events"] if e[-3] == b"read"]
    assert len(reads) == 1 and reads[0][-2].startswith(b"3, ") and b'"abc", 10' in reads[0][-2]
    chunks, redone, _reruns = assert_same(path, NESTED, [], 2, chunk)
    if chunk == 1:
        assert chunks > 0 and redone > 0


@pytest.fixture(scope="module")
def big() -> bytes:
    parts = [raw(p) for p in FILES if "gen" in p.parts]
    one = b"".join(p.rstrip(b"\n") + b"\n" for p in parts)
    return one * max(1, (3 << 20) // len(one) + 1)


def test_multi_mb_parallel_equals_serial(big: bytes) -> None:
    path = FIX / "gen" / "python_threads_f_tt.strace.gz"
    assert len(big) > 3 << 20
    cuts = line_cuts(big, 1 << 20)
    # chunk 0: the threads share the chunks out as they get to them (how many each
    # takes depends on the machine's load), the result never does
    assert_same(path, big, cuts, 2, 0)
    assert_same(path, big, cuts, 4, 0)
    # the fast path is taken: most chunks are stitched, pending calls are re-run, not redone
    chunks, redone, reruns = assert_same(path, big, [], 2, 20000)
    assert chunks > 100 and redone < chunks // 2 and reruns > 0


def test_serial_when_one_thread_or_small(big: bytes) -> None:
    path = FIX / "gen" / "pipeline_f_stderr.strace"
    data = raw(path)
    assert assert_same(path, data, [], 1, 0) == (0, 0, 0)
    assert assert_same(path, data, [], 2, 0) == (0, 0, 0)     # a small block with chunk 0: serial


@settings(max_examples=60, deadline=None)
@given(st.sampled_from([p for p in FILES if "gen" in p.parts]), st.integers(1, 4000), st.integers(2, 4),
       st.integers(64, 20000))
def test_random_chunks_equal_serial(path: Path, chunk: int, threads: int, block: int) -> None:
    data = raw(path)
    assert_same(path, data, line_cuts(data, block), threads, chunk)
