# SPDX-License-Identifier: MIT
"""Replay a trace through a compiled shim: per event, the outcome, the host
call and translated flags, the guest-visible result, and whether it diverges
from the recording.

Two engines with one semantics:

* ``replay_event`` is the pure-Python reference, written to be read next to
  csrc/replay.c (same order of checks, same argument and flag scanning);
* the C core (``ss_replay_batch``) runs over ``ss_event`` arrays, one call per
  batch, on the very same compiled arrays (``pack_shim``).

``Replayer`` drives either engine, accumulates the counters and turns the
divergence records into the report (``Report``) both engines share.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shimsim import callers as _callers
from shimsim import model
from shimsim.lex import strace as _lex
from shimsim.batch import EventPacker  # noqa: F401  (public here too: tests and properties pack through it)
from shimsim.engine import core
from shimsim.shim import (EMULATED, FAILED, FAKED, NONE, OUTCOME_NAMES, PARTIAL, STUBBED,
                          TRANSLATED, UNCONFIRMED, UNKNOWN, CompiledShim)

NOUT = 8
DIV_NONE, DIV_FAILS, DIV_FALLBACK, DIV_FLAG, DIV_ERRNO, DIV_RESULT, DIV_SIGNAL = range(7)
DIV_NAMES = ("none", "fails", "survivable", "flag dropped", "errno changed", "result changed",
             "signal changed")
MAXF = 4
TOKEN_MAX = 128          # flag tokens this long or longer are not decoded (C buffer size)
DIVS_CAP = 4096          # divergence records kept per batch (all are counted)
LIST_CAP = 1000          # divergences listed in a report (all are counted)
FCACHE_ENTRIES = 4096    # flag-decoding memo of a packed shim (C only; results are identical)
SIGNAL_KINDS = (model.SIGNAL, model.KILLED, model.STOPPED)


# --------------------------------------------------------------------------- reference scanning

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


# --------------------------------------------------------------------------- reference engine

@dataclass(slots=True)
class Result:
    """What one event becomes under the shim (mirrors ss_rp_result)."""

    outcome: int
    div: int
    nflags: int
    dropped: bool
    undecoded: bool
    fallback: int
    host_nr: int
    err: int
    ret: int
    hflags: list[int]
    unsup: list[int]
    div_arg: int = 0
    div_fmap: int = 0
    div_unsup: int = 0


def replay_event(cs: CompiledShim, ev: model.Event, fallback: int | None = None) -> Result:
    """The reference: one event through the shim (same rules as ss_replay_batch).
    FALLBACK: the fallback id for this event's caller (CompiledShim.fallback_for);
    None uses the shim's per-number one, for a caller not identified."""
    outc, div, dropped, undecoded, nflags = NONE, DIV_NONE, False, False, 0
    div_arg = div_fmap = div_unsup = 0
    fb, hnr = -1, -1
    e_err = ev.err or 0
    e_ret = ev.ret or 0
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
            if cls in (TRANSLATED, PARTIAL, EMULATED):
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


# --------------------------------------------------------------------------- C packing

