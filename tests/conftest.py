# SPDX-License-Identifier: MIT
"""Shared test configuration.

Hypothesis: no per-example deadline (the sanitizer build is several times
slower, and speed is measured in benchmarks/, never in tests).  Set
HYPOTHESIS_PROFILE=thorough for a longer local run.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import shimsim

# Child processes (`python -m shimsim ...`) import the shimsim these tests import: the installed
# one under CI's `pip install .`, the checkout's src/ under PYTHONPATH=src.  One place, so no test
# puts a tree without the built core ahead of the installed package.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(Path(shimsim.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")) if p)

settings.register_profile("default", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", deadline=None, max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/ from the current outputs instead of comparing")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session", autouse=True)
def _session_scratch(tmp_path_factory: pytest.TempPathFactory):
    """What the suite writes outside pytest's tmp_path goes into one short-lived directory: the
    probe's recordings (kept by design in a new temporary directory when --recordings is not
    given), other temporary files of child processes, and the disk caches (SHIMSIM_CACHE_DIR,
    instead of the user's ~/.cache/shimsim).  Short, under the system's temporary directory, as
    runsc's control sockets need a path under 108 bytes; removed at the end of the session."""
    tmp_path_factory.getbasetemp()   # pytest's own tmp_path stays where it was (fixed before TMPDIR moves)
    scratch = Path(tempfile.mkdtemp(prefix="ss-tests-"))
    scratch.chmod(0o755)             # runsc's sandbox must enter TMPDIR (probe.real.start_failure)
    (scratch / "tmp").mkdir()
    mp = pytest.MonkeyPatch()
    mp.setenv("TMPDIR", str(scratch / "tmp"))
    mp.setenv("SHIMSIM_CACHE_DIR", str(scratch / "cache"))
    tempfile.tempdir = None          # the in-process tempfile functions read TMPDIR again
    try:
        yield scratch
    finally:
        mp.undo()
        tempfile.tempdir = None
        shutil.rmtree(scratch, ignore_errors=True)
