# SPDX-License-Identifier: MIT
"""shimsim probe on real programs: seccomp gives them the shim's failures and
the prediction from the replay is checked against what happens.

These tests run real commands under strace and seccomp (CI has both); they
are skipped, with the reason, on a machine without them.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from shimsim import cli, model, tables
from shimsim.probe import _seccomp, check, runner
from shimsim.probe import plan as _plan
from shimsim.probe import recording as _rec
from probekit import unavailable, write_shim

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))

PY = sys.executable
EXECVE = 59   # linux-x86_64 execve (checked against the table below)
def line_of(path: str, line: int) -> str:
    return Path(path).read_text(encoding="utf-8").splitlines()[line - 1]


@pytest.fixture
def datafile(tmp_path: Path) -> str:
    p = tmp_path / "hello.txt"
    p.write_text("hello from the probe\n", encoding="utf-8")
    return str(p)


# --------------------------------------------------------------------------- the mechanism

def test_errno_zero_returns_zero_without_running_the_call(tmp_path):
    """SCMP_ACT_ERRNO(0) is a stub: getppid returns 0, not the parent's pid."""
    nr = tables.load_abi("linux-x86_64").syscall("getppid").number
    code = "import os; print(os.getppid())"
    plain = runner.run("plain", tmp_path, PY, [PY, "-c", code], [], EXECVE, 60, None)
    stub = runner.run("stub", tmp_path, PY, [PY, "-c", code], [[nr, 0]], EXECVE, 60, None)
    assert int(plain.output()) > 1
    assert stub.output() == b"0\n" and stub.status() == "exit 0"


def test_filter_binds_the_command_with_no_new_privs_and_never_shimsim(tmp_path):
    code = "print(''.join(l for l in open('/proc/self/status') if l.startswith(('Seccomp:', 'NoNewPrivs:'))))"
    nr = tables.load_abi("linux-x86_64").syscall("getppid").number
    r = runner.run("t", tmp_path, PY, [PY, "-c", code], [[nr, 0]], EXECVE, 60, None)
    out = r.output().decode()
    assert "Seccomp:\t2" in out and "NoNewPrivs:\t1" in out
    status = Path("/proc/self/status").read_text()
    assert "Seccomp:\t0" in status          # this process (shimsim) carries no filter


def test_table_numbers_agree_with_libseccomp():
    abi = tables.load_abi("linux-x86_64")
    known = [s.name for s in abi.syscalls if _seccomp.resolve_name(s.name) is not None]
    assert len(known) > 300
    assert abi.syscall("execve").number == EXECVE
    _plan.check_numbers(abi, known)      # raises on the first disagreement


def test_plan_fails_stubs_and_keeps_exit(tmp_path):
    spec = write_shim(tmp_path, "mix", 'openat = { do = "fail", errno = "EACCES" }\n'
                                       'getppid = { do = "stub" }\n'
                                       'exit_group = { do = "fail" }\n')
    cs = _plan.load_shim(spec, "linux-x86_64")
    p = _plan.plan_for(cs)
    by = {r.name: r for r in p.rules}
    assert by["openat"].errno == 13 and by["getppid"].errno == 0
    assert "exit_group" not in by and "exit_group" in p.kept


def test_plan_fails_only_the_calls_that_carry_a_rejected_flag(tmp_path):
    spec = write_shim(tmp_path, "rej", 'statx = { do = "translate", reject = { AT_NO_AUTOMOUNT = "EINVAL", '
                                       'AT_RECURSIVE = "EPERM" } }\n')
    p = _plan.plan_for(_plan.load_shim(spec, "linux-x86_64"))
    rej = sorted((r.arg, r.mask, r.errno, r.outcome) for r in p.rules if r.name == "statx")
    assert rej == [(2, 0x800, 22, "rejected"), (2, 0x8000, 1, "rejected")]
    assert [332, 22, 2, 0x800] in p.pairs()          # [nr, errno, argument, mask] for the child


# --------------------------------------------------------------------------- predictions vs reality

