# SPDX-License-Identifier: MIT
"""gVisor's ``runsc --strace`` debug log (the boot log of ``runsc --debug
--debug-log=DIR/ --strace``).

Grammar (glog prefix, then pkg/sentry/strace's own text)::

    I1207 00:38:48.091173    9076 strace.go:561] [   1:   1] python3 E brk(0x0)
    I1207 00:38:48.091235    9076 strace.go:599] [   1:   1] python3 X brk(0x0) = 94145439662080 (0x559ff17d0000) (7.194µs)
    I1207 00:38:48.095441    9076 strace.go:608] [   1:   1] python3 X rseq(...) = 0 (0x0) errno=38 (invalid system call number) (24.696µs)

``[PID: TID]`` are the sandbox's own ids, ``E`` the entry and ``X`` the exit
of one call.  An exit line is one event (its errno, the Sentry's errno
number, becomes the ABI's name); an entry with no exit (exit_group, a call
still blocked when the sandbox died) is an unfinished event; entries that
have their exit are skipped.  Every other line of the debug log (the
Sentry's own messages) is skipped, not counted as unparsed: the log mixes
them freely with the strace lines.

gVisor's compat log line, which users paste from Cloud Run and runsc logs
when they ask whether a missing system call is their problem, is an event
too: ``[PREFIX: ]Unsupported syscall NAME(0xA,...,0xF). It is ... information.``
(runsc/boot/compat.go) names a call whose result it does not give (outcome
unknown, ``extra["unsupported"]``).  A log that has strace lines has that
call's exit line too: there the message is skipped, not a second event.  ``sys_N`` and ``UNKNOWN[N/0xN]`` are
calls the log has no name for: their number is N.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.trace import _fmtbase as fb

FORMAT = "runsc-strace"
DEFAULT_OS = "linux"
EXPECTED = "a runsc --strace line ([PID: TID] COMM E|X NAME(ARGS) = RET (0xRET) [errno=N (TEXT)] (DURATION))"

_PREFIX = lazy_re(r"^[IWED]\d{4} (?P<clock>\d\d:\d\d:\d\d\.\d+)\s+\d+ strace\.go:\d+\] ")
_BODY = lazy_re(r"^\[\s*(?P<pid>\d+):\s*(?P<tid>\d+)\] (?P<comm>.*?) (?P<dir>[EX]) (?P<name>[a-z_][a-z0-9_]*)\((?P<rest>.*)$")
_RESULT = lazy_re(r"^(?P<args>.*)\) = (?P<ret>-?\d+) \((?P<hex>0x[0-9a-f]+)\)"
                     r"(?: errno=(?P<errno>\d+) \((?P<text>[^()]*)\))? \((?P<dur>[0-9.hmsµnu]+)\)$")
_DUR = lazy_re(r"(\d+(?:\.\d+)?)(h|ms|m|s|µs|us|ns)")
_UNSUP = lazy_re(r"Unsupported syscall (?P<name>[A-Za-z_]\w*|UNKNOWN\[\d+/0x[0-9a-fA-F]+\])\((?P<args>[^()]*)\)")
_NUMBERED = lazy_re(r"^(?:sys_(?P<a>\d+)|UNKNOWN\[(?P<b>\d+)/0x[0-9a-fA-F]+\])$")
# Linux's kernel-internal restart errnos (include/linux/errno.h), which runsc's log shows as numbers
RESTART_ERRNOS = {512: "ERESTARTSYS", 513: "ERESTARTNOINTR", 514: "ERESTARTNOHAND", 516: "ERESTART_RESTARTBLOCK"}
_UNIT = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "µs": 1e-6, "us": 1e-6, "ns": 1e-9}


def duration(text: str) -> float | None:
    """Go's time.Duration text (``7.194µs``, ``1m2.5s``) in seconds."""
    parts = _DUR.findall(text)
    if not parts or "".join(a + b for a, b in parts) != text:
        return None
    return sum(float(a) * _UNIT[b] for a, b in parts)


def guess_abi(lines: list[str]) -> str | None:
    """runsc's log names no architecture: the sandbox runs the host's, the format's default."""
    return None


