# SPDX-License-Identifier: MIT
"""The laws every shim spec and every parser must keep, as runnable properties.

Each property takes a :class:`Subject` (a shim spec, compiled per trace ABI
on demand) and hypothesis settings, runs, and returns a :class:`Result`:
``passed``, ``falsified`` with the shrunk counterexample printed as trace
text, or ``error`` when something raised that is not a falsification.
``shimsim check SPEC`` runs :func:`check`, and shimsim's own tests run every
property on every shipped shim.

Round trips
    ``roundtrip-FORMAT``: events printed as FORMAT's tool prints them and
    parsed back are the same events (strace through both engines).
    ``flag-roundtrip``: a guest flag set translated to the host and back is
    the set itself, except the bits the shim reports as unsupported (exactly
    those of members with no host side) and bits of members declared lossy
    or ignored.  The maps of ``reject`` rules (flags a handler fails a call
    for) translate nothing and are left out; ``c-python-agree`` covers them.
Table laws
    ``errno-map-total`` / ``signal-map-total``: every errno (signal) of the
    guest has a fate on the host and every one of the host a fate on the
    guest (same name on the other side, or an entry in the spec's map), and
    a value that does not come back as itself is declared lossy (or dropped,
    or emulated).
Replay laws
    ``native-never-diverges`` (identity specs), ``none-fails-every-call``
    (specs that support nothing), ``bare-lands-by-number`` (no layer: each
    guest number lands on the host's call with that number), ``coverage-monotonic`` (supporting one more
    syscall never makes an event that worked fail), ``c-python-agree`` (a
    RuleBasedStateMachine feeds the C core and the Python reference the same
    growing stream and compares them event by event and in total).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
from hypothesis import HealthCheck, given
from hypothesis import settings as Settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from shimsim import model, replay, shim, strategies, tables, trace
from shimsim.errors import ShimsimError
from shimsim.trace import formats

__all__ = ["PROPERTIES", "Falsified", "Property", "Result", "Subject", "check", "compare_events",
           "event_key", "flag_back", "make_settings", "flag_forward", "parse_text", "render_trace", "run_property"]

# '*' specs bind to the trace's ABI: they are checked on one ABI per trace format.
STAR_ABIS = ("linux-x86_64", "freebsd-amd64", "illumos-amd64", "darwin-x86_64", "netbsd-amd64")


@functools.lru_cache(maxsize=None)
def os_format(os_name: str) -> str | None:
    """The trace format the OS's own tracer prints: the first format in the
    registry whose printable ABIs include one of that OS."""
    for fmt, abis in formats.printable().items():
        if any(a in tables.list_abis() and tables.load_abi(a).os == os_name for a in abis):
            return fmt
    return None


_CMP_FLAGS = model.F_HAS_TS | model.F_HAS_DUR | model.F_MERGED | model.F_CORE | model.F_TRUNCATED


class Falsified(AssertionError):
    """A law does not hold for the example at hand."""


@dataclass
class Result:
    name: str
    status: str                      # passed | falsified | error
    counterexample: str | None = None
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "counterexample": self.counterexample,
                "message": self.message}


# --------------------------------------------------------------------------- the subject

class Subject:
    """A shim spec under test; compiled once per trace ABI."""

    def __init__(self, spec: shim.Spec) -> None:
        self.spec = spec
        self._cs: dict[str, shim.CompiledShim] = {}

    @classmethod
    def load(cls, name_or_path: str) -> Subject:
        return cls(shim.load_spec(name_or_path))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def star(self) -> bool:
        return self.spec.guest == shim.ANY

    def abis(self) -> list[str]:
        """Guest ABIs the spec is checked on."""
        return list(STAR_ABIS) if self.star else [self.spec.guest]

    def compiled(self, abi: str | None = None) -> shim.CompiledShim:
        abi = abi or self.abis()[0]
        cs = self._cs.get(abi)
        if cs is None:
            cs = self._cs[abi] = shim.compile_shim(self.spec, abi if self.star else None)
        return cs

    def formats(self) -> list[tuple[str, str]]:
        """(format, ABI) pairs of the traces a user of this spec records."""
        out = []
        for abi in self.abis():
            fmt = os_format(tables.load_abi(abi).os)
            if fmt and abi in strategies.FORMATS[fmt]:
                out.append((fmt, abi))
        return out


# --------------------------------------------------------------------------- helpers

def event_key(ev: model.Event) -> tuple:
    """What a round trip must keep: everything but the file name and the
    format's extra details; times compared to the microsecond."""
    return (model.KIND_NAMES.get(ev.kind, ev.kind), ev.line, ev.pid, ev.tid, ev.name, ev.nr, ev.args, ev.ret,
            model.REC_NAMES.get(ev.rec) if ev.rec is not None else None, ev.errname, ev.err, ev.abi,
            None if ev.ts is None else round(ev.ts * 1e6), None if ev.dur is None else round(ev.dur * 1e6),
            ev.flags & _CMP_FLAGS)