def test_a_rejected_flag_breaks_ls_l_as_predicted_and_spares_cat(tmp_path, datafile):
    """coreutils ls -l passes AT_NO_AUTOMOUNT to statx: a layer that rejects it (gVisor 20221219's
    Statx) fails those calls, and the seccomp filter fails exactly those (argument mask)."""
    spec = write_shim(tmp_path, "rej", 'statx = { do = "translate", reject = { AT_NO_AUTOMOUNT = "EINVAL" } }\n')
    r = check.probe(spec, ["ls", "-l", datafile], compare_output=True, out_dir=str(tmp_path / "ls"))
    assert r.predicted == "breaks" and r.observed == "breaks" and r.agree
    part = r.parting()
    assert part is not None and part.syscall == "statx"
    assert "AT_NO_AUTOMOUNT" in line_of(part.filtered.file, part.filtered.line)
    assert "EINVAL" in line_of(part.filtered.file, part.filtered.line)
    ff = r.report.first_fatal
    assert ff.syscall == "statx" and "AT_NO_AUTOMOUNT" in ff.reason and "EINVAL" in ff.reason
    assert r.parting_as_predicted() is True
    c = check.probe(spec, ["cat", datafile], compare_output=True, out_dir=str(tmp_path / "cat"))
    assert c.predicted == "runs" and c.observed == "runs" and c.agree



def test_failing_openat_breaks_cat_as_predicted(tmp_path, datafile):
    spec = write_shim(tmp_path, "no-openat", 'openat = { do = "fail", errno = "ENOSYS" }\n')
    r = check.probe(spec, ["cat", datafile], timeout=60, compare_output=True, out_dir=str(tmp_path / "out"))
    assert r.predicted == "breaks" and r.observed == "breaks" and r.agree
    assert r.status("normal") == "exit 0" and r.status("filtered") != "exit 0"
    part = r.parting()
    assert part is not None and part.syscall == "openat"
    assert "openat(" in line_of(part.normal.file, part.normal.line)
    assert "ENOSYS" in line_of(part.filtered.file, part.filtered.line)
    # the prediction's first fatal divergence is the very call where reality parted
    ff = r.report.first_fatal
    assert (ff.file, ff.line, ff.syscall) == (part.normal.file, part.normal.line, "openat")
    assert r.parting_as_predicted() is True


@pytest.mark.parametrize("engine", ["c", "python"])
def test_prediction_is_the_same_with_both_engines(tmp_path, datafile, engine):
    spec = write_shim(tmp_path, "no-read", 'read = { do = "fail", errno = "EIO" }\n')
    r = check.probe(spec, ["cat", datafile], out_dir=str(tmp_path / "out"), engine=engine)
    assert r.report.engine == engine
    assert r.predicted == "breaks" and r.observed == "breaks" and r.agree
    assert r.report.first_fatal.syscall == "read"


def test_clone3_failing_survives_through_glibc_clone_fallback(tmp_path):
    """glibc 2.34+ __clone_internal retries with clone when clone3 says ENOSYS;
    a Python thread is created through it."""
    spec = write_shim(tmp_path, "no-clone3", 'clone3 = { do = "fail", errno = "ENOSYS" }\n')
    code = "import threading; t = threading.Thread(target=print, args=('in thread',)); t.start(); t.join()"
    r = check.probe(spec, [PY, "-c", code], compare_output=True, out_dir=str(tmp_path / "out"))
    assert r.report.div_counts.get(2, 0) >= 1          # DIV_FALLBACK: survivable
    assert r.report.first_fatal is None
    assert r.predicted == "runs" and r.observed == "runs" and r.agree
    assert r.filtered.output() == b"in thread\n"
    part = r.parting()
    assert part is not None and part.syscall == "clone3"
    assert "clone3(" in line_of(part.filtered.file, part.filtered.line)
    assert r.parting_as_predicted() is True          # at the survivable divergence
    # the fallback glibc really took: a clone() right after the failed clone3
    after = [ev for ev in r.rec_filtered.events if ev.line > part.filtered.line
             and ev.pid == part.filtered.pid and ev.kind == model.SYSCALL]
    assert after[0].name == "clone" and after[0].rec == model.SUCCESS


