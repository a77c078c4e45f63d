# SPDX-License-Identifier: MIT
"""Real layers as the judge: run the command under gVisor's ``runsc`` or QEMU's
user mode, read the layer's own log of every call, and set the model's
prediction beside it, program by program and call by call.

    from shimsim.probe import real
    r = real.probe("runsc", ["cat", "/etc/hostname"])      # real.RealProbe
    r.predicted, r.observed, r.agree, r.calls.rate

runsc (gVisor on this host's ABI, linux-x86_64):

1. the command runs under ``runsc --platform=ptrace --network=none --strace do``
   (first: the sandbox's root is an overlay, so the files it writes are gone
   before the native run) and the boot log (format runsc-strace) gives each
   call's real result;
2. it runs again natively under ``strace -f``; that recording is replayed
   through the model of the installed release (``runsc --version`` ->
   ``gvisor@RELEASE`` when shipped, else ``gvisor``): a fatal divergence
   predicts "breaks";
3. (the prediction uses only the native recording, never the layer's log);
4. per process, the two call sequences are aligned by name; for every
   aligned pair the model says whether the layer changes the call's result
   (the shim fails, stubs or fakes it where the native call did otherwise)
   and the layer's log says whether it did.

qemu (QEMU user mode, a foreign-architecture binary):

1. it runs under ``qemu-ARCH -L SYSROOT -d strace,unimp -D LOG``; the log
   (format qemu-strace, the guest ABI) is the only recording there is: a
   foreign binary cannot run natively here;
2. the native recording is reconstructed from it: each call QEMU answered
   with ENOSYS is taken to succeed natively (a Linux kernel of the guest's
   architecture implements its own table), everything else as recorded;
3. that recording is replayed through ``qemu-user@VERSION``: a fatal
   divergence predicts "breaks"; per call, the model says whether QEMU
   fails it, the log says whether it did;
4. the program's result is compared with a native run of the host's build
   of the same program (the path inside the sysroot, outside it) when the
   host has one.

Every run is its own process group, killed at the timeout.  ``runsc do``
keeps its container state in a directory of its own (/tmp/runsc-doNNN,
named in its logs, whatever --root says): afterwards its containers are
force-deleted, its sandbox and gofer processes (own sessions, out of the
group's reach) killed by pid, and the directory removed, so nothing is left
behind.
"""
from __future__ import annotations

import difflib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from shimsim import engine as _engine
from shimsim import model, trace
from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim.callers import CallerTracker
from shimsim.errors import ShimsimError
from shimsim.probe import recording as _rec
from shimsim.probe import supervise
from shimsim.probe.runner import Agreement, process_status

LAYERS = {"runsc": "runsc", "gvisor": "runsc", "qemu": "qemu", "qemu-user": "qemu"}
# the shim outcomes under which the layer itself decides the result
CHANGING = {1: "failed", 2: "faked", 3: "stubbed"}
RUNSC_FLAGS = ("--platform=ptrace", "--network=none")


# --------------------------------------------------------------------------- runs

@dataclass
class Run:
    tag: str
    argv: list[str]
    returncode: int | None
    timed_out: bool
    seconds: float
    stdout: Path
    stderr: Path
    log: Path | None = None

    def status(self) -> str:
        return process_status(self.returncode, self.timed_out)

    def output(self) -> bytes:
        return self.stdout.read_bytes()


def _run(tag: str, argv: list[str], workdir: Path, timeout: float, cwd: str | None = None) -> Run:
    out, err = workdir / f"{tag}.stdout", workdir / f"{tag}.stderr"
    rc, timed_out, seconds = supervise.run(argv, out, err, timeout, cwd)
    return Run(tag, argv, rc, timed_out, seconds, out, err)


def find_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ShimsimError(f"{name} is not installed (Debian: apt-get install "
                           f"{'runsc' if name == 'runsc' else 'qemu-user'})")
    return path


