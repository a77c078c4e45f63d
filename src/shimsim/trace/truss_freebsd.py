# SPDX-License-Identifier: MIT
"""FreeBSD truss(1) output.

Grammar (modern truss and the old procfs-based one)::

    [PID[ TID]: ][-d SECS ][-D SECS ]NAME(ARGS)<tabs> = DEC (0xHEX)
    [...]NAME(ARGS)<tabs> ERR#N 'strerror'
    [...]NAME(ARGS) ERESTART | EJUSTRETURN
    [...]exit(0x0)                      (thread ended inside the call: no result)
    [...]SIGNAL N (SIGNAME)[ code=...]   |  SIGNAL N          (old truss)
    [...]process exit, rval = N         |  process killed, signal = N[ (core dumped)]
    [...]<new thread N> | <thread N exited> | <new process>
    Process stopped because of: N       (old truss)
    -- UNKNOWN ABI SYSCALL N --

Arguments are comma-separated without spaces and strings use vis(3) escapes
but do NOT escape inner double quotes, so the result is found by anchoring at
the end of the line, never by balancing quotes.  Lines broken by mail clients
(no result, or a result with no call) are counted as unparsed.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.trace import _fmtbase as fb

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

FORMAT = "truss-freebsd"
DEFAULT_OS = "freebsd"
EXPECTED = "a FreeBSD truss line (NAME(ARGS) = N (0xN), ERR#N 'text', SIGNAL N, process exit, rval = N)"

# Calls after which the thread no longer exists, so truss prints no result.
NO_RETURN = frozenset({"exit", "_exit", "thr_exit", "sys_exit", "exit_group"})   # after fb.guest_name

# Printed name -> the name in current syscalls.master, for resolving numbers when the
# printed name is not in the ABI table.  In
# kostikbel/freebsd-src@7fbdafd437f758b9bdd7a3b2fd7bbcb521b51907:sys/kern/syscalls.master
# syscall 1 is "_exit" (earlier truss and kdump print "exit"), and the calls FreeBSD 12
# replaced are COMPAT11 entries (a pre-12 "stat" is syscall 188, compat11.stat); only
# names with no current call of the same name are listed.
ALIASES: dict[str, str] = {
    "exit": "_exit", "stat": "compat11.stat", "lstat": "compat11.lstat", "mknod": "compat11.mknod",
    "getdents": "compat11.getdents", "vadvise": "compat11.vadvise", "nstat": "compat11.nstat",
    "nfstat": "compat11.nfstat", "nlstat": "compat11.nlstat",
}

_PREFIX = lazy_re(r"^(?:(?P<pid>\d+)(?:\s+(?P<tid>\d+))?:\s+)?(?P<t1>\d+\.\d+\s+)?(?P<t2>\d+\.\d+\s+)?")
_CALL = lazy_re(r"^(?P<name>[A-Za-z_][A-Za-z0-9_.]*|#\d+)\((?P<rest>.*)$")
_RET_OK = lazy_re(r"^(?P<args>.*)\)\s*=\s*(?P<ret>-?\d+)(?:\s+\((?P<hex>0x[0-9a-fA-F]+)\))?\s*$")
_RET_ERR = lazy_re(r"^(?P<args>.*)\)\s*ERR#(?P<err>-?\d+)\s+'(?P<msg>.*)'\s*$")
_RET_SPECIAL = lazy_re(r"^(?P<args>.*)\)\s*(?P<code>ERESTART|EJUSTRETURN)\s*$")
_NO_RET = lazy_re(r"^(?P<args>.*)\)$")
_SIGNAL = lazy_re(r"^SIGNAL\s+(?P<num>\d+)(?:\s+\((?P<name>[A-Z0-9?+]+)\))?(?P<info>.*)$")
_EXIT = lazy_re(r"^process exit, rval = (?P<rv>-?\d+)$")
_KILLED = lazy_re(r"^process killed, signal = (?P<sig>\d+)(?P<core> \(core dumped\))?$")
_STOPPED = lazy_re(r"^Process stopped because of:\s+(?P<why>-?\d+)$")
_THREAD = lazy_re(r"^<(?:new thread (?P<new>\d+)|thread (?P<gone>\d+) exited|new process)>$")
_UNKNOWN = lazy_re(r"^-- UNKNOWN (?P<abi>.+?) SYSCALL (?P<nr>\d+) --$")

_STRONG = lazy_re(r"(?:\)\s*=\s*-?\d+ \(0x[0-9a-f]+\)\s*$|\)\s*ERR#\d+ '.*'\s*$|^process exit, rval = \d+$"
                     r"|^SIGNAL \d+(?: \(SIG\w+\))?|^Process stopped because of:|^process killed, signal = "
                     r"|^[A-Za-z_#][\w#.]*\s+\d+\.\d{9}\s+\d+\s+\d+$)")      # a truss -c row


def sniff(lines: list[str]) -> float:
    """FreeBSD truss is the only tracer that prints ``= N (0xN)`` and ``ERR#N 'text'``."""
    strong = total = 0
    for raw in lines[:fb.SNIFF_LINES]:
        s = fb.clean(raw)
        if not s:
            continue
        total += 1
        if _may_be_strong(s) and _STRONG.search(_PREFIX.sub("", s, count=1)):
            strong += 1
    return fb.ratio_score(strong, 0, total)


