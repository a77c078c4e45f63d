# SPDX-License-Identifier: MIT
"""shimsim diff: where two shims treat the same trace differently."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIX = Path(__file__).parents[1] / "fixtures"
TAIL = str(FIX / "replay" / "tail_f_inotify.strace")
LS = str(FIX / "replay" / "ls_plain.strace")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True, input=stdin)


def test_json_differences_match_two_replays() -> None:
    d = json.loads(cli("diff", "--shim", "linuxulator@freebsd-14.3", "--shim", "gvisor", TAIL, "--json").stdout)
    a = json.loads(cli("replay", TAIL, "--shim", "linuxulator@freebsd-14.3", "--json").stdout)
    b = json.loads(cli("replay", TAIL, "--shim", "gvisor", "--json").stdout)
    wa = {r["name"]: r["outcome"] for r in a["syscalls"]}
    wb = {r["name"]: r["outcome"] for r in b["syscalls"]}
    rows = {r["name"]: r for r in d["differences"]}
    assert rows["inotify_add_watch"]["a"]["outcome"] == "failed"
    assert rows["inotify_add_watch"]["b"]["outcome"] == "partial"
    for name in wa:
        if wa[name] != wb.get(name):
            assert name in rows
    assert len(rows) + d["same"] == len(set(wa) | set(wb))
    assert d["a"]["verdict"] == a["verdict"] and d["b"]["verdict"] == b["verdict"]
    assert d["a"]["outcomes"] == a["outcomes"]


def test_same_shim_twice_has_no_difference_and_text_says_so() -> None:
    r = cli("diff", "--shim", "native", "--shim", "native", LS, "--fail-on", "differ")
    assert r.returncode == 0
    assert "no difference" in r.stdout
    assert r.stdout.startswith("A native")


def test_text_table_and_fail_on_differ() -> None:
    r = cli("diff", "--shim", "linuxulator@freebsd-14.3", "--shim", "gvisor", TAIL, "--fail-on", "differ")
    assert r.returncode == 1 and "--fail-on differ" in r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("A linuxulator@freebsd-14.3") and "would break at" in lines[0]
    assert lines[1].startswith("B gvisor") and "would run with" in lines[1]
    assert any(ln.startswith("inotify_add_watch") and "failed" in ln and "partial" in ln for ln in lines)


def test_fail_on_under_either_shim() -> None:
    assert cli("diff", "--shim", "native", "--shim", "linuxulator@freebsd-14.3", TAIL, "--fail-on", "fatal").returncode == 1
    assert cli("diff", "--shim", "native", "--shim", "gvisor", LS, "--fail-on", "fatal").returncode == 0


def test_reads_stdin_once() -> None:
    text = Path(TAIL).read_text()
    d = json.loads(cli("diff", "--shim", "linuxulator@freebsd-14.3", "--shim", "gvisor", "-", "--json", stdin=text).stdout)
    assert d["syscall_events"] == 272 and d["differences"]


def test_needs_two_shims_and_matching_abi() -> None:
    r = cli("diff", "--shim", "native", LS)
    assert r.returncode == 2 and "exactly two --shim" in r.stderr
    truss = sorted((FIX / "truss_freebsd").glob("*.log"))[0]
    r = cli("diff", "--shim", "native", "--shim", "linuxulator@freebsd-14.3", str(truss))
    assert r.returncode == 2 and "does not match" in r.stderr and "Traceback" not in r.stderr


def test_engines_agree() -> None:
    out = [json.loads(cli("diff", "--shim", "wsl1", "--shim", "illumos-lx", TAIL, "--json", "--engine", e).stdout)
           for e in ("c", "python")]
    for d in out:
        d.pop("engine")
    assert out[0] == out[1]


GIT = str(Path(__file__).parents[2] / "examples" / "git-commit.strace")


def test_calls_the_program_sees_come_first_and_minor_ones_only_with_all() -> None:
    """examples/git-commit.strace under wsl1 and linuxulator: 40 syscalls are treated
    differently, but in 37 both serve every call (emulated vs translated)."""
    d = json.loads(cli("diff", "--shim", "wsl1", "--shim", "linuxulator", GIT, "--json").stdout)
    kinds = [r["kind"] for r in d["differences"]]
    assert kinds == sorted(kinds, key=("fails", "result", "minor").index)      # fails, then result, then minor
    assert d["kinds"] == {k: kinds.count(k) for k in ("fails", "result", "minor")}
    rows = {r["name"]: r for r in d["differences"]}
    assert rows["prlimit64"]["kind"] == "fails" and rows["prlimit64"]["a"]["outcome"] == "failed"
    assert rows["set_robust_list"]["kind"] == "result"          # stubbed under wsl1: another result
    assert rows["ioctl"]["kind"] == "result"                    # partial under linuxulator: flags dropped
    for r in d["differences"]:
        if r["kind"] == "minor":
            assert set(r["a"]["calls"]) | set(r["b"]["calls"]) <= {"emulated", "translated"}, r
    assert d["kinds"]["minor"] > 30 and d["kinds"]["fails"] + d["kinds"]["result"] <= 5

    text = cli("diff", "--shim", "wsl1", "--shim", "linuxulator", GIT).stdout
    table = [ln.split()[0] for ln in text.splitlines()[7:] if ln.strip()]     # after the header row
    assert text.splitlines()[6].split()[:2] == ["syscall", "calls"]
    seen = [r["name"] for r in d["differences"] if r["kind"] != "minor"]
    assert table == seen                                        # the minor rows are counted, not listed
    assert f"{d['kinds']['minor']} differ only in how they are served" in text and "--all lists them" in text
    full = cli("diff", "--shim", "wsl1", "--shim", "linuxulator", GIT, "--all").stdout
    table = [ln.split()[0] for ln in full.splitlines()[7:] if ln.strip()]
    assert table == [r["name"] for r in d["differences"]]
    assert any(ln.split()[:5] == ["newfstatat", str(rows["newfstatat"]["calls"]), "emulated", "translated", "minor"]
               for ln in full.splitlines())


def test_fail_on_differ_ignores_minor_differences() -> None:
    # native translates every call, vm too: no row at all; gvisor emulates them: minor rows only
    d = json.loads(cli("diff", "--shim", "native", "--shim", "gvisor", LS, "--json").stdout)
    minor_only = all(r["kind"] == "minor" for r in d["differences"])
    r = cli("diff", "--shim", "native", "--shim", "gvisor", LS, "--fail-on", "differ")
    assert r.returncode == (0 if minor_only else 1)
    if minor_only:
        assert "no difference the program can see" in r.stdout
    r = cli("diff", "--shim", "wsl1", "--shim", "linuxulator", GIT, "--fail-on", "differ")
    assert r.returncode == 1 and "--fail-on differ" in r.stderr
