# SPDX-License-Identifier: MIT
"""The cross-run cache of analysed files (shimsim.elf.filecache, issue 17)."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys

import pytest

from shimsim.elf import filecache, inspect_path, libpath
from shimsim.elf import reader as reader_mod

predict_mod = sys.modules["shimsim.elf.predict"]     # the package exports a function of that name

LS = "/bin/ls"
PY = os.path.realpath(sys.executable)
pytestmark = pytest.mark.skipif(not (os.path.isfile(LS) and os.path.isfile("/bin/true")), reason="needs /bin/ls")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("SHIMSIM_CACHE_DIR", str(d))
    monkeypatch.delenv("SHIMSIM_NO_CACHE", raising=False)
    _new_run()
    yield d
    _new_run()


def _new_run() -> None:
    """Forget what this process memoised, as a new run would."""
    libpath._LIBS.clear()
    predict_mod._SITES.clear()
    filecache._digests.clear()
    filecache.stats.update(hit=0, miss=0)


def _entries(d) -> list:
    return sorted(p for p in d.iterdir() if p.name.startswith("elf")) if d.exists() else []


def _inspect(*paths: str) -> list[dict]:
    return [inspect_path(p, ["all"]).to_json() for p in paths]


def _uncached(path: str) -> dict:
    os.environ["SHIMSIM_NO_CACHE"] = "1"
    try:
        _new_run()
        return _inspect(path)[0]
    finally:
        del os.environ["SHIMSIM_NO_CACHE"]


def _no_reading(monkeypatch) -> None:
    def fail(*a, **k):
        raise AssertionError("analysed again instead of read from the cache")
    monkeypatch.setattr(reader_mod._Reader, "run", fail)
    monkeypatch.setattr(predict_mod, "scan", fail)


def test_warm_run_reads_the_cache_and_says_the_same(cache, monkeypatch):
    cold = _inspect(LS, PY)
    assert filecache.stats["miss"] > 2 and _entries(cache)
    _new_run()
    with monkeypatch.context() as m:
        _no_reading(m)              # nothing may be read or scanned: all of it comes from the cache
        warm = _inspect(LS, PY)
    assert warm == cold
    assert filecache.stats["miss"] == 0 and filecache.stats["hit"] > 2


def test_cli_cold_and_warm_json_identical(tmp_path):
    env = dict(os.environ, SHIMSIM_CACHE_DIR=str(tmp_path / "c"))
    env.pop("SHIMSIM_NO_CACHE", None)
    cmd = [sys.executable, "-m", "shimsim", "inspect", LS, PY, "--shim", "all", "--json"]
    cold = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    files = {p.name: p.stat().st_mtime_ns for p in _entries(tmp_path / "c")}
    assert any(n.startswith("elfraw-") for n in files) and any(n.startswith("elfsites-") for n in files)
    warm = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(warm) == json.loads(cold) and warm == cold
    # the warm run hit every entry: none was rewritten and none added
    assert {p.name: p.stat().st_mtime_ns for p in _entries(tmp_path / "c")} == files


def test_changed_file_is_analysed_again(cache, tmp_path):
    prog = tmp_path / "prog"
    shutil.copyfile(LS, prog)
    first = _inspect(str(prog))[0]
    assert first["identity"]["needed"] == inspect_path(LS).to_json()["identity"]["needed"]
    st = os.stat(prog)
    shutil.copyfile("/bin/true", prog)          # same path and inode, new bytes
    os.utime(prog, ns=(st.st_atime_ns, st.st_mtime_ns))   # even with the old mtime
    _new_run()
    second = _inspect(str(prog))[0]
    assert filecache.stats["miss"] == 2         # the program read and scanned again (its libc is a hit)
    assert second == _uncached(str(prog)) and second != first


def test_rewrite_the_file_times_cannot_tell_is_caught_by_digest(cache, tmp_path, monkeypatch):
    """A coarse clock: the rewrite keeps inode, size and times (faked here); a file that
    changed just before it was analysed has its entry checked by digest next time."""
    monkeypatch.setattr(filecache, "_identity", lambda st: (1, 2, 3, os.stat(tmp_path).st_mtime_ns, 0))
    prog = tmp_path / "prog"
    shutil.copyfile(LS, prog)
    first = _inspect(str(prog))[0]
    shutil.copyfile("/bin/true", prog)
    _new_run()
    second = _inspect(str(prog))[0]
    assert second != first and second == _uncached(str(prog))


def test_touched_but_identical_file_is_a_hit_by_digest(cache, tmp_path, monkeypatch):
    prog = tmp_path / "prog"
    shutil.copyfile(LS, prog)
    cold = _inspect(str(prog))
    os.utime(prog, ns=(1, 10**18))
    _new_run()
    with monkeypatch.context() as m:
        _no_reading(m)
        warm = _inspect(str(prog))
    assert warm == cold and filecache.stats["miss"] == 0


@pytest.mark.parametrize("garbage", [b"", b"\x80\x05not a pickle", pickle.dumps(42), pickle.dumps(("x", 1, 2, 3))])
def test_corrupt_entry_is_ignored_and_rewritten(cache, garbage):
    cold = _inspect(LS)
    entries = _entries(cache)
    for p in entries:
        p.write_bytes(garbage)
    _new_run()
    assert _inspect(LS) == cold
    assert filecache.stats["hit"] == 0
    for p in entries:                           # rewritten whole
        entry = pickle.loads(p.read_bytes())
        assert isinstance(entry, tuple) and len(entry) == 4
    _new_run()
    assert _inspect(LS) == cold and filecache.stats["miss"] == 0


@pytest.mark.parametrize("how", ["flag", "env"])
def test_cache_can_be_turned_off(tmp_path, how):
    env = dict(os.environ, SHIMSIM_CACHE_DIR=str(tmp_path / "c"))
    env.pop("SHIMSIM_NO_CACHE", None)
    cmd = [sys.executable, "-m", "shimsim", "inspect", LS, "--json"]
    if how == "flag":
        cmd.append("--no-cache")
    else:
        env["SHIMSIM_NO_CACHE"] = "1"
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["files"][0]["path"] == LS
    assert _entries(tmp_path / "c") == []


def test_entry_names_the_path_asked_for(cache, tmp_path):
    """The entry is by real path; a symlink to the same file is reported under its own name."""
    link = tmp_path / "ls-link"
    link.symlink_to(LS)
    _inspect(LS)
    _new_run()
    out = inspect_path(str(link))
    assert out.path == str(link) and filecache.stats["hit"] > 0
