# SPDX-License-Identifier: MIT
"""``inspect`` over many files: the per-run library memo and the process pool
give the same results as a plain serial inspection, file by file."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim.cli import main
import importlib

from shimsim.elf import inspect_path
from shimsim.elf.predict import is_glibc_object

predict_mod = importlib.import_module("shimsim.elf.predict")   # the module, not elf.predict()
PROGRAMS = ("ls", "cat", "sed", "grep", "gzip", "tar", "bash", "python3", "git", "perl")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A directory of real programs of this machine (copied), a script and a broken ELF."""
    d = tmp_path_factory.mktemp("bins")
    found = 0
    for name in PROGRAMS:
        path = shutil.which(name)
        if path and Path(path).read_bytes()[:4] == b"\x7fELF":
            shutil.copy(os.path.realpath(path), d / name)
            found += 1
    if found < 3:
        pytest.skip("fewer than 3 ELF programs on this machine")
    (d / "script.sh").write_text("#!/bin/sh\necho hi\n")
    (d / "broken").write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\xff" * 20)
    sub = d / "sub"
    sub.mkdir()
    for name in sorted(p.name for p in d.iterdir() if p.is_file())[:3]:
        shutil.copy(d / name, sub / name)        # the same programs again: memo hits
    return d


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *argv], capture_output=True, text=True)


def test_jobs_do_not_change_json(tree):
    serial = _cli("inspect", str(tree), "--shim", "all", "--json", "--jobs", "1")
    pooled = _cli("inspect", str(tree), "--shim", "all", "--json", "--jobs", "2")
    assert serial.returncode == pooled.returncode == 0, serial.stderr + pooled.stderr
    assert serial.stdout == pooled.stdout
    doc = json.loads(serial.stdout)
    assert doc["summary"]["inspected"] >= 3 + 3
    broken = [str(p) for p in sorted(tree.rglob("broken"))]
    assert sorted(e["path"] for e in doc["errors"]) == broken
    assert doc["skipped_not_elf"] == len(list(tree.rglob("script.sh")))


def test_jobs_do_not_change_text(tree):
    serial = _cli("inspect", str(tree), "--origins", "3", "-j", "1")
    pooled = _cli("inspect", str(tree), "--origins", "3", "-j", "2")
    assert serial.returncode == pooled.returncode == 0
    assert serial.stdout == pooled.stdout and serial.stderr == pooled.stderr
    assert f"shimsim: {tree / 'broken'}:" in serial.stderr


def _reference_imports(pred, objs, table, budget) -> None:
    """predict._imports as it was before the per-library memo (the reference)."""
    definer: dict[str, str] = {}
    for soname, raw in objs:
        for sym in raw.exports:
            definer.setdefault(sym.split("@", 1)[0], soname)
    unmapped: set[str] = set()
    for soname, raw in objs:
        if is_glibc_object(soname) and soname != objs[0][0]:
            continue
        for sym in sorted(set(raw.imports)):
            base = sym.split("@", 1)[0]
            where = definer.get(base)
            if where is not None and not is_glibc_object(where):
                continue
            hit = table.lookup(base)
            if hit is None:
                if where is not None:
                    unmapped.add(base)
                continue
            row, via = hit
            label = f"import of {base}" + (f" (as {via})" if via != base else "") + f" by {soname}"
            for name in row.syscalls:
                pred.add(name, predict_mod.Origin("import", label, library=raw is not objs[0][1]),
                         vdso=row.kind == "vdso")
    pred.unmapped_imports = sorted(unmapped)


def test_memoised_imports_equal_reference(tree, monkeypatch):
    files = sorted(p for p in tree.iterdir() if p.is_file() and p.name not in ("broken", "script.sh"))
    memo = [inspect_path(str(p)).to_json() for p in files]
    again = [inspect_path(str(p)).to_json() for p in files]     # every library now a memo hit
    assert memo == again
    predict_mod._LIBS.clear()
    predict_mod._SITES.clear()
    monkeypatch.setattr(predict_mod, "_imports", _reference_imports)
    reference = [inspect_path(str(p)).to_json() for p in files]
    assert memo == reference
    assert any(f["predicted"]["libraries"] for f in memo)        # the closure was followed


def test_definers_first_in_load_order():
    from shimsim.elf.reader import RawElf

    def obj(path, exports):
        return RawElf(path=path, size=0, elfclass=64, little_endian=True, e_type=3, e_machine=62, osabi=0,
                      abiversion=0, entry=0, exports=set(exports))
    objs = [("prog", obj("/p", ["main"])), ("liba.so.1", obj("/a", ["f@@V1", "g"])),
            ("libb.so.1", obj("/b", ["f", "h@V2"]))]
    definer = predict_mod._Definer(objs)
    assert definer.get("f") == "liba.so.1" and definer.get("h") == "libb.so.1"
    assert definer.get("main") == "prog" and definer.get("nope") is None
    assert predict_mod._definers(objs) == {"main": "prog", "f": "liba.so.1", "g": "liba.so.1", "h": "libb.so.1"}


def test_negative_jobs_is_one_line(tree, capsys):
    assert main(["inspect", str(tree), "--jobs", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["shimsim: error: --jobs must be 0 (automatic) or more"]