def test_rseq_failing_is_tolerated_as_predicted(tmp_path, datafile):
    spec = write_shim(tmp_path, "no-rseq", 'rseq = { do = "fail", errno = "ENOSYS" }\n')
    r = check.probe(spec, ["cat", datafile], compare_output=True, out_dir=str(tmp_path / "out"))
    assert r.predicted == "runs" and r.observed == "runs" and r.agree
    assert r.report.div_counts.get(2, 0) == 1
    assert r.parting().syscall == "rseq"


@pytest.mark.slow  # waits for the timeout
def test_a_stub_that_loops_the_program_is_cut_by_the_timeout(tmp_path):
    """getppid stubbed to 0: the program waits for a parent forever; the replay calls
    a stub a non-fatal divergence, so prediction and reality disagree, and the
    process group is killed at the timeout."""
    spec = write_shim(tmp_path, "stub-getppid", 'getppid = { do = "stub" }\n')
    marker = "shimsim-probe-timeout-marker"
    code = f"import os, time\n# {marker}\nwhile os.getppid() == 0: time.sleep(0.05)\n"
    r = check.probe(spec, [PY, "-c", code], timeout=3, out_dir=str(tmp_path / "out"))
    assert r.filtered.timed_out and r.status("filtered") == "timeout"
    assert r.observed == "breaks" and r.predicted == "runs" and not r.agree
    left = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, marker)]
    assert left == []


def _cmdline_has(pid: str, marker: str) -> bool:
    try:
        return marker.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_killed_by_signal_is_read_from_the_recording(tmp_path):
    r = check.probe("native", ["sh", "-c", "kill -TERM $$"], out_dir=str(tmp_path / "out"))
    assert r.status("normal") == "killed by SIGTERM" == r.status("filtered")
    assert r.observed == "runs" and r.agree       # same fate both times


def test_recording_is_cut_at_the_command_execve(tmp_path, datafile):
    r = check.probe("native", ["cat", datafile], out_dir=str(tmp_path / "out"))
    start = r.rec_normal.start
    assert start.name == "execve" and "/cat" in start.args
    assert all(ev.line > start.line for ev in r.rec_normal.events)
    assert not any("filter.json" in (ev.args or "") for ev in r.rec_normal.events)
    assert r.parting() is None


# --------------------------------------------------------------------------- the command

def test_cli_json_is_one_object(tmp_path, capsys, datafile):
    rc = cli.main(["probe", "--shim", "native", "--json", "--compare-output",
                   "--recordings", str(tmp_path / "o"), "--", "cat", datafile])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["predicted"] == "runs" and out["observed"] == "runs" and out["agree"] is True
    assert out["parted_at"] is None and out["parting_as_predicted"] is True
    assert {"predicted", "observed", "agree", "parted_at", "prediction", "reality", "filter"} <= set(out)


def test_cli_text_and_fail_on_disagree(tmp_path, capsys, datafile):
    spec = write_shim(tmp_path, "no-openat", 'openat = { do = "fail" }\n')
    rc = cli.main(["probe", "--shim", spec, "--fail-on", "disagree", "--recordings", str(tmp_path / "o"),
                   "--", "cat", datafile])
    text = capsys.readouterr().out
    assert rc == 0
    assert "predicted: breaks" in text and "observed:  breaks" in text and "agree:     yes" in text
    assert "parted at: openat" in text and "ENOSYS" in text


