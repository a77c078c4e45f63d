# SPDX-License-Identifier: MIT
"""``shimsim parse``: read traces (strace, truss, dtruss, kdump) and summarise them.

Lenient by default: a line that is not understood is counted and the first
few are shown as file:line: reason.  --strict makes the first one an error
(exit 2).  --events-out writes every event as one JSON object per line.
"""
from __future__ import annotations

import argparse
import sys

from shimsim import output, trace
from shimsim.commands._common import add_engine, add_json, add_old_spelling, add_quiet, add_trace_format, formatter, print_json
from shimsim.errors import ShimsimError
from shimsim.report import parse_json

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

EPILOG = """examples:
  shimsim parse run.strace
  shimsim parse trace.gz --json
  shimsim parse out.1234 out.1235 out.1236        (strace -ff -o out: one trace)
  shimsim parse ktrace.txt --format kdump --abi openbsd-amd64
  shimsim parse run.strace --strict --events-out events.jsonl
  shimsim parse run.strace --events-out events.jsonl --decode-args
  strace -f -o /dev/stdout ls | shimsim parse -
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("parse", help="read traces and summarise them (format, ABI, events, syscalls)",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("traces", metavar="TRACE", nargs="+", help="trace file(s), .gz/.xz/.zst, or - for stdin")
    add_trace_format(p)
    p.add_argument("--abi", metavar="ABI", help="guest ABI of the trace (default: detected)")
    p.add_argument("--strict", action="store_true", help="stop at the first line that does not parse")
    p.add_argument("--events-out", metavar="FILE", help="write every event as one JSON object per line to FILE")
    # The old spelling: --events means a count (N) in replay, so here it is only
    # accepted, with a deprecation note, and not shown in --help.
    p.add_argument("--events", dest="events_deprecated", metavar="FILE", help=argparse.SUPPRESS)
    p.add_argument("--decode-args", action="store_true",
                   help="with --events-out: add each syscall's decoded arguments (fds, paths, flags, enums, integers)")
    # --decode VALUE decodes an integer in 'abi const': here the old spelling is only accepted
    add_old_spelling(p, "--decode", "--decode-args", "decode_args", nargs=0, const=True)
    add_quiet(p)
    add_json(p)
    add_engine(p)
    p.set_defaults(func=run)


summarise = parse_json   # the name it had here


def _consume(t: trace.Trace, quiet: bool) -> None:
    """Read the whole trace for its statistics, with a progress bar on a terminal."""
    from shimsim.report import progress

    with progress.TraceProgress(t.paths, "parse", progress.enabled(quiet)) as bar:
        n = 0
        for chunk in t.chunks():  # the engine's own batches: no Python object per event under C
            n += len(chunk)
            bar.update(n)


def run(args: argparse.Namespace) -> int:
    if args.events_deprecated is not None:
        if args.events_out is not None:
            raise ShimsimError("give --events-out FILE only (--events is its deprecated spelling)")
        print("shimsim: warning: 'parse --events FILE' is deprecated, say --events-out FILE "
              "(--events N is a count of events in 'replay')", file=sys.stderr)
        args.events_out = args.events_deprecated
    if args.events_out:
        output.check(args.events_out, args.traces)   # before any work: refused paths fail at once
    t = trace.open(args.traces, format=args.format, abi=args.abi, strict=args.strict, engine=args.engine)
    if args.events_out:
        import json

        if args.decode_args:
            from shimsim.trace.decode import decode
        with output.atomic(args.events_out, t.paths) as out:   # all-or-nothing
            for ev in t.events():
                row = ev.to_json()
                if args.decode_args:
                    row["decoded"] = decode(ev)
                out.write(json.dumps(row, ensure_ascii=False))
                out.write("\n")
    else:
        _consume(t, args.quiet)
    d = parse_json(t)
    if args.json:
        print_json(d)
    else:
        _print_text(d)
    return 0


def _print_text(d: dict[str, Any]) -> None:
    w = sys.stdout.write
    w(f"format     {d['format']}\n")
    w(f"abi        {d['abi']}\n")
    if d.get("abi_note"):
        w(f"           note: {d['abi_note']}\n")
    w(f"lines      {d['lines']}\n")
    ev = d["events"]
    w(f"events     {sum(ev.values())}" + (f"  ({', '.join(f'{k} {v}' for k, v in ev.items())})" if ev else "") + "\n")
    w(f"processes  {d['processes']}\n")
    if d.get("threads", d["processes"]) != d["processes"]:
        w(f"threads    {d['threads']}\n")
    pub = d.get("publication") or {}
    for path, info in pub.items():
        cmd = info.get("command")
        notes = info.get("notes", [])
        if cmd or notes:
            w(f"published  {path}: " + "; ".join(([f"command {cmd['text']!r}"] if cmd else []) + notes) + "\n")
    if d["skipped"]:
        w("skipped    " + ", ".join(f"{k} {v}" for k, v in d["skipped"].items()) + "\n")
    w(f"unparsed   {d['unparsed']}\n")
    for line in d["unparsed_first"]:
        w(f"  {line}\n")
    if d["unparsed"] > len(d["unparsed_first"]):
        w(f"  ... and {d['unparsed'] - len(d['unparsed_first'])} more\n")
    if "summary_table" in d:
        mm = d["summary_table"]["mismatches"]
        w(f"summary    strace's table: {d['summary_table']['syscalls']} syscalls, "
          f"{'matches the events' if not mm else f'{len(mm)} mismatches'}\n")
        for m in mm[:10]:
            w(f"  {m}\n")
    sc = d["syscalls"]
    if sc:
        width = max(len(n) for n in sc)
        w(f"\n{'syscall'.ljust(width)}  {'calls':>9}  {'errors':>9}\n")
        for name, row in sorted(sc.items(), key=lambda kv: (-kv[1]["calls"], kv[0])):
            w(f"{name.ljust(width)}  {row['calls']:>9}  {row['errors']:>9}\n")
