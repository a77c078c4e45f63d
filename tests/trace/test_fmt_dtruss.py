# SPDX-License-Identifier: MIT
"""dtruss parser: fixture counts, host detection, columns, errno styles,
dtrace noise, strict errors, round trip."""
from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shimsim import model
from shimsim.errors import InputError
from shimsim.trace import dtruss as dt
from test_fmt_common import fixture_lines, kinds, run

FMT = "dtruss"

# events by kind, unparsed lines, guessed ABI
COUNTS = {
    "blog_ggreer_codesign_f_t_open.log": ({"syscall": 4}, 2, "darwin-x86_64"),
    "gh_bdwgc423_macos_a_relative_elapsed_cpu.log": ({"syscall": 1}, 3, "darwin-x86_64"),
    "gh_hashcat545_dtrace_error_flood.log": ({}, 10, "darwin-x86_64"),
    "gh_kakoune1042_dtrace_errors_interleaved.log": ({"syscall": 16}, 4, "darwin-x86_64"),
    "gh_macfuse130_no_pid_ls.log": ({"syscall": 20}, 2, "darwin-x86_64"),
    "gh_omnios1219_dtruss_on_illumos_lx.log": ({"syscall": 31}, 0, "linux-x86_64"),
    "gh_pkgsrc137_a_high_sierra.log": ({"syscall": 9}, 1, "darwin-x86_64"),
    "toolkit_dtruss_eon_bash_solaris.log": ({"syscall": 12}, 1, "illumos-amd64"),
    "toolkit_dtruss_n_ksh_solaris.log": ({"syscall": 8}, 2, "illumos-amd64"),
    "toolkit_notes_dtruss_eo_date_x86.log": ({"syscall": 16}, 3, "illumos-amd64"),
    "toolkit_notes_dtruss_eo_n_bash.log": ({"syscall": 11}, 1, "illumos-amd64"),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_fixture_counts_and_host(name: str) -> None:
    lines = fixture_lines(FMT, name)
    events, stats = run(dt, lines, path=name)
    assert (kinds(events), stats.unparsed_count, dt.guess_abi(lines)) == COUNTS[name]


def test_macos_a_columns_and_err2() -> None:
    name = "gh_pkgsrc137_a_high_sierra.log"
    events, stats = run(dt, fixture_lines(FMT, name), path=name)
    op = events[0]
    assert (op.line, op.pid, op.tid, op.name, op.ret, op.rec) == (5, 8182, 0x1A783, "open", 3, model.SUCCESS)
    assert op.args == '"/dev/dtracehelper\\0", 0x2, 0xFFFFFFFFE001FA60'
    assert (op.ts, op.dur, op.extra["cpu_us"]) == (0.00217, 0.000099, 39)
    assert op.flags & model.F_HAS_TS and op.flags & model.F_HAS_DUR
    ac = [e for e in events if e.name == "access"][0]
    assert (ac.line, ac.ret, ac.rec, ac.err, ac.errname) == (8, -1, model.ERROR, 2, None)
    assert stats.skipped["dtrace notice"] == 1 and stats.skipped["dtruss header"] == 1


def test_solaris_eo_without_pid_column_negative_success_values() -> None:
    name = "toolkit_notes_dtruss_eo_date_x86.log"
    events, stats = run(dt, fixture_lines(FMT, name), path=name)
    rp = events[0]
    assert (rp.pid, rp.name, rp.ret, rp.dur, rp.extra["cpu_us"], rp.ts) == (None, "resolvepath", 13, 0.000044, 23, None)
    mm = [e for e in events if e.line == 12][0]
    assert (mm.name, mm.ret, mm.rec) == ("mmap", -763559936, model.SUCCESS)
    op = [e for e in events if e.line == 8][0]
    assert (op.rec, op.err) == (model.ERROR, 2)
    assert [ln for _, ln, _ in stats.unparsed_first] == [1, 3, 20]


def test_solaris_pid_lwp_prefix_and_hex_return() -> None:
    name = "toolkit_dtruss_eon_bash_solaris.log"
    events, _ = run(dt, fixture_lines(FMT, name), path=name)
    assert {(e.pid, e.tid) for e in events} == {(3911, 1)}
    last = events[-1]
    assert (last.name, last.ret, last.dur, last.extra["cpu_us"]) == ("lwp_sigmask", 0xFFBFFEFF, 0.000009, 1)
    assert events[3].args == '0x0, " \\001\\0", 0x1'


def test_lx_negative_errno_value_and_dtrace_noise() -> None:
    events, _ = run(dt, fixture_lines(FMT, "gh_omnios1219_dtruss_on_illumos_lx.log"))
    fs = [e for e in events if e.name == "fstatat64"][0]
    assert (fs.ret, fs.err, fs.rec) == (-2, 2, model.ERROR)
    _, stats = run(dt, fixture_lines(FMT, "gh_kakoune1042_dtrace_errors_interleaved.log"))
    reasons = [r for _, _, r in stats.unparsed_first]
    assert sum(r.startswith("dtrace message") for r in reasons) == 2


def test_strict_mode_fails_on_a_lost_probe_record() -> None:
    with pytest.raises(InputError) as ei:
        run(dt, fixture_lines(FMT, "gh_hashcat545_dtrace_error_flood.log"), path="h.log", strict=True)
    assert str(ei.value).startswith("h.log:1: expected a dtruss line")
    events, stats = run(dt, fixture_lines(FMT, "gh_omnios1219_dtruss_on_illumos_lx.log"), strict=True)
    assert len(events) == 31 and stats.unparsed_count == 0


def test_newer_macos_bare_errno_stack_frames_and_header_columns() -> None:
    lines = [
        "\tPID/THRD  ELAPSD SYSCALL(args) \t\t = return",
        "  501/0x3e8:      17 open(\"/nope\\0\", 0x0, 0x0)\t\t = -1 2",
        "              libsystem_kernel.dylib`__open+0xa",
        "              0x7fff5fc01234",
        "  501/0x3e8:       4 close(0x3)\t\t = 0 0",
        "some program output",
    ]
    events, stats = run(dt, lines)
    op, cl = events
    assert (op.rec, op.err, op.dur, op.ts) == (model.ERROR, 2, 0.000017, None)
    assert op.extra["stack"] == ["libsystem_kernel.dylib`__open+0xa", "0x7fff5fc01234"]
    assert (cl.rec, cl.ret, cl.tid) == (model.SUCCESS, 0, 0x3E8)
    assert stats.unparsed_count == 1 and stats.unparsed_first[0][1] == 6


# -- round trip -------------------------------------------------------------
_name = st.from_regex(r"\A[a-z_][a-z0-9_]{0,14}\Z")
_args = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=60)


