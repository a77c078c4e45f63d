# SPDX-License-Identifier: MIT
"""kdump parser: fixture counts, joined CALL/RET pairs, attached records,
signals, OS detection, strict errors, round trip."""
from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from shimsim import model
from shimsim.errors import InputError
from shimsim.trace import kdump as kd
from test_fmt_common import fixture_lines, kinds, run

FMT = "kdump"

# events by kind, unparsed lines (prompts, program output, "..." elisions), guessed OS and ABI
COUNTS = {
    "gh_hesselink_kqueue1_kfreebsd_gio_hexdump_psig.log": ({"signal": 1, "syscall": 3}, 2, "freebsd", "freebsd-amd64"),
    "openbsd_ipfs_mount_stru_stat.log": ({"syscall": 4}, 0, "openbsd", "openbsd-amd64"),
    # 2014 DragonFly printed records exactly like FreeBSD (no lwp column, no DragonFly-only call)
    "sixnix_dragonfly_2014.log": ({"exit": 1, "syscall": 6}, 1, "freebsd", "freebsd-amd64"),
    "sixnix_freebsd_2014.log": ({"exit": 1, "syscall": 6}, 1, "freebsd", "freebsd-amd64"),
    "sixnix_netbsd_2014.log": ({"exit": 1, "syscall": 6}, 1, "netbsd", "netbsd-amd64"),
    "uul_dragonfly54.log": ({"exit": 1, "syscall": 9}, 3, "dragonfly", None),
    "uul_freebsd12.log": ({"exit": 1, "syscall": 6}, 3, "freebsd", "freebsd-amd64"),
    "uul_openbsd68.log": ({"exit": 1, "syscall": 6}, 3, "openbsd", "openbsd-amd64"),
}


@pytest.mark.parametrize("name", sorted(COUNTS))
def test_fixture_counts_and_os(name: str) -> None:
    lines = fixture_lines(FMT, name)
    events, stats = run(kd, lines, path=name)
    assert (kinds(events), stats.unparsed_count, kd.guess_os(lines), kd.guess_abi(lines)) == COUNTS[name]


def test_freebsd12_joined_pairs_nami_gio_comm_change() -> None:
    name = "uul_freebsd12.log"
    events, _ = run(kd, fixture_lines(FMT, name), path=name)
    kt, ex, cd1, cd2, wr, ext, status = events
    assert (kt.line, kt.name, kt.ret, kt.extra["no_call"], kt.pid) == (4, "ktrace", 0, True, 755)
    assert (ex.line, ex.name, ex.rec, ex.ret, ex.extra["justreturn"]) == (5, "execve", model.SUCCESS, None, True)
    assert (ex.extra["nami"], ex.extra["comm"], ex.extra["new_comm"], ex.extra["ret_line"]) == \
        (["/tmp/uul"], "ktrace", "uul", 7)
    assert ex.flags & model.F_MERGED
    assert (cd1.args, cd1.ret, cd1.extra["nami"]) == ("0x600234", 0, ["/tmp"])
    assert (cd2.rec, cd2.ret, cd2.err, cd2.extra["errmsg"], cd2.extra["nami"]) == \
        (model.ERROR, -1, 2, "No such file or directory", ["/system"])
    assert (wr.args, wr.ret, wr.extra["gio"]) == \
        ("0x1,0x60023f,0x4", 4, [{"fd": 1, "dir": "wrote", "bytes": 4, "data": ['"BSD', '"']}])
    assert (ext.name, ext.args, ext.rec) == ("exit", "0x45", model.UNKNOWN)
    assert (status.kind, status.ret, status.line) == (model.EXIT, 69, ext.line)


def test_openbsd_args_record_and_stru() -> None:
    events, _ = run(kd, fixture_lines(FMT, "uul_openbsd68.log"))
    ex = events[1]
    assert (ex.name, ex.extra["argv"], ex.ret) == ("execve", ["/tmp/UUL"], 0)
    events, _ = run(kd, fixture_lines(FMT, "openbsd_ipfs_mount_stru_stat.log"))
    fs = events[0]
    assert fs.extra["stru"][0].startswith("struct stat { dev=9733, ino=1, mode=dr-xr-xr-- ,")
    gd = events[2]
    assert (gd.name, gd.args, gd.err, gd.rec) == ("getdents", "4,0x95a668ff000,0x1000", 2, model.ERROR)


