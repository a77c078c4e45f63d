# SPDX-License-Identifier: MIT
"""Every command: --help with examples, --json, exit 2 on usage errors; shared option names."""
from __future__ import annotations

import json
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
    r = subprocess.run([sys.executable, "-c", _PROBE % json.dumps(HEAVY), *argv], capture_output=True,
                       text=True, timeout=60)
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
    r = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stderr.strip().splitlines()[-1])


def test_chosen_command_gets_its_real_parser(capsys) -> None:
    with pytest.raises(SystemExit) as e:
        cli.main(["abi", "show", "--help"])
    assert e.value.code == 0
    assert "usage: shimsim abi show" in capsys.readouterr().out


def _parsers_with(opt: str) -> dict[str, object]:
    """command -> the action of OPT in it, for every command (and abi subcommand) that has OPT."""
    return {name: _options(p)[opt] for name, p in _subparsers().items() if opt in _options(p)}


# Options several commands share, and what each means everywhere: (metavar, takes a value,
# repeatable, type).  A new command reusing a name must keep its meaning; a name two commands
# use must be listed here (test_every_shared_name_is_declared).
SHARED = {
    "--shim": ("NAME_OR_FILE", True, True, None),
    "--events": ("N", True, False, int),
    "--events-out": ("FILE", True, False, None),
    "--format": ("FORMAT", True, False, None),        # the trace's format; compat's table: --output-format
    "--abi": ("ABI", True, False, None),
    "--fail-on": ("COND", True, True, None),
    "--html": ("FILE", True, False, None),
    "--output": ("FILE", True, False, None),          # -o: the file the command writes (spec, recording)
    "-o": ("FILE", True, False, None),
    "--timeout": ("SECONDS", True, False, float),
    "--jobs": ("N", True, False, int),
    "--limit": ("N", True, False, int),
    "--root": ("DIR", True, False, None),
    "--host": ("ABI", True, True, None),              # a host to judge for (image; inspect: --native-host)
    "--all": (None, False, False, None),              # rows hidden by default (diff, abi diff)
    "--json": (None, False, False, None),
    "--quiet": (None, False, False, None),
    "-q": (None, False, False, None),
    "--strict": (None, False, False, None),
    "--engine": (None, True, False, None),
}
# One help text everywhere: one definition in commands/_common.py.
ONE_HELP = ("--json", "--quiet", "--engine", "--format", "--strict")


def _visible(opt: str) -> dict[str, object]:
    import argparse

    return {n: a for n, a in _parsers_with(opt).items() if a.help != argparse.SUPPRESS}


def _all_parsers() -> dict[str, object]:
    """command (and 'abi SUB') -> its parser."""
    out = {}
    for name, p in _subparsers().items():
        out[name] = p
        for a in p._actions:
            if isinstance(a.choices, dict):
                out.update({f"{name} {s}": sp for s, sp in a.choices.items()})
    return out


def test_every_shared_name_is_declared() -> None:
    """An option name in two commands is in SHARED, so its meaning is checked."""
    import argparse

    users: dict[str, set[str]] = {}
    for name, p in _all_parsers().items():
        for a in p._actions:
            if a.help == argparse.SUPPRESS or isinstance(a, argparse._HelpAction):
                continue
            for s in a.option_strings:
                users.setdefault(s, set()).add(name)
    shared = {s for s, ns in users.items() if len(ns) > 1}
    assert {"--shim", "--format", "--fail-on", "--json"} <= shared
    assert shared - set(SHARED) == set(), f"options in several commands, meaning not declared: {shared - set(SHARED)}"


@pytest.mark.parametrize("opt", sorted(SHARED))
def test_shared_options_mean_one_thing(opt: str) -> None:
    import argparse

    metavar, takes_value, repeatable, typ = SHARED[opt]
    found = _visible(opt)
    assert found, f"no command has {opt}"
    for name, a in found.items():
        assert a.metavar == metavar, f"{name} {opt}: metavar {a.metavar!r}, elsewhere {metavar!r}"
        assert (a.nargs != 0) == takes_value, f"{name} {opt}"
        assert isinstance(a, argparse._AppendAction) == repeatable, f"{name} {opt}: repeatable differs"
        assert a.type is typ, f"{name} {opt}: type {a.type}, elsewhere {typ}"
    helps = {a.help for a in found.values()}
    if opt in ONE_HELP:
        assert len(helps) == 1, helps
    if opt == "--shim":
        # several mean several layers, or are refused where a command runs one (probe)
        assert all("repeatable" in h or "one layer" in h for h in helps), helps
    if opt == "--format":
        assert all(h.startswith("trace format") for h in helps), helps
    if opt == "--abi":
        assert all("guest ABI" in h for h in helps), helps
    if opt == "--fail-on":
        for name, a in found.items():
            assert "never" in a.choices and a.default is None, name
            assert a.help.startswith("exit 1 when COND holds: ") and "repeatable" in a.help, name
    if opt in ("--html", "--output", "-o"):
        assert all(h.startswith(("also write", "write", "keep")) and "FILE" in h for h in helps), helps


