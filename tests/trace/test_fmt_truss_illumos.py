# SPDX-License-Identifier: MIT
"""illumos/Solaris truss parser: fixture counts, decoded values, sleeping
merges, signals, strict errors, round trip."""
from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shimsim import model
from shimsim.errors import InputError
from shimsim.trace import truss_illumos as ti
from test_fmt_common import fixture_lines, kinds, run

FMT = "truss_illumos"

COUNTS = {
    "gh_libuv1708_truss_a_amd64.log": ({"syscall": 13}, 1),
    "gh_smartos883_dlstat_pid_tab.log": ({"syscall": 19}, 1),
    "gh_triton210_svccfg_filtered.log": ({"syscall": 16}, 3),
    "sixnix_openindiana_truss.log": ({"exit": 1, "syscall": 5}, 2),
    "sol8_sparc_testsleep_full_signals_lwp.log": ({"exit": 1, "signal": 1, "syscall": 315}, 0),
    "uul_openindiana_truss.log": ({"exit": 1, "syscall": 5}, 2),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_fixture_counts(name: str) -> None:
    events, stats = run(ti, fixture_lines(FMT, name), path=name)
    assert (kinds(events), stats.unparsed_count) == COUNTS[name]
    assert ti.guess_abi(fixture_lines(FMT, name)) == "illumos-amd64"


def by_line(name: str) -> dict[int, list[model.Event]]:
    events, _ = run(ti, fixture_lines(FMT, name), path=name)
    out: dict[int, list[model.Event]] = {}
    for e in events:
        out.setdefault(e.line, []).append(e)
    return out


def test_openindiana_exec_err_exit_and_program_output() -> None:
    name = "sixnix_openindiana_truss.log"
    events, stats = run(ti, fixture_lines(FMT, name), path=name)
    ex, close, chdir, write, _exit, status = events
    assert (ex.name, ex.ret, ex.rec, ex.extra["argc"]) == ("execve", 0, model.SUCCESS, 1)
    assert ex.args == '"/tmp/sixnix", 0xFFFFFD7FFFDFFDE8, 0xFFFFFD7FFFDFFDF8'
    assert (close.rec, close.err, close.errname, close.args) == (model.ERROR, 9, "EBADF", "6291964")
    assert (write.args, write.ret) == ('1, " S u n O S\\n", 6', 6)
    assert (_exit.name, _exit.rec, _exit.ret) == ("_exit", model.UNKNOWN, None)
    assert (status.kind, status.ret, status.line) == (model.EXIT, 69, 7)
    assert [ln for _, ln, _ in stats.unparsed_first] == [1, 5]      # the shell prompt and "SunOS"


def test_pid_tab_prefix_and_hex_returns() -> None:
    name = "gh_smartos883_dlstat_pid_tab.log"
    events, _ = run(ti, fixture_lines(FMT, name), path=name)
    assert {e.pid for e in events} == {22229}
    assert events[0].extra["argc"] == 2
    mm = events[2]
    assert (mm.name, mm.ret) == ("mmap", 0xFEFA0000)
    op = [e for e in events if e.name == "open" and e.rec == model.ERROR][0]
    assert (op.line, op.err, op.errname) == (14, 2, "ENOENT")


def test_sleeping_pairs_merge_signal_second_value_lwp_create() -> None:
    name = "sol8_sparc_testsleep_full_signals_lwp.log"
    lines = by_line(name)
    (gp,) = lines[192]
    assert (gp.name, gp.ret, gp.extra["ret2"]) == ("getpid", 1100, 1099)
    (lc,) = lines[189]
    assert (lc.name, lc.ret, lc.extra["returning_as"]) == ("lwp_create", 0, "new lwp")
    (merged,) = lines[306]                     # (sleeping...) at 306, Err#91 ERESTART at 308
    assert (merged.name, merged.rec, merged.err, merged.errname) == \
        ("lwp_sema_wait", model.RESTARTED, 91, "ERESTART")
    assert merged.extra["resumed_line"] == 308 and merged.flags & model.F_MERGED
    assert 308 not in lines
    (sig,) = lines[307]
    assert (sig.kind, sig.name, sig.err, sig.extra["in"], sig.extra["disposition"]) == \
        (model.SIGNAL, "SIGALRM", 14, "lwp_sema_wait", "caught")
    (m2,) = lines[301]
    assert m2.extra["resumed_line"] == 311 and m2.ret == 0
    for ln in (302, 303, 304, 305):            # sleepers that never came back
        (e,) = lines[ln]
        assert e.rec == model.UNFINISHED and e.extra["sleeping"] is True
    (sc,) = lines[313]
    assert (sc.name, sc.rec) == ("setcontext", model.UNKNOWN)
    _exit, status = lines[318]
    assert (_exit.name, status.kind, status.ret) == ("_exit", model.EXIT, 125)


def test_strict_mode_names_the_prompt_line() -> None:
    with pytest.raises(InputError) as ei:
        run(ti, fixture_lines(FMT, "gh_triton210_svccfg_filtered.log"), path="svccfg.truss", strict=True)
    assert str(ei.value).startswith("svccfg.truss:1: expected an illumos truss line")
    events, stats = run(ti, fixture_lines(FMT, "sol8_sparc_testsleep_full_signals_lwp.log"), strict=True)
    assert stats.unparsed_count == 0 and len(events) == 317


SYNTHETIC = [
    "Base time stamp:  1141051296.7653  [ Mon Feb 27 09:41:36 EST 2006 ]",
    "/1:\t 0.0000\texecve(\"/usr/bin/ls\", 0xFFBFFC5C, 0xFFBFFC64)  argc = 2",
    "/1:\t  argv: ls -l",
    "/1:\t  envp: HOME=/root PATH=/usr/bin",
    "1234/2:\t\t 0.0012\t 0.0003\t 0.0001\tread(3, 0x08047A80, 1024)\t\t= 47",
    "1234/2@1:\tmount(\"/dev/x\", \"/mnt\", 0x0)\tErr#1 EPERM [sys_mount]",
    "1235:\tfork1()\t\t(returning as child ...)\t= 1234",
    "1234/1:\t    Received signal #18, SIGCLD [caught]",
    "1234/1:\t      siginfo: SIGCLD CLD_EXITED pid=1235 status=0x0000",
    "1234/1:\t    Incurred fault #6, FLTBOUNDS  %pc = 0x08050A1C",
    "1234/1:\t    at = Jan 12 10:00:00 PST 2005  [ 1105552800.000000000 ]",
    "lwp_exit()",
    "open(\"/x\", O_RDONLY)",                 # no result on a call that returns: damaged
]


def test_synthetic_records_from_truss_source_formats() -> None:
    events, stats = run(ti, SYNTHETIC)
    ex, rd, mnt, fk, sig, le = events
    assert (ex.tid, ex.pid, ex.ts, ex.extra["argc"]) == (1, None, 0.0, 2)
    assert ex.extra["more"] == ["argv: ls -l", "envp: HOME=/root PATH=/usr/bin"]
    assert (rd.pid, rd.tid, rd.ts, rd.dur, rd.ret, rd.extra["times"]) == \
        (1234, 2, 0.0012, 0.0001, 47, [0.0012, 0.0003, 0.0001])
    assert (mnt.errname, mnt.err, mnt.extra["priv"], mnt.tid) == ("EPERM", 1, "sys_mount", 2)
    assert (fk.pid, fk.ret, fk.extra["returning_as"]) == (1235, 1234, "child")
    assert (sig.name, sig.err, sig.extra["disposition"]) == ("SIGCLD", 18, "caught")
    assert sig.extra["more"][0] == "siginfo: SIGCLD CLD_EXITED pid=1235 status=0x0000"
    assert sig.extra["faults"] == ["Incurred fault #6, FLTBOUNDS  %pc = 0x08050A1C"]
    assert sig.extra["more"][1] == "at = Jan 12 10:00:00 PST 2005  [ 1105552800.000000000 ]"
    assert (le.name, le.rec) == ("lwp_exit", model.UNKNOWN)
    assert stats.skipped["truss base time stamp"] == 1
    assert stats.unparsed_count == 1 and stats.unparsed_first[0][1] == 13


# -- round trip -------------------------------------------------------------
_name = st.from_regex(r"\A[a-z_][a-z0-9_]{0,14}\Z").filter(lambda n: n not in ti.NO_RETURN)
_args = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=60)
_tail = re.compile(r"\)\s+(?:=|Err#|argc|\(sleeping|\(returning)|\s$")


