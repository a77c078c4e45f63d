# SPDX-License-Identifier: MIT
"""dtruss (DTraceToolkit on Solaris, and the macOS port).

Grammar::

    [PID/THRD  ][RELATIVE  ][ELAPSD  ][CPU ]SYSCALL(args) \\t\\t = return     header
    [PID/0xTHRD:  |PID/LWP:  ][REL ][ELAPSD ][CPU ]NAME(ARGS)\\t\\t = RET ERRNO
         ERRNO: 0 (success), Err#N (classic), N (newer macOS), RET may be -1, -2 (LX) or 0xHEX
                  libc.so.1`_write+0x15                              -s stack frames

The time columns are microseconds; which ones are present comes from the
header (``-a`` = RELATIVE ELAPSD CPU, ``-e`` ELAPSD, ``-o`` CPU) or, without a
header, from their count (3 = all, 2 = ELAPSD CPU as the toolkit's ``-eo``).
``dtrace:`` messages (probe errors, the SIP warning) mean lost records: they
are counted as unparsed, and fail ``--strict``.  The prefix tells the host:
``PID/0xTHRD`` is macOS, ``PID/LWP`` Solaris; Linux names mean an LX zone.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.trace import _fmtbase as fb

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

FORMAT = "dtruss"
DEFAULT_OS = "darwin"
EXPECTED = "a dtruss line (NAME(ARGS) = RET ERRNO)"

_HEADER = lazy_re(r"^(?P<pid>PID/(?:THRD|LWP)\s+)?(?P<cols>(?:(?:RELATIVE|ELAPSD|CPU)\s+)*)SYSCALL\(args\)\s*=\s*return$")
_LINE = lazy_re(r"^(?:(?P<pid>\d+)/(?P<tid>0x[0-9a-fA-F]+|\d+):\s+)?(?P<nums>(?:-?\d+\s+){0,3})"
                   r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\((?P<args>.*)\)\s*=\s*(?P<ret>-?(?:0x[0-9a-fA-F]+|\d+))"
                   r"\s+(?P<errno>Err#-?\d+|-?\d+)$")
_COUNT_HEADER = lazy_re(r"^CALL\s+COUNT$")            # dtruss -c, printed at the end
_COUNT_ROW = lazy_re(r"^[A-Za-z_][A-Za-z0-9_]*\s+\d+$")
_STACK = lazy_re(r"^(?:\S+`\S+|0x[0-9a-fA-F]+)$")
_DTRACE = lazy_re(r"^dtrace: ")
_SIP = lazy_re(r"^dtrace: system integrity protection is on")

_MAC_NAMES = frozenset({"thread_selfid", "csops", "csops_audittoken", "shared_region_check_np", "bsdthread_register",
                        "proc_info", "__mac_syscall", "workq_open", "workq_kernreturn", "kevent64", "psynch_cvwait",
                        "getattrlist", "stat64", "lstat64", "fstat64", "getdirentries64", "open_nocancel",
                        "read_nocancel", "write_nocancel", "close_nocancel", "sysctlbyname", "ulock_wait"})
_SOL_NAMES = frozenset({"xstat", "lxstat", "fxstat", "lwp_sigmask", "llseek", "resolvepath", "sysconfig", "memcntl",
                        "fdsync", "lwp_park", "schedctl", "brand", "mmapobj", "sysi86", "getcontext", "setcontext",
                        "lwp_self", "lwp_create", "door", "uucopy", "statvfs64"})
_LINUX_NAMES = frozenset({"prlimit64", "rt_sigaction", "rt_sigprocmask", "futex", "fstatat64", "newfstatat",
                          "getrandom", "pipe2", "set_tid_address", "arch_prctl", "clone", "epoll_wait", "openat",
                          "exit_group", "set_robust_list", "rseq", "wait4"})


def sniff(lines: list[str]) -> float:
    """Rows end in ``= RET ERRNO`` (two values); the header and ``dtrace:`` lines are unique too."""
    strong = total = 0
    for raw in lines[:fb.SNIFF_LINES]:
        s = fb.clean(raw)
        if not s:
            continue
        total += 1
        if ((_may_be_row(s) and _LINE.match(s)) or ("SYSCALL(args)" in s and _HEADER.match(s))
                or s.startswith("dtrace: error on enabled probe")):
            strong += 1
    return fb.ratio_score(strong, 0, total)


def _may_be_row(s: str) -> bool:
    """False when _LINE cannot match S: it ends in ``) = RET ERRNO`` (checked without the pattern,
    so that sniffing another format's trace compiles nothing here: start-up)."""
    parts = s.rsplit(None, 1)
    if len(parts) < 2 or not (parts[1].startswith("Err#") or parts[1].lstrip("-").isdigit()):
        return False
    head, eq, ret = parts[0].rpartition("=")
    r = ret.strip().lstrip("-")
    return bool(eq) and (r.isdigit() or r[:2] == "0x") and head.rstrip().endswith(")")


def guess_os(lines: Iterable[str]) -> str:
    """``darwin``, ``illumos`` or ``linux`` (an LX-branded zone) from the
    prefix, the header and the syscall names."""
    votes = {"darwin": 0, "illumos": 0, "linux": 0}
    for n, raw in enumerate(lines):
        if n >= 400:
            break
        s = fb.clean(raw)
        if (h := _HEADER.match(s)) is not None and h.group("pid"):
            votes["darwin" if "THRD" in h.group("pid") else "illumos"] += 5
            continue
        m = _LINE.match(s)
        if not m:
            continue
        if m.group("tid"):
            votes["darwin" if m.group("tid").startswith("0x") else "illumos"] += 1
        name = m.group("name")
        if name in _LINUX_NAMES:
            votes["linux"] += 3
        elif name in _MAC_NAMES:
            votes["darwin"] += 1
        elif name in _SOL_NAMES:
            votes["illumos"] += 1
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else DEFAULT_OS


def guess_abi(lines: list[str]) -> str | None:
    return {"darwin": "darwin-x86_64", "illumos": "illumos-amd64", "linux": "linux-x86_64"}[guess_os(lines)]


class _Parser:
    def __init__(self, path: str, stats: fb.StatsLike, strict: bool) -> None:
        self.path = path
        self.sink = fb.Sink(path, stats, strict, "dtruss")
        self.hold = fb.Holder()
        self.cols: list[str] | None = None
        self.in_counts = False                         # inside the -c table

    def run(self, lines: Iterable[str]) -> Iterator[model.Event]:
        for lineno, raw in enumerate(lines, 1):
            text = raw.rstrip("\r\n")
            s = text.strip()
            if not s:
                self.sink.skip("blank")
                continue
            if fb.too_long(s):
                self.sink.bad(lineno, EXPECTED, s[:80])
                continue
            if _COUNT_HEADER.match(s) or (self.in_counts and _COUNT_ROW.match(s)):
                # dtruss -c: call counts without error counts, so not a strace-style summary
                self.in_counts = True
                self.sink.skip("dtruss count table")
                continue
            self.in_counts = False
            if (h := _HEADER.match(s)) is not None:
                self.cols = h.group("cols").split()
                self.sink.skip("dtruss header")
                continue
            if (m := _LINE.match(s)) is not None:
                yield from self.hold.push(self.event(lineno, m))
                continue
            if self.hold.ev is not None and text[:1] in (" ", "\t") and _STACK.match(s):
                self.hold.ev.extra.setdefault("stack", []).append(s)
                continue
            if _SIP.match(s):
                self.sink.skip("dtrace notice")
                continue
            if _DTRACE.match(s):
                self.sink.bad(lineno, EXPECTED, s, f"dtrace message (a record may be lost): {fb.snippet(s, 60)}")
                continue
            self.sink.bad(lineno, EXPECTED, s)
        yield from self.hold.flush()

    def event(self, lineno: int, m: re.Match[str]) -> model.Event:
        ev = fb.syscall_event(self.path, lineno, name=m.group("name"), args=m.group("args"))
        if m.group("pid"):
            ev.pid = int(m.group("pid"))
            ev.tid = fb.parse_int(m.group("tid"))
        ev.ret = fb.parse_int(m.group("ret"))
        e = m.group("errno")
        err = int(e[4:]) if e.startswith("Err#") else int(e)
        if err != 0:
            ev.rec, ev.err = model.ERROR, err
        else:
            ev.rec = model.SUCCESS
        self.columns(ev, [int(x) for x in m.group("nums").split()])
        return ev

    def columns(self, ev: model.Event, nums: list[int]) -> None:
        """Map the microsecond columns to ts (RELATIVE), dur (ELAPSD) and extra cpu_us."""
        if not nums:
            return
        cols = self.cols if self.cols is not None and len(self.cols) == len(nums) else \
            {3: ["RELATIVE", "ELAPSD", "CPU"], 2: ["ELAPSD", "CPU"], 1: ["?"]}[len(nums)]
        for col, v in zip(cols, nums):
            if col == "RELATIVE":
                ev.ts, ev.flags = v / 1e6, ev.flags | model.F_HAS_TS
            elif col == "ELAPSD":
                ev.dur, ev.flags = v / 1e6, ev.flags | model.F_HAS_DUR
            elif col == "CPU":
                ev.extra["cpu_us"] = v
            else:
                ev.extra["column_us"] = v


def parse(lines: Iterable[str], path: str, stats: fb.StatsLike, strict: bool) -> Iterator[model.Event]:
    """Yield one syscall event per dtruss row."""
    yield from _Parser(path, stats, strict).run(lines)


def render(ev: model.Event, thread_hex: bool = True) -> str:
    """Print a syscall event as dtruss does (macOS errno style ``Err#N``)."""
    prefix = ""
    if ev.pid is not None:
        tid = ev.tid if ev.tid is not None else 0
        prefix = f"{ev.pid:5d}/{tid:#x}:  " if thread_hex else f"{ev.pid:5d}/{tid}:  "
    cols = ""
    if ev.ts is not None:
        cols += f"{round(ev.ts * 1e6):9d} "
    if ev.dur is not None:
        cols += f"{round(ev.dur * 1e6):7d} "
    if "cpu_us" in ev.extra:
        cols += f"{ev.extra['cpu_us']:6d} "
    errno = f"Err#{ev.err}" if ev.rec == model.ERROR else "0"
    return f"{prefix}{cols}{ev.name}({ev.args})\t\t = {ev.ret} {errno}"


ARG_SEP = ", "


def render_arg(v: Any, fd_paths: bool = False) -> str:
    """One argument value (shimsim.trace.args) as dtruss prints it: numbers in
    hex, strings quoted with their NUL, buffers as addresses."""
    return fb.render_arg_hex(v, lambda q: f'"{q.text}\\0"' if q.kind != "buf" else "0x7ffde0001000",
                             lambda f: hex(f.value & 0xFFFFFFFFFFFFFFFF))


# what dtruss prints, for the generating strategies (shimsim.strategies)
TEXT_OPTIONS = [(), ("-d",)]
PRINTS_ERRNO_NAME = False   # Err#N
RETURNING_ONLY = True       # only calls that returned, no signals or exits
DUR_WITH_TIMES = True       # -d prints RELATIVE and ELAPSD columns


def generated(ev: model.Event, *, times: bool, dur_us: int | None, errmsg: Any) -> None:
    """A thread id, and with -d the CPU column."""
    ev.tid = 0x18A2F
    if times:
        ev.extra["cpu_us"] = (dur_us or 0) // 2   # RELATIVE ELAPSD CPU columns