def test_cli_fail_on_disagree_exits_1_when_reality_differs(tmp_path, capsys):
    """A stubbed getppid is a non-fatal divergence to the replay, but this program
    checks it: prediction 'runs', reality 'breaks'."""
    spec = write_shim(tmp_path, "stub-getppid", 'getppid = { do = "stub" }\n')
    rc = cli.main(["probe", "--shim", spec, "--json", "--fail-on", "disagree", "--recordings", str(tmp_path / "o"),
                   "--", PY, "-c", "import os, sys; sys.exit(os.getppid() == 0)"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert out["predicted"] == "runs" and out["observed"] == "breaks" and out["agree"] is False
    assert out["parted_at"]["syscall"] == "getppid"
    assert out["reality"]["filtered"]["status"] == "exit 1"


def test_missing_command_is_a_one_line_error(capsys):
    rc = cli.main(["probe", "--shim", "native", "--", "no-such-command-shimsim-xyz"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.strip() == "shimsim: error: command not found: no-such-command-shimsim-xyz (not in PATH)"
    assert Path("/proc/self/status").read_text().count("Seccomp:\t0") == 1
    with open(__file__, encoding="utf-8") as f:     # shimsim can still open files
        assert f.readline().startswith("# SPDX")


def test_no_command_is_a_usage_error(capsys):
    assert cli.main(["probe", "--shim", "native"]) == 2
    assert "no command given" in capsys.readouterr().err


def test_missing_strace_is_a_clear_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    rc = cli.main(["probe", "--shim", "native", "--", "/bin/true"])
    assert rc == 2 and "strace is not installed" in capsys.readouterr().err


def test_missing_libseccomp_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setattr(_seccomp, "LIBNAME", "libshimsim-no-such-seccomp.so.2")
    monkeypatch.setattr(_seccomp, "_LIB", None)
    rc = cli.main(["probe", "--shim", "native", "--", "/bin/true"])
    assert rc == 2 and "seccomp is unavailable" in capsys.readouterr().err


def test_shim_for_another_guest_is_refused(capsys):
    rc = cli.main(["probe", "--shim", "linuxulator-arm64", "--", "/bin/true"])
    err = capsys.readouterr().err
    assert rc == 2 and "models guest linux-aarch64" in err and "linux-x86_64" in err


def test_recording_without_the_command_exec_is_an_error(tmp_path):
    p = tmp_path / "r.strace"
    p.write_text('100 execve("/usr/bin/python3", ["python3"], 0x7ffd /* 3 vars */) = 0\n'
                 '100 exit_group(125) = ?\n100 +++ exited with 125 +++\n', encoding="utf-8")
    with pytest.raises(Exception, match="never executed"):
        _rec.load(p, "linux-x86_64")


def test_failing_execve_spares_only_the_wrappers_own_exec(tmp_path):
    """The shim fails execve: the command itself still starts (the filter spares
    the wrapper's exec by its path buffer), but the command's own execs fail."""
    spec = write_shim(tmp_path, "no-execve", 'execve = { do = "fail", errno = "EACCES" }\n')
    r = check.probe(spec, ["sh", "-c", "/bin/true && echo after"], compare_output=True,
                    out_dir=str(tmp_path / "out"))
    assert r.rec_filtered.start.name == "execve"          # sh started under the filter
    assert r.normal.output() == b"after\n" and r.filtered.output() == b""
    assert r.predicted == "breaks" and r.observed == "breaks" and r.agree
    part = r.parting()
    assert part.syscall == "execve" and "EACCES" in line_of(part.filtered.file, part.filtered.line)
    assert part.process == (0,)                           # in sh's child, not in sh


def test_output_that_changes_by_itself_is_not_counted_as_breaking(tmp_path):
    r = check.probe("native", ["sh", "-c", "echo $$"], compare_output=True, out_dir=str(tmp_path / "out"))
    assert r.output_reproducible() is False and r.output_differs()
    assert r.observed == "runs" and r.agree
    assert r.to_json()["reality"]["stdout_reproducible"] is False


def test_wrapper_finds_its_binding_under_pythonsafepath(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONSAFEPATH", "1")
    nr = tables.load_abi("linux-x86_64").syscall("getppid").number
    r = runner.run("safe", tmp_path, PY, [PY, "-c", "import os; print(os.getppid())"], [[nr, 0]], EXECVE, 60, None)
    assert r.output() == b"0\n"
