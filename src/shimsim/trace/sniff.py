# SPDX-License-Identifier: MIT
"""Format auto-detection from the first lines of a trace.

Each format scores 0..1 on the first ~200 lines; the best score wins.  strace
is scored here; the other formats by their own module's sniff().  A clear
error, naming the formats tried, when nothing fits.
"""
from __future__ import annotations

from shimsim.errors import InputError
from shimsim.trace import formats
from shimsim.trace.strace import (I386_NAMES, guess_abi, is_summary_only,  # noqa: F401
                                  strace_score)

strace_abi = guess_abi


def detect(lines: list[str], path: str) -> str:
    """The format name for these first lines."""
    if is_summary_only(lines):
        return "strace-summary"
    scores = {"strace": strace_score(lines)}
    for name in formats.names():
        if name.startswith("strace"):
            continue
        mod = formats.available(name)
        if mod is not None and hasattr(mod, "sniff"):
            try:
                scores[name] = float(mod.sniff(lines))
            except Exception:  # a broken sniffer must not hide the other formats  # noqa: BLE001
                scores[name] = 0.0
    best = max(scores, key=lambda k: scores[k])
    if scores[best] < 0.2:
        tried = ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
        raise InputError(path, None, f"cannot recognise the trace format (scores: {tried}); give --format")
    return best
