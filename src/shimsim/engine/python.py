# SPDX-License-Identifier: MIT
"""The pure-Python reference engine, written to be read next to csrc/replay.c
(same order of checks, same argument and flag scanning).

``replay_event`` is one event through a compiled shim; ``PythonEngine`` is the
engine object (``shimsim.engine.get("python")``): its trace chunks are lists
of ``model.Event`` from the Python parsers, and its replay session runs
``replay_event`` over them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from shimsim import model
from shimsim.codes import (DIV_ERRNO, DIV_FAILS, DIV_FALLBACK, DIV_FLAG, DIV_NONE, DIV_RESULT,
                           DIV_SIGNAL, EMULATED, FAILED, NONE, PARTIAL, STUBBED, TRANSLATED,
                           UNKNOWN)
from shimsim.lex import strace as _lex
from shimsim.codes import RP_MAXF as MAXF
from shimsim.model import Result

TOKEN_MAX = 128          # flag tokens this long or longer are not decoded (C buffer size)
SIGNAL_KINDS = (model.SIGNAL, model.KILLED, model.STOPPED)
CHUNK_EVENTS = 8192      # events per chunk handed to a replay session

# Span of argument IDX: the one Python lexer (mirrors ss_lex_arg_span in csrc/lex.c).
arg_span = _lex.arg_span


def _ident_eq(s: str, a: int, b: int) -> tuple[int, int] | None:
    i = a
    while i < b and s[i] in " \t":
        i += 1
    j = i
    while j < b and ("a" <= s[j] <= "z" or s[j] == "_"):
        j += 1
    if j == i or j >= b or s[j] != "=":
        return None
    return i, j


def flag_arg_span(s: str, idx: int) -> tuple[int, int] | None:
    """The flag argument IDX as strace prints it (mirrors named_flags_span in csrc/replay.c):
    positional, or, when strace names the arguments in its own order
    (clone(child_stack=NULL, flags=CLONE_VM|SIGCHLD, ...)), the one named flags=."""
    span = arg_span(s, idx)
    if span is None:
        return None
    named = _ident_eq(s, *span)
    if named is None:
        return span
    i, j = named
    if s[i:j] == "flags":
        return j + 1, span[1]
    for a, b in _lex.arg_spans(s, 7)[:8]:
        x = a
        while x < b and s[x] in " \t":
            x += 1
        if b - x > 6 and s.startswith("flags=", x):
            return x + 6, b
    return None

_HEX = "0123456789abcdefABCDEF"


def parse_num(t: str) -> int | None:
    """0x.. hex, 0.. octal, decimal; the whole token; < 2**64 (mirrors parse_num in C)."""
    base, i = 10, 0
    if len(t) >= 2 and t[0] == "0" and t[1] in "xX":
        if len(t) == 2:
            return None
        base, i = 16, 2
    elif len(t) >= 2 and t[0] == "0":
        base, i = 8, 1
    v = 0
    for c in t[i:]:
        d = _HEX.find(c)
        if d < 0:
            return None
        if d >= 16:
            d -= 6            # upper-case hex digits
        if d >= base:
            return None
        v = v * base + d
        if v >= 1 << 64:
            return None
    return v


_SPACE = " \t\n\r"


def _decode_token(fm, t: str, acc: list) -> bool:
    t = t.strip(_SPACE)
    if not t:
        return False
    if "0" <= t[0] <= "9":
        v = parse_num(t)
        if v is None:
            return False
        if fm.is_enum:
            for _mask, val, m in fm.steps:
                if val == v:
                    _apply(fm, m, acc)
                    return True
            return False
        consumed = 0
        for mask, val, m in fm.steps:
            if consumed & mask == 0 and v & mask == val:
                consumed |= mask
                _apply(fm, m, acc)
        return v & ~consumed == 0
    m = fm.by_name.get(t)
    if m is None:
        return False
    _apply(fm, m, acc)
    return True


def _apply(fm, m: int, acc: list) -> None:
    _name, g, h, ok = fm.members[m]
    if ok:
        acc[0] |= h
    else:
        acc[1] |= g
        acc[2] = True


def flag_decode(fm, s: str) -> tuple[bool, int, int, bool]:
    """(decoded, host value, unsupported guest bits, dropped) for one flag argument
    text (mirrors ss_flag_decode)."""
    acc = [0, 0, False]
    s = s.lstrip(_SPACE)
    if not s or s[0] in "[\"{'":
        return False, 0, 0, False
    ok = True
    tok: list[str] = []
    i, n = 0, len(s)
    while True:
        if i >= n or s[i] == "|":
            t = "".join(tok)
            if len(t.encode()) >= TOKEN_MAX or not _decode_token(fm, t, acc):
                ok = False
            tok = []
            if i >= n:
                break
            i += 1
            continue
        if s[i] == "/" and i + 1 < n and s[i + 1] == "*":
            i += 2
            while i + 1 < n and not (s[i] == "*" and s[i + 1] == "/"):
                i += 1
            i += 2
            continue
        tok.append(s[i])
        i += 1
    return ok, acc[0], acc[1], acc[2]


def replay_event(cs, ev: model.Event, fallback: int | None = None) -> Result:
    """The reference: one event through the shim (same rules as ss_replay_batch).
    FALLBACK: the fallback id for this event's caller (CompiledShim.fallback_for);
    None uses the shim's per-number one, for a caller not identified."""
    outc, div, dropped, undecoded, nflags = NONE, DIV_NONE, False, False, 0
    div_arg = div_fmap = div_unsup = 0
    fb, hnr = -1, -1
    e_err = ev.err or 0
    e_ret = model.s64(ev.ret or 0)   # an int64 in ss_event, as in C
    err, ret = e_err, e_ret
    hflags, unsup = [0] * MAXF, [0] * MAXF
    if ev.kind == model.SYSCALL:
        nr = -1 if ev.nr is None else ev.nr
        if nr < 0 or nr >= cs.nsys or (ev.abi is not None and ev.abi != cs.guest.name) \
                or cs.outcome[nr] == UNKNOWN:
            outc = UNKNOWN
        else:
            cls = cs.outcome[nr]
            rec_err = 0
            if ev.rec == model.ERROR or (ev.rec == model.INJECTED and e_err > 0):
                rec_err = e_err if e_err > 0 else -1
            rec_ok = rec_err == 0
            outc = cls
            rej_err = 0
            for arg, fmi, e in cs.rejects.get(nr, ()):
                # flags the layer's handler rejects (mirrors the reject loop of ss_replay_batch)
                span = flag_arg_span(ev.args, arg)
                if span is None:
                    undecoded = True
                    continue
                ok, _h, bits, _d = flag_decode(cs.fmaps[fmi], ev.args[span[0]:span[1]])
                if not ok:
                    undecoded = True
                if bits and not rej_err:
                    rej_err, div_arg, div_fmap, div_unsup = e, arg, fmi, bits
            if rej_err:
                outc, err, ret = FAILED, rej_err, -1
                if rec_ok:
                    fb = cs.fallback[nr] if fallback is None else fallback
                    div = DIV_FALLBACK if fb >= 0 else DIV_FAILS
                elif rec_err != err:
                    div = DIV_ERRNO
            elif cls in (TRANSLATED, PARTIAL, EMULATED):
                hnr = cs.host_nr[nr]
                if hnr >= 0:
                    for k, (arg, fmi) in enumerate(cs.progs.get(nr, ())):
                        nflags += 1
                        span = flag_arg_span(ev.args, arg)
                        d = False
                        if span is None:
                            undecoded = True
                        else:
                            ok, hflags[k], unsup[k], d = flag_decode(cs.fmaps[fmi], ev.args[span[0]:span[1]])
                            if not ok:
                                undecoded = True
                        if d and not dropped:
                            div_arg, div_fmap, div_unsup = arg, fmi, unsup[k]
                        if d:
                            dropped = True
                if rec_err > 0 and hnr >= 0:
                    err = cs.errno_rt[rec_err] if rec_err < len(cs.errno_rt) else rec_err
                    if err != rec_err:
                        div = DIV_ERRNO
                else:
                    err = rec_err
                if dropped:
                    if outc == TRANSLATED:
                        outc = PARTIAL
                    if rec_ok:
                        div = DIV_FLAG
            elif cls == FAILED:
                err, ret = cs.fail_err[nr], -1
                if rec_ok:
                    fb = cs.fallback[nr] if fallback is None else fallback
                    div = DIV_FALLBACK if fb >= 0 else DIV_FAILS
                elif rec_err != err:
                    div = DIV_ERRNO
            elif cls == STUBBED:
                err, ret = 0, 0
                if not rec_ok or (ev.rec == model.SUCCESS and e_ret != 0):
                    div = DIV_RESULT
            else:  # FAKED
                err, ret = 0, (e_ret if rec_ok else 0)
                if not rec_ok:
                    div = DIV_RESULT
    elif ev.kind in SIGNAL_KINDS:
        s = e_err
        if 0 < s < len(cs.sig_rt) and cs.sig_rt[s] != s:
            div = DIV_SIGNAL
    return Result(outc, div, nflags, dropped, undecoded, fb, hnr, err, ret, hflags, unsup,
                  div_arg, div_fmap, div_unsup)


