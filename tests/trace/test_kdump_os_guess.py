# SPDX-License-Identifier: MIT
"""Every kdump recording in tests/fixtures/kdump gets the OS it was recorded on
(tests/fixtures/SOURCES.csv says which), or a guess named as uncertain; a
DragonFly recording says that it is read with another system's table."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim.trace import kdump

FIX = Path(__file__).parents[1] / "fixtures" / "kdump"

# recorded on (SOURCES.csv) -> what the reader is told: (ABI read with, sure | uncertain | dragonfly)
EXPECTED = {
    "gh_hesselink_kqueue1_kfreebsd_gio_hexdump_psig.log": ("freebsd-amd64", "uncertain"),   # FreeBSD, common calls only
    "openbsd_ipfs_mount_stru_stat.log": ("openbsd-amd64", "sure"),      # OpenBSD's 'struct stat {' STRU records
    "sixnix_dragonfly_2014.log": ("freebsd-amd64", "uncertain"),       # DragonFly, but no pid:lwp column, common calls
    "sixnix_freebsd_2014.log": ("freebsd-amd64", "uncertain"),
    "sixnix_netbsd_2014.log": ("netbsd-amd64", "sure"),
    "uul_dragonfly54.log": ("freebsd-amd64", "dragonfly"),             # DragonFly 5.4: pid:lwp, no table of its own
    "uul_freebsd12.log": ("freebsd-amd64", "uncertain"),
    "uul_openbsd68.log": ("openbsd-amd64", "sure"),
}


def test_every_fixture_is_listed() -> None:
    assert {p.name for p in FIX.glob("*.log")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_guess_is_right_or_says_it_is_uncertain(name: str) -> None:
    abi, how = EXPECTED[name]
    lines = (FIX / name).read_text(errors="replace").splitlines()
    assert (kdump.guess_abi(lines) or "freebsd-amd64") == abi
    note = kdump.guess_note(lines)
    if how == "sure":
        assert note is None
    elif how == "uncertain":
        assert note is not None and "uncertain" in note and f"read as {abi}" in note and "--abi" in note
    else:
        assert note is not None and "DragonFly" in note and "no DragonFly table" in note and abi in note


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True)


def test_the_note_is_in_the_text_and_json_reports_and_abi_settles_it() -> None:
    dfly = str(FIX / "uul_dragonfly54.log")
    d = json.loads(_cli("parse", dfly, "--json").stdout)
    assert d["abi"] == "freebsd-amd64" and "no DragonFly table" in d["abi_note"]
    r = _cli("replay", dfly, "--shim", "none-freebsd")
    assert r.returncode == 0, r.stderr
    assert "note: kdump recorded on DragonFly BSD" in r.stdout
    rj = json.loads(_cli("replay", dfly, "--shim", "none-freebsd", "--json").stdout)
    assert "no DragonFly table" in rj["abi_note"]
    settled = json.loads(_cli("parse", dfly, "--json", "--abi", "freebsd-amd64").stdout)
    assert "abi_note" not in settled                     # --abi settles it: nothing to warn about
    sure = json.loads(_cli("parse", str(FIX / "sixnix_netbsd_2014.log"), "--json").stdout)
    assert "abi_note" not in sure and sure["abi"] == "netbsd-amd64"
    unsure = _cli("parse", str(FIX / "uul_freebsd12.log"))
    assert "note: kdump OS guess uncertain" in unsure.stdout
