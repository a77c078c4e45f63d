# SPDX-License-Identifier: MIT
"""``probe --minimize``: the Loupe experiment (Lefeuvre et al., ASPLOS 2024).

For each distinct syscall the command makes (from a normal recording), run
the command with that one call failing with ENOSYS, and again with it
returning 0 without running (a stub, in shimsim's spec vocabulary: ``do =
"stub"``; Loupe names the ENOSYS trial "stubbed" and the 0 trial "faked",
unikraft/loupe@02e837c8:src/explore.py), and see whether the result (exit
status, and stdout with compare_output) stays that of a normal run.  A call
whose failure and stub both change the result is *required*; the others can
be failed, or at least stubbed.  Compared with the shim: a call the shim
fails (or stubs) where that treatment changes the result is a blocker.

Trials are plain runs through the exec wrapper (no strace: only the result
matters), bounded by the timeout, at most ``jobs`` at a time.  The baseline
is run twice first: a command whose normal result is not reproducible cannot
be minimised, and the probe says so instead of reporting noise.
"""
from __future__ import annotations

import hashlib
import itertools
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from shimsim import engine as _engine
from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim.errors import ShimsimError
from shimsim.probe import check
from shimsim.probe import plan as _plan
from shimsim.probe import recording as _rec
from shimsim.probe import runner

ENOSYS = "ENOSYS"


@dataclass(frozen=True)
class Result:
    """What a run came to, as far as the comparison goes."""
    status: str
    stdout: str | None        # sha256 of stdout when outputs are compared

    def describe(self) -> str:
        return self.status + ("" if self.stdout is None else f", stdout {self.stdout[:12]}")


@dataclass
class Trial:
    syscall: str
    mode: str                  # "fail" (ENOSYS), "stub" (returns 0), "shim" (the shim's own errno), "combined"
    errno: int
    result: Result | None = None
    pairs: list[list[int]] = field(default_factory=list)


@dataclass
class SyscallVerdict:
    name: str
    calls: int
    baseline: Result
    shim_outcome: str
    shim_errno: str | None
    fail: Trial | None = None
    stub: Trial | None = None
    shim_trial: Trial | None = None     # the shim's own errno, when it is not ENOSYS
    kept: str | None = None             # why it was not tried
    predicted: str = "runs"             # the replay's word on this call: fatal, survivable, runs

    @property
    def klass(self) -> str:
        """failable, stubbable (fails but may return 0), required, or kept (not tried)."""
        if self.kept is not None or self.fail is None or self.stub is None:
            return "kept"
        if self.fail.result == self.baseline:
            return "failable"
        if self.stub.result == self.baseline:
            return "stubbable"
        return "required"

    def blocker(self) -> bool:
        """The shim's own treatment of this call changes the result."""
        if self.kept is not None:
            return False
        if self.shim_outcome == "failed":
            t = self.shim_trial or self.fail
            return t is not None and t.result != self.baseline
        if self.shim_outcome in ("stubbed", "faked"):
            return self.stub is not None and self.stub.result != self.baseline
        return False


def _predictions(report: _replay.Report) -> dict[str, str]:
    """Per syscall, the worst the replay said about it: fatal, survivable (a known fallback)."""
    out: dict[str, str] = {}
    for d in report.divergences:
        if d.fatal:
            out[d.syscall] = "fatal"
        elif d.code == _replay.DIV_FALLBACK:
            out.setdefault(d.syscall, "survivable")
    return out


@dataclass
class MinimizeResult:
    setup: check.Setup
    baseline: Result
    verdicts: list[SyscallVerdict]
    combined: Trial | None
    trials: int                # runs made, baselines included
    compare_output: bool
    recording: str
    conflicts: list[str] | None = None   # harmless alone, not together (None: not searched)

    def names(self, klass: str) -> list[str]:
        return [v.name for v in self.verdicts if v.klass == klass]

    def to_json(self) -> dict:
        s = self.setup
        rows = []
        for v in self.verdicts:
            rows.append({
                "name": v.name, "calls": v.calls, "class": v.klass,
                "fail": None if v.fail is None else _trial_json(v.fail, self.baseline),
                "stub": None if v.stub is None else _trial_json(v.stub, self.baseline),
                "shim": {"outcome": v.shim_outcome, "errno": v.shim_errno,
                         **({"trial": _trial_json(v.shim_trial, self.baseline)} if v.shim_trial else {})},
                "blocker": v.blocker(), "predicted": v.predicted,
                **({"kept": v.kept} if v.kept else {}),
            })
        required = self.names("required")
        blockers = [v.name for v in self.verdicts if v.blocker()]
        tried = [v for v in self.verdicts if v.kept is None]
        fatal = {v.name for v in tried if v.predicted == "fatal"}
        return {
            "command": s.cmd, "executable": s.exe, "shim": s.cs.name, "guest": s.cs.guest.name,
            "host": s.cs.host_name, "baseline": self.baseline.describe(),
            "compare_output": self.compare_output, "recording": self.recording,
            "called": [v.name for v in self.verdicts],
            "required": required,
            "failable": self.names("failable"),
            "stubbable": self.names("stubbable"),
            "kept": {v.name: v.kept for v in self.verdicts if v.kept},
            "shim_supports_required": [n for n in required if n not in blockers],
            "blockers": blockers,
            "required_blockers": [n for n in required if n in blockers],
            "combined": None if self.combined is None else {
                **_trial_json(self.combined, self.baseline),
                "failed": sorted(self.names("failable")), "stubbed": sorted(self.names("stubbable")),
                "conflicts": self.conflicts},
            "prediction": {
                # per call: the replay's fatal divergences against the single-call trials
                # with the shim's own treatment (a blocker = that treatment changes the result)
                "fatal": sorted(fatal),
                "confirmed": sorted(fatal & set(blockers)),
                "false_alarms": sorted(fatal - set(blockers)),
                "missed": sorted(set(blockers) - fatal),
            },
            "trials": self.trials,
            "syscalls": rows,
            "workdir": str(s.workdir),
        }


