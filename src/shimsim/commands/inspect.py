# SPDX-License-Identifier: MIT
"""``shimsim inspect``: will this binary run there?  Answered from the ELF file.

Identifies the binary's OS and ABI (brand notes, EI_OSABI, PT_INTERP, with the
evidence), predicts the system calls it can make (loader and start-up, libc
imports through the whole DT_NEEDED closure found on this machine, raw
syscall sites with their numbers) and, per --shim, which of them the compat
layer fails, or that no layer exists for the binary's ABI at all.
"""
from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator

from shimsim.commands._common import SHIM_HELP, add_fail_on, add_json, add_old_spelling, fail_on, formatter, print_json, shim_names
from shimsim.errors import ShimsimError

EPILOG = """examples:
  shimsim inspect /usr/bin/ls
  shimsim inspect /usr/bin/ls --shim linuxulator --shim gvisor --shim native
  shimsim inspect ./freebsd-binary --shim native          (cannot run: no layer for this ABI)
  shimsim inspect /usr/bin --shim all --brief             (a directory, recursively)
  shimsim inspect prog --origins 3 --json
  shimsim inspect ./image-rootfs/usr/bin --shim gvisor --brief --fail-on fails   (exit 1 if any fails)

--json prints one object: {"files": [...], "errors": [{"path", "error"}], "skipped_not_elf": N,
"summary": {...}}; each file has "identity" (class, byte_order, machine, type, osabi, os, abi,
decided_by, evidence[], conflicts[], interp, linkage, pie, needed, libc), "predicted" (syscalls:
name -> {origins[{kind, from}], count, vdso_only}, libraries[], unmapped_imports[], sites, notes)
and "verdicts" (shim, guest, host, status: runs|degraded|may fail|fails|cannot run|unknown, reason,
counts, calls[{syscall, outcome, errno, fallback, note, from}]).

Directories are walked recursively without following symlinked directories;
files in them without the ELF magic are counted and skipped.  A file that
cannot be read is one error line; the exit status is 2 only if no file could
be read at all.
"""
ELF_MAGIC = b"\x7fELF"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="identify ELF binaries and predict their syscalls and per-shim verdicts",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("paths", nargs="+", metavar="BINARY", help="ELF file or directory (walked recursively)")
    p.add_argument("--shim", action="append", default=[], metavar="NAME_OR_FILE",
                   help="give a verdict for this shim: " + SHIM_HELP.split(" (one pass")[0])
    p.add_argument("--native-host", metavar="ABI", default=None,
                   help="host ABI of the 'native' shim (default: this machine's)")
    # --host ABI is a host to judge for in 'image' (repeatable): here the old spelling is only accepted
    add_old_spelling(p, "--host", "--native-host ABI", "native_host", metavar="ABI")
    p.add_argument("--origins", type=int, default=1, metavar="N",
                   help="show up to N origins per predicted syscall (text output; default 1, 0 hides the list)")
    p.add_argument("--brief", action="store_true", help="one line per file: identity and verdicts")
    p.add_argument("--no-libraries", action="store_true",
                   help="do not follow DT_NEEDED libraries (imports of the file itself only)")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="give up on one file after this long (default 30)")
    p.add_argument("--jobs", "-j", type=int, default=0, metavar="N",
                   help="inspect files in N processes (default: one per core for 8 files or more; 1 = serial)")
    p.add_argument("--no-cache", action="store_true",
                   help="neither read nor write the cross-run cache of analysed files (as SHIMSIM_NO_CACHE=1)")
    add_fail_on(p, ("degraded", "may-fail", "fails", "cannot-run"),
                "degraded, may-fail, fails, cannot-run (any verdict is COND or worse)")
    add_json(p)
    p.set_defaults(func=run)


