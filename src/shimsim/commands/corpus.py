# SPDX-License-Identifier: MIT
"""``shimsim corpus``: how much of a corpus would run on each layer, and which
missing calls matter most.

Every input (a trace in any format, an ELF binary, a Loupe workload, or a
directory of them) is analysed once: the calls it uses, what each shim does
with each, its verdict and first fatal divergence.  The rows are merged into
per-layer scores: inputs that run, run with emulation or break; the weighted
completeness; per syscall its API importance; and the blockers, ranked by the
weight they break, with the weight each alone would unlock (Tsai et al.,
EuroSys 2016; Loupe, ASPLOS 2024; definitions in docs/corpus.md).
"""
from __future__ import annotations

import argparse
import os
import sys

from shimsim.commands._common import add_engine, add_json, add_old_spelling, add_quiet, formatter, print_json
from shimsim.errors import ShimsimError

EPILOG = """examples:
  shimsim corpus /usr/bin --shim all
  shimsim corpus import-loupe ../loupedb --shim gvisor --shim linuxulator --shim wsl1
  shimsim corpus loupedb/ /usr/bin traces/ --shim all --jobs 2 --jsonl results.jsonl
  shimsim corpus traces/ --shim linuxulator --jsonl results.jsonl --resume   (skip inputs already scored)
  shimsim corpus traces/ --shim all --scheduler tcp://10.0.0.5:8786        (an existing Dask cluster)
  shimsim corpus /usr/bin --shim gvisor --weights by_inst --html corpus.html --csv corpus.csv

Inputs: traces (strace, truss, dtruss, kdump: sniffed), ELF binaries (by
their magic), a loupedb checkout or workload directory (sniffed, or forced with
'import-loupe DIR'), and directories (walked; files in them that are neither
ELF nor a trace are skipped and counted).  A bad input is one error row naming
it; the run goes on.

Verdicts per shim: runs (every call translates), emulated (runs, with calls the
layer serves itself or failures the program survives), breaks, unknown
(nothing to judge).  Completeness = weight of inputs that run or run emulated
/ total weight.  --weights FILE: 'name weight' lines or a Debian popcon
by_inst file; inputs it does not name weigh 0.

--jobs N runs a local Dask cluster of N worker processes (stopped at the end);
--scheduler ADDRESS uses an existing one.  Both need the 'corpus' extra
(pip install 'shimsim[corpus]').  The tables are identical to a serial run.
--jsonl FILE streams one JSON row per input; --resume reuses the rows whose
content digest and shim specs match (a torn last line is dropped).

exit status: 0 done, 2 bad usage or no input could be scored.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("corpus", help="score many traces, binaries and Loupe workloads per compat layer",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="trace, ELF, loupedb checkout or directory; 'import-loupe DIR' forces DIR as loupedb")
    p.add_argument("--shim", action="append", default=[], metavar="NAME_OR_FILE",
                   help="a shipped shim, a spec file, or 'all' (repeatable, or comma-separated)")
    p.add_argument("--weights", metavar="FILE", help="input weights: 'name weight' lines or popcon by_inst")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--jobs", type=int, metavar="N", help="run on a local Dask cluster of N worker processes")
    g.add_argument("--scheduler", metavar="ADDRESS", help="run on the Dask cluster at ADDRESS (tcp://HOST:PORT)")
    p.add_argument("--jsonl", metavar="FILE", help="stream one JSON row per input to FILE (JSON Lines)")
    add_old_spelling(p, "--out", "--jsonl FILE", "jsonl", metavar="FILE")
    p.add_argument("--resume", action="store_true", help="with --jsonl: skip inputs FILE already scored")
    p.add_argument("--html", metavar="FILE", help="also write the shims x syscalls matrix as HTML to FILE")
    p.add_argument("--csv", metavar="FILE", help="also write the per-syscall table as CSV to FILE")
    p.add_argument("--top", type=int, default=10, metavar="N", help="blockers listed per shim (default 10)")
    add_quiet(p)
    add_engine(p)
    add_json(p)
    p.set_defaults(func=run)


def _shims(asked: list[str]) -> list[str]:
    out = [s.strip() for a in asked for s in a.split(",") if s.strip()]
    if not out:
        raise ShimsimError("give at least one --shim (a shipped name, a spec file, or 'all')")
    return out


def run(args: argparse.Namespace) -> int:
    from shimsim import corpus
    from shimsim.corpus import weights as _weights
    from shimsim.report import progress as _progress
    inputs, force = list(args.inputs), False
    if inputs[0] == "import-loupe":
        inputs, force = inputs[1:], True
        if not inputs:
            raise ShimsimError("import-loupe needs the loupedb checkout directory")
    if args.resume and not args.jsonl:
        raise ShimsimError("--resume needs --jsonl FILE (the results to resume from)")
    if args.jobs is not None and args.jobs < 1:
        raise ShimsimError("--jobs must be 1 or more")
    if args.top < 0:
        raise ShimsimError("--top must be 0 or more")
    for opt, path in (("--html", args.html), ("--csv", args.csv), ("--jsonl", args.jsonl)):
        d = os.path.dirname(os.path.abspath(path)) if path else None
        if d is not None and not os.path.isdir(d):
            raise ShimsimError(f"{opt} {path}: no such directory {d}")   # before the run, not after it
    w = _weights.load(args.weights) if args.weights else _weights.uniform()
    bar = _Bar(_progress.enabled(args.quiet))
    try:
        res = corpus.run(inputs, _shims(args.shim), w, jobs=args.jobs, scheduler=args.scheduler, out=args.jsonl,
                         resume=args.resume, engine=args.engine, force_loupe=force, progress=bar.update)
    finally:
        bar.close()
    tables = res.tables(args.top)
    if args.html:
        from shimsim.corpus.report import write_html
        write_html(args.html, res.tables(None))
    if args.csv:
        from shimsim.corpus.report import write_csv
        write_csv(args.csv, res.tables(None))
    if args.json:
        print_json(tables)
    else:
        from shimsim.corpus.report import print_terminal
        from shimsim.report import terminal
        print_terminal(terminal.console(), tables, min(args.top, 5))
    if not tables["inputs"]:
        print("shimsim: no input could be scored", file=sys.stderr)
        return 2
    return 0


class _Bar:
    """A progress bar over inputs on stderr (only on a terminal)."""

    def __init__(self, on: bool) -> None:
        self.bar = None
        self.task = None
        self.on = on

    def update(self, done: int, total: int) -> None:
        if not self.on:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            self.bar = Progress(TextColumn("corpus"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=Console(stderr=True), transient=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=total)
        self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