_STRONG_TEXT = (" (0x", "ERR#", "process exit, rval = ", "SIGNAL ", "Process stopped because of:",
                "process killed, signal = ")


def _may_be_strong(s: str) -> bool:
    """False when _STRONG cannot match S after its prefix (checked without the patterns, so that
    sniffing another format's trace compiles nothing here: start-up): each of its lines holds
    one of _STRONG_TEXT, or is a truss -c row, which has no '(' and ends in a digit."""
    return any(t in s for t in _STRONG_TEXT) or ("(" not in s and s[-1:].isdigit())


def guess_abi(lines: list[str]) -> str | None:
    """truss runs the traced binary natively; Linux binaries under the
    linuxulator show ``linux_`` prefixed names."""
    for raw in lines[: fb.SNIFF_LINES * 4]:
        s = _PREFIX.sub("", fb.clean(raw), count=1)
        if s.startswith("linux_"):
            return "linux-x86_64"
    return "freebsd-amd64"


def _prefix(s: str) -> tuple[int | None, int | None, float | None, float | None, str]:
    m = _PREFIX.match(s)
    assert m is not None  # every group is optional
    pid = int(m.group("pid")) if m.group("pid") else None
    tid = int(m.group("tid")) if m.group("tid") else None
    t1 = float(m.group("t1")) if m.group("t1") else None
    t2 = float(m.group("t2")) if m.group("t2") else None
    return pid, tid, t1, t2, s[m.end():]


def _syscall(path: str, lineno: int, pid: int | None, tid: int | None, body: str) -> model.Event | None:
    m = _CALL.match(body)
    if not m:
        return None
    name, rest = m.group("name"), m.group("rest")
    ev = fb.syscall_event(path, lineno, pid=pid, tid=tid, name=fb.guest_name(name))
    if ev.name != name:
        ev.extra["raw_name"] = name
    if name.startswith("#"):
        ev.nr = int(name[1:])
    if (r := _RET_OK.match(rest)) is not None:
        ev.args, ev.ret, ev.rec = r.group("args"), int(r.group("ret")), model.SUCCESS
        if r.group("hex") is None:
            ev.extra["no_hex"] = True
    elif (r := _RET_ERR.match(rest)) is not None:
        ev.args, ev.err, ev.rec = r.group("args"), int(r.group("err")), model.ERROR
        ev.ret = -1
        ev.extra["errmsg"] = r.group("msg")
    elif (r := _RET_SPECIAL.match(rest)) is not None:
        ev.args = r.group("args")
        if r.group("code") == "ERESTART":
            ev.rec, ev.errname = model.RESTARTED, "ERESTART"
        else:
            ev.rec = model.SUCCESS
            ev.extra["justreturn"] = True
    elif ev.name in NO_RETURN and (r := _NO_RET.match(rest)) is not None:
        ev.args, ev.rec = r.group("args"), model.UNKNOWN
        ev.extra["no_return"] = True
    else:
        return None
    return ev


def _other(path: str, lineno: int, pid: int | None, tid: int | None, body: str) -> model.Event | str | None:
    """Non-syscall records: an Event, a skip reason (understood, no event) or None."""
    if (m := _SIGNAL.match(body)) is not None:
        ev = model.Event(kind=model.SIGNAL, file=path, line=lineno, pid=pid, tid=tid,
                         name=m.group("name") if m.group("name") not in (None, "?") else None,
                         err=int(m.group("num")))
        info = m.group("info").strip()
        if info:
            ev.extra["siginfo"] = info
        return ev
    if (m := _EXIT.match(body)) is not None:
        return model.Event(kind=model.EXIT, file=path, line=lineno, pid=pid, tid=tid, ret=int(m.group("rv")))
    if (m := _KILLED.match(body)) is not None:
        return model.Event(kind=model.KILLED, file=path, line=lineno, pid=pid, tid=tid,
                           err=int(m.group("sig")), flags=model.F_CORE if m.group("core") else 0)
    if (m := _STOPPED.match(body)) is not None:
        ev = model.Event(kind=model.STOPPED, file=path, line=lineno, pid=pid, tid=tid)
        ev.extra["why"] = int(m.group("why"))
        return ev
    if _THREAD.match(body):
        return "truss thread/process notice"
    if _UNKNOWN.match(body):
        return "truss unknown-syscall notice"
    return None


