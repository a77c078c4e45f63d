# SPDX-License-Identifier: MIT
"""The CLI's exit statuses on unwritable outputs and on a stdout closed early."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from shimsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_unwritable_output_is_one_error_line(tmp_path, capsys) -> None:
    target = tmp_path / "missing" / "x.toml"
    status = main(["derive", "freebsd-amd64", "linux-x86_64", "-o", str(target)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("shimsim: error: ") and str(target) in err
    assert f"no such directory {target.parent}" in err and "Traceback" not in err


def test_output_that_is_a_directory_is_an_error(tmp_path, capsys) -> None:
    status = main(["derive", "freebsd-amd64", "linux-x86_64", "-o", str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2 and str(tmp_path) in err and "Traceback" not in err


def test_stdout_closed_early_ends_quietly() -> None:
    proc = subprocess.Popen(
        # ~100 KB of JSON: more than a pipe buffer holds, so the write meets the closed pipe
        [sys.executable, "-m", "shimsim", "compat", "linuxulator", "--output-format", "json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdout.read(10)  # read a little, then close the pipe as `head -c 10` would
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == ""
