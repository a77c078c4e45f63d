# SPDX-License-Identifier: MIT
"""One pure analysis per input: what it uses and what each shim does with it.

``analyze(inp, shims)`` returns one JSON-ready row and never raises for bad
input: a file that cannot be read or parsed becomes a row with ``error`` set
(or ``skipped`` for a file met while walking a directory that is neither ELF
nor a trace).  The row depends only on the input's content and the shim
specs, so whichever process computes it, the row is the same.

Per shim the row says:

``verdict``
    ``runs`` (every used call translates), ``emulated`` (it runs, but the
    layer serves some calls itself: emulated, partial, stubbed, faked, or a
    failure the program survives), ``breaks``, or ``unknown`` (nothing to
    judge: an ELF with no predicted call);
``blockers``
    the used calls that make it break (for a trace: every call with a fatal
    divergence among the listed ones; for an ELF: every failing predicted call
    without a fallback, library imports included, as Tsai et al. count a
    package's whole footprint; for a Loupe workload: every used call the
    shim fails, stubs or fakes where Loupe found the workload does not
    survive it);
``outcomes``
    the shim's outcome for each used call that does not simply translate;
``first_fatal``
    a trace's first fatal divergence (file, line, syscall, reason).
"""
from __future__ import annotations

from typing import Any

from shimsim.corpus import inputs as _inputs
from shimsim.corpus import loupe as _loupe
from shimsim.corpus.verdicts import BREAKS, ELF_VERDICT, EMULATED, RUNS, UNKNOWN, VERDICTS  # noqa: F401
from shimsim.errors import ShimsimError

_SPECS: dict[str, Any] = {}
_COMPILED: dict[tuple[str, str], Any] = {}


def _spec(name: str):
    from shimsim import shim as shimmod
    if name not in _SPECS:
        _SPECS[name] = shimmod.load_spec(name)
    return _SPECS[name]


def _compiled(name: str, abi: str):
    """The shim compiled for a guest ABI (once per process), or None when it has no layer for it."""
    from shimsim import shim as shimmod
    key = (name, abi)
    if key not in _COMPILED:
        spec = _spec(name)
        if spec.guest != shimmod.ANY and spec.guest != abi:
            _COMPILED[key] = None
        else:
            _COMPILED[key] = shimmod.compile_shim(spec, abi if spec.guest == shimmod.ANY else None)
    return _COMPILED[key]


def _no_layer(name: str, abi: str) -> dict:
    spec = _spec(name)
    return {"verdict": BREAKS, "reason": f"no layer for {abi} ({spec.name} runs {spec.guest} guests)",
            "blockers": [], "outcomes": {}, "first_fatal": None}


def analyze(inp: _inputs.Input, shims: list[str], engine: str = "c") -> dict:
    """The row for one input (see the module docstring)."""
    row: dict[str, Any] = {"input": inp.path, "kind": inp.kind, "name": inp.name, "digest": inp.digest,
                           "abi": None, "syscalls": [], "shims": {}, "error": None, "skipped": None}
    try:
        if inp.kind == _inputs.LOUPE:
            _analyze_loupe(inp, shims, row)
        elif inp.kind == _inputs.ELF:
            _analyze_elf(inp, shims, row)
        elif inp.kind == _inputs.TRACE:
            _analyze_trace(inp, shims, row, engine)
        elif inp.kind == _inputs.IMAGE:
            from shimsim.corpus import images
            images.analyse(inp.path, shims, row, _outcomes)
        else:
            raise ShimsimError(f"unsupported input kind {inp.kind}")
    except _NotATrace as exc:
        if inp.explicit:
            row["error"] = str(exc)
        else:
            row["skipped"] = str(exc)
        row["shims"], row["syscalls"] = {}, []
    except (ShimsimError, OSError, UnicodeError, ValueError, RecursionError, MemoryError) as exc:
        row["error"] = _message(inp, exc)
        row["shims"], row["syscalls"] = {}, []
    return row


def analyze_many(batch: list[_inputs.Input], shims: list[str], engine: str = "c") -> list[dict]:
    """One task's worth of inputs (fewer, larger tasks keep the scheduler's overhead small)."""
    return [analyze(inp, shims, engine) for inp in batch]


