# SPDX-License-Identifier: MIT
"""FreeBSD truss parser: fixture counts, decoded values, strict errors, round trip."""
from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shimsim import model
from shimsim.errors import InputError
from shimsim.trace import _fmtbase as fb
from shimsim.trace import truss_freebsd as tf
from test_fmt_common import fixture_lines, kinds, run

FMT = "truss_freebsd"

# events by kind, unparsed lines (shell prompts, program output, <snip>, mail-wrapped fragments)
COUNTS = {
    "blog_cn_clint_old_truss_signal11.log": ({"exit": 1, "signal": 2, "stopped": 1, "syscall": 6}, 2),
    "gh_freebsd_valgrind189_pid_sigset.log": ({"syscall": 8}, 0),
    "gh_languageclient658_json_strings.log": ({"syscall": 17}, 0),
    "gh_pylibacl12_stat_struct.log": ({"syscall": 14}, 1),
    "gh_zrepl343_err60_nanosleep_loop.log": ({"syscall": 21}, 0),
    "lab4_uk_truss_malloc0_stdout_interleaved.log": ({"exit": 1, "syscall": 48}, 4),
    "mail_clamav_rm_rf_wrapped.log": ({"exit": 1, "syscall": 179}, 37),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_fixture_counts(name: str) -> None:
    events, stats = run(tf, fixture_lines(FMT, name), path=name)
    assert (kinds(events), stats.unparsed_count) == COUNTS[name]
    assert tf.guess_abi(fixture_lines(FMT, name)) == "freebsd-amd64"


def ev_at(name: str, line: int) -> list[model.Event]:
    events, _ = run(tf, fixture_lines(FMT, name), path=name)
    return [e for e in events if e.line == line]


def test_old_truss_pid_prefix_ideographic_indent_signal_stop_exit() -> None:
    name = "blog_cn_clint_old_truss_signal11.log"
    events, stats = run(tf, fixture_lines(FMT, name), path=name)
    first = events[0]
    assert (first.line, first.pid, first.name, first.args, first.ret, first.rec) == \
        (3, 739, "read", "0x6,0x806f000,0x1000", 4096, model.SUCCESS)
    stat = [e for e in events if e.name == "stat"][0]
    assert (stat.line, stat.rec, stat.err, stat.ret, stat.errname) == (8, model.ERROR, 2, -1, None)
    assert stat.extra["errmsg"] == "No such file or directory"
    assert stat.args == '"/root/.clint/plugins",0xbfbfe680'
    sigs = [e for e in events if e.kind == model.SIGNAL]
    assert [(s.line, s.err, s.name, s.pid) for s in sigs] == [(9, 11, None, None), (10, 11, None, None)]
    stop = [e for e in events if e.kind == model.STOPPED][0]
    assert (stop.line, stop.extra["why"]) == (11, 16)
    ex = events[-1]
    assert (ex.kind, ex.line, ex.ret) == (model.EXIT, 12, 139)
    assert stats.unparsed_first[0][1] == 1


def test_exit_without_return_then_process_exit() -> None:
    name = "lab4_uk_truss_malloc0_stdout_interleaved.log"
    (ex_call,) = ev_at(name, 52)
    assert (ex_call.kind, ex_call.name, ex_call.args, ex_call.rec, ex_call.ret) == \
        (model.SYSCALL, "exit", "0x0", model.UNKNOWN, None)
    (ex,) = ev_at(name, 53)
    assert (ex.kind, ex.ret) == (model.EXIT, 0)
    (rl,) = ev_at(name, 38)
    assert (rl.name, rl.err, rl.rec) == ("readlink", 2, model.ERROR)
    (mm,) = ev_at(name, 2)
    assert (mm.name, mm.ret) == ("mmap", 55820429557760)
    (w,) = ev_at(name, 47)          # vis(3) escapes kept verbatim in the argument text
    assert w.args.startswith('1,"\\M-P\\M^R\\M-P\\M-8') and w.ret == 26


def test_pid_prefix_tabs_and_err35() -> None:
    name = "gh_freebsd_valgrind189_pid_sigset.log"
    events, _ = run(tf, fixture_lines(FMT, name), path=name)
    assert {e.pid for e in events} == {2021}
    last = events[-1]
    assert (last.name, last.rec, last.err, last.extra["errmsg"]) == \
        ("sigtimedwait", model.ERROR, 35, "Resource temporarily unavailable")
    assert (events[2].name, events[2].args, events[2].ret) == ("write", '26803,"C",1', 1)


def test_unescaped_inner_quotes_do_not_confuse_the_result() -> None:
    name = "gh_languageclient658_json_strings.log"
    events, _ = run(tf, fixture_lines(FMT, name), path=name)
    assert events[0].ret == 90 and events[0].args.endswith('"id":2}\\n",90')
    assert events[3].name == "read" and events[3].ret == 49


def test_err60_and_space_padding() -> None:
    name = "gh_zrepl343_err60_nanosleep_loop.log"
    events, _ = run(tf, fixture_lines(FMT, name), path=name)
    assert (events[0].name, events[0].err, events[0].extra["errmsg"]) == ("_umtx_op", 60, "Operation timed out")
    assert all(e.name == "nanosleep" and e.ret == 0 for e in events[1:])


def test_wrapped_mail_lines_are_counted_not_guessed() -> None:
    name = "mail_clamav_rm_rf_wrapped.log"
    events, stats = run(tf, fixture_lines(FMT, name), path=name)
    reasons = {ln for _, ln, _ in stats.unparsed_first}
    assert {3, 6, 7} <= reasons                 # "(0x800533000)", "mmap(...) =", "34365190144 (0x...)"
    (mm,) = [e for e in events if e.line == 2]
    assert mm.ret == 34365190144 and mm.extra["no_hex"] is True
    brk = [e for e in events if e.name == "break"][0]
    assert (brk.args, brk.ret) == ("0x600000", 0)
    assert events[-1].kind == model.EXIT and events[-1].ret == 0


def test_strict_mode_names_file_and_line_of_noise() -> None:
    with pytest.raises(InputError) as ei:
        run(tf, fixture_lines(FMT, "gh_pylibacl12_stat_struct.log"), path="acl.truss", strict=True)
    assert str(ei.value).startswith("acl.truss:1: expected a FreeBSD truss line")
    # and a whole clean file passes strict mode
    events, stats = run(tf, fixture_lines(FMT, "gh_zrepl343_err60_nanosleep_loop.log"), strict=True)
    assert len(events) == 21 and stats.unparsed_count == 0


SYNTHETIC = [
    "55358: 0.000127204 clock_gettime(0,{ 1432019612.288175998 }) = 0 (0x0)",
    "  101 100234: 1.000000001 0.000000100 read(3,0x0,10)\t\t = -1 (0xffffffffffffffff)",
    "  101 100234: <new thread 100235>",
    "  101 100235: <thread 100235 exited>",
    "  102: <new process>",
    "  101: SIGNAL 11 (SIGSEGV) code=SEGV_MAPERR trapno=12 addr=0x0",
    "  101: process killed, signal = 11 (core dumped)",
    "  102: sigreturn(0x7fffffffe0e0)\t\t EJUSTRETURN",
    "  102: nanosleep({ 1.000000000 })\t\t ERESTART",
    "-- UNKNOWN FreeBSD ELF64 SYSCALL 600 --",
    "#600(0x1,0x2)\t\t\t ERR#78 'Function not implemented'",
    "  102: thr_exit(0x0)",
    "  102: read(3,0x0,10)",                # no result and not an exit call: damaged
]


def test_synthetic_records_from_truss_source_formats() -> None:
    events, stats = run(tf, SYNTHETIC)
    e = events[0]
    assert (e.pid, e.ts, e.name, e.args, e.ret, e.flags & model.F_HAS_TS) == \
        (55358, 0.000127204, "clock_gettime", "0,{ 1432019612.288175998 }", 0, model.F_HAS_TS)
    e = events[1]
    assert (e.pid, e.tid, e.ts, e.dur, e.ret) == (101, 100234, 1.000000001, 0.0000001, -1)
    sig, killed, sr, ns, unk, te = events[2:8]
    assert (sig.kind, sig.name, sig.err, sig.extra["siginfo"]) == \
        (model.SIGNAL, "SIGSEGV", 11, "code=SEGV_MAPERR trapno=12 addr=0x0")
    assert (killed.kind, killed.err, killed.flags & model.F_CORE) == (model.KILLED, 11, model.F_CORE)
    assert (sr.rec, sr.ret, sr.extra["justreturn"]) == (model.SUCCESS, None, True)
    assert (ns.rec, ns.errname) == (model.RESTARTED, "ERESTART")
    assert (unk.nr, unk.err, unk.rec) == (600, 78, model.ERROR)
    assert (te.name, te.rec) == ("thr_exit", model.UNKNOWN)
    assert len(events) == 8
    assert stats.unparsed_count == 1 and stats.unparsed_first[0][1] == 13
    assert stats.skipped["truss thread/process notice"] == 3
    assert stats.skipped["truss unknown-syscall notice"] == 1


def test_guess_abi_linuxulator() -> None:
    assert tf.guess_abi(["linux_open(\"/etc/x\",0x0,0x0) = 3 (0x3)"]) == "linux-x86_64"


# -- round trip -------------------------------------------------------------
_name = st.from_regex(r"\A[a-z_][a-z0-9_]{0,14}\Z").filter(lambda n: fb.guest_name(n) == n)
_args = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=60)
_tail = re.compile(r"\)\s*(?:=|ERR#|ERESTART|EJUSTRETURN)|\s$")


