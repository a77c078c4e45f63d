# SPDX-License-Identifier: MIT
"""How a compat-layer author tests a layer with shimsim's strategies.

Written the way a user would write it, against a shipped shim (the
Linuxulator model): only public API, plain @given tests.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim import model, properties, replay, shim, tables
from shimsim import strategies as ss

GUEST = "linux-x86_64"
LAYER = shim.load("linuxulator")


@settings(max_examples=40)
@given(ss.streams(GUEST, classes=["file", "desc", "io"]))
def test_file_io_streams_only_use_linux_calls(events):
    report = replay.replay_events(LAYER, events)
    assert report.outcomes.get(shim.UNKNOWN, 0) == 0
    assert report.syscalls == sum(1 for e in events if e.name and e.nr is not None and e.kind == model.SYSCALL)


@settings(max_examples=40)
@given(ss.streams(GUEST, max_size=15))
def test_a_call_that_fails_under_the_layer_is_reported(events):
    """Every recorded success the layer turns into a failure shows up as a
    divergence (fatal, or survivable through a known fallback).  A call the
    kernel restarted (ERESTARTSYS and friends) is re-issued and counts as one
    that went on to succeed."""
    report = replay.replay_events(LAYER, events)
    lost = 0
    for ev in events:
        r = replay.replay_event(LAYER, ev)
        if ev.rec in (model.SUCCESS, model.RESTARTED) and r.outcome == shim.FAILED:
            lost += 1
    kinds = report.to_json()["divergence_kinds"]
    assert kinds.get("fails", 0) + kinds.get("survivable", 0) == lost
    assert (report.first_fatal is None) == (kinds.get("fails", 0) == 0)


@settings(max_examples=60)
@given(ss.events(GUEST, names=["open", "openat"], outcomes=["success"]))
def test_dropped_open_flags_are_never_silent(ev):
    """If the layer drops a flag of a successful open, the replay says so."""
    r = replay.replay_event(LAYER, ev)
    assert r.outcome in (shim.TRANSLATED, shim.PARTIAL)
    if r.dropped:
        assert r.div == replay.DIV_FLAG and r.outcome == shim.PARTIAL


@settings(max_examples=40)
@given(ss.flag_sets(GUEST, "mmap.prot"))
def test_mmap_protections_translate_by_name(prot):
    """A PROT_* bit FreeBSD also has is translated; a Linux-only one
    (PROT_SEM, PROT_GROWSDOWN) is reported as unsupported, never passed on."""
    fm = next(f for f in LAYER.fmaps if f.family == "mmap.prot")
    ok, host_value, unsupported, dropped = replay.flag_decode(fm, str(prot))
    linux = tables.load_abi(GUEST).family("mmap.prot")
    freebsd = tables.load_abi("freebsd-amd64").family("mmap.prot")
    shared = [n for n in prot.names if freebsd.members.get(n) is not None]
    linux_only = [n for n in prot.names if n not in shared]
    assert ok
    assert host_value == freebsd.encode(shared)
    assert unsupported == linux.encode(linux_only) and dropped == bool(linux_only)


@settings(max_examples=25)
@given(ss.trace_text("strace", options=["-f", "-tt", "-T"]))
def test_my_traces_parse_back(tt):
    """The parser reads strace -f -tt -T output as the events that were printed."""
    events = properties.parse_text(tt.text, "strace", GUEST)
    assert properties.compare_events(events, tt.events) is None


@settings(max_examples=20)
@given(ss.shim_specs(GUEST, "freebsd-amd64"), st.data())
def test_my_generated_layers_compile_and_replay(spec, data):
    cs = spec.compile()
    events = data.draw(ss.streams(GUEST, max_size=10))
    report = replay.replay_events(cs, events, "c")
    assert report.events == len(events)


def test_the_shipped_laws_on_the_layer():
    """The one-liner: run shimsim's own laws (a few of them here)."""
    results = {r.name: r for r in properties.check(
        "linuxulator", max_examples=10, seed=2024,
        only=["errno-map-total", "coverage-monotonic", "c-python-agree"])}
    assert all(r.status == "passed" for r in results.values()), results
