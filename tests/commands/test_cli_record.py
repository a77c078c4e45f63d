# SPDX-License-Identifier: MIT
"""shimsim record: a real program under strace, replayed and reported in one step."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True, env=env)


def test_record_keeps_the_trace_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "ls.strace"
    r = cli("record", "--shim", "linuxulator", "-o", str(out), "--", "ls", "/")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("bin") or "recorded: ls /" in r.stdout   # ls's own output comes first
    assert "recorded: ls / (exit status 0)" in r.stdout and f"trace kept in {out}" in r.stdout
    assert "would " in r.stdout and "execve" in r.stdout
    text = out.read_text()
    # the options the parser makes use of: -f pids, -tt times, -T durations, -y fd paths
    first = text.splitlines()[0]
    assert first.split()[0].isdigit() and ":" in first.split()[1] and first.rstrip().endswith(">")
    assert "</" in text  # -y: fd paths such as 3</usr/lib/...>
    # the recording replays the same way later
    again = json.loads(cli("replay", str(out), "--shim", "linuxulator", "--json").stdout)
    rec = json.loads(cli("record", "--shim", "linuxulator", "--json", "-o", str(tmp_path / "2.strace"),
                         "--", "ls", "/").stdout)
    assert rec["recording"]["command"] == ["ls", "/"] and rec["recording"]["exit_status"] == 0
    assert set(rec["syscalls"][0]) == set(again["syscalls"][0])


def test_record_json_stdout_is_only_json() -> None:
    r = cli("record", "--shim", "gvisor", "--json", "--", "echo", "hello from the child")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert "hello from the child" in r.stderr and d["recording"]["trace"] is None
    assert d["verdict"]["status"] in ("runs", "runs-emulated", "breaks")


def test_record_reports_the_commands_exit_status() -> None:
    r = cli("record", "--shim", "native", "--json", "--", "sh", "-c", "exit 3")
    assert r.returncode == 0
    assert json.loads(r.stdout)["recording"]["exit_status"] == 3


def test_record_fail_on_and_html(tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    r = cli("record", "--shim", "gvisor", "--html", str(page), "--fail-on", "partial", "--", "true")
    assert r.returncode == 1 and "--fail-on partial" in r.stderr
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_record_command_not_found() -> None:
    r = cli("record", "--shim", "gvisor", "--", "no-such-command-xyz")
    assert r.returncode == 2 and r.stderr.strip() == "shimsim: error: command not found: no-such-command-xyz"


def test_record_without_command() -> None:
    r = cli("record", "--shim", "gvisor")
    assert r.returncode == 2 and "no command given" in r.stderr


def test_record_strace_missing(tmp_path: Path) -> None:
    env = dict(os.environ, PATH=str(tmp_path))          # neither strace nor anything else on PATH
    r = cli("record", "--shim", "gvisor", "--", sys.executable, "-c", "pass", env=env)
    assert r.returncode == 2 and "strace not found" in r.stderr and "Traceback" not in r.stderr


def test_record_bad_shim_fails_before_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = cli("record", "--shim", "linuxulater", "--", "touch", str(marker))
    assert r.returncode == 2 and "linuxulator" in r.stderr and not marker.exists()


def test_record_unwritable_output_fails_before_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = cli("record", "--shim", "gvisor", "-o", str(tmp_path / "no" / "x.strace"), "--", "touch", str(marker))
    assert r.returncode == 2 and "no such directory" in r.stderr and not marker.exists()