def _records(lines: Iterable[str], path: str, stats: fb.StatsLike,
             strict: bool) -> Iterator[tuple[model.Event, float | None, float | None]]:
    """Events with the one or two time columns of their line (not yet assigned)."""
    sink = fb.Sink(path, stats, strict, "FreeBSD truss")
    summary = fb.TrussSummary()
    for lineno, raw in enumerate(lines, 1):
        s = fb.clean(raw)
        if not s:
            sink.skip("blank")
            continue
        if summary.feed(s):
            sink.skip("summary table")
            continue
        if fb.too_long(s):
            sink.bad(lineno, EXPECTED, s[:80])
            continue
        pid, tid, t1, t2, body = _prefix(s)
        ev = _syscall(path, lineno, pid, tid, body)
        if ev is None:
            other = _other(path, lineno, pid, tid, body)
            if isinstance(other, str):
                sink.skip(other)
                continue
            if other is None:
                sink.bad(lineno, EXPECTED, s)
                continue
            ev = other
        yield ev, t1, t2
    summary.finish(stats)


SNIFF_TIMES = 16   # single time columns looked at before deciding what they are


def _assign(ev: model.Event, t1: float | None, t2: float | None, single: str) -> model.Event:
    """-d (time since start) prints first, -D (time the call took) second;
    a lone column is whichever ``single`` says."""
    if t1 is not None and t2 is not None:
        ev.ts, ev.dur, ev.flags = t1, t2, ev.flags | model.F_HAS_TS | model.F_HAS_DUR
    elif t1 is not None and single == "dur":
        ev.dur, ev.flags = t1, ev.flags | model.F_HAS_DUR
    elif t1 is not None:
        ev.ts, ev.flags = t1, ev.flags | model.F_HAS_TS
    return ev


def parse(lines: Iterable[str], path: str, stats: fb.StatsLike, strict: bool) -> Iterator[model.Event]:
    """Yield one event per syscall, signal, stop and exit line.

    A single time column is -d (since start: never decreases) or -D (per
    call: goes up and down); the first few values decide, buffering at most
    SNIFF_TIMES events."""
    single: str | None = None
    held: list[tuple[model.Event, float | None, float | None]] = []
    seen: list[float] = []
    for ev, t1, t2 in _records(lines, path, stats, strict):
        if single is not None:
            yield _assign(ev, t1, t2, single)
            continue
        held.append((ev, t1, t2))
        if t1 is not None and t2 is None:
            seen.append(t1)
        if len(seen) >= SNIFF_TIMES or (seen and len(held) >= 4 * SNIFF_TIMES):
            single = _decide(seen)
            for h in held:
                yield _assign(*h, single)
            held.clear()
    single = single or _decide(seen)
    for h in held:
        yield _assign(*h, single)


def _decide(values: list[float]) -> str:
    return "dur" if any(b < a for a, b in zip(values, values[1:])) else "ts"


def render(ev: model.Event) -> str:
    """Print an event the way truss does (for round-trip tests); inverse of parse."""
    prefix = ""
    if ev.pid is not None:
        prefix = f"{ev.pid:5d}"
        if ev.tid is not None:
            prefix += f" {ev.tid:6d}"
        prefix += ": "
    if ev.ts is not None:
        prefix += f"{ev.ts:.9f} "
    if ev.dur is not None:
        prefix += f"{ev.dur:.9f} "
    if ev.kind == model.SIGNAL:
        return f"{prefix}SIGNAL {ev.err} ({ev.name or '?'})"
    if ev.kind == model.EXIT:
        return f"{prefix}process exit, rval = {ev.ret}"
    if ev.kind == model.KILLED:
        core = " (core dumped)" if ev.flags & model.F_CORE else ""
        return f"{prefix}process killed, signal = {ev.err}{core}"
    call = f"{prefix}{ev.extra.get('raw_name', ev.name)}({ev.args})"
    pad = "\t" * max(1, 6 - len(call) // 8)
    if ev.rec == model.ERROR:
        return f"{call}{pad} ERR#{ev.err} '{ev.extra.get('errmsg', 'Unknown error')}'"
    if ev.rec == model.RESTARTED:
        return f"{call}{pad} ERESTART"
    if ev.rec == model.UNKNOWN:
        return f"{call}{pad}"
    if ev.ret is None:
        return f"{call}{pad} EJUSTRETURN"
    return f"{call}{pad} = {ev.ret} ({ev.ret & 0xFFFFFFFFFFFFFFFF:#x})"


ARG_SEP = ","


def render_arg(v: Any, fd_paths: bool = False) -> str:
    """One argument value (shimsim.trace.args) as FreeBSD truss prints it."""
    return fb.render_arg_plain(v)


# what FreeBSD truss prints, for the generating strategies (shimsim.strategies)
TEXT_OPTIONS = [(), ("-d",), ("-d", "-D")]
PRINTS_ERRNO_NAME = False   # ERR#N 'message': the number and strerror text
PRINTS_KILLED = True        # process killed, signal = N


def generated(ev: model.Event, *, times: bool, dur_us: int | None, errmsg: Any) -> None:
    """What the printer needs beyond the event: the strerror text of an error."""
    if ev.kind == model.SYSCALL and ev.rec == model.ERROR:
        ev.extra["errmsg"] = errmsg()