def pack_shim(cs: CompiledShim):
    """The ss_shim struct over cffi-owned arrays; the returned object keeps them alive."""
    mod = core()
    ffi = mod.ffi
    keep: list[Any] = []

    def arr(ctype: str, values: list[int]):
        a = ffi.new(f"{ctype}[]", values if values else [0])
        keep.append(a)
        return a

    fmaps = ffi.new("ss_fmap[]", max(1, len(cs.fmaps)))
    keep.append(fmaps)
    for j, fm in enumerate(cs.fmaps):
        names = b""
        members = ffi.new("ss_fmember[]", max(1, len(fm.members)))
        for i, (name, g, h, ok) in enumerate(fm.members):
            nb = name.encode()
            members[i].gval = g & 0xFFFFFFFFFFFFFFFF
            members[i].hval = h & 0xFFFFFFFFFFFFFFFF
            members[i].name_off = len(names)
            members[i].name_len = len(nb)
            members[i].supported = 1 if ok else 0
            names += nb
        steps = ffi.new("ss_fstep[]", max(1, len(fm.steps)))
        for i, (mask, val, m) in enumerate(fm.steps):
            steps[i].mask = mask & 0xFFFFFFFFFFFFFFFF
            steps[i].val = val & 0xFFFFFFFFFFFFFFFF
            steps[i].member = m
        size = 8
        while size < 2 * len(fm.members):
            size *= 2
        table = [-1] * size
        for i, (name, *_rest) in enumerate(fm.members):
            h = fnv1a(name.encode()) & (size - 1)
            while table[h] >= 0:
                h = (h + 1) & (size - 1)
            table[h] = i
        names_c = ffi.new("char[]", names or b"\0")
        hash_c = arr("int32_t", table)
        keep += [members, steps, names_c]
        fmaps[j].members = members
        fmaps[j].nmembers = len(fm.members)
        fmaps[j].steps = steps
        fmaps[j].nsteps = len(fm.steps)
        fmaps[j].hash = hash_c
        fmaps[j].hash_mask = size - 1
        fmaps[j].is_enum = 1 if fm.is_enum else 0
        fmaps[j].names = names_c
    prog_off, prog_len, progs = [], [], []
    for nr in range(cs.nsys):
        p = cs.progs.get(nr, [])
        prog_off.append(len(progs))
        prog_len.append(len(p))
        progs += p
    progs_c = ffi.new("ss_fprog[]", max(1, len(progs)))
    keep.append(progs_c)
    for i, (a, f) in enumerate(progs):
        progs_c[i].arg = a
        progs_c[i].fmap = f
    sh = ffi.new("ss_shim *")
    sh.nsys = cs.nsys
    sh.nerr = len(cs.errno_rt)
    sh.nsig = len(cs.sig_rt)
    sh.nfmaps = len(cs.fmaps)
    sh.outcome = arr("uint8_t", cs.outcome)
    sh.host_nr = arr("int32_t", cs.host_nr)
    sh.fail_err = arr("int32_t", cs.fail_err)
    sh.fallback = arr("int16_t", cs.fallback)
    sh.prog_off = arr("uint32_t", prog_off)
    sh.prog_len = arr("uint8_t", prog_len)
    sh.progs = progs_c
    sh.fmaps = fmaps
    sh.errno_rt = arr("int32_t", cs.errno_rt)
    sh.sig_rt = arr("int32_t", cs.sig_rt)
    cache = ffi.new("ss_fcache[]", FCACHE_ENTRIES)
    keep.append(cache)
    sh.cache = cache
    sh.cache_mask = FCACHE_ENTRIES - 1
    return _Packed(sh, keep)


@dataclass
class _Packed:
    ptr: Any
    keep: list[Any]


def fnv1a(b: bytes) -> int:
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


# --------------------------------------------------------------------------- driver + report

@dataclass
class Divergence:
    file: str
    line: int
    syscall: str
    code: int
    reason: str
    fatal: bool

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "syscall": self.syscall,
                "kind": DIV_NAMES[self.code], "fatal": self.fatal, "reason": self.reason}