@st.composite
def syscall_events(draw: st.DrawFn) -> model.Event:
    args = draw(_args)
    assume(not _tail.search(args))
    name = draw(_name)
    rec = draw(st.sampled_from([model.SUCCESS, model.ERROR, model.RESTARTED, model.UNKNOWN, "just"]))
    ev = model.Event(kind=model.SYSCALL, file="rt", line=1, name=name, args=args)
    if draw(st.booleans()):
        ev.pid = draw(st.integers(0, 99999))
        if draw(st.booleans()):
            ev.tid = draw(st.integers(100000, 999999))
    if draw(st.booleans()):
        ev.ts = draw(st.integers(0, 10**12)) / 1e9
    if rec == model.SUCCESS:
        ev.rec, ev.ret = rec, draw(st.integers(-(2**63), 2**63 - 1))
    elif rec == model.ERROR:
        ev.rec, ev.ret, ev.err = rec, -1, draw(st.integers(1, 200))
        ev.extra["errmsg"] = draw(st.from_regex(r"\A[A-Za-z][A-Za-z ]{0,30}[a-z]\Z"))
    elif rec == model.RESTARTED:
        ev.rec, ev.errname = rec, "ERESTART"
    elif rec == model.UNKNOWN:
        ev.rec, ev.name = rec, draw(st.sampled_from(sorted(tf.NO_RETURN)))
    else:
        ev.rec = model.SUCCESS
    return ev