def _message(inp: _inputs.Input, exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"{inp.path}: cannot read: {exc.strerror or exc}"
    if isinstance(exc, RecursionError):
        return f"{inp.path}: structure nested too deeply"
    text = str(exc)
    return text if inp.path in text else f"{inp.path}: {text}"


class _NotATrace(Exception):
    pass


# --------------------------------------------------------------------------- Loupe workloads

def _analyze_loupe(inp: _inputs.Input, shims: list[str], row: dict) -> None:
    from shimsim import shim as shimmod
    w = _loupe.read_workload(inp.path)
    row["abi"] = _loupe.ABI
    row["loupe"] = {"runs": w.runs, "used": len(w.used), "required": len(w.required)}
    names: dict[int, str] = {}
    for name in shims:
        cs = _compiled(name, _loupe.ABI)
        if cs is None:
            row["shims"][_spec(name).name] = _no_layer(name, _loupe.ABI)
            continue
        if not names:
            names = {nr: cs.syscall_name(nr) for nr in w.used}
        outcomes: dict[str, str] = {}
        blockers: list[str] = []
        served_itself = False
        for nr in sorted(w.used):
            sc = names[nr]
            code = cs.outcome[nr] if 0 <= nr < cs.nsys else shimmod.UNKNOWN
            if code == shimmod.TRANSLATED:
                continue
            outcomes[sc] = shimmod.OUTCOME_NAMES[code]
            if code in (shimmod.EMULATED, shimmod.PARTIAL):
                served_itself = True
            elif code == shimmod.FAILED:
                # Loupe tested ENOSYS; another errno is taken as the same refusal
                if cs.fallback[nr] >= 0 or nr in w.stub_ok:
                    served_itself = True
                else:
                    blockers.append(sc)
            elif code in (shimmod.STUBBED, shimmod.FAKED):
                if nr in w.fake_ok:
                    served_itself = True
                else:
                    blockers.append(sc)
            else:
                blockers.append(sc)
        verdict = BREAKS if blockers else EMULATED if served_itself else RUNS
        reason = (f"{len(blockers)} used call(s) the workload does not survive: {', '.join(blockers[:8])}"
                  if blockers else "")
        row["shims"][cs.name] = {"verdict": verdict, "reason": reason, "blockers": blockers,
                                 "outcomes": outcomes, "first_fatal": None}
    if not names:
        from shimsim import tables
        a = tables.load_abi(_loupe.ABI)
        names = {nr: (a.by_number[nr].name if nr in a.by_number else f"#{nr}") for nr in w.used}
    row["syscalls"] = sorted(names[nr] for nr in w.used)


# --------------------------------------------------------------------------- ELF binaries



def _analyze_elf(inp: _inputs.Input, shims: list[str], row: dict) -> None:
    from shimsim.elf import ElfReadError, inspect_path
    try:
        ins = inspect_path(inp.path, shims)
    except ElfReadError as exc:
        raise ShimsimError(f"{inp.path}: {exc}") from None
    abi = ins.identity.abi
    row["abi"] = abi
    names = ins.prediction.names()
    row["syscalls"] = names
    for name, v in zip(shims, ins.verdicts):
        outcomes = _outcomes(name, abi, names) if abi else {}
        blockers = sorted({c.syscall for c in v.fatal()})
        row["shims"][v.shim] = {"verdict": ELF_VERDICT.get(v.status, UNKNOWN), "reason": f"{v.status}: {v.reason}",
                                "blockers": blockers, "outcomes": outcomes, "first_fatal": None}


def _outcomes(name: str, abi: str, names: list[str]) -> dict[str, str]:
    """The shim's outcome for each named call of ``abi`` that does not simply translate."""
    from shimsim import shim as shimmod
    try:
        cs = _compiled(name, abi)
    except ShimsimError:
        return {}
    out: dict[str, str] = {}
    if cs is None:
        return out
    for sc in names:
        s = cs.guest.by_name.get(sc)
        code = cs.outcome[s.number] if s is not None and s.number < cs.nsys else shimmod.UNKNOWN
        if code != shimmod.TRANSLATED:
            out[sc] = shimmod.OUTCOME_NAMES[code]
    return out


# --------------------------------------------------------------------------- traces

def _analyze_trace(inp: _inputs.Input, shims: list[str], row: dict, engine: str) -> None:
    from shimsim import replay as _replay
    from shimsim import shim as shimmod
    from shimsim import trace
    from shimsim.errors import InputError
    try:
        t = trace.open([inp.path], engine=engine)
    except InputError as exc:
        if "cannot recognise the trace format" in exc.message:
            raise _NotATrace(f"{inp.path}: neither ELF nor a trace in a known format") from None
        raise
    row["abi"] = t.abi
    row["format"] = t.format
    rps: list[tuple[str, Any]] = []
    for name in shims:
        cs = _compiled(name, t.abi)
        if cs is None:
            row["shims"][_spec(name).name] = _no_layer(name, t.abi)
        else:
            rps.append((cs.name, _replay.Replayer(cs, engine)))
    if rps:
        if engine == "c":
            for b in t.batches():
                for _n, rp in rps:
                    rp.feed_batch(b.events, b.count, b.files, b.abis)
        else:
            buf: list = []
            for ev in t.events():
                buf.append(ev)
                if len(buf) >= 8192:
                    for _n, rp in rps:
                        rp.feed_events(buf)
                    buf = []
            for _n, rp in rps:
                rp.feed_events(buf)
    else:
        for _ in t.events():          # no shim has a layer for it: still read it, for the syscalls used
            pass
    used: set[str] = set(t.stats.syscalls or {})
    for name, rp in rps:
        rep = rp.finish()
        used |= set(rep.per_syscall)
        outcomes = {sc: rep.worst(sc) for sc in sorted(rep.per_syscall) if rep.worst(sc) != "translated"}
        blockers = sorted({d.syscall for d in rep.divergences if d.fatal}
                          | ({rep.first_fatal.syscall} if rep.first_fatal else set()))
        ff = rep.first_fatal
        if ff is not None:
            verdict = BREAKS
        elif any(rep.outcomes.get(o, 0) for o in (shimmod.EMULATED, shimmod.PARTIAL, shimmod.STUBBED,
                                                  shimmod.FAKED, shimmod.FAILED)):
            verdict = EMULATED
        elif rep.syscalls == 0:
            verdict = UNKNOWN
        else:
            verdict = RUNS
        row["shims"][name] = {
            "verdict": verdict, "reason": ff.reason if ff else "", "blockers": blockers, "outcomes": outcomes,
            "first_fatal": {"file": ff.file, "line": ff.line, "syscall": ff.syscall, "reason": ff.reason} if ff else None,
        }
    row["syscalls"] = sorted(used)
    row["unparsed_lines"] = t.stats.unparsed_count