def _walk(paths: list[str], skipped: list[str]) -> Iterator[tuple[str, bool]]:
    """(path, named explicitly) for every file to inspect."""
    for top in paths:
        if os.path.isdir(top) and not os.path.islink(top):
            for root, dirs, files in os.walk(top, onerror=lambda e: skipped.append(f"{e.filename}: {e.strerror}")):
                dirs.sort()
                for f in sorted(files):
                    yield os.path.join(root, f), False
        else:
            yield top, True


def _has_magic(path: str) -> bool | None:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == ELF_MAGIC
    except OSError:
        return None


def run(args: argparse.Namespace) -> int:
    if args.origins < 0:
        raise ShimsimError("--origins must be 0 or more")
    if args.timeout <= 0:
        raise ShimsimError("--timeout must be positive")
    if args.jobs < 0:
        raise ShimsimError("--jobs must be 0 (automatic) or more")
    if args.no_cache:
        os.environ["SHIMSIM_NO_CACHE"] = "1"     # forked workers inherit it
    shims = shim_names(args.shim)   # once, up front, with suggestions
    walk_errors: list[str] = []
    targets: list[str] = []
    not_elf = 0
    for path, explicit in _walk(args.paths, walk_errors):
        if not explicit:
            if os.path.islink(path) and not os.path.exists(path):
                continue                      # dangling or looping link inside a tree
            if not os.path.isfile(path) or _has_magic(path) is False:
                not_elf += 1
                continue
        targets.append(path)
    results, errors = [], []
    jobs = args.jobs or ((os.cpu_count() or 1) if len(targets) >= 8 else 1)
    job = (tuple(shims), args.native_host, not args.no_libraries, args.timeout)
    with _progress(len(targets)) as advance:
        for path, (ok, value) in zip(targets, _inspect_all(targets, job, jobs)):
            if ok:
                results.append(value)
                if not args.json:
                    _print_text(value, args)
            else:
                errors.append((path, value))
                if not args.json:
                    print(f"shimsim: {path}: {value}", file=sys.stderr)
            advance(path)
    for msg in walk_errors:
        errors.append((msg.split(":", 1)[0], msg.split(": ", 1)[-1]))
        if not args.json:
            print(f"shimsim: {msg}", file=sys.stderr)
    if args.json:
        print_json({
            "files": [r.to_json() for r in results],
            "errors": [{"path": p, "error": e} for p, e in errors],
            "skipped_not_elf": not_elf,
            "summary": {"inspected": len(results), "errors": len(errors), "skipped_not_elf": not_elf},
        })
    elif len(targets) > 1 or not_elf:
        print(f"{len(results)} file(s) inspected, {len(errors)} error(s), {not_elf} non-ELF file(s) skipped")
    if not results:
        if not targets and not errors:
            print("shimsim: no ELF files found", file=sys.stderr)
        return 2
    if fail_on(args):
        worst = min(SEVERITY[c.replace("-", " ")] for c in fail_on(args))
        if any(SEVERITY.get(v.status, 0) >= worst for r in results for v in r.verdicts):
            return 1
    return 0


def _inspect_one(path: str, job: tuple) -> tuple[bool, object]:
    """(True, Inspection) or (False, the one-line error) for one file."""
    from shimsim.elf import ElfReadError, inspect_path
    shims, host, follow, seconds = job
    try:
        return True, inspect_path(path, list(shims), host, follow, seconds)
    except ElfReadError as exc:
        return False, str(exc)
    except RecursionError:
        return False, "corrupt ELF: structure nested too deeply"


def _inspect_chunk(paths: list[str], job: tuple) -> list[tuple[bool, object]]:
    return [_inspect_one(p, job) for p in paths]


CHUNK = 8          # files per task: big enough to amortise pickling, small enough to balance


