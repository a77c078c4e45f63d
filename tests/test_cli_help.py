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
