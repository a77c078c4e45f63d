# SPDX-License-Identifier: MIT
"""``shimsim parse``: text summary, --json, --events, --strict, engines."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from shimsim import cli

FIX = Path(__file__).parents[1] / "fixtures" / "strace"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("engine", ["c", "python"])
def test_json_summary(capsys: pytest.CaptureFixture[str], engine: str) -> None:
    rc, out, _ = run(["parse", str(FIX / "gen" / "ls_C_w_summary.strace"), "--json", "--engine", engine], capsys)
    assert rc == 0
    d = json.loads(out)
    for key in ("format", "abi", "lines", "events", "unparsed", "syscalls", "processes"):
        assert key in d
    assert d["format"] == "strace" and d["abi"] == "linux-x86_64" and d["lines"] == 278
    assert d["syscalls"]["openat"] == {"calls": 44, "errors": 19}
    assert d["events"] == {"exit": 1, "syscall": 245} and d["unparsed"] == 0
    assert d["summary_table"] == {"syscalls": 28, "mismatches": []}


def test_json_summary_only_and_lenient_report(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["parse", str(FIX / "gen" / "summary_f_c_S_calls.strace"), "--json"], capsys)
    d = json.loads(out)
    assert rc == 0 and d["format"] == "strace-summary" and d["syscalls"]["close"] == {"calls": 98, "errors": 2}
    log = FIX / "pub" / "gh_wsl1466_old_format_f.log"
    rc, out, _ = run(["parse", str(log), "--json"], capsys)
    d = json.loads(out)
    # its seven shell prompt lines are publication decoration, skipped with their reason
    assert rc == 0 and d["unparsed"] == 0 and d["skipped"]["shell prompt"] == 7
    assert d["publication"][str(log)]["command"]["text"] == "strace -f ./shelxd"
    log = FIX / "pub" / "gh_stenographer197_killed_sigsegv_core_debug.log"
    rc, out, _ = run(["parse", str(log), "--json"], capsys)
    d = json.loads(out)
    assert rc == 0 and d["unparsed"] == 2 and d["unparsed_first"][0].startswith(f"{log}:1: ")


def test_text_summary(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(["parse", str(FIX / "gen" / "pipeline_ff" / "pipe")], capsys)
    assert rc == 0
    assert "format     strace" in out and "processes  4" in out and "unparsed   0" in out
    assert "execve" in out


def test_events_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_path = tmp_path / "ev.jsonl"
    rc, out, _ = run(["parse", str(FIX / "gen" / "inject_fault.strace"), "--events-out", str(out_path), "--json"], capsys)
    assert rc == 0
    rows = [json.loads(x) for x in out_path.read_text().splitlines()]
    assert len(rows) == sum(json.loads(out)["events"].values())
    inj = [r for r in rows if r["rec"] == "injected"]
    assert inj and inj[0]["kind"] == "syscall" and inj[0]["nr"] in (0, 257)


def test_strict_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["parse", "--strict", str(FIX / "pub" / "uul_linux_strace_old.log")], capsys)
    # the command line above it is skipped; its last line 'exit(42)' lost its result
    assert rc == 2 and "uul_linux_strace_old.log:6: expected ' = ' and a return value" in err
    rc, _, err = run(["parse", "--strict", str(FIX / "gen" / "python_yy.strace")], capsys)
    assert rc == 0


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ei:
        cli.main(["parse", "--help"])
    out, _ = capsys.readouterr()
    assert ei.value.code == 0 and "examples:" in out and "--strict" in out