def _inspect_all(targets: list[str], job: tuple, jobs: int) -> Iterator[tuple[bool, object]]:
    """Results in the order of ``targets``: serially, or over ``jobs`` forked processes
    (each keeps its own per-run library cache), the same results either way."""
    if jobs <= 1 or len(targets) <= 1:
        for path in targets:
            yield _inspect_one(path, job)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from functools import partial
    chunks = [targets[i:i + CHUNK] for i in range(0, len(targets), CHUNK)]
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), mp_context=ctx) as pool:
        for part in pool.map(partial(_inspect_chunk, job=job), chunks):
            yield from part


SEVERITY = {"runs": 0, "unknown": 0, "degraded": 1, "may fail": 2, "fails": 3, "cannot run": 4}


class _progress:
    """A rich progress bar on stderr when it is a terminal and there is more than one file."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.bar = None

    def __enter__(self):
        if self.total > 1 and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            self.bar = Progress(TextColumn("inspect"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                TextColumn("{task.description}"), console=Console(stderr=True), transient=True,
                                # results stay on stdout when it is a file or a pipe; on a shared
                                # terminal they are printed above the bar instead of through it
                                redirect_stdout=sys.stdout.isatty(), redirect_stderr=True)
            self.bar.__enter__()
            self.task = self.bar.add_task("", total=self.total)
        return self.advance

    def advance(self, path: str) -> None:
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=os.path.basename(path)[:40])

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


def _print_text(ins, args: argparse.Namespace) -> None:
    i, p = ins.identity, ins.prediction
    kind = f"ELF {i.elfclass}-bit {'LSB' if i.byte_order == 'little' else 'MSB'} {i.machine_name} {i.file_type}"
    head = f"{ins.path}: {kind}, {i.linkage}, {i.abi} (decided by {i.decided_by})"
    if args.brief:
        verdicts = "; ".join(f"{v.shim}: {v.status}" for v in ins.verdicts)
        print(f"{head}; {len(p.syscalls)} syscalls" + (f"; {verdicts}" if verdicts else ""))
        return
    out = [head]
    if i.conflicts:
        out.append("  conflicting evidence: " + "; ".join(i.conflicts))
    if i.interp:
        out.append(f"  interpreter {i.interp}")
    if i.needed:
        found = sum(1 for lib in p.libraries if lib.path)
        missing = [lib.soname for lib in p.libraries if not lib.path]
        line = f"  needs {' '.join(i.needed)} ({found} libraries in the closure found here"
        out.append(line + (f"; not found: {' '.join(missing)})" if missing else ")"))
    table = f"libc table {p.table}" if p.table else "no libc table"
    out.append(f"  predicted {len(p.syscalls)} syscalls ({table}; {p.sites} raw sites, "
               f"{p.unknown_sites} without a constant number; {len(p.unmapped_imports)} libc imports not in the table)")
    if args.origins:
        for name in p.names():
            origins = p.syscalls[name][:args.origins]
            more = p.counts[name] - len(origins)
            text = "; ".join(o.text for o in origins) + (f"; +{more} more" if more > 0 else "")
            vd = " [vDSO]" if name in p.vdso_only else ""
            out.append(f"    {name:<24}{vd} {text}")
    for note in p.notes[:5]:
        out.append(f"  note: {note}")
    for w in ins.warnings[:5]:
        out.append(f"  warning: {w}")
    for v in ins.verdicts:
        out.append(f"  shim {v.shim} ({v.guest} -> {v.host}): {v.status}: {v.reason}")
        for c in v.calls[:12]:
            extra = f" errno {c.errno}" if c.errno else ""
            extra += f"; {c.fallback}" if c.fallback else ""
            extra += " [vDSO: only without the vDSO]" if c.vdso_only else ""
            extra += " [only libraries import it]" if c.library_only and c.outcome == "failed" else ""
            src = f" <- {c.origins[0]}" if c.origins else ""
            out.append(f"      {c.syscall:<22} {c.outcome}{extra}{src}")
        if len(v.calls) > 12:
            out.append(f"      ... {len(v.calls) - 12} more (use --json)")
    print("\n".join(out))
