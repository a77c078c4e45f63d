# SPDX-License-Identifier: MIT
"""Per-shim verdict for a predicted syscall set.

Uses H-replay's compiled shims (``shimsim.shim.load``): per guest syscall
number an outcome (translated, emulated, partial, failed, stubbed, faked),
the errno of a failure, its note, and a known fallback chain that rescues
it.  A binary whose ABI is not the shim's guest ABI cannot run at all: no
layer exists for it (a FreeBSD binary under the Linuxulator, or on the
``native`` Linux host).
"""
from __future__ import annotations

import platform
from dataclasses import dataclass, field

from shimsim import tables
from shimsim.elf.ident import Identity
from shimsim.elf.predict import Prediction
from shimsim.errors import ShimsimError

RUNS, DEGRADED, MAY_FAIL, FAILS, CANNOT, UNKNOWN = ("runs", "degraded", "may fail", "fails", "cannot run",
                                                    "unknown")
IDENTITY_SHIMS = {"native"}     # '*' shims that are the host's own kernel: guest must equal host


def machine_abi() -> str:
    """This machine's ABI, the host of the ``native`` shim unless --host says otherwise."""
    os_name = platform.system().lower()
    mach = platform.machine().lower()
    os_name = {"sunos": "illumos"}.get(os_name, os_name)
    found = tables.find_abis(os=os_name, uname=mach)     # abis.toml: each ABI's `uname -m` strings
    return found[0] if found else f"{os_name}-{mach}"


@dataclass
class Call:
    syscall: str
    outcome: str
    note: str = ""
    errno: str | None = None
    fallback: str | None = None
    vdso_only: bool = False
    origins: list[str] = field(default_factory=list)
    library_only: bool = False      # only libraries import it: the program may never get there

    def to_json(self) -> dict:
        return {"syscall": self.syscall, "outcome": self.outcome, "note": self.note, "errno": self.errno,
                "fallback": self.fallback, "vdso_only": self.vdso_only, "only_from_libraries": self.library_only,
                "from": self.origins}


@dataclass
class Verdict:
    shim: str
    guest: str
    host: str
    status: str                  # runs / degraded / fails / cannot run
    reason: str
    counts: dict[str, int] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)       # every call that is not a clean translate/emulate

    def fatal(self) -> list[Call]:
        """Failing calls with no fallback, the program's own ones first."""
        out = [c for c in self.calls if c.outcome == "failed" and not c.fallback and not c.vdso_only]
        return sorted(out, key=lambda c: c.library_only)

    def to_json(self) -> dict:
        return {"shim": self.shim, "guest": self.guest, "host": self.host, "status": self.status,
                "reason": self.reason, "counts": self.counts, "calls": [c.to_json() for c in self.calls]}


def verdicts(ident: Identity, pred: Prediction, shims: list[str], host: str | None = None,
             caller=None) -> list[Verdict]:
    """CALLER (a callers.Caller for the inspected file): a fallback rescues a failing call
    only when the file carries the row's implementer; None: the caller is not identified."""
    out = []
    for name in shims:
        try:
            out.append(verdict(ident, pred, name, host, caller))
        except ShimsimError as exc:     # a broken shim spec spoils its own verdict only
            out.append(Verdict(name, ident.abi, host or machine_abi(), CANNOT, f"cannot evaluate: {exc}"))
    return out


_COMPILED: dict[tuple[str, str | None], object] = {}


def _compiled(shimmod, spec, abi: str | None):
    """Compiling a shim resolves every rule through two ABIs: do it once per (shim, ABI)."""
    key = (spec.path, abi)
    if key not in _COMPILED:
        _COMPILED[key] = shimmod.compile_shim(spec, abi)
    return _COMPILED[key]


def verdict(ident: Identity, pred: Prediction, name: str, host: str | None = None, caller=None) -> Verdict:
    from shimsim import shim as shimmod     # H-replay's module: loaded only when verdicts are asked for
    spec = _spec(shimmod, name)
    abi = ident.abi
    host = host or machine_abi()
    if spec.guest == shimmod.ANY:
        if spec.name in IDENTITY_SHIMS and abi != host and not _runs_natively(abi, host):
            return Verdict(spec.name, abi, host, CANNOT,
                           f"cannot run: no layer for this ABI ({abi} binary, {spec.name} host is {host})")
        try:
            compiled = _compiled(shimmod, spec, abi)
        except ShimsimError as exc:
            return Verdict(spec.name, abi, host, CANNOT, f"cannot evaluate: {exc}")
        host_name = host if spec.name in IDENTITY_SHIMS else abi
        bh = getattr(compiled, "bare", None)
        if bh is not None:
            host_name = bh.host
            if bh.loader != "same":
                return Verdict(spec.name, abi, host_name, CANNOT, f"cannot run as intended: no layer: {bh.loader_text}"
                               + ("; each call's number is read from the host's own table and its errors come "
                                  "back as successes: the program goes wrong silently" if bh.loader == "starts" else ""))
    else:
        spec = shimmod.for_guest(spec, abi)
        if abi != spec.guest:
            return Verdict(spec.name, spec.guest, spec.host, CANNOT,
                           f"cannot run: no layer for this ABI ({abi} binary; {spec.name} runs {spec.guest} guests)")
        compiled = _compiled(shimmod, spec, None)
        host_name = compiled.host_name
    return _judge(spec.name, compiled, pred, abi, host_name, spec.default_note, caller)


