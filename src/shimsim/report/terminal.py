# SPDX-License-Identifier: MIT
"""Terminal rendering with rich: aligned tables, colour on a terminal, plain text in a pipe.

Trace contents are untrusted and may contain rich markup (``[bold]``, ``[/]``)
or escape sequences, so every string from a trace goes in as ``Text`` (never
parsed as markup) and the console is made with markup and highlighting off.
"""
from __future__ import annotations

import re
import sys
from typing import Any, TextIO

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from shimsim import replay as _replay
from shimsim.report import Verdict, verdict
from shimsim.shim import OUTCOME_NAMES

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
PIPE_WIDTH = 1000    # a pipe has no width: wide enough that rows stay on one line
OUTCOME_STYLE = {"unknown": "magenta", "failed": "bold red", "faked": "yellow", "stubbed": "yellow",
                 "partial": "yellow", "emulated": "cyan", "translated": "green", "same": "dim"}
VERDICT_STYLE = {"runs": "bold green", "runs-emulated": "bold yellow", "uncertain": "bold yellow", "breaks": "bold red"}


def clean(s: str) -> str:
    """Control characters (an ESC from a hostile trace would drive the terminal) as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", s)


def text(s: str, style: str = "") -> Text:
    """Trace-derived text for rich: never markup, never terminal control sequences."""
    return Text(clean(s), style=style)


def console(stream: TextIO | None = None) -> Console:
    """Colour and the terminal's width on a terminal; plain, wide text otherwise."""
    out = stream if stream is not None else sys.stdout
    tty = hasattr(out, "isatty") and out.isatty()
    return Console(file=out, markup=False, highlight=False, emoji=False,
                   width=None if tty else PIPE_WIDTH, no_color=not tty, force_terminal=tty or None,
                   soft_wrap=not tty)


def table(*columns: tuple[str, str], tty: bool) -> Table:
    """A table with (header, justify) columns; boxless in a pipe so it reads as plain text."""
    t = Table(box=box.SIMPLE_HEAD if tty else None,
              show_edge=False, pad_edge=False, header_style="bold" if tty else "")
    for head, justify in columns:
        t.add_column(head, justify=justify, overflow="fold")  # type: ignore[arg-type]
    return t


def print_table(con: Console, t: Table) -> None:
    """A table; in a pipe without the padding rich leaves after the last column."""
    if con.is_terminal:
        con.print(t)
        return
    with con.capture() as cap:
        con.print(t)
    con.file.write("".join(line.rstrip() + "\n" for line in cap.get().splitlines()))


def outcome_text(name: str) -> Text:
    return text(name, style=OUTCOME_STYLE.get(name, ""))


def print_verdict(con: Console, v: Verdict) -> None:
    con.print(text(v.text, style=VERDICT_STYLE.get(v.status, "bold")))
    for n in v.notes:
        con.print(text(f"  - {n}"))


def _share(n: int, total: int) -> str:
    return f"{100.0 * n / total:5.1f}%" if total else "-"


def print_replay(con: Console, rep: _replay.Report, t: Any, limit: int) -> None:
    """The replay report: verdict first, then the evidence."""
    tty = con.is_terminal
    print_verdict(con, verdict(rep))
    con.print()
    con.print(text(f"shim {rep.shim}: {rep.guest} -> {rep.host}   trace: {', '.join(t.paths)} ({t.format})"))
    con.print(text(f"{rep.events} events, {rep.syscalls} syscalls"
                   + (f", {t.stats.unparsed_count} lines not parsed" if t.stats.unparsed_count else "")))
    for line in t.stats.unparsed_lines[:3]:
        con.print(text(f"  not parsed: {line}"))
    if getattr(t, "abi_note", None):
        con.print(text(f"note: {t.abi_note}", style="yellow"))
    if rep.callers:
        con.print(text("callers (who makes the calls: fallbacks apply per caller):"))
        for c in rep.callers[:8]:
            con.print(text(f"  {c['text']} [{c['pids']} process{'es' if c['pids'] != 1 else ''}]"))
        if len(rep.callers) > 8:
            con.print(text(f"  ... and {len(rep.callers) - 8} more"))
    con.print()
    ot = table(("outcome", "left"), ("calls", "right"), ("share", "right"), tty=tty)
    for o in range(7):
        n = rep.outcomes.get(o, 0)
        ot.add_row(outcome_text(OUTCOME_NAMES[o]), str(n), _share(n, rep.syscalls))
    print_table(con, ot)
    con.print()
    st = table(("syscall", "left"), ("calls", "right"), ("outcome", "left"), ("note", "left"), tty=tty)
    for r in rep.syscall_rows():
        st.add_row(text(r["name"]), str(r["calls"]), outcome_text(r["outcome"]), text(r["note"]))
    print_table(con, st)
    con.print()
    _print_divergences(con, rep, limit)
    if rep.event_rows:
        con.print()
        con.print(text(f"first {len(rep.event_rows)} events:"))
        for r in rep.event_rows:
            con.print(text("  " + event_line(r)))
    con.print()
    if rep.first_fatal is None:
        con.print(text("first fatal divergence: none (the program would run as recorded, "
                       "modulo the divergences above)"))
    else:
        f = rep.first_fatal
        con.print(text(f"first fatal divergence: {f.file}:{f.line}: {f.reason}", style="bold red"))


def _print_divergences(con: Console, rep: _replay.Report, limit: int) -> None:
    kinds = ", ".join(f"{v} {_replay.DIV_NAMES[k]}" for k, v in sorted(rep.div_counts.items()))
    con.print(text(f"divergences: {rep.ndivergences}" + (f" ({kinds})" if kinds else ""), style="bold"))
    for d in rep.divergences[:limit]:
        tag = "FATAL" if d.fatal else _replay.DIV_NAMES[d.code]
        line = text(f"  {d.file}:{d.line}: ")
        line.append(f"[{tag}]", style="bold red" if d.fatal else "yellow")
        line.append(clean(f" {d.reason}"))
        con.print(line)
    shown = min(limit, len(rep.divergences))
    if rep.ndivergences > shown:
        con.print(text(f"  ... {rep.ndivergences - shown} more (--limit N, or --json)"))
    if rep.undecoded:
        con.print(text(f"flag arguments not decoded in {rep.undecoded} calls (raw or unusual text): not judged"))


def event_line(r: dict) -> str:
    """One event of --events N: outcome, host call, translated flags, guest-visible result."""
    where = f"{r['file']}:{r['line']}"
    if r["kind"] != "syscall":
        return f"{where}: {r['kind']} {r['name'] or ''}" + (f"  [{r['divergence']}]" if r["divergence"] else "")
    host = r.get("host_call")
    fl = " ".join(f"arg{f['arg']}={f['host']}" + (f" (dropped {f['dropped']})" if "dropped" in f else "")
                  for f in r.get("flags", []))
    return (f"{where}: {r['name']}: {r['outcome']}" + (f" -> {host}" if host else "")
            + (f" {fl}" if fl else "") + f" = {r['result']}"
            + (f"  [{r['divergence']}]" if r["divergence"] else ""))