def test_no_command_has_a_bare_out() -> None:
    """--out meant a JSON Lines file in corpus and a directory in probe: now --jsonl FILE
    (beside --html FILE and --csv FILE) and --recordings DIR."""
    assert _visible("--out") == {}
    assert set(_visible("--jsonl")) == {"corpus"} and set(_visible("--recordings")) == {"probe"}
    assert set(_visible("--output-format")) == {"compat"}


@pytest.mark.parametrize("argv,old,new,dest,value", [
    (["compat", "wsl1", "--format", "csv"], "--format", "--output-format FMT", "output_format", "csv"),
    (["corpus", "x", "--shim", "all", "--out", "r.jsonl"], "--out", "--jsonl FILE", "jsonl", "r.jsonl"),
    (["probe", "--shim", "native", "--out", "d", "--", "true"], "--out", "--recordings DIR", "recordings", "d"),
    (["parse", "t", "--events-out", "e", "--decode"], "--decode", "--decode-args", "decode_args", True),
    (["inspect", "b", "--host", "linux-x86_64"], "--host", "--native-host ABI", "native_host", "linux-x86_64"),
])
def test_old_spellings_still_parse_with_a_note(argv, old, new, dest, value, capsys) -> None:
    p = cli.build_parser(load=[argv[0]])
    ns = p.parse_args(argv)
    assert getattr(ns, dest) == value
    assert capsys.readouterr().err == f"shimsim: warning: {old} is deprecated, say {new}\n"


def test_new_spellings_say_nothing(capsys) -> None:
    p = cli.build_parser(load=["compat", "corpus", "probe", "parse"])
    assert p.parse_args(["compat", "wsl1", "--output-format", "csv"]).output_format == "csv"
    assert p.parse_args(["compat", "wsl1"]).output_format == "md"
    assert p.parse_args(["corpus", "x", "--jsonl", "r"]).jsonl == "r"
    assert p.parse_args(["corpus", "x"]).jsonl is None
    assert p.parse_args(["probe", "--recordings", "d", "--", "true"]).recordings == "d"
    assert p.parse_args(["probe", "--", "true"]).recordings is None
    assert p.parse_args(["parse", "t"]).decode_args is False
    assert capsys.readouterr().err == ""


def test_fail_on_thresholds_take_the_lowest(tmp_path) -> None:
    """inspect and image: --fail-on COND is 'a verdict is COND or worse'; several: any holds."""
    assert cli.main(["inspect", sys.executable, "--shim", "native", "--fail-on", "cannot-run"]) == 0
    assert cli.main(["inspect", sys.executable, "--shim", "disabled", "--fail-on", "never"]) == 0
    assert cli.main(["inspect", sys.executable, "--shim", "disabled", "--fail-on", "cannot-run",
                     "--fail-on", "degraded"]) == 1


def test_events_is_a_count_and_events_out_a_file() -> None:
    assert set(_parsers_with("--events-out")) == {"parse"}
    visible = {n for n, a in _parsers_with("--events").items() if a.help != "==SUPPRESS=="}
    assert visible == {"replay"}


def test_parse_events_old_spelling_still_works_with_a_note(tmp_path, capsys) -> None:
    from pathlib import Path

    trace = Path(__file__).parent / "fixtures" / "replay" / "ls_plain.strace"
    old, new = tmp_path / "old.jsonl", tmp_path / "new.jsonl"
    assert cli.main(["parse", str(trace), "-q", "--events", str(old)]) == 0
    assert "deprecated, say --events-out FILE" in capsys.readouterr().err
    assert cli.main(["parse", str(trace), "-q", "--events-out", str(new)]) == 0
    assert "deprecated" not in capsys.readouterr().err
    assert old.read_text() == new.read_text() and len(new.read_text().splitlines()) > 100
    assert cli.main(["parse", str(trace), "--events", str(old), "--events-out", str(new)]) == 2
    assert "--events-out FILE only" in capsys.readouterr().err


def test_version_fast_path_prints_what_argparse_would(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    by_parser = capsys.readouterr().out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == by_parser
    r = subprocess.run([sys.executable, "-m", "shimsim", "--version"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == by_parser and r.stderr == ""
    mods = _imported_modules("--version")
    assert "shutil" not in mods and "locale" not in mods      # no parser built, no help formatter