@dataclass
class Report:
    shim: str
    guest: str
    host: str
    engine: str
    events: int = 0
    syscalls: int = 0
    undecoded: int = 0
    outcomes: Counter = field(default_factory=Counter)
    per_syscall: dict[str, Counter] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    div_counts: Counter = field(default_factory=Counter)
    divergences: list[Divergence] = field(default_factory=list)
    first_fatal: Divergence | None = None
    event_rows: list[dict] = field(default_factory=list)   # the first --events N, per event
    callers: list[dict] = field(default_factory=list)      # the programs the trace's processes ran
    loader: dict | None = None  # no layer (bare host): what the host's loader does with the program
    unconfirmed: int = 0        # survivable divergences whose caller was not identified (listed ones)
    caller_unknown: int = 0     # syscall events made by an unidentified program

    @property
    def ndivergences(self) -> int:
        return sum(self.div_counts.values())

    def worst(self, name: str) -> str:
        c = self.per_syscall[name]
        return OUTCOME_NAMES[min(o for o, k in c.items() if k)]

    def syscall_rows(self) -> list[dict]:
        rows = []
        for name, c in self.per_syscall.items():
            rows.append({"name": name, "calls": sum(c.values()), "outcome": self.worst(name),
                         "note": self.notes.get(name, "")})
        rows.sort(key=lambda r: (OUTCOME_NAMES.index(r["outcome"]), -r["calls"], r["name"]))
        return rows

    def to_json(self) -> dict:
        return {
            "shim": self.shim, "guest": self.guest, "host": self.host, "engine": self.engine,
            "events": self.events, "syscall_events": self.syscalls,
            "outcomes": {OUTCOME_NAMES[o]: self.outcomes.get(o, 0) for o in range(7)},
            "syscalls": [{k: r[k] for k in ("name", "calls", "outcome", "note")} for r in self.syscall_rows()],
            "divergences": self.ndivergences,
            "divergence_kinds": {DIV_NAMES[k]: v for k, v in sorted(self.div_counts.items())},
            "survivable": self.div_counts.get(DIV_FALLBACK, 0),
            "survivable_unconfirmed": self.unconfirmed,
            "callers": self.callers,
            **({"loader": self.loader} if self.loader else {}),
            "undecoded_flag_events": self.undecoded,
            "first_divergence": self.first_fatal.to_json() if self.first_fatal else None,
            "divergence_list": [d.to_json() for d in self.divergences],
            "divergences_listed": len(self.divergences),
            **({"event_list": self.event_rows} if self.event_rows else {}),
        }


