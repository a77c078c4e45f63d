# SPDX-License-Identifier: MIT
"""illumos / Solaris truss(1) output.

Grammar::

    [PID[/LWP][@TID]:\\t | /LWP:\\t][-d SECS\\t][-D SECS\\t][-E SECS\\t]LINE
    NAME(ARGS)<tabs>= VALUE [SECOND]          success (VALUE decimal or 0xHEX)
    NAME(ARGS)<tabs>Err#N ENAME [priv]          error
    execve(ARGS)  argc = N                      successful exec (then argv:/envp: lines with -a/-e)
    NAME(ARGS)<tab>(sleeping...)                blocked; the same call is printed again on return
    lwp_create()\\t(returning as new lwp ...)\\t= 0, fork1() (returning as child ...) = N
    _exit(N)                                    no result: the process is gone
        Received signal #N, SIGNAME[, in CALL()] [caught|ignored|default|held]
          siginfo: ...                           continuation of the previous record
        Incurred fault #N, FLTNAME  %pc = 0x...

A ``(sleeping...)`` line and the later line for the same call (same pid,
lwp, name and arguments) are merged into one event whose line is the first
one, like strace's unfinished/resumed pairs; a sleeper never seen again is
emitted as unfinished at the end.  ``_exit(N)`` gives the syscall event and an
exit event with status N (truss prints nothing else when a process exits).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.trace import _fmtbase as fb

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

FORMAT = "truss-illumos"
DEFAULT_OS = "illumos"
EXPECTED = "an illumos truss line (NAME(ARGS) = N, Err#N ENAME, Received signal #N, ...)"

# truss prints sub-code and library names for several system calls (door_call is
# door(2) sub-code 3, stat64 is fstatat64 with AT_FDCWD, ...).  Printed name ->
# the system call it is made with, for resolving numbers when the printed name is
# not itself in the ABI table.  Facts from the sub-code tables, sysalias[] and
# systable[] of illumos/illumos-gate@28d7ea5f86886a8ea9a5244c6981c2417b9d5384:
# usr/src/cmd/truss/systable.c (systable names "_exit", "sysinfo", "portfs" and
# "sigpendsys" are SYS_exit, SYS_systeminfo, SYS_port and SYS_sigpending).
_SUBCODES = {
    "exit": "_exit", "systeminfo": "sysinfo", "port": "portfs", "sigpending": "sigpendsys sigfillset",
    "faccessat": "access", "fchmodat": "chmod fchmod", "fchownat": "chown lchown fchown",
    "mkdirat": "mkdir", "mknodat": "mknod", "renameat": "rename", "linkat": "link",
    "unlinkat": "unlink rmdir", "symlinkat": "symlink", "readlinkat": "readlink",
    "fstatat": "stat lstat fstat", "fstatat64": "stat64 lstat64 fstat64", "openat": "openattrdirat",
    "msgsys": "msgget msgctl msgctl64 msgrcv msgsnd msgids msgsnap msgop",
    "semsys": "semctl semctl64 semget semids semop semtimedop",
    "shmsys": "shmat shmctl shmctl64 shmdt shmget shmids shmop",
    "pgrpsys": "getpgrp setpgrp getsid setsid getpgid setpgid",
    "context": "getcontext setcontext getustack setustack",
    "hrtsys": "hrtcntl hrtalarm hrtsleep hrtcancel",
    "kaio": "aioread aiowrite aiowait aiocancel aionotify",
    "door": "door_create door_revoke door_info door_call door_return door_cred door_bind door_unbind "
            "door_unref door_ucred door_getparam door_setparam",
    "pset": "pset_create pset_destroy pset_assign pset_info pset_bind pset_getloadavg pset_list "
            "pset_setattr pset_getattr pset_assign_forced",
    "tasksys": "settaskid gettaskid getprojid",
    "privsys": "setppriv getppriv getprivimplinfo setpflags getpflags issetugid",
    "exacctsys": "getacct putacct wracct",
    "lwp_park": "lwp_unpark lwp_unpark_all lwp_unpark_cancel lwp_set_park",
    "lwp_rwlock_sys": "lwp_rwlock_rdlock lwp_rwlock_wrlock lwp_rwlock_tryrdlock lwp_rwlock_trywrlock "
                      "lwp_rwlock_unlock",
    "sendfilev": "sendfilev64",
    "lgrpsys": "meminfo _lgrpsys lgrp_version lgrp_affinity_get lgrp_affinity_set lgrp_latency",
    "rusagesys": "getrusage getrusage_chld getrusage_lwp getvmusage",
    "ucredsys": "ucred_get getpeerucred",
    "zone": "zone_create zone_destroy zone_getattr zone_setattr zone_enter getzoneid zone_list "
            "zone_shutdown zone_lookup zone_boot zone_version zone_add_datalink zone_remove_datalink "
            "zone_check_datalink zone_list_datalink",
    "labelsys": "is_system_labeled tnrh tnrhtp tnmlp getlabel fgetlabel",
    "rctlsys": "getrctl setrctl rctlsys_lst rctlsys_ctl setprojrctl",
    "forksys": "fork fork1 forkall forkx forkallx vforkx",
    "sidsys": "allocids idmap_reg idmap_unreg",
    "utimesys": "futimens utimensat",
    "brk": "sbrk", "getpid": "getppid", "getuid": "geteuid", "getgid": "getegid",
    "utssys": "ustat fusers", "execve": "exec execl execv execle execlp execvp",
    "lwp_cond_wait": "lwp_cond_timedwait", "lwp_sema_timedwait": "lwp_sema_wait",
    "lwp_mutex_timedlock": "lwp_mutex_lock", "open": "creat", "open64": "creat64",
    "auditsys": "audit", "pollsys": "poll", "umount2": "umount", "waitid": "wait",
}
ALIASES: dict[str, str] = {name: call for call, names in _SUBCODES.items() for name in names.split()}

NO_RETURN = frozenset({"_exit", "exit", "lwp_exit", "setcontext", "context", "rexit", "exece", "execve"})
EXIT_CALLS = frozenset({"_exit", "exit", "rexit"})

_PREFIX = lazy_re(r"^(?:(?P<pid>\d+)(?:/(?P<lwp>\d+))?|/(?P<lwp2>\d+))(?:@(?P<utid>\d+))?:\s+")
_TIMES = lazy_re(r"^(?:\d+\.\d{4}\s+){1,3}")
_CALL = lazy_re(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\((?P<rest>.*)$")
_NOTE = lazy_re(r"\)\s+\((?P<note>returning as (?:child|new lwp) \.\.\.)\)(?=\s+(?:=|Err#))")
_RET_OK = lazy_re(r"^(?P<args>.*)\)\s+"
                     r"=\s+(?P<ret>-?(?:0x[0-9A-Fa-f]+|\d+))(?:\s+\[(?P<r2>-?(?:0x[0-9A-Fa-f]+|\d+))\])?\s*$")
_RET_ERR = lazy_re(r"^(?P<args>.*)\)\s+"
                      r"Err#(?P<err>\d+)(?:\s+(?P<ename>E[A-Z0-9]+))?(?:\s+\[(?P<priv>[^\]]*)\])?\s*$")
_ARGC = lazy_re(r"^(?P<args>.*)\)\s+argc = (?P<argc>\d+)\s*$")
_SLEEP = lazy_re(r"^(?P<args>.*)\)\s+\(sleeping\.\.\.\)\s*$")
_NO_RET = lazy_re(r"^(?P<args>.*)\)\s*$")
_SIGNAL = lazy_re(r"^Received signal #(?P<num>\d+), (?P<name>SIG\w+)(?:, in (?P<call>\w+)\(\))?"
                     r"(?:\s+\[(?P<disp>\w+)\])?\s*$")
_FAULT = lazy_re(r"^Incurred fault #(?P<num>\d+), (?P<name>FLT\w+)\s*(?P<rest>.*)$")
_CONT = lazy_re(r"^(?:siginfo:|argv:|envp:|psargs:|\*\*\*|[a-z_]+=\S*(?:\s+[a-z_]+=\S*)*\s*$)")
_BASE = lazy_re(r"^Base time stamp:")

_STRONG = lazy_re(r"(?:\)\s+Err#\d+(?: E[A-Z0-9]+)?\s*$|\)\s+argc = \d+$|\(sleeping\.\.\.\)$|^Received signal #\d+"
                     r"|^Incurred fault #|\(returning as (?:new lwp|child) \.\.\.\)|^_exit\(\d+\)$|\t= -?\w+(?: \[\w+\])?$"
                     r"|^Base time stamp:|^sys totals:|^(?:faults|signals) -{5,}$"
                     r"|^[A-Za-z_][\w]*\s+\d*\.\d{3}\s+\d+(?:\s+\d+)?$)")      # a truss -c row
_WEAK = lazy_re(r"\)\s+= -?(?:0x[0-9A-F]+|\d+)(?: \[-?\w+\])?$")


def sniff(lines: list[str]) -> float:
    """Err#N ENAME, ``argc = N``, tab-padded ``= N``, the signal/sleeping
    records and the LWP-only ``/N:`` prefix are illumos truss only; a bare
    ``= N`` also fits strace (weak)."""
    strong = weak = total = 0
    for raw in lines[:fb.SNIFF_LINES]:
        s = raw.rstrip("\r\n").strip()
        if not s:
            continue
        total += 1
        if not _may_be_strong(s):
            # _WEAK's match starts at a ')', which the prefix and times never hold: the line
            # answers as its body does, without those patterns
            if "= " in s and _WEAK.search(s):
                weak += 1
            continue
        pm = _PREFIX.match(s)
        body = s[pm.end():] if pm else s
        body = _TIMES.sub("", body, count=1)
        if _STRONG.search(body) or (pm is not None and pm.group("lwp2") and _CALL.match(body)):
            # '/LWP:' without a pid is illumos truss only (truss -f of a threaded process)
            strong += 1
        elif _WEAK.search(body):
            weak += 1
    return fb.ratio_score(strong, weak, total)


_STRONG_TEXT = ("Err#", "argc = ", "(sleeping...)", "Received signal #", "Incurred fault #", "(returning as ",
                "_exit(", "\t=", "Base time stamp:", "sys totals:", "faults -", "signals -")


def _may_be_strong(s: str) -> bool:
    """False when S cannot count as strong (checked without the patterns, so that sniffing another
    format's trace compiles few here: start-up): each _STRONG line holds one of _STRONG_TEXT or is
    a truss -c row (no '(', a digit last); the '/LWP:' prefix starts with '/'.  The pid/LWP prefix
    and the times hold none of these."""
    return s.startswith("/") or any(t in s for t in _STRONG_TEXT) or ("(" not in s and s[-1:].isdigit())


def guess_abi(lines: list[str]) -> str | None:
    """truss traces native illumos/Solaris processes."""
    return "illumos-amd64"


class _Parser:
    def __init__(self, path: str, stats: fb.StatsLike, strict: bool) -> None:
        self.path = path
        self.sink = fb.Sink(path, stats, strict, "illumos truss")
        self.hold = fb.Holder()
        self.sleeping: dict[tuple, model.Event] = {}
        self.summary = fb.TrussSummary()

    def run(self, lines: Iterable[str]) -> Iterator[model.Event]:
        for lineno, raw in enumerate(lines, 1):
            yield from self.line(lineno, raw)
        yield from self.hold.flush()
        for ev in sorted(self.sleeping.values(), key=lambda e: e.line):
            yield ev
        self.sleeping.clear()
        self.summary.finish(self.sink.stats)

    def line(self, lineno: int, raw: str) -> Iterator[model.Event]:
        text = raw.rstrip("\r\n")
        s = text.strip()
        if not s:
            self.sink.skip("blank")
            return
        if fb.too_long(s):
            self.sink.bad(lineno, EXPECTED, s[:80])
            return
        if self.summary.feed(s):
            self.sink.skip("summary table")
            return
        indented = text[:1] in (" ", "\t")
        pid = lwp = None
        m = _PREFIX.match(s)
        if m:
            pid = int(m.group("pid")) if m.group("pid") else None
            lw = m.group("lwp") or m.group("lwp2")
            lwp = int(lw) if lw else None
            s = s[m.end():]
            # truss prints continuation records as the prefix, its tab(s), then spaces
            after_tab = m.group(0).rsplit("\t", 1)
            indented = indented or (len(after_tab) == 2 and len(after_tab[1]) >= 2)
        times: list[float] = []
        if (t := _TIMES.match(s)) is not None:
            times = [float(x) for x in t.group(0).split()]
            s = s[t.end():]
        if (cm := _CALL.match(s)) is not None:
            ev = self.call(lineno, pid, lwp, cm.group("name"), cm.group("rest"))
            if ev is not None:
                self.stamp(ev, times)
                yield from self.emit(ev)
                return
        if (sm := _SIGNAL.match(s)) is not None:
            ev = model.Event(kind=model.SIGNAL, file=self.path, line=lineno, pid=pid, tid=lwp,
                             name=sm.group("name"), err=int(sm.group("num")))
            if sm.group("call"):
                ev.extra["in"] = sm.group("call")
            if sm.group("disp"):
                ev.extra["disposition"] = sm.group("disp")
            self.stamp(ev, times)
            yield from self.hold.push(ev)
            return
        if _FAULT.match(s):
            if self.hold.ev is not None:
                self.hold.ev.extra.setdefault("faults", []).append(s)
            else:
                self.sink.skip("truss fault notice")
            return
        if _BASE.match(s):
            self.sink.skip("truss base time stamp")
            return
        if self.hold.ev is not None and (indented or _CONT.match(s)):
            self.hold.ev.extra.setdefault("more", []).append(s)
            return
        self.sink.bad(lineno, EXPECTED, text.strip())

    @staticmethod
    def stamp(ev: model.Event, times: list[float]) -> None:
        """-d, -D and -E columns print in that order; the first is the time
        stamp, a third one is the time spent in the call."""
        if not times:
            return
        ev.ts, ev.flags = times[0], ev.flags | model.F_HAS_TS
        if len(times) == 3:
            ev.dur, ev.flags = times[2], ev.flags | model.F_HAS_DUR
        if len(times) > 1:
            ev.extra["times"] = times

    def call(self, lineno: int, pid: int | None, lwp: int | None, name: str, rest: str) -> model.Event | None:
        ev = fb.syscall_event(self.path, lineno, pid=pid, tid=lwp, name=name)
        note = None
        if "(returning as " in rest and (n := _NOTE.search(rest)) is not None:
            note = n.group("note")
            rest = rest[:n.start()] + ")" + rest[n.end():]
        if (r := _RET_OK.match(rest)) is not None:
            ev.args, ev.ret, ev.rec = r.group("args"), fb.parse_int(r.group("ret")), model.SUCCESS
            if r.group("r2") is not None:
                ev.extra["ret2"] = fb.parse_int(r.group("r2"))
        elif (r := _RET_ERR.match(rest)) is not None:
            ev.args, ev.err = r.group("args"), int(r.group("err"))
            ev.errname = r.group("ename")
            ev.rec = model.RESTARTED if ev.errname == "ERESTART" else model.ERROR
            ev.ret = -1
            if r.group("priv"):
                ev.extra["priv"] = r.group("priv")
        elif (r := _ARGC.match(rest)) is not None:
            ev.args, ev.ret, ev.rec = r.group("args"), 0, model.SUCCESS
            ev.extra["argc"] = int(r.group("argc"))
        elif (r := _SLEEP.match(rest)) is not None:
            ev.args, ev.rec = r.group("args"), model.UNFINISHED
            ev.extra["sleeping"] = True
        elif name in NO_RETURN and (r := _NO_RET.match(rest)) is not None:
            ev.args, ev.rec = r.group("args"), model.UNKNOWN
            ev.extra["no_return"] = True
        else:
            return None
        if note is not None:
            ev.extra["returning_as"] = "child" if "child" in note else "new lwp"
        return ev

    def emit(self, ev: model.Event) -> Iterator[model.Event]:
        key = (ev.pid, ev.tid, ev.name, ev.args)
        if ev.rec == model.UNFINISHED:
            old = self.sleeping.pop(key, None)
            if old is not None:          # the earlier sleeper never came back
                yield from self.hold.push(old)
            self.sleeping[key] = ev
            return
        first = self.sleeping.pop(key, None)
        if first is not None:
            ev.extra["resumed_line"] = ev.line
            ev.line = first.line
            ev.flags |= model.F_MERGED
            if first.ts is not None:             # the call began when it was seen sleeping
                if ev.ts is not None:
                    ev.extra["resumed_ts"] = ev.ts
                ev.ts = first.ts
        yield from self.hold.push(ev)
        if ev.name in EXIT_CALLS and ev.rec == model.UNKNOWN:
            status = fb.exit_status(ev.args)
            if status is not None:
                ex = model.Event(kind=model.EXIT, file=ev.file, line=ev.line, pid=ev.pid, tid=ev.tid,
                                 ret=status, ts=ev.ts, flags=ev.flags & model.F_HAS_TS)
                ex.extra["derived"] = f"{ev.name}({ev.args})"
                yield from self.hold.push(ex)


def parse(lines: Iterable[str], path: str, stats: fb.StatsLike, strict: bool) -> Iterator[model.Event]:
    """Yield one event per syscall (sleeping pairs merged), signal and exit."""
    yield from _Parser(path, stats, strict).run(lines)


def render(ev: model.Event) -> str:
    """Print a syscall or signal event the way truss does (round-trip tests)."""
    prefix = ""
    if ev.pid is not None:
        prefix = f"{ev.pid}"
        if ev.tid is not None:
            prefix += f"/{ev.tid}"
        prefix += ":\t"
    elif ev.tid is not None:
        prefix = f"/{ev.tid}:\t"
    if ev.ts is not None:
        prefix += f"{ev.ts:2.4f}\t"
    if ev.kind == model.SIGNAL:
        where = f", in {ev.extra['in']}()" if "in" in ev.extra else ""
        disp = f" [{ev.extra['disposition']}]" if "disposition" in ev.extra else ""
        return f"{prefix}    Received signal #{ev.err}, {ev.name}{where}{disp}"
    call = f"{ev.name}({ev.args})"
    pad = "\t" * max(1, 6 - len(call) // 8) if len(call) < 48 else " "
    if ev.rec in (model.ERROR, model.RESTARTED):
        ename = f" {ev.errname}" if ev.errname else ""
        return f"{prefix}{call}{pad}Err#{ev.err}{ename}"
    if ev.rec == model.UNKNOWN:
        return f"{prefix}{call}"
    if "argc" in ev.extra:
        return f"{prefix}{call}  argc = {ev.extra['argc']}"
    r2 = f" [{ev.extra['ret2']}]" if "ret2" in ev.extra else ""
    return f"{prefix}{call}{pad}= {ev.ret}{r2}"


ARG_SEP = ", "


def render_arg(v: Any, fd_paths: bool = False) -> str:
    """One argument value (shimsim.trace.args) as illumos truss prints it."""
    return fb.render_arg_plain(v, null="0x00000000", ptr=lambda a: f"0x{a:08X}")


# what illumos truss prints, for the generating strategies (shimsim.strategies)
TEXT_OPTIONS = [(), ("-d",)]
RESTART_RECORDED = True     # Err#91 ERESTART: the call is recorded as restarted
EXIT_FROM_CALL = True       # no exit line: the parser derives the exit from _exit(N)


def generated(ev: model.Event, *, times: bool, dur_us: int | None, errmsg: Any) -> None:
    """-d prints times with four decimals."""
    if ev.ts is not None:
        ev.ts = round(ev.ts, 4)
