# SPDX-License-Identifier: MIT
"""A probe recording: the strace file of one run, cut at the command's execve,
and the comparison of two such recordings (where did the runs part).

strace traces the exec wrapper from its own start, so the first events are
the Python interpreter loading the wrapper.  The command starts at the
second successful execve of the first process (the first is the wrapper's
own); everything before it is the prologue and is left out, and so is that
execve itself, which the wrapper performs for the command (the filter spares
it).  Events keep the file and line of the raw recording.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from shimsim import model, trace
from shimsim.errors import ShimsimError

FORK_CALLS = {"clone", "clone3", "fork", "vfork"}
# Calls whose number, order and results differ between two correct runs of
# the same program, left out of the step-by-step comparison unless the filter
# touches the call: the allocator's mappings (heap layout differs under ASLR;
# successful calls only) and clock reads; lock waits and sleeps whatever they
# return (a futex wait meets EAGAIN or not depending on who ran first, a
# sleep may end with EINTR).
NOISE = {"mmap", "munmap", "mremap", "brk", "madvise", "clock_gettime", "gettimeofday", "time"}
NOISE_ANY_RESULT = {"futex", "sched_yield", "clock_nanosleep", "nanosleep"}
NOISE_SIGNALS = {"SIGCHLD"}   # delivery time relative to the parent's calls varies


@dataclass
class Recording:
    path: Path
    events: list[model.Event]          # the command's events, after its execve
    start: model.Event                 # the command's execve
    root: int                          # pid of the first process
    unparsed: int = 0
    exit_status: str | None = None     # "exit N" / "killed by SIGX" of the first process

    def syscall_names(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for ev in self.events:
            if ev.kind == model.SYSCALL and ev.name:
                counts[ev.name] += 1
        return dict(counts)


def load(path: Path, abi: str, engine: str | None = None) -> Recording:
    """Parse a probe recording and cut off the wrapper's prologue."""
    t = trace.open([str(path)], format="strace", abi=abi, strict=False, engine=engine)
    events = list(t.events())
    if not events:
        raise ShimsimError(f"{path}: the recording is empty (did strace run at all?)")
    root = events[0].pid
    execs = [i for i, ev in enumerate(events)
             if ev.pid == root and ev.kind == model.SYSCALL and ev.name == "execve" and ev.rec == model.SUCCESS]
    if len(execs) < 2:
        raise ShimsimError(f"{path}: the command was never executed (no execve after the wrapper's own)")
    cut = execs[1]
    rec = Recording(path, events[cut + 1:], events[cut], root if root is not None else -1,
                    t.stats.unparsed_count)
    for ev in rec.events:
        if ev.pid == root and ev.kind == model.EXIT:
            rec.exit_status = f"exit {ev.ret}"
        elif ev.pid == root and ev.kind == model.KILLED:
            rec.exit_status = f"killed by {ev.name}"
    return rec


# --------------------------------------------------------------------------- comparison

def outcome_key(ev: model.Event) -> tuple:
    """What must match for two events to count as the same step of the program.

    Syscalls: the name, success or the errno, and whether the result was zero.
    Raw return values differ between two correct runs (addresses under ASLR,
    pids, sizes of /proc files), but a zero where the other run had a
    non-zero result is exactly what a stub (SCMP_ACT_ERRNO(0)) produces."""
    if ev.kind == model.SYSCALL:
        if ev.rec == model.ERROR:
            return ("syscall", ev.name, "error", ev.errname)
        if ev.rec == model.SUCCESS:
            return ("syscall", ev.name, "ok", ev.ret == 0)
        return ("syscall", ev.name, "?", None)
    if ev.kind == model.EXIT:
        return ("exit", ev.ret)
    return (model.KIND_NAMES.get(ev.kind, "?"), ev.name)


