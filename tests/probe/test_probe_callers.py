# SPDX-License-Identifier: MIT
"""Caller-aware fallbacks checked for real: programs of this machine run under
strace and seccomp, and the fallback rows apply to the runtime that implements
them (the identification itself is tested in tests/test_callers.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim import replay
from shimsim.elf import runtime
from shimsim.probe import check
from probekit import unavailable, write_shim

PY = os.path.realpath(sys.executable)
PYVER = f"{sys.version_info.major}.{sys.version_info.minor}"

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=str(unavailable()))


@pytest.mark.slow   # two traced runs of CPython
def test_cpython_pidfd_open_breaks_under_linuxulator_and_the_caller_is_named(tmp_path: Path) -> None:
    code = "import os; os.close(os.pidfd_open(os.getpid()))"
    probe = subprocess.run([PY, "-c", code], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("this kernel has no pidfd_open")
    r = check.probe("linuxulator", [PY, "-c", code], out_dir=str(tmp_path / "out"))
    assert r.predicted == "breaks" and r.observed == "breaks" and r.agree
    ff = r.report.first_fatal
    assert ff.syscall == "pidfd_open" and f"CPython {PYVER}" in ff.reason


@pytest.mark.slow   # two traced runs of CPython
def test_cpython_copyfile_survives_a_failing_sendfile(tmp_path: Path) -> None:
    """shutil.copyfile gives up on sendfile and copies with read/write (CPython's own fallback)."""
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_bytes(b"payload\n" * 100)
    spec = write_shim(tmp_path, "no-sendfile", 'sendfile = { do = "fail", errno = "ENOSYS" }\n')
    code = f"import shutil; shutil.copyfile({str(src)!r}, {str(dst)!r}); print(open({str(dst)!r}).read() == open({str(src)!r}).read())"
    r = check.probe(spec, [PY, "-c", code], compare_output=True, out_dir=str(tmp_path / "out"))
    assert r.predicted == "runs" and r.observed == "runs" and r.agree
    assert r.filtered.output() == b"True\n"
    surv = [d for d in r.report.divergences if d.syscall == "sendfile"]
    assert surv and surv[0].code == replay.DIV_FALLBACK and "CPython" in surv[0].reason


@pytest.mark.slow   # two traced runs of cat
def test_coreutils_cat_survives_a_failing_copy_file_range(tmp_path: Path) -> None:
    """cat's copy_cat gives up on copy_file_range (ENOSYS, EINVAL, EXDEV, ...) and copies with
    read/write: the coreutils row applies to /usr/bin/cat, and the prediction says so."""
    cat = shutil.which("cat")
    if cat is None or "coreutils" not in runtime.runtimes(os.path.realpath(cat)).names():
        pytest.skip("cat here is not GNU coreutils")
    src = tmp_path / "a"
    src.write_bytes(b"line\n" * 50)
    spec = write_shim(tmp_path, "no-cfr", 'copy_file_range = { do = "fail", errno = "ENOSYS" }\n')
    r = check.probe(spec, [cat, str(src)], compare_output=True, out_dir=str(tmp_path / "out"))
    assert r.predicted == "runs" and r.observed == "runs" and r.agree
    d = next(d for d in r.report.divergences if d.syscall == "copy_file_range")
    assert d.code == replay.DIV_FALLBACK and "GNU coreutils" in d.reason
