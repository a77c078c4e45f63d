# SPDX-License-Identifier: MIT
"""QEMU user mode's ``-strace`` log (``qemu-ARCH -strace`` or ``-d strace,unimp -D FILE``).

Grammar (linux-user/strace.c print_syscall / print_syscall_ret)::

    13631 set_robust_list(6136032,24,6136032,1,0,6136080) = -1 errno=38 (Function not implemented)
    13631 readlinkat(AT_FDCWD,"/proc/self/exe",0x00000055007ff6c0,4096) = 27
    13631 brk(NULL) = 0x00000000005da000
    13631 Unknown syscall 293
    Unsupported syscall: 293                           (-d unimp: do_syscall1's default)
    --- SIGSEGV {si_signo=SIGSEGV, si_code=1, si_addr=0x0} ---

The PID is the process id (getpid(), the same for every thread).  The call
and its result are written separately: ``NAME(ARGS)`` before the call runs
and `` = RET`` after it, so a call that blocks while another thread (or the
program's own output, without -D) prints leaves its result on a later line,
and a second call can start on the same line.  The parser splits such lines,
and gives each result line to the oldest open call of that process.  Names
are the guest's: parse with the guest ABI (linux-aarch64 by default).
"Unknown syscall N" (a number strace.c cannot name) becomes an event for
the ABI's call of that number; its result is unknown unless the
``Unsupported syscall: N`` line of -d unimp follows (then ENOSYS).
"""
from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim import model, tables
from shimsim.trace import _fmtbase as fb

FORMAT = "qemu-strace"
DEFAULT_OS = "linux"
DEFAULT_ABI = "linux-aarch64"
EXPECTED = "a qemu -strace line (PID NAME(ARGS) = RET | PID Unknown syscall N)"

_START = lazy_re(r"(?P<pid>\d+) (?:(?P<unknown>Unknown syscall (?P<nr>\d+))|(?P<name>[a-z_][a-z0-9_]*)\()")
_SPLIT = lazy_re(r"(?<=\))(?=\d+ (?:[a-z_][a-z0-9_]*\(|Unknown syscall \d))")
_RESULT = lazy_re(r"^ = (?:(?P<err>-1 errno=(?P<errno>\d+) \((?P<text>[^()]*)\))|(?P<ret>-?(?:0x[0-9a-fA-F]+|\d+)))(?P<tail>.*)$")
_UNSUPPORTED = lazy_re(r"^Unsupported syscall: (?P<nr>-?\d+)$")
_SIGNAL = lazy_re(r"^--- (?P<sig>SIG[A-Z0-9+]+|\d+) (?P<info>\{.*\}) ---$")
_OTHER = lazy_re(r"^(?:qemu: |QEMU: |qemu-\w+: )")


def _may_count(ln: str) -> bool:
    """False when neither sniffing pattern below can match LN (checked without them: start-up)."""
    if ln.startswith("Unsupported syscall: "):
        return True
    k = 0                                          # every other line starts 'PID NAME' (or 'PID Unknown')
    while k < len(ln) and ln[k].isdigit():
        k += 1
    if k == 0 or ln[k:k + 1] != " " or not (ln[k + 1:k + 2].isalpha() or ln[k + 1:k + 2] == "_"):
        return False
    if "Unknown syscall " in ln or "errno=" in ln:
        return True
    # the weak line, PID NAME(ARGS) = RET, has no space in ARGS: the first space after the
    # first '(' is the one of ') = '
    i = ln.find("(")
    j = ln.find(" ", i) if i >= 0 else -1
    return j > 0 and ln[j - 1:j + 3] == ") = "


def sniff(lines: list[str]) -> float:
    body = [ln.rstrip("\r\n") for ln in lines if ln.strip()]
    if not body or not any(_may_count(ln) for ln in body):
        return 0.0
    strong = sum(1 for ln in body if re.match(r"^\d+ (?:Unknown syscall \d+|[a-z_]\w*\(.*\) = -1 errno=\d+ \()", ln)
                 or _UNSUPPORTED.match(ln))
    weak = sum(1 for ln in body if re.match(r"^\d+ [a-z_]\w*\([^ ]*\) = (?:-?\d+|0x[0-9a-f]+)$", ln))
    if not strong and not weak:
        return 0.0
    # strace's own lines put a space after each comma; QEMU's never do
    spaced = sum(1 for ln in body if re.match(r"^\d+ +[a-z_]\w*\([^)]*, ", ln))
    if spaced > (strong + weak) // 2:
        return 0.0
    return min(1.0, 0.55 + 0.45 * (strong + weak) / len(body))


def guess_abi(lines: list[str]) -> str | None:
    return DEFAULT_ABI


