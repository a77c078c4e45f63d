# SPDX-License-Identifier: MIT
"""One run of the command through the exec wrapper, optionally under strace.

Each run goes through the supervisor (``supervise.start``), so a timeout, an
interruption or the command's exit kills the wrapper, strace and every process
the command made, including children that called setsid.  The command's stdin is
/dev/null; stdout and stderr go to files so both runs can be compared.
"""
from __future__ import annotations

import json
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from shimsim.errors import ShimsimError
from shimsim.probe import supervise

WRAPPER = Path(__file__).with_name("_exec.py")
EXIT_WRAPPER = 125          # mirrors _exec.EXIT_WRAPPER
# strace options the probe needs: -f follows children (the parser reads the
# "PID " prefix that -f -o writes); -o keeps the recording apart from the
# command's own stderr.  Everything else stays at strace's defaults, which
# shimsim's strace parser reads.
STRACE_OPTS = ("-f",)


def process_status(returncode: int | None, timed_out: bool) -> str:
    """exit N / killed by SIGX / timeout / unknown: what a run came to, as a process
    (runsc and the shell report a guest killed by signal N as exit 128+N)."""
    if timed_out:
        return "timeout"
    if returncode is None:
        return "unknown"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit {returncode}"


class Agreement:
    """What "agree" means, for the seccomp probe and the real layers' alike: the run
    was observed to break when the subclass's why_breaks() names a reason, and the
    prediction agrees when the subclass's `predicted` says the same."""

    predicted: str

    def why_breaks(self) -> list[str]:
        raise NotImplementedError

    @property
    def observed(self) -> str:
        return "breaks" if self.why_breaks() else "runs"

    @property
    def agree(self) -> bool:
        return self.predicted == self.observed


@dataclass
class RunResult:
    tag: str
    returncode: int | None       # None: killed at the timeout
    timed_out: bool
    seconds: float
    stdout: Path
    stderr: Path
    recording: Path | None

    def status(self) -> str:
        """exit N / killed by SIGX / timeout: what the run came to, as a process."""
        return process_status(self.returncode, self.timed_out)

    def output(self) -> bytes:
        return self.stdout.read_bytes()


def write_spec(path: Path, exe: str, pairs: list[list[int]], execve_nr: int, status: Path) -> None:
    path.write_text(json.dumps({"path": exe, "rules": pairs, "execve_nr": execve_nr,
                                "status": str(status)}), encoding="utf-8")


def run(tag: str, workdir: Path, exe: str, cmd: list[str], pairs: list[list[int]], execve_nr: int,
        timeout: float, strace: str | None) -> RunResult:
    """Run CMD (resolved to EXE) with the filter PAIRS; under strace when STRACE is a path."""
    spec = workdir / f"{tag}.filter.json"
    status = workdir / f"{tag}.wrapper-error"
    write_spec(spec, exe, pairs, execve_nr, status)
    recording = workdir / f"{tag}.strace" if strace else None
    argv = [sys.executable, str(WRAPPER), str(spec), "--", *cmd]
    if strace:
        argv = [strace, *STRACE_OPTS, "-o", str(recording), "--", *argv]
    out, err = workdir / f"{tag}.stdout", workdir / f"{tag}.stderr"
    rc, timed_out, seconds = supervise.run(argv, out, err, timeout)
    if status.exists() and status.stat().st_size:
        msg = status.read_text(encoding="utf-8", errors="replace").strip()
        raise ShimsimError(f"the probe could not start the command ({tag} run): {msg}")
    return RunResult(tag, rc, timed_out, seconds, out, err, recording)