def runsc_release(runsc: str | None = None) -> str:
    """The gVisor release of the installed runsc: 'runsc version 0.0~20221219.0' -> '20221219'."""
    runsc = runsc or find_tool("runsc")
    out = subprocess.run([runsc, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"runsc version (?:\S*~)?(?:release-)?(\d{8})(?:\.\d+)?", out)
    if not m:
        raise ShimsimError(f"cannot read the gVisor release from 'runsc --version': {out.strip()!r}")
    return m.group(1)


def qemu_version(qemu: str) -> str:
    out = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=30).stdout
    m = re.search(r"version (\d+)\.(\d+)", out)
    if not m:
        raise ShimsimError(f"cannot read QEMU's version from '{qemu} --version': {out.strip()!r}")
    return f"{m.group(1)}.{m.group(2)}"


def shim_for(layer: str, version: str, guest: str) -> str:
    """The shipped model of this release, or the unversioned one (said so in the report)."""
    stem = {"runsc": {"linux-x86_64": "gvisor", "linux-aarch64": "gvisor-arm64"},
            "qemu": {"linux-aarch64": "qemu-user", "linux-riscv64": "qemu-user-riscv64"}}[layer].get(guest)
    if stem is None:
        raise ShimsimError(f"no {layer} model for guest {guest}")
    names = _shim.list_shims()
    if f"{stem}@{version}" in names:
        return f"{stem}@{version}"
    if stem in names:
        return stem
    raise ShimsimError(f"no shipped model {stem}@{version} (have: {', '.join(n for n in names if n.startswith(stem))})")


def run_runsc(cmd: list[str], workdir: Path, timeout: float, runsc: str) -> tuple[Run, Path]:
    """CMD under runsc do with --strace; the run and the boot log."""
    root = workdir / "runsc-root"
    logdir = workdir / "runsc-log"
    root.mkdir(parents=True, exist_ok=True)
    logdir.mkdir(parents=True, exist_ok=True)
    argv = [runsc, f"--root={root}", *RUNSC_FLAGS, "--strace", "--debug", f"--debug-log={logdir}/", "do", *cmd]
    try:
        run = _run("runsc", argv, workdir, timeout)
    finally:
        cleanup_runsc(runsc, root)
        for do_root in do_roots(logdir):
            cleanup_runsc(runsc, do_root)
            kill_root_processes(do_root)
            if do_root.parent == Path(tempfile.gettempdir()) and do_root.name.startswith("runsc-do"):
                shutil.rmtree(do_root, ignore_errors=True)
    start_failure(run)
    boot = sorted(logdir.glob("*.boot.txt"))
    if not boot:
        err = run.stderr.read_text(errors="replace").strip()
        raise ShimsimError(f"runsc wrote no boot log in {logdir} (did the sandbox start? {err[:300]})")
    run.log = boot[-1]
    return run, boot[-1]


def start_failure(run: Run) -> None:
    """A clear error when runsc itself failed before the program ran (it exits 128 and says
    "creating container: ..."), instead of scoring the program as broken by the layer."""
    if run.returncode != 128:
        return
    lines = run.stderr.read_text(errors="replace").strip().splitlines()
    last = lines[-1] if lines else ""
    if not last.startswith("creating container:"):
        return
    tmp = os.environ.get("TMPDIR")
    hint = (f"; 'runsc do' keeps its state under TMPDIR={tmp}, and fails so when that lies inside a "
            "directory other users cannot enter" if tmp else "")
    raise ShimsimError(f"runsc could not start the sandbox ({last.strip()}){hint}; its output is in {run.stderr}")


def do_roots(logdir: Path) -> list[Path]:
    """The state directories 'runsc do' made for itself (it replaces --root with a
    new /tmp/runsc-doNNN), read from the Args line of its own logs."""
    roots: set[Path] = set()
    for log in logdir.glob("*.txt"):
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                for _ in range(4):
                    m = re.search(r"Args: \[\S+ (?:.* )?--root=(\S+)", f.readline())
                    if m:
                        roots.add(Path(m.group(1)))
                        break
        except OSError:
            continue
    return sorted(roots)