def chunked(events: Iterable[model.Event], size: int = CHUNK_EVENTS) -> Iterator[list[model.Event]]:
    buf: list[model.Event] = []
    for ev in events:
        buf.append(ev)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


class Session:
    """One compiled shim under the reference engine: feed() lists of Events;
    the results go to a sink (shimsim.replay.Replayer) as they come."""

    def __init__(self, cs: Any) -> None:
        self.cs = cs
        self.events = self.syscalls = self.undecoded = 0
        self.outcomes: Counter = Counter()
        self.div_counts: Counter = Counter()
        self.per_nr = [Counter() for _ in range(cs.nsys)]

    def feed(self, events: Iterable[model.Event], sink: Any) -> None:
        cs = self.cs
        tl = sink.timeline
        outs, where = bytearray(), []
        caller_of = sink.caller_fallback
        for ev in events:
            fb, ctx = caller_of(ev)
            r = replay_event(cs, ev) if fb is None else replay_event(cs, ev, fb)
            if tl is not None:
                outs.append(r.outcome)
                where.append((ev.file, ev.line))
                if len(outs) >= 4096:
                    tl.add(bytes(outs), where.__getitem__)
                    outs, where = bytearray(), []
            if sink.rows_wanted() > 0:
                sink.add_row(ev, r)
            self.events += 1
            if ev.kind == model.SYSCALL:
                self.syscalls += 1
                self.outcomes[r.outcome] += 1
                if r.undecoded:
                    self.undecoded += 1
                if r.outcome == UNKNOWN:
                    name = ev.name or f"#{ev.nr}"
                    if ev.abi is not None and ev.abi != cs.guest.name:
                        name = f"{name} ({ev.abi})"
                    sink.unknown(name)
                else:
                    self.per_nr[ev.nr][r.outcome] += 1  # type: ignore[index]
            if r.div:
                self.div_counts[r.div] += 1
                sink.divergence(ev.file, ev.line, ev.nr if ev.nr is not None else -1, ev.name,
                                r.div, r.err, r.fallback, r.div_arg, r.div_fmap, r.div_unsup,
                                ev.err or 0, ev.ret or 0, ctx)
        if tl is not None and outs:
            tl.add(bytes(outs), where.__getitem__)

    def totals(self, rep: Any) -> list[tuple[int, Counter]]:
        """Fill the report's counters; the per-syscall outcome counters by guest number."""
        rep.events, rep.syscalls, rep.undecoded = self.events, self.syscalls, self.undecoded
        rep.outcomes = Counter({o: k for o, k in self.outcomes.items() if k})
        rep.div_counts = Counter({k: v for k, v in self.div_counts.items() if v})
        return [(nr, c) for nr, c in enumerate(self.per_nr) if c]


class PythonEngine:
    """The reference: Python parsers, Python replay."""

    name = "python"

    def __str__(self) -> str:
        return self.name

    def available(self) -> None:
        """Always available."""

    def events(self, trace: Any) -> Iterator[model.Event]:
        return trace.reference_events()

    def chunks(self, trace: Any) -> Iterator[list[model.Event]]:
        return chunked(trace.reference_events())

    def chunks_of(self, events: Iterable[model.Event], guest: str) -> Iterator[list[model.Event]]:
        """Python events as this engine's chunks."""
        return chunked(events)

    def to_events(self, chunk: list[model.Event]) -> list[model.Event]:
        return chunk

    def session(self, cs: Any) -> Session:
        return Session(cs)


ENGINE = PythonEngine()
