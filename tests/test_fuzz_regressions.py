# SPDX-License-Identifier: MIT
"""Every input the fuzzers found (fuzz/regressions/<target>/) stays fixed: its
target returns or raises the one-line user error, and the C and Python
engines agree on it (the differential targets)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

FUZZ = Path(__file__).resolve().parents[1] / "fuzz"
_spec = importlib.util.spec_from_file_location("shimsim_fuzz", FUZZ / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz)
TARGETS = fuzz.targets()
CASES = sorted((d.name, p) for d in (FUZZ / "regressions").iterdir() if d.is_dir() for p in d.iterdir())


def test_every_regression_names_a_target() -> None:
    assert CASES and {t for t, _ in CASES} <= set(TARGETS)


@pytest.mark.parametrize(("target", "path"), CASES, ids=[f"{t}/{p.name}" for t, p in CASES])
def test_fuzz_regression(target: str, path: Path) -> None:
    TARGETS[target](path.read_bytes())
    if target in ("tokeniser", "strace-diff"):          # both engines on every tokeniser input
        TARGETS["strace-diff"](path.read_bytes())


def test_every_target_has_seeds(tmp_path: Path) -> None:
    for name in TARGETS:
        assert fuzz.seeds(name, tmp_path / name) > 0, name
