# SPDX-License-Identifier: MIT
"""``shimsim record``: run a command under strace, then replay the recording
through a shim and report, in one step.

strace runs with the options the parser makes the most of: -f (children and
threads, with pid columns), -tt (wall-clock times), -T (time spent in each
call), -y (paths of file descriptors) and -s 256 (longer strings)."""
from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

from shimsim import engine as _engine
from shimsim import output
from shimsim import replay as _replay
from shimsim import shim as _shim
from shimsim import trace
from shimsim.commands._common import (add_engine, add_fail_on, add_json, add_quiet, add_shims, formatter,
                                     held_per_shim, one_layer_only, print_json, print_layers, shim_names,
                                     shim_specs)
from shimsim.report import progress as _progress
from shimsim.report import replay_json
from shimsim.errors import ShimsimError

STRACE_OPTIONS = ("-f", "-tt", "-T", "-y", "-s", "256")

EPILOG = """examples:
  shimsim record --shim linuxulator -- ls -l /
  shimsim record --shim gvisor -o python.strace -- python3 -c 'print(42)'
  shimsim record --shim wsl1 --html report.html -- git status
  shimsim record --shim wsl1 --json --fail-on fatal -- make test
  shimsim record --shim wsl1 --shim linuxulator --shim gvisor -- git status   (one row per layer)

Several --shim options (repeatable, comma-separated, or 'all') replay the one
recording through every layer, as 'shimsim replay' does: one row per layer,
a JSON array (one record object per layer) with --json, and --fail-on holds
if it holds for any layer, naming which.  --html reports on one layer.

The recording is kept with -o FILE (replay it later through other shims with
'shimsim replay FILE --shim NAME' or compare two with 'shimsim diff');
without -o it goes to a temporary file that is removed afterwards.  The
command's own output goes to stderr with --json, so stdout holds one JSON
object.  Needs strace (Debian: apt-get install strace) and permission to
ptrace (containers may need --cap-add SYS_PTRACE).

exit status: 0 done (whatever the command's own status, which is reported),
1 a --fail-on condition holds, 2 bad input or usage (strace missing, command
not found, nothing recorded).
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="run a command under strace, then replay and report in one step",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    add_shims(p)
    p.add_argument("-o", "--output", metavar="FILE", help="keep the recording in FILE (default: not kept)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report to FILE")
    p.add_argument("--limit", type=int, default=20, metavar="N",
                   help="divergences listed in the text report (default 20; all are counted)")
    p.add_argument("--strace", metavar="PATH", default=None, help="the strace binary (default: from PATH)")
    add_fail_on(p)
    add_quiet(p)
    add_engine(p)
    add_json(p)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                   help="the command to record, after --")
    p.set_defaults(func=run)


def _command(argv: list[str]) -> list[str]:
    cmd = argv[1:] if argv and argv[0] == "--" else argv
    if not cmd:
        raise ShimsimError("no command given: shimsim record --shim NAME -- COMMAND [ARGS...]")
    exe = cmd[0]
    found = exe if os.sep in exe else shutil.which(exe)
    if found is None or not os.path.isfile(found):
        raise ShimsimError(f"command not found: {exe}")
    if not os.access(found, os.X_OK):
        raise ShimsimError(f"command not executable: {exe}")
    return cmd


def _strace(explicit: str | None) -> str:
    exe = explicit or shutil.which("strace")
    if exe is None or not os.path.isfile(exe):
        raise ShimsimError("strace not found: install it (Debian/Ubuntu: apt-get install strace) "
                           "or give --strace PATH")
    return exe


def record(strace_exe: str, cmd: list[str], out: str, child_stdout_to_stderr: bool) -> int:
    """Run the command under strace writing the trace to ``out``; the command's exit status."""
    argv = [strace_exe, *STRACE_OPTIONS, "-o", out, "--", *cmd]
    try:
        r = subprocess.run(argv, stdout=_stderr_fd() if child_stdout_to_stderr else None)
    except OSError as exc:
        raise ShimsimError(f"cannot run {strace_exe}: {exc.strerror or exc}") from None
    if not os.path.exists(out) or os.path.getsize(out) == 0:
        raise ShimsimError(f"strace recorded nothing (exit status {r.returncode}); "
                           "is ptrace allowed here? (containers may need --cap-add SYS_PTRACE)")
    return r.returncode


def _stderr_fd() -> int:
    """Our stderr as a file descriptor for the child (2 when sys.stderr is not a file)."""
    try:
        return sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        return 2


def run(args: argparse.Namespace) -> int:
    cmd = _command(args.command)
    strace_exe = _strace(args.strace)
    eng = _engine.get(args.engine)
    names = shim_names(args.shim)              # a bad shim name fails before anything runs
    one_layer_only(args, len(names))
    for n in names:
        _shim.load_spec(n)
    tmpdir = None
    if args.output is not None:                  # refused paths fail before anything runs
        output.check(args.output)
    if args.html:
        output.check(args.html, [args.output] if args.output else [])
    if args.output is None:
        tmpdir = tempfile.mkdtemp(prefix="shimsim-record-")
        out = os.path.join(tmpdir, "trace.strace")
    try:
        with contextlib.ExitStack() as keep:
            if args.output is not None:          # strace writes beside it; renamed in when complete
                out = keep.enter_context(output.reserve(args.output))
            status = record(strace_exe, cmd, out, args.json)
        out = args.output or out
        t = trace.open([out], engine=eng)
        tl = None
        if args.html:
            from shimsim.report.timeline import Timeline
            tl = Timeline()
        specs = shim_specs(args.shim, t.abi)
        label = "replay " + ", ".join(s.name for s in specs)
        with _progress.TraceProgress(t.paths, label, _progress.enabled(args.quiet)) as bar:
            reps = _replay.replay_many(t, specs, timeline=tl, progress=bar.update)
        if args.html:
            from shimsim.report import html
            html.write(args.html, reps[0], t, tl)
        recording = {"command": cmd, "exit_status": status, "strace": [strace_exe, *STRACE_OPTIONS],
                     "trace": args.output, "lines": t.stats.lines}
        if args.json:
            docs = [{"recording": recording, **replay_json(rep, t)} for rep in reps]
            print_json(docs[0] if len(docs) == 1 else docs)
        else:
            from shimsim.report import terminal
            con = terminal.console()
            kept = f"trace kept in {args.output}" if args.output else "trace not kept (-o FILE keeps it)"
            con.print(terminal.text(f"recorded: {shlex.join(cmd)} (exit status {status}), {t.stats.lines} lines; {kept}"))
            con.print()
            if len(reps) == 1:
                terminal.print_replay(con, reps[0], t, args.limit)
            else:
                print_layers(con, reps, t)
            if args.html:
                con.print(terminal.text(f"HTML report written to {args.html}"))
    finally:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
    held = held_per_shim(args.fail_on, reps)
    if held:
        print(f"shimsim: --fail-on {', '.join(held)}: condition holds", file=sys.stderr)
        return 1
    return 0
