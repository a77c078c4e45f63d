# SPDX-License-Identifier: MIT
"""The trace driver resolves what non-strace formats print as numbers or
under other names through the guest ABI, for both engines' consumers."""
from __future__ import annotations

import pytest

from shimsim import model, tables, trace

FREEBSD = "truss_freebsd/lab4_uk_truss_malloc0_stdout_interleaved.log"
FREEBSD_SIGNALS = "truss_freebsd/blog_cn_clint_old_truss_signal11.log"
ILLUMOS_EXIT = "truss_illumos/uul_openindiana_truss.log"


def _events(fixtures, rel):
    t = trace.open([str(fixtures / rel)], engine="python")
    return t, list(t.events())


def test_errno_numbers_get_their_names_and_count_as_errors(fixtures):
    t, evs = _events(fixtures, FREEBSD)
    (rl,) = [e for e in evs if e.name == "readlink"]
    assert (rl.rec, rl.err, rl.errname) == (model.ERROR, 2, "ENOENT")
    assert t.stats.syscalls["readlink"] == [1, 1]


def test_aliases_give_table_numbers(fixtures):
    fb = tables.load_abi("freebsd-amd64")
    _, evs = _events(fixtures, FREEBSD)
    (ex,) = [e for e in evs if e.kind == model.SYSCALL and e.name == "exit"]
    assert ex.nr == fb.syscall("_exit").number == 1
    il = tables.load_abi("illumos-amd64")
    _, evs = _events(fixtures, ILLUMOS_EXIT)
    (ex,) = [e for e in evs if e.kind == model.SYSCALL and e.name == "_exit"]
    assert ex.nr == il.syscall("exit").number


def test_signal_numbers_get_names(fixtures):
    _, evs = _events(fixtures, FREEBSD_SIGNALS)
    sigs = [e for e in evs if e.kind == model.SIGNAL]
    assert sigs and all((e.name, e.err) == ("SIGSEGV", 11) for e in sigs)


@pytest.mark.parametrize("rel", [FREEBSD, FREEBSD_SIGNALS, ILLUMOS_EXIT])
def test_packed_batches_match_the_events(fixtures, rel):
    """Non-strace formats reach the C replay through the one packer: every
    field of every record equals the Python event it came from."""
    t, evs = _events(fixtures, rel)
    packed = []
    for b in trace.open([str(fixtures / rel)], engine="c").batches():
        for i in range(b.count):
            e = b.events[i]
            packed.append((e.line, e.kind, e.nr, e.err, b.abis[e.abi],
                           bool(e.flags & model.F_NO_RET)))
    want = [(e.line, e.kind, -1 if e.nr is None else e.nr, e.err or 0, e.abi,
             e.kind == model.SYSCALL and e.ret is None) for e in evs]
    assert packed == want
