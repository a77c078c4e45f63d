# SPDX-License-Identifier: MIT
"""Every command: --help with examples, --json, exit 2 on usage errors; shared option names."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from shimsim import cli


def _subparsers():
    p = cli.build_parser(load=cli.COMMANDS)
    sub = next(a for a in p._actions if a.dest == "command")
    return sub.choices


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_help_has_examples(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main([name, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"shimsim {name}" in out.split("examples:")[1]


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_usage_error_exits_2(name: str, capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main([name, "--no-such-option"])
    assert e.value.code == 2
    assert "error:" in capsys.readouterr().err


def _options(parser) -> dict[str, object]:
    opts = {}
    for a in parser._actions:
        for s in a.option_strings:
            opts[s] = a
    for a in parser._actions:      # abi has subcommands
        if hasattr(a, "choices") and isinstance(a.choices, dict):
            for sp in a.choices.values():
                opts.update(_options(sp))
    return opts


def test_shared_option_names() -> None:
    subs = _subparsers()
    for name, p in subs.items():
        assert "--json" in _options(p), f"{name} has no --json"
    for name in ("replay", "record", "diff"):
        o = _options(subs[name])
        for opt in ("--shim", "--engine", "--quiet", "--fail-on", "--json"):
            assert opt in o, f"{name} lacks {opt}"
    for name in ("replay", "diff", "parse"):
        o = _options(subs[name])
        assert "--format" in o and "--abi" in o, name


def test_lazy_help_lines_are_the_commands_own() -> None:
    """The top-level --help lists each command from cli.HELP without importing it;
    that line must be the one the command's own register() gives."""
    lazy = next(a for a in cli.build_parser()._actions if a.dest == "command")
    full = next(a for a in cli.build_parser(load=cli.COMMANDS)._actions if a.dest == "command")
    assert [(a.dest, a.help) for a in lazy._choices_actions] == [(a.dest, a.help) for a in full._choices_actions]
    assert [a.dest for a in full._choices_actions] == list(cli.COMMANDS)


def test_top_level_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for name, line in cli.HELP.items():
        assert f"    {name} " in out and line.split()[0] in out, name


def test_unknown_command_lists_choices(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["no-such-command"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'no-such-command'" in err and "'parse'" in err and "'diff'" in err


HEAVY = ("rich", "jinja2", "hypothesis", "elftools", "jsonschema", "dask", "distributed")

# Run in a fresh interpreter: this test process has imported everything already.
_PROBE = """
import json, sys
from shimsim import cli
p = cli.build_parser()
try:
    cli.main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(%r)))
cmds = sorted(m for m in sys.modules if m.startswith("shimsim.commands."))
print(json.dumps({"heavy": heavy, "commands": cmds}), file=sys.stderr)
"""


def _imported(*argv: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run([sys.executable, "-c", _PROBE % json.dumps(HEAVY), *argv], capture_output=True,
                       text=True, env=env, timeout=60)
    return json.loads(r.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("argv", [(), ("--version",), ("--help",)])
def test_start_up_imports_no_command(argv) -> None:
    got = _imported(*argv)
    assert got == {"heavy": [], "commands": []}


def test_parse_imports_only_parse(tmp_path) -> None:
    t = tmp_path / "t.strace"
    t.write_text('execve("/bin/true", ["true"], 0x7ffc0 /* 1 var */) = 0\nexit_group(0) = ?\n'
                 "+++ exited with 0 +++\n")
    got = _imported("parse", "--json", str(t))
    assert got["heavy"] == []
    assert got["commands"] == ["shimsim.commands._common", "shimsim.commands.parse"]
    assert "shimsim.replay" not in _imported_modules("parse", str(t))


def _imported_modules(*argv: str) -> list[str]:
    probe = ("import sys, json\nfrom shimsim import cli\ncli.main(sys.argv[1:])\n"
             "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    r = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1])


def test_chosen_command_gets_its_real_parser(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["abi", "show", "--help"])
    assert e.value.code == 0
    assert "usage: shimsim abi show" in capsys.readouterr().out
