# SPDX-License-Identifier: MIT
"""Reports: the verdict a replay comes to, and its renderings (terminal, JSON, HTML).

The verdict is said first, in one line, because it is what a reader wants:
"would run", "would run with N emulated calls" or "would break at file:line:
syscall X (reason)".  Everything below it in a report is the evidence.
"""
from __future__ import annotations


from shimsim._record import Record

# The outcome and divergence codes come from shimsim.codes, not shimsim.replay or
# shimsim.shim, so that `shimsim parse` (parse_json) does not import the replayer.
from shimsim.codes import DIV_FALLBACK, DIV_NAMES, EMULATED, FAKED, PARTIAL, STUBBED, UNKNOWN

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any
    from shimsim import replay as _replay

# Outcomes that mean the layer does the work itself rather than pass the call on.
EMULATING = (EMULATED, PARTIAL, STUBBED, FAKED)


class Verdict(Record):
    """A one-line verdict on a trace or binary: runs, runs-emulated or breaks, and why."""
    _FIELDS = ("status", "text", "emulated_calls", "notes")
    status: str                      # "runs" | "runs-emulated" | "breaks"
    text: str                        # the one-line verdict
    emulated_calls: int
    notes: list[str]                 # what qualifies the verdict

    def __init__(self, status: str, text: str, emulated_calls: int, notes: list[str] | None = None) -> None:
        self.status, self.text, self.emulated_calls = status, text, emulated_calls
        self.notes = [] if notes is None else notes

    def to_json(self) -> dict:
        return {"status": self.status, "text": self.text, "emulated_calls": self.emulated_calls,
                "notes": list(self.notes)}


def _short_reason(d: _replay.Divergence) -> str:
    """The divergence reason without the syscall name it starts with (the verdict names it)."""
    r = d.reason
    return r[len(d.syscall) + 1:] if r.startswith(d.syscall + " ") else r


def verdict(rep: _replay.Report) -> Verdict:
    """What the replay means for the program, in one line plus qualifying notes."""
    emulated = sum(rep.outcomes.get(o, 0) for o in EMULATING)
    notes: list[str] = []
    nonfatal = rep.ndivergences - (1 if rep.first_fatal else 0)
    surv = rep.div_counts.get(DIV_FALLBACK, 0)
    if rep.ndivergences:
        kinds = ", ".join(f"{v} {DIV_NAMES[k]}" for k, v in sorted(rep.div_counts.items()))
        notes.append(f"{rep.ndivergences} divergence{'s' if rep.ndivergences != 1 else ''} from the recording ({kinds})")
    if surv and not rep.first_fatal:
        sure = surv - rep.unconfirmed
        if sure > 0:
            notes.append(f"{sure} call{'s' if sure != 1 else ''} fail but the caller has a known fallback")
        if rep.unconfirmed:
            notes.append(f"{rep.unconfirmed} call{'s' if rep.unconfirmed != 1 else ''} survivable only if the caller "
                         "falls back as the table's implementer does: caller not identified")
    unknown = rep.outcomes.get(UNKNOWN, 0)
    if unknown:
        notes.append(f"{unknown} call{'s' if unknown != 1 else ''} not judged: not syscalls of {rep.guest}")
    if rep.undecoded:
        notes.append(f"flag arguments not decoded in {rep.undecoded} calls: their flags not judged")
    if rep.first_fatal is not None:
        f = rep.first_fatal
        text = f"would break at {f.file}:{f.line}: syscall {f.syscall} ({_short_reason(f)})"
        return Verdict("breaks", text, emulated, notes)
    if rep.unconfirmed:
        text = (f"would run only if its callers fall back: {rep.unconfirmed} failing call"
                f"{'s' if rep.unconfirmed != 1 else ''} made by a program not identified")
        return Verdict("uncertain", text, emulated, notes)
    if emulated:
        text = f"would run with {emulated} emulated call{'s' if emulated != 1 else ''}"
        return Verdict("runs-emulated", text, emulated, notes)
    if nonfatal:
        return Verdict("runs", f"would run ({nonfatal} divergence{'s' if nonfatal != 1 else ''}, none fatal)",
                       0, notes)
    return Verdict("runs", "would run", 0, notes)


def replay_json(rep: _replay.Report, t: Any) -> dict:
    """The replay report as one JSON object (schemas/replay.json): the verdict first."""
    out = {"verdict": verdict(rep).to_json()}
    out.update(rep.to_json())
    out["traces"] = list(t.paths)
    out["format"] = t.format
    out["unparsed_lines"] = t.stats.unparsed_count
    if getattr(t, "abi_note", None):
        out["abi_note"] = t.abi_note
    return out


def parse_json(t: Any) -> dict:
    """A read trace's statistics as one JSON object (schemas/parse.json); call it
    once the trace's events have been read."""
    st = t.stats
    d: dict[str, Any] = {"format": t.format, "abi": t.abi, "files": t.paths, "engine": t.engine.name}
    if getattr(t, "abi_note", None):
        d["abi_note"] = t.abi_note
    d.update(st.to_json())
    if st.summary is not None:
        d["summary_table"] = {"syscalls": len(st.summary), "mismatches": st.summary_mismatches}
    return d
