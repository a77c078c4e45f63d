# SPDX-License-Identifier: MIT
"""Hypothesis strategies for syscall traces, flag sets and shim specs.

Compat-layer authors test their shim specs the way hypothesis users test
code: generate well-formed inputs, run them through the layer, check a law.
Every strategy here draws from shimsim's own ABI tables, so a generated
``openat`` has the argument kinds of the real signature (a directory fd, a
path, a set of ``open_flags`` of the right OS, a mode) and a generated
stream opens an fd before it uses it and closes it once.

All strategies are ordinary hypothesis strategies: they combine with
``st.lists``, ``.map``, ``.filter``, obey ``@settings`` and profiles, and
shrink to small readable examples (few events, low fds, the first path of
the pool, the lowest errno).

>>> from hypothesis import given, settings
>>> from shimsim import strategies as ss
>>> @settings(max_examples=20)
... @given(ss.flag_sets("linux-x86_64", "open_flags"))
... def test_value_is_the_or_of_the_names(fs):
...     fam = ss.family("linux-x86_64", "open_flags")
...     assert fam.encode(fs.names) == fs.value
>>> test_value_is_the_or_of_the_names()

Public API: :func:`abis`, :func:`syscalls`, :func:`flag_sets`,
:func:`errnos`, :func:`signals`, :func:`events`, :func:`streams`,
:func:`trace_text`, :func:`shim_specs`, and the renderers
:func:`render_strace` and :func:`render` (an event as a tool prints it).
docs/strategies.md has the longer tour.
"""
from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from shimsim import _record, model, tables
from shimsim.model import Event
from shimsim.trace import formats
from shimsim.trace.args import Fd, FdPair, FlagSet, Named, Num, Ptr, Quoted  # noqa: F401  (public here too)

__all__ = [
    "FORMATS", "FlagSet", "ShimSpecText", "TraceText", "abis", "errnos", "events", "family",
    "flag_sets", "format_abis", "render", "render_strace", "shim_specs", "signals", "single_records", "streams",
    "syscalls", "trace_text",
]

FILE = "generated"
# Trace formats trace_text() can print, with the ABIs whose tool prints them (a snapshot of
# the registry's, shimsim.trace.formats.printable(), which the strategies read).
FORMATS: dict[str, tuple[str, ...]] = formats.printable()
# strace option styles trace_text("strace") chooses from (all combinable).
STRACE_OPTIONS = ("-f", "-f-o", "-t", "-tt", "-ttt", "-r", "-T", "-y")

PATHS = ("/etc/passwd", "/tmp/a", "/dev/null", "/usr/lib/libc.so.6", "/home/u/notes.txt", ".",
         "/proc/self/maps", "/var/log/messages")
STRINGS = ("hello", "en_US.UTF-8", "x")
BUFS = ("", "abc", "hello\\n", "root:x:0:0")
FORK_NAMES = frozenset({"fork", "vfork", "clone", "clone3", "rfork", "__fork14", "__vfork14", "forkx", "forkall",
                        "fork1", "pdfork"})
EXIT_NAMES = ("exit_group", "exit", "_exit", "rexit", "sys_exit")
# fd lifecycle calls the generic classes leave out (handled as their own steps)
_LIFECYCLE = frozenset({"close", "close_range", "closefrom", "dup2", "dup3", "execve", "execveat",
                        "exec", "exece", "fexecve", "__fork14", "__vfork14"}) | FORK_NAMES
_STD_FDS = (0, 1, 2)


# --------------------------------------------------------------------------- tables

@functools.lru_cache(maxsize=None)
def _abi(name: str) -> tables.ABI:
    return tables.load_abi(name)