class _Parser:
    def __init__(self, path: str, stats: fb.StatsLike, strict: bool) -> None:
        self.path, self.sink = path, fb.Sink(path, stats, strict, "a qemu -strace line")
        self.open: deque[model.Event] = deque()       # calls printed, result not yet
        self.names: dict[int, str] = {}
        self.held: model.Event | None = None    # an "Unknown syscall" waiting for its -d unimp line
        try:
            abi = tables.load_abi(DEFAULT_ABI)
            self.names = {n: s.name for n, s in abi.by_number.items()}
        except Exception:  # noqa: BLE001  (names for numbers are a convenience)
            self.names = {}

    def run(self, lines: Iterable[str]) -> Iterator[model.Event]:
        for lineno, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                self.sink.skip("blank line")
                continue
            for piece in _SPLIT.split(line):
                yield from self.piece(lineno, piece)
        if self.held is not None:
            yield self.held
        while self.open:
            yield self.open.popleft()

    def piece(self, lineno: int, text: str) -> Iterator[model.Event]:
        u = _UNSUPPORTED.match(text)
        held, self.held = self.held, None
        if u:
            self.sink.skip("qemu -d unimp line")
            if held is not None and held.nr == int(u.group("nr")):
                held.rec, held.ret, held.errname, held.flags = model.ERROR, -1, "ENOSYS", 0
                held.extra["unsupported_line"] = lineno
            if held is not None:
                yield held
            return
        if held is not None:
            yield held
        yield from self._piece(lineno, text)

    def _piece(self, lineno: int, text: str) -> Iterator[model.Event]:
        m = _START.match(text)
        if m:
            if m.group("unknown"):
                nr = int(m.group("nr"))
                ev = fb.syscall_event(self.path, lineno, pid=int(m.group("pid")), nr=nr,
                                      name=self.names.get(nr), rec=model.UNKNOWN, flags=model.F_NO_RET,
                                      extra={"qemu_unknown": nr})
                yield from self.flush_open()
                self.held = ev
                return
            rest = text[m.end():]
            call, res = _split_result(rest)
            ev = fb.syscall_event(self.path, lineno, pid=int(m.group("pid")), name=m.group("name"), args=call,
                                  rec=model.UNFINISHED, flags=model.F_NO_RET)
            if res is None:
                self.open.append(ev)
                return
            self.result(ev, res, lineno)
            yield from self.flush_open()
            yield ev
            return
        if text.startswith(" = ") and self.open:
            ev = self.open.popleft()
            self.result(ev, text, lineno)
            ev.extra["result_line"] = lineno
            yield ev
            return
        s = _SIGNAL.match(text)
        if s:
            sig = s.group("sig")
            yield model.Event(kind=model.SIGNAL, file=self.path, line=lineno, name=sig if not sig.isdigit() else None,
                              err=int(sig) if sig.isdigit() else None, args=s.group("info"))
            return
        if _OTHER.match(text):
            self.sink.skip("qemu message")
            return
        # the traced program's own output, when -strace shares its stderr
        self.sink.bad(lineno, EXPECTED, text)

    def flush_open(self) -> Iterator[model.Event]:
        """Calls that never printed a result before a later one of the same log
        completed are left unfinished (exit, exit_group, execve that replaced the image)."""
        keep: deque[model.Event] = deque()
        while self.open:
            ev = self.open.popleft()
            if ev.name in ("exit", "exit_group", "execve", "rt_sigreturn"):
                yield ev
            else:
                keep.append(ev)
        self.open = keep

    def result(self, ev: model.Event, res: str, lineno: int) -> None:
        r = _RESULT.match(res)
        if r is None:
            self.sink.bad(lineno, "' = RET' after a qemu -strace call", res)
            return
        ev.flags = 0
        if r.group("err"):
            ev.rec, ev.ret, ev.err = model.ERROR, -1, int(r.group("errno"))
            ev.extra["errtext"] = r.group("text")
        else:
            ev.rec, ev.ret = model.SUCCESS, fb.parse_int(r.group("ret"))
            if r.group("tail").strip():
                ev.extra["decoded"] = r.group("tail").strip()


def _split_result(rest: str) -> tuple[str, str | None]:
    """ARGS and the ' = RET' text of 'ARGS) = RET', or (ARGS, None) when no result follows yet."""
    depth, quoted, i = 1, False, 0
    while i < len(rest):
        ch = rest[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                tail = rest[i + 1:]
                return rest[:i], (tail if tail.startswith(" = ") else None)
        i += 1
    return rest, None


def parse(lines: Iterable[str], path: str, stats: fb.StatsLike, strict: bool) -> Iterator[model.Event]:
    yield from _Parser(path, stats, strict).run(lines)
