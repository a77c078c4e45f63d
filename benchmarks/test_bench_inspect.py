# SPDX-License-Identifier: MIT
"""ELF inspection speed on the real programs of this machine.

Cold: every library of the closure is read again (the per-run library cache
cleared, the cross-run cache off); disk: a new run with the cross-run cache
of analysed files warm (shimsim.elf.filecache); warm: libraries already read,
as when a directory of programs is inspected.  One group so the ratio is read off one run:

    PYTHONPATH=src python -m pytest benchmarks/test_bench_inspect.py --benchmark-only
"""
from __future__ import annotations

import os
import shutil
import sys

import pytest

from shimsim.elf import inspect_path

LIBS = sys.modules["shimsim.elf.predict"]._LIBS      # the per-run library cache
SITES = sys.modules["shimsim.elf.predict"]._SITES    # and of library sites

PROGRAMS = [p for p in (shutil.which("ls"), shutil.which("git"), "/usr/bin/python3.11") if p and os.path.exists(p)]


def _fresh_run(prog):
    """inspect as a new process would: nothing memoised in this one (the disk cache as set)."""
    LIBS.clear()
    SITES.clear()
    return inspect_path(prog)


@pytest.mark.benchmark(group="inspect")
@pytest.mark.parametrize("prog", PROGRAMS, ids=os.path.basename)
def test_inspect_cold(benchmark, prog, monkeypatch):
    monkeypatch.setenv("SHIMSIM_NO_CACHE", "1")
    ins = benchmark(_fresh_run, prog)
    benchmark.extra_info["syscalls"] = len(ins.prediction.syscalls)


@pytest.mark.benchmark(group="inspect")
@pytest.mark.parametrize("prog", PROGRAMS, ids=os.path.basename)
def test_inspect_disk(benchmark, prog, monkeypatch, tmp_path):
    monkeypatch.setenv("SHIMSIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SHIMSIM_NO_CACHE", raising=False)
    inspect_path(prog)

    ins = benchmark(_fresh_run, prog)
    benchmark.extra_info["syscalls"] = len(ins.prediction.syscalls)


@pytest.mark.benchmark(group="inspect")
@pytest.mark.parametrize("prog", PROGRAMS, ids=os.path.basename)
def test_inspect_warm(benchmark, prog):
    inspect_path(prog)
    ins = benchmark(inspect_path, prog)
    benchmark.extra_info["syscalls"] = len(ins.prediction.syscalls)
