# SPDX-License-Identifier: MIT
"""The pure-Python reference parser for strace output (strace 4.x to 6.x).

It implements exactly the grammar of the C tokeniser (csrc/tokenise.c), line
for line, so that the differential tests can compare the two event by event.
Readability wins over speed here: the C core is the fast path.

Line grammar (see tests/fixtures/strace and /work/shared/traces/README.md):

    [PREFIX] [TIMESTAMP] [IP] [NR] BODY
    PREFIX     "[pid N] " (stderr form) | "N " (-f -o form), either with "<comm>" after N (-Y)
    TIMESTAMP  HH:MM:SS[.frac] (-t/-tt) | S.frac (-ttt, -r, --absolute-timestamps)
    IP, NR     "[hex] " (-i) and "[  nr] " (-n)
    BODY       NAME(ARGS) = RESULT [ERRNAME (text)] [(extra)...] [(INJECTED)] [<dur>]
               NAME(ARGS <unfinished ...>      <... NAME resumed>ARGS) = RESULT ...
               NAME(ARGS <detached ...>
               --- SIGNAME {...} ---           --- stopped by SIGNAME ---
               +++ exited with N +++           +++ killed by SIGNAME [(core dumped)] +++
               +++ superseded by execve in pid N +++
               [ Process PID=N runs in 32 bit|64 bit|x32 mode. ]
               strace: ... (strace's own messages), " > frame" (-k), summary tables
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim._record import Record
from shimsim import model
from shimsim.lex import strace as _lex
from shimsim.errors import InputError
from shimsim.model import Event
from shimsim.trace import _fmtbase
from shimsim.trace.stats import ParseStats
from shimsim.trace.summary import SummaryTable

FORMAT = "strace"
DEFAULT_OS = "linux"

# Extra ss_event flag: the result was "?" (no return value printed).
F_NO_RET = model.F_NO_RET  # SS_EVF_NO_RET: the call printed '= ?'
MAX_PARTIAL = 1 << 20   # a call line split by spliced output may grow to this many bytes

# Scan results
CLOSE, UNFINISHED, DETACHED, EOL = _lex.CLOSE, _lex.UNFINISHED, _lex.DETACHED, _lex.EOL

# Unparsed reasons, shared with the C tokeniser (SS_R_*); index = code (csrc/codes.def).
from shimsim.codes import (R_EQ, R_EXIT, R_PARTIAL, R_PERS, R_PREFIX, R_RESUMED,  # noqa: E402,F401
                           R_RETVAL, R_SIGNAL, R_SYNTAX, R_TOOLONG, R_TRAIL, REASONS)

PERSONALITY_MODES = {"64 bit": 0, "32 bit": 1, "x32": 2}

_SPLICE_PROC = lazy_re(r"(?:strace: )?Process [0-9]+ (attached|detached)$")
_SPLICE_WAIT = lazy_re(r" ?\[wait\(0x[0-9a-f]+\) = [0-9]+\] ")
_MSG = lazy_re(r"Process [0-9]+ (?:attached|detached|suspended)")
# a -k stack frame: ' > LIBRARY(SYMBOL+0xOFF) [0xADDR]', ' > LIBRARY() [0xADDR]', ' > unexpected_backtracing_error [0x..]'
_FRAME = lazy_re(r"^ > (?P<lib>.*?)(?:\((?P<sym>[^()]*?)(?:\+0x(?P<off>[0-9a-fA-F]+))?\))? \[0x(?P<addr>[0-9a-fA-F]+)\]\s*$")
_SUMMARY_WORDS = {"%", "time", "seconds", "usecs/call", "calls", "errors", "syscall", "shortest", "longest"}


def _digit(c: str) -> bool:
    return "0" <= c <= "9"


def _name_char(c: str) -> bool:
    return ("a" <= c <= "z") or ("A" <= c <= "Z") or ("0" <= c <= "9") or c == "_"


def _skip_spaces(s: str, i: int) -> int:
    n = len(s)
    while i < n and s[i] == " ":
        i += 1
    return i


def _parse_uint(s: str, i: int) -> tuple[int, int]:
    """Decimal digits at i -> (value, end)."""
    j = i
    n = len(s)
    while j < n and _digit(s[j]):
        j += 1
    return (int(s[i:j]) if j > i else -1), j


# 10^-k as the nearest doubles, the same literals as INV10 in csrc/tok_scan.c
_INV10 = (1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15)


def _frac(s: str, i: int) -> tuple[float, int]:
    """Digits after a dot -> (fraction, end); exactly the C computation (at
    most 15 digits count, each exact in a double, times the nearest 10^-k)."""
    j = i
    while j < len(s) and _digit(s[j]):
        j += 1
    digits = s[i:j][:15]
    return (float(int(digits)) * _INV10[len(digits)] if digits else 0.0), j


def _wrap64(v: int) -> int:
    v %= 1 << 64
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_frame(s: str) -> model.Frame:
    """One strace -k line as a Frame (the whole text as library when it has another shape)."""
    m = _FRAME.match(s.rstrip("\r"))
    if m is None:
        return model.Frame(library=s[3:].strip())
    return model.Frame(library=m.group("lib"), symbol=m.group("sym") or None,
                       offset=int(m.group("off"), 16) if m.group("off") else None, address=int(m.group("addr"), 16))


def is_summary_header(s: str) -> bool:
    """The column header of a strace -c/-C/-U summary table."""
    toks = [t for t in s.split(" ") if t]
    return len(toks) >= 2 and all(t in _SUMMARY_WORDS for t in toks) and ("calls" in toks or "syscall" in toks)


def splice_start(s: str) -> int:
    """Where strace's own message spliced into a call line starts ("strace:
    Process N attached", old "Process N detached", -d "[wait(0x..) = N] ...");
    -1 if there is none."""
    best = -1
    m = _SPLICE_PROC.search(s)
    if m is not None:
        best = m.start()
    m = _SPLICE_WAIT.search(s)
    if m is not None and (best < 0 or m.start() < best):
        best = m.start()
    return best


# Argument text is scanned by the one Python lexer (shimsim.lex.strace, the twin of csrc/lex.c).
scan_args = _lex.scan_call
_balanced_paren = _lex.balanced_paren
_skip_decoration = _lex.decoration_end


class Result(Record):
    """The result part of a call line: return value, errno name, injected, duration."""
    __slots__ = _FIELDS = ("ret", "errname", "injected", "dur")
    ret: int | None
    errname: str | None
    injected: bool
    dur: float | None

    def __init__(self, ret: int | None = None, errname: str | None = None, injected: bool = False,
                 dur: float | None = None) -> None:
        self.ret, self.errname, self.injected, self.dur = ret, errname, injected, dur


def parse_result(s: str, i: int) -> Result | int:
    """Parse ' = RESULT ...' after the closing parenthesis; an R_* code on error."""
    i = _skip_spaces(s, i)
    n = len(s)
    if i >= n or s[i] != "=":
        return R_EQ
    i = _skip_spaces(s, i + 1)
    r = Result()
    if i < n and s[i] == "?":
        i += 1
    else:
        neg = False
        if i < n and s[i] == "-":
            neg = True
            i += 1
        if i + 1 < n and s[i] == "0" and s[i + 1] in "xX":
            j = i + 2
            while j < n and s[j] in "0123456789abcdefABCDEF":
                j += 1
            if j == i + 2:
                return R_RETVAL
            v = int(s[i + 2:j], 16)
        elif i + 1 < n and s[i] == "0" and _digit(s[i + 1]):
            j = i + 1
            while j < n and "0" <= s[j] <= "7":
                j += 1
            v = int(s[i + 1:j] or "0", 8)
        else:
            v, j = _parse_uint(s, i)
            if j == i:
                return R_RETVAL
        r.ret = _wrap64(-v if neg else v)
        i = j
        if i < n and s[i] == "<":  # -y decoration on a returned fd
            j = _skip_decoration(s, i)
            if j < 0:
                return R_TRAIL
            i = j
    while True:
        i = _skip_spaces(s, i)
        if i >= n:
            return r
        c = s[i]
        # errno names: E + capitals, digits, underscores (E2BIG has a digit first)
        if c == "E" and r.errname is None and i + 1 < n and ("A" <= s[i + 1] <= "Z" or _digit(s[i + 1])):
            j = i + 1
            while j < n and _name_char(s[j]):
                j += 1
            r.errname = s[i:j]
            i = j
        elif c == "(":
            j = _balanced_paren(s, i)
            if j < 0:
                return R_TRAIL
            if s[i + 1:j - 1] == "INJECTED":
                r.injected = True
            i = j
        elif c == "<":
            j = s.find(">", i)
            if j < 0:
                return R_TRAIL
            inner = s[i + 1:j]
            k = 0
            while k < len(inner) and _digit(inner[k]):
                k += 1
            if 0 < k <= 15 and k < len(inner) and inner[k] == ".":
                ip = int(inner[:k])
                fr, e = _frac(inner, k + 1)
                if e != len(inner):
                    return R_TRAIL
                r.dur = ip + fr
            elif inner != "unavailable":
                return R_TRAIL
            i = j + 1
        elif c == "/" and s.startswith("/*", i):
            j = s.find("*/", i + 2)
            if j < 0:
                return R_TRAIL
            i = j + 2
        else:
            return R_TRAIL


def _rec(r: Result) -> int:
    if r.injected:
        return model.INJECTED
    if r.errname is not None:
        return model.RESTARTED if r.errname.startswith("ERESTART") else model.ERROR
    if r.ret is None:
        return model.UNKNOWN
    return model.SUCCESS


class _Pending(Record):
    """An unfinished call waiting for its resumed line."""
    __slots__ = _FIELDS = ("name", "args", "path", "line", "ts", "flags", "abi", "pid")
    name: str
    args: str
    path: str
    line: int
    ts: float | None
    flags: int
    abi: int
    pid: int

    def __init__(self, name: str, args: str, path: str, line: int, ts: float | None, flags: int, abi: int,
                 pid: int) -> None:
        self.name, self.args, self.path, self.line, self.ts = name, args, path, line, ts
        self.flags, self.abi, self.pid = flags, abi, pid


class Resolver:
    """Name -> number lookups through the guest ABI tables (indices into abis).
    A table of None (e.g. x32, which has no table) resolves nothing."""

    def __init__(self, abis: list[str], syscalls: list[dict[str, int] | None],
                 errnos: list[dict[str, int] | None], signals: list[dict[str, int] | None],
                 modes: tuple[int, int, int]) -> None:
        self.abis = abis
        self.syscalls = syscalls
        self.errnos = errnos
        self.signals = signals
        self.modes = modes  # abi index for personality 0 (64 bit), 1 (32 bit), 2 (x32); -1 = none

    def nr(self, abi: int, name: str) -> int | None:
        t = self.syscalls[abi]
        return t.get(name) if t is not None else None

    def err(self, abi: int, name: str | None) -> int | None:
        if name is None:
            return None
        t = self.errnos[abi]
        v = t.get(name) if t is not None else None
        return -1 if v is None else v

    def sig(self, abi: int, name: str | None) -> int | None:
        if name is None:
            return None
        t = self.signals[abi]
        v = t.get(name) if t is not None else None
        return -1 if v is None else v


class StraceParser:
    """State across lines and files of one trace: unfinished calls per pid,
    the pid's ABI (personality), a call line waiting for its continuation,
    and the summary table being read."""

    def __init__(self, stats: ParseStats, resolver: Resolver, strict: bool = False) -> None:
        self.stats = stats
        self.res = resolver
        self.strict = strict
        self.pending: dict[int, _Pending] = {}
        self.pid_abi: dict[int, int] = {}
        self.partial: tuple[str, int, str, int] | None = None  # (path, line, text, default_pid)
        self.summary = SummaryTable()
        self.in_summary = False
        self._file_order: dict[str, int] = {}
        self.last_unfinished: int | None = None  # pending key of the latest <unfinished ...>
        self.last_event: Event | None = None     # -k frames belong to the latest event

    # -- driving ---------------------------------------------------------
    def parse(self, lines: Iterable[str], path: str, default_pid: int = -1,
              first_line: int = 1) -> Iterator[Event]:
        """Events of one file's lines (already without newline)."""
        self._file_order.setdefault(path, len(self._file_order))
        ln = first_line - 1
        held: list[Event] = []   # the latest line's events wait for the -k frames below them
        for ln, line in enumerate(lines, first_line):
            out = self.feed(line, path, ln, default_pid)
            if line.startswith(" > ") and not out:
                continue
            if held:
                yield from held
            held = out
        yield from held
        self.stats.lines += ln - first_line + 1

    def feed(self, line: str, path: str, lineno: int, default_pid: int = -1) -> list[Event]:
        out: list[Event] = []
        if line.endswith("\r"):
            line = line[:-1]
        if self.partial is not None:
            ppath, pline, ptext, ppid = self.partial
            if not (line.startswith("[pid ") or line.startswith("strace: ")):
                self.partial = None
                if len(ptext) + len(line) > MAX_PARTIAL:
                    self._unparsed(ppath, pline, R_TOOLONG)
                    return out
                self.stats.skip("continuation line")
                self._line(ptext + line, ppath, pline, ppid, out)
                return out
        self._line(line, path, lineno, default_pid, out)
        return out

    def finish(self) -> list[Event]:
        """End of the trace: an incomplete call line is unparsed, calls still
        unfinished become events with outcome 'unfinished' (in line order)."""
        out: list[Event] = []
        if self.partial is not None:
            ppath, pline, _t, _p = self.partial
            self.partial = None
            self._unparsed(ppath, pline, R_PARTIAL)
        order = self._file_order
        for p in sorted(self.pending.values(), key=lambda p: (order.get(p.path, 0), p.line)):
            out.append(self._unfinished_event(p))
        self.pending.clear()
        self.summary_done()
        return out

    def summary_done(self) -> None:
        if self.summary.rows:
            self.stats.summary = self.summary.totals()

    # -- one line ----------------------------------------------------------
    def _unparsed(self, path: str, line: int, code: int) -> None:
        if self.strict:
            raise InputError(path, line, REASONS[code])
        self.stats.unparsed(path, line, REASONS[code])

    def _line(self, s: str, path: str, lineno: int, default_pid: int, out: list[Event]) -> None:
        if self.in_summary or (s[:1] in ("%", "s") and is_summary_header(s)):
            if self._summary_line(s):
                return
        if s == "" or s.strip(" ") == "":
            self.stats.skip("blank")
            return
        if s.startswith(" > "):
            self.stats.skip("stack frame (-k)")
            if self.last_event is not None:
                self.last_event.frames.append(parse_frame(s))
            return
        if s.startswith("System call usage summary for"):
            self.stats.skip("summary table")
            return
        pid = default_pid
        i = 0
        n = len(s)
        if s.startswith("[pid"):
            j = _skip_spaces(s, 4)
            v, k = _parse_uint(s, j)
            digits = k - j
            if k < n and s[k] == "<":  # -Y: [pid 123<comm>]
                k = s.find(">", k) + 1 or n
            if digits == 0 or digits > 9 or k >= n or s[k] != "]":
                self._unparsed(path, lineno, R_PREFIX)
                return
            pid = v
            i = _skip_spaces(s, k + 1)
        elif _digit(s[0]):
            v, k = _parse_uint(s, 0)
            digits = k
            if k < n and s[k] == "<":  # -Y: 123<comm>
                k = s.find(">", k) + 1 or n
            if k < n and s[k] == " " and digits <= 9:
                pid = v
                i = _skip_spaces(s, k)
        ts, i = self._timestamp(s, i)
        i = self._skip_ip_nr(s, i)
        self._body(s, i, path, lineno, pid, ts, out)

    def _timestamp(self, s: str, i: int) -> tuple[float | None, int]:
        j = _skip_spaces(s, i)
        n = len(s)
        if j >= n or not _digit(s[j]):
            return None, i
        a, k = _parse_uint(s, j)
        if k < n and s[k] == ":":
            if k - j > 9:
                return None, i
            b, k2 = _parse_uint(s, k + 1)
            if k2 == k + 1 or k2 - (k + 1) > 9 or k2 >= n or s[k2] != ":":
                return None, i
            c, k3 = _parse_uint(s, k2 + 1)
            if k3 == k2 + 1 or k3 - (k2 + 1) > 9:
                return None, i
            t = float(a * 3600 + b * 60 + c)
            if k3 < n and s[k3] == ".":
                fr, k3 = _frac(s, k3 + 1)
                t += fr
            if k3 < n and s[k3] == " ":
                return t, _skip_spaces(s, k3)
            return None, i
        if k < n and s[k] == "." and k - j <= 15:
            fr, k2 = _frac(s, k + 1)
            if k2 > k + 1 and k2 < n and s[k2] == " ":
                return a + fr, _skip_spaces(s, k2)
        return None, i

    @staticmethod
    def _skip_ip_nr(s: str, i: int) -> int:
        for _ in range(2):
            if i < len(s) and s[i] == "[":
                j = i + 1
                while j < len(s) and s[j] in "0123456789abcdefABCDEF? ":
                    j += 1
                if j > i + 1 and j < len(s) and s[j] == "]" and j + 1 < len(s) and s[j + 1] == " ":
                    i = _skip_spaces(s, j + 1)
                    continue
            break
        return i

    def _summary_line(self, s: str) -> bool:
        """A line of a -c/-C summary table; False ends the table without consuming the line."""
        if not self.in_summary:
            self.in_summary = True
            self.summary.header(s)
            self.stats.skip("summary table")
            return True
        t = s.strip(" ")
        if t == "":
            self.in_summary = False
            return False
        self.summary.row(s)
        self.stats.skip("summary table")
        if t.startswith("total ") or t.endswith(" total") or t == "total":
            self.in_summary = False
        return True

    def _abi(self, pid: int) -> int:
        return self.pid_abi.get(pid, 0)

    def _body(self, s: str, i: int, path: str, lineno: int, pid: int, ts: float | None,
              out: list[Event]) -> None:
        n = len(s)
        if i >= n:
            self.stats.skip("blank")
            return
        c = s[i]
        if c == "-" and s.startswith("--- ", i):
            self._signal(s, i, path, lineno, pid, ts, out)
        elif c == "+" and s.startswith("+++ ", i):
            self._exit(s, i, path, lineno, pid, ts, out)
        elif c == "<" and s.startswith("<... ", i):
            self._resumed(s, i, path, lineno, pid, ts, out)
        elif c == "[" and s.startswith("[ Process PID=", i):
            self._personality(s, i, path, lineno, pid, ts, out)
        elif c == "s" and s.startswith("strace: ", i):
            if s.startswith("[ Process PID=", i + 8):
                self._personality(s, i + 8, path, lineno, pid, ts, out)
            else:
                self.stats.skip("strace message")
        elif c == "P" and _MSG.match(s, i):
            self.stats.skip("strace message")
        elif c == " " and s.startswith(" [wait(", i):
            self.stats.skip("strace message")
        else:
            j = i
            while j < n and _name_char(s[j]):
                j += 1
            if j > i and j < n and s[j] == "(" and not _digit(s[i]):
                self._call(s, i, j, path, lineno, pid, ts, out)
            else:
                self._anon_resumed(s, i, path, lineno, out)

    # -- record kinds -----------------------------------------------------
    def _event(self, kind: int, path: str, lineno: int, pid: int, ts: float | None, **kw) -> Event:
        flags = kw.pop("flags", 0)
        if ts is not None:
            flags |= model.F_HAS_TS
        # strace prints the thread id ([pid N], the -f -o column, the -ff file suffix): it is the
        # event's tid; pid stays the same number (strace does not print the thread group)
        ev = Event(kind=kind, file=path, line=lineno, pid=pid if pid >= 0 else None, tid=pid if pid >= 0 else None,
                   ts=ts, flags=flags, **kw)
        self.stats.add_event(ev)
        self.last_event = ev
        return ev

    def _signal(self, s: str, i: int, path: str, lineno: int, pid: int, ts: float | None,
                out: list[Event]) -> None:
        body = s[i + 4:].rstrip(" ")
        if not body.endswith(" ---"):
            self._unparsed(path, lineno, R_SIGNAL)
            return
        body = body[:-4]
        if body.startswith("stopped by "):
            name = body[11:].strip(" ")
            if not name:
                self._unparsed(path, lineno, R_SIGNAL)
                return
            out.append(self._event(model.STOPPED, path, lineno, pid, ts, name=name,
                                   err=self.res.sig(self._abi(pid), name), abi=self._abi_name(pid)))
            return
        sp = body.find(" ")
        name = body if sp < 0 else body[:sp]
        args = "" if sp < 0 else body[sp + 1:].strip(" ")
        if not name.startswith("SIG"):
            self._unparsed(path, lineno, R_SIGNAL)
            return
        out.append(self._event(model.SIGNAL, path, lineno, pid, ts, name=name, args=args,
                               err=self.res.sig(self._abi(pid), name), abi=self._abi_name(pid)))

    def _exit(self, s: str, i: int, path: str, lineno: int, pid: int, ts: float | None,
              out: list[Event]) -> None:
        body = s[i + 4:].rstrip(" ")
        if not body.endswith(" +++"):
            self._unparsed(path, lineno, R_EXIT)
            return
        body = body[:-4]
        if body.startswith("exited with "):
            v, k = _parse_uint(body, 12)
            if k != len(body) or k == 12 or k - 12 > 18:
                self._unparsed(path, lineno, R_EXIT)
                return
            self._flush_pid(pid, out)
            out.append(self._event(model.EXIT, path, lineno, pid, ts, ret=v, abi=self._abi_name(pid)))
        elif body.startswith("killed by "):
            rest = body[10:]
            flags = 0
            if rest.endswith(" (core dumped)"):
                rest = rest[:-14]
                flags = model.F_CORE
            if not rest.startswith("SIG") or " " in rest:
                self._unparsed(path, lineno, R_EXIT)
                return
            self._flush_pid(pid, out)
            out.append(self._event(model.KILLED, path, lineno, pid, ts, name=rest, flags=flags,
                                   err=self.res.sig(self._abi(pid), rest), abi=self._abi_name(pid)))
        elif body.startswith("superseded by execve in pid "):
            v, k = _parse_uint(body, 28)
            if k != len(body) or k == 28 or k - 28 > 18:
                self._unparsed(path, lineno, R_EXIT)
                return
            self._flush_pid(pid, out)
            out.append(self._event(model.SUPERSEDED, path, lineno, pid, ts, ret=v, abi=self._abi_name(pid)))
        else:
            self._unparsed(path, lineno, R_EXIT)

    def _personality(self, s: str, i: int, path: str, lineno: int, pid: int, ts: float | None,
                     out: list[Event]) -> None:
        j = i + 14
        v, k = _parse_uint(s, j)
        rest = s[k:].rstrip(" ")
        mode = None
        if 0 < k - j <= 9 and len(rest) >= 17 and rest.startswith(" runs in ") and rest.endswith(" mode. ]"):
            mode = rest[9:-8]
        if mode not in PERSONALITY_MODES:
            self._unparsed(path, lineno, R_PERS)
            return
        pers = PERSONALITY_MODES[mode]  # type: ignore[index]
        new = self.res.modes[pers]
        if new < 0:
            new = 0
        self.pid_abi[pid] = new
        out.append(self._event(model.PERSONALITY, path, lineno, pid if pid >= 0 else v, ts, name=mode,
                               ret=pers, abi=self.res.abis[new]))

    def _abi_name(self, pid: int) -> str:
        return self.res.abis[self._abi(pid)]

    def _flush_pid(self, pid: int, out: list[Event]) -> None:
        p = self.pending.pop(pid, None)
        if p is not None:
            out.append(self._unfinished_event(p))

    def _unfinished_event(self, p: _Pending) -> Event:
        return self._event(model.SYSCALL, p.path, p.line, p.pid, p.ts, name=p.name, args=p.args,
                           nr=self.res.nr(p.abi, p.name), rec=model.UNFINISHED,
                           flags=p.flags | F_NO_RET, abi=self.res.abis[p.abi])

    def _incomplete(self, s: str, path: str, lineno: int, pid: int, name: str, astart: int,
                    out: list[Event]) -> None:
        """A call line whose arguments run past the end of the line: strip a
        spliced strace message and wait for the continuation line."""
        cut = splice_start(s)
        if cut >= 0:
            if s.endswith(" detached") and _SPLICE_PROC.search(s, cut):
                # "call(args^CProcess N detached": the tracer let go mid-call
                p = self.pending.pop(pid, None)
                out.append(self._event(model.DETACHED, path, lineno, pid, None, name=name,
                                       args=s[astart:cut] if astart <= cut else "",
                                       abi=self._abi_name(pid)))
                if p is not None:
                    out.append(self._unfinished_event(p))
                return
            s = s[:cut]
        if self.partial is not None:
            self._unparsed(self.partial[0], self.partial[1], R_PARTIAL)
        # the whole line (prefix included) is parsed again once joined; the
        # pid doubles as default pid, which keeps -ff files' pid
        self.partial = (path, lineno, s, pid)

    def _call(self, s: str, i: int, j: int, path: str, lineno: int, pid: int, ts: float | None,
              out: list[Event]) -> None:
        name = s[i:j]
        start = j + 1
        end, kind, trunc = scan_args(s, start)
        flags = model.F_TRUNCATED if trunc else 0
        abi = self._abi(pid)
        if kind == EOL:
            self._incomplete(s, path, lineno, pid, name, start, out)
            return
        if kind == UNFINISHED or kind == DETACHED:
            args = s[start:end]
            if args.endswith(" "):
                args = args[:-1]
            if kind == DETACHED:
                out.append(self._event(model.DETACHED, path, lineno, pid, ts, name=name, args=args,
                                       flags=flags, abi=self.res.abis[abi]))
                return
            self._flush_pid(pid, out)
            self.last_unfinished = pid
            self.pending[pid] = _Pending(name, args, path, lineno, ts,
                                         flags | (model.F_HAS_TS if ts is not None else 0), abi, pid)
            return
        r = parse_result(s, end + 1)
        if isinstance(r, int):
            self._unparsed(path, lineno, r)
            return
        out.append(self._syscall(path, lineno, pid, ts, name, s[start:end], r, flags, abi))

    def _syscall(self, path: str, lineno: int, pid: int, ts: float | None, name: str, args: str,
                 r: Result, flags: int, abi: int) -> Event:
        if r.dur is not None:
            flags |= model.F_HAS_DUR
        if r.ret is None:
            flags |= F_NO_RET
        return self._event(model.SYSCALL, path, lineno, pid, ts, name=name, args=args,
                           nr=self.res.nr(abi, name), ret=r.ret, rec=_rec(r), errname=r.errname,
                           err=self.res.err(abi, r.errname), dur=r.dur, flags=flags,
                           abi=self.res.abis[abi])

    def _anon_resumed(self, s: str, i: int, path: str, lineno: int, out: list[Event]) -> None:
        """strace -z/-Z print the rest of an unfinished call without the
        '<... NAME resumed>' header ('ARGS) = RESULT', often just ') = R'):
        such a line, when nothing else fits, resumes the latest unfinished call."""
        key = self.last_unfinished
        p = self.pending.get(key) if key is not None else None
        if p is None:
            self._unparsed(path, lineno, R_SYNTAX)
            return
        end, kind, trunc = scan_args(s, i)
        if kind != CLOSE:
            self._unparsed(path, lineno, R_SYNTAX)
            return
        r = parse_result(s, end + 1)
        if isinstance(r, int):
            self._unparsed(path, lineno, r)
            return
        del self.pending[key]  # type: ignore[arg-type]
        flags = (p.flags & ~model.F_HAS_TS) | model.F_MERGED | (model.F_TRUNCATED if trunc else 0)
        out.append(self._syscall(p.path, p.line, p.pid, p.ts, p.name, (p.args + s[i:end]).rstrip(" "), r,
                                 flags, p.abi))

    def _adopt(self, pid: int, name: str) -> None:
        """In stderr captures a process has no [pid N] prefix while it is the
        only one traced: a call left unfinished without prefix is resumed with
        one, and the other way round.  Unprefixed (-1) takes the one pending
        call of that name, if there is exactly one."""
        if pid in self.pending:
            return
        if pid >= 0:
            q = self.pending.get(-1)
            if q is not None and q.name == name:
                del self.pending[-1]
                q.pid = pid
                self.pending[pid] = q
            return
        keys = [k for k, q in self.pending.items() if q.name == name]
        if len(keys) == 1:
            self.pending[-1] = self.pending.pop(keys[0])

    def _resumed(self, s: str, i: int, path: str, lineno: int, pid: int, ts: float | None,
                 out: list[Event]) -> None:
        j = i + 5
        k = s.find(" resumed>", j)
        if k <= j or not all(_name_char(c) for c in s[j:k]):
            self._unparsed(path, lineno, R_RESUMED)
            return
        name = s[j:k]
        r0 = k + 9
        if s.startswith(" <unfinished ...>", r0):
            r0 += 17
        end, kind, trunc = scan_args(s, r0)
        if kind == EOL:
            self._incomplete(s, path, lineno, pid, name, r0, out)
            return
        if kind == UNFINISHED:
            # resumed and interrupted again: keep waiting with the joined text
            part = s[r0:end]
            if part.endswith(" "):
                part = part[:-1]
            self._adopt(pid, name)
            p = self.pending.get(pid)
            if p is not None and p.name == name:
                p.args += part
                if trunc:
                    p.flags |= model.F_TRUNCATED
            else:
                self._flush_pid(pid, out)
                self.last_unfinished = pid
                self.pending[pid] = _Pending(name, part, path, lineno, ts,
                                             (model.F_TRUNCATED if trunc else 0)
                                             | (model.F_HAS_TS if ts is not None else 0), self._abi(pid), pid)
            return
        part = s[r0:end]
        self._adopt(pid, name)
        p = self.pending.pop(pid, None)
        if p is not None and p.name != name:
            out.append(self._unfinished_event(p))
            p = None
        if kind == DETACHED:
            if p is not None:
                args = (p.args + part).rstrip(" ")
                out.append(self._event(model.DETACHED, p.path, p.line, p.pid, p.ts, name=name, args=args,
                                       flags=(p.flags & ~model.F_HAS_TS) | model.F_MERGED,
                                       abi=self.res.abis[p.abi]))
            else:
                out.append(self._event(model.DETACHED, path, lineno, pid, ts, name=name,
                                       args=part.rstrip(" "), abi=self._abi_name(pid)))
            return
        r = parse_result(s, end + 1)
        if isinstance(r, int):
            self._unparsed(path, lineno, r)
            if p is not None:
                out.append(self._unfinished_event(p))
            return
        tflag = model.F_TRUNCATED if trunc else 0
        if p is not None:
            args = (p.args + part).rstrip(" ")
            out.append(self._syscall(p.path, p.line, p.pid, p.ts, name, args, r,
                                     (p.flags & ~model.F_HAS_TS) | tflag | model.F_MERGED, p.abi))
        else:
            out.append(self._syscall(path, lineno, pid, ts, name, part.rstrip(" "), r, tflag,
                                     self._abi(pid)))