def describe(ev: model.Event | None) -> str:
    if ev is None:
        return "nothing (the process had ended)"
    if ev.kind == model.SYSCALL:
        if ev.rec == model.ERROR:
            return f"{ev.name} failed with {ev.errname}"
        if ev.rec == model.SUCCESS:
            return f"{ev.name} returned {ev.ret}"
        return f"{ev.name} did not return"
    if ev.kind == model.EXIT:
        return f"exit with status {ev.ret}"
    if ev.kind == model.KILLED:
        return f"killed by {ev.name}"
    return f"{model.KIND_NAMES.get(ev.kind, '?')} {ev.name or ''}".strip()


def processes(rec: Recording) -> dict[tuple[int, ...], list[model.Event]]:
    """Per process, its events; a process is named by its place in the family
    tree (root (), its k-th child (k,), ...), which is the same in both runs
    while pids are not."""
    by_pid: dict[int, list[model.Event]] = defaultdict(list)
    children: dict[int, list[int]] = defaultdict(list)
    for ev in rec.events:
        pid = ev.pid if ev.pid is not None else rec.root
        by_pid[pid].append(ev)
        if ev.kind == model.SYSCALL and ev.name in FORK_CALLS and ev.rec == model.SUCCESS and ev.ret:
            children[pid].append(ev.ret)
    out: dict[tuple[int, ...], list[model.Event]] = {}
    stack: list[tuple[int, tuple[int, ...]]] = [(rec.root, ())]
    seen: set[int] = set()
    while stack:
        pid, key = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        out[key] = by_pid.get(pid, [])
        for k, child in enumerate(children.get(pid, [])):
            stack.append((child, key + (k,)))
    # threads and processes not reached through a recorded fork (e.g. clone results
    # printed as '?') are compared by order of first appearance
    rest = [p for p in by_pid if p not in seen]
    for k, pid in enumerate(rest):
        out[("?", k)] = by_pid[pid]  # type: ignore[assignment]
    return out


@dataclass
class Parting:
    syscall: str | None
    normal: model.Event | None
    filtered: model.Event | None
    process: tuple = field(default_factory=tuple)

    @property
    def reason(self) -> str:
        who = "" if not self.process else f" (process {'.'.join(map(str, self.process))} of the command)"
        return f"normal run: {describe(self.normal)}; filtered run: {describe(self.filtered)}{who}"

    def to_json(self) -> dict:
        def where(ev):
            return None if ev is None else {"file": ev.file, "line": ev.line}
        return {"syscall": self.syscall, "normal": where(self.normal), "filtered": where(self.filtered),
                "reason": self.reason}


def is_noise(ev: model.Event, touched: set[str]) -> bool:
    if ev.kind == model.SIGNAL:
        return ev.name in NOISE_SIGNALS
    if ev.kind != model.SYSCALL or ev.name in touched:
        return False
    return ev.name in NOISE_ANY_RESULT or (ev.name in NOISE and ev.rec == model.SUCCESS)


def parted_at(normal: Recording, filtered: Recording, touched: set[str] | frozenset = frozenset()) -> Parting | None:
    """The first event whose syscall or result differs between the two runs, or None.

    Each process is compared with its counterpart step by step, leaving out
    the calls that differ between any two runs (NOISE, unless the filter
    touches them: TOUCHED names the calls the filter fails or stubs); among
    the processes that differ, the parting reported is the one that comes
    first in the normal recording."""
    pa, pb = processes(normal), processes(filtered)
    touched = set(touched)
    best: Parting | None = None
    best_pos = None
    for key in list(pa) + [k for k in pb if k not in pa]:
        a = [ev for ev in pa.get(key, []) if not is_noise(ev, touched)]
        b = [ev for ev in pb.get(key, []) if not is_noise(ev, touched)]
        for i in range(max(len(a), len(b))):
            ea = a[i] if i < len(a) else None
            eb = b[i] if i < len(b) else None
            if ea is not None and eb is not None and outcome_key(ea) == outcome_key(eb):
                continue
            ref = ea or eb
            pos = (0 if ea is not None else 1, ref.line)
            if best_pos is None or pos < best_pos:
                name = (ea.name if ea is not None and ea.kind == model.SYSCALL else None) or \
                       (eb.name if eb is not None and eb.kind == model.SYSCALL else None) or \
                       (ea or eb).name
                best, best_pos = Parting(name, ea, eb, key), pos
            break
    return best
