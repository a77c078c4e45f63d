# SPDX-License-Identifier: MIT
"""Replay on real traces: the seed's story, the report shape, errors, and the
rules of the replay (flags, errno, fallbacks, stubs) on hand-made events."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shimsim import model, replay, shim, tables, trace
from shimsim.errors import ShimsimError

FIX = Path(__file__).parents[1] / "fixtures"
REPLAY = FIX / "replay"
LS = REPLAY / "ls_plain.strace"
TAIL = REPLAY / "tail_f_inotify.strace"
TRUSS = FIX / "truss_freebsd" / "mail_clamav_rm_rf_wrapped.log"
ENGINES = ["c", "python"]


def run(paths, shim_name: str, engine: str, abi: str | None = None) -> replay.Report:
    t = trace.open([str(p) for p in paths], abi=abi, engine=engine)
    cs = shim.compile_shim(shim.load_spec(shim_name), t.abi)
    rp = replay.Replayer(cs, engine)
    if engine == "c":
        for b in t.batches():
            rp.feed_batch(b.events, b.count, b.files, b.abis)
    else:
        rp.feed_events(t.events())
    return rp.finish()


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True)


# --------------------------------------------------------------------------- the story

@pytest.mark.parametrize("engine", ENGINES)
def test_linux_trace_through_native_all_translated(engine: str) -> None:
    rep = run([LS], "native", engine)
    assert rep.syscalls == 245
    assert rep.outcomes[shim.TRANSLATED] == rep.syscalls
    assert rep.ndivergences == 0 and rep.first_fatal is None
    rep = run([REPLAY / "git_gc_f_ttt_T_y.strace"], "vm", engine)
    assert rep.outcomes[shim.TRANSLATED] == rep.syscalls > 3000 and rep.ndivergences == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_linux_trace_through_linuxulator_fails_what_freebsd_lacks(engine: str) -> None:
    rep = run([TAIL], "linuxulator@freebsd-14.3", engine)
    worst = {r["name"]: r["outcome"] for r in rep.syscall_rows()}
    assert worst["inotify_init"] == "failed"          # DUMMY in linux_dummy_x86.c
    assert worst["inotify_add_watch"] == "failed"
    assert worst["epoll_wait"] if "epoll_wait" in worst else True
    assert worst["read"] == "translated" and worst["futex"] == "emulated" if "futex" in worst else True
    # tail falls back to polling when inotify_init fails (coreutils); the recorded
    # inotify_add_watch that follows is the first call the program would not survive
    # ... and glibc runs on without rseq when linux_rseq returns ENOSYS (2 rseq calls in the trace)
    assert rep.div_counts[replay.DIV_FALLBACK] == 3
    assert rep.first_fatal is not None
    assert rep.first_fatal.syscall == "inotify_add_watch"
    assert rep.first_fatal.file.endswith("tail_f_inotify.strace") and rep.first_fatal.line == 267
    assert "ENOSYS" in rep.first_fatal.reason
    # ls needs nothing FreeBSD lacks: its one failed call is glibc's rseq registration (ENOSYS), survived
    rep = run([LS], "linuxulator@freebsd-14.3", engine)
    assert rep.outcomes.get(shim.FAILED, 0) == 1 and rep.first_fatal is None
    assert rep.div_counts[replay.DIV_FALLBACK] == 1
    assert rep.outcomes[shim.EMULATED] > 0 and rep.outcomes[shim.TRANSLATED] > 0


@pytest.mark.parametrize("engine", ENGINES)
def test_freebsd_truss_through_a_disabled_layer_fails_at_first_call(engine: str) -> None:
    rep = run([TRUSS], "disabled", engine)
    assert rep.guest == "freebsd-amd64"
    assert rep.outcomes[shim.FAILED] == rep.syscalls > 100
    t = trace.open([str(TRUSS)], engine="python")
    first = next(e for e in t.events() if e.kind == model.SYSCALL)
    assert rep.first_fatal is not None and rep.first_fatal.line == first.line
    assert rep.first_fatal.syscall == first.name


@pytest.mark.parametrize("engine", ENGINES)
def test_freebsd_truss_with_no_layer_on_linux_lands_on_linux_calls(engine: str) -> None:
    """No layer: every FreeBSD number is read from Linux's table (write 4 = stat,
    mmap 477 = nothing) and the errors come back as successes; the trace's own
    shape (ld-elf opening libraries) says the program is dynamic, so Linux fails
    its execve at the interpreter path first."""
    rep = run([TRUSS], "none", engine)
    assert (rep.guest, rep.host) == ("freebsd-amd64", "linux-x86_64")
    assert rep.loader["status"] == "interpreter-missing" and "ENOENT" in rep.loader["text"]
    assert rep.first_fatal.syscall == "execve" and "PT_INTERP" in rep.first_fatal.reason
    by = {d.syscall: d.reason for d in rep.divergences}
    assert "lands on Linux close" in by["read"] and "carry flag" in by["read"]          # FreeBSD read = 3
    assert "has no Linux call at that number" in by["mmap"] and "-38" in by["mmap"]
    assert rep.outcomes.get(shim.TRANSLATED, 0) == sum(1 for r in rep.syscall_rows() if r["name"] == "execve")


@pytest.mark.parametrize("engine", ENGINES)
def test_freebsd_truss_through_derived_shim_shows_what_to_emulate(engine: str, tmp_path: Path) -> None:
    spec = tmp_path / "fb-on-linux.toml"
    r = cli("derive", "freebsd-amd64", "linux-x86_64", "-o", str(spec))
    assert r.returncode == 0, r.stderr
    rep = run([TRUSS], str(spec), engine)
    worst = {r["name"]: r["outcome"] for r in rep.syscall_rows()}
    assert worst["__sysctl"] == "emulated" and worst["issetugid"] == "emulated"
    assert worst["unlink"] == "translated" and worst["getdirentries"] == "translated"
    assert rep.first_fatal is None


@pytest.mark.parametrize("engine", ENGINES)
def test_a_linux_trace_needs_no_layer_on_a_linux_host(engine: str) -> None:
    rep = run([REPLAY / "python_signals_f_tt.strace"], "none", engine)
    assert rep.outcomes[shim.TRANSLATED] == rep.syscalls and rep.first_fatal is None


@pytest.mark.parametrize("engine", ENGINES)
def test_a_linux_trace_on_a_bare_freebsd_host_is_refused_at_execve(engine: str) -> None:
    rep = run([REPLAY / "python_signals_f_tt.strace"], "none-freebsd", engine)
    assert rep.loader["status"] == "refused" and "ENOEXEC" in rep.loader["text"]
    assert rep.first_fatal.syscall == "execve" and "never starts" in rep.first_fatal.reason
    assert set(rep.outcomes) == {shim.FAILED}


@pytest.mark.parametrize("engine", ENGINES)
def test_disabled_fails_every_call(engine: str) -> None:
    rep = run([REPLAY / "python_signals_f_tt.strace"], "disabled", engine)
    assert rep.outcomes[shim.FAILED] == rep.syscalls
    assert set(rep.outcomes) == {shim.FAILED}
    # calls that already failed with ENOSYS on the recording host do not diverge; the rest do
    assert rep.ndivergences <= rep.syscalls


@pytest.mark.parametrize("engine", ENGINES)
def test_mixed_personality_calls_are_unknown(engine: str) -> None:
    """A trace that switches to 32-bit mode: the i386/x32 calls are not calls of
    the shim's guest ABI; they are reported as unknown under their own ABI."""
    rep = run([REPLAY / "i386_mixed_personality.strace"], "native", engine)
    rows = {r["name"]: r for r in rep.syscall_rows()}
    assert rows["open (linux-i386)"]["outcome"] == "unknown"
    assert "personality" in rows["open (linux-i386)"]["note"]
    assert rows["getpid"]["outcome"] == "translated"
    assert rep.outcomes[shim.UNKNOWN] == sum(r["calls"] for r in rows.values() if r["outcome"] == "unknown") > 0
    assert rep.ndivergences == 0