def test_netbsd_lwp_column_and_emul() -> None:
    events, _ = run(kd, fixture_lines(FMT, "sixnix_netbsd_2014.log"))
    assert {(e.pid, e.tid) for e in events} == {(106, 1)}
    assert events[0].extra["emul_records"] == ["netbsd"] and events[0].extra["no_call"]
    assert events[1].extra["emul"] == "netbsd" and events[1].extra["justreturn"]
    assert events[4].extra["gio"][0]["data"] == ['"BSD\\n"']


def test_dragonfly_pid_colon_lwp() -> None:
    events, _ = run(kd, fixture_lines(FMT, "uul_dragonfly54.log"))
    assert {(e.pid, e.tid) for e in events} == {(877, 1)}
    assert [e.name for e in events[:3]] == ["ktrace", "umtx_wakeup", "umtx_wakeup"]


def test_kfreebsd_hexdump_blank_line_errno4_and_psig() -> None:
    name = "gh_hesselink_kqueue1_kfreebsd_gio_hexdump_psig.log"
    events, stats = run(kd, fixture_lines(FMT, name), path=name)
    kq, op, kev, sig = events
    assert (kq.name, kq.args, kq.ret) == ("kqueue", "", 3)
    assert (op.args, op.extra["nami"], op.ret) == ("0x286fc050,0<><invalid>0,<unused>0", ["foo"], 4)
    assert (kev.line, kev.err, kev.extra["errmsg"]) == (8, 4, "Interrupted system call")
    assert kev.extra["gio"][0]["data"][0].startswith("0x0000 0400 0000 fcff")
    assert len(kev.extra["gio"][0]["data"]) == 3
    assert (sig.kind, sig.name, sig.line, sig.extra["disposition"], sig.pid) == \
        (model.SIGNAL, "SIGALRM", 14, "caught", 37960)
    assert [ln for _, ln, _ in stats.unparsed_first] == [3, 7]


SYNTHETIC = [
    " 1001 100200 prog     1429651934.123456 CALL  mmap(0,0x1000,0x3<PROT_READ|PROT_WRITE>,0x1002<MAP_PRIVATE|MAP_ANON>,0xffffffff,0)",
    " 1001 100200 prog     1429651934.123500 RET   mmap 34365181952/0x800531000",
    " 1002 prog     CALL  nanosleep(0x7fffffffe000,0)",
    " 1002 prog     PSIG  SIGINT caught handler=0x401000 mask=0x0 code=SI_USER",
    " 1002 prog     RET   nanosleep RESTART",
    " 1002 prog     CALL  read(0x3,0x7fffffffe000,0x100)",
    " 1002 prog     CALL  getpid",                           # read never returned: emitted unknown
    " 1002 prog     RET   getpid 0x3ea",
    " 1002 prog     CALL  __sysctl(0x7fffffffe4a0,0x2,0,0,0,0)",
    ' 1002 prog     SCTL  "kern.ostype"',
    " 1002 prog     CSW   stop kernel",
    " 1002 prog     RET   __sysctl 0",
    " 1003/200001 x CALL  write(1,0x1000,2)",
    " 1003/200001 x RET   write 2",
    " 1004 lx       CALL  linux_open(0x8048000,0,0)",
    " 1004 lx       PSIG  11 SIG_DFL",
    " 1005 prog     CALL  select(0,0,0,0,0x7fffffffe000)",  # never returns before the end
    " 1002 prog     RET   write 5",                         # RET whose CALL is not in the trace
    " 1006 prog     FOO   what",                            # unknown record type
]


