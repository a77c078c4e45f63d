# SPDX-License-Identifier: MIT
"""``shimsim shims``: the shipped shim models with their guest and host ABIs,
provenance, and how many guest syscalls each translates, emulates, partially
supports and fails."""
from __future__ import annotations

import argparse

from shimsim import shim as _shim
from shimsim.commands._common import add_json, formatter, print_json

EPILOG = """examples:
  shimsim shims
  shimsim shims --json
  shimsim shims --check my-layer.toml     (validate a spec of your own)

A layer's plain name is its newest release; older releases are listed as
NAME@RELEASE, and the newest's release name is shown as an alias
(linuxulator@freebsd-15.0 = linuxulator).  'variants' name the spec of the
same layer for another guest ABI (linuxulator runs i386 binaries through
linuxulator-linux32).
Counts are over the guest syscalls the spec lists (its upstream table);
'unlisted' guest syscalls get the spec's default.  Shims for any ABI ('*':
native, vm, none) are counted against linux-x86_64.
"""
KINDS = ("translated", "emulated", "partial", "failed", "stubbed", "faked")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("shims", help="list the shipped shims with provenance and counts",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("--check", metavar="FILE", action="append", default=[],
                   help="validate a spec file against its ABIs and list it too")
    add_json(p)
    p.set_defaults(func=run)


def describe(name: str) -> dict:
    spec = _shim.load_spec(name)
    any_abi = spec.guest == _shim.ANY
    cs = _shim.compile_shim(spec, "linux-x86_64" if any_abi else None)
    counts = {k: cs.listed[k] for k in KINDS}
    if any_abi:
        counts = {k: 0 for k in KINDS}
        counts[_shim.OUTCOME_NAMES[_shim.RULE_OUTCOME[spec.default]]] = cs.unlisted
    return {
        "name": spec.name, "file": spec.path, "description": spec.description,
        "guest": spec.guest, "host": spec.host, "host_kind": spec.host_kind,
        "provenance": spec.provenance, "counts": counts,
        "listed": sum(cs.listed.values()),
        "unlisted": 0 if any_abi else cs.unlisted,
        "default": spec.default + (f" {spec.default_errno}" if spec.default == "fail" else ""),
        "aliases": sorted(a for a, target in _shim.release_aliases().items() if target == name),
        "variants": dict(spec.variants),
    }


def run(args: argparse.Namespace) -> int:
    rows = [describe(n) for n in _shim.list_shims()] + [describe(f) for f in args.check]
    if args.json:
        print_json({"shims": rows})
        return 0
    _print_text(rows)
    return 0


def _print_text(rows: list[dict]) -> None:
    """One aligned row per shim (coloured on a terminal), then descriptions and provenance."""
    from shimsim.report import terminal

    con = terminal.console()
    cols = [("shim", "left"), ("guest", "left"), ("host", "left")] + [(k, "right") for k in KINDS] + \
        [("unlisted", "right"), ("default", "left")]
    tab = terminal.table(*cols, tty=con.is_terminal)
    for r in rows:
        tab.add_row(terminal.text(r["name"]), terminal.text(r["guest"]), terminal.text(r["host"]),
                    *[terminal.text(str(r["counts"][k]), style=terminal.OUTCOME_STYLE[k] if r["counts"][k] else "dim")
                      for k in KINDS],
                    str(r["unlisted"]), terminal.text(r["default"]))
    terminal.print_table(con, tab)
    con.print()
    for r in rows:
        con.print(terminal.text(f"{r['name']}: {r['description']}", style="bold"))
        for a in r["aliases"]:
            con.print(terminal.text(f"    also named {a}"))
        for abi, other in r["variants"].items():
            con.print(terminal.text(f"    {abi} binaries: {other}"))
        for p in r["provenance"]:
            con.print(terminal.text(f"    {p}"))
