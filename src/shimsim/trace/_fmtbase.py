# SPDX-License-Identifier: MIT
"""Shared plumbing for the non-strace parsers (FreeBSD truss, illumos truss,
dtruss, kdump).

Each of those formats is line-oriented with a few records that continue on
the following lines (kdump GIO data, truss argv/envp, dtruss stacks), so every
parser follows the same shape: classify a line, make or extend an event, and
hand every line it cannot use to :meth:`Sink.bad`, which counts it (lenient)
or raises :class:`InputError` naming file:line (strict).  Blank lines carry
nothing and are counted as skipped, never as events.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.errors import InputError
from shimsim.lex import strace as _lex

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any, Protocol

    class StatsLike(Protocol):   # what a parser reports to (annotations only)
        def unparsed(self, path: str, line: int, reason: str) -> None: ...
        def skip(self, reason: str, n: int = 1) -> None: ...

MAX_LINE = 1 << 20   # a longer "line" is not trace output (binary or corrupt input)
SNIFF_LINES = 50


def snippet(text: str, n: int = 60) -> str:
    """A short printable excerpt of a bad line for messages."""
    t = text if len(text) <= n else text[:n] + "..."
    return repr(t)


class Sink:
    """Where a parser reports lines it does not turn into events."""

    def __init__(self, path: str, stats: StatsLike, strict: bool, what: str) -> None:
        self.path, self.stats, self.strict, self.what = path, stats, strict, what

    def bad(self, lineno: int, expected: str, text: str, reason: str | None = None) -> None:
        """A line this format does not explain: error in strict mode, counted otherwise."""
        if self.strict:
            raise InputError(self.path, lineno, f"expected {expected}, got {snippet(text)}")
        self.stats.unparsed(self.path, lineno, reason or f"not {self.what}: {snippet(text, 40)}")

    def skip(self, reason: str) -> None:
        self.stats.skip(reason)


class Holder:
    """Keeps the most recent event back for one line so continuation lines
    (argv:, stack frames, siginfo:) can still be attached to it."""

    def __init__(self) -> None:
        self.ev: model.Event | None = None

    def push(self, ev: model.Event) -> Iterator[model.Event]:
        if self.ev is not None:
            yield self.ev
        self.ev = ev

    def flush(self) -> Iterator[model.Event]:
        if self.ev is not None:
            yield self.ev
        self.ev = None


def clean(line: str) -> str:
    """Drop the line end and surrounding whitespace, including the ideographic
    spaces that re-published traces sometimes carry as indentation."""
    return line.rstrip("\r\n").strip()


def too_long(line: str) -> bool:
    return len(line) > MAX_LINE


def parse_int(text: str) -> int:
    """Decimal, negative decimal or 0x hex, as the trace tools print numbers."""
    t = text.strip()
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    v = int(t, 16) if t[:2] in ("0x", "0X") else int(t, 10)
    return -v if neg else v


# Top-level arguments: the one lexer of argument text (truss, dtruss and kdump
# print C-like argument lists; their '0x3<PROT_READ>' is read like a -y decoration).
split_args = _lex.split_args


_FLAGARG = lazy_re(r"^(-?(?:0x[0-9a-fA-F]+|\d+))<([^<>]*)>$")


def decode_flag_args(args: str) -> dict[str, Any]:
    """FreeBSD kdump decodes flag/enum arguments as ``0x3<PROT_READ|PROT_WRITE>``:
    return {index: {"value": int, "names": [...]}} for those arguments."""
    out: dict[str, Any] = {}
    if "<" not in args:
        return out
    for i, a in enumerate(split_args(args)):
        m = _FLAGARG.match(a)
        if m:
            names = [x for x in re.split(r"[|,]", m.group(2)) if x]   # NetBSD separates with commas
            out[str(i)] = {"value": parse_int(m.group(1)), "names": names}
    return out


ABI_PREFIXES = ("linux_", "freebsd32_")


def guest_name(name: str) -> str:
    """FreeBSD's truss and kdump name Linux-ABI calls ``linux_open`` and 32-bit
    compat calls ``freebsd32_mmap``; events carry the guest's own name."""
    for p in ABI_PREFIXES:
        if name.startswith(p) and len(name) > len(p):
            return name[len(p):]
    return name


