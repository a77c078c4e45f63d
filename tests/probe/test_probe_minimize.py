# SPDX-License-Identifier: MIT
"""probe --minimize (the Loupe experiment) on small real programs, and an
independent check of its answer: every call outside the required set really
can be failed (or, failing that, stubbed) without changing the result.

Needs strace and seccomp (CI has both); skipped with the reason otherwise.
"""
from __future__ import annotations

import json
import shutil

import pytest

from shimsim import cli, tables
from shimsim.probe import minimize, runner
from probekit import unavailable, write_shim


# slow: dozens of real runs per command (2 at a time)
pytestmark = [pytest.mark.skipif(unavailable() is not None, reason=str(unavailable())), pytest.mark.slow]

NO_OPENAT = """\
openat = { do = "fail", errno = "ENOSYS" }
rseq = { do = "fail", errno = "ENOSYS" }
close = { do = "fail", errno = "EBADF" }
"""


@pytest.fixture(scope="module")
def cat_result(tmp_path_factory):
    d = tmp_path_factory.mktemp("min")
    data = d / "hello.txt"
    data.write_text("hello from the probe\n", encoding="utf-8")
    spec = write_shim(d, "no-openat", NO_OPENAT)
    m = minimize.minimize(spec, ["cat", str(data)], timeout=30, compare_output=True,
                          out_dir=str(d / "out"), jobs=2)
    return m, str(data)


def test_required_set_is_a_subset_of_what_cat_calls(cat_result):
    m, _ = cat_result
    out = m.to_json()
    called = set(out["called"])
    required = set(out["required"])
    assert required and required <= called
    assert {"openat", "read", "mmap"} <= required          # cat cannot load libc or read without them
    assert set(out["failable"]) | set(out["stubbable"]) | required | set(out["kept"]) == called
    assert "exit_group" in out["kept"]
    assert "rseq" in out["failable"]                       # glibc tolerates a failed rseq registration


def test_blockers_are_the_shims_failures_that_change_the_result(cat_result):
    m, _ = cat_result
    out = m.to_json()
    assert "openat" in out["required_blockers"]
    assert "rseq" not in out["blockers"]                   # failed by the shim, but harmless
    rows = {r["name"]: r for r in out["syscalls"]}
    # close fails with EBADF under this shim: tried with the shim's own errno too
    assert rows["close"]["shim"]["errno"] == "EBADF" and "trial" in rows["close"]["shim"]
    assert out["combined"]["unchanged"] is True


def test_replay_predictions_are_checked_call_by_call(cat_result):
    m, _ = cat_result
    pr = m.to_json()["prediction"]
    assert pr["fatal"] == ["close", "openat"] == pr["confirmed"]
    assert pr["false_alarms"] == [] and pr["missed"] == []
    rows = {r["name"]: r for r in m.to_json()["syscalls"]}
    assert rows["rseq"]["predicted"] == "survivable" and rows["rseq"]["class"] == "failable"


def test_failing_any_call_outside_the_required_set_leaves_the_result_unchanged(cat_result, tmp_path):
    """Re-run every verdict independently of the minimiser's own trials."""
    m, data = cat_result
    abi = tables.load_abi("linux-x86_64")
    enosys = abi.errno.members["ENOSYS"]
    execve = abi.syscall("execve").number
    exe = shutil.which("cat")

    def result(pairs):
        r = runner.run("check", tmp_path, exe, ["cat", data], pairs, execve, 30, None)
        return (r.status(), r.output())

    base = result([])
    assert base == ("exit 0", b"hello from the probe\n")
    for v in m.verdicts:
        if v.kept:
            continue
        nr = abi.syscall(v.name).number
        failed = result([[nr, enosys]])
        if v.klass == "failable":
            assert failed == base, v.name
        else:
            assert failed != base, v.name
            stubbed = result([[nr, 0]])
            assert (stubbed == base) == (v.klass == "stubbable"), v.name


def test_minimize_true_via_the_cli(tmp_path, capsys):
    rc = cli.main(["probe", "--minimize", "--shim", "native", "--json", "--recordings", str(tmp_path / "o"),
                   "--", "/bin/true"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert set(out["required"]) <= set(out["called"])
    assert out["blockers"] == []                           # native fails nothing
    assert out["trials"] == 2 * (len(out["called"]) - len(out["kept"])) + 2 + (1 if out["combined"] else 0)


def test_repeat_runs_harmless_trials_again(tmp_path, capsys):
    rc = cli.main(["probe", "--minimize", "--repeat", "2", "--shim", "native", "--json",
                   "--recordings", str(tmp_path / "o"), "--", "/bin/true"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    tried = len(out["called"]) - len(out["kept"])
    harmless = sum((r["fail"] or {}).get("unchanged", False) + (r["stub"] or {}).get("unchanged", False)
                   for r in out["syscalls"])
    # every harmless trial ran twice, every harmful one stopped at its first run
    assert out["trials"] == 2 + (2 * tried + harmless) + 2 * (1 if out["combined"] else 0)


def test_minimize_text_output(tmp_path, capsys):
    rc = cli.main(["probe", "--minimize", "--shim", "native", "--recordings", str(tmp_path / "o"), "--", "/bin/true"])
    text = capsys.readouterr().out
    assert rc == 0 and "required (" in text and "blockers under native: none" in text


def test_unreproducible_command_is_refused(tmp_path, capsys):
    rc = cli.main(["probe", "--minimize", "--compare-output", "--shim", "native", "--recordings", str(tmp_path / "o"),
                   "--", "sh", "-c", "echo $$"])
    err = capsys.readouterr().err
    assert rc == 2 and "not reproducible" in err


def test_minimize_options_are_checked(capsys):
    assert cli.main(["probe", "--minimize", "--jobs", "0", "--shim", "native", "--", "/bin/true"]) == 2
    assert "--jobs" in capsys.readouterr().err
    assert cli.main(["probe", "--minimize", "--repeat", "0", "--shim", "native", "--", "/bin/true"]) == 2
    assert "--repeat" in capsys.readouterr().err
    assert cli.main(["probe", "--timeout", "0", "--shim", "native", "--", "/bin/true"]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_harmless_treatments_that_conflict_are_named(tmp_path):
    """sort: each non-required call is harmless alone; together they may not be.
    Whatever the machine's sort does, the treatments left after removing the
    conflicts hold together in one run."""
    data = tmp_path / "lines.txt"
    data.write_text("b\na\nc\n", encoding="utf-8")
    m = minimize.minimize("native", ["sort", str(data)], timeout=30, compare_output=True,
                          out_dir=str(tmp_path / "out"))
    out = m.to_json()["combined"]
    if out["unchanged"]:
        assert out["conflicts"] is None
        return
    assert out["conflicts"]
    abi = tables.load_abi("linux-x86_64")
    enosys = abi.errno.members["ENOSYS"]
    pairs = [[abi.syscall(v.name).number, enosys if v.klass == "failable" else 0] for v in m.verdicts
             if v.klass in ("failable", "stubbable") and v.name not in out["conflicts"]]
    r = runner.run("joint", tmp_path, shutil.which("sort"), ["sort", str(data)], pairs,
                   abi.syscall("execve").number, 30, None)
    assert (r.status(), r.output()) == ("exit 0", b"a\nb\nc\n")