def _runs_natively(abi: str, host: str) -> bool:
    """The host kernel itself runs ABI's binaries (abis.toml native_guests: x86-64 Linux runs
    i386 binaries through its ia32 entry)."""
    from shimsim import tables

    try:
        return abi in tables.default_tables().facts(host).native_guests
    except ShimsimError:
        return False


_SPECS: dict[str, object] = {}


def _spec(shimmod, name: str):
    if name not in _SPECS:
        _SPECS[name] = shimmod.load_spec(name)
    return _SPECS[name]


def _judge(name: str, compiled, pred: Prediction, guest: str, host: str, default_note: str,
           caller=None) -> Verdict:
    from shimsim import shim as shimmod
    names = shimmod.OUTCOME_NAMES
    errnames = {v: k for k, v in compiled.guest.errno.members.items() if v is not None}
    counts: dict[str, int] = {}
    calls: list[Call] = []
    for sc_name in pred.names():
        if sc_name.startswith("#"):
            sc = compiled.guest.by_number.get(int(sc_name[1:]))
        else:
            sc = compiled.guest.by_name.get(sc_name)
        origins = [o.text for o in pred.syscalls[sc_name][:3]]
        if sc is None:
            counts["unknown"] = counts.get("unknown", 0) + 1
            calls.append(Call(sc_name, "unknown", f"not a {guest} syscall", origins=origins))
            continue
        nr = sc.number
        code = compiled.outcome[nr] if nr < len(compiled.outcome) else shimmod.UNKNOWN
        outcome = names[code]
        counts[outcome] = counts.get(outcome, 0) + 1
        if code in (shimmod.TRANSLATED, shimmod.EMULATED):
            continue
        call = Call(sc_name, outcome, compiled.notes.get(nr, ""), vdso_only=sc_name in pred.vdso_only,
                    origins=origins, library_only=sc_name not in pred.direct)
        if code == shimmod.FAILED:
            call.errno = errnames.get(compiled.fail_err[nr], str(compiled.fail_err[nr]))
            fid = compiled.fallback_for(nr, caller)
            if fid >= 0:
                call.fallback = compiled.fallback_text(fid)
            elif compiled.fallback_rows.get(nr):
                who = ", ".join(sorted({compiled.fallbacks[f].who() for f in compiled.fallback_rows[nr]}))
                call.note = (call.note + "; " if call.note else "") + \
                    f"no fallback in this program ({caller.text() if caller else '?'}); {who} would retry it"
        calls.append(call)
    failed = [c for c in calls if c.outcome == "failed"]
    fatal = [c for c in failed if not c.fallback and not c.vdso_only]
    total = len(pred.names())
    if not total:
        status, reason = UNKNOWN, ("nothing predicted: "
                                   + ("; ".join(pred.notes[:2]) or "no libc table and no numbered raw sites"))
    elif len(failed) == total:          # nothing at all is served: fallbacks have nowhere to go
        status, reason = CANNOT, f"cannot run: every predicted call fails ({default_note})"
    elif [c for c in fatal if not c.library_only]:
        hard = [c for c in fatal if not c.library_only]
        status = FAILS
        reason = f"{len(hard)} predicted call(s) fail: " + ", ".join(f"{c.syscall} ({c.errno})" for c in hard[:8]) \
            + (" ..." if len(hard) > 8 else "")
    elif fatal:
        status = MAY_FAIL
        reason = (f"{len(fatal)} call(s) fail that only libraries import, so the program may never make them: "
                  + ", ".join(f"{c.syscall} ({c.errno})" for c in fatal[:8]) + (" ..." if len(fatal) > 8 else ""))
    elif calls:
        status = DEGRADED
        reason = f"{len(calls)} call(s) not fully supported (partial, stubbed, faked, or failing with a fallback)"
    else:
        status, reason = RUNS, f"all {total} predicted calls are translated or emulated"
    return Verdict(name, guest, host, status, reason, counts, calls)