@given(syscall_events())
def test_round_trip_syscalls(ev: model.Event) -> None:
    line = tf.render(ev)
    (back,), stats = run(tf, [line], strict=True)
    assert stats.unparsed_count == 0
    assert (back.kind, back.pid, back.tid, back.name, back.args, back.rec, back.ret, back.err, back.errname) == \
        (ev.kind, ev.pid, ev.tid, ev.name, ev.args, ev.rec, ev.ret, ev.err, ev.errname)
    if ev.ts is not None:
        assert back.ts == pytest.approx(ev.ts, abs=1e-9)
    assert back.extra.get("errmsg") == ev.extra.get("errmsg")


@given(st.sampled_from([model.SIGNAL, model.EXIT, model.KILLED]), st.integers(0, 255),
       st.sampled_from(["SIGSEGV", "SIGHUP", "SIGUSR1", None]), st.booleans(),
       st.one_of(st.none(), st.integers(1, 99999)))
def test_round_trip_process_records(kind: int, num: int, sig: str | None, core: bool, pid: int | None) -> None:
    ev = model.Event(kind=kind, file="rt", line=1, pid=pid)
    if kind == model.SIGNAL:
        ev.err, ev.name = num, sig
    elif kind == model.EXIT:
        ev.ret = num
    else:
        ev.err, ev.flags = num, model.F_CORE if core else 0
    (back,), _ = run(tf, [tf.render(ev)], strict=True)
    assert (back.kind, back.pid, back.name, back.err, back.ret, back.flags & model.F_CORE) == \
        (ev.kind, ev.pid, ev.name, ev.err, ev.ret, ev.flags & model.F_CORE)