def test_synthetic_records() -> None:
    events, stats = run(kd, SYNTHETIC)
    mm = events[0]
    assert (mm.pid, mm.tid, mm.ts, mm.ret, mm.line) == (1001, 100200, 1429651934.123456, 34365181952, 1)
    assert mm.dur == pytest.approx(0.000044)
    assert mm.extra["decoded"] == {"2": {"value": 3, "names": ["PROT_READ", "PROT_WRITE"]},
                                   "3": {"value": 0x1002, "names": ["MAP_PRIVATE", "MAP_ANON"]}}
    sig, ns, rd, gp, sc, wr, lxsig, orphan, lxopen, sel = events[1:]   # unreturned calls flushed in line order
    assert (sig.name, sig.line, sig.extra["disposition"]) == ("SIGINT", 4, "caught")
    assert (ns.name, ns.rec, ns.errname, ns.line) == ("nanosleep", model.RESTARTED, "ERESTART", 3)
    assert (rd.name, rd.rec, rd.extra["no_ret"]) == ("read", model.UNKNOWN, True)
    assert (gp.name, gp.args, gp.ret) == ("getpid", "", 1002)
    assert (sc.extra["sysctl"], sc.extra["csw"], sc.ret) == (["kern.ostype"], ["stop kernel"], 0)
    assert (wr.pid, wr.tid, wr.ret) == (1003, 200001, 2)
    assert (lxsig.kind, lxsig.err, lxsig.name) == (model.SIGNAL, 11, None)
    assert (orphan.name, orphan.ret, orphan.extra["no_call"], orphan.line) == ("write", 5, True, 18)
    assert (sel.name, sel.rec, sel.line) == ("select", model.UNKNOWN, 17)      # flushed at the end
    assert (lxopen.name, lxopen.extra["raw_name"], lxopen.rec) == ("open", "linux_open", model.UNKNOWN)
    assert stats.unparsed_count == 1 and stats.unparsed_first[0][1] == 19


def test_guess_abi_linux_emulation() -> None:
    assert kd.guess_abi([' 7 a  EMUL  "linux"', " 7 a  CALL  linux_open(0,0,0)"]) == "linux-x86_64"
    assert kd.guess_abi([" 7 a  CALL  linux_mmap2(0,0,0)"]) == "linux-i386"
    assert kd.guess_os([" 7 a  CALL  pledge(0x0,0x0)"]) == "openbsd"
    assert kd.guess_abi(["nothing here"]) == "freebsd-amd64"


def test_strict_mode_names_the_prompt_line() -> None:
    with pytest.raises(InputError) as ei:
        run(kd, fixture_lines(FMT, "uul_freebsd12.log"), path="ktrace.out.txt", strict=True)
    assert str(ei.value).startswith("ktrace.out.txt:1: expected a kdump record")
    events, stats = run(kd, fixture_lines(FMT, "openbsd_ipfs_mount_stru_stat.log"), strict=True)
    assert len(events) == 4 and stats.unparsed_count == 0
    with pytest.raises(InputError) as ei:
        run(kd, [" 1 p CALL  read(0)", " 1 p RET   read banana"], strict=True)
    assert ei.value.line == 2


# -- round trip -------------------------------------------------------------
_name = st.from_regex(r"\A[a-z_][a-z0-9_]{0,14}\Z").filter(
    lambda n: n not in kd.EXIT_CALLS and n not in kd.THREAD_END and kd._base(n) == n)
_args = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"), max_size=60)


@st.composite
def events(draw: st.DrawFn) -> model.Event:
    ev = model.Event(kind=model.SYSCALL, file="rt", line=1, pid=draw(st.integers(0, 99999)))
    if draw(st.booleans()):
        ev.tid = draw(st.integers(1, 999999))
    ev.extra["comm"] = draw(st.from_regex(r"\A[a-z][a-z0-9_.-]{0,15}\Z"))
    if draw(st.booleans()):
        ev.ts = draw(st.integers(0, 2 * 10**15)) / 1e6
    if draw(st.integers(0, 9)) == 0:
        ev.kind = model.SIGNAL
        ev.name = draw(st.sampled_from(["SIGALRM", "SIGSEGV", "SIGCHLD"]))
        ev.extra["info"] = draw(st.sampled_from(["caught handler=0x401000 mask=0x0 code=SI_USER", "SIG_DFL"]))
        return ev
    ev.name = draw(_name)
    args = draw(_args)
    assume(not re.search(r"\s$", args))
    ev.args = args
    r = draw(st.sampled_from(["ok", "err", "just", "restart"]))
    if r == "ok":
        ev.rec, ev.ret = model.SUCCESS, draw(st.integers(-(2**63), 2**63 - 1))
    elif r == "err":
        ev.rec, ev.ret, ev.err = model.ERROR, -1, draw(st.integers(1, 200))
        ev.extra["errmsg"] = draw(st.from_regex(r"\A[A-Za-z][A-Za-z ]{0,30}[a-z]\Z"))
    elif r == "just":
        ev.rec = model.SUCCESS
    else:
        ev.rec, ev.errname = model.RESTARTED, "ERESTART"
    return ev


