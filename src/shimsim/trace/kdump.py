# SPDX-License-Identifier: MIT
"""ktrace(1) dumps printed by kdump(1) on FreeBSD, OpenBSD, NetBSD and DragonFly.

Grammar::

    PID[ LWP | :LWP | /TID] COMM [TIMESTAMP...] TYPE  DATA
      (NetBSD and FreeBSD -H: "pid lwp"; DragonFly "pid:lwp"; OpenBSD -H "pid/tid";
       -T/-E/-R timestamps, NetBSD may print up to three; MISC/SAU/MIB/UNKNOWN(n) records too)
      CALL  name(args)            FreeBSD decodes flags as 0x3<PROT_READ|PROT_WRITE>; no args: "CALL  kqueue"
      RET   name 4 | 34365181952/0x800531000 | 0x1f (-n) | -1 errno 2 No such file or directory
            | JUSTRETURN | RESTART
      NAMI  "path"      SCTL  "vm.overcommit"     EMUL  "netbsd"      STRU  struct stat { ... }
      GIO   fd 1 wrote 4 bytes        followed by indented data lines: vis text ("BSD / ")
                                      or hex dump (0x0000 0400 ... |....|)
      ARGS / ENV                      followed by indented  [0] = "..."  lines (OpenBSD)
      PSIG  SIGALRM caught handler=0x... mask=0x... code=...
      CSW, USER, CAP, PFLT, PRET, PLDG, ...   kept as extra details

A CALL and the RET of the same pid (and lwp) become one syscall event: the
line is the CALL's, arguments come from the CALL, the result from the RET,
and the records in between (NAMI, GIO, STRU, ...) go to ``extra``.  A RET
without its CALL (the trace began inside the call) still makes an event;
a CALL whose RET never comes is emitted as unknown.  ``exit(N)`` never
returns: it gives the syscall event and an exit event with status N.  PSIG
records are signal events.  The command name (COMM) changes at execve; the
event keeps both.  After an ``EMUL "linux"`` record a process's events carry
the Linux ABI.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.trace import _fmtbase as fb
from shimsim.trace.truss_freebsd import ALIASES as fb_aliases

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

FORMAT = "kdump"
DEFAULT_OS = "freebsd"
EXPECTED = "a kdump record (PID [LWP] COMM TYPE DATA, e.g. '  755 uul  CALL  chdir(0x600234)')"

_TYPES = (r"CALL|RET|NAMI|GIO|PSIG|CSW|USER|STRU|SCTL|CAP|PFLT|PRET|ARGS|ENV|EMUL|MIB|PLDG|PINS|XPND|SAUP"
          r"|EXEC_ARG|EXEC_ENV|EXEC_FD|ARG|FD|SIGN|MISC|SAU|MMSG|MOOL|UNKNOWN\(\d+\)")
_REC = lazy_re(r"^\s*(?P<pid>\d+)(?:(?P<sep>[:/])(?P<lwp>\d+)|\s+(?P<lwp2>\d+)(?=\s+\S))?\s+"
                  r"(?P<comm>\S(?:.*?\S)??)\s+(?:(?P<ts>-?\d+\.\d+)\s+(?:-?\d+\.\d+\s+){0,2})?(?P<type>" + _TYPES + r")(?:\s+(?P<data>.*?))?\s*$")
_CALL = lazy_re(r"^(?P<name>[A-Za-z_#\[][\w#\[\].]*)(?:\((?P<args>.*)\))?$")
_RET = lazy_re(r"^(?P<name>\S+)\s+(?P<val>.*)$")
_RET_ERR = lazy_re(r"^-1 (?:unknown )?errno (?P<err>-?\d+)(?:\s+(?P<msg>.*))?$")
_RET_OK = lazy_re(r"^(?P<ret>-?(?:0x[0-9a-fA-F]+|\d+))(?:/(?P<hex>0x[0-9a-fA-F]+))?(?:,\s*(?P<r2>-?(?:0x[0-9a-fA-F]+|\d+))(?:/0x[0-9a-fA-F]+)?)?$")
_NUMNAME = lazy_re(r"^\[(\d+)\]$")
_GIO = lazy_re(r"^fd (?P<fd>-?\d+) (?P<dir>read|wrote) (?P<n>\d+) bytes?$")
_PSIG = lazy_re(r"^(?P<sig>SIG[A-Z0-9]+|\d+)\s*(?P<rest>.*)$")
_ARGITEM = lazy_re(r'^\[(?P<i>\d+)\]\s*=\s*(?P<v>.*)$')

# Printed name -> table name where FreeBSD's table renamed a call (see truss_freebsd);
# consulted only for names the guest table lacks, so OpenBSD/NetBSD "exit" is unaffected.
ALIASES: dict[str, str] = dict(fb_aliases)

# EMUL records name the ABI a process runs under after an exec; native ones leave the file's ABI.
EMUL_ABI = {"linux": "linux-x86_64", "linux32": "linux-i386", "linux_i386": "linux-i386"}

EXIT_CALLS = frozenset({"exit", "_exit", "sys_exit", "exit_group", "extexit"})
THREAD_END = frozenset({"thr_exit", "__threxit", "_lwp_exit", "lwp_exit", "exit_thread"})
_LIST_TYPES = {"NAMI": "nami", "STRU": "stru", "SCTL": "sysctl", "CSW": "csw", "USER": "user", "CAP": "cap",
               "MISC": "user", "SAU": "saupcall", "MMSG": "mmsg", "MOOL": "mool",
               "PFLT": "pflt", "PRET": "pret", "MIB": "mib", "PLDG": "pledge", "PINS": "pins", "XPND": "xpnd",
               "SAUP": "saupcall", "EMUL": "emul_records", "EXEC_FD": "exec_fd", "FD": "exec_fd", "SIGN": "sign"}
_ARG_TYPES = {"ARGS": "argv", "ARG": "argv", "EXEC_ARG": "argv", "ENV": "envv", "EXEC_ENV": "envv"}

_OPENBSD_NAMES = frozenset({"kbind", "pledge", "__thrsleep", "__thrwakeup", "msyscall", "__set_tcb", "__get_tcb",
                            "getentropy", "unveil", "__realpath", "__tfork", "sendsyslog", "mquery", "__pledge_open",
                            "mimmutable", "pinsyscalls", "__threxit"})
_NETBSD_NAMES = frozenset({"__fork14", "___lwp_park60", "__sigaction_sigtramp", "_lwp_self", "__stat50", "__fstat50",
                           "__lstat50", "__gettimeofday50", "__clock_gettime50", "__sigprocmask14", "_lwp_exit",
                           "__getdents30", "__select50", "__nanosleep50", "__kevent50", "_lwp_create"})
_DFLY_NAMES = frozenset({"umtx_wakeup", "umtx_sleep", "lwp_gettid", "extexit", "set_tls_area", "get_tls_area",
                         "extpread", "extpwrite", "sys_checkpoint", "usched_set", "lwp_rtprio", "varsym_set"})
_FREEBSD_NAMES = frozenset({"_umtx_op", "thr_self", "thr_new", "sigfastblock", "cap_enter", "cap_rights_limit",
                            "__sysctlbyname", "fstatat", "getdirentries", "thr_exit", "__realpathat", "freebsd11_fstat",
                            "freebsd32_mmap", "sysarch"})
_LINUX32_NAMES = frozenset({"mmap2", "stat64", "fstat64", "lstat64", "_llseek", "set_thread_area", "fcntl64",
                            "socketcall", "fstatat64", "ugetrlimit"})


def sniff(lines: list[str]) -> float:
    """kdump records carry a TYPE keyword after pid and command; only kdump prints them."""
    strong = total = 0
    for raw in lines[:fb.SNIFF_LINES]:
        if not raw.strip():
            continue
        total += 1
        # a record starts with the pid and names its type: without both, no pattern is needed
        # (nor compiled: start-up when another format's trace is sniffed)
        m = (_REC.match(raw.rstrip("\r\n"))
             if raw.lstrip()[:1].isdigit() and any(t in raw for t in _SNIFF_TYPES) else None)
        if m and m.group("type") in _SNIFF_TYPES:
            strong += 1
        elif raw[:1] in (" ", "\t") and (raw.strip().startswith('"') or raw.strip().startswith("0x")
                                         or (raw.strip().startswith("[") and _ARGITEM.match(raw.strip()))):
            total -= 1        # GIO/ARGS data lines belong to the record before them
    return fb.ratio_score(strong, 0, total)


_SNIFF_TYPES = ("CALL", "RET", "NAMI", "GIO", "PSIG", "EMUL", "STRU", "SCTL", "ARGS", "CSW")


_base = fb.guest_name


def guess_os(lines: Iterable[str]) -> str:
    """freebsd, openbsd, netbsd, dragonfly or linux (a Linux binary under
    emulation), voted from EMUL records, the pid/lwp column style, the record
    types and the syscall names each system has alone."""
    votes = _votes(lines)
    best = max(votes, key=lambda k: votes[k])
    return best if votes[best] else DEFAULT_OS


# A guess is sure when the winner has this many votes and twice the runner-up's (one record
# type only one system prints, such as OpenBSD's "struct stat {", is 3 votes).
SURE_VOTES = 3

_OS_TITLE = {"freebsd": "FreeBSD", "openbsd": "OpenBSD", "netbsd": "NetBSD", "dragonfly": "DragonFly BSD",
             "linux": "Linux (under emulation)"}


def guess_note(lines: list[str]) -> str | None:
    """What the reader should know about the guessed OS: that it is uncertain,
    or that it has no table of its own (DragonFly); None for a sure guess."""
    votes = _votes(lines)
    ranked = sorted(votes.values(), reverse=True)
    best = max(votes, key=lambda k: votes[k]) if ranked[0] else DEFAULT_OS
    abi = guess_abi(lines) or "freebsd-amd64"
    if best == "dragonfly":
        return (f"kdump recorded on DragonFly BSD ({votes['dragonfly']} votes): shimsim has no DragonFly table, so "
                f"it is read with the {abi} table, whose numbers and names differ in places (give --abi to choose)")
    if ranked[0] < SURE_VOTES or ranked[0] < 2 * ranked[1]:
        why = "nothing in it tells the BSDs apart" if not ranked[0] else \
            f"{ranked[0]} votes for {_OS_TITLE[best]}, {ranked[1]} for the next"
        return f"kdump OS guess uncertain ({why}): read as {abi}; give --abi to settle it"
    return None


def _votes(lines: Iterable[str]) -> dict[str, int]:
    votes = {"freebsd": 0, "openbsd": 0, "netbsd": 0, "dragonfly": 0, "linux": 0}
    for n, raw in enumerate(lines):
        if n >= 2000:
            break
        m = _REC.match(raw.rstrip("\r\n"))
        if not m:
            continue
        typ, data = m.group("type"), (m.group("data") or "")
        if typ == "EMUL":
            emul = data.strip('"')
            if emul.startswith("linux"):
                votes["linux"] += 10
            elif emul in ("netbsd", "openbsd", "freebsd"):
                votes[emul] += 3
        if m.group("sep") == ":":
            votes["dragonfly"] += 1
        elif m.group("sep") == "/":
            votes["openbsd"] += 1
        elif m.group("lwp2"):
            votes["netbsd" if int(m.group("lwp2")) < 100000 else "freebsd"] += 1
        if typ in ("ARGS", "PLDG", "PINS") or (typ == "STRU" and data.startswith("struct stat { ")):
            votes["openbsd"] += 3
        elif typ in ("SCTL", "CAP", "PFLT", "PRET"):
            votes["freebsd"] += 2
        elif typ in ("MIB", "SAUP", "EXEC_ARG", "EXEC_ENV"):
            votes["netbsd"] += 2
        if typ in ("CALL", "RET"):
            cm = (_CALL.match(data) or _RET.match(data)) if data else None
            name = cm.group("name") if cm else ""     # a record neither form matches votes for nothing
            if name.startswith("linux_"):
                votes["linux"] += 3
            elif name in _OPENBSD_NAMES:
                votes["openbsd"] += 2
            elif name in _NETBSD_NAMES or name.startswith("netbsd32_") or name.startswith("compat_"):
                votes["netbsd"] += 2
            elif name in _DFLY_NAMES:
                votes["dragonfly"] += 2
            elif name in _FREEBSD_NAMES or name.startswith("freebsd"):
                votes["freebsd"] += 1
    return votes


def guess_abi(lines: list[str]) -> str | None:
    """The guest ABI; None for DragonFly, which has no table of its own."""
    osname = guess_os(lines)
    if osname == "linux":
        for raw in lines[:2000]:
            m = _REC.match(raw.rstrip("\r\n"))
            if m and m.group("type") == "CALL" and m.group("data"):
                c = _CALL.match(m.group("data"))
                if c and _base(c.group("name")) in _LINUX32_NAMES:
                    return "linux-i386"
        return "linux-x86_64"
    return {"freebsd": "freebsd-amd64", "openbsd": "openbsd-amd64", "netbsd": "netbsd-amd64"}.get(osname)


def _unquote(s: str) -> str:
    s = s.strip()
    return s[1:-1] if len(s) >= 2 and s[0] == '"' and s[-1] == '"' else s


class _Parser:
    def __init__(self, path: str, stats: fb.StatsLike, strict: bool) -> None:
        self.path = path
        self.sink = fb.Sink(path, stats, strict, "kdump")
        self.pending: dict[tuple[int, int | None], model.Event] = {}
        self.orphans: dict[tuple[int, int | None], dict[str, Any]] = {}
        self.emul: dict[tuple[int, int | None], str] = {}
        self.call_ts: dict[tuple[int, int | None], str | None] = {}   # exact CALL time text, for durations
        self.block: list[str] | None = None      # where indented data lines go
        self.block_kind = ""

    def run(self, lines: Iterable[str]) -> Iterator[model.Event]:
        for lineno, raw in enumerate(lines, 1):
            yield from self.line(lineno, raw.rstrip("\r\n"))
        for ev in sorted(self.pending.values(), key=lambda e: e.line):
            yield self.unreturned(ev)
        self.pending.clear()
        for recs in self.orphans.values():      # NAMI/STRU/... that no later event of the process took
            self.sink.stats.skip("kdump records after the last call of a process",
                                 sum(len(v) for v in recs.values() if isinstance(v, list)))
        self.orphans.clear()

    def line(self, lineno: int, text: str) -> Iterator[model.Event]:
        if fb.too_long(text):
            self.block = None
            self.sink.bad(lineno, EXPECTED, text[:80])
            return
        s = text.strip()
        m = _REC.match(text) if s else None
        if m is None:
            if self.block is not None and (not s or text[:1] in (" ", "\t")):
                self.data_line(s)
                return
            self.block = None
            if not s:
                self.sink.skip("blank")
            else:
                self.sink.bad(lineno, EXPECTED, s)
            return
        self.block = None
        pid = int(m.group("pid"))
        lw = m.group("lwp") or m.group("lwp2")
        key = (pid, int(lw) if lw is not None else None)
        typ, data, comm = m.group("type"), m.group("data") or "", m.group("comm")
        ts = float(m.group("ts")) if m.group("ts") else None
        if typ == "CALL":
            self.call_ts[key] = m.group("ts")
            yield from self.call(lineno, key, comm, ts, data)
        elif typ == "RET":
            yield from self.ret(lineno, key, comm, m.group("ts"), data)
        elif typ == "PSIG":
            yield from self.psig(lineno, key, comm, ts, data)
        else:
            if not self.record(key, typ, data):
                self.sink.bad(lineno, EXPECTED, s)

    # -- records -----------------------------------------------------------
    def new_event(self, lineno: int, key: tuple[int, int | None], comm: str, ts: float | None,
                  name: str) -> model.Event:
        ev = fb.syscall_event(self.path, lineno, pid=key[0], tid=key[1], name=_base(name))
        if (num := _NUMNAME.match(name)) is not None:      # kdump -n, or a number it has no name for
            ev.nr = int(num.group(1))
        if name != ev.name:
            ev.extra["raw_name"] = name
        ev.extra["comm"] = comm
        if ts is not None:
            ev.ts, ev.flags = ts, model.F_HAS_TS
        if key in self.emul:
            ev.extra["emul"] = self.emul[key]
            ev.abi = EMUL_ABI.get(self.emul[key])
        for k, v in self.orphans.pop(key, {}).items():
            ev.extra[k] = v
        return ev

    def call(self, lineno: int, key: tuple[int, int | None], comm: str, ts: float | None,
             data: str) -> Iterator[model.Event]:
        c = _CALL.match(data)
        if c is None:
            self.sink.bad(lineno, "a CALL record 'name(args)'", data)
            return
        if key in self.pending:
            yield self.unreturned(self.pending.pop(key))
        ev = self.new_event(lineno, key, comm, ts, c.group("name"))
        ev.args = c.group("args") or ""
        dec = fb.decode_flag_args(ev.args)
        if dec:
            ev.extra["decoded"] = dec
        if ev.name in EXIT_CALLS or ev.name in THREAD_END:
            yield from self.no_return(ev)
            return
        self.pending[key] = ev

    def no_return(self, ev: model.Event) -> Iterator[model.Event]:
        ev.rec = model.UNKNOWN
        ev.extra["no_return"] = True
        yield ev
        if ev.name in EXIT_CALLS and (status := fb.exit_status(ev.args)) is not None:
            ex = model.Event(kind=model.EXIT, file=ev.file, line=ev.line, pid=ev.pid, tid=ev.tid, ret=status & 0xFF,
                             ts=ev.ts, flags=ev.flags & model.F_HAS_TS)
            ex.extra["derived"] = f"{ev.name}({ev.args})"
            yield ex

    @staticmethod
    def unreturned(ev: model.Event) -> model.Event:
        ev.rec = model.UNKNOWN
        ev.extra["no_ret"] = True
        return ev

    def ret(self, lineno: int, key: tuple[int, int | None], comm: str, ts_text: str | None,
            data: str) -> Iterator[model.Event]:
        r = _RET.match(data)
        if r is None:
            self.sink.bad(lineno, "a RET record 'name value'", data)
            return
        name, val = r.group("name"), r.group("val").strip()
        ts = float(ts_text) if ts_text else None
        ev = self.pending.pop(key, None)
        if ev is not None and ev.name != _base(name):
            yield self.unreturned(ev)
            ev = None
        if ev is None:
            ev = self.new_event(lineno, key, comm, ts, name)
            ev.extra["no_call"] = True
        else:
            ev.flags |= model.F_MERGED
            ev.extra["ret_line"] = lineno
            if comm != ev.extra.get("comm"):
                ev.extra["new_comm"] = comm
            start = self.call_ts.get(key)
            if ts_text and start:
                from decimal import Decimal   # exact differences; imported when a kdump has times

                ev.dur = float(max(Decimal(0), Decimal(ts_text) - Decimal(start)))
                ev.flags |= model.F_HAS_DUR
        if not self.result(ev, val):
            self.sink.bad(lineno, "a RET value (N, N/0xN, -1 errno N, JUSTRETURN, RESTART)", val)
            ev.rec = model.UNKNOWN
        yield ev

    @staticmethod
    def result(ev: model.Event, val: str) -> bool:
        if val == "JUSTRETURN":
            ev.rec = model.SUCCESS
            ev.extra["justreturn"] = True
        elif val == "RESTART":
            ev.rec, ev.errname = model.RESTARTED, "ERESTART"
        elif (e := _RET_ERR.match(val)) is not None:
            ev.rec, ev.ret, ev.err = model.ERROR, -1, int(e.group("err"))
            if e.group("msg"):
                ev.extra["errmsg"] = e.group("msg")
        elif (o := _RET_OK.match(val)) is not None:
            ev.rec, ev.ret = model.SUCCESS, fb.parse_int(o.group("ret"))
            if o.group("r2") is not None:
                ev.extra["ret2"] = fb.parse_int(o.group("r2"))
        else:
            return False
        return True

    def psig(self, lineno: int, key: tuple[int, int | None], comm: str, ts: float | None,
             data: str) -> Iterator[model.Event]:
        p = _PSIG.match(data)
        if p is None:
            self.sink.bad(lineno, "a PSIG record 'SIGNAME disposition ...'", data)
            return
        sig = p.group("sig")
        ev = model.Event(kind=model.SIGNAL, file=self.path, line=lineno, pid=key[0], tid=key[1])
        if sig.isdigit():
            ev.err = int(sig)
        else:
            ev.name = sig
        rest = p.group("rest").strip()
        if rest:
            ev.extra["disposition"] = rest.split()[0].rstrip(":")
            ev.extra["info"] = rest
        ev.extra["comm"] = comm
        if ts is not None:
            ev.ts, ev.flags = ts, model.F_HAS_TS
        yield ev

    def target(self, key: tuple[int, int | None]) -> dict[str, Any]:
        ev = self.pending.get(key)
        return ev.extra if ev is not None else self.orphans.setdefault(key, {})

    def record(self, key: tuple[int, int | None], typ: str, data: str) -> bool:
        """Attach NAMI/GIO/STRU/... to the call in progress (or the next event of that pid)."""
        extra = self.target(key)
        if typ == "GIO":
            g = _GIO.match(data)
            entry: dict[str, Any] = ({"fd": int(g.group("fd")), "dir": g.group("dir"), "bytes": int(g.group("n"))}
                                     if g else {"raw": data})
            entry["data"] = []
            extra.setdefault("gio", []).append(entry)
            self.block, self.block_kind = entry["data"], "gio"
            return True
        if typ in _ARG_TYPES:
            lst = extra.setdefault(_ARG_TYPES[typ], [])
            if data:
                lst.append(_unquote(data))
            self.block, self.block_kind = lst, "args"
            return True
        if typ.startswith("UNKNOWN("):
            entry = {"type": typ, "data": [data] if data else []}
            extra.setdefault("unknown_records", []).append(entry)
            self.block, self.block_kind = entry["data"], "gio"
            return True
        if typ in _LIST_TYPES:
            value = _unquote(data) if typ in ("NAMI", "SCTL", "EMUL") else data
            extra.setdefault(_LIST_TYPES[typ], []).append(value)
            if typ == "EMUL":
                self.emul[key] = value
            return True
        return False

    def data_line(self, s: str) -> None:
        assert self.block is not None
        if self.block_kind == "args":
            a = _ARGITEM.match(s)
            self.block.append(_unquote(a.group("v")) if a else s)
        else:
            self.block.append(s)


def parse(lines: Iterable[str], path: str, stats: fb.StatsLike, strict: bool) -> Iterator[model.Event]:
    """Yield one event per CALL/RET pair, signal (PSIG) and exit."""
    yield from _Parser(path, stats, strict).run(lines)


def render(ev: model.Event) -> str:
    """Print an event as kdump does: a CALL and a RET line for a syscall (one
    line if the call has no return), one PSIG line for a signal."""
    head = f"{ev.pid:6d} "
    if ev.tid is not None:
        head += f"{ev.tid:6d} "
    head += f"{ev.extra.get('comm', 'prog'):<8} "
    if ev.ts is not None:
        head += f"{ev.ts:.6f} "
    if ev.kind == model.SIGNAL:
        info = ev.extra.get("info", "")
        return f"{head}PSIG  {ev.name or ev.err}{' ' + info if info else ''}"
    call = f"{head}CALL  {ev.name}({ev.args})"
    if ev.rec == model.UNKNOWN:
        return call
    if ev.rec == model.ERROR:
        msg = ev.extra.get("errmsg")
        val = f"-1 errno {ev.err}" + (f" {msg}" if msg else "")
    elif ev.rec == model.RESTARTED:
        val = "RESTART"
    elif ev.ret is None:
        val = "JUSTRETURN"
    else:
        val = f"{ev.ret}" + (f"/{ev.ret & 0xFFFFFFFFFFFFFFFF:#x}" if ev.ret < 0 or ev.ret > 9 else "")
    return f"{call}\n{head}RET   {ev.name} {val}"


ARG_SEP = ","


def render_arg(v: Any, fd_paths: bool = False) -> str:
    """One argument value (shimsim.trace.args) as kdump prints it: numbers in
    hex, strings as addresses, flags as VALUE<NAME|NAME>."""
    return fb.render_arg_hex(v, lambda q: "0x7ffde0001000",
                             lambda f: f"{f.value & 0xFFFFFFFFFFFFFFFF:#x}<{'|'.join(f.names)}>" if f.names
                             else hex(f.value))


# what kdump prints, for the generating strategies (shimsim.strategies)
TEXT_OPTIONS = [(), ("-d",)]
PRINTS_ERRNO_NAME = False   # -1 errno N
EXIT_FROM_CALL = True       # no exit record: the parser derives the exit from exit(N)


def parsed(ev: model.Event) -> None:
    """The CALL and RET records of a call make one event (with -d, of duration 0)."""
    if ev.kind == model.SYSCALL and ev.rec != model.UNKNOWN:
        ev.flags |= model.F_MERGED
        if ev.ts is not None:
            ev.dur, ev.flags = 0.0, ev.flags | model.F_HAS_DUR
