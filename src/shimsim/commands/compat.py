# SPDX-License-Identifier: MIT
"""``shimsim compat``: the support matrix of a shim, generated from its tables,
one row per guest syscall (syscall, number, outcome, host call, note, source),
in the spirit of gVisor's generated compatibility pages."""
from __future__ import annotations

import argparse
import csv
import io
import sys

from shimsim import shim as _shim
from shimsim.commands._common import add_json, add_old_spelling, formatter, print_json
from shimsim.errors import ShimsimError
from shimsim.replay import names_by_value

EPILOG = """examples:
  shimsim compat linuxulator                   (Markdown, the default)
  shimsim compat gvisor --output-format csv > gvisor.csv
  shimsim compat wsl1 --output-format json     (same as --json)
  shimsim compat native --abi linux-aarch64    (shims for any ABI need one)
  shimsim compat my-layer.toml --outcome failed --outcome partial

Every syscall of the guest ABI's table is listed, in number order: the ones the
spec names with their rule, the others with the spec's default.  'source' is
the spec line the row comes from; the spec's provenance (upstream files at a
commit) is in the header.
"""
FORMATS = ("md", "csv", "json")
COLUMNS = ("syscall", "number", "outcome", "host_call", "note", "source")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compat", help="a shim's support matrix (Markdown, CSV or JSON)",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("shim", metavar="NAME_OR_FILE", help="a shipped shim (see 'shimsim shims') or a spec file")
    p.add_argument("--output-format", choices=FORMATS, default="md", metavar="FMT",
                   help="md (Markdown, the default), csv or json")
    # --format is the trace format in parse, replay and diff: here the old spelling is only accepted
    add_old_spelling(p, "--format", "--output-format FMT", "output_format", choices=FORMATS)
    p.add_argument("--abi", metavar="ABI", default=None,
                   help="guest ABI for a shim that serves any ABI (native, vm, none; default linux-x86_64)")
    p.add_argument("--outcome", action="append", choices=_shim.OUTCOME_NAMES[1:7], metavar="O",
                   help="only rows with this outcome (repeatable)")
    add_json(p)
    p.set_defaults(func=run)


def matrix(spec: _shim.Spec, abi: str | None) -> tuple[_shim.CompiledShim, list[dict]]:
    """One row per guest syscall, from the compiled shim and the spec's rules."""
    if abi is not None and spec.guest != _shim.ANY and abi != spec.guest:
        raise ShimsimError(f"--abi {abi}: shim {spec.name} models guest {spec.guest} only "
                           "(--abi chooses the guest of shims for any ABI: native, vm, none)")
    trace_abi = abi or ("linux-x86_64" if spec.guest == _shim.ANY else None)
    cs = _shim.compile_shim(spec, trace_abi)
    host = cs.host
    default_src = f"{spec.path}:{spec.line('shim', 'default')}" if spec.line("shim", "default") else spec.path
    rows = []
    for sc in sorted(cs.guest.syscalls, key=lambda s: s.number):
        nr = sc.number
        key = _shim.rule_key(spec, sc)
        rule = spec.rules.get(key) if key else None
        hcall = None
        if cs.host_nr[nr] >= 0 and host is not None:
            hs = host.by_number.get(cs.host_nr[nr])
            hcall = hs.name if hs else f"#{cs.host_nr[nr]}"
        elif rule is not None and rule.by:
            hcall = "by " + ", ".join(rule.by)
        elif rule is not None and rule.to:
            hcall = rule.to
        outcome = _shim.OUTCOME_NAMES[cs.outcome[nr]]
        note = cs.notes.get(nr, "")
        if outcome == "failed":
            errno = names_by_value(cs.guest.errno).get(cs.fail_err[nr], str(cs.fail_err[nr]))
            note = f"{errno}: {note}" if note else errno
        if rule is not None:
            ln = spec.line("syscalls", key)
            src = f"{spec.path}:{ln}" if ln else spec.path
        else:
            src = f"{default_src} (default)"
        rows.append({"syscall": sc.name, "number": nr, "outcome": outcome, "host_call": hcall,
                     "note": note, "source": src})
    return cs, rows


def run(args: argparse.Namespace) -> int:
    spec = _shim.load_spec(args.shim)
    cs, rows = matrix(spec, args.abi)
    if args.outcome:
        rows = [r for r in rows if r["outcome"] in args.outcome]
    fmt = "json" if args.json else args.output_format
    counts = {k: sum(1 for r in rows if r["outcome"] == k) for k in _shim.OUTCOME_NAMES[1:7]}
    if fmt == "json":
        print_json({"shim": spec.name, "file": spec.path, "description": spec.description,
                    "guest": cs.guest.name, "host": cs.host_name, "provenance": list(spec.provenance),
                    "counts": counts, "syscalls": rows})
    elif fmt == "csv":
        w = csv.DictWriter(sys.stdout, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "host_call": r["host_call"] or ""})
    else:
        sys.stdout.write(markdown(spec, cs, rows, counts))
    return 0


def _md_cell(s: object) -> str:
    """Table cell text: pipes escaped, no line breaks, HTML-significant characters as entities."""
    t = "" if s is None else str(s)
    return (t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("|", "\\|").replace("\n", " ").replace("\r", " "))


def markdown(spec: _shim.Spec, cs: _shim.CompiledShim, rows: list[dict], counts: dict[str, int]) -> str:
    out = io.StringIO()
    out.write(f"# {_md_cell(spec.name)}: {_md_cell(cs.guest.name)} on {_md_cell(cs.host_name)}\n\n")
    out.write(f"{_md_cell(spec.description)}\n\n")
    out.write("Generated by `shimsim compat` from " + f"`{spec.path}`" + ", read from:\n\n")
    for p in spec.provenance:
        out.write(f"- `{p}`\n")
    out.write("\n" + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" ({len(rows)} syscalls)\n\n")
    out.write("| syscall | number | outcome | host call | note | source |\n")
    out.write("|---|---:|---|---|---|---|\n")
    for r in rows:
        out.write("| " + " | ".join(_md_cell(r[c]) for c in COLUMNS) + " |\n")
    return out.getvalue()
