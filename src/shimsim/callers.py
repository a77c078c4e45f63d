# SPDX-License-Identifier: MIT
"""Who makes each call of a trace: the program image each process runs.

A fallback row (tables/fallbacks.csv) rescues a failing call only when the
process that makes it carries the row's implementer.  :class:`CallerTracker`
follows a trace's processes event by event:

* a successful ``execve``/``execveat`` gives its pid the program at the
  path it names, inspected with :mod:`shimsim.elf.runtime` when the file
  exists here (or under ``--root DIR``); a script is its ``#!`` interpreter;
* a successful ``clone``/``clone3``/``fork``/``vfork`` hands the parent's
  program to the child (the returned pid);
* a library the process opens successfully (``libpython3.11.so``,
  ``libjvm.so``, ``libc.so.6``...) adds that runtime: the trace's own shape;
* a process whose ``execve`` the trace does not show runs ``--binary FILE``
  when one is given, else an unidentified program;
* a pid that appears before the clone that made it has returned (strace -f
  prints a vfork child's calls before the parent's ``<... vfork resumed>``)
  runs the program of the process seen just before it, until the clone's
  return says whose child it is.

A caller read from its file is complete: a runtime it does not carry is
absent.  One seen only through the trace's shape is not: a runtime it was
not seen opening may still be there, so the verdict says "not identified"
rather than guessing.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from shimsim import model
from shimsim.elf import runtime as _rt
from shimsim.lex import strace as _lex

EXEC_CALLS = ("execve", "execveat")
FORK_CALLS = ("clone", "clone3", "fork", "vfork")
OPEN_CALLS = ("openat", "open", "openat2")


@dataclass
class Caller:
    """One program image a process runs, with the runtimes it carries."""
    path: str | None
    runtimes: tuple[_rt.Runtime, ...] = ()
    complete: bool = False          # read from its file: runtimes not listed are absent
    why: str = ""                   # why it is not (fully) identified
    pids: set[int] = field(default_factory=set)

    @property
    def identified(self) -> bool:
        return self.complete or bool(self.runtimes)

    def names(self) -> set[str]:
        return {r.name for r in self.runtimes}

    def version(self, name: str) -> str | None:
        return next((r.version for r in self.runtimes if r.name == name), None)

    def implements(self, fb) -> bool | None:
        """Whether this caller carries fallback row FB's implementer at a version it
        holds for: True, False, or None when the evidence cannot tell."""
        if fb.implementer not in self.names():
            return False if self.complete else None
        ok = fb.holds_for(self.version(fb.implementer))
        return ok if ok is not None else True     # version not written down: the row's code is there

    def text(self) -> str:
        rts = ", ".join(r.text() for r in self.runtimes) or "no known runtime"
        if self.path is None:
            return f"an unidentified program ({self.why})" if self.why else "an unidentified program"
        if not self.identified:
            return f"{self.path} (not identified: {self.why})"
        return f"{self.path} ({rts}{'' if self.complete else '; seen only through the files it opens'})"

    def to_json(self) -> dict:
        return {"path": self.path, "text": self.text(), "identified": self.identified, "complete": self.complete,
                "runtimes": [r.to_json() for r in self.runtimes], "why": self.why or None,
                "pids": len(self.pids)}


def _first_string(args: str, idx: int) -> str | None:
    """The quoted path at argument IDX (0 or 1: execve's, openat's), unescaped.
    Only the start of the text is read: execve's long argv is never scanned."""
    i = 0
    if idx:
        # the directory fd before it is a number or AT_FDCWD, decorated (3</some/dir>) with -y
        q = args.find('"')
        lt = args.find("<")
        if q < 0 or (0 <= lt < q and not args.startswith(("AT_FDCWD", "-100"))):
            span = _lex.arg_spans(args, idx)
            if len(span) <= idx:
                return None
            i = span[idx][0]
        else:
            i = q
    n = len(args)
    while i < n and args[i] in " \t":
        i += 1
    if i >= n or args[i] != '"':
        return None
    end = _lex.string_end(args, i + 1)
    raw = args[i + 1:end]
    if "\\" in raw:
        try:
            return raw.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError:
            return raw
    return raw


