# SPDX-License-Identifier: MIT
"""``shimsim probe``: run a real command normally and under a seccomp filter
that gives it exactly the shim's failures, and set the replay's prediction
beside what really happened."""
from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from shimsim.commands._common import add_engine, add_fail_on, add_json, add_old_spelling, fail_on, formatter, print_json
from shimsim.errors import ShimsimError

if TYPE_CHECKING:
    from shimsim.probe.check import ProbeResult
    from shimsim.probe.real import RealProbe

EPILOG = """examples:
  shimsim probe --shim gvisor -- cat /etc/hostname
  shimsim probe --shim wsl1 --json -- python3 -c 'import subprocess; subprocess.run(["true"])'
  shimsim probe --shim my-layer.toml --compare-output --timeout 20 -- git --version
  shimsim probe --minimize --shim linuxulator --compare-output -- cat /etc/hostname
  shimsim probe --real runsc -- python3 -c 'import os; os.pidfd_open(os.getpid())'
  shimsim probe --real qemu --sysroot /srv/arm64 -- /bin/busybox echo hi

--real runsc|qemu: the real layer is the judge.  runsc: the command runs natively
under strace (the prediction replays that recording through the model of the
installed release, 'runsc --version' -> gvisor@RELEASE), then under
'runsc --platform=ptrace --network=none --strace do'; the two call sequences
are aligned per process and every aligned call is judged: did the model say the
layer changes its result, and did it?  qemu: the foreign binary runs under
'qemu-ARCH -L SYSROOT -d strace,unimp'; QEMU's log is the recording (with its
ENOSYS answers taken as native successes for the prediction), and the host's
own build of the same program, when there is one, gives the reference result.

How it works: both runs go through a small exec wrapper under 'strace -f';
the filtered run's wrapper loads a libseccomp filter (NO_NEW_PRIVS) in which
every guest syscall the shim fails returns the shim's errno and every call it
stubs or fakes returns 0 without running, then execs the command.  exit and
exit_group are never filtered (the run must be able to end).  The normal
recording is replayed through the shim: a fatal divergence predicts 'breaks'.
The filtered run 'breaks' when its exit status differs from the normal run's
(a signal, another exit code, the timeout) or, with --compare-output, when its
stdout differs.  Only shims whose guest is this host's ABI can be probed.
The command's stdin is /dev/null; each run is its own process group, killed
at the timeout.

--minimize (Loupe): each syscall the command makes is tried failing with
ENOSYS (what Loupe calls "stubbed") and, separately, returning 0 (Loupe's
"faked"); 'required' calls change the result both
ways.  Calls the shim fails where failing changes the result are blockers.

exit status: 0 done, 1 --fail-on condition met, 2 bad input (missing command,
no strace, no seccomp, shim for another ABI).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("probe", help="check a shim's prediction against a real run under seccomp",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("--shim", action="append", default=None, metavar="NAME_OR_FILE",
                   help="a shipped shim (see 'shimsim shims') or a spec file (with --real: the model to "
                        "judge; default: the model of the installed release); a probe runs one layer, so "
                        "a second --shim is an error")
    p.add_argument("--real", choices=("runsc", "gvisor", "qemu", "qemu-user"), metavar="LAYER",
                   help="run the command under the real layer (runsc or qemu) instead of a seccomp "
                        "imitation, and judge the model call by call against the layer's own log")
    p.add_argument("--sysroot", metavar="DIR",
                   help="--real qemu: the guest's root (qemu -L DIR); COMMAND is then a path inside it")
    p.add_argument("--arch", default="aarch64", metavar="ARCH",
                   help="--real qemu: the guest architecture, qemu-ARCH (default aarch64)")
    p.add_argument("--minimize", action="store_true",
                   help="the Loupe experiment: which calls can fail with ENOSYS (Loupe: 'stubbed') or "
                        "return 0 unrun (Loupe: 'faked'), which are required")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="seconds per run before its process group is killed (default 60)")
    p.add_argument("--compare-output", action="store_true",
                   help="a run whose stdout differs from the normal run's counts as broken")
    p.add_argument("--recordings", metavar="DIR",
                   help="keep the recordings here (default: a new temporary directory, kept)")
    add_old_spelling(p, "--out", "--recordings DIR", "recordings", metavar="DIR")
    p.add_argument("--jobs", type=int, default=2, metavar="N",
                   help="--minimize: trials run at once (default 2)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="--minimize: runs per trial; a call is harmless only if all N runs keep the result")
    add_fail_on(p, ("disagree", "breaks", "blockers"),
                "disagree (prediction and reality differ), breaks (the program breaks under the layer), "
                "blockers (--minimize: the shim blocks a call the command needs)")
    add_engine(p)
    add_json(p)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                   help="the command to run, after --")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cmd = list(args.command)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        raise ShimsimError("no command given: shimsim probe --shim NAME -- COMMAND [ARG...]")
    if args.timeout <= 0:
        raise ShimsimError("--timeout must be a positive number of seconds")
    if args.jobs < 1:
        raise ShimsimError("--jobs must be at least 1")
    if args.repeat < 1:
        raise ShimsimError("--repeat must be at least 1")
    if args.shim is not None:       # a probe runs one layer: never keep only the last of several
        shims = [n.strip() for opt in args.shim for n in opt.split(",") if n.strip()]
        if len(shims) != 1:
            raise ShimsimError(f"probe runs one layer: give one --shim (got {len(shims)})")
        args.shim = shims[0]
    if args.real:
        return _real(args, cmd)
    if not args.shim:
        raise ShimsimError("give --shim NAME (or --real runsc|qemu to probe a real layer)")
    if args.minimize:
        return _minimize(args, cmd)
    from shimsim.probe import check

    r = check.probe(args.shim, cmd, args.timeout, args.compare_output, args.recordings, args.engine)
    return _answer(args, r, print_probe)


def _real(args: argparse.Namespace, cmd: list[str]) -> int:
    from shimsim.probe import real

    if args.minimize:
        raise ShimsimError("--minimize works with the seccomp imitation only, not with --real")
    r = real.probe(args.real, cmd, args.timeout, args.compare_output, args.recordings, args.engine, args.shim,
                   args.sysroot, args.arch)
    return _answer(args, r, print_real)


def _answer(args: argparse.Namespace, r: ProbeResult | RealProbe, show: Callable[[dict], None]) -> int:
    """Print probe result R (--json, or SHOW for people) and the --fail-on status."""
    out = r.to_json()
    if args.json:
        print_json(out)
    else:
        show(out)
    if "disagree" in fail_on(args) and not r.agree:
        return 1
    if "breaks" in fail_on(args) and r.observed == "breaks":
        return 1
    return 0


def print_real(o: dict) -> None:
    print(f"probe: {' '.join(o['command'])} under the real {o['layer']} {o['version']}, "
          f"judging {o['shim']} ({o['guest']})")
    for n in o["notes"]:
        print(f"note: {n}")
    p, real = o["prediction"], o["reality"]
    ff = p["first_divergence"]
    why_p = (f"first fatal divergence {ff['file']}:{ff['line']}: {ff['reason']}" if ff else
             f"no fatal divergence ({p['divergences']} divergences, {p['survivable']} survivable by fallback)")
    print(f"predicted: {o['predicted']:<7} {why_p}")
    nat = real["native"]
    why_o = "; ".join(real["why"]) or (f"status {real['layer']['status']}" +
                                        (" as natively" if nat else "") +
                                        (", same stdout" if real["stdout_compared"] else ""))
    print(f"observed:  {o['observed']:<7} {why_o}")
    print(f"agree:     {'yes' if o['agree'] else 'NO'}")
    c = o["calls"]
    rate = "-" if c["rate"] is None else f"{100 * c['rate']:.1f}%"
    print(f"calls:     {c['agree']}/{c['compared']} judged as the layer answered them ({rate}); "
          f"unaligned: {c['unaligned']['native']} native, {c['unaligned']['layer']} in the layer's log")
    fd = c["first_divergence"]
    if fd is None:
        print("first divergence: none (the layer answered every aligned call as natively)")
    else:
        print(f"first divergence: {fd['syscall']} at {fd['where']}: native {fd['native']}, under the layer "
              f"{fd['layer']}; model: {fd['model_rule']} ({'predicted' if fd['model'] == 'changes' else 'MISSED'})")
    fm = c["first_disagreement"]
    if fm is not None:
        print(f"first call the model got wrong: {fm['syscall']} at {fm['where']}: native {fm['native']}, "
              f"under the layer {fm['layer']}; model: {fm['model_rule']}")
    if nat is not None and real.get("stdout_same") is not None:
        print(f"output:    stdout {'same' if real['stdout_same'] else 'differs'}, "
              f"stderr {'same' if real['stderr_same'] else 'differs'} (native vs layer)")
    for name, d in sorted(c["changed_by_layer"].items()):
        print(f"  layer changed {name}: {d['calls']} calls (e.g. native {d['native']}, layer {d['layer']}); "
              f"model foresaw {d['predicted']}")
    for name, d in sorted(c["disagreements"].items()):
        ex = d["example"]
        what = (f"{d['missed']} missed" if d["missed"] else "") + \
               (", " if d["missed"] and d["false_alarm"] else "") + \
               (f"{d['false_alarm']} false alarms" if d["false_alarm"] else "")
        print(f"  model wrong on {name}: {what} (model: {ex['model_rule']}; native {ex['native']}, "
              f"layer {ex['layer']} at {ex['where']})")
    print(f"logs in {o['workdir']}")


def _minimize(args: argparse.Namespace, cmd: list[str]) -> int:
    from shimsim.probe import minimize

    m = minimize.minimize(args.shim, cmd, args.timeout, args.compare_output, args.recordings, args.jobs, args.engine,
                            args.repeat)
    out = m.to_json()
    if args.json:
        print_json(out)
    else:
        print_minimize(out)
    if "blockers" in fail_on(args) and out["blockers"]:
        return 1
    return 0


def print_probe(o: dict) -> None:
    print(f"probe: {' '.join(o['command'])} under {o['shim']} ({o['guest']} -> {o['host']})")
    f = o["filter"]
    kept = ", ".join(sorted(f["kept"])) or "none"
    rej = f" {f['rejected_flags']} flags fail the calls that carry them," if f.get("rejected_flags") else ""
    print(f"filter: {f['failed']} calls fail with the shim's errno,{rej} {f['returning_0']} return 0 unrun "
          f"(libseccomp {f['libseccomp']}); shim failures left unfiltered: {kept}")
    p, real = o["prediction"], o["reality"]
    ff = p["first_divergence"]
    why_p = (f"first fatal divergence {ff['file']}:{ff['line']}: {ff['reason']}" if ff else
             f"no fatal divergence ({p['divergences']} divergences, {p['survivable']} survivable by fallback)")
    print(f"predicted: {o['predicted']:<7} {why_p}")
    why_o = "; ".join(real["why"]) or f"status {real['filtered']['status']} as in the normal run" + \
        (", same stdout" if real["stdout_compared"] else "")
    print(f"observed:  {o['observed']:<7} {why_o}")
    if real["stdout_reproducible"] is False:
        print("           (stdout differs between two normal runs: judged by exit status only)")
    print(f"agree:     {'yes' if o['agree'] else 'NO'}")
    pa = o["parted_at"]
    if pa is None:
        print("parted at: nowhere (the two recordings match step by step)")
    else:
        print(f"parted at: {pa['syscall']}")
        for side in ("normal", "filtered"):
            where = pa[side]
            print(f"           {side:<9} {where['file'] + ':' + str(where['line']) if where else '(process had ended)'}")
        print(f"           {pa['reason']}")
    print(f"parted where the replay saw its first reproducible divergence: "
          f"{'yes' if o['parting_as_predicted'] else 'no'}")
    print(f"recordings in {o['workdir']}")


def print_minimize(o: dict) -> None:
    print(f"minimize: {' '.join(o['command'])} against {o['shim']} ({o['guest']} -> {o['host']}); "
          f"baseline {o['baseline']}; {o['trials']} runs")
    w = max([7] + [len(r["name"]) for r in o["syscalls"]])
    print(f"{'syscall':<{w}}  {'calls':>5}  {'class':<9}  {'fail ENOSYS':<11}  {'return 0':<9}  {'replay':<10}  shim")
    for r in o["syscalls"]:
        def cell(t):
            return "-" if t is None else ("same" if t["unchanged"] else "CHANGED")
        shim = r["shim"]["outcome"] + (f" {r['shim']['errno']}" if r["shim"]["errno"] else "")
        tag = "  BLOCKER" if r["blocker"] else ""
        print(f"{r['name']:<{w}}  {r['calls']:>5}  {r['class']:<9}  {cell(r['fail']):<11}  "
              f"{cell(r['stub']):<9}  {r['predicted']:<10}  {shim}{tag}")
    print()
    print(f"required ({len(o['required'])}): {' '.join(o['required']) or '-'}")
    print(f"can fail ({len(o['failable'])}): {' '.join(o['failable']) or '-'}")
    print(f"can return 0 ({len(o['stubbable'])}): {' '.join(o['stubbable']) or '-'}")
    if o["kept"]:
        print(f"not tried: {', '.join(f'{k} ({v})' for k, v in o['kept'].items())}")
    c = o["combined"]
    if c is not None:
        print(f"all non-required calls failed/stubbed at once: {'result unchanged' if c['unchanged'] else 'result CHANGED: ' + c['result']}")
        if c["conflicts"]:
            print(f"  harmless alone but not together (added one at a time, these broke it): {' '.join(c['conflicts'])}")
    print(f"blockers under {o['shim']}: {' '.join(o['blockers']) or 'none'}"
          + (f" (required: {' '.join(o['required_blockers'])})" if o["required_blockers"] else ""))
    pr = o["prediction"]
    print(f"replay's fatal calls: {' '.join(pr['fatal']) or 'none'}; confirmed by the trials: "
          f"{' '.join(pr['confirmed']) or 'none'}; false alarms: {' '.join(pr['false_alarms']) or 'none'}; "
          f"missed: {' '.join(pr['missed']) or 'none'}")
