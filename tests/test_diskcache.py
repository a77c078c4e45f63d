# SPDX-License-Identifier: MIT
"""The cross-run cache of compiled tables (shimsim.diskcache): keyed by the tables'
digest, atomic under racing writers, corrupt entries ignored, off when asked."""
from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

import pytest

from shimsim import diskcache, resources
from shimsim.tables import ABI, Tables


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("SHIMSIM_CACHE_DIR", str(d))
    monkeypatch.delenv("SHIMSIM_NO_CACHE", raising=False)
    return d


def test_roundtrip_and_digest_follows_the_files(cache, tmp_path):
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.csv").write_text("x\n")
    diskcache.store("t", str(root), "k", {"v": 1})
    assert diskcache.load("t", str(root), "k") == {"v": 1}
    before = diskcache.tables_digest(str(root))
    diskcache._digests.clear()
    (root / "sub" / "a.csv").write_text("xy\n")          # a table edited: another key
    assert diskcache.tables_digest(str(root)) != before
    assert diskcache.load("t", str(root), "k") is None
    diskcache._digests.clear()


def test_cached_abi_equals_compiled(cache):
    fresh = Tables().load_abi("linux-x86_64")           # compiled, then stored
    assert list(cache.glob("abi-*-linux-x86_64.pickle"))
    t = Tables()
    again = t.load_abi("linux-x86_64")                  # read back
    assert isinstance(again, ABI) and again is not fresh and again.tables is t
    assert again.syscalls == fresh.syscalls and again.by_name == fresh.by_name
    assert again.by_number == fresh.by_number and again.spec == fresh.spec
    assert again.family_names() == fresh.family_names()


def test_corrupt_entry_is_ignored_and_rewritten(cache):
    Tables().load_abi("linux-x86_64")
    (entry,) = cache.glob("abi-*-linux-x86_64.pickle")
    good = entry.read_bytes()
    for bad in (b"", b"garbage", good[: len(good) // 2]):
        entry.write_bytes(bad)
        abi = Tables().load_abi("linux-x86_64")
        assert abi.by_name["openat"].number == 257
        assert entry.read_bytes() == good                    # rewritten whole


def test_wrong_object_in_entry_is_ignored(cache):
    diskcache.store("abi", str(resources.tables_root()), "linux-x86_64", {"not": "an ABI"})
    assert Tables().load_abi("linux-x86_64").name == "linux-x86_64"


def _numbers_of(abi: ABI) -> tuple[dict, dict, dict]:
    return ({n: s.number for n, s in abi.by_name.items()}, dict(abi.errno.supported()),
            dict(abi.signals.supported()))


@pytest.mark.parametrize("name", ["linux-x86_64", "freebsd-amd64"])
def test_cached_numbers_equal_the_abis(cache, name):
    """What a trace reader takes of an ABI (Tables.numbers), cached apart from the ABI: the same
    dicts in the same order, computed or read back; a corrupt or foreign entry is recomputed."""
    want = _numbers_of(Tables().load_abi(name))
    first = Tables().numbers(name)
    (entry,) = cache.glob(f"numbers-*-{name}.pickle")
    again = Tables().numbers(name)
    for got in (first, again):
        assert got == want and [list(d.items()) for d in got] == [list(d.items()) for d in want]
    for bad in (b"garbage", b""):
        entry.write_bytes(bad)
        assert Tables().numbers(name) == want
    diskcache.store("numbers", str(resources.tables_root()), name, ({}, {}))
    assert Tables().numbers(name) == want


def test_numbers_of_other_tables_are_not_cached(cache, tmp_path):
    import shutil

    root = tmp_path / "tables"
    shutil.copytree(resources.tables_root(), root)
    assert Tables(root).numbers("linux-x86_64")[0]["openat"] == 257
    assert not list(cache.glob("numbers-*"))


def test_off_and_unwritable(cache, monkeypatch, tmp_path):
    monkeypatch.setenv("SHIMSIM_NO_CACHE", "1")
    Tables().load_abi("linux-x86_64")
    assert not cache.exists()
    monkeypatch.delenv("SHIMSIM_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SHIMSIM_CACHE_DIR", str(blocker / "cache"))   # a file in the way
    assert Tables().load_abi("linux-x86_64").name == "linux-x86_64"


def _writer(root: str, n: int) -> None:
    for i in range(n):
        diskcache.store("race", root, "k", list(range(20000)) + [i % 2])


def test_racing_writers_never_expose_half_an_entry(cache, tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(root), 40)) for _ in range(2)]
    for p in procs:
        p.start()
    seen = 0
    deadline = time.monotonic() + 60
    while any(p.is_alive() for p in procs) and time.monotonic() < deadline:
        got = diskcache.load("race", str(root), "k")
        if got is not None:
            assert got[:20000] == list(range(20000)) and len(got) == 20001
            seen += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert diskcache.load("race", str(root), "k")[-1] in (0, 1)
    assert not [f for f in os.listdir(cache) if f.startswith(".tmp-")]   # no temporary file left


def test_cached_families_and_toml_equal_compiled(cache):
    fresh = Tables()
    names = ("errno", "signals", "open_flags", "mmap")
    want = {n: fresh.load_abi("linux-x86_64").family(n) for n in names}
    assert list(cache.glob("family-*-linux-x86_64-errno.pickle"))
    assert list(cache.glob("toml-*-abis.toml.pickle"))
    t = Tables()
    assert t.abi_specs == fresh.abi_specs and t.families.keys() == fresh.families.keys()
    abi = t.load_abi("linux-x86_64")
    for n in names:
        got = abi.family(n)
        assert got is not want[n] and got.members == want[n].members and got.kind == want[n].kind
        assert got.groups == want[n].groups and [(f.mask, f.members) for f in got.fields] == \
            [(f.mask, f.members) for f in want[n].fields]
    assert abi.errno.members["ENOENT"] == 2
