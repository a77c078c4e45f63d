# SPDX-License-Identifier: MIT
"""``shimsim diff``: the calls whose outcome differs between two shims on the
same traces, for choosing a host.  The trace is read once and replayed through
both shims side by side; each shim's verdict (with its first fatal call) comes
first, then the calls whose result the program would see change."""
from __future__ import annotations

import argparse
import sys

from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim import trace
from shimsim.commands._common import (add_engine, add_fail_on, add_json, add_quiet, add_shims, add_trace_options, formatter,
                                     print_json, shim_names)
from shimsim.replay import FAIL_ON, failed_conditions
from shimsim.report import progress as _progress
from shimsim.errors import ShimsimError
from shimsim.report import verdict

EPILOG = """examples:
  shimsim diff --shim linuxulator --shim gvisor run.strace
  shimsim diff --shim wsl1 --shim illumos-lx run.strace --json
  shimsim diff --shim native --shim my-layer.toml run.strace --fail-on differ

Rows are the syscalls of the trace whose outcome (the worst over their calls,
or the count of calls per outcome) differs between shim A and shim B, in
three kinds, listed in this order:
  fails       calls fail (failed, unknown) under one shim and not the other:
              these are the ones that can change the verdict
  result      the program sees another result: a call is partial (flags
              dropped), stubbed or faked under one shim only
  minor       both serve every call in full, one emulating what the other
              translates (emulated vs translated): the program sees no
              difference, so these are counted, and listed only with --all
'same' counts the syscalls both shims treat alike.  --json lists every row
with its "kind", and counts them in "kinds".

--fail-on (repeatable) makes the exit status 1 when:
  differ      some syscall's result differs between the shims (kind fails or
              result: not a minor difference)
  fatal, divergence, failed, partial   as in 'shimsim replay', under either shim
exit status: 0 done, 1 a --fail-on condition holds, 2 bad input or usage.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("diff", help="the calls whose outcome differs between two shims on a trace",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("traces", nargs="+", metavar="TRACE", help="trace file(s); '-' for stdin")
    add_shims(p, help="a shipped shim (see 'shimsim shims') or a spec file; repeatable or comma-separated: "
                      "give exactly two (A, then B)")
    add_trace_options(p)
    p.add_argument("--all", action="store_true",
                   help="also list the minor differences (emulated vs translated) in the table")
    add_fail_on(p, FAIL_ON + ("differ",), "differ (a call the program sees differently), or fatal, divergence, "
                "failed, partial under either shim")
    add_quiet(p)
    add_engine(p)
    add_json(p)
    p.set_defaults(func=run)


def _per_outcome(rep: _replay.Report, name: str) -> dict[str, int]:
    c = rep.per_syscall.get(name)
    return {_shim.OUTCOME_NAMES[o]: n for o, n in sorted(c.items()) if n} if c else {}


# How the guest sees a call under each outcome: emulated and translated both
# serve it in full (the layer's own code or a host call), failed and unknown
# both return an error.
SEEN_AS = {"translated": "served", "emulated": "served", "partial": "partial", "stubbed": "stubbed",
           "faked": "faked", "failed": "fails", "unknown": "fails"}
KINDS = ("fails", "result", "minor")   # the order rows are listed in


def _seen(calls: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for outcome, n in calls.items():
        out[SEEN_AS.get(outcome, outcome)] = out.get(SEEN_AS.get(outcome, outcome), 0) + n
    return out


def kind(ca: dict[str, int], cb: dict[str, int]) -> str:
    """fails: the number of failing calls differs; result: the guest sees other
    results (partial, stubbed, faked); minor: only emulated vs translated."""
    sa, sb = _seen(ca), _seen(cb)
    if sa.get("fails", 0) != sb.get("fails", 0):
        return "fails"
    return "result" if sa != sb else "minor"


def differences(a: _replay.Report, b: _replay.Report) -> tuple[list[dict], int]:
    """(rows that differ, each with its kind, fails first; number of syscalls treated alike)."""
    rank = {n: i for i, n in enumerate(_shim.OUTCOME_NAMES)}
    rows, same = [], 0
    for name in sorted(set(a.per_syscall) | set(b.per_syscall)):
        ca, cb = _per_outcome(a, name), _per_outcome(b, name)
        if ca == cb:
            same += 1
            continue
        calls = max(sum(ca.values()), sum(cb.values()))
        rows.append({
            "name": name, "calls": calls, "kind": kind(ca, cb),
            "a": {"outcome": a.worst(name) if ca else None, "calls": ca, "note": a.notes.get(name, "")},
            "b": {"outcome": b.worst(name) if cb else None, "calls": cb, "note": b.notes.get(name, "")},
        })
    rows.sort(key=lambda r: (KINDS.index(r["kind"]), min(rank.get(r["a"]["outcome"] or "none", 9), rank.get(r["b"]["outcome"] or "none", 9)),
                             -r["calls"], r["name"]))
    return rows, same


def _shim_json(rep: _replay.Report) -> dict:
    return {"name": rep.shim, "host": rep.host, "verdict": verdict(rep).to_json(),
            "outcomes": {_shim.OUTCOME_NAMES[o]: rep.outcomes.get(o, 0) for o in range(7)},
            "divergences": rep.ndivergences,
            "first_divergence": rep.first_fatal.to_json() if rep.first_fatal else None}


def run(args: argparse.Namespace) -> int:
    names = shim_names(args.shim, unique=False)
    if len(names) != 2:
        raise ShimsimError(f"diff needs exactly two --shim options (A and B), got {len(names)}"
                           + (": for more, 'shimsim replay TRACE --shim A --shim B --shim C' prints one row per layer"
                              if len(names) > 2 else ""))
    specs = [_shim.load_spec(s) for s in names]
    t = trace.open(args.traces, format=args.format, abi=args.abi, strict=args.strict, engine=args.engine)
    label = "replay " + ", ".join(s.name for s in specs)
    with _progress.TraceProgress(t.paths, label, _progress.enabled(args.quiet)) as bar:
        a, b = _replay.replay_many(t, specs, progress=bar.update)
    rows, same = differences(a, b)
    if args.json:
        print_json({"traces": list(t.paths), "format": t.format, "abi": t.abi, "engine": t.engine.name,
                    "syscall_events": a.syscalls, "a": _shim_json(a), "b": _shim_json(b),
                    "differences": rows, "same": same,
                    "kinds": {k: sum(1 for r in rows if r["kind"] == k) for k in KINDS}})
    else:
        _print_text(a, b, rows, same, t, args.all)
    conds = [c for c in (args.fail_on or []) if c != "differ"]
    held = sorted(set(failed_conditions(conds, a)) | set(failed_conditions(conds, b)))
    if "differ" in (args.fail_on or []) and any(r["kind"] != "minor" for r in rows):
        held.append("differ")
    if held:
        print(f"shimsim: --fail-on {', '.join(held)}: condition holds", file=sys.stderr)
        return 1
    return 0


def _print_text(a: _replay.Report, b: _replay.Report, rows: list[dict], same: int, t: trace.Trace,
                show_all: bool = False) -> None:
    from shimsim.report import terminal

    con = terminal.console()
    for label, rep in (("A", a), ("B", b)):
        v = verdict(rep)
        line = terminal.text(f"{label} {rep.shim} ({rep.guest} -> {rep.host}): ")
        line.append(terminal.clean(v.text), style=terminal.VERDICT_STYLE.get(v.status, "bold"))
        con.print(line)
    con.print()
    con.print(terminal.text(f"trace: {', '.join(t.paths)} ({t.format}, {t.abi}), {a.syscalls} syscalls"))
    if not rows:
        con.print(terminal.text(f"no difference: both shims treat all {same} syscalls of the trace alike"))
        return
    n = {k: sum(1 for r in rows if r["kind"] == k) for k in KINDS}
    seen = n["fails"] + n["result"]
    minor = (f"{n['minor']} differ only in how they are served (emulated vs translated"
             + ("" if show_all else "; --all lists them") + ")")
    if seen:
        con.print(terminal.text(f"{seen} syscall{'s' if seen != 1 else ''} change what the program sees "
                                f"({n['fails']} fail{'s' if n['fails'] == 1 else ''} under one shim only), {minor}, "
                                f"{same} the same"))
    else:
        con.print(terminal.text(f"no difference the program can see: {minor}, {same} the same"))
    shown = [r for r in rows if show_all or r["kind"] != "minor"]
    if not shown:
        return
    con.print()
    tab = terminal.table(("syscall", "left"), ("calls", "right"), (f"A {a.shim}", "left"),
                         (f"B {b.shim}", "left"), ("kind", "left"), ("note (B)", "left"), tty=con.is_terminal)
    for r in shown:
        tab.add_row(terminal.text(r["name"]), str(r["calls"]), _cell(r["a"]), _cell(r["b"]), terminal.text(r["kind"]),
                    terminal.text(r["b"]["note"]))
    terminal.print_table(con, tab)


def _cell(side: dict):
    from shimsim.report import terminal

    if side["outcome"] is None:
        return terminal.outcome_text("-")
    mixed = len(side["calls"]) > 1
    t = terminal.outcome_text(side["outcome"])
    if mixed:
        t.append(terminal.clean(" (" + ", ".join(f"{n} {k}" for k, n in side["calls"].items()) + ")"))
    return t