_KEY_FIELDS = ("kind", "line", "pid", "tid", "name", "nr", "args", "ret", "rec", "errname", "err", "abi",
               "ts_us", "dur_us", "flags")


def compare_events(got: list[model.Event], want: list[model.Event] | tuple[model.Event, ...]) -> str | None:
    """None if the two lists agree on :func:`event_key`, else what differs first."""
    for i, (g, w) in enumerate(zip(got, want)):
        kg, kw = event_key(g), event_key(w)
        if kg != kw:
            diffs = [f"{f}: parsed {a!r}, printed {b!r}" for f, a, b in zip(_KEY_FIELDS, kg, kw) if a != b]
            return f"event {i + 1} (line {w.line}): " + "; ".join(diffs)
    if len(got) != len(want):
        return f"parsed {len(got)} events, printed {len(want)}"
    return None


_tmpdir: tempfile.TemporaryDirectory | None = None


def _scratch() -> str:
    global _tmpdir
    if _tmpdir is None:
        _tmpdir = tempfile.TemporaryDirectory(prefix="shimsim-props-")
    return _tmpdir.name


def parse_text(text: str, fmt: str, abi: str, engine: str = "python", strict: bool = True) -> list[model.Event]:
    """Parse trace TEXT through the public trace API (as a file, as a user would)."""
    path = os.path.join(_scratch(), f"generated.{fmt}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    t = trace.open([path], format=fmt, abi=abi, strict=strict, engine=engine)
    evs = list(t.events())
    for ev in evs:
        ev.file = strategies.FILE
    return evs


def render_trace(events: list[model.Event], abi: str) -> str:
    """Events as the guest OS's own tracer prints them (strace for Linux)."""
    fmt = os_format(tables.load_abi(abi).os) or "strace"
    lines = []
    for ev in events:
        try:
            lines.append(strategies.render(ev, fmt))
        except Exception:  # a record the format cannot print: fall back to strace's spelling
            lines.append(strategies.render_strace(ev))
    return "\n".join(lines) + "\n"


def make_settings(parent: Settings | None = None, max_examples: int | None = None) -> Settings:
    """Hypothesis settings for the properties: PARENT (a profile) with no deadline and the
    health checks that slow generators trip switched off."""
    kw: dict[str, Any] = {"deadline": None,
                          "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much,
                                                    HealthCheck.data_too_large]}
    if max_examples is not None:
        kw["max_examples"] = max_examples
    return Settings(parent, **kw) if parent is not None else Settings(**kw)


@dataclass
class _Capture:
    example: Any = None
    error: BaseException | None = None


