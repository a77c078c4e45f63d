# SPDX-License-Identifier: MIT
"""Running a trace through an engine: ``Replayer`` drives one engine session
per compiled shim and turns what the session reports (per-event results,
unknown calls, divergence records, counters) into the ``Report`` both
engines share.  ``replay_many`` reads a trace once through several shims."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from shimsim import callers as _callers
from shimsim import engine as _engine
from shimsim import model
from shimsim.codes import (DIV_ERRNO, DIV_FAILS, DIV_FALLBACK, DIV_FLAG, DIV_NAMES,
                           DIV_RESULT, DIV_SIGNAL, FAILED, NONE, OUTCOME_NAMES, STUBBED, UNKNOWN)
from shimsim.engine.python import flag_arg_span, flag_decode
from shimsim.errors import ShimsimError
from shimsim.model import Result
from shimsim.replay.report import LIST_CAP, Divergence, Report, names_by_value
from shimsim.shim import UNCONFIRMED


class Replayer:
    """Feeds a trace's chunks through one compiled shim under one engine.

    It is also the sink the engine's session reports to: ``rows_wanted``,
    ``add_row``, ``unknown``, ``divergence``, ``listing``,
    ``first_fatal_missing`` and ``timeline``."""

    def __init__(self, cs: Any, engine: Any = "c", keep_events: int = 0, timeline: Any = None,
                 callers: _callers.CallerTracker | None = None) -> None:
        self.cs = cs
        # who makes each call: fallbacks apply per caller (tables/fallbacks.csv implementers)
        self.callers = callers if callers is not None else _callers.CallerTracker()
        self._fb_cache: dict[tuple[int, int], int] = {}
        self._first: tuple[str, int] | None = None       # where the trace starts
        nrs = (lambda names: {sc.number for n in names if (sc := cs.guest.by_name.get(n)) is not None})
        self.open_nrs = nrs(_callers.OPEN_CALLS)
        self.follow_nrs = nrs(_callers.EXEC_CALLS + _callers.FORK_CALLS)
        self.watch = self.open_nrs | self.follow_nrs | set(cs.fallback_rows)
        self.engine = _engine.get(engine)
        self.keep_events = keep_events
        # optional report.timeline.Timeline: gets every event's outcome (for the HTML report)
        self.timeline = timeline
        self.report = Report(cs.name, cs.guest.name, cs.host_name, self.engine.name)
        self._unknown: Counter = Counter()
        self._session = self.engine.session(cs)

    # ---- input
    def feed(self, chunk: Any) -> None:
        """One chunk of this engine (``engine.chunks(trace)``)."""
        self._session.feed(chunk, self)

    def feed_events(self, events: Iterable[model.Event]) -> None:
        """Python events, under either engine."""
        for chunk in self.engine.chunks_of(events, self.cs.guest.name):
            self._session.feed(chunk, self)

    def feed_batch(self, arr: Any, n: int, files: list[str], abis: list[str] | None = None) -> None:
        """One ss_event array (``abis``: ABI name per ss_event.abi index)."""
        from shimsim.engine.c import Batch

        self._session.feed(Batch(arr, n, files, list(abis or [])), self)

    # ---- the sink the session reports to
    def fallback_for(self, nr: int, ctx: int) -> int:
        """The fallback id for guest call NR made by caller CTX (cached)."""
        key = (ctx, nr)
        fb = self._fb_cache.get(key)
        if fb is None:
            c = self.callers.caller(ctx)
            fb = self._fb_cache[key] = self.cs.fallback_for(nr, c if c.identified else None)
        return fb

    def seen_first(self, file: str, line: int) -> None:
        if self._first is None:
            self._first = (file, line)

    def caller_fallback(self, ev: model.Event) -> tuple[int | None, int | None]:
        """Python engine: follow the event's process; (fallback id or None, caller ctx or None)."""
        if self._first is None:
            self._first = (ev.file, ev.line)
        nr = ev.nr
        if ev.kind != model.SYSCALL or nr is None or nr not in self.watch:
            return None, None
        if nr in self.open_nrs and nr not in self.cs.fallback_rows:
            # the events ss_select_nr picks for the C engine, no others (both engines follow the same)
            if ev.rec != model.SUCCESS or ev.ret is None or ev.ret < 0 or \
                    (".so" not in ev.args and ".hints" not in ev.args):
                return None, None
            self.callers.see(ev.name, ev.pid, ev.args, ev.rec, ev.ret)
            return None, None
        if nr in self.follow_nrs:
            ctx = self.callers.see(ev.name, ev.pid, ev.args, ev.rec, ev.ret)
        else:
            ctx = self.callers.ctx_of(ev.pid)
        if ev.nr in self.cs.fallback_rows:
            return self.fallback_for(ev.nr, ctx), ctx
        return None, ctx

    def rows_wanted(self) -> int:
        return self.keep_events - len(self.report.event_rows)

    def listing(self) -> bool:
        return len(self.report.divergences) < LIST_CAP

    def first_fatal_missing(self) -> bool:
        return self.report.first_fatal is None

    def add_row(self, ev: model.Event, r: Result) -> None:
        self.report.event_rows.append(self.event_row(ev.file, ev.line, ev.kind, ev.name, ev.args, r))

    def unknown(self, name: str, k: int = 1) -> None:
        self._unknown[name] += k

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
        nr = cs.guest.by_name[name].number if name in cs.guest.by_name else -1
        if r.outcome == FAILED and nr in cs.rejects and cs.outcome[nr] != FAILED:
            for arg, fmi, _e in cs.rejects[nr]:
                span = flag_arg_span(args, arg)
                bits = flag_decode(cs.fmaps[fmi], args[span[0]:span[1]])[2] if span else 0
                if bits:
                    row["rejected"] = {"arg": arg, "family": cs.fmaps[fmi].family,
                                       "flags": "|".join(n for n, g, _h, ok in cs.fmaps[fmi].members
                                                         if not ok and g and bits & g == g)}
                    break
        gerr = names_by_value(cs.guest.errno)
        row["result"] = f"-1 {gerr.get(r.err, r.err)}" if r.err else str(r.ret)
        bh = cs.bare
        if bh is not None and bh.loader == "starts" and name in cs.guest.by_name:
            nr = cs.guest.by_name[name].number
            if nr in bh.landing:
                row["host_call"] = bh.landing[nr] or f"(no {cs.host_name} call at {nr})"
                row["result"] = bh.sees(nr)
        return row

    def divergence(self, file: str, line: int, nr: int, name: str | None, code: int, err: int,
                   fb: int, arg: int, fmap: int, unsup: int, rec_err: int, rec_ret: int,
                   ctx: int | None = None) -> None:
        rep = self.report
        sc = name or self.cs.syscall_name(nr)
        fatal = code == DIV_FAILS
        if code == DIV_FALLBACK and fb >= 0 and fb & UNCONFIRMED:
            rep.unconfirmed += 1
        need_reason = len(rep.divergences) < LIST_CAP or (fatal and rep.first_fatal is None)
        if not need_reason:
            return
        d = Divergence(file, line, sc, code,
                       self._reason(code, nr, sc, err, fb, arg, fmap, unsup, rec_err, rec_ret, ctx), fatal)
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
        gerr = names_by_value(cs.guest.errno)
        note = cs.notes.get(nr, "") if 0 <= nr < cs.nsys else ""
        en = gerr.get(err, str(err))
        if cs.bare is not None and cs.bare.loader == "starts" and code in (DIV_FAILS, DIV_ERRNO):
            rec = "succeeded" if code == DIV_FAILS else f"failed with {gerr.get(rec_err, str(rec_err))}"
            return (f"{name}: no layer: {note}.  The recording {rec}; from here the program goes wrong "
                    "silently (nothing it sees says 'unsupported')")
        if code in (DIV_FAILS, DIV_ERRNO, DIV_FALLBACK) and unsup and 0 <= fmap < len(cs.fmaps) and cs.fmaps[fmap].reject:
            fm = cs.fmaps[fmap]
            names = [n for n, g, _h, ok in fm.members if not ok and g and (unsup & g) == g] or [hex(unsup)]
            text = f"{name}: flag {'|'.join(names)} (argument {arg}, {fm.family}) rejected with {en} by {cs.name}'s handler"
            if code == DIV_FALLBACK:
                if fb & UNCONFIRMED:
                    return f"{text}; survivable {cs.fallback_text(fb)}; caller not identified: {self._caller_text(ctx)}"
                return f"{text}; survivable ({cs.fallback_text(fb)}; caller {self._caller_text(ctx)})"
            if code == DIV_ERRNO:
                return f"{text}; the recording failed with {gerr.get(rec_err, str(rec_err))}" + (f" ({note})" if note else "")
            text += " where the recording succeeded" + (f" ({note})" if note else "")
            rows = cs.fallback_rows.get(nr) if 0 <= nr < cs.nsys else None
            if rows:
                known = "; ".join(sorted({f"{cs.fallbacks[f].who()} ({cs.fallbacks[f].source})" for f in rows}))
                text += f"; no fallback: the caller, {self._caller_text(ctx)}, is none of those that retry it: {known}"
            return text
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
            sig = names_by_value(cs.guest.signals).get(err, str(err))
            back = cs.sig_rt[err] if 0 < err < len(cs.sig_rt) else err
            if back < 0:
                return f"signal {sig} cannot be delivered on {cs.host_name}"
            return f"signal {sig} arrives as {names_by_value(cs.guest.signals).get(back, back)}"
        return DIV_NAMES[code]

    # ---- output
    def finish(self) -> Report:
        rep, cs = self.report, self.cs
        for nr, c in self._session.totals(rep):
            name = cs.syscall_name(nr)
            rep.per_syscall[name] = c
            rep.notes[name] = cs.notes.get(nr, "")
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


