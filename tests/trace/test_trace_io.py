# SPDX-License-Identifier: MIT
"""Trace input: compressed files, stdin, -ff sets, and bad input (binary,
truncated, enormous lines, missing files) giving one clear message."""
from __future__ import annotations

import gzip
import io as _io
import lzma
import sys
from pathlib import Path
from typing import Any

import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shimsim import cli, trace
from shimsim.errors import InputError
from shimsim.trace import io

FIX = Path(__file__).parents[1] / "fixtures" / "strace"
PLAIN = FIX / "gen" / "pipeline_f.strace"
ENGINES = ("c", "python")


def summary(paths, engine="c", **kw):
    t = trace.open(paths, engine=engine, **kw)
    evs = [e.to_json() for e in t.events()]
    for e in evs:
        e.pop("file")
    return evs, t.stats


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["gz", "xz", "zst"])
def test_compressed_inputs_read_the_same(tmp_path: Path, kind: str, engine: str) -> None:
    data = PLAIN.read_bytes()
    p = tmp_path / f"t.strace.{kind}"
    if kind == "gz":
        p.write_bytes(gzip.compress(data))
    elif kind == "xz":
        p.write_bytes(lzma.compress(data))
    else:
        p.write_bytes(zstandard.ZstdCompressor().compress(data))
    want, wst = summary(str(PLAIN), engine)
    got, gst = summary(str(p), engine)
    assert got == want and gst.lines == wst.lines and gst.syscalls == wst.syscalls