# --------------------------------------------------------------------------- CLI

def test_cli_json_shape() -> None:
    r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    for key in ("shim", "guest", "host", "events", "outcomes", "syscalls", "divergences", "first_divergence"):
        assert key in d
    assert d["shim"] == "linuxulator@freebsd-14.3" and d["guest"] == "linux-x86_64" and d["host"] == "freebsd-amd64"
    assert set(d["outcomes"]) == {"unknown", "failed", "faked", "stubbed", "partial", "emulated", "translated"}
    assert sum(d["outcomes"].values()) == sum(s["calls"] for s in d["syscalls"])
    assert isinstance(d["divergences"], int) and d["divergences"] >= 2
    fd = d["first_divergence"]
    assert fd["file"].endswith("tail_f_inotify.strace") and fd["line"] == 267
    assert fd["syscall"] == "inotify_add_watch" and "ENOSYS" in fd["reason"]
    rows = {s["name"]: s for s in d["syscalls"]}
    assert rows["inotify_init"]["outcome"] == "failed"


def test_cli_engines_agree() -> None:
    out = []
    for eng in ENGINES:
        r = cli("replay", str(REPLAY / "python_threads_f_tt.strace"), "--shim", "illumos-lx", "--json", "--engine", eng)
        assert r.returncode == 0, r.stderr
        d = json.loads(r.stdout)
        d.pop("engine")
        out.append(d)
    assert out[0] == out[1]


def test_cli_text_report() -> None:
    r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3")
    assert r.returncode == 0, r.stderr
    assert "outcome" in r.stdout and "inotify_init" in r.stdout
    assert "tail_f_inotify.strace:267: [FATAL]" in r.stdout
    assert "first fatal divergence: " in r.stdout and "survivable" in r.stdout


def test_cli_fail_on() -> None:
    assert cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--fail-on", "fatal").returncode == 1
    assert cli("replay", str(LS), "--shim", "native", "--fail-on", "any").returncode == 0


def test_cli_abi_mismatch_names_both() -> None:
    r = cli("replay", str(TRUSS), "--shim", "linuxulator@freebsd-14.3")
    assert r.returncode == 2
    assert "freebsd-amd64" in r.stderr and "linux-x86_64" in r.stderr and "linuxulator@freebsd-14.3" in r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_unknown_shim_and_missing_file() -> None:
    r = cli("replay", str(LS), "--shim", "linuxulater")
    assert r.returncode == 2 and "linuxulator" in r.stderr
    r = cli("replay", str(LS), "--shim", "/nonexistent/x.toml")
    assert r.returncode == 2 and "no such file" in r.stderr
    r = cli("replay", "/nonexistent.strace", "--shim", "native")
    assert r.returncode == 2 and "/nonexistent.strace" in r.stderr


def test_replay_api_mismatch_error() -> None:
    with pytest.raises(ShimsimError, match="freebsd-amd64"):
        shim.compile_shim(shim.load_spec("linuxulator@freebsd-14.3"), "freebsd-amd64")


# --------------------------------------------------------------------------- rules on hand-made events

def ev(name: str, args: str = "", rec: int = model.SUCCESS, ret: int = 0, err: str | None = None,
       abi: str = "linux-x86_64", line: int = 1) -> model.Event:
    a = tables.load_abi(abi)
    return model.Event(kind=model.SYSCALL, file="t", line=line, name=name,
                       nr=a.by_name[name].number if name in a.by_name else None,
                       args=args, rec=rec if err is None else model.ERROR,
                       ret=ret if err is None else -1, errname=err,
                       err=a.errno.value(err) if err else None, abi=abi)


@pytest.mark.parametrize("engine", ENGINES)
def test_open_flags_through_linuxulator(engine: str) -> None:
    cs = shim.load("linuxulator@freebsd-14.3")
    fb = cs.host.family("open_flags")
    events = [ev("openat", 'AT_FDCWD, "/x", O_RDONLY|O_CLOEXEC', ret=3),
              ev("openat", 'AT_FDCWD, "/x", O_RDONLY|O_NOATIME', ret=3, line=2),
              ev("openat", 'AT_FDCWD, "/x", 0x80000 /* O_RDONLY|O_CLOEXEC */', ret=3, line=3),
              ev("openat", 'AT_FDCWD, "/x", O_RDONLY|O_PATH', ret=3, line=4)]
    res = [replay.replay_event(cs, e) for e in events]
    if engine == "c":
        res = c_results(cs, events)
    assert res[0].outcome == shim.TRANSLATED and res[0].div == replay.DIV_NONE
    assert res[0].hflags[0] == fb.value("O_CLOEXEC")
    assert res[1].outcome == shim.PARTIAL and res[1].div == replay.DIV_FLAG
    assert res[1].unsup[0] == cs.guest.family("open_flags").value("O_NOATIME")
    assert res[2].hflags[0] == fb.value("O_CLOEXEC") and not res[2].undecoded
    # linux_common_openflags() maps LINUX_O_PATH to FreeBSD's O_PATH (linux_file.c@685dc743)
    assert res[3].outcome == shim.TRANSLATED and res[3].hflags[0] == fb.value("O_PATH")
    rep = replay.replay_events(cs, events, engine)
    assert [d.line for d in rep.divergences] == [2] and "O_NOATIME" in rep.divergences[0].reason
    assert "unable to be easily implemented" in rep.divergences[0].reason