def replay_events(cs: Any, events: Iterable[model.Event], engine: Any = "python",
                  batch: int = 65536, callers: _callers.CallerTracker | None = None) -> Report:
    """Replay Python events with either engine (``batch`` is ignored: each
    engine chooses its batch size)."""
    rp = Replayer(cs, engine, callers=callers)
    rp.feed_events(events)
    return rp.finish()


def check_guest(spec: Any, t: Any) -> None:
    """The trace's ABI must be the spec's guest (unless the spec takes any)."""
    from shimsim.shim import ANY

    if spec.guest != ANY and t.abi != spec.guest:
        raise ShimsimError(f"trace ABI {t.abi} does not match shim {spec.name}'s guest ABI {spec.guest} "
                           f"(give --abi if the trace ABI was guessed wrong, or choose a shim for {t.abi})")


def replay_many(t: Any, specs: list[Any], engine: Any = None, events: int = 0, timeline: Any = None,
                progress: Callable[[int], None] | None = None, root: str | None = None,
                binary: str | None = None) -> list[Report]:
    """One pass over the trace through several shims at once (the trace is read
    once, so stdin works too); ``timeline`` follows the first shim; ``progress``
    gets the number of events read so far.  The engine defaults to the trace's."""
    from shimsim.shim import compile_shim

    from shimsim.shim import for_guest

    eng = _engine.get(engine if engine is not None else t.engine)
    specs = [for_guest(spec, t.abi) for spec in specs]     # linuxulator -> its linux32 variant for i386
    for spec in specs:
        check_guest(spec, t)
    rps = [Replayer(compile_shim(spec, t.abi), eng, keep_events=max(0, events),
                    timeline=timeline if i == 0 else None, callers=_callers.CallerTracker(root, binary))
           for i, spec in enumerate(specs)]
    n = 0
    for chunk in eng.chunks(t):
        for rp in rps:
            rp.feed(chunk)
        n += len(chunk)
        if progress is not None:
            progress(n)
    return [rp.finish() for rp in rps]


def replay_trace(t: Any, spec: Any, engine: Any = None, events: int = 0, timeline: Any = None,
                 progress: Callable[[int], None] | None = None, root: str | None = None,
                 binary: str | None = None) -> Report:
    """One pass over the trace through one shim."""
    return replay_many(t, [spec], engine, events, timeline, progress, root, binary)[0]
