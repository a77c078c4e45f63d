# SPDX-License-Identifier: MIT
"""The normalised event: one record per syscall, signal, exit, kill or
personality switch, whatever the trace format.  Mirrors ``ss_event`` in
csrc/shimsim.h field for field; the constants below are the C ones."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Event kinds (SS_EV_*)
SYSCALL, SIGNAL, STOPPED, EXIT, KILLED, SUPERSEDED, PERSONALITY, DETACHED = range(1, 9)
KIND_NAMES = {
    SYSCALL: "syscall", SIGNAL: "signal", STOPPED: "stopped", EXIT: "exit", KILLED: "killed",
    SUPERSEDED: "superseded", PERSONALITY: "personality", DETACHED: "detached",
}
# Recorded outcomes (SS_REC_*)
SUCCESS, ERROR, UNKNOWN, RESTARTED, INJECTED, UNFINISHED = range(1, 7)
REC_NAMES = {
    SUCCESS: "success", ERROR: "error", UNKNOWN: "unknown", RESTARTED: "restarted",
    INJECTED: "injected", UNFINISHED: "unfinished",
}
# Flags (SS_EVF_*)
F_MERGED, F_TRUNCATED, F_HAS_TS, F_HAS_DUR, F_CORE, F_NO_RET = 1, 2, 4, 8, 16, 32


@dataclass(slots=True)
class Event:
    kind: int
    file: str
    line: int
    pid: int | None = None
    tid: int | None = None
    ts: float | None = None
    dur: float | None = None
    name: str | None = None          # syscall or signal name
    nr: int | None = None            # guest syscall number, None when unknown
    args: str = ""                   # raw argument text, without the outer parentheses
    ret: int | None = None           # return value, exit status, or personality
    rec: int | None = None           # SUCCESS, ERROR, ... for syscalls
    errname: str | None = None       # ENOENT, ERESTARTSYS, ...
    err: int | None = None           # errno number (or signal number)
    abi: str | None = None
    flags: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # format-specific decoded details

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = KIND_NAMES[self.kind]
        d["rec"] = REC_NAMES.get(self.rec) if self.rec is not None else None
        if not d["extra"]:
            del d["extra"]
        return d
