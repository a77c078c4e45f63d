# SPDX-License-Identifier: MIT
"""tools/regen.py: generated tables come from their pinned upstream files, and the committed ones
are what regeneration writes (excerpts of the real upstream files are in tests/fixtures/upstream)."""
from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

from shimsim import csvtable
from shimsim.tables import SYSCALL_HEADER, Tables

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = Path(__file__).parent / "fixtures" / "upstream"
GENERIC = "torvalds/linux@42d3b66d4cdbacfc9d120d2301b8de89cc29a914:tools/scripts/syscall.tbl"
STRACE = "strace/strace@3e4d70a5e497dc924fba50766f1dc31081c7a59b:src/linux/generic/syscallent-common.h"

_spec = importlib.util.spec_from_file_location("regen", ROOT / "tools" / "regen.py")
regen = importlib.util.module_from_spec(_spec)
sys.modules["regen"] = regen          # dataclasses look their module up there
_spec.loader.exec_module(regen)  # type: ignore[union-attr]

MANIFEST = f"""\
[[table]]
output = "syscalls/linux-generic.csv"
how = "linux-syscall-tbl"
source = "{GENERIC}"
aliases = {{ "80:64" = "newfstat" }}
note = "test excerpt"

[[table]]
output = "syscalls/t-x86.csv"
how = "strace-common"
source = "{STRACE}"
first = 463
last = 470
kind = "common"
"""
X86 = """\
# hand-kept rows from an older upstream copy
# source: example/repo@0123456789012345678901234567890123456789ab:syscall_64.tbl
# upstream-rows: 2
number,name,status,kind,entry,aliases,note
0,read,implemented,common,sys_read,,
462,mseal,implemented,common,sys_mseal,,
"""
ABIS = """\
[abi.t-arm64]
os = "linux"
arch = "aarch64"
pointer_bits = 64
syscalls = "syscalls/linux-generic.csv"
syscall_abis = ["common", "64", "renameat", "rlimit", "memfd_secret"]
endian = "little"
uname = ["aarch64"]

[abi.t-riscv64]
os = "linux"
arch = "riscv64"
pointer_bits = 64
syscalls = "syscalls/linux-generic.csv"
syscall_abis = ["common", "64", "riscv", "newstat", "rlimit", "memfd_secret"]
endian = "little"
uname = ["riscv64"]

[abi.t-x86]
os = "linux"
arch = "x86_64"
pointer_bits = 64
syscalls = "syscalls/t-x86.csv"
endian = "little"
uname = ["x86_64"]
"""


def project(tmp_path: Path) -> Path:
    """A project root with a manifest, one hand-kept table, and tables the loader can read."""
    root = tmp_path / "p"
    t = root / "tables"
    (t / "syscalls").mkdir(parents=True)
    (t / "UPSTREAM.toml").write_text(MANIFEST)
    (t / "syscalls" / "t-x86.csv").write_text(X86)
    (t / "abis.toml").write_text(ABIS)
    (t / "families.toml").write_text("")
    return root


def run(root: Path, *args: str) -> int:
    return regen.main(["--root", str(root), "--from", str(UPSTREAM), *args])


def test_regenerates_from_the_pinned_files_and_check_is_then_a_noop(tmp_path: Path, capsys) -> None:
    root = project(tmp_path)
    assert run(root, "--check") == 1                      # nothing generated yet
    assert "linux-generic.csv" in capsys.readouterr().out
    assert run(root) == 0
    assert run(root, "--check") == 0
    assert "regeneration is a no-op" in capsys.readouterr().out

    gen = csvtable.read(root / "tables" / "syscalls" / "linux-generic.csv", SYSCALL_HEADER)
    assert gen.check_sources() == [GENERIC]
    assert gen.check_upstream_rows() == len(gen) == 24       # every upstream row, once
    by = {(r["number"], r["kind"]): r for r in gen}
    assert by["18", "common"]["status"] == "unimplemented"   # sys_ni_syscall
    assert by["80", "64"]["name"] == "fstat" and by["80", "64"]["aliases"] == "newfstat"
    assert by["4", "time32"]["entry"] == "sys_io_getevents_time32"

    t = Tables(root / "tables")
    arm, rv, x86 = (t.load_abi(n) for n in ("t-arm64", "t-riscv64", "t-x86"))
    assert arm.syscall("renameat").number == 38 and "renameat" not in rv.by_name
    assert rv.syscall(258).name == "riscv_hwprobe" and 258 not in arm.by_number
    assert arm.syscall("newfstat").name == "fstat" and arm.syscall(62).name == "lseek"
    assert "cacheflush" not in arm.by_name and "llseek" not in rv.by_name
    assert [s.number for s in x86.syscalls] == [0, 462, *range(463, 471)]
    assert x86.syscall(470).name == "listns" and x86.syscall("file_setattr").number == 469
    x = (root / "tables" / "syscalls" / "t-x86.csv").read_text()
    assert x.startswith("# hand-kept rows from an older upstream copy\n")    # kept byte for byte
    assert f"# supplement-source: {STRACE}" in x and "# supplement-rows: 8\n" in x
    assert "rseq_slice_yield" not in x                                       # 471 is past `last`


