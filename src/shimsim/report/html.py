# SPDX-License-Identifier: MIT
"""The self-contained HTML report of a replay.

One file, viewable offline: inline CSS, inline SVG charts, a little inline JS
to sort and filter the per-syscall table.  Trace contents are untrusted (a
path in a trace can be ``<script>...</script>``), so the page is rendered by
Jinja2 with autoescaping on, and the data the script reads is embedded as JSON
inside ``<script type="application/json">`` with ``<``, ``>``, ``&`` and
U+2028/U+2029 escaped, so nothing from a trace can close the element or be
read as markup.

Each page also carries a Content-Security-Policy (:func:`content_security_policy`):
only the template's own inline scripts run, by their sha256, and nothing is
loaded from anywhere, so even a value that escaped the escaping could not run
a script.  Every shown value has its bidirectional control characters
(U+202A-U+202E, U+2066-U+2069, U+200E/F, U+061C) replaced by a visible
``[U+202E]``, so a path cannot reorder the text around it, and is cut after
SHOWN_MAX characters (the embedded JSON keeps it whole).
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import importlib.resources
import json
import re
from typing import Any

import jinja2
from markupsafe import Markup

from shimsim import __version__, output
from shimsim import replay as _replay
from shimsim.errors import ShimsimError
from shimsim.report import replay_json, verdict
from shimsim.report.timeline import Timeline
from shimsim.shim import EMULATED, OUTCOME_NAMES

COLOURS = {"unknown": "#8e44ad", "failed": "#c0392b", "faked": "#d35400", "stubbed": "#e67e22",
           "partial": "#f1c40f", "emulated": "#2e86c1", "translated": "#27ae60", "other": "#bdc3c7"}
TRACE_LINE_MAX = 400    # characters of a trace line shown next to its divergence
SHOWN_MAX = 4096      # characters of one value shown in a page (a 1 MB path is cut, with a count)
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_JS_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_for_script(obj: Any) -> Markup:
    """JSON safe inside a <script> element: no '<', '>', '&' or JS line separators."""
    s = json.dumps(obj, ensure_ascii=False, sort_keys=False)
    for ch, esc in _JS_ESCAPES.items():
        s = s.replace(ch, esc)
    return Markup(s)


def shown(value: Any) -> Any:
    """A value as a page shows it: bidi controls made visible, cut after SHOWN_MAX characters."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    if len(value) > SHOWN_MAX:
        value = f"{value[:SHOWN_MAX]}... ({len(value) - SHOWN_MAX} more characters)"
    return BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)


def content_security_policy(template_text: str) -> str:
    """The policy of a page from TEMPLATE_TEXT: its own inline ``<script>`` bodies (which hold no
    template expressions, so they render as written) are allowed by hash, and nothing else runs
    or loads; inline styles stay allowed (the charts' colours), forms and <base> are not."""
    hashes = []
    for body in _INLINE_SCRIPT.findall(template_text):
        if "{{" in body or "{%" in body or "{#" in body:
            raise ValueError("an inline script of a report template must be static")
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        hashes.append(f"'sha256-{digest}'")
    scripts = " ".join(hashes) or "'none'"
    return (f"default-src 'none'; script-src {scripts}; "
            "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'")


def _env() -> jinja2.Environment:
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, finalize=shown)


def template_text(name: str) -> str:
    return (importlib.resources.files("shimsim.report") / "templates" / name).read_text("utf-8")


def _template() -> tuple[jinja2.Template, str]:
    text = template_text("report.html.j2")
    return _env().from_string(text), content_security_policy(text)


def trace_lines(divs: list[_replay.Divergence]) -> dict[tuple[str, int], str]:
    """The recorded text of each listed divergence's line (one pass per file)."""
    from shimsim.trace import io

    want: dict[str, set[int]] = {}
    for d in divs:
        if d.file != "-" and d.file != "?":
            want.setdefault(d.file, set()).add(d.line)
    out: dict[tuple[str, int], str] = {}
    for path, lines in want.items():
        last = max(lines)
        try:
            for n, text in enumerate(io.lines(path), 1):
                if n in lines:
                    out[(path, n)] = text if len(text) <= TRACE_LINE_MAX else text[:TRACE_LINE_MAX] + " ..."
                if n >= last:
                    break
        except (OSError, ShimsimError):
            continue   # the report still lists the divergence, without its line
    return out


