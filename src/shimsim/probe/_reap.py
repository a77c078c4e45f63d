# SPDX-License-Identifier: MIT
"""The probe's supervisor: run one command and leave none of its processes behind.

    python3 .../shimsim/probe/_reap.py FD -- COMMAND [ARG...]

A process group is not enough to find everything a command started: a child
that calls setsid(2) leaves the group, and once its parent exits it is
reparented away from the probe.  This supervisor marks itself a child
subreaper (prctl PR_SET_CHILD_SUBREAPER, Linux 3.4), so every orphan of the
command is reparented to it instead of to init; all the command's processes
are then exactly its descendants in /proc, whatever sessions they made.

It starts COMMAND (reporting "ok" or the errno of a failed exec on FD, which
it then closes), waits for it, and when it exits, or on SIGTERM, SIGINT or
SIGHUP, or when the shimsim process that started it dies (PR_SET_PDEATHSIG),
it SIGKILLs every descendant and reaps them, over and over until none is
left.  Then it exits as the command did (the same exit code, or killed by
the same signal), so the caller sees the command's status.

Run as a plain script (not ``-m``): it imports only the standard library and
is never filtered or traced itself (strace and the exec wrapper are its
children).
"""
from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import time

PR_SET_PDEATHSIG = 1             # linux/prctl.h
PR_SET_CHILD_SUBREAPER = 36      # linux/prctl.h
KILL_ROUNDS_SECONDS = 10.0       # give up on processes that will not die (uninterruptible sleep) after this
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Stop(Exception):
    pass


def _on_stop(signum, frame) -> None:  # type: ignore[no-untyped-def]
    raise _Stop


def descendants(root: int) -> list[int]:
    """Every process whose parent chain in /proc leads to ROOT."""
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue                 # gone meanwhile
        fields = stat[stat.rindex(b")") + 2:].split()
        kids.setdefault(int(fields[1]), []).append(int(d))
    out, todo = [], [root]
    while todo:
        for c in kids.get(todo.pop(), ()):
            out.append(c)
            todo.append(c)
    return out


def kill_all() -> None:
    """SIGKILL every descendant and reap the orphans, until none is left."""
    me = os.getpid()
    deadline = time.monotonic() + KILL_ROUNDS_SECONDS
    while True:
        pids = descendants(me)
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass
        while True:                  # reap what has died (a killed parent's children come to us)
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                pid = 0
            if pid == 0:
                break
        if not pids or time.monotonic() > deadline:
            return
        time.sleep(0.005)


def _relay(status: int) -> None:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)          # a signal that does not kill
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: _reap.py FD -- COMMAND [ARG...]\n")
        os._exit(2)
    fd, cmd = int(argv[1]), argv[3:]
    os.set_inheritable(fd, False)    # the command must not hold the report pipe open
    for s in STOP_SIGNALS:
        signal.signal(s, _on_stop)
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getppid()
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    try:
        if os.getppid() != parent:   # the starter died before the death signal was armed
            raise _Stop
        try:
            pid = os.posix_spawnp(cmd[0], cmd, os.environ,
                                  setsigdef=(signal.SIGPIPE, signal.SIGXFSZ, *STOP_SIGNALS))
        except OSError as exc:
            os.write(fd, str(exc.errno or 0).encode())
            os._exit(127)
        os.write(fd, b"ok")
        os.close(fd)
        while True:
            wpid, status = os.waitpid(-1, 0)
            if wpid == pid:
                break
    except _Stop:
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)
        kill_all()
        os._exit(128 + signal.SIGKILL)
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    kill_all()
    _relay(status)


if __name__ == "__main__":
    main(sys.argv)