class Replayer:
    """Feeds events (Python) or ss_event batches (C) through one compiled shim."""

    def __init__(self, cs: CompiledShim, engine: str = "c", keep_events: int = 0,
                 timeline: Any = None, callers: _callers.CallerTracker | None = None) -> None:
        self.cs = cs
        # who makes each call: fallbacks apply per caller (tables/fallbacks.csv implementers)
        self.callers = callers if callers is not None else _callers.CallerTracker()
        self._fb_cache: dict[tuple[int, int], int] = {}
        self._first: tuple[str, int] | None = None       # where the trace starts
        self._want = None                                 # C: the guest numbers _watch selects
        nrs = (lambda names: {sc.number for n in names if (sc := cs.guest.by_name.get(n)) is not None})
        self._open_nrs = nrs(_callers.OPEN_CALLS)
        self._follow_nrs = nrs(_callers.EXEC_CALLS + _callers.FORK_CALLS)
        self._watch = self._open_nrs | self._follow_nrs | set(cs.fallback_rows)
        self.engine = engine
        self.keep_events = keep_events
        # optional report.timeline.Timeline: gets every event's outcome (for the HTML report)
        self.timeline = timeline
        self.report = Report(cs.name, cs.guest.name, cs.host_name, engine)
        self._per_nr = [Counter() for _ in range(cs.nsys)] if engine == "python" else None
        self._unknown: Counter = Counter()
        if engine == "c":
            mod = core()
            self.ffi, self.lib = mod.ffi, mod.lib
            self._sh = cs.c()
            self._st = self.ffi.new("ss_rp_stats *")
            self._per = self.ffi.new("uint64_t[]", cs.nsys * NOUT)
            self._st.per_nr = self._per
            self._divs = self.ffi.new("ss_rp_div[]", DIVS_CAP)
            self._st.divs = self._divs
            self._st.divs_cap = DIVS_CAP
            self._unk = self.ffi.new("uint32_t[]", DIVS_CAP)
            self._st.unk = self._unk
            self._st.unk_cap = DIVS_CAP

    def fallback_for(self, nr: int, ctx: int) -> int:
        key = (ctx, nr)
        fb = self._fb_cache.get(key)
        if fb is None:
            c = self.callers.caller(ctx)
            fb = self._fb_cache[key] = self.cs.fallback_for(nr, c if c.identified else None)
        return fb

    # ---- Python engine
    def feed_events(self, events: Iterable[model.Event]) -> None:
        rep, cs = self.report, self.cs
        tl = self.timeline
        outs, where = bytearray(), []
        rows, tracker = cs.fallback_rows, self.callers
        for ev in events:
            if self._first is None:
                self._first = (ev.file, ev.line)
            ctx, fb = None, None
            if ev.kind == model.SYSCALL and ev.nr is not None and ev.nr in self._watch:
                ctx = tracker.see(ev.name, ev.pid, ev.args, ev.rec, ev.ret)
                if ev.nr in rows:
                    fb = self.fallback_for(ev.nr, ctx)
            r = replay_event(cs, ev) if fb is None else replay_event(cs, ev, fb)
            if tl is not None:
                outs.append(r.outcome)
                where.append((ev.file, ev.line))
                if len(outs) >= 4096:
                    tl.add(bytes(outs), where.__getitem__)
                    outs, where = bytearray(), []
            if len(rep.event_rows) < self.keep_events:
                rep.event_rows.append(self.event_row(ev.file, ev.line, ev.kind, ev.name, ev.args, r))
            rep.events += 1
            if ev.kind == model.SYSCALL:
                rep.syscalls += 1
                rep.outcomes[r.outcome] += 1
                if r.undecoded:
                    rep.undecoded += 1
                if r.outcome == UNKNOWN:
                    name = ev.name or f"#{ev.nr}"
                    if ev.abi is not None and ev.abi != cs.guest.name:
                        name = f"{name} ({ev.abi})"
                    self._unknown[name] += 1
                else:
                    self._per_nr[ev.nr][r.outcome] += 1  # type: ignore[index]
            if r.div:
                self._divergence(ev.file, ev.line, ev.nr if ev.nr is not None else -1, ev.name,
                                 r.div, r.err, r.fallback, r.div_arg, r.div_fmap, r.div_unsup,
                                 ev.err or 0, ev.ret or 0, ctx)
        if tl is not None and outs:
            tl.add(bytes(outs), where.__getitem__)

    # ---- C engine
    def feed_batch(self, arr, n: int, files: list[str], abis: list[str] | None = None) -> None:
        """One ss_event array (``abis``: ABI name per ss_event.abi index)."""
        st = self._st
        guest_idx = abis.index(self.cs.guest.name) if abis and self.cs.guest.name in abis else 0
        self._sh.ptr.abi = guest_idx
        # once the report's list is full only the counters and the first fatal one matter
        st.divs_cap = DIVS_CAP if len(self.report.divergences) < LIST_CAP else 0
        want = min(n, self.keep_events - len(self.report.event_rows))
        tl = self.timeline
        out = self.ffi.new("ss_rp_result[]", n) if want > 0 or (tl is not None and n) else self.ffi.NULL
        if self._first is None and n:
            self._first = (files[arr[0].file_id] if arr[0].file_id < len(files) else "?", arr[0].line)
        evfb, ctxs = self._batch_callers(arr, n)
        self._sh.ptr.ev_fallback = evfb if evfb is not None else self.ffi.NULL
        try:
            self.lib.ss_replay_batch(self._sh.ptr, arr, n, st, out)
        finally:
            self._sh.ptr.ev_fallback = self.ffi.NULL
        if tl is not None and n:
            size = self.ffi.sizeof("ss_rp_result")
            off = self.ffi.offsetof("ss_rp_result", "outcome")
            outs = memoryview(self.ffi.buffer(out, size * n))[off::size].tobytes()  # one outcome byte per event
            tl.add(outs, lambda i: (files[arr[i].file_id] if arr[i].file_id < len(files) else "?", arr[i].line))
        for i in range(max(0, want)):
            e, o = arr[i], out[i]
            r = Result(o.outcome, o.div, o.nflags, bool(o.dropped), bool(o.undecoded), o.fallback, o.host_nr,
                       o.err, o.ret, list(o.hflags), list(o.unsup))
            text = (lambda p, k: self.ffi.string(p, k).decode(errors="replace") if p else None)
            self.report.event_rows.append(self.event_row(
                files[e.file_id] if e.file_id < len(files) else "?", e.line, e.kind,
                text(e.name, e.name_len), text(e.args, e.args_len) or "", r))
        for k in range(min(st.nunk, DIVS_CAP)):
            e = arr[self._unk[k]]
            name = self.ffi.string(e.name, e.name_len).decode(errors="replace") if e.name else f"#{e.nr}"
            if e.abi != guest_idx and abis and e.abi < len(abis):
                name = f"{name} ({abis[e.abi]})"
            self._unknown[name] += 1
        if st.nunk > DIVS_CAP:
            self._unknown["(unnamed beyond the record limit)"] += st.nunk - DIVS_CAP
        shown = min(st.ndivs, st.divs_cap)
        for k in range(shown):
            d = self._divs[k]
            e = arr[d.index]
            name = self.ffi.string(e.name, e.name_len).decode(errors="replace") if e.name else None
            self._divergence(files[e.file_id] if e.file_id < len(files) else "?", e.line, d.nr, name,
                             d.code, d.err, d.fallback, d.arg, d.fmap, d.unsup, e.err, e.ret, ctxs.get(d.index))
        if self.report.first_fatal is None and st.first_fatal >= 0:
            # beyond the listed records: the first fatal divergence is still exact
            e = arr[st.first_fatal]
            name = self.ffi.string(e.name, e.name_len).decode(errors="replace") if e.name else None
            self._divergence(files[e.file_id] if e.file_id < len(files) else "?", e.line, e.nr, name,
                             DIV_FAILS, self.cs.fail_err[e.nr], -1, 0, 0, 0, e.err, e.ret,
                             ctxs.get(st.first_fatal))

    def _batch_callers(self, arr, n: int):
        """Follow the batch's processes (execve, fork, library opens) and give each event
        with a fallback row the fallback id for its caller: (int16 array or None, {index: ctx})."""
        if n == 0:
            return None, {}
        ffi = self.ffi
        if self._want is None:
            w = bytearray(self.cs.nsys)
            for nr in self._watch:
                if 0 <= nr < len(w):
                    w[nr] = 2 if nr in self._open_nrs and nr not in self.cs.fallback_rows else 1
            self._want = ffi.new("uint8_t[]", bytes(w) or b"\0")
        sel = ffi.new("uint32_t[]", n)
        k = self.lib.ss_select_nr(arr, n, self._want, self.cs.nsys, sel, n)
        if not k:
            return None, {}
        idx = list(sel[0:k])
        rows = self.cs.fallback_rows
        evfb = ffi.new("int16_t[]", n) if rows else None
        if evfb is not None:
            ffi.memmove(evfb, bytes([0xFF]) * (2 * n), 2 * n)     # -1 everywhere
        ctxs: dict[int, int] = {}
        tracker = self.callers
        opens, follows = self._open_nrs, self._follow_nrs
        succ = model.SUCCESS
        for i in idx:
            e = arr[i]
            if e.kind != model.SYSCALL:
                continue
            nr = e.nr
            pid = None if e.pid < 0 else e.pid
            if nr in opens:
                # only a successful open of a shared object says something about the caller
                if e.rec != succ or e.ret < 0 or e.flags & model.F_NO_RET or not e.args:
                    continue
                raw = ffi.buffer(e.args, e.args_len)[:]
                if b".so" not in raw and b".hints" not in raw:
                    continue
                tracker.see(ffi.string(e.name, e.name_len).decode(), pid,
                            raw.decode("utf-8", "surrogateescape"), e.rec, e.ret)
                continue
            if nr in follows:
                ret = None if e.flags & model.F_NO_RET else e.ret
                args = ffi.buffer(e.args, e.args_len)[:].decode("utf-8", "surrogateescape") if e.args else ""
                ctx = tracker.see(ffi.string(e.name, e.name_len).decode() if e.name else None, pid, args,
                                  e.rec, ret)
            else:
                ctx = tracker.ctx_of(pid)
            if evfb is not None and nr in rows:
                ctxs[i] = ctx
                evfb[i] = self.fallback_for(nr, ctx)
        return evfb, ctxs

    def event_row(self, file: str, line: int, kind: int, name: str | None, args: str, r: Result) -> dict:
        """One event as the report shows it: outcome, host call with translated flags, result."""
        cs = self.cs
        row: dict = {"file": file, "line": line, "kind": model.KIND_NAMES.get(kind, str(kind)), "name": name,
                     "outcome": OUTCOME_NAMES[r.outcome] if r.outcome != NONE else None,
                     "divergence": DIV_NAMES[r.div] if r.div else None}
        if kind != model.SYSCALL:
            return row
        host = cs.host or cs.guest
        if r.host_nr >= 0 and cs.host is not None:
            hs = host.by_number.get(r.host_nr)
            row["host_call"] = hs.name if hs else f"#{r.host_nr}"
            nr = cs.guest.by_name[name].number if name in cs.guest.by_name else -1
            flags = []
            for k, (arg, fmi) in enumerate(cs.progs.get(nr, ())[: r.nflags]):
                fam = cs.fmaps[fmi].family
                try:
                    hnames = "|".join(host.family(fam).decode(r.hflags[k]))
                except Exception:  # the host lacks the family: show the number
                    hnames = hex(r.hflags[k])
                item = {"arg": arg, "family": fam, "host": hnames}
                if r.unsup[k]:
                    item["dropped"] = "|".join(cs.guest.family(fam).decode(r.unsup[k]))
                flags.append(item)
            if flags:
                row["flags"] = flags
            if r.undecoded:
                row["flags_undecoded"] = True
        gerr = _names_by_value(cs.guest.errno)
        row["result"] = f"-1 {gerr.get(r.err, r.err)}" if r.err else str(r.ret)
        bh = cs.bare
        if bh is not None and bh.loader == "starts" and name in cs.guest.by_name:
            nr = cs.guest.by_name[name].number
            if nr in bh.landing:
                row["host_call"] = bh.landing[nr] or f"(no {cs.host_name} call at {nr})"
                row["result"] = bh.sees(nr)
        return row

    def _divergence(self, file: str, line: int, nr: int, name: str | None, code: int, err: int,
                    fb: int, arg: int, fmap: int, unsup: int, rec_err: int, rec_ret: int,
                    ctx: int | None = None) -> None:
        rep = self.report
        sc = name or self.cs.syscall_name(nr)
        fatal = code == DIV_FAILS
        if code == DIV_FALLBACK and fb >= 0 and fb & UNCONFIRMED:
            rep.unconfirmed += 1
        need_reason = len(rep.divergences) < LIST_CAP or (fatal and rep.first_fatal is None)
        if code != DIV_NONE and self.engine == "python":
            rep.div_counts[code] += 1
        if not need_reason:
            return
        d = Divergence(file, line, sc, code, self._reason(code, nr, sc, err, fb, arg, fmap, unsup, rec_err, rec_ret, ctx),
                       fatal)
        if len(rep.divergences) < LIST_CAP:
            rep.divergences.append(d)
        if fatal and rep.first_fatal is None:
            rep.first_fatal = d

    def _caller_text(self, ctx: int | None) -> str:
        if ctx is None:
            return "caller not identified (the call was not followed to its process)"
        return self.callers.caller(ctx).text()

    def _reason(self, code, nr, name, err, fb, arg, fmap, unsup, rec_err, rec_ret, ctx=None) -> str:
        cs = self.cs
        gerr = _names_by_value(cs.guest.errno)
        note = cs.notes.get(nr, "") if 0 <= nr < cs.nsys else ""
        en = gerr.get(err, str(err))
        if cs.bare is not None and cs.bare.loader == "starts" and code in (DIV_FAILS, DIV_ERRNO):
            rec = "succeeded" if code == DIV_FAILS else f"failed with {gerr.get(rec_err, str(rec_err))}"
            return (f"{name}: no layer: {note}.  The recording {rec}; from here the program goes wrong "
                    "silently (nothing it sees says 'unsupported')")
        if code == DIV_FAILS:
            text = f"{name} fails with {en} under {cs.name} where the recording succeeded" + (f" ({note})" if note else "")
            rows = cs.fallback_rows.get(nr) if 0 <= nr < cs.nsys else None
            if rows:
                known = "; ".join(sorted({f"{cs.fallbacks[f].who()} ({cs.fallbacks[f].source})" for f in rows}))
                text += f"; no fallback: the caller, {self._caller_text(ctx)}, is none of those that retry it: {known}"
            return text
        if code == DIV_FALLBACK:
            if fb & UNCONFIRMED:
                return (f"{name} fails with {en}; survivable {cs.fallback_text(fb)}; caller not identified: "
                        f"{self._caller_text(ctx)}")
            return f"{name} fails with {en}; survivable ({cs.fallback_text(fb)}; caller {self._caller_text(ctx)})"
        if code == DIV_FLAG:
            fm = cs.fmaps[fmap]
            names = [n for n, g, _h, ok in fm.members if not ok and g and (unsup & g) == g] or [hex(unsup)]
            why = "; ".join(sorted({fm.reasons.get(n, "no host equivalent") for n in names}))
            return f"{name}: {'|'.join(names)} (argument {arg}, {fm.family}) silently dropped on {cs.host_name}: {why}"
        if code == DIV_ERRNO:
            rn = gerr.get(rec_err, str(rec_err))
            if cs.outcome[nr] == FAILED:
                return f"{name} fails with {en} under {cs.name}; the recording failed with {rn}"
            return f"{name}: recorded {rn} comes back as {en} through the {cs.host_name} errno map"
        if code == DIV_RESULT:
            if cs.outcome[nr] == STUBBED:
                return f"{name} is a stub returning 0 (recorded {'error ' + gerr.get(rec_err, str(rec_err)) if rec_err else rec_ret})"
            return f"{name} is faked: succeeds where the recording failed with {gerr.get(rec_err, str(rec_err))}"
        if code == DIV_SIGNAL:
            sig = _names_by_value(cs.guest.signals).get(err, str(err))
            back = cs.sig_rt[err] if 0 < err < len(cs.sig_rt) else err
            if back < 0:
                return f"signal {sig} cannot be delivered on {cs.host_name}"
            return f"signal {sig} arrives as {_names_by_value(cs.guest.signals).get(back, back)}"
        return DIV_NAMES[code]

    def finish(self) -> Report:
        rep, cs = self.report, self.cs
        if self.engine == "c":
            st = self._st
            rep.events, rep.syscalls, rep.undecoded = st.events, st.syscalls, st.undecoded
            rep.outcomes = Counter({o: st.outcome[o] for o in range(NOUT) if st.outcome[o]})
            rep.div_counts = Counter({k: st.div[k] for k in range(1, 7) if st.div[k]})
            per = self._per
            for nr in range(cs.nsys):
                base = nr * NOUT
                c = Counter({o: per[base + o] for o in range(NOUT) if per[base + o]})
                if c:
                    self._add_syscall(nr, c)
        else:
            for nr, c in enumerate(self._per_nr):
                if c:
                    self._add_syscall(nr, c)
        for name, k in self._unknown.items():
            rep.per_syscall.setdefault(name, Counter())[UNKNOWN] += k
            rep.notes[name] = (f"a call of another ABI (personality switch); {cs.name} models {cs.guest.name}"
                               if name.endswith(")") else f"not a syscall of {cs.guest.name}")
        rep.outcomes.pop(NONE, None)
        rep.callers = self.callers.to_json()
        if cs.bare is not None and cs.bare.loader != "same":
            self._judge_loader()
        return rep

    def _judge_loader(self) -> None:
        """No layer: the host's loader decides first (refused, interpreter missing, started)."""
        from shimsim import bare
        rep, cs, tr = self.report, self.cs, self.callers
        lv = bare.judge_program(cs.bare, tr.program() or tr.binary, tr.root, tr.first_so)
        rep.loader = {**lv.to_json(), "host_loader": cs.bare.loader_source}
        if lv.status in ("refused", "interpreter-missing") and self._first is not None:
            file, line = self._first
            d = Divergence(file, line, "execve", DIV_FAILS,
                           f"execve: {lv.text} (the recorded calls from here on never happen)", True)
            rep.divergences.insert(0, d)
            if len(rep.divergences) > LIST_CAP:
                rep.divergences.pop()
            rep.first_fatal = d       # counted apart from the engine's divergences (rep.loader)

    def _add_syscall(self, nr: int, c: Counter) -> None:
        name = self.cs.syscall_name(nr)
        self.report.per_syscall[name] = c
        self.report.notes[name] = self.cs.notes.get(nr, "")