@pytest.mark.parametrize("engine", ENGINES)
def test_errno_meaning_and_failures(engine: str) -> None:
    cs = shim.load("linuxulator@freebsd-14.3")
    events = [
        ev("openat", 'AT_FDCWD, "/x", O_RDONLY', err="ENOENT"),           # same meaning
        ev("openat", 'AT_FDCWD, "/x", O_RDONLY', err="ENOEXEC", line=2),  # upstream maps it to ENOENT
        ev("sched_setattr", "0, 0x7ffc, 0", ret=0, line=3),              # recorded ok, shim fails
        ev("sched_setattr", "0, 0x7ffc, 0", err="ENOSYS", line=4),       # recorded ENOSYS already
        ev("clone3", "{...}, 88", ret=1234, line=5),                     # fails, but glibc falls back
        ev("rseq", "0x7f, 32, 0, 0x53053053", ret=0, line=6),             # ENOSYS, glibc runs without it
    ]
    res = c_results(cs, events) if engine == "c" else [replay.replay_event(cs, e) for e in events]
    e = cs.guest.errno
    assert [r.div for r in res] == [replay.DIV_NONE, replay.DIV_ERRNO, replay.DIV_FAILS,
                                    replay.DIV_NONE, replay.DIV_NONE, replay.DIV_FALLBACK]
    assert res[1].err == e.value("ENOENT")
    assert res[2].err == e.value("ENOSYS") and res[2].ret == -1
    assert cs.outcome[cs.guest.by_name["clone3"].number] == shim.EMULATED
    r = replay.replay_event(cs, ev("io_uring_setup", "1, 0x7ffc", ret=3))
    assert r.div == replay.DIV_FALLBACK                                   # libuv keeps its thread pool
    g = shim.load("gvisor")
    r = replay.replay_event(g, ev("io_uring_setup", "1, 0x7ffc", ret=3))
    assert r.outcome == shim.FAILED and r.div == replay.DIV_FALLBACK      # ENOSYS unless runsc --iouring


def test_fallback_applies_only_with_the_retried_errno(tmp_path: Path) -> None:
    head = ('[shim]\nname = "t"\nguest = "linux-x86_64"\nhost = "freebsd-amd64"\n'
            'provenance = ["me@0:here"]\ndefault = "translate"\n[syscalls]\n')
    p = tmp_path / "a.toml"
    p.write_text(head + 'clone = { do = "emulate" }\n'
                 'clone3 = { do = "fail", errno = "ENOSYS" }\nstatx = { do = "fail", errno = "EPERM" }\n'
                 'faccessat2 = { do = "fail", errno = "EINVAL" }\nrseq = { do = "fail", errno = "EINVAL" }\n')
    cs = shim.load(str(p))
    out = {n: replay.replay_event(cs, ev(n, "", ret=0)).div for n in ("clone3", "statx", "faccessat2", "rseq")}
    assert out == {"clone3": replay.DIV_FALLBACK, "statx": replay.DIV_FALLBACK,   # Rust std retries on EPERM
                   "faccessat2": replay.DIV_FAILS, "rseq": replay.DIV_FALLBACK}
    # a fallback whose target the shim also fails does not rescue
    p.write_text(head + 'clone3 = { do = "fail" }\nclone = { do = "fail" }\n')
    cs = shim.load(str(p))
    assert replay.replay_event(cs, ev("clone3", "", ret=5)).div == replay.DIV_FAILS


def test_stub_and_fake_results(tmp_path: Path) -> None:
    p = tmp_path / "s.toml"
    p.write_text('[shim]\nname = "s"\nguest = "linux-x86_64"\nhost = "freebsd-amd64"\n'
                 'provenance = ["me@0:here"]\n[syscalls]\n'
                 'getpid = { do = "stub" }\nmlock = { do = "stub" }\nuname = { do = "fake", note = "fixed" }\n')
    cs = shim.load(str(p))
    r = replay.replay_event(cs, ev("getpid", "", ret=1234))
    assert (r.outcome, r.ret, r.div) == (shim.STUBBED, 0, replay.DIV_RESULT)
    r = replay.replay_event(cs, ev("mlock", "0x1000, 4096", ret=0))
    assert (r.ret, r.div) == (0, replay.DIV_NONE)
    r = replay.replay_event(cs, ev("uname", "{...}", err="EFAULT"))
    assert (r.outcome, r.err, r.div) == (shim.FAKED, 0, replay.DIV_RESULT)
    r = replay.replay_event(cs, ev("uname", "{...}", ret=0))
    assert r.div == replay.DIV_NONE