def kill_root_processes(root: Path) -> list[int]:
    """SIGKILL, by pid, the runsc processes (sandbox, gofer) started with this root;
    they run in their own sessions, out of reach of the run's process group."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(a == f"--root={root}".encode() for a in argv) and Path(argv[0].decode(errors="replace")).name.startswith("runsc"):
            try:
                os.kill(int(d.name), signal.SIGKILL)
                pids.append(int(d.name))
            except ProcessLookupError:
                pass
    return pids


def cleanup_runsc(runsc: str, root: Path) -> list[str]:
    """Force-delete every container left under this private root; the ids removed."""
    try:
        out = subprocess.run([runsc, f"--root={root}", "list", "--quiet"], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    ids = [x for x in out.split() if x]
    for cid in ids:
        subprocess.run([runsc, f"--root={root}", "delete", "--force", cid], capture_output=True, timeout=30)
    return ids


def run_native(cmd: list[str], workdir: Path, timeout: float, strace: str) -> tuple[Run, Path]:
    rec = workdir / "native.strace"
    run = _run("native", [strace, "-f", "-o", str(rec), "--", *cmd], workdir, timeout)
    run.log = rec
    return run, rec


def run_qemu(cmd: list[str], workdir: Path, timeout: float, qemu: str, sysroot: str | None) -> tuple[Run, Path]:
    log = workdir / "qemu.strace"
    argv = [qemu, *(["-L", sysroot] if sysroot else []), "-d", "strace,unimp", "-D", str(log), *cmd]
    run = _run("qemu", argv, workdir, timeout)
    if not log.exists():
        err = run.stderr.read_text(errors="replace").strip()
        raise ShimsimError(f"{qemu} wrote no -strace log ({err[:300]})")
    run.log = log
    return run, log


# --------------------------------------------------------------------------- events

def load_events(path: Path, fmt: str, abi: str, engine: str | None) -> tuple[list[model.Event], int]:
    t = trace.open([str(path)], format=fmt, abi=abi, strict=False, engine=engine)
    return list(t.events()), t.stats.unparsed_count


def after_first_exec(events: list[model.Event]) -> list[model.Event]:
    """The command's events in a strace recording: everything after the first
    process's first successful execve (strace shows the exec of the command
    itself).  runsc's log needs no cut: the sandbox loads the command without
    an execve, and a later execve there is one of the command's own."""
    root = next((ev.pid for ev in events if ev.pid is not None), None)
    for i, ev in enumerate(events):
        if ev.pid == root and ev.kind == model.SYSCALL and ev.name == "execve" and ev.rec == model.SUCCESS:
            return events[i + 1:]
    return events


def exit_status(events: list[model.Event]) -> str | None:
    root = next((ev.pid for ev in events if ev.pid is not None), None)
    status = None
    for ev in events:
        if ev.pid == root and ev.kind == model.EXIT:
            status = f"exit {ev.ret}"
        elif ev.pid == root and ev.kind == model.KILLED:
            status = f"killed by {ev.name}"
    return status


def as_recording(path: Path, events: list[model.Event]) -> _rec.Recording:
    root = next((ev.pid for ev in events if ev.pid is not None), -1)
    start = events[0] if events else model.Event(kind=model.SYSCALL, file=str(path), line=0)
    return _rec.Recording(path, events, start, root)


# --------------------------------------------------------------------------- per call

@dataclass
class CallVerdict:
    """One call the real layer made, the model's word on it and the layer's."""
    name: str
    model: str              # "changes" (fails/stubs/fakes it) or "keeps"
    model_note: str
    real: str               # "changes" or "keeps"
    native: str | None      # the native result (runsc: the aligned call; qemu: reconstructed)
    layer: str              # the result in the layer's log
    file: str
    line: int

    @property
    def agree(self) -> bool:
        return self.model == self.real

    def to_json(self) -> dict:
        return {"syscall": self.name, "model": self.model, "model_rule": self.model_note, "real": self.real,
                "native": self.native, "layer": self.layer, "where": f"{self.file}:{self.line}", "agree": self.agree}