@pytest.mark.parametrize("kind", ["gz", "xz", "zst"])
def test_truncated_compressed_input_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    data = PLAIN.read_bytes()
    comp = {"gz": gzip.compress, "xz": lzma.compress, "zst": zstandard.ZstdCompressor().compress}[kind](data)
    p = tmp_path / f"t.{kind}"
    p.write_bytes(comp[: len(comp) // 2])
    with pytest.raises(InputError) as ei:
        summary(str(p))
    assert str(p) in str(ei.value) and ("truncated" in str(ei.value) or "corrupt" in str(ei.value))


@pytest.mark.parametrize("engine", ENGINES)
def test_binary_input(tmp_path: Path, engine: str) -> None:
    p = tmp_path / "bin.strace"
    p.write_bytes(PLAIN.read_bytes()[:5000] + b"\x7fELF\x00\x01\x02" * 100)
    with pytest.raises(InputError) as ei:
        summary(str(p), engine)
    assert "binary data" in str(ei.value) and ei.value.line is not None and ei.value.line > 1


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("block", [4096, 1 << 19])
def test_enormous_line_is_counted_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             engine: str, block: int) -> None:
    monkeypatch.setattr(io, "MAX_LINE", 10_000)
    monkeypatch.setattr(io, "BLOCK", block)
    lines = PLAIN.read_text().splitlines(keepends=True)
    p = tmp_path / "long.strace"
    p.write_text("".join(lines[:10]) + "write(1, \"" + "x" * 50_000 + "\", 50000) = 50000\n" + "".join(lines[10:]))
    want, wst = summary(str(PLAIN), engine)
    got, gst = summary(str(p), engine)
    assert gst.unparsed_count == 1 and gst.unparsed_first[0][1] == 11
    assert "longer than" in gst.unparsed_first[0][2]
    assert gst.lines == wst.lines + 1
    assert [e["line"] for e in got if e["line"] > 11] == [e["line"] + 1 for e in want if e["line"] > 10]
    with pytest.raises(InputError) as ei:
        summary(str(p), engine, strict=True)
    assert ei.value.line == 11


def test_long_line_without_newline_at_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(io, "MAX_LINE", 1000)
    monkeypatch.setattr(io, "BLOCK", 256)
    p = tmp_path / "t.strace"
    p.write_text("close(3) = 0\n" + "y" * 5000)
    evs, st = summary(str(p))
    assert len(evs) == 1 and st.unparsed_count == 1 and st.unparsed_first[0][1] == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_truncated_last_line(tmp_path: Path, engine: str) -> None:
    data = PLAIN.read_bytes()
    p = tmp_path / "cut.strace"
    p.write_bytes(data[: data.index(b"\n", 3000) + 30])
    evs, st = summary(str(p), engine)
    # lenient: a last line cut in the middle is skipped as such, not unparsed
    assert st.unparsed_count == 0 and st.skipped["cut-off last line"] == 1
    with pytest.raises(InputError) as ei:
        list(trace.open(str(p), strict=True, engine=engine).events())
    assert ei.value.line == data[:len(p.read_bytes())].count(b"\n") + 1
    assert "never completed" in ei.value.message or "return value" in ei.value.message


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        trace.open(str(tmp_path / "nope.strace"))
    with pytest.raises(InputError, match="directory"):
        trace.open(str(tmp_path))


def test_unknown_format_named(tmp_path: Path) -> None:
    p = tmp_path / "prose.txt"
    p.write_text("This is not a trace.\nJust some words.\n")
    with pytest.raises(InputError, match="cannot recognise the trace format"):
        trace.open(str(p))


@pytest.mark.parametrize("engine", ENGINES)
def test_stdin(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    data = PLAIN.read_bytes()
    monkeypatch.setattr(sys, "stdin", _io.TextIOWrapper(_io.BytesIO(data)))
    monkeypatch.setattr(io, "_stdin_head", None)
    got, st = summary("-", engine)
    want, _ = summary(str(PLAIN), engine)
    assert got == want and st.lines == data.count(b"\n")


@pytest.mark.parametrize("kind", ["gz", "xz", "zst"])
def test_compressed_stdin_is_sniffed(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    data = PLAIN.read_bytes()
    comp = {"gz": gzip.compress, "xz": lzma.compress, "zst": zstandard.ZstdCompressor().compress}[kind](data)
    monkeypatch.setattr(sys, "stdin", _io.TextIOWrapper(_io.BytesIO(comp)))
    monkeypatch.setattr(io, "_stdin_head", None)
    t = trace.open("-")
    assert t.format == "strace" and sum(1 for _ in t.events()) == 900 - data.count(b"resumed>")


def test_ff_files_given_separately() -> None:
    files = sorted(str(p) for p in (FIX / "gen" / "pipeline_ff").iterdir())
    t = trace.open(files)
    assert [pid for _, pid in t.files] == [14984, 14985, 14986, 14987]


# ------------------------------------------------------------------- CLI

def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_cli_bad_inputs_no_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b = tmp_path / "b.bin"
    b.write_bytes(b"\x00\x01\x02" * 1000)
    g = tmp_path / "t.gz"
    g.write_bytes(gzip.compress(PLAIN.read_bytes())[:200])
    for argv in (["parse", str(b)], ["parse", str(g)], ["parse", str(tmp_path / "missing")],
                 ["parse", str(FIX / "pub" / "gh_stenographer197_killed_sigsegv_core_debug.log"), "--strict"],
                 ["parse", str(PLAIN), "--abi", "linux-x86_46"]):
        rc, out, err = run_cli(argv, capsys)
        assert rc == 2, argv
        assert "Traceback" not in err and err.startswith("shimsim: error: ") and err.count("\n") == 1, err
    rc, out, err = run_cli(["parse", str(FIX / "pub" / "gh_stenographer197_killed_sigsegv_core_debug.log"), "--strict"],
                           capsys)
    assert "gh_stenographer197_killed_sigsegv_core_debug.log:1: expected a syscall line" in err


# --------------------------------------------------------------------------- reused buffers (issue 17)

def _read_all(path: Path, reuse: bool, block_size: int, max_line: int) -> tuple[list[bytes], list[int] | str]:
    """The blocks io.blocks gives (each copied as it comes), and the long lines reported,
    or the InputError's text.  Each block must still be intact once the next has been
    read: the C tokeniser's pipeline tokenises one block while the next is read."""
    longs: list[int] = []
    out: list[bytes] = []
    done = [0]
    prev: Any = None

    def lines_done() -> int:
        return done[0]

    try:
        for blk, _ in io.blocks(str(path), longs.append, block_size=block_size, max_line=max_line,
                                lines_done=lines_done, reuse=reuse):
            if prev is not None:
                assert bytes(prev) == out[-1], "a block was overwritten while the next was read"
            b = bytes(blk)
            out.append(b)
            prev = blk
            done[0] += b.count(b"\n")
    except InputError as exc:
        return out, str(exc)
    return out, longs


_LINE = st.one_of(
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"x").replace(b"\0", b"y")),
    st.integers(30, 200).map(lambda n: b"L" * n),       # longer than max_line below
    st.just(b""), st.just(b"a\0b"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_LINE, max_size=40), end_nl=st.booleans(), block_size=st.integers(1, 64),
       max_line=st.integers(8, 120))
def test_reused_buffers_give_the_same_blocks(tmp_path: Path, lines: list[bytes], end_nl: bool,
                                             block_size: int, max_line: int) -> None:
    p = tmp_path / "t.strace"
    p.write_bytes(b"\n".join(lines) + (b"\n" if end_nl and lines else b""))
    copied = _read_all(p, False, block_size, max_line)
    reused = _read_all(p, True, block_size, max_line)
    assert reused == copied


def test_reused_buffers_are_views_of_the_file(tmp_path: Path) -> None:
    p = tmp_path / "t.strace"
    data = b"".join(b"line %d with some text\n" % i for i in range(5000))
    p.write_bytes(data)
    got = [(type(b), bytes(b)) for b, _ in io.blocks(str(p), block_size=997, lines_done=lambda: 0, reuse=True)]
    assert {k for k, _ in got} == {memoryview}
    assert b"".join(b for _, b in got) == data


def test_reused_buffers_only_for_plain_files(tmp_path: Path) -> None:
    p = tmp_path / "t.strace.gz"
    p.write_bytes(gzip.compress(PLAIN.read_bytes()))
    kinds = {type(b) for b, _ in io.blocks(str(p), lines_done=lambda: 0, reuse=True)}
    assert kinds == {bytes}