def _outcome_bars(rep: _replay.Report) -> list[dict]:
    total = rep.syscalls or 1
    top = max([rep.outcomes.get(o, 0) for o in range(7)] + [1])
    return [{"name": OUTCOME_NAMES[o], "calls": rep.outcomes.get(o, 0),
             "share": 100.0 * rep.outcomes.get(o, 0) / total,
             "width": 100.0 * rep.outcomes.get(o, 0) / top, "colour": COLOURS[OUTCOME_NAMES[o]]}
            for o in range(7)]


def _timeline(tl: Timeline | None, rep: _replay.Report, paths: list[str]) -> dict | None:
    """Stacked columns (heights as shares of each bin) and the bin of the first fatal divergence."""
    if tl is None or not tl.bins:
        return None
    order = {p: i for i, p in enumerate(paths)}
    cols = []
    for b in tl.bins:
        y = 0.0
        parts = []
        for o in range(6, -1, -1):     # translated at the bottom, worst on top
            c = b.counts[o]
            if c:
                h = 100.0 * c / b.filled
                parts.append({"name": OUTCOME_NAMES[o], "y": y, "h": h, "colour": COLOURS[OUTCOME_NAMES[o]]})
                y += h
        other = b.counts[7]
        if other:
            parts.append({"name": "other", "y": y, "h": 100.0 * other / b.filled, "colour": COLOURS["other"]})
        title = f"{b.file}:{b.line}: " + ", ".join(
            f"{OUTCOME_NAMES[o]} {b.counts[o]}" for o in range(7) if b.counts[o]) + (
            f", other events {other}" if other else "")
        worst = next((o for o in range(7) if b.counts[o]), None)
        # rare problems vanish in shares: the strip above marks every column that has any
        mark = COLOURS[OUTCOME_NAMES[worst]] if worst is not None and worst < EMULATED else None
        cols.append({"parts": parts, "title": title, "mark": mark})
    fatal = None
    if rep.first_fatal is not None:
        key = (order.get(rep.first_fatal.file, 0), rep.first_fatal.line)
        for i, b in enumerate(tl.bins):
            if (order.get(b.file, 0), b.line) <= key:
                fatal = i
    return {"cols": cols, "n": len(cols), "per_bin": tl.size, "fatal": fatal,
            "first": f"{tl.bins[0].file}:{tl.bins[0].line}", "last": f"{tl.bins[-1].file}:{tl.bins[-1].line}"}


def render(rep: _replay.Report, t: Any, tl: Timeline | None = None) -> str:
    """The report page as a string."""
    v = verdict(rep)
    rows = rep.syscall_rows()
    lines = trace_lines(rep.divergences)
    divs = [{**d.to_json(), "text": lines.get((d.file, d.line))} for d in rep.divergences]
    # the same object as --json (schemas/replay.json), for the table script and for tools
    data = {"report": replay_json(rep, t), "timeline": tl.to_json() if tl is not None else None,
            "outcome_order": list(OUTCOME_NAMES[:7])}
    tmpl, csp = _template()
    return tmpl.render(
        csp=csp, title=f"shimsim: {rep.shim} on {', '.join(t.paths)}",
        v=v, rep=rep, trace_paths=t.paths, trace_format=t.format, stats=t.stats,
        bars=_outcome_bars(rep), rows=rows, divs=divs, div_kinds={_replay.DIV_NAMES[k]: n for k, n in
                                                                sorted(rep.div_counts.items())},
        timeline=_timeline(tl, rep, t.paths), colours=COLOURS, data_json=json_for_script(data),
        version=__version__, generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )


def write(path: str, rep: _replay.Report, t: Any, tl: Timeline | None = None) -> None:
    """Write the report all-or-nothing (shimsim.output); a path that cannot be
    written, or is one of the traces, is bad input (exit 2)."""
    output.write_text(path, render(rep, t, tl), inputs=t.paths)
