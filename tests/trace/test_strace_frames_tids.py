# SPDX-License-Identifier: MIT
"""strace -k stack frames attached to their events (model.Frame) and strace's
thread ids (ev.tid), the same in both engines and in ``parse --events``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from shimsim import cli, model, trace
from shimsim.trace import io

FIX = Path(__file__).parents[1] / "fixtures" / "strace"
STACK = FIX / "gen" / "ls_k_stack.strace.gz"
LEAN = FIX / "pub" / "lean_stack_k_f_resumed_erestartsys.log"


def both(path: Path) -> tuple[list[model.Event], trace.Trace]:
    tc = trace.open(str(path), engine="c")
    evc = list(tc.events())
    tp = trace.open(str(path), engine="python")
    evp = list(tp.events())
    assert [e.to_json() for e in evc] == [e.to_json() for e in evp]
    return evc, tc


def test_frames_attached_to_their_calls() -> None:
    evs, t = both(STACK)
    assert sum(len(e.frames) for e in evs) == t.stats.skipped["stack frame (-k)"] > 1500
    first = evs[0]
    assert first.name == "execve" and first.frames == [model.Frame(
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "_dl_catch_error", 0x26F0, 0x1AB70)]
    brk = evs[1]
    assert brk.name == "brk" and len(brk.frames) == 4 and brk.frames[-1].offset == 0x26F8
    # every call of this trace has its stack
    assert all(e.frames for e in evs if e.kind == model.SYSCALL and e.name != "exit_group")


def test_frames_after_signal_and_resumed_lines() -> None:
    evs, _t = both(LEAN)
    sig = evs[0]
    assert sig.kind == model.SIGNAL and sig.name == "SIGSEGV" and len(sig.frames) == 4
    assert sig.frames[2] == model.Frame("/usr/lib/x86_64-linux-gnu/libc.so.6", "realloc", 0x146, 0xAE2E6)
    assert sig.frames[3].library == ".../OverflowInMalloc" and sig.frames[3].symbol == "__gmp_default_reallocate"
    by_line = {e.line: e for e in evs}
    assert [f.symbol for f in by_line[7].frames] == ["__nptl_death_event", "pthread_join", "lean_run_main"]
    merged = by_line[6]                      # futex <unfinished ...> resumed on line 11
    assert merged.flags & model.F_MERGED and [f.symbol for f in merged.frames][-1] == "segv_handler"


@pytest.mark.parametrize("block", [97, 256, 1000])
def test_frames_across_block_boundaries(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A frame line that starts a new block of the C tokeniser still finds its call."""
    monkeypatch.setattr(io, "BLOCK", block)
    evs, _t = both(LEAN)
    assert sum(len(e.frames) for e in evs) == 11


def test_tids_are_the_printed_thread_ids() -> None:
    evs, t = both(FIX / "gen" / "python_threads_f_tt.strace.gz")
    assert all(e.tid == e.pid for e in evs)
    assert t.stats.to_json()["threads"] == len({e.tid for e in evs}) > 1
    plain, _t = both(FIX / "gen" / "ls_plain.strace")
    assert all(e.tid is None and e.pid is None for e in plain)


def test_events_output_has_frames_and_tids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "ev.jsonl"
    assert cli.main(["parse", str(LEAN), "--events-out", str(out), "--json"]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows[0]["tid"] == 1800904 and rows[0]["pid"] == 1800904
    assert rows[0]["frames"][2] == {"library": "/usr/lib/x86_64-linux-gnu/libc.so.6", "symbol": "realloc",
                                    "offset": 0x146, "address": 0xAE2E6}
    d = json.loads(capsys.readouterr().out)
    assert d["threads"] == 2