def _trial_json(t: Trial, base: Result) -> dict:
    assert t.result is not None
    return {"errno": t.errno, "result": t.result.describe(), "unchanged": t.result == base}


def minimize(shim_name: str, cmd: list[str], timeout: float = 60.0, compare_output: bool = False,
             out_dir: str | None = None, jobs: int = 2, engine: str | None = None,
             repeat: int = 1) -> MinimizeResult:
    """REPEAT: runs per trial; a treatment counts as harmless only if every run of it
    gives the baseline result (a program that breaks now and then is not fine)."""
    s = check.setup(shim_name, cmd, out_dir)
    normal = runner.run("normal", s.workdir, s.exe, s.cmd, [], s.execve_nr, timeout, s.strace)
    if normal.timed_out:
        raise ShimsimError(f"the normal run of {' '.join(cmd)} did not finish within {timeout:g} s (--timeout)")
    eng = _engine.select(engine)
    rec = _rec.load(normal.recording, s.abi, eng)  # type: ignore[arg-type]
    called = rec.syscall_names()
    predicted = _predictions(_replay.replay_events(s.cs, rec.events, eng, callers=check.command_callers(rec)))
    guest = s.cs.guest
    errno = guest.errno.members
    enosys = errno[ENOSYS]
    names_by_err = {v: n for n, v in reversed(list(errno.items())) if v is not None}
    trialdir = Path(tempfile.mkdtemp(prefix="trials-", dir=s.workdir))

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    counter = itertools.count()

    def result_of(pairs: list[list[int]]) -> Result:
        tag = f"t{next(counter)}"
        r = runner.run(tag, trialdir, s.exe, s.cmd, pairs, s.execve_nr, timeout, None)
        digest = hashlib.sha256(r.output()).hexdigest() if compare_output else None
        for p in (r.stdout, r.stderr, trialdir / f"{tag}.filter.json"):
            p.unlink(missing_ok=True)
        return Result(r.status(), digest)

    try:
        base1, base2 = pool.map(result_of, [[], []])
        if base1 != base2:
            raise ShimsimError(f"the command's result is not reproducible ({base1.describe()} then "
                               f"{base2.describe()}): nothing can be minimised against it")
        verdicts: list[SyscallVerdict] = []
        trials: list[Trial] = []
        for name in sorted(called):
            sc = guest.by_name.get(name)
            out = s.cs.outcome[sc.number] if sc else _shim.UNKNOWN
            shim_err = s.cs.fail_err[sc.number] if sc and out == _shim.FAILED else None
            v = SyscallVerdict(name, called[name], base1, _shim.OUTCOME_NAMES[out],
                               names_by_err.get(shim_err) if shim_err is not None else None,
                               predicted=predicted.get(name, "runs"))
            if sc is None:
                v.kept = f"not a syscall of {guest.name}"
            elif name in _plan.KEEP:
                v.kept = _plan.KEEP[name]
            else:
                _plan.check_numbers(guest, [name])
                v.fail = Trial(name, "fail", enosys, pairs=[[sc.number, enosys]])
                v.stub = Trial(name, "stub", 0, pairs=[[sc.number, 0]])
                trials += [v.fail, v.stub]
                if shim_err is not None and shim_err != enosys:
                    v.shim_trial = Trial(name, "shim", shim_err, pairs=[[sc.number, shim_err]])
                    trials.append(v.shim_trial)
            verdicts.append(v)
        def trial_result(pairs: list[list[int]]) -> Result:
            for _ in range(max(1, repeat)):
                r = result_of(pairs)
                if r != base1:
                    return r
            return base1

        for t, res in zip(trials, pool.map(lambda t: trial_result(t.pairs), trials)):
            t.result = res
        combined = None
        pairs = []
        for v in verdicts:
            if v.kept is None and v.klass != "required":
                nr = guest.by_name[v.name].number
                pairs.append([nr, enosys if v.klass == "failable" else 0])
        if pairs:
            combined = Trial("*", "combined", -1, pairs=pairs)
            combined.result = trial_result(pairs)
        conflicts: list[str] | None = None
        if combined is not None and combined.result != base1:
            conflicts = _greedy(verdicts, guest, enosys, trial_result, base1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    try:
        trialdir.rmdir()
    except OSError:
        pass
    return MinimizeResult(s, base1, verdicts, combined, next(counter), compare_output, str(normal.recording),
                          conflicts)


def _greedy(verdicts, guest, enosys, trial_result, base) -> list[str]:
    """The individually harmless treatments do not all hold together: add them one
    at a time (in name order), keeping each only if the result stays the baseline.
    Returns the calls that had to be left out (they conflict with the ones before)."""
    kept_pairs: list[list[int]] = []
    conflicts: list[str] = []
    for v in verdicts:
        if v.kept is not None or v.klass == "required":
            continue
        pair = [guest.by_name[v.name].number, enosys if v.klass == "failable" else 0]
        if trial_result(kept_pairs + [pair]) == base:
            kept_pairs.append(pair)
        else:
            conflicts.append(v.name)
    return conflicts
