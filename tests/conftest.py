# SPDX-License-Identifier: MIT
"""Shared test configuration.

Hypothesis: no per-example deadline (the sanitizer build is several times
slower, and speed is measured in benchmarks/, never in tests).  Set
HYPOTHESIS_PROFILE=thorough for a longer local run.
"""
from __future__ import annotations

import os
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
