# SPDX-License-Identifier: MIT
"""``probe``: the shim's prediction for a command against what really happens.

1. run the command normally under strace (through the exec wrapper, no filter);
2. run it again under strace with the shim's failures imposed by seccomp;
3. replay the normal recording through the shim: a fatal (non-survivable)
   divergence predicts that the program breaks;
4. observe: the filtered run breaks when its exit status differs from the
   normal run's (killed by a signal, a different exit code, the timeout), or,
   with compare_output, when its stdout differs;
5. find where the two recordings part.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from shimsim import callers as _callers
from shimsim import engine as _engine
from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim.probe import plan as _plan
from shimsim.probe import recording as _rec
from shimsim.probe import runner


@dataclass
class Setup:
    """Everything both commands check before running anything."""
    abi: str
    exe: str
    cmd: list[str]
    cs: _shim.CompiledShim
    plan: _plan.Plan
    strace: str | None
    seccomp_version: str
    workdir: Path
    execve_nr: int


def setup(shim_name: str, cmd: list[str], out_dir: str | None, need_strace: bool = True) -> Setup:
    abi = _plan.host_abi()
    exe = _plan.resolve_command(cmd)
    strace = _plan.strace_path() if need_strace else None
    version = _plan.check_seccomp()
    cs = _plan.load_shim(shim_name, abi)
    plan = _plan.plan_for(cs)
    if out_dir:
        workdir = Path(out_dir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        workdir = Path(tempfile.mkdtemp(prefix="shimsim-probe-"))
    return Setup(abi, exe, list(cmd), cs, plan, strace, version, workdir,
                 cs.guest.syscall("execve").number)


@dataclass
class ProbeResult(runner.Agreement):
    setup: Setup
    normal: runner.RunResult
    filtered: runner.RunResult
    rec_normal: _rec.Recording
    rec_filtered: _rec.Recording
    report: _replay.Report
    compare_output: bool
    again: runner.RunResult | None = None   # a second, untraced normal run (compare_output)

    @property
    def predicted(self) -> str:
        """breaks (a fatal divergence), uncertain (only fallbacks of an unidentified caller
        stand between the program and a break), or runs."""
        if self.report.first_fatal is not None:
            return "breaks"
        return "uncertain" if self.report.unconfirmed else "runs"

    def status(self, which: str) -> str:
        run = self.normal if which == "normal" else self.filtered
        rec = self.rec_normal if which == "normal" else self.rec_filtered
        if run.timed_out:
            return "timeout"
        return rec.exit_status or run.status()

    def output_differs(self) -> bool:
        return self.normal.output() != self.filtered.output()

    def output_reproducible(self) -> bool | None:
        """Whether two normal runs print the same stdout (None: not checked).  A command
        whose output changes by itself (times, pids) cannot be judged by its output."""
        if self.again is None:
            return None
        return self.again.output() == self.normal.output()

    def why_breaks(self) -> list[str]:
        why = []
        if self.filtered.timed_out and not self.normal.timed_out:
            why.append("the filtered run hit the timeout")
        elif self.status("normal") != self.status("filtered"):
            why.append(f"status {self.status('filtered')} where the normal run had {self.status('normal')}")
        if self.compare_output and self.output_reproducible() is not False and self.output_differs():
            why.append("stdout differs")
        return why

    def parting(self) -> _rec.Parting | None:
        return _rec.parted_at(self.rec_normal, self.rec_filtered, {r.name for r in self.setup.plan.rules})

    def first_reproducible_divergence(self) -> _replay.Divergence | None:
        """The replay's first divergence of a kind the filter reproduces (a call
        failing, with or without a fallback, or a stub's 0); flag drops and errno
        translation are not imposed by seccomp, so they cannot make the runs part."""
        kinds = (_replay.DIV_FAILS, _replay.DIV_FALLBACK, _replay.DIV_RESULT)
        return next((d for d in self.report.divergences if d.code in kinds), None)

    def parting_as_predicted(self) -> bool:
        """Reality parted exactly at the call where the replay saw the first
        reproducible divergence (or neither saw anything)."""
        d, part = self.first_reproducible_divergence(), self.parting()
        if d is None or part is None:
            return d is None and part is None
        return part.normal is not None and (part.normal.file, part.normal.line) == (d.file, d.line)

    def to_json(self) -> dict:
        s, rep, part = self.setup, self.report, self.parting()
        ff = rep.first_fatal
        return {
            "command": s.cmd, "executable": s.exe, "shim": s.cs.name, "guest": s.cs.guest.name,
            "host": s.cs.host_name, "predicted": self.predicted, "observed": self.observed,
            "agree": self.agree,
            "parted_at": part.to_json() if part else None,
            "parting_as_predicted": self.parting_as_predicted(),
            "prediction": {
                "first_divergence": ff.to_json() if ff else None,
                "divergences": rep.ndivergences,
                "survivable": rep.div_counts.get(_replay.DIV_FALLBACK, 0),
                "survivable_unconfirmed": rep.unconfirmed,
                "callers": rep.callers,
                "outcomes": {_shim.OUTCOME_NAMES[o]: rep.outcomes.get(o, 0) for o in range(7)},
                "syscall_events": rep.syscalls, "engine": rep.engine,
            },
            "reality": {
                "normal": {"status": self.status("normal"), "seconds": round(self.normal.seconds, 3),
                           "recording": str(self.normal.recording), "events": len(self.rec_normal.events)},
                "filtered": {"status": self.status("filtered"), "seconds": round(self.filtered.seconds, 3),
                             "recording": str(self.filtered.recording), "events": len(self.rec_filtered.events)},
                "stdout_compared": self.compare_output,
                "stdout_differs": self.output_differs(),
                "stdout_reproducible": self.output_reproducible(),
                "why": self.why_breaks(),
            },
            "filter": {
                "rules": len(s.plan.rules),
                "failed": sum(1 for r in s.plan.rules if r.errno and r.arg < 0),
                "returning_0": sum(1 for r in s.plan.rules if not r.errno),
                # flag checks: the call fails only when its argument carries a flag the handler rejects
                "rejected_flags": sum(1 for r in s.plan.rules if r.arg >= 0),
                "kept": s.plan.kept,
                "libseccomp": s.seccomp_version,
            },
            "unparsed_lines": {"normal": self.rec_normal.unparsed, "filtered": self.rec_filtered.unparsed},
            "workdir": str(s.workdir),
        }


def command_callers(rec: _rec.Recording) -> _callers.CallerTracker:
    """A caller tracker that has seen the command's own execve (the recording starts after it)."""
    tr = _callers.CallerTracker()
    st = rec.start
    tr.see(st.name, st.pid, st.args, st.rec, st.ret)
    return tr


def probe(shim_name: str, cmd: list[str], timeout: float = 60.0, compare_output: bool = False,
          out_dir: str | None = None, engine: str | None = None) -> ProbeResult:
    eng = _engine.select(engine)
    s = setup(shim_name, cmd, out_dir)
    normal = runner.run("normal", s.workdir, s.exe, s.cmd, [], s.execve_nr, timeout, s.strace)
    filtered = runner.run("filtered", s.workdir, s.exe, s.cmd, s.plan.pairs(), s.execve_nr, timeout, s.strace)
    again = runner.run("normal-again", s.workdir, s.exe, s.cmd, [], s.execve_nr, timeout, None) \
        if compare_output else None
    rn = _rec.load(normal.recording, s.abi, eng)  # type: ignore[arg-type]
    rf = _rec.load(filtered.recording, s.abi, eng)  # type: ignore[arg-type]
    report = _replay.replay_events(s.cs, rn.events, eng, callers=command_callers(rn))
    return ProbeResult(s, normal, filtered, rn, rf, report, compare_output, again)
