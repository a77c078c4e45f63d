# SPDX-License-Identifier: MIT
"""``shimsim replay``: replay traces through a shim and say, call by call, what
the compat layer would do and where the program would break."""
from __future__ import annotations

import argparse

from shimsim import engine as _engine
from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim import trace
from shimsim.commands._common import add_engine, add_json, formatter, print_json
from shimsim.errors import ShimsimError

EPILOG = """examples:
  shimsim replay run.strace --shim native
  shimsim replay run.strace --shim linuxulator
  shimsim replay run.strace --shim gvisor --json
  shimsim replay ls.truss --shim none --abi freebsd-amd64
  shimsim replay ls.truss --shim my-layer.toml --engine python
  shimsim replay run.strace --shim wsl1 --fail-on fatal   (exit 1 if the program would break)
  shimsim replay run.strace --shim linuxulator --events 30 (the first 30 events one by one)

outcomes, worst first: unknown (not a syscall of the guest ABI), failed, faked,
stubbed, partial, emulated, translated.  A divergence is an event whose
guest-visible result differs from the recording; it is fatal when a call that
succeeded would fail and no known fallback (tables/fallbacks.csv) rescues it.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay traces through a shim model of a compat layer",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("traces", nargs="+", metavar="TRACE", help="trace file(s); '-' for stdin")
    p.add_argument("--shim", required=True, metavar="NAME_OR_FILE",
                   help="a shipped shim (see 'shimsim shims') or a spec file")
    p.add_argument("--format", metavar="F", help="trace format (default: detected)")
    p.add_argument("--abi", metavar="A", help="guest ABI of the trace (default: detected)")
    p.add_argument("--strict", action="store_true", help="stop at the first line that does not parse")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="divergences listed in the text report (default 20; all are counted)")
    p.add_argument("--events", type=int, default=0, metavar="N",
                   help="also show the first N events one by one: outcome, host call, translated flags, result")
    p.add_argument("--fail-on", choices=("never", "fatal", "any"), default="never",
                   help="exit 1 on a fatal divergence, or on any divergence (default never)")
    add_engine(p)
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    eng = _engine.select(args.engine)
    spec = _shim.load_spec(args.shim)
    t = trace.open(args.traces, format=args.format, abi=args.abi, strict=args.strict, engine=eng)
    if spec.guest != _shim.ANY and t.abi != spec.guest:
        raise ShimsimError(f"trace ABI {t.abi} does not match shim {spec.name}'s guest ABI {spec.guest} "
                           f"(give --abi if the trace ABI was guessed wrong, or choose a shim for {t.abi})")
    cs = _shim.compile_shim(spec, t.abi)
    rp = _replay.Replayer(cs, eng, keep_events=max(0, args.events))
    if eng == "c":
        for b in t.batches():
            rp.feed_batch(b.events, b.count, b.files, b.abis)
    else:
        rp.feed_events(t.events())
    rep = rp.finish()
    stats = t.stats
    if args.json:
        out = rep.to_json()
        out["traces"] = list(args.traces)
        out["format"] = t.format
        out["unparsed_lines"] = stats.unparsed_count
        print_json(out)
    else:
        print_text(rep, t, args.limit)
    if args.fail_on == "fatal" and rep.first_fatal is not None:
        return 1
    if args.fail_on == "any" and rep.ndivergences:
        return 1
    return 0


def _share(n: int, total: int) -> str:
    return f"{100.0 * n / total:5.1f}%" if total else "    -"


def print_text(rep: _replay.Report, t, limit: int) -> None:
    print(f"shim {rep.shim}: {rep.guest} -> {rep.host}   trace: {', '.join(t.paths)} ({t.format})")
    print(f"{rep.events} events, {rep.syscalls} syscalls"
          + (f", {t.stats.unparsed_count} lines not parsed" if t.stats.unparsed_count else ""))
    print()
    print("outcome       calls   share")
    for o in range(7):
        n = rep.outcomes.get(o, 0)
        print(f"{_shim.OUTCOME_NAMES[o]:<12} {n:>6}  {_share(n, rep.syscalls)}")
    print()
    rows = rep.syscall_rows()
    w = max([7] + [len(r["name"]) for r in rows])
    print(f"{'syscall':<{w}}  {'calls':>6}  {'outcome':<10}  note")
    for r in rows:
        print(f"{r['name']:<{w}}  {r['calls']:>6}  {r['outcome']:<10}  {r['note']}")
    print()
    kinds = ", ".join(f"{v} {_replay.DIV_NAMES[k]}" for k, v in sorted(rep.div_counts.items()))
    print(f"divergences: {rep.ndivergences}" + (f" ({kinds})" if kinds else ""))
    for d in rep.divergences[:limit]:
        tag = "FATAL" if d.fatal else _replay.DIV_NAMES[d.code]
        print(f"  {d.file}:{d.line}: [{tag}] {d.reason}")
    if rep.ndivergences > min(limit, len(rep.divergences)):
        print(f"  ... {rep.ndivergences - min(limit, len(rep.divergences))} more (--limit N, or --json)")
    if rep.undecoded:
        print(f"flag arguments not decoded in {rep.undecoded} calls (raw or unusual text): not judged")
    if rep.event_rows:
        print()
        print(f"first {len(rep.event_rows)} events:")
        for r in rep.event_rows:
            where = f"{r['file']}:{r['line']}"
            if r["kind"] != "syscall":
                print(f"  {where}: {r['kind']} {r['name'] or ''}" + (f"  [{r['divergence']}]" if r["divergence"] else ""))
                continue
            host = r.get("host_call")
            fl = " ".join(f"arg{f['arg']}={f['host']}" + (f" (dropped {f['dropped']})" if "dropped" in f else "")
                          for f in r.get("flags", []))
            print(f"  {where}: {r['name']}: {r['outcome']}" + (f" -> {host}" if host else "")
                  + (f" {fl}" if fl else "") + f" = {r['result']}"
                  + (f"  [{r['divergence']}]" if r["divergence"] else ""))
    print()
    if rep.first_fatal is None:
        print("first fatal divergence: none (the program would run as recorded, modulo the divergences above)")
    else:
        f = rep.first_fatal
        print(f"first fatal divergence: {f.file}:{f.line}: {f.reason}")
