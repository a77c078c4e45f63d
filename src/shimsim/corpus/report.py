# SPDX-License-Identifier: MIT
"""Renderings of the corpus tables: terminal, CSV, and a self-contained HTML matrix.

All take the JSON tables (``Result.tables()``), so every format shows the same
numbers.  Input paths and syscall names come from untrusted files: the
terminal gets them as rich ``Text`` with control characters escaped, the HTML
page through Jinja2 autoescaping and the script-safe JSON embedding of the
replay report.
"""
from __future__ import annotations

import csv
import datetime as _dt
from typing import Any

from shimsim import __version__

COLOURS = {"unknown": "#8e44ad", "failed": "#c0392b", "faked": "#d35400", "stubbed": "#e67e22",
           "partial": "#f1c40f", "emulated": "#2e86c1", "translated": "#27ae60"}


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _w(x: float) -> str:
    return f"{x:g}"


def print_terminal(con, tables: dict, top: int = 5) -> None:
    from rich import box
    from rich.table import Table

    from shimsim.report.terminal import OUTCOME_STYLE, text
    kinds = ", ".join(f"{n} {k}" for k, n in tables["kinds"].items()) or "none"
    con.print(text(f"{tables['inputs']} inputs scored ({kinds}); {tables['errors']} error(s); "
                   f"{tables['skipped']} file(s) skipped (neither ELF nor a trace); weights: {tables['weights']}"
                   + (f", {tables['unweighted']} input(s) unweighted" if tables["unweighted"] else "")))
    t = Table(box=box.SIMPLE_HEAVY, show_edge=False)
    for col, just in (("shim", "left"), ("runs", "right"), ("emulated", "right"), ("breaks", "right"),
                      ("unknown", "right"), ("completeness", "right"), ("top blockers (weight broken / it alone unlocks)", "left")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for s in tables["shims"]:
        bl = "; ".join(f"{b['syscall']} {_w(b['weight'])}/{_w(b['unlocks_weight'])}" for b in s["blockers"][:top])
        if s["no_layer"]:
            bl = (bl + "; " if bl else "") + f"no layer for {s['no_layer']} input(s)"
        t.add_row(text(s["shim"]), str(s["runs"]), str(s["emulated"]), str(s["breaks"]), str(s["unknown"]),
                  text(_pct(s["completeness"]), "bold"), text(bl or "-"))
    con.print(t)
    if tables.get("loupe"):
        lp = tables["loupe"]
        con.print(text(f"Loupe workloads: {lp['workloads']}; median used syscalls {lp['median_used']:g}, "
                       f"median required (neither stub nor fake survives) {lp['median_required']:g}"))
    top_calls = tables["syscalls"][:top]
    if top_calls:
        con.print(text("most important calls: " + ", ".join(
            f"{c['syscall']} {_pct(c['importance'])}" for c in top_calls)))
    for e in tables["error_list"][:10]:
        con.print(text(f"error: {e['error']}", OUTCOME_STYLE["failed"]))
    if len(tables["error_list"]) > 10:
        con.print(text(f"... {len(tables['error_list']) - 10} more error(s) (use --json or --jsonl)"))


def write_csv(path: str, tables: dict) -> None:
    """One row per syscall: use and importance, then per shim its outcome and the weight it breaks."""
    shims = [s["shim"] for s in tables["shims"]]
    broken = {s["shim"]: {b["syscall"]: b for b in s["blockers"]} for s in tables["shims"]}
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["syscall", "inputs", "importance", "tsai_importance"]
                   + [c for s in shims for c in (f"{s} outcome", f"{s} breaks weight", f"{s} unlocks weight")])
        for c in tables["syscalls"]:
            cells: list[Any] = [c["syscall"], c["inputs"], c["importance"], c["tsai_importance"]]
            for s in shims:
                b = broken[s].get(c["syscall"])
                cells += [c["outcomes"].get(s) or "", b["weight"] if b else 0, b["unlocks_weight"] if b else 0]
            w.writerow(cells)


def write_html(path: str, tables: dict) -> None:
    from shimsim.report.html import _env, content_security_policy, json_for_script, template_text
    src = template_text("corpus.html.j2")
    env = _env()
    shims = tables["shims"]
    bars = [{"shim": s["shim"], "pct": 100 * (s["completeness"] or 0.0)} for s in shims]
    html = env.from_string(src).render(
        csp=content_security_policy(src), version=__version__, generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        t=tables, bars=bars, colours=COLOURS, pct=_pct, data=json_for_script(
            {"shims": [s["shim"] for s in shims], "syscalls": tables["syscalls"],
             "blockers": {s["shim"]: {b["syscall"]: b["weight"] for b in s["blockers"]} for s in shims}}))
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(html)