@dataclass
class CallComparison:
    verdicts: list[CallVerdict] = field(default_factory=list)
    unaligned_native: int = 0
    unaligned_layer: int = 0

    @property
    def compared(self) -> int:
        return len(self.verdicts)

    @property
    def agreeing(self) -> int:
        return sum(1 for v in self.verdicts if v.agree)

    @property
    def rate(self) -> float | None:
        return self.agreeing / self.compared if self.compared else None

    def first_divergence(self) -> CallVerdict | None:
        """The first call (in the layer's log) whose result the layer changed."""
        return next((v for v in self.verdicts if v.real == "changes"), None)

    def first_missed(self) -> CallVerdict | None:
        """The first call the model got wrong, either way."""
        return next((v for v in self.verdicts if not v.agree), None)

    def disagreements(self) -> dict[str, dict]:
        """Per syscall name: the calls the model got wrong, in each direction."""
        out: dict[str, dict] = {}
        for v in self.verdicts:
            if v.agree:
                continue
            d = out.setdefault(v.name, {"missed": 0, "false_alarm": 0, "example": v.to_json()})
            d["missed" if v.real == "changes" else "false_alarm"] += 1
        return out

    def changed(self) -> dict[str, dict]:
        """Per syscall name, the calls whose result the layer changed, and how many the model foresaw."""
        out: dict[str, dict] = {}
        for v in self.verdicts:
            if v.real == "changes":
                d = out.setdefault(v.name, {"calls": 0, "predicted": 0, "layer": v.layer, "native": v.native})
                d["calls"] += 1
                d["predicted"] += v.model == "changes"
        return out

    def to_json(self) -> dict:
        fd = self.first_divergence()
        return {"compared": self.compared, "agree": self.agreeing, "changed_by_layer": self.changed(),
                "rate": None if self.rate is None else round(self.rate, 4),
                "unaligned": {"native": self.unaligned_native, "layer": self.unaligned_layer},
                "first_divergence": fd.to_json() if fd else None,
                "first_divergence_predicted": None if fd is None else fd.model == "changes",
                "first_disagreement": None if self.first_missed() is None else self.first_missed().to_json(),
                "disagreements": self.disagreements()}


def _desc(ev: model.Event) -> str:
    if ev.rec == model.ERROR:
        return f"-1 {ev.errname}"
    if ev.rec == model.SUCCESS:
        return str(ev.ret)
    return "?"


class Model:
    """The shim's per-call word: does the layer decide this call's result itself?"""

    def __init__(self, cs: _shim.CompiledShim) -> None:
        self.cs = cs
        fam = cs.guest.errno
        self.errnames = {v: k for k, v in fam.members.items() if v is not None}

    def rule(self, ev: model.Event) -> tuple[str, str]:
        nr = ev.nr
        if nr is None or nr < 0 or nr >= self.cs.nsys:
            return "keeps", "not in the guest table"
        o = self.cs.outcome[nr]
        if o == 1:
            err = self.errnames.get(self.cs.fail_err[nr], str(self.cs.fail_err[nr]))
            return "changes", f"fails {err}"
        if o in CHANGING:
            return "changes", CHANGING[o]
        return "keeps", _shim.OUTCOME_NAMES[o]

    def predicts_change(self, ev: model.Event, native: model.Event | None) -> tuple[str, str]:
        """'changes' when the shim's result differs from the native one."""
        word, note = self.rule(ev)
        if word == "keeps":
            return word, note
        ref = native if native is not None else ev
        o = self.cs.outcome[ev.nr]  # type: ignore[index]
        if o == 1 and ref.rec == model.ERROR and ref.err == self.cs.fail_err[ev.nr]:  # type: ignore[index]
            return "keeps", note + " (as natively)"
        if o in (2, 3) and ref.rec == model.SUCCESS and ref.ret == 0:
            return "keeps", note + " (0 as natively)"
        return "changes", note


