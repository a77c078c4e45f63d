# SPDX-License-Identifier: MIT
"""DT_RPATH and DT_RUNPATH are kept apart: the loader searches DT_RPATH only when
the object has no DT_RUNPATH (ld.so(8)), so merging them would look in
directories the real loader never reads."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from shimsim.elf import libpath
from shimsim.elf.reader import read_elf


def test_rpath_is_searched_only_without_runpath() -> None:
    both = libpath.candidates("libx.so.1", 62, "/srv/app/bin/prog", ["/r"], ["$ORIGIN/../lib"])
    assert both[0] == "/srv/app/bin/../lib/libx.so.1" and "/r/libx.so.1" not in both
    only = libpath.candidates("libx.so.1", 62, "/srv/app/bin/prog", ["/r"], [])
    assert only[0] == "/r/libx.so.1"


@pytest.mark.skipif(shutil.which("gcc") is None, reason="no C compiler")
@pytest.mark.parametrize(("tags", "rpath", "runpath"), [
    ("--disable-new-dtags", ["/opt/old", "/opt/old2"], []),
    ("--enable-new-dtags", [], ["/opt/old", "/opt/old2"]),
])
def test_the_reader_keeps_the_two_tags_apart(tmp_path: Path, tags: str, rpath: list[str], runpath: list[str]) -> None:
    src = tmp_path / "p.c"
    src.write_text("int main(void) { return 0; }\n")
    exe = tmp_path / "p"
    subprocess.run(["gcc", str(src), "-o", str(exe), f"-Wl,{tags},-rpath,/opt/old:/opt/old2"], check=True)
    raw = read_elf(str(exe))
    assert (raw.rpath, raw.runpath) == (rpath, runpath)