def sniff(lines: list[str]) -> float:
    body = [ln for ln in lines if ln.strip()]
    if not body:
        return 0.0
    # Every score above 0 needs a glog line (I/W/E/D and a digit first) or a compat message:
    # without one, say 0 before compiling any pattern (issue 17: start-up of other formats' parses).
    if not any(ln[:1] in ("I", "W", "E", "D") and ln[1:2].isdigit() or "Unsupported syscall " in ln
               for ln in body):
        return 0.0
    hits = sum(1 for ln in body if (m := _PREFIX.match(ln)) and _BODY.match(ln[m.end():]))
    if not hits and any(_UNSUP.search(ln) for ln in body):
        return 0.8          # gVisor's compat messages: nothing else prints them
    glog = sum(1 for ln in body if re.match(r"^[IWED]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ", ln))
    if hits:
        return min(1.0, 0.6 + 0.4 * glog / len(body))
    # the head of a boot log: runsc's own banner, strace lines come later
    banner = any(re.search(r"main\.go:\d+\] (?:Args: \[runsc|Version )", ln) for ln in body)
    strace_on = any("--strace=true" in ln for ln in body)
    return 0.7 if banner and strace_on and glog * 2 >= len(body) else 0.0


def _numbered(ev: model.Event) -> None:
    """sys_N / UNKNOWN[N/0xN]: the call's number is N."""
    n = _NUMBERED.match(ev.name or "")
    if n is not None:
        ev.extra["printed_name"] = ev.name
        ev.nr = int(n.group("a") or n.group("b"))
        ev.name = f"sys_{ev.nr}"


def _clock(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse(lines: Iterable[str], path: str, stats: fb.StatsLike, strict: bool) -> Iterator[model.Event]:
    """Yield one syscall event per exit line, and an unfinished event for each entry left open."""
    sink = fb.Sink(path, stats, strict, "a runsc strace line")
    open_calls: dict[int, model.Event] = {}     # tid -> entry without exit yet
    unsupported: list[model.Event] = []         # compat messages: events unless strace lines say more
    straced = False
    for lineno, raw in enumerate(lines, 1):
        line = raw.rstrip("\r\n")
        u = _UNSUP.search(line)
        if u is not None:
            ev = fb.syscall_event(path, lineno, name=u.group("name"), args=u.group("args"), rec=model.UNKNOWN,
                                  flags=model.F_NO_RET, extra={"unsupported": True})
            _numbered(ev)
            unsupported.append(ev)
            continue
        m = _PREFIX.match(line)
        if m is None:
            if line.strip():
                sink.skip("runsc log line that is not strace output")
            else:
                sink.skip("blank line")
            continue
        b = _BODY.match(line[m.end():])
        if b is None:
            sink.bad(lineno, EXPECTED, line[m.end():])
            continue
        straced = True
        pid, tid = int(b.group("pid")), int(b.group("tid"))
        ts = _clock(m.group("clock"))
        if b.group("dir") == "E":
            rest = b.group("rest")
            ev = fb.syscall_event(path, lineno, pid=tid, tid=tid, ts=ts, name=b.group("name"),
                                  args=rest[:-1] if rest.endswith(")") else rest, rec=model.UNFINISHED,
                                  flags=model.F_HAS_TS | model.F_NO_RET,
                                  extra={"tgid": pid, "comm": b.group("comm")})
            _numbered(ev)
            prev = open_calls.pop(tid, None)
            if prev is not None:
                yield prev
            open_calls[tid] = ev
            continue
        r = _RESULT.match(b.group("rest"))
        if r is None:
            sink.bad(lineno, EXPECTED, line[m.end():], "exit line without a readable result")
            continue
        open_calls.pop(tid, None)
        ret = int(r.group("ret"))
        errno = r.group("errno")
        if errno and int(errno) in RESTART_ERRNOS:
            # the Sentry's internal restart codes: the call is restarted, the program never sees them
            ev = fb.syscall_event(path, lineno, pid=tid, tid=tid, ts=ts, name=b.group("name"), args=r.group("args"),
                                  rec=model.RESTARTED, errname=RESTART_ERRNOS[int(errno)], err=int(errno),
                                  dur=duration(r.group("dur")), flags=model.F_HAS_TS | model.F_HAS_DUR,
                                  extra={"tgid": pid, "comm": b.group("comm")})
            yield ev
            continue
        ev = fb.syscall_event(path, lineno, pid=tid, tid=tid, ts=ts, name=b.group("name"), args=r.group("args"),
                              ret=-1 if errno else ret, rec=model.ERROR if errno else model.SUCCESS,
                              err=int(errno) if errno else None, dur=duration(r.group("dur")),
                              flags=model.F_HAS_TS | model.F_HAS_DUR, extra={"tgid": pid, "comm": b.group("comm")})
        if errno:
            ev.extra["errtext"] = r.group("text")
        _numbered(ev)
        yield ev
    for ev in open_calls.values():
        yield ev
    if straced:
        if unsupported:
            stats.skip("runsc compat message (its call has a strace line)", len(unsupported))
    else:
        yield from unsupported