_STRACE_PATH = re.compile(r'"(/[^"]*)"')
_RUNSC_PATH = re.compile(r"0x[0-9a-f]{5,} (/[^,)]*)")   # a pointer to a path; fds print as 0x3 /path


def align_key(ev: model.Event) -> tuple[str | None, str | None]:
    """What makes two calls the same step: the name and the first absolute path
    argument (strace quotes it, runsc prints it after the pointer)."""
    m = _STRACE_PATH.search(ev.args) or _RUNSC_PATH.search(ev.args)
    return ev.name, (m.group(1) if m else None)


def _same(a: model.Event, b: model.Event) -> bool:
    return _rec.outcome_key(a) == _rec.outcome_key(b)


def compare_aligned(native: _rec.Recording, layer: _rec.Recording, mdl: Model) -> CallComparison:
    """runsc: align the two runs per process by call name, judge every aligned pair."""
    cmp = CallComparison()
    pa, pb = _rec.processes(native), _rec.processes(layer)
    for key in pb:
        a = [ev for ev in pa.get(key, []) if ev.kind == model.SYSCALL and not _rec.is_noise(ev, set())]
        b = [ev for ev in pb[key] if ev.kind == model.SYSCALL and not _rec.is_noise(ev, set())
             and ev.rec in (model.SUCCESS, model.ERROR)]
        sm = difflib.SequenceMatcher(None, [align_key(e) for e in a], [align_key(e) for e in b], autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            pairs = list(zip(a[i1:i2], b[j1:j2]))
            if tag != "equal":
                # where the runs part, the calls both made first are still the same step
                # (the pidfd_open that failed under the layer, then the program went its own way)
                k = 0
                while k < len(pairs) and align_key(pairs[k][0]) == align_key(pairs[k][1]):
                    k += 1
                pairs = pairs[:k]
                cmp.unaligned_native += (i2 - i1) - k
                cmp.unaligned_layer += (j2 - j1) - k
            for ea, eb in pairs:
                if ea.rec not in (model.SUCCESS, model.ERROR):
                    continue
                word, note = mdl.predicts_change(eb, ea)
                real = "keeps" if _same(ea, eb) else "changes"
                cmp.verdicts.append(CallVerdict(eb.name or "?", word, note, real, _desc(ea), _desc(eb),
                                                eb.file, eb.line))
    cmp.verdicts.sort(key=lambda v: v.line)
    return cmp


def reconstruct_native(events: list[model.Event], enosys: int) -> list[model.Event]:
    """qemu: the guest's calls as a native kernel of its architecture would have
    answered them: QEMU's ENOSYS becomes success (0), the rest as recorded."""
    out = []
    for ev in events:
        if ev.kind == model.SYSCALL and ev.rec == model.ERROR and ev.err == enosys:
            ev = model.Event(**{**{f: getattr(ev, f) for f in ev.__slots__}, "rec": model.SUCCESS, "ret": 0,
                                "err": None, "errname": None, "extra": {**ev.extra, "assumed_native": True}})
        out.append(ev)
    return out


def compare_logged(log_events: list[model.Event], mdl: Model, enosys: int) -> CallComparison:
    """qemu: per call of the log, the model's word against QEMU's answer: QEMU
    changed the call when it answered ENOSYS (a native kernel would not have)."""
    cmp = CallComparison()
    for ev in log_events:
        if ev.kind != model.SYSCALL or ev.rec not in (model.SUCCESS, model.ERROR):
            continue
        real = "changes" if ev.rec == model.ERROR and ev.err == enosys else "keeps"
        native = model.Event(kind=model.SYSCALL, file=ev.file, line=ev.line, name=ev.name, nr=ev.nr,
                             rec=model.SUCCESS, ret=0) if real == "changes" else ev
        word, note = mdl.predicts_change(ev, native)
        cmp.verdicts.append(CallVerdict(ev.name or f"#{ev.nr}", word, note, real, _desc(native), _desc(ev),
                                        ev.file, ev.line))
    return cmp


# --------------------------------------------------------------------------- the probe

@dataclass
class RealProbe(Agreement):
    layer: str
    command: list[str]
    shim: str
    version: str
    report: _replay.Report
    reference: Run | None
    real: Run
    ref_status: str | None
    real_status: str
    calls: CallComparison
    compare_output: bool
    workdir: Path
    unparsed: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def predicted(self) -> str:
        return "breaks" if self.report.first_fatal is not None else "runs"

    def why_breaks(self) -> list[str]:
        why = []
        if self.real.timed_out and not (self.reference and self.reference.timed_out):
            why.append(f"the {self.layer} run hit the timeout")
        elif self.ref_status is not None and self.real_status != self.ref_status:
            why.append(f"status {self.real_status} under {self.layer} where the native run had {self.ref_status}")
        elif self.ref_status is None and self.real_status != "exit 0":
            why.append(f"status {self.real_status} under {self.layer} (no native run to compare)")
        if self.compare_output and self.reference is not None and self.reference.output() != self.real.output():
            why.append("stdout differs")
        return why

    def to_json(self) -> dict:
        ff = self.report.first_fatal
        return {
            "command": self.command, "layer": self.layer, "version": self.version, "shim": self.shim,
            "guest": self.report.guest, "predicted": self.predicted, "observed": self.observed, "agree": self.agree,
            "prediction": {"first_divergence": ff.to_json() if ff else None, "divergences": self.report.ndivergences,
                           "survivable": self.report.div_counts.get(_replay.DIV_FALLBACK, 0),
                           "syscall_events": self.report.syscalls},
            "reality": {"native": None if self.reference is None else
                        {"status": self.ref_status, "seconds": round(self.reference.seconds, 3),
                         "recording": str(self.reference.log) if self.reference.log else None},
                        "layer": {"status": self.real_status, "seconds": round(self.real.seconds, 3),
                                  "log": str(self.real.log), "argv": self.real.argv},
                        "stdout_compared": self.compare_output,
                        "stdout_same": None if self.reference is None else self.reference.output() == self.real.output(),
                        "stderr_same": None if self.reference is None else
                        self.reference.stderr.read_bytes() == self.real.stderr.read_bytes(),
                        "why": self.why_breaks()},
            "calls": self.calls.to_json(),
            "unparsed_lines": self.unparsed, "notes": self.notes, "workdir": str(self.workdir),
        }


def _workdir(out_dir: str | None) -> Path:
    if out_dir:
        p = Path(out_dir)
        p.mkdir(parents=True, exist_ok=True)
        return p
    return Path(tempfile.mkdtemp(prefix="shimsim-real-"))


def probe(layer: str, cmd: list[str], timeout: float = 60.0, compare_output: bool = False,
          out_dir: str | None = None, engine: str | None = None, shim_name: str | None = None,
          sysroot: str | None = None, arch: str = "aarch64") -> RealProbe:
    if layer not in LAYERS:
        raise ShimsimError(f"unknown real layer {layer!r}: one of {', '.join(LAYERS)}")
    if not cmd:
        raise ShimsimError("no command given")
    kind = LAYERS[layer]
    eng = _engine.select(engine)
    workdir = _workdir(out_dir)
    if kind == "runsc":
        return _probe_runsc(cmd, timeout, compare_output, workdir, eng, shim_name)
    return _probe_qemu(cmd, timeout, compare_output, workdir, eng, shim_name, sysroot, arch)


def _resolve(cmd: list[str]) -> list[str]:
    exe = cmd[0] if "/" in cmd[0] else shutil.which(cmd[0])
    if exe is None:
        raise ShimsimError(f"command not found: {cmd[0]}")
    return [os.path.abspath(exe), *cmd[1:]]


def _probe_runsc(cmd, timeout, compare_output, workdir, eng, shim_name) -> RealProbe:
    runsc = find_tool("runsc")
    strace = find_tool("strace")
    cmd = _resolve(cmd)
    version = runsc_release(runsc)
    abi = "linux-x86_64"
    name = shim_name or shim_for("runsc", version, abi)
    cs = _shim.load(name, abi)
    notes = []
    if not name.endswith(f"@{version}"):
        notes.append(f"no model of gVisor release {version} is shipped: {name} used instead")
    # the sandbox first: its root is an overlay, so what the command writes there is gone
    # afterwards and the native run starts from the same files (git init, cp, mkdir)
    real, log = run_runsc(cmd, workdir, timeout, runsc)
    native, rec_path = run_native(cmd, workdir, timeout, strace)
    nev, nbad = load_events(rec_path, "strace", abi, eng)
    nev = after_first_exec(nev)
    rev, rbad = load_events(log, "runsc-strace", abi, eng)
    # the command's own execve was cut with strace's events before it: name the program, so
    # that fallbacks apply only when it implements them
    report = _replay.replay_events(cs, nev, eng, callers=CallerTracker(binary=cmd[0]))
    calls = compare_aligned(as_recording(rec_path, nev), as_recording(log, rev), Model(cs))
    ref_status = "timeout" if native.timed_out else (exit_status(nev) or native.status())
    real_status = real.status()
    return RealProbe("runsc", cmd, name, version, report, native, real, ref_status, real_status, calls,
                     compare_output, workdir, {"native": nbad, "layer": rbad}, notes)


def _probe_qemu(cmd, timeout, compare_output, workdir, eng, shim_name, sysroot, arch) -> RealProbe:
    qemu = find_tool(f"qemu-{arch}")
    version = qemu_version(qemu)
    abi = {"aarch64": "linux-aarch64", "riscv64": "linux-riscv64"}.get(arch)
    if abi is None:
        raise ShimsimError(f"no qemu-user model for guest architecture {arch} (have: aarch64, riscv64)")
    name = shim_name or shim_for("qemu", version, abi)
    cs = _shim.load(name, abi)
    notes = []
    if not name.endswith(f"@{version}"):
        notes.append(f"no model of QEMU {version} is shipped: {name} used instead")
    exe = cmd[0]
    if sysroot and not exe.startswith("/"):
        raise ShimsimError("with --sysroot give the guest program as an absolute path inside the sysroot")
    guest_path = (Path(sysroot) / exe.lstrip("/")) if sysroot else Path(exe)
    if not guest_path.exists():
        raise ShimsimError(f"guest program not found: {guest_path}")
    real, log = run_qemu([str(guest_path), *cmd[1:]], workdir, timeout, qemu, sysroot)
    lev, lbad = load_events(log, "qemu-strace", abi, eng)
    enosys = cs.guest.errno.members.get("ENOSYS") or 38
    report = _replay.replay_events(cs, reconstruct_native(lev, enosys), eng)
    calls = compare_logged(lev, Model(cs), enosys)
    # the host's own build of the same program, when it has one, is the reference result
    reference, ref_status = None, None
    host_exe = shutil.which(exe) if "/" not in exe else (exe if Path(exe).exists() else None)
    if host_exe and sysroot:
        reference = _run("native", [host_exe, *cmd[1:]], workdir, timeout)
        ref_status = reference.status()
    else:
        notes.append("no host build of the program: judged by its exit status alone")
    return RealProbe("qemu", [str(guest_path), *cmd[1:]], name, version, report, reference, real, ref_status,
                     real.status(), calls, compare_output, workdir, {"layer": lbad}, notes)