@st.composite
def events(draw: st.DrawFn) -> model.Event:
    args = draw(_args)
    assume(not re.search(r"\)\s*=|\s$", args))
    ev = model.Event(kind=model.SYSCALL, file="rt", line=1, name=draw(_name), args=args)
    if draw(st.booleans()):
        ev.pid, ev.tid = draw(st.integers(0, 99999)), draw(st.integers(0, 2**40))
    cols = draw(st.sampled_from(["none", "eo", "a"]))
    if cols in ("eo", "a"):
        ev.dur, ev.extra["cpu_us"] = draw(st.integers(0, 10**7)) / 1e6, draw(st.integers(0, 10**7))
    if cols == "a":
        ev.ts = draw(st.integers(0, 10**9)) / 1e6
    if draw(st.booleans()):
        ev.rec, ev.ret = model.SUCCESS, draw(st.integers(-(2**31), 2**64 - 1))
    else:
        ev.rec, ev.ret, ev.err = model.ERROR, draw(st.sampled_from([-1, -2])), draw(st.integers(1, 200))
    return ev


@given(events(), st.booleans())
def test_round_trip(ev: model.Event, hexthread: bool) -> None:
    (back,), stats = run(dt, [dt.render(ev, thread_hex=hexthread)], strict=True)
    assert (back.pid, back.tid, back.name, back.args, back.rec, back.ret, back.err) == \
        (ev.pid, ev.tid, ev.name, ev.args, ev.rec, ev.ret, ev.err)
    assert back.extra.get("cpu_us") == ev.extra.get("cpu_us")
    for a, b in ((back.ts, ev.ts), (back.dur, ev.dur)):
        assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, abs=1e-6))


def test_count_table_at_the_end() -> None:
    lines = [
        "SYSCALL(args) \t\t = return",
        "close(0x3)\t\t = 0 0",
        "",
        "CALL                                        COUNT",
        "close                                           1",
        "open                                            2",
        "some output after",
    ]
    events, stats = run(dt, lines)
    assert len(events) == 1
    assert stats.summary is None          # no error counts: not a strace-style summary
    assert stats.skipped["dtruss count table"] == 3
    assert stats.unparsed_count == 1 and stats.unparsed_first[0][1] == 7
