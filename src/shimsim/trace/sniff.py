# SPDX-License-Identifier: MIT
"""Format auto-detection from the first lines of a trace.

Each format scores 0..1 on the first ~200 lines; the best score wins.  strace
is scored here; the other formats by their own module's sniff().  A clear
error, naming the formats tried, when nothing fits.
"""
from __future__ import annotations

import re

from shimsim.errors import InputError
from shimsim.trace import formats
from shimsim.trace.strace import is_summary_header

_STRACE_LINE = re.compile(
    r"^(?:\[pid +\d+(?:<[^>]*>)?\] |\d+(?:<[^>]*>)? +)?(?: *[\d:.]+ +)?(?:\[[0-9a-f? ]+\] +){0,2}"
    r"(?:[A-Za-z_][A-Za-z0-9_]*\(.*(?:\) += |<unfinished \.\.\.>)|<\.\.\. [A-Za-z0-9_]+ resumed>"
    r"|--- |\+\+\+ |\[ Process PID=|strace: )"
)
# i386-only names: a trace made on a 32-bit system (no personality note)
I386_NAMES = frozenset({"mmap2", "fstat64", "stat64", "lstat64", "fcntl64", "_llseek", "ugetrlimit",
                        "socketcall", "waitpid", "sigreturn", "fstatat64", "statfs64",
                        "_newselect"})
_CALL = re.compile(r"(?:\[pid +\d+(?:<[^>]*>)?\] |\d+(?:<[^>]*>)? +)?(?:[\d:.]+ +)?(?:\[[0-9a-f? ]+\] +){0,2}([a-z_][a-z0-9_]*)\(")


# QEMU's -strace prints "PID name(a,b)" with no space after the commas; strace always puts one
_QEMU_ARGS = re.compile(r"^\d+ [a-z_][a-z0-9_]*\([^ ()\",]*,[^ ]")


def strace_score(lines: list[str]) -> float:
    body = [ln for ln in lines if ln.strip()]
    if not body:
        return 0.0
    calls = sum(1 for ln in body if _STRACE_LINE.match(ln) and not _QEMU_ARGS.match(ln))
    stack = sum(1 for ln in body if ln.startswith(" > "))  # -k frames follow calls
    return (calls + stack) / len(body) if calls else 0.0


def is_summary_only(lines: list[str]) -> bool:
    body = [ln for ln in lines if ln.strip()]
    return bool(body) and (is_summary_header(body[0]) or body[0].startswith("System call usage summary"))


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


def strace_abi(lines: list[str]) -> str | None:
    """The guest ABI of a strace trace from its content: i386-only syscall
    names with no personality note mean a trace recorded on a 32-bit system."""
    if any("[ Process PID=" in ln for ln in lines):
        return None
    for ln in lines:
        m = _CALL.match(ln)
        if m and m.group(1) in I386_NAMES:
            return "linux-i386"
    return None