@functools.lru_cache(maxsize=None)
def _ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Integer strategies are made once: hypothesis labels every new strategy,
    which costs more than the draw itself in a stream of hundreds of draws."""
    return st.integers(lo, hi)


def _pick(draw: Any, seq: Sequence[Any]) -> Any:
    """One element of SEQ, shrinking towards the first (cheaper than a new sampled_from per draw)."""
    return seq[draw(_ints(0, len(seq) - 1))]


def family(abi: str, name: str) -> tables.Family:
    """The constant family NAME of ABI (a convenience for tests)."""
    return _abi(abi).family(name)


def abis(os: str | Iterable[str] | None = None) -> st.SearchStrategy[str]:
    """ABI names from the tables (optionally only those of one OS or several).

    >>> from hypothesis import find
    >>> find(abis("illumos"), lambda name: True)
    'illumos-amd64'
    """
    names = tables.list_abis()
    if os is not None:
        want = {os} if isinstance(os, str) else set(os)
        names = [n for n in names if _abi(n).os in want]
        if not names:
            raise ValueError(f"no ABI for OS {os!r}")
    return st.sampled_from(names)


def _usable(sc: tables.Syscall) -> bool:
    return sc.status == "implemented" and sc.args is not None and bool(sc.name)


def syscalls(abi: str, classes: Iterable[str] | None = None, *, signature: bool = True,
             names: Iterable[str] | None = None) -> st.SearchStrategy[tables.Syscall]:
    """Implemented syscalls of ABI (with a known signature unless signature=False),
    optionally only those in any of CLASSES (file, desc, network, ...) or NAMES.
    Shrinks towards low syscall numbers (read, write, open on Linux)."""
    a = _abi(abi)
    pool = [s for s in a.syscalls if s.status == "implemented" and s.name
            and (s.args is not None or not signature)]
    if classes is not None:
        cls = set(classes)
        unknown = cls - set(tables.CLASSES)
        if unknown:
            raise ValueError(f"unknown syscall class {sorted(unknown)[0]!r} (known: {', '.join(tables.CLASSES)})")
        pool = [s for s in pool if cls & set(s.classes)]
    if names is not None:
        want = set(names)
        pool = [s for s in pool if s.name in want]
    if not pool:
        raise ValueError(f"no syscall of {abi} fits classes={classes!r} names={names!r}")
    return st.sampled_from(sorted(pool, key=lambda s: s.number))


def _printable(fam: tables.Family) -> list[str]:
    return [n for n, v in fam.members.items() if v is not None and fam.member(n).role == ""]


@functools.lru_cache(maxsize=None)
def errnos(abi: str) -> st.SearchStrategy[str]:
    """errno names of ABI that have a value (one name per value, the one the
    tables print for it, as Family.decode gives), shrinking towards EPERM."""
    fam = _abi(abi).errno
    values = sorted({fam.members[n] for n in _printable(fam) if fam.members[n] > 0})  # type: ignore[operator]
    return st.sampled_from([fam.decode(v)[0] for v in values])


@functools.lru_cache(maxsize=None)
def signals(abi: str) -> st.SearchStrategy[str]:
    """Signal names of ABI with a value, one per number, shrinking towards SIGHUP."""
    fam = _abi(abi).signals
    values = sorted({fam.members[n] for n in _printable(fam)
                     if n not in ("SIGRTMIN", "SIGRTMAX") and fam.members[n] > 0})  # type: ignore[operator]
    return st.sampled_from([fam.decode(v)[0] for v in values])


@functools.lru_cache(maxsize=None)
def flag_sets(abi: str, family: str, *, max_size: int = 4) -> st.SearchStrategy[FlagSet]:
    """Sets of members of the flag family on ABI (one value for an enum family).

    A multi-bit field (the access mode of ``open_flags``) gets at most one of
    its values; the names are those ``Family.decode`` prints for the value, so
    they read as a tracer would print them.  Shrinks to the empty set (or
    the first enum member)."""
    fam = _abi(abi).family(family)
    if fam.kind not in ("flags", "enum"):
        raise ValueError(f"{family} on {abi} is a {fam.kind}, not a flag or enum family")
    names = _printable(fam)
    if fam.kind == "enum":
        byval: dict[int, str] = {}
        for n in names:
            byval.setdefault(fam.members[n], n)  # type: ignore[arg-type]
        pool = [byval[v] for v in sorted(byval, key=lambda v: (v < 0, abs(v)))]
        if not pool:
            raise ValueError(f"enum family {family} has no member with a value on {abi}")
        return st.sampled_from(pool).map(
            lambda n: FlagSet(family, (n,), fam.members[n], "enum"))  # type: ignore[arg-type]
    in_field = {n for f in fam.fields for n in f.members.values()}
    bits = [n for n in names if n not in in_field and (fam.members[n] or 0) > 0]
    fields = [st.one_of(st.none(), st.sampled_from([v for v, _ in sorted(f.members.items())]))
              for f in fam.fields if f.members]
    bit_lists = st.lists(st.sampled_from(bits), unique=True, max_size=max_size) if bits else st.just([])

    @st.composite
    def build(draw: Any) -> FlagSet:
        value = 0
        for fs in fields:
            v = draw(fs)
            if v is not None:
                value |= v
        for n in draw(bit_lists):
            value |= fam.members[n]  # type: ignore[operator]
        parts = fam.decode(value)
        shown = tuple(p for p in parts if p != "0")
        return FlagSet(family, shown, value, "flags")

    return build()


def _family_or_none(abi: tables.ABI, name: str | None) -> tables.Family | None:
    if not name:
        return None
    try:
        f = abi.family(name)
    except Exception:  # an unknown family is simply not generated from
        return None
    return f if f.kind in ("flags", "enum") and _printable(f) else None


_NUM_KINDS = ("int", "uint", "long", "ulong", "size", "ssize", "off", "socklen", "id", "cmd", "varargs")
_PTR_KINDS = ("ptr", "addr", "struct", "array", "time", "sockaddr")


def _arg_value(draw: Any, abi: tables.ABI, arg: tables.Arg, fds: Sequence[Fd], pid: int) -> Any:
    k = arg.kind
    if k == "fd":
        return _pick(draw, list(fds)) if fds else Fd(0)
    if k == "dirfd":
        cwd = abi.family("at_flags.dirfd").members.get("AT_FDCWD") if "at_flags.dirfd" in abi.family_names() else None
        choices: list[Any] = [Named("AT_FDCWD", cwd)] if cwd is not None else []
        choices += [f for f in fds if f.n > 2]
        return _pick(draw, choices) if choices else Fd(0)
    if k == "path":
        return Quoted(_pick(draw, PATHS), "path")
    if k == "string":
        return Quoted(_pick(draw, STRINGS), "string")
    if k == "buf":
        return Quoted(_pick(draw, BUFS), "buf")
    if k in ("flags", "enum"):
        fam = _family_or_none(abi, arg.family)
        if fam is not None:
            return draw(flag_sets(abi.name, fam.name))
        return Num(0, "int")
    if k == "mode":
        return Num(_pick(draw, [0o644, 0o755, 0o600, 0o777, 0]), "mode")
    if k == "signal":
        s = draw(signals(abi.name))
        return Named(s, abi.signals.members[s])  # type: ignore[arg-type]
    if k == "pid":
        return Num(pid, "pid")
    if k in ("uid", "gid"):
        return Num(_pick(draw, [0, 1000, 65534]), k)
    if k == "fdarray":
        return Ptr(0x7FFD_E000_0010)
    if k in _PTR_KINDS:
        return Ptr(_pick(draw, [0x7FFD_E000_0000, 0, 0x5555_5555_8000, 0x7F3A_1000_0000]))
    return Num(draw(_ints(0, 4096)), k if k in _NUM_KINDS else "int")


# --------------------------------------------------------------------------- per-format argument text

def _arg_text(v: Any, fmt: str, fd_paths: bool) -> str:
    """One argument as FMT's tool prints it (its format module's render_arg)."""
    return formats.module(fmt).render_arg(v, fd_paths)


def _args_text(values: Sequence[Any], fmt: str, fd_paths: bool) -> str:
    mod = formats.module(fmt)
    return mod.ARG_SEP.join(mod.render_arg(v, fd_paths) for v in values)


# --------------------------------------------------------------------------- single events

_OUTCOMES = ("success", "error")


def _ret_for(sc: tables.Syscall, draw: Any, pid: int, new_fd: int | None) -> int:
    r = sc.returns
    if r == "fd":
        return new_fd if new_fd is not None else 3
    if r in ("zero", None):
        return 0
    if r == "pid":
        return pid
    if r == "addr":
        return 0x7F3A_1000_0000
    if r in ("uid", "gid"):
        return 1000
    if r == "mode":
        return 0o22
    return draw(_ints(0, 4096))


def _errmsg(abi: tables.ABI, name: str) -> str:
    try:
        return abi.errno_message(name) or name
    except Exception:
        return name


@dataclass
class _Rec:
    """One generated record before it is printed in a format."""

    kind: int
    pid: int
    sc: tables.Syscall | None = None
    values: list[Any] = field(default_factory=list)
    ret: int | None = None
    errname: str | None = None
    signal: str | None = None
    status: int | None = None
    ts_us: int | None = None
    dur_us: int | None = None
    tid: int | None = None


def _call_rec(draw: Any, abi: tables.ABI, sc: tables.Syscall, pid: int, fds: Sequence[Fd],
              fail: bool, new_fd: int | None = None) -> _Rec:
    values = [_arg_value(draw, abi, a, fds, pid) for a in (sc.args or ())]
    if fail:
        return _Rec(model.SYSCALL, pid, sc, values, -1, draw(errnos(abi.name)))
    if sc.returns == "noreturn":
        return _Rec(model.SYSCALL, pid, sc, values, None, None)
    return _Rec(model.SYSCALL, pid, sc, values, _ret_for(sc, draw, pid, new_fd), None)


def events(abi: str, *, classes: Iterable[str] | None = None, names: Iterable[str] | None = None,
           outcomes: Sequence[str] = _OUTCOMES, format: str = "strace",  # noqa: A002
           fd_paths: bool = False) -> st.SearchStrategy[Event]:
    """Single well-formed syscall events of ABI: name, number, arguments
    printed as FORMAT's tool prints them (respecting the signature's kinds:
    fds, paths, flag sets of the right family, enums, ints), and a result
    (success, or an error with an errno of ABI).  Each event stands alone:
    use :func:`streams` for coherent fd and process lifecycles.

    >>> from hypothesis import find
    >>> ev = find(events("linux-x86_64", names=["close"]), lambda ev: True)
    >>> (ev.name, ev.nr, ev.args, ev.ret)
    ('close', 3, '0', 0)
    """
    a = _abi(abi)
    _check_format(format, abi)
    calls = syscalls(abi, classes, names=names).filter(lambda s: s.name not in _LIFECYCLE or s.name == "close")
    bad = set(outcomes) - set(_OUTCOMES)
    if bad or not outcomes:
        raise ValueError(f"outcomes are drawn from {_OUTCOMES}, got {sorted(bad) or outcomes!r}")

    @st.composite
    def build(draw: Any) -> Event:
        sc = draw(calls)
        pid = draw(_ints(100, 99999))
        fds = [Fd(n, PATHS[n % len(PATHS)]) for n in range(draw(_ints(3, 12)))]
        fail = _pick(draw, list(outcomes)) == "error"
        rec = _call_rec(draw, a, sc, pid, fds, fail)
        rec.pid = pid
        return _events_for(a, [rec], format, _Style(fd_paths=fd_paths, pids=True))[0]

    return build()


# --------------------------------------------------------------------------- streams

@dataclass
class _Proc:
    pid: int
    fds: dict[int, Fd]
    alive: bool = True


@functools.lru_cache(maxsize=None)
def _pools(abi_name: str, classes: tuple[str, ...] | None) -> dict[str, list[tables.Syscall]]:
    """Syscalls by the lifecycle role they play in a stream."""
    a = _abi(abi_name)
    ok = [s for s in a.syscalls if _usable(s) and (classes is None or set(classes) & set(s.classes))]
    def nfd(s: tables.Syscall) -> int:
        return sum(1 for x in s.args or () if x.kind == "fd")
    pools: dict[str, list[tables.Syscall]] = {"open": [], "pipe": [], "use": [], "other": []}
    for s in ok:
        if s.name in _LIFECYCLE or s.returns == "noreturn":
            continue
        kinds = [x.kind for x in s.args or ()]
        if s.returns == "fd" and nfd(s) <= 1:
            pools["open"].append(s)
        elif "fdarray" in kinds and s.returns == "zero" and nfd(s) == 0:
            pools["pipe"].append(s)
        elif s.returns == "fd":
            continue            # dup2-like: the result is an argument
        elif nfd(s):
            pools["use"].append(s)
        elif s.returns != "pid" or not s.name.startswith(("wait", "fork")):
            pools["other"].append(s)
    for k in pools:
        pools[k].sort(key=lambda s: s.number)
    pools["close"] = [a.by_name["close"]] if "close" in a.by_name and _usable(a.by_name["close"]) else []
    pools["fork"] = sorted((a.by_name[n] for n in FORK_NAMES if n in a.by_name and a.by_name[n].status == "implemented"
                            and a.by_name[n].args is not None), key=lambda s: s.number)
    pools["exit"] = [a.by_name[n] for n in EXIT_NAMES if n in a.by_name
                     and a.by_name[n].status == "implemented" and a.by_name[n].args is not None][:1]
    return pools


def _lowest_free(p: _Proc) -> int:
    n = 0
    while n in p.fds:
        n += 1
    return n


@dataclass
class _State:
    """What a stream has done so far: the processes, their fds, the clock."""

    abi: tables.ABI
    pools: dict[str, list[tables.Syscall]]
    actions: list[str]
    errors: bool
    first: int
    procs: dict[int, _Proc]
    order: list[int]
    next_pid: int
    t_us: int
    out: list[_Rec] = field(default_factory=list)


@st.composite
def _step(draw: Any, s: _State, forced: bool) -> bool:
    """One step of a stream, or its end (False).  The continue flag and the
    step share one span, so the shrinker can delete a step whole."""
    more = draw(_MORE)
    if not forced and more == 0:
        return False
    live = [p for p in s.order if s.procs[p].alive]
    if not live:
        return False
    a, pools = s.abi, s.pools
    p = s.procs[_pick(draw, live)]
    act = _pick(draw, s.actions)
    fail = s.errors and act not in ("close", "exit", "fork", "signal") and draw(_ints(0, 4)) == 4
    fds = [p.fds[k] for k in sorted(p.fds)]
    new: list[_Rec] = []
    if act == "open" and pools["open"]:
        sc = _pick(draw, pools["open"])
        n = _lowest_free(p)
        r = _call_rec(draw, a, sc, p.pid, fds, fail, n)
        if not fail:
            paths = [v.text for v in r.values if isinstance(v, Quoted) and v.kind == "path"]
            p.fds[n] = Fd(n, paths[0] if paths else f"anon_inode:[{sc.name}]")
        new.append(r)
    elif act == "pipe":
        sc = _pick(draw, pools["pipe"])
        r = _call_rec(draw, a, sc, p.pid, fds, fail)
        if not fail:
            x = _lowest_free(p)
            p.fds[x] = Fd(x, "pipe:[4242]")
            y = _lowest_free(p)
            p.fds[y] = Fd(y, "pipe:[4242]")
            r.values = [FdPair((x, y)) if isinstance(v, Ptr) and i == _fdarray_index(sc) else v
                        for i, v in enumerate(r.values)]
        new.append(r)
    elif act == "use" and pools["use"]:
        new.append(_call_rec(draw, a, _pick(draw, pools["use"]), p.pid, fds, fail))
    elif act == "close" and pools["close"]:
        mine = [f for f in fds if f.n > 2]
        if mine:
            f = _pick(draw, mine)
            del p.fds[f.n]
            new.append(_Rec(model.SYSCALL, p.pid, pools["close"][0], [f], 0, None))
    elif act == "fork":
        sc = _pick(draw, pools["fork"])
        child = s.next_pid
        s.next_pid += 1
        r = _call_rec(draw, a, sc, p.pid, fds, False)
        r.ret = child
        new.append(r)
        s.procs[child] = _Proc(child, dict(p.fds))
        s.order.append(child)
    elif act == "exit" and not (p.pid == s.first and len(live) > 1):   # the first process exits last
        if draw(_ints(0, 3)) < 3:        # exits through the exit call, or (1 in 4) is killed by a signal
            status = draw(_ints(0, 3))
            new.append(_Rec(model.SYSCALL, p.pid, pools["exit"][0], [Num(status, "int")], None, None))
            new.append(_Rec(model.EXIT, p.pid, status=status))
        else:
            core = draw(_ints(0, 1))
            new.append(_Rec(model.KILLED, p.pid, signal=draw(signals(a.name)), status=core))
        p.alive = False
    elif act == "signal":
        new.append(_Rec(model.SIGNAL, p.pid, signal=draw(signals(a.name))))
    elif act == "other" and pools["other"]:
        new.append(_call_rec(draw, a, _pick(draw, pools["other"]), p.pid, fds, fail))
    for r in new:           # time: microseconds, never decreasing; small durations
        s.t_us += draw(_ints(0, 2000))
        r.ts_us = s.t_us
        r.dur_us = draw(_ints(0, 500)) if r.kind == model.SYSCALL else None
    s.out.extend(new)
    return True


_MORE = st.integers(0, 15)   # 0 ends a stream: shrinks to short streams, averages about 16 steps


@st.composite
def _recs(draw: Any, abi_name: str, min_size: int, max_size: int, classes: tuple[str, ...] | None,
          processes: bool, errors: bool, signals_: bool) -> list[_Rec]:
    pools = _pools(abi_name, classes)
    first = draw(_ints(1000, 1010))
    actions = ["other", "open", "use", "close"]
    if pools["pipe"]:
        actions.append("pipe")
    if processes and pools["fork"]:
        actions.append("fork")
    if processes and pools["exit"]:
        actions.append("exit")
    if signals_:
        actions.append("signal")
    actions = [x for x in actions if x not in ("open", "use", "other") or pools[x]]
    s = _State(_abi(abi_name), pools, actions, errors, first,
               {first: _Proc(first, {n: Fd(n, "/dev/pts/0") for n in _STD_FDS})}, [first], first + 1,
               draw(_ints(0, 86_000)) * 1_000_000)
    budget = 4 * max_size + 16    # steps that print nothing (a close with no fd open) are skipped
    while len(s.out) < max_size and budget > 0 and any(p.alive for p in s.procs.values()):
        budget -= 1
        if not draw(_step(s, len(s.out) < min_size)):
            break
    del s.out[max_size + 1:]      # an exit call may bring its exit record one past max_size
    return s.out


def _fdarray_index(sc: tables.Syscall) -> int:
    return next(i for i, x in enumerate(sc.args or ()) if x.kind == "fdarray")


def streams(abi: str, *, min_size: int = 1, max_size: int = 30, classes: Iterable[str] | None = None,
            processes: bool = True, errors: bool = True, signals: bool = True,  # noqa: F811
            format: str = "strace", fd_paths: bool = False) -> st.SearchStrategy[list[Event]]:  # noqa: A002
    """Event streams of ABI with coherent lifecycles: fds 0-2 are open at the
    start, an fd is opened (lowest free number, as the kernel does) before a
    call uses it and closed at most once; a fork comes before any event of
    its child, which inherits its parent's fds; a process's ``exit`` is its
    last call, followed by its exit record (or the process is killed by a
    signal: a killed record, core dumped or not); the first process ends last.
    Calls fail now and then (errors=False: never); signals arrive (signals=False: never).
    CLASSES restricts the calls besides open/close/fork/exit.  Arguments are
    printed as FORMAT's tool prints them (fd_paths: strace -y decorations).

    >>> from hypothesis import find
    >>> evs = find(streams("linux-x86_64"), lambda evs: any(e.name == "close" for e in evs))
    >>> evs[-1].name, evs[-1].args
    ('close', '3')
    """
    _check_format(format, abi)
    cls = tuple(sorted(classes)) if classes is not None else None
    if cls is not None:
        unknown = set(cls) - set(tables.CLASSES)
        if unknown:
            raise ValueError(f"unknown syscall class {sorted(unknown)[0]!r}")
    style = _Style(fd_paths=fd_paths, pids=True, times=False)
    a = _abi(abi)
    return _recs(abi, min_size, max_size, cls, processes, errors, signals).map(
        lambda recs: _events_for(a, recs, format, style))


# --------------------------------------------------------------------------- records -> events / text

@dataclass(frozen=True)
class _Style:
    fd_paths: bool = False
    pids: bool = True          # record pids (False: as a single-process strace without -f)
    times: bool = False        # record ts/dur
    ts_kind: str = "tt"        # strace: t, tt, ttt, r
    dur: bool = False
    pid_style: str = "bracket"  # strace: bracket ([pid N]) or plain (N, -ff -o / -o with -f)


def _check_format(fmt: str, abi: str) -> None:
    if fmt not in formats.printable():
        raise ValueError(f"unknown trace format {fmt!r} (known: {', '.join(formats.printable())})")
    _abi(abi)


def format_abis(fmt: str) -> tuple[str, ...]:
    """The ABIs whose tool prints FMT."""
    _check_format(fmt, formats.printable().get(fmt, ("linux-x86_64",))[0])
    return formats.printable()[fmt]


def _sig_num(abi: tables.ABI, name: str) -> int:
    return abi.signals.members[name]  # type: ignore[return-value]


def _events_for(abi: tables.ABI, recs: list[_Rec], fmt: str, style: _Style) -> list[Event]:
    """The events FMT's parser gives for RECS printed in FMT and STYLE (line 0: set by the printer)."""
    mod = formats.module(fmt)
    out: list[Event] = []
    for r in recs:
        ts = r.ts_us / 1e6 if style.times and r.ts_us is not None else None
        flags = model.F_HAS_TS if ts is not None else 0
        pid = r.pid if style.pids else None
        if r.kind == model.SYSCALL:
            assert r.sc is not None
            ev = Event(model.SYSCALL, FILE, 0, pid=pid, ts=ts, name=r.sc.name, nr=r.sc.number,
                       args=_args_text(r.values, fmt, style.fd_paths), abi=abi.name, flags=flags)
            if r.errname is not None:
                ev.rec, ev.errname, ev.ret = model.ERROR, r.errname, -1
                ev.err = abi.errno.members[r.errname]
                if getattr(mod, "RESTART_RECORDED", False) and r.errname.startswith("ERESTART"):
                    ev.rec = model.RESTARTED
                if not getattr(mod, "PRINTS_ERRNO_NAME", True):
                    # the number only; the trace driver names it through the ABI
                    ev.errname = abi.errno.decode(ev.err)[0]
            elif r.ret is None:
                ev.rec = model.UNKNOWN
            else:
                ev.rec, ev.ret = model.SUCCESS, r.ret
            if style.dur and r.dur_us is not None and ev.rec != model.UNKNOWN:
                ev.dur = r.dur_us / 1e6
                ev.flags |= model.F_HAS_DUR
        elif r.kind == model.SIGNAL:
            assert r.signal is not None
            ev = Event(model.SIGNAL, FILE, 0, pid=pid, ts=ts, name=r.signal, err=_sig_num(abi, r.signal),
                       abi=abi.name, flags=flags)
            if getattr(mod, "SIGINFO", False):
                ev.args = f"{{si_signo={r.signal}, si_code=SI_USER, si_pid={r.pid}, si_uid=1000}}"
        else:
            ev = Event(r.kind, FILE, 0, pid=pid, ts=ts, ret=r.status, abi=abi.name, flags=flags)
            if r.kind == model.KILLED:
                assert r.signal is not None
                ev.ret, ev.name, ev.err = None, r.signal, _sig_num(abi, r.signal)
                ev.flags |= model.F_CORE if r.status else 0
        out.append(ev)
    return out