@st.composite
def events(draw: st.DrawFn) -> model.Event:
    ev = model.Event(kind=model.SYSCALL, file="rt", line=1)
    if draw(st.booleans()):
        ev.pid = draw(st.integers(1, 999999))
    if draw(st.booleans()):
        ev.tid = draw(st.integers(1, 9999))
    if draw(st.booleans()):
        ev.ts = draw(st.integers(0, 99 * 10000)) / 10000
    kind = draw(st.sampled_from(["ok", "err", "exit", "exec", "signal"]))
    if kind == "signal":
        ev.kind, ev.name, ev.err = model.SIGNAL, draw(st.sampled_from(["SIGALRM", "SIGCLD", "SIGSEGV"])), \
            draw(st.integers(1, 64))
        if draw(st.booleans()):
            ev.extra["in"] = draw(_name)
        ev.extra["disposition"] = draw(st.sampled_from(["caught", "default", "ignored"]))
        return ev
    args = draw(_args)
    assume(not _tail.search(args))
    ev.args = args
    if kind == "ok":
        ev.name, ev.rec, ev.ret = draw(_name), model.SUCCESS, draw(st.integers(-(2**31), 2**64 - 1))
        if draw(st.booleans()):
            ev.extra["ret2"] = draw(st.integers(0, 2**31))
    elif kind == "err":
        ev.name, ev.ret, ev.err = draw(_name), -1, draw(st.integers(1, 150))
        ev.errname = draw(st.from_regex(r"\AE[A-Z]{2,10}\Z"))
        ev.rec = model.RESTARTED if ev.errname == "ERESTART" else model.ERROR
    elif kind == "exit":
        ev.name, ev.rec, ev.args = "_exit", model.UNKNOWN, str(draw(st.integers(0, 255)))
    else:
        ev.name, ev.rec, ev.ret, ev.extra["argc"] = "execve", model.SUCCESS, 0, draw(st.integers(0, 99))
    return ev


