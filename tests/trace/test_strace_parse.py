# SPDX-License-Identifier: MIT
"""What the strace parser makes of real strace output: fixtures from the
shared corpus (tests/fixtures/strace, see SOURCES.csv there) and traces made
by running the real strace in the test when it is installed."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from shimsim import model, trace
from shimsim.errors import InputError

FIX = Path(__file__).parents[1] / "fixtures" / "strace"
GEN = sorted(p for p in (FIX / "gen").rglob("*") if p.is_file())
PUB = sorted((FIX / "pub").iterdir())
ENGINES = ("c", "python")


def g(name: str) -> str:
    p = FIX / "gen" / name
    return str(p if p.exists() else p.with_name(p.name + ".gz"))


def events(path: str | list[str], engine: str = "c", **kw) -> tuple[list[model.Event], trace.Trace]:
    t = trace.open(path, engine=engine, **kw)
    return list(t.events()), t


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", GEN, ids=lambda p: str(p.relative_to(FIX)))
def test_generated_fixture_strict(path: Path, engine: str) -> None:
    """Every line of every generated strace file is understood."""
    evs, t = events(str(path), engine, strict=True)
    assert t.stats.unparsed_count == 0
    assert t.format in ("strace", "strace-summary")
    assert t.stats.lines > 0
    if t.format == "strace":
        assert evs and all(e.file == str(path) and e.line >= 1 for e in evs)


@pytest.mark.parametrize("path", PUB, ids=lambda p: p.name)
def test_public_fixture_lenient(path: Path) -> None:
    """Published excerpts (shell prompts, program output, -d noise) parse in
    lenient mode; what is not understood is counted with file:line: reason."""
    evs, t = events(str(path))
    assert evs
    st = t.stats
    assert st.unparsed_count == len(st.unparsed_first) or st.unparsed_count > len(st.unparsed_first)
    for where in st.unparsed_lines:
        assert where.startswith(f"{path}:")


def test_public_prompt_fails_strict() -> None:
    with pytest.raises(InputError) as ei:
        events(str(FIX / "pub" / "gh_siege4_attach_erestartsys.log"), strict=True)
    assert ei.value.line == 1 and "expected a syscall line" in str(ei.value)


@pytest.mark.parametrize("engine", ENGINES)
def test_unfinished_resumed_merged(engine: str) -> None:
    evs, t = events(g("pipeline_f.strace"), engine)
    merged = [e for e in evs if e.flags & model.F_MERGED]
    assert merged
    for e in merged:
        assert e.kind == model.SYSCALL and "<unfinished" not in e.args and "resumed>" not in e.args
    # the old "<... select resumed> )" spacing and the resumed-then-unfinished end
    evs, _ = events(str(FIX / "pub" / "gh_strace152_old_resumed_format.log"), engine)
    sel = [e for e in evs if e.name == "select"]
    assert sel and sel[0].args == "0, NULL, NULL, NULL, {0, 198904}" and sel[0].ret == 0
    assert sel[0].line == 1 and sel[0].flags & model.F_MERGED
    evs, _ = events(g("exec_from_thread_superseded_f.strace"), engine)
    cn = [e for e in evs if e.name == "clock_nanosleep" and e.rec == model.UNKNOWN]
    assert cn and all(e.flags & model.F_MERGED for e in cn)
    assert any(e.kind == model.SUPERSEDED and e.ret == 15244 for e in evs)


@pytest.mark.parametrize("engine", ENGINES)
def test_outcomes_and_numbers(engine: str) -> None:
    evs, _ = events(g("inject_fault.strace"), engine)
    inj = [e for e in evs if e.rec == model.INJECTED]
    assert {e.name for e in inj} == {"openat", "read"}
    assert any(e.errname == "ENOENT" and e.err == 2 and e.ret == -1 for e in inj)
    evs, _ = events(g("c_sigdemo_restart_tt.strace"), engine)
    rs = [e for e in evs if e.rec == model.RESTARTED]
    assert {e.errname for e in rs} >= {"ERESTARTSYS", "ERESTART_RESTARTBLOCK"}
    assert all(e.ret is None for e in rs)
    assert any(e.name == "restart_syscall" for e in evs)
    assert any(e.kind == model.STOPPED and e.name == "SIGSTOP" and e.err == 19 for e in evs)
    assert any(e.kind == model.KILLED and e.name == "SIGTERM" and e.err == 15 for e in evs)
    evs, _ = events(g("ls_plain.strace"), engine)
    assert evs[0].name == "execve" and evs[0].nr == 59 and evs[0].rec == model.SUCCESS
    openat = next(e for e in evs if e.name == "openat" and e.rec == model.SUCCESS)
    assert openat.nr == 257 and openat.ret == 3
    assert evs[-1].kind == model.EXIT and evs[-1].ret == 0
    assert any(e.name == "exit_group" and e.rec == model.UNKNOWN and e.ret is None for e in evs)


@pytest.mark.parametrize("engine", ENGINES)
def test_timestamps_durations_decorations(engine: str) -> None:
    evs, _ = events(g("ls_ttt_T.strace"), engine)
    assert all(e.ts is not None and e.ts > 1.7e9 for e in evs if e.kind == model.SYSCALL)
    assert all(e.dur is not None for e in evs if e.rec == model.SUCCESS and e.name != "execve")
    evs, _ = events(g("ls_t.strace"), engine)
    assert evs[0].ts is not None and float(evs[0].ts).is_integer()
    evs, _ = events(g("unix_ns_timestamps_x.strace"), engine)
    assert evs[0].ts == pytest.approx(1795808663.490339973)
    evs, _ = events(g("ls_y.strace"), engine)
    fd = [e for e in evs if e.name == "openat" and e.rec == model.SUCCESS]
    assert fd and all(e.ret == 3 for e in fd)
    evs, _ = events(g("python_decode_fds_all.strace"), engine)
    assert any(e.name == "pipe2" and "pipe:[" in e.args for e in evs)
    for name in ("ls_i.strace", "ls_n_xx.strace", "ls_r.strace", "ls_k_stack.strace"):
        evs, t = events(g(name), engine)
        assert evs[0].name == "execve", name
    assert t.stats.skipped["stack frame (-k)"] > 100


@pytest.mark.parametrize("engine", ENGINES)
def test_personality_switches_abi(engine: str) -> None:
    evs, t = events(g("i386_mixed_personality.strace"), engine)
    pers = [e for e in evs if e.kind == model.PERSONALITY]
    assert [e.name for e in pers] == ["32 bit", "32 bit", "64 bit", "x32", "64 bit"]
    assert [e.abi for e in pers] == ["linux-i386", "linux-i386", "linux-x86_64", "linux-x32", "linux-x86_64"]
    p32 = pers[0].pid
    w = next(e for e in evs if e.pid == p32 and e.name == "write" and e.line > pers[0].line)
    assert w.abi == "linux-i386" and w.nr == 4
    # the spliced "strace: Process N attached" messages are joined away
    vf = [e for e in evs if e.name == "vfork"]
    assert len(vf) == 3 and all(e.flags & model.F_MERGED and e.ret > 0 for e in vf)
    assert t.stats.skipped["continuation line"] == 3
    # a 32-bit trace from an old strace: personality note with a "strace: " prefix
    evs, _ = events(str(FIX / "pub" / "leviathan2_i386_old_personality_msg.log"), engine)
    assert any(e.name == "mmap2" and e.abi == "linux-i386" and e.nr == 192 for e in evs)


@pytest.mark.parametrize("engine", ENGINES)
def test_summary_tables(engine: str) -> None:
    _, t = events(g("ls_c_summary.strace"), engine)
    assert t.format == "strace-summary" and t.stats.syscalls["openat"] == [44, 19]
    _, t = events(g("summary_f_c_S_calls.strace"), engine)
    assert t.format == "strace-summary"
    assert t.stats.syscalls["openat"] == [135, 58] and t.stats.syscalls["mmap"] == [108, 0]
    _, t = events(g("ls_C_w_summary.strace"), engine)
    assert t.format == "strace" and t.stats.summary is not None
    assert t.stats.summary_mismatches == []
    assert t.stats.syscalls == t.stats.summary


@pytest.mark.parametrize("engine", ENGINES)
def test_errno_name_with_a_digit(tmp_path: Path, engine: str) -> None:
    """E2BIG: the one errno name whose second character is a digit."""
    p = tmp_path / "e2big.strace"
    p.write_text('execve("/bin/true", ["true", "x"...], 0x7ffd /* 9999 vars */) = -1 E2BIG (Argument list too long)\n')
    evs, t = events(str(p), engine, strict=True)
    assert evs[0].errname == "E2BIG" and evs[0].err == 7 and evs[0].rec == model.ERROR
    assert t.stats.syscalls == {"execve": [1, 1]}


@pytest.mark.parametrize("engine", ENGINES)
def test_truncation_raw_and_hex(engine: str) -> None:
    evs, _ = events(g("ls_plain.strace"), engine)
    rd = [e for e in evs if e.name == "read" and '"...' in e.args]
    assert rd and all(e.flags & model.F_TRUNCATED for e in rd)
    assert not any(e.flags & model.F_TRUNCATED for e in evs if e.name == "close")
    evs, _ = events(g("python_raw_all.strace"), engine)
    op = next(e for e in evs if e.name == "openat")
    assert op.args.startswith("0xffffff9c") and op.nr == 257 and op.ret == 3
    evs, _ = events(g("ls_n_xx.strace"), engine)
    assert evs[0].args.startswith('"\\x2f\\x75') and evs[0].nr == 59


def test_ff_set_from_prefix() -> None:
    evs, t = events(str(FIX / "gen" / "pipeline_ff" / "pipe"))
    assert len(t.paths) == 4 and len({e.pid for e in evs}) == 4
    assert t.stats.pids == {14984, 14985, 14986, 14987}


def test_stderr_pid_prefix_and_first_process() -> None:
    evs, _ = events(g("pipeline_f_stderr.strace"))
    assert evs[0].pid is None  # the first process has no [pid N] until a second exists
    assert {e.pid for e in evs if e.pid} >= {14992, 14993, 14994}


def test_attach_detach() -> None:
    evs, _ = events(g("http_server_attach_p.strace"))
    assert evs[0].name == "restart_syscall"
    assert evs[-1].kind == model.DETACHED and evs[-1].name == "poll"
    evs, t = events(str(FIX / "pub" / "gh_carbon306_attach_detach_inline.log"))
    assert evs[-1].kind == model.DETACHED and evs[-1].name == "futex"


# ------------------------------------------------------------- real strace

needs_strace = pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed")


def _env() -> dict[str, str]:
    """The environment for traced jobs, without the sanitizer build's preload."""
    return {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def _strace(tmp_path: Path, opts: list[str], script: str) -> Path:
    out = tmp_path / "run.strace"
    r = subprocess.run(["strace", *opts, "-o", str(out), "sh", "-c", script], capture_output=True,
                       timeout=300, cwd=tmp_path, env=_env())
    if r.returncode != 0 and not out.exists() and not list(tmp_path.glob("run.strace.*")):
        pytest.skip(f"strace cannot trace here: {r.stderr.decode(errors='replace')[:200]}")
    return out


JOB = ("ls -la /usr /nonexistent >/dev/null 2>&1; cat /etc/hostname /etc/passwd | sort | head -3 >/dev/null;"
       " (sleep 0.05 &) ; python3 -c 'import threading,os; t=[threading.Thread(target=os.listdir, args=(\"/\",))"
       " for _ in range(4)]; [x.start() for x in t]; [x.join() for x in t]'; exit 3")


@needs_strace
@pytest.mark.slow
@pytest.mark.parametrize("opts", [
    ["-f", "-tt", "-T", "-y"], ["-f", "-ttt", "-yy", "-s", "200", "-v"], ["-f", "-r", "-i", "-n"],
    ["-f", "-X", "verbose", "-e", "raw=futex"], ["-f", "-x", "-k"], ["-f", "-Z"], ["-f", "-z"],
    ["-f", "-Y", "-tt"], ["-ff", "-ttt"], ["-f", "--timestamps=unix,ns", "-e", "trace=%process,%file"],
], ids=lambda o: "".join(o))
@pytest.mark.parametrize("engine", ENGINES)
def test_real_strace_strict(tmp_path: Path, opts: list[str], engine: str) -> None:
    out = _strace(tmp_path, opts, JOB)
    if "-ff" in opts:  # one file per pid: run.strace.PID, given as the prefix
        assert not out.exists() and len(list(tmp_path.glob("run.strace.*"))) >= 3
    evs, t = events(str(out), engine, strict=True)
    assert t.stats.unparsed_count == 0
    assert sum(1 for e in evs if e.kind == model.EXIT) >= 3
    assert any(e.kind == model.EXIT and e.ret == 3 for e in evs)


@needs_strace
@pytest.mark.parametrize("engine", ENGINES)
def test_real_strace_C_summary_matches(tmp_path: Path, engine: str) -> None:
    """strace -f -C: our per-syscall calls and errors equal strace's own table."""
    out = _strace(tmp_path, ["-f", "-C", "-tt"], JOB)
    _, t = events(str(out), engine, strict=True)
    assert t.stats.summary, "no summary table found"
    assert t.stats.summary_mismatches == []
    assert t.stats.syscalls == t.stats.summary


@needs_strace
def test_real_strace_stderr_capture(tmp_path: Path) -> None:
    """strace -f to stderr: [pid N] prefixes and spliced 'attached' messages."""
    out = tmp_path / "err.strace"
    with out.open("wb") as f:
        subprocess.run(["strace", "-f", "sh", "-c", "ls / | sort | head -1 >/dev/null"], stderr=f,
                       stdout=subprocess.DEVNULL, timeout=300, env=_env())
    evs, t = events(str(out), strict=True)
    assert t.stats.skipped["strace message"] >= 1 or t.stats.skipped["continuation line"] >= 1
    assert len(t.stats.pids) >= 3