def render_strace(ev: Event, *, pid_style: str = "bracket", ts_kind: str = "tt") -> str:
    """One event as strace prints it (the strace format module's ``render``:
    pid prefix, timestamp, call, result, duration).

    >>> from shimsim.model import Event, SYSCALL
    >>> render_strace(Event(SYSCALL, "f", 1, pid=7, name="close", args="3", ret=0), pid_style="plain")
    '7     close(3) = 0'
    """
    return formats.module("strace").render(ev, pid_style=pid_style, ts_kind=ts_kind)


def render(ev: Event, fmt: str, **options: Any) -> str:
    """One event as FMT's tool prints it (its format module's ``render``)."""
    return formats.module(fmt).render(ev, **options)


@dataclass(frozen=True)
class TraceText:
    """The text of a generated trace and the events its parser must give.

    ``text`` is what the tool prints (lines joined with newlines, ending in
    one); ``events`` the expected events (file ``generated``, line numbers
    counted from 1); ``options`` the tool options the text imitates."""

    format: str
    abi: str
    text: str
    events: tuple[Event, ...]
    options: tuple[str, ...] = ()

    def __str__(self) -> str:
        return self.text


def _strace_text(abi: tables.ABI, recs: list[_Rec], opts: tuple[str, ...],
                 splits: Sequence[int] = ()) -> TraceText:
    """strace text for RECS with OPTS.  SPLITS[i] > 0 prints call i as
    ``NAME(first args <unfinished ...>``, then the next record (of another
    process), then ``<... NAME resumed>rest) = RESULT``, as strace -f does when
    processes interleave: the parser merges the two halves into one event at
    the first line, emitted when the call resumes."""
    ts_kind = next((o[1:] for o in ("-ttt", "-tt", "-t", "-r") if o in opts), None)
    plain = "-f-o" in opts
    style = _Style(fd_paths="-y" in opts, pids=True, times=ts_kind is not None,
                   ts_kind=ts_kind or "tt", dur="-T" in opts, pid_style="plain" if plain else "bracket")
    evs = _events_for(abi, recs, "strace", style)
    nprocs = 1
    prev_us: int | None = None
    prefixed: list[bool] = []
    for r, ev in zip(recs, evs):
        if ev.ts is not None:
            us = round(ev.ts * 1e6)
            if ts_kind == "t":
                ev.ts = float(us // 1_000_000 % 86400)
            elif ts_kind == "r":          # the time since the previous line
                ev.ts = (0 if prev_us is None else us - prev_us) / 1e6
            prev_us = us
        # -f on stderr prefixes lines while more than one process is traced; -f -o always
        prefixed.append(plain or ("-f" in opts and nprocs > 1))
        if not prefixed[-1]:
            ev.pid = None
        if r.kind == model.SYSCALL and r.sc is not None and r.sc.name in FORK_NAMES and r.errname is None:
            nprocs += 1
        elif r.kind in (model.EXIT, model.KILLED):
            nprocs -= 1
    lines: list[str] = []
    out: list[Event] = []
    i = 0
    while i < len(recs):
        r, ev = recs[i], evs[i]
        k = splits[i] - 1 if i < len(splits) else -1
        nxt = i + 1
        if (k >= 0 and ts_kind != "r" and nxt < len(recs) and r.kind == model.SYSCALL and ev.ret is not None
                and recs[nxt].pid != r.pid and prefixed[i] and prefixed[nxt]
                and (plain or recs[nxt].kind not in (model.EXIT, model.KILLED))):
            pieces = [_arg_text(v, "strace", style.fd_paths) for v in r.values]
            k = min(k, len(pieces))
            first = ", ".join(pieces[:k]) + (", " if 0 < k < len(pieces) else "")
            whole = render_strace(ev, pid_style=style.pid_style, ts_kind=style.ts_kind)
            at = whole.index(f"{ev.name}(")
            lines.append(f"{whole[:at]}{ev.name}({first} <unfinished ...>")
            ev.line = len(lines)
            lines.append(render_strace(evs[nxt], pid_style=style.pid_style, ts_kind=style.ts_kind))
            evs[nxt].line = len(lines)
            out.append(evs[nxt])
            rest = _record.replace(ev, args=", ".join(pieces[k:]))
            tail = render_strace(rest, pid_style=style.pid_style, ts_kind=style.ts_kind)
            lines.append(f"{tail[:at]}<... {ev.name} resumed>{tail[at + len(ev.name) + 1:]}")
            ev.flags |= model.F_MERGED
            out.append(ev)
            i += 2
            continue
        lines.append(render_strace(ev, pid_style=style.pid_style, ts_kind=style.ts_kind))
        ev.line = len(lines)
        out.append(ev)
        i += 1
    for ev in out:
        ev.tid = ev.pid          # the number strace prints is the thread id
    return TraceText("strace", abi.name, "\n".join(lines) + "\n", tuple(out), opts)


def _other_text(fmt: str, abi: tables.ABI, recs: list[_Rec], opts: tuple[str, ...]) -> TraceText:
    """A line format's text (truss, dtruss, kdump) with the events its parser gives.

    What the tool prints is the format module's: RETURNING_ONLY (only calls
    that returned), EXIT_FROM_CALL (no exit line: the parser derives the exit
    from the exit call), PRINTS_KILLED (a death by signal has a line),
    DUR_WITH_TIMES (-d prints durations too), generated(ev, ...) (columns
    the printer needs) and parsed(ev) (what the parser adds)."""
    mod = formats.module(fmt)
    times = "-d" in opts
    style = _Style(fd_paths=False, pids=True, times=times,
                   dur="-D" in opts or (getattr(mod, "DUR_WITH_TIMES", False) and times))
    returning_only = getattr(mod, "RETURNING_ONLY", False)
    exit_from_call = getattr(mod, "EXIT_FROM_CALL", False)
    keep: list[_Rec] = []
    for r in recs:
        if returning_only and (r.kind != model.SYSCALL or r.ret is None and r.errname is None):
            continue
        if exit_from_call and r.kind == model.EXIT:
            continue
        if not getattr(mod, "PRINTS_KILLED", False) and r.kind == model.KILLED:
            continue
        keep.append(r)
    evs = _events_for(abi, keep, fmt, style)
    chunks: list[str] = []
    out: list[Event] = []
    line = 1
    generated = getattr(mod, "generated", None)
    parsed = getattr(mod, "parsed", None)
    for r, ev in zip(keep, evs):
        if generated is not None:
            generated(ev, times=times, dur_us=r.dur_us, errmsg=lambda: _errmsg(abi, r.errname or ""))
        text = mod.render(ev)
        if parsed is not None:
            parsed(ev)
        ev.extra = {}
        ev.line = line
        chunks.append(text)
        out.append(ev)
        if exit_from_call and ev.kind == model.SYSCALL and ev.rec == model.UNKNOWN \
                and r.sc is not None and r.sc.name in EXIT_NAMES:
            status = r.values[0].value if r.values and isinstance(r.values[0], Num) else 0
            out.append(Event(model.EXIT, FILE, line, pid=ev.pid, tid=ev.tid, ts=ev.ts, ret=status,
                             abi=abi.name, flags=ev.flags & model.F_HAS_TS))
        line += text.count("\n") + 1
    return TraceText(fmt, abi.name, "\n".join(chunks) + "\n", tuple(out), opts)


def single_records(format: str, abi: str | None = None) -> list[TraceText]:  # noqa: A002
    """One small trace per errno and per signal of ABI (a ``read`` failing
    with it, a signal delivered): the finite part of a round trip, checked
    exhaustively rather than sampled."""
    abi = abi or formats.printable()[format][0]
    a = _abi(abi)
    sc = a.by_name.get("read") or next(s for s in a.syscalls if _usable(s))
    values = [Fd(3, "/etc/passwd") if x.kind == "fd" else Ptr(0x7FFD_E000_0000) if x.kind in _PTR_KINDS + ("buf",)
              else Num(4096, "size") for x in sc.args or ()]
    recs: list[list[_Rec]] = []
    for e in errnos.__wrapped__(abi).elements:  # type: ignore[attr-defined]
        recs.append([_Rec(model.SYSCALL, 1000, sc, values, -1, e, ts_us=1_000_000, dur_us=5)])
    for sname in signals.__wrapped__(abi).elements:  # type: ignore[attr-defined]
        recs.append([_Rec(model.SIGNAL, 1000, signal=sname, ts_us=1_000_000)])
    if format == "strace":
        return [_strace_text(a, r, ("-f-o", "-tt", "-T")) for r in recs]
    return [_other_text(format, a, r, ("-d",)) for r in recs]


def trace_text(format: str, abi: str | None = None, *, min_size: int = 1, max_size: int = 20,  # noqa: A002
               classes: Iterable[str] | None = None, options: Sequence[str] | None = None
               ) -> st.SearchStrategy[TraceText]:
    """The text of a trace as FORMAT's tool prints it, with the events its
    parser must give back (:class:`TraceText`), for parser round trips.

    strace: drawn from STRACE_OPTIONS (``-f`` and ``-f-o`` (-f -o FILE) for the two pid
    prefixes, ``-t``/``-tt``/``-ttt``/``-r`` timestamps, ``-T`` durations,
    ``-y`` fd paths) unless OPTIONS fixes them; truss-freebsd ``-d``/``-D``,
    truss-illumos and kdump ``-d``, dtruss ``-d`` (RELATIVE/ELAPSD columns).
    ABI defaults to the first of FORMATS[format].

    >>> from hypothesis import find
    >>> tt = find(trace_text("strace", options=["-f-o", "-tt"]),
    ...           lambda tt: any(e.name == "close" for e in tt.events))
    >>> tt.text.splitlines()[-1]  # doctest: +ELLIPSIS
    '1000  ...:...:... close(3) = 0'
    >>> tt.events[-1].name, tt.events[-1].pid, tt.events[-1].args
    ('close', 1000, '3')
    """
    if format not in formats.printable():
        raise ValueError(f"unknown trace format {format!r} (known: {', '.join(formats.printable())})")
    abi = abi or formats.printable()[format][0]
    if abi not in formats.printable()[format]:
        raise ValueError(f"{format} traces are of {', '.join(formats.printable()[format])}, not {abi}")
    a = _abi(abi)
    cls = tuple(sorted(classes)) if classes is not None else None
    recs = _recs(abi, min_size, max_size, cls, True, True, True)
    if format == "strace":
        if options is not None:
            opt_st = st.just(tuple(options))
        else:
            ts = st.sampled_from([(), ("-t",), ("-tt",), ("-ttt",), ("-r",)])
            pid = st.sampled_from([(), ("-f",), ("-f-o",)])
            opt_st = st.tuples(pid, ts, st.sampled_from([(), ("-T",)]), st.sampled_from([(), ("-y",)])).map(
                lambda t: tuple(o for part in t for o in part))
        return recs.flatmap(lambda rs: st.tuples(st.just(rs), opt_st, st.lists(
            _ints(0, 4), min_size=len(rs), max_size=len(rs)))).map(
            lambda ros: _strace_text(a, ros[0], ros[1], ros[2]))
    opts_all = [tuple(o) for o in getattr(formats.module(format), "TEXT_OPTIONS", [()])]
    opt_st = st.just(tuple(options)) if options is not None else st.sampled_from(opts_all)
    return st.tuples(recs, opt_st).map(lambda ro: _other_text(format, a, ro[0], ro[1]))


# --------------------------------------------------------------------------- shim specs

@dataclass(frozen=True)
class ShimSpecText:
    """A generated shim spec: its TOML text and what it was drawn from.

    ``rules`` maps guest syscall name -> rule outcome; ``flags`` family ->
    {guest member: host member or None (dropped)}."""

    guest: str
    host: str
    text: str
    rules: tuple[tuple[str, str], ...]
    flags: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...] = ()

    def __str__(self) -> str:
        return self.text

    def parse(self):  # -> shimsim.shim.Spec
        from shimsim import shim

        return shim.parse_spec(self.text, "<generated spec>")

    def compile(self):  # -> shimsim.shim.CompiledShim
        from shimsim import shim

        return shim.compile_shim(self.parse(), self.guest if self.guest != "*" else None)


