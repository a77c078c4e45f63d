# SPDX-License-Identifier: MIT
"""``shimsim replay``: replay traces through a shim and say, call by call, what
the compat layer would do and where the program would break."""
from __future__ import annotations

import argparse
import os
import sys

from shimsim import output
from shimsim import replay as _replay
from shimsim import trace
from shimsim.commands._common import (add_engine, add_fail_on, add_json, add_quiet, add_shims, add_trace_options,
                                     formatter, held_per_shim, one_layer_only, print_json, print_layers,
                                     shim_names, shim_specs)
from shimsim.errors import ShimsimError
from shimsim.report import progress as _progress
from shimsim.report import replay_json

EPILOG = """examples:
  shimsim replay run.strace --shim native
  shimsim replay run.strace --shim linuxulator
  shimsim replay run.strace --shim gvisor --json
  shimsim replay run.strace --shim linuxulator --html report.html
  shimsim replay ls.truss --shim none --abi freebsd-amd64
  shimsim replay ls.truss --shim my-layer.toml --engine python
  shimsim replay run.strace --shim wsl1 --fail-on fatal   (exit 1 if the program would break)
  shimsim replay run.strace --shim linuxulator --events 30 (the first 30 events one by one)
  shimsim replay run.strace --shim wsl1 --shim linuxulator --shim gvisor   (one row per layer)
  shimsim replay run.strace --shim wsl1,linuxulator,gvisor --json           (a JSON array)
  shimsim replay run.strace --shim all           (every shipped shim for the trace's ABI)

Several --shim options (repeatable, comma-separated, or 'all') replay the trace
once through every layer and print one row per layer: verdict, first fatal
call, calls per outcome; --json then prints an array with one replay object
per layer (each as with one --shim), and --fail-on holds if it holds for any
layer, naming which.  --events and --html report on one layer: give one --shim.

The report starts with the verdict: "would run", "would run with N emulated
calls" (calls the layer serves itself instead of passing them to a host call:
emulated, partial, stubbed or faked) or "would break at FILE:LINE: syscall X
(reason)", with notes on what qualifies it.

outcomes, worst first: unknown (not a syscall of the guest ABI), failed, faked,
stubbed, partial, emulated, translated.  A divergence is an event whose
guest-visible result differs from the recording; it is fatal when a call that
succeeded would fail and no known fallback (tables/fallbacks.csv) rescues it.

--fail-on (repeatable) makes the exit status 1 when:
  fatal       the program would break (a fatal divergence)
  divergence  any divergence at all (also spelt 'any')
  failed      any call fails or is unknown under the shim
  partial     any call is only partly supported (partial, stubbed, faked, failed, unknown)
exit status: 0 done, 1 a --fail-on condition holds, 2 bad input or usage.
"""
def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay traces through a shim model of a compat layer",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("traces", nargs="+", metavar="TRACE", help="trace file(s); '-' for stdin")
    add_shims(p)
    add_trace_options(p)
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="divergences listed in the text report (default 20; all are counted)")
    p.add_argument("--events", type=int, default=0, metavar="N",
                   help="also show the first N events one by one: outcome, host call, translated flags, result")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report to FILE")
    p.add_argument("--binary", metavar="FILE",
                   help="the program the traced processes run when the trace does not show its execve "
                        "(fallbacks apply per caller: its runtimes are read from this file)")
    p.add_argument("--root", metavar="DIR",
                   help="read the programs the trace's execve calls name under DIR (an image's root "
                        "filesystem) instead of this machine's /")
    add_fail_on(p)
    add_quiet(p)
    add_engine(p)
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    names = shim_names(args.shim)
    one_layer_only(args, len(names))
    if args.html:
        output.check(args.html, args.traces)    # before the replay: refused paths fail at once
    t = trace.open(args.traces, format=args.format, abi=args.abi, strict=args.strict, engine=args.engine)
    specs = shim_specs(args.shim, t.abi)
    tl = None
    if args.html:
        from shimsim.report.timeline import Timeline
        tl = Timeline()
    if args.root and not os.path.isdir(args.root):
        raise ShimsimError(f"--root {args.root}: not a directory")
    if args.binary and not os.path.isfile(args.binary):
        raise ShimsimError(f"--binary {args.binary}: no such file")
    label = "replay " + ", ".join(s.name for s in specs)
    with _progress.TraceProgress(t.paths, label, _progress.enabled(args.quiet)) as bar:
        reps = _replay.replay_many(t, specs, events=args.events, timeline=tl, progress=bar.update,
                                   root=args.root, binary=args.binary)
    if args.html:
        from shimsim.report import html
        html.write(args.html, reps[0], t, tl)
    if args.json:
        docs = [replay_json(rep, t) for rep in reps]
        print_json(docs[0] if len(docs) == 1 else docs)
    else:
        from shimsim.report import terminal
        con = terminal.console()
        if len(reps) == 1:
            terminal.print_replay(con, reps[0], t, args.limit)
        else:
            print_layers(con, reps, t)
        if args.html:
            con.print(f"HTML report written to {args.html}")
    held = held_per_shim(args.fail_on, reps)
    if held:
        print(f"shimsim: --fail-on {', '.join(held)}: condition holds", file=sys.stderr)
        return 1
    return 0
