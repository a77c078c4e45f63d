# SPDX-License-Identifier: MIT
"""Every shipped property on every shipped shim (tables/shims/*.toml).

A property either passes, or is falsified by a finding listed in KNOWN
below: a bug in a table or a parser that shimsim's properties found and
that is reported to its owner.  Anything else (a new falsification, or a
property raising) fails the test.  The finite parts of the laws (every
errno, every signal, every flag member) are checked exhaustively, so the
known findings are found on every run; the sampled parts use modest
example counts to keep the suite (also run under AddressSanitizer) short.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import settings

from shimsim import properties, shim

MAX_EXAMPLES = 12
SEED = 20261207

# (shim or "*" for any, property) -> the finding, as a regex on the message.  Empty: with this
# seed and with 10 random seeds at 50 examples, every shipped property passes on every shipped
# shim (the SIGTHR/SIGLIBRT maps, clone's exit signal and the checker's field reading are fixed).
KNOWN: dict[tuple[str, str], str] = {}

SUBJECTS = {name: properties.Subject.load(name) for name in shim.list_shims()}
CASES = [(name, p.name) for name, subj in SUBJECTS.items() for p in properties.applicable(subj)]


def known(shim_name: str, prop: str) -> str | None:
    return KNOWN.get((shim_name, prop)) or KNOWN.get(("*", prop))


@pytest.mark.parametrize(("shim_name", "prop"), CASES, ids=[f"{s}:{p}" for s, p in CASES])
def test_property_holds_or_is_a_known_finding(shim_name: str, prop: str) -> None:
    sett = properties.make_settings(settings(), MAX_EXAMPLES)
    # a fixed seed: the sampled parts find the same examples on every run (CI must not flake)
    r = properties.get(prop).run(SUBJECTS[shim_name], sett, SEED)
    assert r.status != "error", f"{prop} raised on {shim_name}: {r.message}\n{r.counterexample}"
    if r.status == "falsified":
        pattern = known(shim_name, prop)
        assert pattern is not None, f"new finding: {prop} on {shim_name}: {r.message}\n{r.counterexample}"
        assert re.search(pattern, r.message + "\n" + (r.counterexample or "")), (
            f"{prop} on {shim_name} falsified by something else than the known finding: "
            f"{r.message}\n{r.counterexample}")
        assert r.counterexample, "a falsified property shows its counterexample"


def test_every_shipped_shim_runs_every_property_that_applies_to_it() -> None:
    """Round trip, flag, table and replay laws all run somewhere; the two
    reference laws run on the references."""
    ran = {p for _s, p in CASES}
    assert ran == {p.name for p in properties.PROPERTIES}
    by_shim = {s: {p for s2, p in CASES if s2 == s} for s in SUBJECTS}
    assert "native-never-diverges" in by_shim["native"] and "native-never-diverges" in by_shim["vm"]
    assert "none-fails-every-call" in by_shim["disabled"]
    assert "bare-lands-by-number" in by_shim["none"] and "bare-lands-by-number" in by_shim["none-freebsd"]
    for s, props in by_shim.items():
        if s.startswith("none"):        # no layer: no maps, no rules to add
            assert {"errno-map-total", "coverage-monotonic"}.isdisjoint(props), s
            continue
        assert {"errno-map-total", "signal-map-total", "coverage-monotonic", "c-python-agree"} <= props, s
        assert any(p.startswith("roundtrip-") for p in props), s
    assert "flag-roundtrip" in by_shim["linuxulator"]


def test_known_findings_are_about_shipped_shims_and_properties() -> None:
    for s, p in KNOWN:
        assert s == "*" or s in SUBJECTS, s
        assert p in properties.names(), p


def _flag_map(shim_name: str, abi: str, family: str):
    subj = properties.Subject.load(shim_name)
    cs = subj.compiled(abi)
    fm = next(f for f in cs.fmaps if f.family == family)
    return subj.spec, fm, cs.host.family(family)


@pytest.mark.parametrize(("shim_name", "abi", "family", "host_value"), [
    # CLONE_NEWTIME (0x80) lies inside CSIGNAL's mask (0xff): beside an exit signal the field
    # reads 0x81, which is no signal; it is SIGHUP with CLONE_NEWTIME taken out
    ("qemu-user@7.2", "linux-aarch64", "clone", 0x81),
    ("qemu-user@7.2", "linux-aarch64", "clone", 0x80),
    ("qemu-user@7.2", "linux-aarch64", "clone", 0x11 | 0x100),     # SIGCHLD|CLONE_VM
    # Darwin's O_DP_GETRAWENCRYPTED/O_DP_GETRAWUNENCRYPTED (1, 2) lie inside O_ACCMODE (3)
    ("native", "darwin-x86_64", "open_flags", 0x3),
    ("native", "darwin-x86_64", "open_flags", 0x1),
    ("native", "linux-x86_64", "open_flags", 0x1 | 0x40 | 0x200),  # O_WRONLY|O_CREAT|O_TRUNC
    ("native", "linux-x86_64", "open_flags", 0x2),
    ("native", "linux-x86_64", "open_flags", 0x0),
])
def test_flag_back_reads_a_field_beside_bits_inside_its_mask(shim_name, abi, family, host_value) -> None:
    spec, fm, hfam = _flag_map(shim_name, abi, family)
    assert properties.flag_back(fm, host_value, spec, hfam) == host_value


def test_flag_roundtrip_passes_with_a_number_beside_a_bit_inside_the_field() -> None:
    """unshare(CLONE_NEWTIME|0x1): the 0x1 is decoded through CSIGNAL (SIGHUP) and comes back."""
    subj = properties.Subject.load("qemu-user@7.2")
    for seed in (1, 4):     # seeds that found CLONE_NEWTIME|0x1 before the checker read the field
        r = properties.get("flag-roundtrip").run(subj, properties.make_settings(settings(), 50), seed)
        assert r.status == "passed", r.message