@given(events())
def test_round_trip(ev: model.Event) -> None:
    out, stats = run(ti, [ti.render(ev)], strict=True)
    back = out[0]
    assert stats.unparsed_count == 0
    assert (back.kind, back.pid, back.tid, back.name, back.args, back.rec, back.ret, back.err, back.errname) == \
        (ev.kind, ev.pid, ev.tid, ev.name, ev.args, ev.rec, ev.ret, ev.err, ev.errname)
    for k in ("ret2", "argc", "in", "disposition"):
        assert back.extra.get(k) == ev.extra.get(k)
    if ev.ts is not None:
        assert back.ts == pytest.approx(ev.ts, abs=1e-4)
    if ev.name == "_exit":
        assert out[1].kind == model.EXIT and out[1].ret == int(ev.args)


# truss -c (illumos report(): faults and signals first, then the syscall table and totals)
SUMMARY = """\
faults -------------
FLTBOUNDS\t   1
total:\t\t   1

signals ------------
SIGSEGV\t\t   1
total:\t\t   1

syscall               seconds   calls  errors
_exit                    .000       1
read                     .000       2
open                     .001      10      4
                     --------  ------   ----
sys totals:              .001      13      4
usr time:                .002
elapsed:                 .060""".splitlines()


def test_count_only_summary_table_becomes_stats_summary() -> None:
    events, stats = run(ti, SUMMARY, strict=True)
    assert events == []
    assert stats.summary == {"_exit": [1, 0], "read": [2, 0], "open": [10, 4]}
    assert stats.skipped["summary table"] == 14 and stats.skipped["blank"] == 2
    from test_fmt_common import MODULES
    scores = {f: m.sniff(SUMMARY) for f, m in MODULES.items()}
    assert max(scores, key=lambda k: scores[k]) == "truss_illumos" and scores["truss_illumos"] >= 0.5


def test_sleeping_pair_with_timestamps_keeps_the_start_time() -> None:
    lines = ["/2:\t 1.0000\tread(0, 0x08047A80, 1024)\t(sleeping...)",
             "/1:\t 1.5000\tgetpid()\t\t\t\t= 7 [6]",
             "/2:\t 3.2500\tread(0, 0x08047A80, 1024)\t\t= 5"]
    events, _ = run(ti, lines, strict=True)
    gp, rd = events
    assert (gp.tid, gp.ret) == (1, 7)
    assert (rd.tid, rd.line, rd.ts, rd.extra["resumed_ts"], rd.extra["resumed_line"], rd.ret) == \
        (2, 1, 1.0, 3.25, 3, 5)


def test_aliases_name_real_illumos_syscalls() -> None:
    """Every alias target is a system call of the shipped illumos table (aliases
    are for names the table lacks; old names it still has resolve directly)."""
    from shimsim import tables

    abi = tables.load_abi("illumos-amd64")
    assert not sorted(t for t in set(ti.ALIASES.values()) if t not in abi.by_name)
    assert ti.ALIASES["door_call"] == "door" and ti.ALIASES["_exit"] == "exit"
    assert ti.ALIASES["stat64"] == "fstatat64" and ti.ALIASES["lwp_sema_wait"] == "lwp_sema_timedwait"
    # every syscall the Solaris 8 fixture shows resolves directly or through an alias,
    # except calls Solaris 8 had and illumos removed
    events, _ = run(ti, fixture_lines(FMT, "sol8_sparc_testsleep_full_signals_lwp.log"))
    missing = {e.name for e in events if e.kind == model.SYSCALL
               and e.name not in abi.by_name and ti.ALIASES.get(e.name) not in abi.by_name}
    assert missing == {"lwp_schedctl", "signotifywait", "lwp_sigredirect", "dup"}
