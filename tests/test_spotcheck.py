# SPDX-License-Identifier: MIT
"""Issue 16's spot check: calls of each shipped layer release, with the status read from the
release's pinned upstream source (tests/fixtures/spotcheck.csv, written by tools/spotcheck.py from
the upstream files; each row names repo@commit:path:line).  The compiled shim must give every
row's status (and errno, for a failing call)."""
from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from shimsim import shim
from shimsim.codes import OUTCOME_NAMES

FIXTURE = Path(__file__).parent / "fixtures" / "spotcheck.csv"
with FIXTURE.open(encoding="utf-8") as _f:
    ROWS = list(csv.DictReader(_f))
OFFICIAL = ("freebsd/freebsd-src", "NetBSD/src", "illumos/illumos-gate", "TritonDataCenter/illumos-joyent",
            "google/gvisor", "qemu-project/qemu", "torvalds/linux", "MicrosoftDocs/WSL")
UPSTREAM = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)@(?P<commit>[0-9a-f]{40}):(?P<path>[^:]+):(?P<line>\d+)\Z")
SHIPPED_LAYERS = sorted(n for n in shim.list_shims()
                        if shim.load_spec(n).host_kind != "bare" and shim.load_spec(n).rules)

_compiled: dict[str, shim.CompiledShim] = {}


def compiled(name: str) -> shim.CompiledShim:
    if name not in _compiled:
        _compiled[name] = shim.load(name)
    return _compiled[name]


def status(cs: shim.CompiledShim, call: str) -> tuple[str, str]:
    sc = cs.guest.by_name[call]
    out = OUTCOME_NAMES[cs.outcome[sc.number]]
    err = cs.guest.errno.decode(cs.fail_err[sc.number])[0] if out == "failed" else ""
    return out, err


# rows where the spec and the file it pins disagree, with why the spec is not changed (yet): the
# test asserts they still disagree, so a fix of either side shows up here
DISAGREE: dict[tuple[str, str], str] = {
    # (kcmp on FreeBSD 14.3 was here: the 14.3 specs now follow linux_dummy.c@685dc743, the 14.x
    # file they pin, where kcmp is DUMMY; STD linux_kcmp came from a fork's newer syscalls.master)
}


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['shim']}:{r['call']}" for r in ROWS])
def test_shim_gives_the_status_read_from_the_pinned_source(row: dict[str, str]) -> None:
    cs = compiled(row["shim"])
    assert row["call"] in cs.guest.by_name, f"{row['call']} is not a syscall of {cs.guest.name}"
    got = status(cs, row["call"])
    if (row["shim"], row["call"]) in DISAGREE:
        assert got != (row["expected"], row["errno"]), f"{row['shim']} {row['call']} now agrees: drop it from DISAGREE"
        return
    assert got == (row["expected"], row["errno"]), (
        f"{row['shim']} ({row['release']}) {row['call']}: the shim gives {got}, "
        f"{row['upstream']} says {row['expected']} {row['errno']} ({row['evidence']})")


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['shim']}:{r['call']}" for r in ROWS])
def test_every_row_names_an_official_repository_commit_file_and_line(row: dict[str, str]) -> None:
    m = UPSTREAM.match(row["upstream"])
    assert m, row["upstream"]
    assert m["repo"] in OFFICIAL, row["upstream"]
    assert row["expected"] in OUTCOME_NAMES[1:], row
    assert (row["errno"] != "") == (row["expected"] == "failed"), row


def test_at_least_40_calls_per_layer_release() -> None:
    n = Counter(r["shim"] for r in ROWS)
    assert set(n) <= set(shim.list_shims())
    short = {s: n.get(s, 0) for s in SPOTCHECKED if n.get(s, 0) < 40}
    assert not short, short


def test_disagreements_are_rows() -> None:
    keys = {(r["shim"], r["call"]) for r in ROWS}
    assert set(DISAGREE) <= keys


def test_rows_are_unique() -> None:
    keys = Counter((r["shim"], r["call"]) for r in ROWS)
    assert not [k for k, c in keys.items() if c > 1]


# the layer releases checked so far (every layer with rules should be here: see the report)
SPOTCHECKED = sorted({r["shim"] for r in ROWS})
