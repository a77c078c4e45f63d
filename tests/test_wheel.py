# SPDX-License-Identifier: MIT
"""The built wheel is ready to publish: SPDX licence metadata (PEP 639) with the
licence file, py.typed (PEP 561) for the typed API, every module, and a build
backend that has nothing to warn about."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Build outputs and caches that a checkout may hold; the wheel is built from the
# sources alone, as it would be from a fresh clone.
_IGNORE = shutil.ignore_patterns(
    ".git", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".hypothesis",
    ".benchmarks", "*.so", "*.o", "_core.c", ".venv",
)


def _setuptools_reads_spdx() -> bool:
    from importlib.metadata import version

    from packaging.version import Version

    return Version(version("setuptools")) >= Version("77")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not run from a source checkout")
    if not _setuptools_reads_spdx():
        pytest.skip("needs setuptools>=77 (in the test extra) to build offline")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src-tree"
    shutil.copytree(ROOT, src, ignore=_IGNORE)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "--no-index",
         "--no-build-isolation", "-w", str(tmp / "dist"), str(src)],
        capture_output=True, text=True,
    )
    log = out.stdout + out.stderr
    assert out.returncode == 0, log[-4000:]
    (wheel,) = (tmp / "dist").glob("shimsim-*.whl")
    return wheel, log


@pytest.mark.slow
def test_build_backend_does_not_warn(built):
    _, log = built
    # the TOML-table `project.license` stops being accepted after 2027-02-18
    assert "SetuptoolsDeprecationWarning" not in log
    assert "project.license" not in log
    # data folders missing from `packages` would stop being shipped
    assert "is absent from the `packages` configuration" not in log


@pytest.mark.slow
def test_wheel_metadata_is_spdx_with_licence_file(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = zf.read(meta).decode()
        dist_info = meta.rsplit("/", 1)[0]
        assert f"{dist_info}/licenses/LICENSE" in names
        assert zf.read(f"{dist_info}/licenses/LICENSE").decode().startswith("MIT License")
    headers = [line for line in metadata.split("\n\n", 1)[0].splitlines()]
    assert "License-Expression: MIT" in headers
    assert "License-File: LICENSE" in headers
    assert not any(h.startswith(("License: ", "Classifier: License")) for h in headers)


@pytest.mark.slow
def test_wheel_ships_py_typed_core_and_every_module(built):
    wheel, _ = built
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert zf.read("shimsim/py.typed") == b""
    assert any(n.startswith("shimsim/_core") and n.endswith(".so") for n in names)
    src = ROOT / "src" / "shimsim"
    for path in src.rglob("*"):
        rel = path.relative_to(src)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix in {".so", ".o", ".c"}:
            continue
        assert f"shimsim/{rel.as_posix()}" in names, f"{rel} is not in the wheel"
    for path in (ROOT / "tables").rglob("*"):
        rel = path.relative_to(ROOT / "tables")
        if path.is_file() and "__pycache__" not in rel.parts:
            assert f"shimsim/_tables/{rel.as_posix()}" in names, f"tables/{rel} is not in the wheel"


def test_source_tree_has_py_typed_and_is_declared():
    """Cheap check for the fast suite: the marker exists and package-data names it."""
    import tomllib

    if not (ROOT / "pyproject.toml").is_file():
        pytest.skip("not run from a source checkout")
    assert (ROOT / "src" / "shimsim" / "py.typed").is_file()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "MIT"
    assert project["project"]["license-files"] == ["LICENSE"]
    assert "py.typed" in project["tool"]["setuptools"]["package-data"]["shimsim"]