def parse(lines: Iterable[str], path: str, stats: ParseStats, strict: bool,
          resolver: Resolver | None = None) -> Iterator[Event]:
    """The module-level parser entry point of the format contract."""
    if resolver is None:
        resolver = Resolver(["linux-x86_64"], [None], [None], [None], (0, -1, -1))
    p = StraceParser(stats, resolver, strict)
    yield from p.parse(lines, path)
    yield from p.finish()


# --------------------------------------------------------------------------- sniffing

_STRACE_LINE = lazy_re(
    r"^(?:\[pid +\d+(?:<[^>]*>)?\] |\d+(?:<[^>]*>)? +)?(?: *[\d:.]+ +)?(?:\[[0-9a-f? ]+\] +){0,2}"
    r"(?:[A-Za-z_][A-Za-z0-9_]*\(.*(?:\) += |<unfinished \.\.\.>)|<\.\.\. [A-Za-z0-9_]+ resumed>"
    r"|--- |\+\+\+ |\[ Process PID=|strace: )"
)
# i386-only names: a trace made on a 32-bit system (no personality note)
I386_NAMES = frozenset({"mmap2", "fstat64", "stat64", "lstat64", "fcntl64", "_llseek", "ugetrlimit",
                        "socketcall", "waitpid", "sigreturn", "fstatat64", "statfs64",
                        "_newselect"})