def syscall_event(path: str, lineno: int, **kw: Any) -> model.Event:
    return model.Event(kind=model.SYSCALL, file=path, line=lineno, **kw)


def exit_status(args: str) -> int | None:
    """The status argument of an exit-style call (``0x45``, ``69``)."""
    a = split_args(args)
    if len(a) != 1:
        return None
    try:
        return parse_int(a[0])
    except ValueError:
        return None


def ratio_score(strong: int, weak: int, total: int) -> float:
    """Confidence from counts of lines that only this format prints (strong)
    and lines that fit it but also other formats (weak)."""
    if total == 0 or strong == 0:
        return 0.1 if weak and total and weak * 2 >= total else 0.0
    return min(1.0, 0.5 + 0.5 * (strong + weak) / total)


_SUM_HEADER = lazy_re(r"^syscall\s+seconds\s+calls\s+errors$")
_SUM_ROW = lazy_re(r"^(?P<name>[A-Za-z_#][\w#.]*)\s+(?P<secs>\d*\.\d+)\s+(?P<calls>\d+)(?:\s+(?P<errors>\d+))?$")
_SUM_OTHER = lazy_re(r"^(?:-[-\s]*|\d*\.\d+\s+\d+\s+\d+|sys totals:.*|usr time:.*|elapsed:.*|total:\s+\d+"
                        r"|(?:faults|signals) -+|(?:FLT|SIG)\w+\s+\d+)$")
_SUM_START = lazy_re(r"^(?:faults|signals) -+$")


class TrussSummary:
    """The ``truss -c`` table (FreeBSD and illumos): per-syscall seconds,
    calls and errors, plus illumos' fault/signal counts and totals.  Its rows
    become ``stats.summary`` (name -> [calls, errors]), like strace -c."""

    def __init__(self) -> None:
        self.active = False
        self.rows: dict[str, list[int]] = {}

    def feed(self, s: str) -> bool:
        """True if the (stripped) line belongs to a summary table."""
        if _SUM_HEADER.match(s) or _SUM_START.match(s):
            self.active = True
            return True
        if not self.active:
            return False
        if (m := _SUM_ROW.match(s)) is not None:
            row = self.rows.setdefault(m.group("name"), [0, 0])
            row[0] += int(m.group("calls"))
            row[1] += int(m.group("errors") or 0)
            return True
        if _SUM_OTHER.match(s):
            return True
        self.active = False
        return False

    def finish(self, stats: StatsLike) -> None:
        if self.rows and hasattr(stats, "summary"):
            stats.summary = dict(self.rows)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- argument text

def render_arg_plain(v: Any, null: str = "0x0", ptr: Any = hex) -> str:
    """An argument as the truss family prints it: decimal numbers, names,
    quoted strings, octal modes; NULL and pointers as NULL and PTR say."""
    from shimsim.trace import args

    if isinstance(v, args.Fd):
        return str(v.n)
    if isinstance(v, args.FdPair):
        return "0x7ffde0000010"
    if isinstance(v, args.Named):
        return v.name
    if isinstance(v, args.Quoted):
        return f'"{v.text}"'
    if isinstance(v, args.Ptr):
        return null if v.addr == 0 else ptr(v.addr)
    if isinstance(v, args.FlagSet):
        return str(v)
    if isinstance(v, args.Num):
        if v.kind == "mode":
            return f"0{v.value:o}" if v.value else "000"
        return str(v.value)
    raise args.no_text(v)


def render_arg_hex(v: Any, quoted: Any, flags: Any) -> str:
    """An argument as the DTrace/ktrace family prints it: every number in hex;
    strings and flag sets as QUOTED and FLAGS say."""
    from shimsim.trace import args

    if isinstance(v, args.Fd):
        return hex(v.n)
    if isinstance(v, args.FdPair):
        return "0x7ffde0000010"
    if isinstance(v, args.Named):
        return hex(v.value & 0xFFFFFFFF) if v.value < 0 else hex(v.value)
    if isinstance(v, args.Quoted):
        return quoted(v)
    if isinstance(v, args.Ptr):
        return "0x0" if v.addr == 0 else hex(v.addr)
    if isinstance(v, args.FlagSet):
        return flags(v)
    if isinstance(v, args.Num):
        return hex(v.value)
    raise args.no_text(v)