def _flatten(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def run_property(name: str, strategy: st.SearchStrategy, body: Callable[[Any], None],
                 show: Callable[[Any], str], sett: Settings, seed: int | None) -> Result:
    """Run BODY over STRATEGY under hypothesis; the last failing example is the shrunk one."""
    cap = _Capture()

    @sett
    @given(strategy)
    def test(x: Any) -> None:
        try:
            body(x)
        except BaseException as exc:
            cap.example, cap.error = x, exc
            raise

    if seed is not None:
        test = hypothesis.seed(seed)(test)
    return _outcome(name, test, cap, show)


def _outcome(name: str, test: Callable[[], None], cap: _Capture, show: Callable[[Any], str]) -> Result:
    try:
        test()
    except BaseException as exc:  # noqa: BLE001 - every failure becomes a Result
        if isinstance(exc, KeyboardInterrupt):
            raise
        err = _flatten(cap.error or exc)
        ce = None
        if cap.example is not None:
            try:
                ce = show(cap.example)
            except Exception as e2:  # pragma: no cover - printing a counterexample failed
                ce = f"(cannot print the counterexample: {e2})"
        if isinstance(err, Falsified):
            return Result(name, "falsified", ce, str(err))
        return Result(name, "error", ce, f"{type(err).__name__}: {err}")
    return Result(name, "passed")


# --------------------------------------------------------------------------- round trips

def _roundtrip(fmt: str, abi: str) -> Callable[[Subject, Settings, int | None], Result]:
    # the C engine has its own parser only where it tokenises the format itself
    engines = ("python", "c") if getattr(formats.module(fmt), "C_TOKENISER", False) else ("python",)

    def run(subject: Subject, sett: Settings, seed: int | None) -> Result:
        def body(tt: strategies.TraceText) -> None:
            for eng in engines:
                try:
                    got = parse_text(tt.text, fmt, abi, eng)
                except ShimsimError as exc:
                    raise Falsified(f"the {fmt} parser ({eng}) rejects the tool's own output: {exc}") from None
                why = compare_events(got, tt.events)
                if why:
                    raise Falsified(f"{fmt} {' '.join(tt.options)} ({eng} engine): {why}")
        # every errno and signal of the ABI once (finite, so exhaustive), then streams under hypothesis
        for tt in strategies.single_records(fmt, abi):
            try:
                body(tt)
            except Falsified as exc:
                return Result(f"roundtrip-{fmt}", "falsified", tt.text, str(exc))
            except Exception as exc:  # noqa: BLE001
                return Result(f"roundtrip-{fmt}", "error", tt.text, f"{type(exc).__name__}: {exc}")
        return run_property(f"roundtrip-{fmt}", strategies.trace_text(fmt, abi, max_size=12), body,
                            lambda tt: tt.text, sett, seed)
    return run


# --------------------------------------------------------------------------- flag maps

def flag_forward(fm: shim.FlagMap, fs: strategies.FlagSet) -> tuple[bool, int, int, bool]:
    """(decoded, host value, unsupported guest bits, dropped): the shim's own translation."""
    return replay.flag_decode(fm, str(fs))


def _declared_loss(spec: shim.Spec, fam: str, name: str) -> bool:
    e = spec.flags.get(fam, {}).get(name)
    return e is not None and (e.lossy is not None or e.ignore is not None)


def flag_back(fm: shim.FlagMap, host_value: int, spec: shim.Spec, host_fam: tables.Family | None) -> int:
    """The guest value a host value comes back as: each host member maps back
    to the guest member(s) the spec sends to it, the same-named one first,
    then in declaration order; widest host values first."""
    targets: dict[int, list[tuple[int, str]]] = {}
    overrides = spec.flags.get(fm.family, {})
    gvals = {n: g for n, g, _h, _ok in fm.members}
    back, rest = 0, host_value
    in_field: set[str] = set()
    for f in (host_fam.fields if host_fam is not None else ()):
        in_field |= set(f.members.values())
    # bit members whose host value lies inside a field's mask (CLONE_NEWTIME inside CSIGNAL,
    # Darwin's O_DP_GETRAW* inside O_ACCMODE): with a field value beside them the field's
    # bits are the field value OR those bits, so the field is read with them taken out
    inner = sorted({h for name, _g, h, ok in fm.members if ok and h > 0 and name not in in_field}, key=_popcount)
    for f in (host_fam.fields if host_fam is not None else ()):
        v = rest & f.mask
        bits = [h for h in inner if h & f.mask and h & ~f.mask == 0 and v & h == h]
        for sub in _subsets(bits):              # the field value as read, then with fewer bits left in it
            name = f.members.get(v & ~sub)      # a field value (clone's exit signal) is one member
            if name is not None and name in gvals:
                back |= gvals[name]
                rest &= ~(f.mask & ~sub)        # the bits taken out are read as bits below
                break
    for name, g, h, ok in fm.members:
        if not ok or h == 0 or (overrides.get(name) is not None and overrides[name].ignore is not None):
            continue
        if name in in_field:
            continue
        ov = overrides.get(name)
        hname = ov.to if ov is not None and ov.to else name
        rank = 0 if hname == name else 1
        targets.setdefault(h, []).append((rank, name))
    order = sorted(targets, key=lambda h: (-bin(h).count("1"), h))
    for h in order:
        if rest & h == h:
            name = min(targets[h])[1]
            back |= gvals[name]
            rest &= ~h
    return back


def _popcount(v: int) -> int:
    return bin(v).count("1")


def _subsets(bits: list[int]) -> list[int]:
    """ORs of the subsets of BITS (distinct values), fewest bits first: 0, each one, each pair, ..."""
    out = {0}
    for b in bits:
        out |= {o | b for o in out}
    return sorted(out, key=lambda v: (_popcount(v), v))


def _flag_case(subject: Subject) -> st.SearchStrategy:
    cases = []
    for abi in subject.abis():
        cs = subject.compiled(abi)
        for i, fm in enumerate(cs.fmaps):
            if fm.is_enum or fm.reject:     # a reject map checks the guest's flags, it translates nothing
                continue
            with contextlib.suppress(ValueError):
                cases.append(st.tuples(st.just(abi), st.just(i), strategies.flag_sets(abi, fm.family)))
    return st.one_of(cases) if cases else st.nothing()


def _flag_roundtrip(subject: Subject, sett: Settings, seed: int | None) -> Result:
    spec = subject.spec

    def body(case: tuple[str, int, strategies.FlagSet]) -> None:
        abi, i, fs = case
        cs = subject.compiled(abi)
        fm = cs.fmaps[i]
        gfam = cs.guest.family(fm.family)
        ok, hval, unsup, _dropped = flag_forward(fm, fs)
        if not ok:
            missing = [n for n in fs.names if n not in fm.by_name]
            raise Falsified(f"{fm.family} {fs}: the shim's flag map cannot decode the value as a tracer prints it"
                            + (f" ({', '.join(missing)} not in the map)" if missing else ""))
        members = {n: (g, h, okm) for n, g, h, okm in fm.members}
        want_unsup = lossy_bits = host_keep = 0
        for n in fs.names:
            if n not in members and n not in gfam.members:
                # bits no single name explains, printed as a number (CLONE_NEWTIME|0x1: the 0x1 is
                # SIGHUP in the CSIGNAL field): the shim reads them through the field, so they
                # travel as what they decode to
                ok_n, h_n, _u, _d = replay.flag_decode(fm, n)
                gparts, _rest = gfam.decode_parts(int(n, 0)) if ok_n else ([], 0)
                if any(_declared_loss(spec, fm.family, p) for p in gparts):
                    lossy_bits |= int(n, 0)
                elif ok_n:
                    host_keep |= h_n
                continue
            g, h, okm = members.get(n, (gfam.members.get(n) or 0, 0, False))
            if not okm:
                want_unsup |= g
            if _declared_loss(spec, fm.family, n):
                lossy_bits |= g
            elif okm:
                host_keep |= h      # what a lossy member becomes on the host may come back as anything
        if unsup != want_unsup:
            raise Falsified(f"{fm.family} {fs}: the shim reports unsupported bits {unsup:#x}, but the members "
                            f"without a host side are {want_unsup:#x}")
        hfam = cs.host.family(fm.family) if cs.host is not None and fm.family in cs.host.family_names() else None
        back = flag_back(fm, hval & host_keep, spec, hfam)
        want = fs.value & ~want_unsup & ~lossy_bits
        got = back & ~lossy_bits
        if got != want:
            names = "|".join(gfam.decode(back)) if back else "0"
            raise Falsified(f"{fm.family} {fs} ({fs.value:#x}) -> host {hval:#x} -> guest {names} ({back:#x}): "
                            f"bits {(got ^ want):#x} change on the way back and no member is declared lossy "
                            f"in [flags.{fm.family}]")

    def show(case: tuple[str, int, strategies.FlagSet]) -> str:
        abi, i, fs = case
        cs = subject.compiled(abi)
        return _flag_call_text(cs, cs.fmaps[i].family, fs)

    # every single member first (finite, so exhaustive), then sets of members under hypothesis
    for abi in subject.abis():
        cs = subject.compiled(abi)
        for i, fm in enumerate(cs.fmaps):
            if fm.is_enum or fm.reject:
                continue
            gfam = cs.guest.family(fm.family)
            singles = [g for name, g, _h, _ok in fm.members
                       if g > 0 and name in gfam.members and gfam.member(name).role == ""]
            singles += [v for f in gfam.fields for v in sorted(f.members) if v > 0]   # O_WRONLY, SIGCHLD in clone
            for g in dict.fromkeys(singles):
                case = (abi, i, strategies.FlagSet(fm.family, tuple(gfam.decode(g)), g))
                try:
                    body(case)
                except Falsified as exc:
                    return Result("flag-roundtrip", "falsified", show(case), str(exc))
                except Exception as exc:  # noqa: BLE001
                    return Result("flag-roundtrip", "error", show(case), f"{type(exc).__name__}: {exc}")
    return run_property("flag-roundtrip", _flag_case(subject), body, show, sett, seed)


def _flag_call_text(cs: shim.CompiledShim, family: str, fs: strategies.FlagSet) -> str:
    """A call of the guest that carries the flag set, as its tracer prints it."""
    g = cs.guest
    for sc in sorted(g.syscalls, key=lambda s: ("open" not in s.name, s.number)):
        if sc.args is None or sc.status != "implemented":
            continue
        idx = [k for k, a in enumerate(sc.args) if a.family == family and a.kind in ("flags", "enum")]
        if not idx or not any(i in dict(cs.progs.get(sc.number, [])) for i in idx):
            continue
        args = [_fixed_arg(a, fs if k == idx[0] else None) for k, a in enumerate(sc.args)]
        ev = model.Event(model.SYSCALL, strategies.FILE, 1, pid=1000, name=sc.name, nr=sc.number,
                         args=", ".join(args), rec=model.SUCCESS, ret=3 if sc.returns == "fd" else 0, abi=g.name)
        return render_trace([ev], g.name)
    return f"{family}: {fs}\n"


def _fixed_arg(a: tables.Arg, fs: strategies.FlagSet | None) -> str:
    if fs is not None:
        return str(fs)
    return {"fd": "3", "dirfd": "AT_FDCWD", "path": '"/tmp/a"', "string": '"x"', "buf": "0x7ffde0000000",
            "size": "4096", "mode": "0644", "signal": "SIGTERM", "flags": "0", "enum": "0"}.get(
        a.kind, "0x7ffde0000000" if a.kind in ("ptr", "addr", "struct", "array", "time", "sockaddr") else "0")


# --------------------------------------------------------------------------- table laws

def _domain(fam: tables.Family, skip: tuple[str, ...] = ()) -> list[str]:
    """Names with a positive value that a kernel hands to programs (no aliases,
    helpers or kernel-internal codes)."""
    return [n for n, v in fam.members.items()
            if v is not None and v > 0 and fam.member(n).role == "" and n not in skip]


def _map_law(subject: Subject, kind: str) -> tuple[str | None, str | None, str | None]:
    """(first violation message, the name it concerns, the ABI of that name) for errno or signals."""
    spec = subject.spec
    for abi in subject.abis():
        cs = subject.compiled(abi)
        g, h = cs.guest, cs.host
        if h is None or h is g:
            continue                              # identity or opaque host: no map to check
        skip = ("SIGRTMIN", "SIGRTMAX") if kind == "signals" else ()
        gf, hf = (g.errno, h.errno) if kind == "errno" else (g.signals, h.signals)
        to_host = spec.errno_to_host if kind == "errno" else spec.signals_to_host
        to_guest = spec.errno_to_guest if kind == "errno" else spec.signals_to_guest
        section = "errno" if kind == "errno" else "signals"
        rt = cs.errno_rt if kind == "errno" else cs.sig_rt
        for n in _domain(gf, skip):
            v = gf.members[n]
            assert v is not None
            if v >= len(rt) or rt[v] == v:
                continue
            e = to_host.get(n)
            if e is None and hf.members.get(n) is None:
                continue                          # no fate at all: the totality check below says so
            hname = e.to if e is not None and e.to else n
            b = to_guest.get(hname)
            declared = any(x is not None and (x.lossy or x.drop or x.emulated) for x in (e, b))
            if not declared:
                back = rt[v]
                shown = next((k for k, x in gf.members.items() if x == back), str(back)) if back >= 0 else "nothing"
                via = f"{hname} on {h.name}"
                return (f"{g.name} {n} comes back as {shown} (via {via}) and neither [{section}.to_host] {n} "
                        f"nor [{section}.to_guest] {hname} is declared lossy", n, g.name)
        for n in _domain(gf, skip):
            if hf.members.get(n) is None and n not in to_host:
                return (f"{g.name} {n} has no value on {h.name} and [{section}.to_host] does not say what it "
                        f"becomes: the map is not total", n, g.name)
        for n in _domain(hf, skip):
            if gf.members.get(n) is None and n not in to_guest:
                return (f"{h.name} {n} has no value on {g.name} and [{section}.to_guest] does not say what it "
                        f"becomes: the map is not total", n, h.name)
    return None, None, None


def _table_law(kind: str) -> Callable[[Subject, Settings, int | None], Result]:
    name = "errno-map-total" if kind == "errno" else "signal-map-total"

    def run(subject: Subject, sett: Settings, seed: int | None) -> Result:
        """Finite domains: checked exhaustively, no sampling."""
        try:
            msg, n, abi = _map_law(subject, kind)
        except Exception as exc:  # noqa: BLE001
            return Result(name, "error", None, f"{type(exc).__name__}: {exc}")
        if msg is None:
            return Result(name, "passed")
        return Result(name, "falsified", _law_text(kind, n, abi), msg)
    return run


def _law_text(kind: str, n: str | None, abi: str | None) -> str | None:
    """A record carrying errno or signal N, as ABI's own tracer prints it."""
    if n is None or abi is None:
        return None
    g = tables.load_abi(abi)
    if kind == "errno":
        sc = g.by_name.get("read") or next(s for s in g.syscalls if s.args is not None)
        ev = model.Event(model.SYSCALL, strategies.FILE, 1, pid=1000, name=sc.name, nr=sc.number,
                         args=", ".join(_fixed_arg(a, None) for a in sc.args or ()), rec=model.ERROR, ret=-1,
                         errname=n, err=g.errno.members.get(n), abi=abi)
    else:
        ev = model.Event(model.SIGNAL, strategies.FILE, 1, pid=1000, name=n, err=g.signals.members.get(n), abi=abi)
        if g.os == "linux":
            ev.args = f"{{si_signo={n}, si_code=SI_USER, si_pid=1, si_uid=0}}"
    return render_trace([ev], abi)


# --------------------------------------------------------------------------- replay laws

def _streams_for(subject: Subject, max_size: int = 25) -> st.SearchStrategy[tuple[str, list[model.Event]]]:
    return st.sampled_from(subject.abis()).flatmap(
        lambda abi: st.tuples(st.just(abi), strategies.streams(abi, max_size=max_size)))


def _show_stream(case: tuple[str, list[model.Event]]) -> str:
    abi, evs = case
    return render_trace(evs, abi)


def _is_identity(spec: shim.Spec) -> bool:
    same = spec.guest == spec.host and spec.host_kind == "abi"
    return same and spec.default == "translate" and all(r.do == "translate" and (r.to in (None, n))
                                                        for n, r in spec.rules.items())


def _supports_nothing(spec: shim.Spec) -> bool:
    return spec.host_kind != "bare" and spec.default == "fail" and all(r.do == "fail" for r in spec.rules.values())


def _bare(subject: Subject, sett: Settings, seed: int | None) -> Result:
    """No layer: every call lands on the host call with its number (the guest sees that
    call's result, no errno), a call with the same number, name and arguments does what
    the guest asked, and a host loader that refuses the program fails everything; the
    C core counts the same outcomes."""
    def body(case: tuple[str, list[model.Event]]) -> None:
        abi, evs = case
        cs = subject.compiled(abi)
        bh = cs.bare
        for ev in evs:
            if ev.kind != model.SYSCALL or ev.nr is None:
                continue
            r = replay.replay_event(cs, ev)
            if bh.loader == "same":
                if r.div != replay.DIV_NONE:
                    raise Falsified(f"line {ev.line}: {ev.name} diverges on its own ABI's host")
                continue
            if bh.loader == "refuses":
                if r.outcome != shim.FAILED or r.err != cs.guest.errno.members.get("ENOEXEC"):
                    raise Falsified(f"line {ev.line}: {ev.name} is {shim.OUTCOME_NAMES[r.outcome]} though the "
                                    f"host's loader refuses the program")
                continue
            hs = cs.host.by_number.get(ev.nr)
            if r.outcome == shim.TRANSLATED:
                if hs is None or hs.name != ev.name or r.host_nr != ev.nr:
                    raise Falsified(f"line {ev.line}: {ev.name} ({ev.nr}) is translated but {cs.host.name} has "
                                    f"{hs.name if hs else 'nothing'} at that number")
                continue
            if r.outcome != shim.FAILED or r.err != 0:
                raise Falsified(f"line {ev.line}: {ev.name} is {shim.OUTCOME_NAMES[r.outcome]} with errno {r.err}: "
                                "a call that lands elsewhere gets the host call's value, no errno")
            want = hs.name if hs is not None else None
            if bh.landing.get(ev.nr, "?") != want:
                raise Falsified(f"line {ev.line}: {ev.name} ({ev.nr}) is said to land on {bh.landing.get(ev.nr)} "
                                f"but {cs.host.name} has {want} at {ev.nr}")
        rep = replay.replay_events(cs, evs, "c")
        py = replay.replay_events(cs, evs, "python")
        if dict(rep.outcomes) != dict(py.outcomes):
            raise Falsified(f"the C core counts {dict(rep.outcomes)}, the reference {dict(py.outcomes)}")
    return run_property("bare-lands-by-number", _streams_for(subject), body, _show_stream, sett, seed)


def _native(subject: Subject, sett: Settings, seed: int | None) -> Result:
    def body(case: tuple[str, list[model.Event]]) -> None:
        abi, evs = case
        cs = subject.compiled(abi)
        for ev, c in zip(evs, c_results(cs, evs)):
            for eng, r in (("c", c), ("python", replay.replay_event(cs, ev))):
                if r.div != replay.DIV_NONE:
                    raise Falsified(f"line {ev.line}: {ev.name} diverges under {subject.name} ({eng} engine): "
                                    f"{replay.DIV_NAMES[r.div]}")
    return run_property("native-never-diverges", _streams_for(subject), body, _show_stream, sett, seed)


def _none(subject: Subject, sett: Settings, seed: int | None) -> Result:
    def body(case: tuple[str, list[model.Event]]) -> None:
        abi, evs = case
        cs = subject.compiled(abi)
        for ev in evs:
            if ev.kind != model.SYSCALL:
                continue
            r = replay.replay_event(cs, ev)
            if r.outcome != shim.FAILED or r.ret != -1 or r.err <= 0:
                raise Falsified(f"line {ev.line}: {ev.name} is {shim.OUTCOME_NAMES[r.outcome]} "
                                f"(returns {r.ret}, errno {r.err}) under {subject.name}")
        rep = replay.replay_events(cs, evs, "c")
        calls = sum(1 for e in evs if e.kind == model.SYSCALL)
        if rep.outcomes.get(shim.FAILED, 0) != calls:
            raise Falsified(f"the C core counts {rep.outcomes.get(shim.FAILED, 0)} failed calls of {calls}")
    return run_property("none-fails-every-call", _streams_for(subject), body, _show_stream, sett, seed)


def _works(r: replay.Result) -> bool:
    return r.outcome > shim.FAILED and r.div != replay.DIV_FAILS


def with_support(spec: shim.Spec, name: str, do: str) -> shim.Spec:
    """SPEC with one more supported syscall (a copy; the original is untouched)."""
    s2 = copy.copy(spec)
    s2.rules = dict(spec.rules)
    to = name if do in ("translate", "partial") else None
    s2.rules[name] = shim.Rule(name, do, to, [], None, "added by the coverage-monotonic property", {}, None)
    return s2


def _unsupported(cs: shim.CompiledShim) -> list[str]:
    """Guest syscalls (with signatures) the compiled spec fails."""
    return [sc.name for sc in sorted(cs.guest.syscalls, key=lambda s: s.number)
            if sc.status == "implemented" and sc.args is not None and sc.name and cs.outcome[sc.number] == shim.FAILED
            and sc.name not in strategies.FORK_NAMES and sc.returns != "noreturn"]


def _monotonic(subject: Subject, sett: Settings, seed: int | None) -> Result:
    """A stream, plus calls of one syscall the spec fails inserted into it;
    then the spec is given a rule for that syscall and the stream replayed again."""
    spec = subject.spec
    compiled: dict[tuple[str, str, str], shim.CompiledShim] = {}

    @st.composite
    def cases(draw: Any) -> tuple[tuple[str, list[model.Event]], str, str]:
        abi = draw(st.sampled_from(subject.abis()))
        evs = list(draw(strategies.streams(abi, max_size=20)))
        failing = _unsupported(subject.compiled(abi))
        if not failing:
            return (abi, evs), "", "emulate"
        name = draw(st.sampled_from(failing))
        for _ in range(draw(st.integers(1, 3))):
            ev = draw(strategies.events(abi, names=[name]))
            ev.pid = evs[0].pid if evs else ev.pid
            evs.insert(draw(st.integers(0, len(evs))), ev)
        for i, ev in enumerate(evs, 1):
            ev.line = i
        return (abi, evs), name, draw(st.sampled_from(["emulate", "translate", "stub", "partial"]))

    def body(x: tuple[tuple[str, list[model.Event]], str, str]) -> None:
        (abi, evs), name, do = x
        if not name:
            return                                   # the spec supports everything already
        before = subject.compiled(abi)
        if do in ("translate", "partial") and (before.host is None or name not in before.host.by_name):
            do = "emulate"
        key = (abi, name, do)
        if key not in compiled:                  # shrinking revisits the same additions
            s2 = with_support(spec, name, do)
            if do == "partial":
                s2.rules[name].note = "added by the coverage-monotonic property: a restriction"
            try:
                compiled[key] = shim.compile_shim(s2, abi if subject.star else None)
            except ShimsimError as exc:
                raise Falsified(f"adding {name} = {{ do = \"{do}\" }} makes the spec invalid: {exc}") from None
        after = compiled[key]
        rule = f'{name} = {{ do = "{do}" }}'
        worse = []
        n_before = n_after = fatal_b = fatal_a = 0
        for ev in evs:
            if ev.kind != model.SYSCALL:
                continue
            a, b = replay.replay_event(before, ev), replay.replay_event(after, ev)
            n_before += _works(a)
            n_after += _works(b)
            fatal_b += a.div == replay.DIV_FAILS
            fatal_a += b.div == replay.DIV_FAILS
            if _works(a) and not _works(b):
                worse.append(f"line {ev.line} {ev.name}")
        if worse or n_after < n_before or fatal_a > fatal_b:
            raise Falsified(f"adding [syscalls] {rule} lowers coverage: {n_before} -> {n_after} working calls, "
                            f"{fatal_b} -> {fatal_a} fatal divergences"
                            + (f" ({', '.join(worse[:3])} stop working)" if worse else ""))

    def show(x: tuple[tuple[str, list[model.Event]], str, str]) -> str:
        return _show_stream(x[0]) + (f"# after adding [syscalls] {x[1]} = {{ do = \"{x[2]}\" }}\n" if x[1] else "")

    return run_property("coverage-monotonic", cases(), body, show, sett, seed)


_AGREE_FIELDS = ("outcome", "div", "nflags", "dropped", "undecoded", "fallback", "host_nr", "err", "ret")


def c_results(cs: shim.CompiledShim, events: list[model.Event]) -> list[replay.Result]:
    """Per-event results of the C core for EVENTS (one ss_replay_batch call)."""
    return replay.run_batch(cs, events).results


def agreement_machine(subject: Subject, abi: str, cap: _Capture | None = None) -> type[RuleBasedStateMachine]:
    """A state machine that grows one event stream and checks, after every
    step, that the C core and the Python reference agree on every event so
    far, and (at the end) on the report."""
    cs = subject.compiled(abi)
    cap = cap if cap is not None else _Capture()

    class Agreement(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.events: list[model.Event] = []

        @rule(chunk=strategies.streams(abi, max_size=6))
        def grow(self, chunk: list[model.Event]) -> None:
            for ev in chunk:
                ev.line = len(self.events) + 1
                self.events.append(ev)

        @rule(ev=strategies.events(abi))
        def one_more(self, ev: model.Event) -> None:
            ev.line = len(self.events) + 1
            self.events.append(ev)

        @invariant()
        def engines_agree(self) -> None:
            if not self.events:
                return
            cres = c_results(cs, self.events)
            for ev, c in zip(self.events, cres):
                p = replay.replay_event(cs, ev)
                for f in _AGREE_FIELDS:
                    if getattr(c, f) != getattr(p, f):
                        raise Falsified(f"line {ev.line} {ev.name}: {f} is {getattr(c, f)} in C, "
                                        f"{getattr(p, f)} in Python")
                k = p.nflags
                if c.hflags[:k] != p.hflags[:k] or c.unsup[:k] != p.unsup[:k]:
                    raise Falsified(f"line {ev.line} {ev.name}: translated flags differ (C {c.hflags[:k]}/"
                                    f"{c.unsup[:k]}, Python {p.hflags[:k]}/{p.unsup[:k]})")

        def teardown(self) -> None:
            """The whole stream through both drivers: the reports agree too."""
            if not self.events:
                return
            jc = replay.replay_events(cs, self.events, "c").to_json()
            jp = replay.replay_events(cs, self.events, "python").to_json()
            jc.pop("engine")
            jp.pop("engine")
            if jc != jp:
                diff = sorted(k for k in jc if jc[k] != jp.get(k))
                exc = Falsified(f"reports differ after {len(self.events)} events in {', '.join(diff)}")
                cap.example, cap.error = (abi, list(self.events)), exc
                raise exc

    return Agreement


def _agree(subject: Subject, sett: Settings, seed: int | None) -> Result:
    for abi in subject.abis()[:2]:
        cap = _Capture()
        machine = agreement_machine(subject, abi, cap)

        class Recording(machine):  # type: ignore[misc, valid-type]
            def check_invariants(self, *a: Any, **kw: Any) -> None:
                try:
                    super().check_invariants(*a, **kw)
                except BaseException as exc:
                    cap.example, cap.error = (abi, list(self.events)), exc
                    raise

        def factory() -> RuleBasedStateMachine:
            return Recording()

        if seed is not None:
            factory = hypothesis.seed(seed)(factory)
        stateful = Settings(sett, max_examples=max(5, sett.max_examples // 4), stateful_step_count=8)
        res = _outcome("c-python-agree", lambda: run_state_machine_as_test(factory, settings=stateful), cap,
                       _show_stream)
        if res.status != "passed":
            return res
    return Result("c-python-agree", "passed")


# --------------------------------------------------------------------------- the catalogue

@dataclass
class Property:
    name: str
    doc: str
    run: Callable[[Subject, Settings, int | None], Result]
    applies: Callable[[Subject], bool] = field(default=lambda s: True)


def _roundtrip_props() -> list[Property]:
    out = []
    for fmt, abis in strategies.FORMATS.items():
        for abi in abis[:1]:
            out.append(Property(f"roundtrip-{fmt}", f"{fmt} text printed from events parses back to the same events",
                                _roundtrip(fmt, abi),
                                lambda s, fmt=fmt: fmt in {f for f, _ in s.formats()}))
    return out


PROPERTIES: list[Property] = _roundtrip_props() + [
    Property("flag-roundtrip", "guest flag sets survive guest -> host -> guest except the reported bits",
             _flag_roundtrip, lambda s: any(not fm.is_enum and not fm.reject for a in s.abis() for fm in s.compiled(a).fmaps)),
    Property("errno-map-total", "every errno has a fate on the other side; lossy mappings are declared",
             _table_law("errno"), lambda s: s.spec.host_kind != "bare"),
    Property("signal-map-total", "every signal has a fate on the other side; lossy mappings are declared",
             _table_law("signals"), lambda s: s.spec.host_kind != "bare"),
    Property("native-never-diverges", "an identity spec never diverges from the recording", _native,
             lambda s: _is_identity(s.spec)),
    Property("none-fails-every-call", "a spec that supports nothing fails every call", _none,
             lambda s: _supports_nothing(s.spec)),
    Property("bare-lands-by-number", "with no layer every call lands on the host call with its number", _bare,
             lambda s: s.spec.host_kind == "bare"),
    Property("coverage-monotonic", "supporting one more syscall never makes a working call fail", _monotonic,
             lambda s: s.spec.host_kind != "bare"),
    Property("c-python-agree", "the C core and the Python reference agree event by event (stateful)", _agree),
]


def names() -> list[str]:
    return [p.name for p in PROPERTIES]


def get(name: str) -> Property:
    for p in PROPERTIES:
        if p.name == name:
            return p
    from shimsim.errors import UnknownName

    raise UnknownName("property", name, names())


def applicable(subject: Subject) -> list[Property]:
    return [p for p in PROPERTIES if p.applies(subject)]


def check(subject: Subject | str, *, max_examples: int | None = 50, seed: int | None = None,
          only: list[str] | None = None, parent: Settings | None = None) -> Iterator[Result]:
    """Run the properties that apply to SUBJECT (a Subject, shipped shim name or spec path)."""
    if isinstance(subject, str):
        subject = Subject.load(subject)
    sett = make_settings(parent if parent is not None else Settings(database=None), max_examples)
    props = applicable(subject) if only is None else [get(n) for n in only]
    for p in props:
        yield p.run(subject, sett, seed)