_I386_CALLS = tuple(f"{n}(" for n in sorted(I386_NAMES))
_CALL = lazy_re(r"(?:\[pid +\d+(?:<[^>]*>)?\] |\d+(?:<[^>]*>)? +)?(?:[\d:.]+ +)?(?:\[[0-9a-f? ]+\] +){0,2}([a-z_][a-z0-9_]*)\(")


# QEMU's -strace prints "PID name(a,b)" with no space after the commas; strace always puts one
_QEMU_ARGS = lazy_re(r"^\d+ [a-z_][a-z0-9_]*\([^ ()\",]*,[^ ]")


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


def sniff(lines: list[str]) -> float:
    """Confidence that these first lines are strace output."""
    return strace_score(lines)


def guess_abi(lines: list[str]) -> str | None:
    """The guest ABI of a strace trace from its content: i386-only syscall
    names with no personality note mean a trace recorded on a 32-bit system."""
    if any("[ Process PID=" in ln for ln in lines):
        return None
    for ln in lines:
        if not any(call in ln for call in _I386_CALLS):   # the pattern only for a line that may name one
            continue
        m = _CALL.match(ln)
        if m and m.group(1) in I386_NAMES:
            return "linux-i386"
    return None


strace_abi = guess_abi


ResolverFactory = Callable[[str], Resolver]


