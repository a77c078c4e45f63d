# SPDX-License-Identifier: MIT
"""A made-up trace format, added the way a newcomer adds one: this module and
one registry line (tests/trace/test_formats_registry.py plugs it in).

    1000: openat(AT_FDCWD, "/x", O_RDONLY) -> 3
    1000: read(3, 0x7ffde0000000, 4096) -> ERR ENOENT
    1000: exit_group(0) -> ?
    1000: signal SIGINT
    1000: exited 0
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from shimsim import model
from shimsim.errors import InputError
from shimsim.trace import _fmtbase as fb

DEFAULT_OS = "linux"
EXPECTED = "a minitrace line (PID: NAME(ARGS) -> RET | ERR ENAME | ?, PID: signal SIG, PID: exited N)"
_CALL = re.compile(r"^(?P<pid>\d+): (?P<name>[a-z_][a-z0-9_]*)\((?P<args>.*)\) -> "
                   r"(?:(?P<ret>-?\d+)|ERR (?P<err>E[A-Z0-9_]+)|(?P<unk>\?))$")
_SIG = re.compile(r"^(?P<pid>\d+): signal (?P<sig>SIG[A-Z0-9+]+)$")
_EXIT = re.compile(r"^(?P<pid>\d+): exited (?P<st>-?\d+)$")
TEXT_OPTIONS = [()]
ARG_SEP = ", "


def sniff(lines: list[str]) -> float:
    body = [ln for ln in lines if ln.strip()]
    hits = sum(1 for ln in body if _CALL.match(ln) or _SIG.match(ln) or _EXIT.match(ln))
    return hits / len(body) if body else 0.0


def parse(lines: Iterable[str], path: str, stats: Any, strict: bool) -> Iterator[model.Event]:
    for n, raw in enumerate(lines, 1):
        line = raw.rstrip("\n")
        if not line.strip():
            stats.skip("blank")
            continue
        if m := _CALL.match(line):
            ev = model.Event(model.SYSCALL, path, n, pid=int(m["pid"]), name=m["name"], args=m["args"])
            if m["err"]:
                ev.rec, ev.ret, ev.errname = model.ERROR, -1, m["err"]
            elif m["unk"]:
                ev.rec = model.UNKNOWN
            else:
                ev.rec, ev.ret = model.SUCCESS, int(m["ret"])
            yield ev
        elif m := _SIG.match(line):
            yield model.Event(model.SIGNAL, path, n, pid=int(m["pid"]), name=m["sig"])
        elif m := _EXIT.match(line):
            yield model.Event(model.EXIT, path, n, pid=int(m["pid"]), ret=int(m["st"]))
        elif strict:
            raise InputError(path, n, f"expected {EXPECTED}")
        else:
            stats.unparsed(path, n, f"expected {EXPECTED}")


def render(ev: model.Event) -> str:
    if ev.kind == model.SIGNAL:
        return f"{ev.pid}: signal {ev.name}"
    if ev.kind == model.EXIT:
        return f"{ev.pid}: exited {ev.ret}"
    res = f"ERR {ev.errname}" if ev.rec == model.ERROR else "?" if ev.ret is None else str(ev.ret)
    return f"{ev.pid}: {ev.name}({ev.args}) -> {res}"


def render_arg(v: Any, fd_paths: bool = False) -> str:
    return fb.render_arg_plain(v, null="NULL")
