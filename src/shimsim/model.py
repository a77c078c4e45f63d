# SPDX-License-Identifier: MIT
"""The normalised event: one record per syscall, signal, exit, kill or
personality switch, whatever the trace format.  Mirrors ``ss_event`` in
csrc/shimsim.h field for field (the codes are shimsim.codes); ``Result`` is
what one event becomes under a shim, the mirror of ``ss_rp_result``."""
from __future__ import annotations


from shimsim._record import Record, asdict

from shimsim.codes import (  # noqa: F401  (the codes under the names they have here)
    DETACHED, EXIT, F_CORE, F_HAS_DUR, F_HAS_TS, F_MERGED, F_NO_RET, F_TRUNCATED, KILLED, KIND_NAMES,
    PERSONALITY, REC_NAMES, SIGNAL, STOPPED, SUPERSEDED, SYSCALL)
from shimsim.codes import REC_ERROR as ERROR
from shimsim.codes import REC_INJECTED as INJECTED
from shimsim.codes import REC_RESTARTED as RESTARTED
from shimsim.codes import REC_SUCCESS as SUCCESS
from shimsim.codes import REC_UNFINISHED as UNFINISHED
from shimsim.codes import REC_UNKNOWN as UNKNOWN  # recorded '= ?' (not the replay outcome codes.UNKNOWN)

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any


def s64(v: int) -> int:
    """V as ss_event's int64 holds it: a tracer's unsigned 64-bit value (an
    illumos truss address such as 0xFFFFFD7FFF390000) wraps to its signed
    two's-complement value, as it does in the C core."""
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


class Frame(Record):
    """One stack frame printed under a call (strace -k): the library or
    executable, the symbol and the offset in it, and the address strace shows
    (an offset into the mapping)."""
    __slots__ = _FIELDS = ("library", "symbol", "offset", "address")
    library: str
    symbol: str | None
    offset: int | None
    address: int | None

    def __init__(self, library: str, symbol: str | None = None, offset: int | None = None,
                 address: int | None = None) -> None:
        self.library, self.symbol, self.offset, self.address = library, symbol, offset, address


class Event(Record):
    """One normalised trace record: a syscall, signal, exit, kill or note, with where it was read."""
    __slots__ = _FIELDS = ("kind", "file", "line", "pid", "tid", "ts", "dur", "name", "nr", "args", "ret",
                           "rec", "errname", "err", "abi", "flags", "extra", "frames")
    kind: int
    file: str
    line: int
    pid: int | None
    tid: int | None
    ts: float | None
    dur: float | None
    name: str | None          # syscall or signal name
    nr: int | None            # guest syscall number, None when unknown
    args: str                 # raw argument text, without the outer parentheses
    ret: int | None           # return value, exit status, or personality
    rec: int | None           # SUCCESS, ERROR, ... for syscalls
    errname: str | None       # ENOENT, ERESTARTSYS, ...
    err: int | None           # errno number (or signal number)
    abi: str | None
    flags: int
    extra: dict[str, Any]     # format-specific decoded details
    frames: list[Frame]       # the caller's stack (strace -k), innermost first

    def __init__(self, kind: int, file: str, line: int, pid: int | None = None, tid: int | None = None,
                 ts: float | None = None, dur: float | None = None, name: str | None = None,
                 nr: int | None = None, args: str = "", ret: int | None = None, rec: int | None = None,
                 errname: str | None = None, err: int | None = None, abi: str | None = None, flags: int = 0,
                 extra: dict[str, Any] | None = None, frames: list[Frame] | None = None) -> None:
        self.kind, self.file, self.line, self.pid, self.tid, self.ts = kind, file, line, pid, tid, ts
        self.dur, self.name, self.nr, self.args, self.ret, self.rec = dur, name, nr, args, ret, rec
        self.errname, self.err, self.abi, self.flags = errname, err, abi, flags
        self.extra = {} if extra is None else extra
        self.frames = [] if frames is None else frames

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["kind"] = KIND_NAMES[self.kind]
        d["rec"] = REC_NAMES.get(self.rec) if self.rec is not None else None
        if not d["extra"]:
            del d["extra"]
        if not d["frames"]:
            del d["frames"]
        return d


class Result(Record):
    """What one event becomes under the shim (mirrors ss_rp_result)."""
    __slots__ = _FIELDS = ("outcome", "div", "nflags", "dropped", "undecoded", "fallback", "host_nr", "err",
                           "ret", "hflags", "unsup", "div_arg", "div_fmap", "div_unsup")
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
    div_arg: int
    div_fmap: int
    div_unsup: int

    def __init__(self, outcome: int, div: int, nflags: int, dropped: bool, undecoded: bool, fallback: int,
                 host_nr: int, err: int, ret: int, hflags: list[int], unsup: list[int], div_arg: int = 0,
                 div_fmap: int = 0, div_unsup: int = 0) -> None:
        self.outcome, self.div, self.nflags, self.dropped, self.undecoded = outcome, div, nflags, dropped, undecoded
        self.fallback, self.host_nr, self.err, self.ret, self.hflags = fallback, host_nr, err, ret, hflags
        self.unsup, self.div_arg, self.div_fmap, self.div_unsup = unsup, div_arg, div_fmap, div_unsup