def test_signals_map_back_through_the_host() -> None:
    cs = shim.load("linuxulator@freebsd-14.3")
    s = cs.guest.signals

    def sig(name: str) -> replay.Result:
        return replay.replay_event(cs, model.Event(kind=model.SIGNAL, file="t", line=1, name=name,
                                                   err=s.value(name)))
    assert sig("SIGINT").div == replay.DIV_NONE
    assert sig("SIGSTKFLT").div == replay.DIV_SIGNAL
    assert sig("SIGPWR").div == replay.DIV_NONE
    rep = replay.replay_events(cs, [model.Event(kind=model.SIGNAL, file="t", line=9, name="SIGSTKFLT",
                                                err=s.value("SIGSTKFLT"))])
    assert "arrives as SIGBUS" in rep.divergences[0].reason


def test_unknown_names_and_foreign_abi_events() -> None:
    cs = shim.load("native", "linux-x86_64")
    events = [model.Event(kind=model.SYSCALL, file="t", line=1, name="frobnicate", nr=None, rec=model.SUCCESS),
              ev("read", "0, ..., 10", ret=10, line=2),
              model.Event(kind=model.SYSCALL, file="t", line=3, name="read", nr=3, rec=model.SUCCESS,
                          abi="linux-i386")]
    for engine in ENGINES:
        rep = replay.replay_events(cs, events, engine)
        rows = {r["name"]: r for r in rep.syscall_rows()}
        assert rows["frobnicate"]["outcome"] == "unknown"
        assert rep.outcomes[shim.UNKNOWN] == 2 and rep.outcomes[shim.TRANSLATED] == 1


# --------------------------------------------------------------------------- flag round trips

def c_results(cs, events):
    """Per-event results of the C core for Python events (through the packer)."""
    return replay.run_batch(cs, events).results


FLAGS = tables.load_abi("linux-x86_64").family("open_flags")
BITS = sorted({n for n, v in FLAGS.members.items()
               if v and FLAGS.member(n).role == "" and n not in ("O_RDONLY", "O_WRONLY", "O_RDWR")})


@given(st.sets(st.sampled_from(BITS)), st.sampled_from(["O_RDONLY", "O_WRONLY", "O_RDWR"]))
def test_identity_round_trip_any_spelling(names: set[str], mode: str) -> None:
    """Through native, any flag set comes out as its own value whether strace
    printed names, hex, or hex with a comment."""
    cs = shim.load("native", "linux-x86_64")
    value = FLAGS.encode(names | {mode})
    texts = ["|".join([mode] + sorted(names)), hex(value), f"{hex(value)} /* {'|'.join(sorted(names))} */"]
    for text in texts:
        r = replay.replay_event(cs, ev("openat", f'AT_FDCWD, "/p", {text}', ret=3))
        assert not r.undecoded and not r.dropped, text
        assert r.hflags[0] == value, text


@given(st.sets(st.sampled_from(BITS)))
def test_name_translation_preserves_supported_flags(names: set[str]) -> None:
    """Linux -> FreeBSD: every flag either maps to the same-named FreeBSD flag (or the
    spec's declared target) or is reported unsupported; nothing is lost silently."""
    cs = shim.load("linuxulator@freebsd-14.3")
    fm = cs.fmaps[cs.progs[cs.guest.by_name["openat"].number][0][1]]
    r = replay.replay_event(cs, ev("openat", 'AT_FDCWD, "/p", ' + "|".join(["O_RDONLY"] + sorted(names)), ret=3))
    assert not r.undecoded
    want_h, want_u = 0, 0
    for n in names:
        _, g, h, ok = fm.members[fm.by_name[n]]
        if ok:
            want_h |= h
        else:
            want_u |= g
    assert r.hflags[0] == want_h and r.unsup[0] == want_u
    assert r.dropped == bool(want_u)
    assert (r.div == replay.DIV_FLAG) == bool(want_u)


def test_cli_events_one_by_one_same_in_both_engines() -> None:
    rows = []
    for eng in ENGINES:
        r = cli("replay", str(LS), "--shim", "linuxulator@freebsd-14.3", "--events", "40", "--json", "--engine", eng)
        assert r.returncode == 0, r.stderr
        rows.append(json.loads(r.stdout)["event_list"])
    assert rows[0] == rows[1] and len(rows[0]) == 40
    by_line = {r["line"]: r for r in rows[0]}
    mmap = by_line[3]
    assert mmap["name"] == "mmap" and mmap["host_call"] == "mmap" and mmap["outcome"] == "translated"
    assert [f["host"] for f in mmap["flags"]] == ["PROT_READ|PROT_WRITE", "MAP_PRIVATE|MAP_ANON"]
    assert by_line[6]["host_call"] == "fstatat"
    assert by_line[4]["result"] == "-1 ENOENT"
    r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--events", "300")
    assert "inotify_init: failed = -1 ENOSYS  [survivable]" in r.stdout
