# SPDX-License-Identifier: MIT
"""The normalised event: one record per syscall, signal, exit, kill or
personality switch, whatever the trace format.  Mirrors ``ss_event`` in
csrc/shimsim.h field for field (the codes are shimsim.codes); ``Result`` is
what one event becomes under a shim, the mirror of ``ss_rp_result``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from shimsim.codes import (  # noqa: F401  (the codes under the names they have here)
    DETACHED, EXIT, F_CORE, F_HAS_DUR, F_HAS_TS, F_MERGED, F_NO_RET, F_TRUNCATED, KILLED, KIND_NAMES,
    PERSONALITY, REC_NAMES, SIGNAL, STOPPED, SUPERSEDED, SYSCALL)
from shimsim.codes import REC_ERROR as ERROR
from shimsim.codes import REC_INJECTED as INJECTED
from shimsim.codes import REC_RESTARTED as RESTARTED
from shimsim.codes import REC_SUCCESS as SUCCESS
from shimsim.codes import REC_UNFINISHED as UNFINISHED
from shimsim.codes import REC_UNKNOWN as UNKNOWN  # recorded '= ?' (not the replay outcome codes.UNKNOWN)


def s64(v: int) -> int:
    """V as ss_event's int64 holds it: a tracer's unsigned 64-bit value (an
    illumos truss address such as 0xFFFFFD7FFF390000) wraps to its signed
    two's-complement value, as it does in the C core."""
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


@dataclass(slots=True)
class Frame:
    """One stack frame printed under a call (strace -k): the library or
    executable, the symbol and the offset in it, and the address strace shows
    (an offset into the mapping)."""
    library: str
    symbol: str | None = None
    offset: int | None = None
    address: int | None = None


@dataclass(slots=True)
class Event:
    """One normalised trace record: a syscall, signal, exit, kill or note, with where it was read."""
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
    frames: list[Frame] = field(default_factory=list)    # the caller's stack (strace -k), innermost first

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = KIND_NAMES[self.kind]
        d["rec"] = REC_NAMES.get(self.rec) if self.rec is not None else None
        if not d["extra"]:
            del d["extra"]
        if not d["frames"]:
            del d["frames"]
        return d


@dataclass(slots=True)
class Result:
    """What one event becomes under the shim (mirrors ss_rp_result)."""

    outcome: int
    div: int
    nflags: int
    dropped: bool
    undecoded: bool
    fallback: int
    host_nr: int
    err: int
    ret: int
    hflags: list[int]
    unsup: list[int]
    div_arg: int = 0
    div_fmap: int = 0
    div_unsup: int = 0