class CallerTracker:
    """pid -> Caller along a trace (see the module docstring)."""

    def __init__(self, root: str | None = None, binary: str | None = None) -> None:
        self.root = root
        self.callers: list[Caller] = []
        self._by_path: dict[str, int] = {}
        self._pid: dict[int, int] = {}
        self._derived: dict[tuple[int, tuple[str, ...]], int] = {}
        self.binary = binary
        self._last: int | None = None         # the pid of the last call seen
        self.first_so: str | None = None      # the first shared object the trace opens (a dynamic program)
        self._opens: dict[str, tuple[str | None, tuple]] = {}   # open's argument text -> (path, runtimes shown)
        if binary:
            self.default = self._from_file(binary)
        else:
            self.default = self._add(Caller(None, why="the trace does not show the program's execve "
                                                       "(give --binary FILE)"))

    def _add(self, c: Caller) -> int:
        self.callers.append(c)
        return len(self.callers) - 1

    def _from_file(self, path: str) -> int:
        ctx = self._by_path.get(path)
        if ctx is None:
            fr = _rt.runtimes(path, self.root)
            if fr.found:
                c = Caller(path, tuple(fr.runtimes), True,
                           f"script run by {fr.interpreter}" if fr.interpreter else "")
            else:
                where = f" under {self.root}" if self.root else " on this machine"
                c = Caller(path, (), False, f"the file is not readable{where} ({fr.problem}); give --root DIR")
            ctx = self._by_path[path] = self._add(c)
        return ctx

    def ctx_of(self, pid: int | None) -> int:
        key = -1 if pid is None else pid
        ctx = self._pid.get(key)
        if ctx is None:
            # strace -f prints a vfork/clone child's first calls before the parent's
            # "<... vfork resumed> = PID": a pid seen before the call that made it
            # returned runs the program of the process seen just before it (the
            # clone's return, when it comes, confirms or corrects that)
            ctx = self.default if self._last is None else self._pid.get(self._last, self.default)
            self._pid[key] = ctx
            self.callers[ctx].pids.add(key)
        self._last = key
        return ctx

    def caller(self, ctx: int) -> Caller:
        return self.callers[ctx]

    def see(self, name: str | None, pid: int | None, args: str, rec: int | None, ret: int | None) -> int:
        """Account one syscall event; returns the ctx (caller index) the call was made by."""
        ctx = self.ctx_of(pid)
        if rec != model.SUCCESS or name is None:
            return ctx
        key = -1 if pid is None else pid
        if name in EXEC_CALLS:
            path = _first_string(args, 1 if name == "execveat" else 0)
            if path:
                if not os.path.isabs(path) and self.root is None:
                    path = os.path.abspath(path)
                new = self._from_file(path)
                if new != ctx:
                    self.callers[ctx].pids.discard(key)   # the process now runs the new program
                self._pid[key] = new
                self.callers[new].pids.add(key)
        elif name in FORK_CALLS and ret and ret > 0:
            old = self._pid.get(ret)
            if old is not None and old != ctx:
                self.callers[old].pids.discard(ret)
            self._pid[ret] = ctx
            self.callers[ctx].pids.add(ret)
        elif name in OPEN_CALLS and ret is not None and ret >= 0:
            if ".so" not in args and ".hints" not in args:
                return ctx                      # the common case, decided without parsing
            seen = self._opens.get(args)
            if seen is None:
                # a trace opens the same libraries in every process: each argument text is read once
                if len(self._opens) >= 4096:
                    self._opens.clear()
                path = _first_string(args, 0 if name == "open" else 1)
                shown = tuple(_rt.path_runtimes(path)) if path and ".so" in path else ()
                seen = self._opens[args] = (path, shown)
            path, shown = seen
            if path and self.first_so is None and (".so." in path or path.endswith((".so", ".hints"))):
                self.first_so = path
            if shown:
                found = [r for r in shown if r.name not in self.callers[ctx].names()]
                if found:
                    dkey = (ctx, tuple(sorted(r.name for r in found)))
                    new = self._derived.get(dkey)
                    if new is None:
                        base = self.callers[ctx]
                        new = self._add(Caller(base.path, base.runtimes + tuple(found), base.complete,
                                               base.why))
                        self._derived[dkey] = new
                    self.callers[ctx].pids.discard(key)
                    self._pid[key] = new
                    self.callers[new].pids.add(key)
        return ctx

    def program(self) -> str | None:
        """The program file the trace (or --binary) names: the first execve'd path."""
        return next((c.path for c in self.callers if c.path), None)

    def to_json(self) -> list[dict]:
        return [c.to_json() for c in self.callers if c.pids]