# --------------------------------------------------------------------------- the whole trace

C_TOKENISER = True   # the C engine reads strace with csrc/tokenise.c


def sniff_summary(lines: list[str]) -> float:
    """strace-summary: 1 when the first lines are strace -c's table alone."""
    return 1.0 if is_summary_only(lines) else 0.0


def parse_trace(t) -> Iterator[Event]:
    """The Python reference over a whole trace (shimsim.trace.Trace): calls and
    call lines join within a file, never across files."""
    sc, er, sg = t.tables()
    from shimsim.trace import publish

    p = StraceParser(t.stats, Resolver(t.abis, sc, er, sg, t.modes), t.strict)
    for path, pid in t.files:
        k0 = len(t.stats.unparsed_first)
        tail = publish.Tail(t.source(path))
        yield from t.remapped(path, p.parse(tail, path, pid))
        yield from t.remapped(path, p.finish())
        t.file_done(path, k0, tail.last)
    t.check_summary()


# --------------------------------------------------------------------------- rendering

ARG_SEP = ", "


def render_arg(v, fd_paths: bool = False) -> str:
    """One argument value (shimsim.trace.args) as strace prints it (-y: fds with paths)."""
    from shimsim.trace import args   # rendering only (strategies): parsing needs no args classes

    if isinstance(v, args.Fd):
        return f"{v.n}<{v.path}>" if fd_paths and v.path is not None else str(v.n)
    if isinstance(v, args.FdPair):
        a, b = v.fds
        return f"[{a}, {b}]"
    if isinstance(v, args.Ptr):
        return "NULL" if v.addr == 0 else hex(v.addr)
    return _fmtbase.render_arg_plain(v)