@given(events())
def test_round_trip(ev: model.Event) -> None:
    out, stats = run(kd, kd.render(ev).split("\n"), strict=True)
    (back,) = out
    assert stats.unparsed_count == 0
    assert (back.kind, back.pid, back.tid, back.name, back.rec, back.ret, back.err, back.errname) == \
        (ev.kind, ev.pid, ev.tid, ev.name, ev.rec, ev.ret, ev.err, ev.errname)
    assert back.extra["comm"] == ev.extra["comm"]
    if ev.kind == model.SYSCALL:
        assert back.args == ev.args and back.line == 1 and back.flags & model.F_MERGED
        assert back.extra.get("errmsg") == ev.extra.get("errmsg")
    else:
        assert back.extra["info"] == ev.extra["info"]
    if ev.ts is not None:
        assert back.ts == pytest.approx(ev.ts, abs=1e-6)


def test_emul_record_switches_the_event_abi() -> None:
    lines = [
        '   50      1 sh       EMUL  "netbsd"',
        "   50      1 sh       CALL  execve(0x7f7fff000000,0x7f7fff000100,0x7f7fff000200)",
        '   50      1 sh       NAMI  "/emul/linux/bin/ls"',
        '   50      1 ls       EMUL  "linux"',
        "   50      1 ls       RET   execve JUSTRETURN",
        "   50      1 ls       CALL  brk(0)",
        "   50      1 ls       RET   brk 134512640/0x8048000",
    ]
    events, _ = run(kd, lines, strict=True)
    ex, brk = events
    assert (ex.extra["emul_records"], ex.abi) == (["netbsd", "linux"], None)
    assert (brk.extra["emul"], brk.abi) == ("linux", "linux-x86_64")


NETBSD_MORE = [
    "   77     77 prog     1700000000.000000100 0.000000000 CALL  [412](0x1,0x2)",
    "   77     77 prog     1700000000.000000300 0.000000200 RET   [412] -1 unknown errno 999",
    "   77     77 prog     CALL  pipe2(0x7f7fffffe000,0)",
    "   77     77 prog     RET   pipe2 3, 4",
    "   77     77 prog     CALL  fork",
    '   77     77 prog     MISC  mmap: 4096, 8192',
    "   77     77 prog     UNKNOWN(99)",
    "       0000 0102 0304                              |....|",
    "   77     77 prog     RET   fork 1234/0x4d2, 1",
    '   77     77 prog     NAMI  "/left/over"',          # a record no later event takes
]


def test_netbsd_two_timestamps_numeric_names_second_value_misc_unknown() -> None:
    events, stats = run(kd, NETBSD_MORE, strict=True)
    num, pipe, fork = events
    assert (num.name, num.nr, num.ts, num.rec, num.err) == ("[412]", 412, 1700000000.0000001, model.ERROR, 999)
    assert num.dur == pytest.approx(2e-7)
    assert (pipe.ret, pipe.extra["ret2"]) == (3, 4)
    assert (fork.ret, fork.extra["ret2"]) == (1234, 1)
    assert fork.extra["user"] == ["mmap: 4096, 8192"]
    assert fork.extra["unknown_records"] == \
        [{"type": "UNKNOWN(99)", "data": ["0000 0102 0304                              |....|"]}]
    assert stats.skipped["kdump records after the last call of a process"] == 1