def test_check_shows_what_an_edit_changed(tmp_path: Path, capsys) -> None:
    root = project(tmp_path)
    run(root)
    p = root / "tables" / "syscalls" / "linux-generic.csv"
    p.write_text(p.read_text().replace("463,setxattrat,", "463,setxattr_at,"))
    capsys.readouterr()
    assert run(root, "--check") == 1
    out = capsys.readouterr().out
    assert "-463,setxattr_at," in out and "+463,setxattrat," in out and "1 would change" in out


def test_a_new_pin_without_its_upstream_file_is_an_error(tmp_path: Path, capsys) -> None:
    root = project(tmp_path)
    m = root / "tables" / "UPSTREAM.toml"
    m.write_text(m.read_text().replace("42d3b66d4cdbacfc9d120d2301b8de89cc29a914", "0" * 40))
    assert run(root) == 2
    err = capsys.readouterr().err
    assert "upstream file torvalds/linux@" + "0" * 40 in err and "not found" in err


@pytest.mark.parametrize("edit,fragment", [
    (("how = \"strace-common\"", "how = \"guess\""), "unknown how 'guess'"),
    (("source = \"torvalds/linux@42d3b66d4cdbacfc9d120d2301b8de89cc29a914:", "source = \"torvalds/linux@main:"),
     "source must be owner/repo@<40-hex commit>:path"),
    (('"80:64" = "newfstat"', '"81:64" = "newfstat"'), "aliases for rows 81:64"),
    (("last = 470", "last = 475"), "no rows for 472, 473, 474, 475"),
])
def test_bad_manifest(tmp_path: Path, capsys, edit: tuple[str, str], fragment: str) -> None:
    root = project(tmp_path)
    m = root / "tables" / "UPSTREAM.toml"
    m.write_text(m.read_text().replace(*edit))
    assert run(root) == 2
    assert fragment in capsys.readouterr().err


def test_a_malformed_upstream_row_names_file_and_line(tmp_path: Path, capsys) -> None:
    up = tmp_path / "up"
    shutil.copytree(UPSTREAM, up)
    tbl = up / f"torvalds+linux@{GENERIC.split('@')[1].split(':')[0]}" / "tools" / "scripts" / "syscall.tbl"
    tbl.write_text(tbl.read_text() + "471\n")
    root = project(tmp_path)
    assert regen.main(["--root", str(root), "--from", str(up)]) == 2
    assert f"{GENERIC}:28: expected 'number abi name" in capsys.readouterr().err


def test_committed_tables_cite_the_manifest_pins() -> None:
    """Each generated table's provenance is its manifest entry (regeneration keeps them in step)."""
    manifest = tomllib.loads((ROOT / "tables" / "UPSTREAM.toml").read_text())
    assert manifest["table"]
    for entry in manifest["table"]:
        text = (ROOT / "tables" / entry["output"]).read_text()
        key = "# source: " if entry["how"] == "linux-syscall-tbl" else "# supplement-source: "
        assert f"{key}{entry['source']}" in text, entry["output"]
        regen.Source.parse(entry["source"], entry["output"])


@pytest.mark.skipif(not os.environ.get("SHIMSIM_UPSTREAM"),
                    reason="needs the pinned upstream files: SHIMSIM_UPSTREAM=DIR (see tools/regen.py)")
def test_committed_tables_are_what_regeneration_writes() -> None:
    assert regen.main(["--check"]) == 0


def test_compat_pages_are_current() -> None:
    """docs/compat/*.md are `shimsim compat SHIM --output-format md` of every shipped shim."""
    new = regen.compat_docs(ROOT)
    assert {p.name for p in new} == {p.name for p in (ROOT / "docs" / "compat").glob("*.md")}
    stale = [p.name for p, text in new.items() if p.read_text() != text]
    assert not stale, f"run: python tools/regen.py --docs  (stale: {', '.join(stale)})"
