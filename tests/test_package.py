# SPDX-License-Identifier: MIT
"""The package installs with its C core and selects engines explicitly."""
from __future__ import annotations

import subprocess
import sys

import pytest

from shimsim import engine
from shimsim.cli import main
from shimsim.errors import ShimsimError


def test_c_core_is_built_and_matches_header():
    core = engine.core()
    assert core.lib.ss_core_version() == 1
    # ss_event is the record every batch is made of; Python's Event mirrors it.
    assert core.ffi.sizeof("ss_event") >= 64


def test_engine_selection_is_explicit(monkeypatch):
    monkeypatch.delenv("SHIMSIM_ENGINE", raising=False)
    assert engine.select(None) == "c"
    assert engine.select("python") == "python"
    monkeypatch.setenv("SHIMSIM_ENGINE", "python")
    assert engine.select(None) == "python"
    assert engine.select("c") == "c"  # the flag wins over the environment
    monkeypatch.setenv("SHIMSIM_ENGINE", "rust")
    with pytest.raises(ShimsimError, match="unknown engine 'rust'"):
        engine.select(None)


def test_python_dash_m_runs_the_cli():
    out = subprocess.run([sys.executable, "-m", "shimsim", "--version"], capture_output=True, text=True)
    assert out.returncode == 0
    assert out.stdout.startswith("shimsim ")


def test_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_source_module_is_installed():
    """setup.py finds the packages; a module missing from the install would
    only show up on a user's machine, so compare the tree with the install."""
    import importlib.util
    from pathlib import Path

    import shimsim

    src = Path(__file__).resolve().parents[1] / "src" / "shimsim"
    if not src.is_dir():
        pytest.skip("not run from a source checkout")
    installed = Path(shimsim.__file__).resolve().parent
    for path in src.rglob("*.py"):
        rel = path.relative_to(src)
        if rel.parts[0] == "_tables":
            continue
        assert (installed / rel).is_file(), f"{rel} is not installed"
    assert importlib.util.find_spec("shimsim._tables") is not None