_NAMES_CACHE: dict[int, dict[int, str]] = {}


def _names_by_value(fam) -> dict[int, str]:
    d = _NAMES_CACHE.get(id(fam))
    if d is None:
        d = {}
        for n, v in fam.members.items():
            if v is not None and v not in d:
                d[v] = n
        _NAMES_CACHE[id(fam)] = d
    return d


@dataclass
class BatchRun:
    """Per-event results and counters of one ``ss_replay_batch`` call."""
    results: list[Result]
    stats: Any                # cdata 'ss_rp_stats *'
    _keep: tuple = ()         # the buffers ``stats`` points into


def run_batch(cs: CompiledShim, events: list[model.Event], cap: int = 64) -> BatchRun:
    """Python events through the C core in one batch, with per-event results:
    what the differential tests and properties compare with replay_event."""
    mod = core()
    ffi, lib = mod.ffi, mod.lib
    packer = EventPacker([cs.guest.name])   # owns the events' text until the batch has run
    arr, n = packer.pack(events)
    stt = ffi.new("ss_rp_stats *")
    per = ffi.new("uint64_t[]", cs.nsys * NOUT)
    divs = ffi.new("ss_rp_div[]", cap)
    unk = ffi.new("uint32_t[]", cap)
    stt.per_nr, stt.divs, stt.divs_cap, stt.unk, stt.unk_cap = per, divs, cap, unk, cap
    out = ffi.new("ss_rp_result[]", max(1, n))
    sh = cs.c()
    sh.ptr.abi = 0
    lib.ss_replay_batch(sh.ptr, arr, n, stt, out)
    res = [Result(o.outcome, o.div, o.nflags, bool(o.dropped), bool(o.undecoded), o.fallback,
                  o.host_nr, o.err, o.ret, list(o.hflags), list(o.unsup)) for o in out[0:n]]
    return BatchRun(res, stt, (per, divs, unk, packer, sh))


def replay_events(cs: CompiledShim, events: Iterable[model.Event], engine: str = "python",
                  batch: int = 65536, callers: _callers.CallerTracker | None = None) -> Report:
    """Replay Python events with either engine (C through the packer)."""
    rp = Replayer(cs, engine, callers=callers)
    if engine == "python":
        rp.feed_events(events)
    else:
        packer = EventPacker([cs.guest.name])
        for chunk in _chunks(events, batch):
            arr, n = packer.pack(chunk)
            rp.feed_batch(arr, n, packer.files, packer.abis)
    return rp.finish()


def _chunks(it: Iterable[model.Event], n: int) -> Iterator[list[model.Event]]:
    buf: list[model.Event] = []
    for ev in it:
        buf.append(ev)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf
