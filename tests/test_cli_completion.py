# SPDX-License-Identifier: MIT
"""shimsim --print-completion SHELL: shtab's script from every command's real parser."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from shimsim import cli


def _script(shell: str) -> str:
    r = subprocess.run([sys.executable, "-m", "shimsim", "--print-completion", shell],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return r.stdout


@pytest.mark.parametrize("shell", cli.SHELLS)
def test_script_names_every_command_and_option(shell: str) -> None:
    s = _script(shell)
    for name in cli.COMMANDS:
        assert name in s, f"{shell}: no {name}"
    # options of commands loaded lazily are there too: the script is built from the real parsers
    for opt in ("--fail-on", "--output-format", "--events-out", "--jsonl", "--recordings", "--all-binaries"):
        assert opt in s.replace("-l ", "--").replace("'", ""), f"{shell}: no {opt}"


def test_bash_script_is_valid_bash_and_completes(tmp_path) -> None:
    s = _script("bash")
    (tmp_path / "c.bash").write_text(s)
    assert subprocess.run(["bash", "-n", str(tmp_path / "c.bash")]).returncode == 0
    # complete `shimsim rep<TAB>` and `shimsim replay --fail<TAB>` with the script loaded
    probe = (f"source {tmp_path / 'c.bash'}\n"
             "f=$(complete -p shimsim | sed 's/.*-F \\([^ ]*\\).*/\\1/')\n"
             "COMP_WORDS=(shimsim rep); COMP_CWORD=1; $f shimsim rep shimsim; echo \"${COMPREPLY[*]}\"\n"
             "COMP_WORDS=(shimsim replay --fail); COMP_CWORD=2; $f shimsim --fail replay; echo \"${COMPREPLY[*]}\"\n")
    r = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=60)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["replay"], r.stdout + r.stderr
    assert "--fail-on" in lines[1].split(), r.stdout + r.stderr


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_script_parses_in_its_shell(shell: str, tmp_path) -> None:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} not installed")
    f = tmp_path / "c"
    f.write_text(_script(shell))
    assert subprocess.run([shell, "-n", str(f)]).returncode == 0


def test_unknown_shell_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["--print-completion", "csh"])
    assert e.value.code == 2 and "invalid choice: 'csh'" in capsys.readouterr().err


def test_trace_arguments_complete_as_files() -> None:
    import shtab

    p = cli.build_parser(load=cli.COMMANDS)
    cli._mark_paths(p)
    sub = next(a for a in p._actions if a.dest == "command").choices
    traces = next(a for a in sub["replay"]._actions if a.dest == "traces")
    out = next(a for a in sub["parse"]._actions if a.dest == "events_out")
    assert traces.complete == shtab.FILE and out.complete == shtab.FILE
    assert next(a for a in sub["replay"]._actions if a.dest == "root").complete == shtab.DIRECTORY
