# SPDX-License-Identifier: MIT
"""Start a probed command under the supervisor (``_reap.py``) and stop it.

Every probe run (the seccomp runner's, runsc's, qemu's, the native strace
run) goes through :func:`start`, so a timeout, Ctrl-C or the command's own
exit kills every process the command made, including children that called
setsid(2), and never the shimsim process itself.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from shimsim.errors import ShimsimError

REAPER = Path(__file__).with_name("_reap.py")
STOP_GRACE_SECONDS = 15.0        # how long the supervisor may take to kill the command's processes


def start(argv: list[str], **popen_kw) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    """Popen of ARGV under the supervisor, in a new session; an ARGV[0] that cannot be
    started is a ShimsimError, as Popen's OSError would be."""
    r, w = os.pipe()
    try:
        try:
            proc = subprocess.Popen([sys.executable, str(REAPER), str(w), "--", *argv], pass_fds=(w,),
                                    start_new_session=True, **popen_kw)
        except OSError as exc:
            raise ShimsimError(f"cannot start the probe supervisor {sys.executable}: {exc.strerror}") from None
        os.close(w)
        w = -1
        chunks = []
        try:
            while chunk := os.read(r, 64):
                chunks.append(chunk)
        except BaseException:          # interrupted while it starts: leave nothing behind
            stop(proc)
            raise
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)
    answer = b"".join(chunks)
    if answer != b"ok":
        proc.wait()
        code = int(answer) if answer.isdigit() else 0
        why = os.strerror(code) if code else f"the supervisor exited with status {proc.returncode}"
        raise ShimsimError(f"cannot start {argv[0]}: {why}")
    return proc


def stop(proc: subprocess.Popen) -> None:
    """Kill the command and every process it made; wait for the supervisor."""
    if proc.returncode is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)      # it did not finish: at least its own group
            except (ProcessLookupError, PermissionError):
                pass
    proc.wait()


def run(argv: list[str], out: Path, err: Path, timeout: float,
        cwd: str | None = None) -> tuple[int | None, bool, float]:
    """ARGV under the supervisor, stdout and stderr into OUT and ERR, stdin closed, for at most
    TIMEOUT seconds: (return code or None, timed out, seconds).  On a timeout or an interruption
    every process of the command is stopped before this returns or raises."""
    t0 = time.monotonic()
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = start(argv, stdin=subprocess.DEVNULL, stdout=fo, stderr=fe, cwd=cwd)
        timed_out = False
        try:
            rc: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out, rc = True, None
        finally:
            if proc.returncode is None:   # timed out or interrupted: leave nothing behind
                stop(proc)
    return rc, timed_out, time.monotonic() - t0