def _q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _key(s: str) -> str:
    return s if s.replace("_", "").replace("-", "").isalnum() else _q(s)


def shim_specs(guest: str, host: str, *, max_rules: int = 8, flag_maps: bool = True
               ) -> st.SearchStrategy[ShimSpecText]:
    """Valid shim spec texts for GUEST on HOST (ABI names; host may also be
    an opaque host name such as ``gvisor-sentry`` when it is not an ABI).

    A drawn spec has a default, up to MAX_RULES syscall rules (translate to
    a same-named host call, emulate, partial, stub, fake, or fail with a
    guest errno), and, when both sides are ABIs, flag-map entries that rename
    a member to a host member of the same family or drop it with a reason.
    Every spec parses and compiles (that is the contract: a compile error on
    a drawn spec is a bug in shimsim).  Shrinks to a spec with no rules.

    >>> from hypothesis import find
    >>> s = find(shim_specs("linux-x86_64", "freebsd-amd64"), lambda s: len(s.rules) >= 2)
    >>> s.compile().guest.name, len(s.rules)
    ('linux-x86_64', 2)
    """
    g = _abi(guest)
    host_is_abi = host in tables.list_abis()
    h = _abi(host) if host_is_abi else None
    names = sorted((s for s in g.syscalls if s.status == "implemented" and s.name), key=lambda s: s.number)
    names_l = [s.name for s in names]
    host_names = set(h.by_name) if h is not None else set()
    guest_errnos = errnos(guest)
    fams: list[tuple[str, list[str], list[str]]] = []
    if flag_maps and h is not None and h is not g:
        for fname in sorted(set(g.family_names()) & set(h.family_names())):
            gf = _family_or_none(g, fname)
            hf = _family_or_none(h, fname)
            if gf is None or hf is None or gf.kind != "flags":
                continue
            fams.append((fname, _printable(gf), _printable(hf)))
    do_choices = ["emulate", "stub", "fake", "fail", "partial"] + (["translate"] if h is not None else [])
    defaults = ["fail", "emulate"] + (["translate"] if h is not None else [])

    @st.composite
    def build(draw: Any) -> ShimSpecText:
        default = _pick(draw, defaults)
        picked = draw(st.lists(st.sampled_from(names_l), unique=True, max_size=max_rules))
        rules: list[tuple[str, str]] = []
        lines = ["# SPDX-License-Identifier: MIT", "# generated by shimsim.strategies.shim_specs", "[shim]",
                 f"name = {_q('generated-' + guest + '-on-' + host)}", f"guest = {_q(guest)}",
                 f"host = {_q(host)}"]
        if h is None:
            lines.append('host_kind = "opaque"')
        lines += ['provenance = ["shimsim.strategies: generated"]', f"default = {_q(default)}"]
        if default == "fail":
            lines.append(f"default_errno = {_q(draw(guest_errnos))}")
        lines += ["", "[syscalls]"]
        for n in picked:
            do = _pick(draw, do_choices)
            if do in ("translate", "partial") and h is not None and n not in host_names:
                do = "emulate"
            if do == "partial" and h is None:
                do = "emulate"
            body = [f"do = {_q(do)}"]
            if do == "fail":
                body.append(f"errno = {_q(draw(guest_errnos))}")
            if do in ("translate", "partial") and h is not None:
                body.append(f"to = {_q(n)}")
            if do == "partial":
                body.append('note = "generated: a restriction"')
            lines.append(f"{_key(n)} = {{ {', '.join(body)} }}")
            rules.append((n, do))
        fl: list[tuple[str, tuple[tuple[str, str | None], ...]]] = []
        if fams:
            chosen = draw(st.lists(st.sampled_from(range(len(fams))), unique=True, max_size=2))
            for i in chosen:
                fname, gm, hm = fams[i]
                members = draw(st.lists(st.sampled_from(gm), unique=True, min_size=1, max_size=3))
                entries: list[tuple[str, str | None]] = []
                lines += ["", f"[flags.{_q(fname)}]"]
                for m in members:
                    if draw(st.booleans()) and hm:
                        to = _pick(draw, hm)
                        lines.append(f"{m} = {{ to = {_q(to)}, lossy = \"generated: renamed\" }}")
                        entries.append((m, to))
                    else:
                        lines.append(f"{m} = {{ drop = \"generated: no host equivalent\" }}")
                        entries.append((m, None))
                fl.append((fname, tuple(entries)))
        text = "\n".join(lines) + "\n"
        tomllib.loads(text)  # generated text must be TOML (a failure here is a bug in this module)
        return ShimSpecText(guest, host, text, tuple(rules), tuple(fl))

    return build()
