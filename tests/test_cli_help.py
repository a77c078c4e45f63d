# SPDX-License-Identifier: MIT
"""Every command: --help with examples, --json, exit 2 on usage errors; shared option names."""
from __future__ import annotations

import pytest

from shimsim import cli


def _subparsers():
    p = cli.build_parser()
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


def _parsers_with(opt: str) -> dict[str, object]:
    """command -> the action of OPT in it, for every command (and abi subcommand) that has OPT."""
    return {name: _options(p)[opt] for name, p in _subparsers().items() if opt in _options(p)}


# Options several commands share, and what each means everywhere: (metavar, takes a value,
# repeatable, type).  A new command reusing a name must keep its meaning.
SHARED = {
    "--shim": ("NAME_OR_FILE", True, True, None),
    "--events": ("N", True, False, int),
    "--events-out": ("FILE", True, False, None),
    "--abi": ("ABI", True, False, None),
    "--html": ("FILE", True, False, None),
    "--timeout": ("SECONDS", True, False, float),
    "--json": (None, False, False, None),
    "--quiet": (None, False, False, None),
    "--strict": (None, False, False, None),
    "--engine": (None, True, False, None),
}


@pytest.mark.parametrize("opt", sorted(SHARED))
def test_shared_options_mean_one_thing(opt: str) -> None:
    import argparse

    metavar, takes_value, repeatable, typ = SHARED[opt]
    found = _parsers_with(opt)
    assert found, f"no command has {opt}"
    for name, a in found.items():
        if a.help == argparse.SUPPRESS:          # a deprecated spelling kept for old scripts
            continue
        assert a.metavar == metavar, f"{name} {opt}: metavar {a.metavar!r}, elsewhere {metavar!r}"
        assert (a.nargs != 0) == takes_value, f"{name} {opt}"
        assert isinstance(a, argparse._AppendAction) == repeatable, f"{name} {opt}: repeatable differs"
        assert a.type is typ, f"{name} {opt}: type {a.type}, elsewhere {typ}"
    helps = {a.help for a in found.values() if a.help != argparse.SUPPRESS}
    if opt in ("--json", "--quiet", "--engine"):
        assert len(helps) == 1, helps                # one shared definition in commands/_common.py
    if opt == "--shim":
        # several mean several layers, or are refused where a command runs one (probe)
        assert all("repeatable" in h or "one layer" in h for h in helps), helps


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
