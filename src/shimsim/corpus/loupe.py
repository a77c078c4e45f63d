# SPDX-License-Identifier: MIT
"""Loupe's results database (unikraft/loupedb, CC BY 4.0) as corpus inputs.

A loupedb checkout is ``APP/WORKLOAD/RUN/data/dyn.csv``: per Linux x86-64
syscall number, whether the workload used it and whether it still passed
when the call was faked (returned 0 without running), stubbed (returned
ENOSYS), or either.  The header line is optional: some imported runs
(envoy/benchmark-envoy-test/imported) start with the first row.  Loupe's four columns are disjoint categories
(``works faked`` = faked only, ``works stubbed`` = stubbed only, ``works
both`` = both; unikraft/loupe@02e837c8282260d51bf84bc6ee84ed3ab7d75c95:src/explore.py),
so a used call *requires an implementation* when all three are N.

One workload directory (``APP/WORKLOAD``) is one input.  When it holds
several runs (different Dockerfiles), a call is used if any run used it and
survives faking (stubbing) only if every run that used it survived.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from shimsim.errors import InputError

ABI = "linux-x86_64"          # Loupe records x86-64 Linux syscall numbers
HEADER = "# syscall, used, works faked, works stubbed, works both"
DYN = os.path.join("data", "dyn.csv")


@dataclass
class Workload:
    """One loupedb workload: used calls and which of them survive a fake 0 or ENOSYS."""

    app: str
    workload: str
    runs: list[str] = field(default_factory=list)            # run directory names
    used: set[int] = field(default_factory=set)
    fake_ok: set[int] = field(default_factory=set)           # survives returning 0
    stub_ok: set[int] = field(default_factory=set)           # survives returning ENOSYS

    @property
    def name(self) -> str:
        return f"{self.app}/{self.workload}"

    @property
    def required(self) -> set[int]:
        """Used calls that need a real implementation (Loupe's 'require an implementation')."""
        return self.used - self.fake_ok - self.stub_ok


def _yes(cell: str, path: str, lineno: int) -> bool:
    c = cell.strip()
    if c not in ("Y", "N"):
        raise InputError(path, lineno, f"expected Y or N, got {c!r}")
    return c == "Y"


def read_dyn(path: str) -> tuple[set[int], set[int], set[int]]:
    """(used, survives faked, survives stubbed) syscall numbers of one dyn.csv."""
    used: set[int] = set()
    fake: set[int] = set()
    stub: set[int] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():   # the header (some imported runs lack it)
                continue
            cells = line.split(",")
            if len(cells) != 5:
                raise InputError(path, lineno, f"expected 5 columns (syscall,used,faked,stubbed,both), got {len(cells)}")
            try:
                nr = int(cells[0])
            except ValueError:
                raise InputError(path, lineno, f"expected a syscall number, got {cells[0].strip()!r}") from None
            u, f, s, b = (_yes(c, path, lineno) for c in cells[1:])
            if not u:
                continue
            used.add(nr)
            if f or b:
                fake.add(nr)
            if s or b:
                stub.add(nr)
    return used, fake, stub


def is_workload(path: str) -> bool:
    """APP/WORKLOAD: a directory whose run directories hold data/dyn.csv."""
    try:
        return os.path.isdir(path) and any(os.path.isfile(os.path.join(path, r, DYN)) for r in os.listdir(path))
    except OSError:
        return False


def is_checkout(path: str) -> bool:
    """A loupedb root: application directories holding workloads (at least one found)."""
    try:
        return os.path.isdir(path) and not is_workload(path) and any(
            is_workload(os.path.join(path, a, w))
            for a in sorted(os.listdir(path)) if os.path.isdir(os.path.join(path, a))
            for w in sorted(os.listdir(os.path.join(path, a))))
    except OSError:
        return False


def workload_dirs(root: str) -> list[str]:
    """Every APP/WORKLOAD directory of a checkout, sorted."""
    out = []
    for app in sorted(os.listdir(root)):
        a = os.path.join(root, app)
        if not os.path.isdir(a) or app.startswith("."):
            continue
        for wl in sorted(os.listdir(a)):
            w = os.path.join(a, wl)
            if is_workload(w):
                out.append(w)
    return out


def run_files(workload_dir: str) -> list[str]:
    """The dyn.csv of each run, sorted by run name."""
    return [os.path.join(workload_dir, r, DYN) for r in sorted(os.listdir(workload_dir))
            if os.path.isfile(os.path.join(workload_dir, r, DYN))]


def read_workload(workload_dir: str) -> Workload:
    wd = os.path.normpath(workload_dir)
    w = Workload(os.path.basename(os.path.dirname(wd)), os.path.basename(wd))
    fake_bad: set[int] = set()
    stub_bad: set[int] = set()
    files = run_files(wd)
    if not files:
        raise InputError(workload_dir, None, "not a loupedb workload: no RUN/data/dyn.csv below it")
    for f in files:
        used, fake, stub = read_dyn(f)
        w.runs.append(os.path.basename(os.path.dirname(os.path.dirname(f))))
        w.used |= used
        fake_bad |= used - fake
        stub_bad |= used - stub
    w.fake_ok = w.used - fake_bad
    w.stub_ok = w.used - stub_bad
    return w
