# SPDX-License-Identifier: MIT
"""Where two probe recordings part: process matching, noise, and results
(pure Python, no strace or seccomp needed)."""
from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shimsim import model
from shimsim.probe import recording as rec


def sc(pid, line, name, ret=0, err=None, file="n"):
    return model.Event(model.SYSCALL, file, line, pid=pid, name=name, ret=-1 if err else ret,
                       rec=model.ERROR if err else model.SUCCESS, errname=err)


def recording(events, root=10, file="n"):
    for e in events:
        e.file = file
    start = model.Event(model.SYSCALL, file, 1, pid=root, name="execve", rec=model.SUCCESS, ret=0)
    return rec.Recording(Path(file), events, start, root)


def test_identical_runs_do_not_part():
    a = recording([sc(10, 2, "openat", 3), sc(10, 3, "read", 5), sc(10, 4, "close")])
    b = recording([sc(20, 7, "openat", 3), sc(20, 8, "read", 5), sc(20, 9, "close")], root=20, file="f")
    assert rec.parted_at(a, b) is None


def test_first_failing_call_is_the_parting():
    a = recording([sc(10, 2, "openat", 3), sc(10, 3, "read", 5)])
    b = recording([sc(10, 5, "openat", err="ENOSYS"), sc(10, 6, "write", 40)], file="f")
    p = rec.parted_at(a, b)
    assert p is not None and p.syscall == "openat"
    assert p.to_json()["normal"] == {"file": "n", "line": 2}
    assert p.to_json()["filtered"] == {"file": "f", "line": 5}
    assert "openat returned 3" in p.reason and "openat failed with ENOSYS" in p.reason


def test_stub_returning_zero_is_a_difference_but_other_values_are_not():
    a = recording([sc(10, 2, "getppid", 4242), sc(10, 3, "read", 100)])
    b = recording([sc(10, 2, "getppid", 4343), sc(10, 3, "read", 0)], file="f")
    p = rec.parted_at(a, b)
    assert p is not None and p.syscall == "read" and p.normal.line == 3


def test_allocator_noise_is_skipped_unless_the_filter_touches_it():
    a = recording([sc(10, 2, "mmap", 0x7000), sc(10, 3, "munmap"), sc(10, 4, "close")])
    b = recording([sc(10, 2, "mmap", 0x8000), sc(10, 3, "mmap", 0x9000), sc(10, 4, "munmap"),
                   sc(10, 5, "close")], file="f")
    assert rec.parted_at(a, b) is None
    p = rec.parted_at(a, b, {"mmap"})      # the filter stubs mmap: its extra call counts
    assert p is not None and p.filtered.name == "mmap" and p.filtered.line == 3


def test_processes_match_by_fork_order_not_pid():
    a = recording([sc(10, 2, "clone", 11), sc(10, 3, "clone", 12), sc(11, 4, "openat", 3),
                   sc(12, 5, "openat", 3)])
    # other pids, other interleaving; the second child fails its openat
    b = recording([sc(20, 2, "clone", 31), sc(20, 3, "clone", 32), sc(32, 4, "openat", err="EPERM"),
                   sc(31, 5, "openat", 3)], root=20, file="f")
    p = rec.parted_at(a, b)
    assert p is not None and p.syscall == "openat"
    assert p.normal.pid == 12 and p.filtered.pid == 32
    assert p.process == (1,)


def test_a_process_that_ends_early_parts_at_its_end():
    a = recording([sc(10, 2, "openat", 3), sc(10, 3, "read", 5),
                   model.Event(model.EXIT, "n", 4, pid=10, ret=0)])
    b = recording([sc(10, 2, "openat", 3), model.Event(model.KILLED, "f", 3, pid=10, name="SIGSEGV")], file="f")
    p = rec.parted_at(a, b)
    assert p is not None and p.normal.line == 3 and p.filtered.kind == model.KILLED
    assert "killed by SIGSEGV" in p.reason


def test_lock_waits_are_noise_whatever_they_return():
    a = recording([sc(10, 2, "futex", err="EAGAIN"), sc(10, 3, "write", 3)])
    b = recording([sc(10, 2, "write", 3), sc(10, 3, "futex", 0)], file="f")
    assert rec.parted_at(a, b) is None
    assert rec.parted_at(a, b, {"futex"}) is not None


# --------------------------------------------------------------------------- properties

CALLS = ["openat", "read", "write", "close", "newfstatat", "getdents64", "ioctl", "lseek"]
step = st.tuples(st.sampled_from(CALLS), st.one_of(st.none(), st.sampled_from(["ENOENT", "EAGAIN"])),
                 st.integers(0, 5))


def build(steps, pid, file, noise_at=()):
    evs, line = [], 2
    for i, (name, err, ret) in enumerate(steps):
        if i in noise_at:
            evs.append(sc(pid, line, "mmap", 0x7F0000 + i, file=file))
            line += 1
        evs.append(sc(pid, line, name, ret, err, file=file))
        line += 1
    return recording(evs, root=pid, file=file)


@given(st.lists(step, max_size=30), st.sets(st.integers(0, 30), max_size=5))
def test_same_program_with_other_pids_and_allocator_noise_never_parts(steps, noise):
    assert rec.parted_at(build(steps, 10, "n"), build(steps, 77, "f", noise)) is None


@given(st.lists(step, min_size=1, max_size=30), st.data())
def test_the_parting_is_the_first_changed_result(steps, data):
    k = data.draw(st.integers(0, len(steps) - 1))
    name, err, ret = steps[k]
    changed = list(steps)
    changed[k] = (name, None if err else "ENOSYS", ret)       # success <-> failure
    a, b = build(steps, 10, "n"), build(changed, 20, "f")
    p = rec.parted_at(a, b)
    assert p is not None and p.syscall == name
    assert p.normal is a.events[k] and p.filtered is b.events[k]
