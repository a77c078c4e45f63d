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
