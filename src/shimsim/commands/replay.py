# SPDX-License-Identifier: MIT
"""``shimsim replay``: replay traces through a shim and say, call by call, what
the compat layer would do and where the program would break."""
from __future__ import annotations

import argparse
import os
import sys

from shimsim import engine as _engine
from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim import trace
from shimsim.commands._common import add_engine, add_json, add_quiet, formatter, print_json
from shimsim.errors import ShimsimError
from shimsim.report import progress as _progress
from shimsim.report import replay_json
from shimsim.shim import FAILED, FAKED, PARTIAL, STUBBED, UNKNOWN

EPILOG = """examples:
  shimsim replay run.strace --shim native
  shimsim replay run.strace --shim linuxulator
  shimsim replay run.strace --shim gvisor --json
  shimsim replay run.strace --shim linuxulator --html report.html
  shimsim replay ls.truss --shim none --abi freebsd-amd64
  shimsim replay ls.truss --shim my-layer.toml --engine python
  shimsim replay run.strace --shim wsl1 --fail-on fatal   (exit 1 if the program would break)
  shimsim replay run.strace --shim linuxulator --events 30 (the first 30 events one by one)

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
FAIL_ON = ("never", "fatal", "divergence", "any", "failed", "partial")


def add_fail_on(p: argparse.ArgumentParser) -> None:
    p.add_argument("--fail-on", action="append", choices=FAIL_ON, default=None, metavar="COND",
                   help="exit 1 when COND holds: fatal, divergence (any), failed, partial; repeatable "
                        "(default never)")


def add_trace_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", metavar="F", help="trace format (default: detected)")
    p.add_argument("--abi", metavar="A", help="guest ABI of the trace (default: detected)")
    p.add_argument("--strict", action="store_true", help="stop at the first line that does not parse")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay traces through a shim model of a compat layer",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("traces", nargs="+", metavar="TRACE", help="trace file(s); '-' for stdin")
    p.add_argument("--shim", required=True, metavar="NAME_OR_FILE",
                   help="a shipped shim (see 'shimsim shims') or a spec file")
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


def check_guest(spec: _shim.Spec, t: trace.Trace) -> None:
    if spec.guest != _shim.ANY and t.abi != spec.guest:
        raise ShimsimError(f"trace ABI {t.abi} does not match shim {spec.name}'s guest ABI {spec.guest} "
                           f"(give --abi if the trace ABI was guessed wrong, or choose a shim for {t.abi})")


def replay_trace(t: trace.Trace, spec: _shim.Spec, eng: str, events: int = 0, timeline=None,
                 quiet: bool = False, root: str | None = None, binary: str | None = None) -> _replay.Report:
    """One pass over the trace through the shim, with a progress bar on a terminal."""
    return replay_many(t, [spec], eng, events, timeline, quiet, root, binary)[0]


def replay_many(t: trace.Trace, specs: list[_shim.Spec], eng: str, events: int = 0, timeline=None,
                quiet: bool = False, root: str | None = None, binary: str | None = None) -> list[_replay.Report]:
    """One pass over the trace through several shims at once (the trace is read once,
    so stdin works too); ``timeline`` follows the first shim."""
    for spec in specs:
        check_guest(spec, t)
    from shimsim.callers import CallerTracker
    rps = [_replay.Replayer(_shim.compile_shim(spec, t.abi), eng, keep_events=max(0, events),
                            timeline=timeline if i == 0 else None, callers=CallerTracker(root, binary))
           for i, spec in enumerate(specs)]
    label = "replay " + ", ".join(s.name for s in specs)
    with _progress.TraceProgress(t.paths, label, _progress.enabled(quiet)) as bar:
        if eng == "c":
            n = 0
            for b in t.batches():
                for rp in rps:
                    rp.feed_batch(b.events, b.count, b.files, b.abis)
                n += b.count
                bar.update(n)
        else:
            n = 0
            for chunk in _chunks(t.events(), 8192):
                for rp in rps:
                    rp.feed_events(chunk)
                n += len(chunk)
                bar.update(n)
    return [rp.finish() for rp in rps]


def _chunks(events, size: int):
    buf = []
    for ev in events:
        buf.append(ev)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def failed_conditions(conds: list[str] | None, rep: _replay.Report) -> list[str]:
    """The --fail-on conditions that hold for this report."""
    holds = {
        "fatal": rep.first_fatal is not None,
        "divergence": rep.ndivergences > 0,
        "any": rep.ndivergences > 0,
        "failed": any(rep.outcomes.get(o, 0) for o in (FAILED, UNKNOWN)),
        "partial": any(rep.outcomes.get(o, 0) for o in (PARTIAL, STUBBED, FAKED, FAILED, UNKNOWN)),
    }
    return [c for c in (conds or []) if holds.get(c)]


def report_json(rep: _replay.Report, t: trace.Trace) -> dict:
    return replay_json(rep, t)


def run(args: argparse.Namespace) -> int:
    eng = _engine.select(args.engine)
    spec = _shim.load_spec(args.shim)
    t = trace.open(args.traces, format=args.format, abi=args.abi, strict=args.strict, engine=eng)
    tl = None
    if args.html:
        from shimsim.report.timeline import Timeline
        tl = Timeline()
    if args.root and not os.path.isdir(args.root):
        raise ShimsimError(f"--root {args.root}: not a directory")
    if args.binary and not os.path.isfile(args.binary):
        raise ShimsimError(f"--binary {args.binary}: no such file")
    rep = replay_trace(t, spec, eng, args.events, tl, args.quiet, args.root, args.binary)
    if args.html:
        from shimsim.report import html
        html.write(args.html, rep, t, tl)
    if args.json:
        print_json(report_json(rep, t))
    else:
        from shimsim.report import terminal
        con = terminal.console()
        terminal.print_replay(con, rep, t, args.limit)
        if args.html:
            con.print(f"HTML report written to {args.html}")
    held = failed_conditions(args.fail_on, rep)
    if held:
        print(f"shimsim: --fail-on {', '.join(held)}: condition holds", file=sys.stderr)
        return 1
    return 0