def _hms(us: int) -> tuple[str, str]:
    s, frac = divmod(us, 1_000_000)
    h, rest = divmod(s, 3600)
    m, sec = divmod(rest, 60)
    return f"{h % 24:02d}:{m:02d}:{sec:02d}", f"{frac:06d}"


def render(ev: Event, *, pid_style: str = "bracket", ts_kind: str = "tt") -> str:
    """One event as strace prints it: ``[pid N] `` (pid_style "bracket", as
    with -f on stderr) or ``N `` ("plain", -f -o FILE) when ev.pid is set, a
    timestamp when ev.ts is set (ts_kind t, tt, ttt or r), the call,
    `` = RESULT`` (``-1 ERRNAME (message)`` on error, ``?`` without one), and
    `` <DUR>`` (-T) when ev.dur is set.  Signals, exits and kills print as
    their ``---``/``+++`` lines.

    >>> from shimsim.model import Event, SYSCALL, ERROR
    >>> render(Event(SYSCALL, "f", 1, name="openat", args='AT_FDCWD, "/x", O_RDONLY',
    ...              rec=ERROR, ret=-1, errname="ENOENT", abi="linux-x86_64"))
    'openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory)'
    """
    head = ""
    if ev.pid is not None:
        head = f"[pid {ev.pid:5d}] " if pid_style == "bracket" else f"{ev.pid:<5d} "
    if ev.ts is not None:
        us = round(ev.ts * 1e6)
        if ts_kind == "t":
            head += _hms(us)[0] + " "
        elif ts_kind == "tt":
            h, f = _hms(us)
            head += f"{h}.{f} "
        elif ts_kind == "ttt":
            head += f"{us // 1_000_000}.{us % 1_000_000:06d} "
        elif ts_kind == "r":
            head += f"{us // 1_000_000:6d}.{us % 1_000_000:06d} "
        else:
            raise ValueError(f"ts_kind is t, tt, ttt or r, not {ts_kind!r}")
    if ev.kind == model.SIGNAL:
        return f"{head}--- {ev.name}{' ' + ev.args if ev.args else ''} ---"
    if ev.kind == model.EXIT:
        return f"{head}+++ exited with {ev.ret} +++"
    if ev.kind == model.KILLED:
        return f"{head}+++ killed by {ev.name}{' (core dumped)' if ev.flags & model.F_CORE else ''} +++"
    if ev.kind != model.SYSCALL:
        raise ValueError(f"render_strace prints syscalls, signals, exits and kills, not {model.KIND_NAMES[ev.kind]}")
    line = f"{head}{ev.name}({ev.args}) = "
    if ev.errname is not None:
        line += f"{ev.ret if ev.ret is not None else -1} {ev.errname} ({_strerror(ev)})"
    elif ev.ret is None:
        line += "?"
    elif ev.ret >= 0x1000_0000:
        line += hex(ev.ret)                     # addresses print in hex
    else:
        line += str(ev.ret)
    if ev.dur is not None:
        dus = round(ev.dur * 1e6)
        line += f" <{dus // 1_000_000}.{dus % 1_000_000:06d}>"
    return line


def _strerror(ev: Event) -> str:
    from shimsim import tables

    if ev.abi in tables.list_abis() and ev.errname:
        fam = tables.load_abi(ev.abi).errno
        if ev.errname in fam.members:
            return fam.member(ev.errname).note or ev.errname
    return ev.errname or "Unknown error"


# what strace prints, for the generating strategies
RESTART_RECORDED = True     # ERESTART* errno names: the call is recorded as restarted
SIGINFO = True              # a signal line carries its siginfo
