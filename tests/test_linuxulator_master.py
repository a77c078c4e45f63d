# SPDX-License-Identifier: MIT
"""The amd64 Linuxulator specs against the official sys/amd64/linux/syscalls.master they pin.

tests/fixtures/freebsd/amd64-linux-syscalls-1dd0fb62.csv holds, per slot, the type and handler
read from freebsd/freebsd-src@1dd0fb62 (main, early 2021; see tests/fixtures/SOURCES.csv).  Each
spec row's note starts with what its import read ("STD linux_x", "NOPROTO sys_x", "UNIMPL",
"DUMMY(x)"); it must agree with the official slot, except for the rows the spec header names as
newer than that commit.  A row that starts to disagree fails here with its number and both readings.
"""
from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import pytest

from shimsim import tables

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "freebsd" / "amd64-linux-syscalls-1dd0fb62.csv"
SPECS = ["linuxulator.toml", "linuxulator@freebsd-14.3.toml"]
FORK = "ricardobranco777/freebsd-src@8c424c2dc37c61a9a92e01ce3d1bfa1359a0bfd1:sys/amd64/linux/syscalls.master"
PIN = "freebsd/freebsd-src@1dd0fb62177ea9651e196ec1acb66b05775a7820:sys/amd64/linux/syscalls.master"
# rows the spec headers list as not confirmed by the 2021 file (handlers changed after it)
NEWER_HANDLER = {"write", "writev", "poll", "semop"}
LAST_SLOT = 427                                   # io_uring_register: where the 2021 file ends
_NOTE = re.compile(r"(STD|NOPROTO|UNIMPL)\b\s*([\w]*)|DUMMY\((\w+)\)")


def official() -> dict[int, tuple[str, str]]:
    lines = [line for line in FIXTURE.read_text().splitlines() if not line.startswith("#")]
    return {int(r["number"]): (r["type"], r["handler"]) for r in csv.DictReader(lines)}


def reading(note: str) -> tuple[str, str] | None:
    """(type, handler) a spec note says its import read, or None for a note of another form."""
    m = _NOTE.match(note)
    if not m:
        return None
    if m[3]:
        return ("STD", "linux_" + m[3])                # DUMMY(x): an STD linux_x(void) stub
    kind, handler = m[1], m[2]
    return (kind, handler.removeprefix("sys_") if kind == "NOPROTO" else handler)


def agrees(mine: tuple[str, str], theirs: tuple[str, str]) -> bool:
    return mine[0] == theirs[0] and (mine[0] == "UNIMPL" or mine[1] == theirs[1])


def test_fixture_covers_every_slot_to_427() -> None:
    got = official()
    assert sorted(got) == list(range(LAST_SLOT + 1))
    assert got[0] == ("NOPROTO", "read") and got[427] == ("STD", "linux_io_uring_register")


@pytest.mark.parametrize("spec_name", SPECS)
def test_spec_pins_the_official_master(spec_name: str) -> None:
    spec = tomllib.loads((ROOT / "tables" / "shims" / spec_name).read_text())
    prov = spec["shim"]["provenance"]
    assert prov.index(PIN) == 0
    # the fork's 15.0-era copy is cited after it, for the rows the 2021 official copy predates
    # (428-453) and the four it reads otherwise (see the spec's header); no other copy
    assert [p for p in prov if p.endswith(":sys/amd64/linux/syscalls.master") and p != PIN] == [FORK]


@pytest.mark.parametrize("spec_name", SPECS)
def test_spec_rows_agree_with_the_official_master(spec_name: str) -> None:
    spec = tomllib.loads((ROOT / "tables" / "shims" / spec_name).read_text())
    abi = tables.load_abi("linux-x86_64")
    slots = official()
    agree, newer, differ = 0, [], []
    for name, rule in spec["syscalls"].items():
        mine = reading(rule.get("note", ""))
        number = abi.by_name[name].number
        if mine is None or number > LAST_SLOT:
            newer.append(name)
            continue
        if agrees(mine, slots[number]):
            agree += 1
        elif name in NEWER_HANDLER:
            newer.append(name)
        else:
            differ.append(f"{number} {name}: spec {mine}, {PIN} {slots[number]}")
    assert not differ, "\n".join(differ)
    assert agree == 336, agree                     # the figure the spec header quotes
    assert NEWER_HANDLER <= set(newer)


def test_a_changed_row_is_caught() -> None:
    """The comparison is not vacuous: a NOPROTO read where upstream has STD linux_open fails."""
    slots = official()
    assert not agrees(("NOPROTO", "open"), slots[2])
    assert agrees(reading("STD linux_open: argument remapping"), slots[2])
    assert agrees(reading("DUMMY(vhangup) in sys/compat/linux/linux_dummy.c -> ENOSYS"), slots[153])
    assert reading("as amd64 (shared handler)") is None