def test_linuxulator_and_compat32_names_are_guest_names() -> None:
    events, _ = run(tf, ['  501: linux_open("/etc/passwd",0x0,0x0) = 3 (0x3)',
                         "  501: freebsd32_mmap(0x0,4096,0x3,0x1002,-1,0x0) = 671088640 (0x28000000)",
                         "  501: linux_exit_group(0x0)"])
    op, mm, ex = events
    assert (op.name, op.extra["raw_name"], op.ret) == ("open", "linux_open", 3)
    assert (mm.name, mm.extra["raw_name"]) == ("mmap", "freebsd32_mmap")
    assert (ex.name, ex.rec) == ("exit_group", model.UNKNOWN)
    assert tf.render(op).lstrip().startswith("501: linux_open(")


# truss -c (FreeBSD print_summary layout: %-20s%15s%8s%8s header, seconds with 9 decimals)
SUMMARY = [
    "syscall                     seconds   calls  errors",
    "fstat                   0.000005000       3       0",
    "open                    0.000031000       6       2",
    "mmap                    0.000020000      10       0",
    "                      ------------- ------- -------",
    "                        0.000056000      19       2",
]


def test_count_only_summary_table_becomes_stats_summary() -> None:
    events, stats = run(tf, SUMMARY, strict=True)
    assert events == []
    assert stats.summary == {"fstat": [3, 0], "open": [6, 2], "mmap": [10, 0]}
    assert stats.skipped["summary table"] == 6
    from test_fmt_common import MODULES
    scores = {f: m.sniff(SUMMARY) for f, m in MODULES.items()}
    assert max(scores, key=lambda k: scores[k]) == "truss_freebsd" and scores["truss_freebsd"] >= 0.5


# -D alone (time spent per call) and -d alone (time since start) print the same
# shape; the first values tell them apart (lines from a published -f -D trace).
DASH_D_UPPER = [
    "735: 0.000021511 socket(0x2,0x1,0x0) = 4 (0x4)",
    "735: 0.000014248 setsockopt(0x4,0x6,0x1,0xbfbfe3c8,0x4) = 0 (0x0)",
    "735: 0.000013688 setsockopt(0x4,0xffff,0x8,0xbfbfe3c8,0x4) = 0 (0x0)",
]


def test_single_time_column_per_call_versus_since_start() -> None:
    events, _ = run(tf, DASH_D_UPPER)
    assert [(e.ts, e.dur) for e in events] == [(None, 0.000021511), (None, 0.000014248), (None, 0.000013688)]
    assert all(e.flags & model.F_HAS_DUR and not e.flags & model.F_HAS_TS for e in events)
    rising = [f"  9: {i}.000000100 getpid() = 9 (0x9)" for i in range(40)]
    events, _ = run(tf, rising)
    assert [e.ts for e in events] == [i + 1e-7 for i in range(40)] and all(e.dur is None for e in events)


def test_aliases_name_real_freebsd_syscalls() -> None:
    from shimsim import tables

    abi = tables.load_abi("freebsd-amd64")
    assert all(t in abi.by_name and n not in abi.by_name for n, t in tf.ALIASES.items())
    for name in COUNTS:
        events, _ = run(tf, fixture_lines(FMT, name))
        unresolved = {e.name for e in events if e.kind == model.SYSCALL
                      and e.name not in abi.by_name and tf.ALIASES.get(e.name) not in abi.by_name}
        assert unresolved == set(), name
    assert abi.syscall(tf.ALIASES["stat"]).number == 188


def test_strerror_with_an_apostrophe_is_an_error_line(tmp_path):
    """truss quotes strerror without escaping: EADDRNOTAVAIL's text has an
    apostrophe of its own (found by the truss round-trip property)."""
    from shimsim import trace

    f = tmp_path / "t.truss"
    f.write_text(" 1000: connect(3,{ AF_INET 10.0.0.1:80 },16)\t ERR#49 'Can't assign requested address'\n")
    t = trace.open([str(f)], format="truss-freebsd", strict=True, engine="python")
    (ev,) = list(t.events())
    assert (ev.name, ev.pid, ev.err, ev.errname) == ("connect", 1000, 49, "EADDRNOTAVAIL")
    assert ev.extra["errmsg"] == "Can't assign requested address"
