# SPDX-License-Identifier: MIT
"""The properties can fail: each law is falsified by a subject or engine
that breaks it on purpose, with a readable shrunk counterexample."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import Phase, settings

from shimsim import model, properties, replay, shim
from shimsim.properties import Subject

SETT = properties.make_settings(settings(database=None), 15)
# for laws whose examples are costly, finding the falsification is the point here (shrinking is
# tested on the cheaper ones): no shrink phase
NO_SHRINK = properties.make_settings(settings(database=None, phases=[Phase.generate]), 40)

USER = """# SPDX-License-Identifier: MIT
[shim]
name = "lab"
guest = "linux-x86_64"
host = "freebsd-amd64"
provenance = ["tests"]
default = "translate"

[syscalls]
"""


def subject_from(tmp_path: Path, text: str) -> Subject:
    p = tmp_path / "lab.toml"
    p.write_text(text)
    return Subject.load(str(p))


def run(prop: str, subject: Subject, seed: int | None = 1) -> properties.Result:
    return properties.get(prop).run(subject, SETT, seed)


def test_errno_map_lossy_without_declaration(tmp_path: Path) -> None:
    s = subject_from(tmp_path, USER + '\n[errno.to_host]\nENOENT = { to = "EPERM" }\n')
    r = run("errno-map-total", s)
    assert r.status == "falsified"
    assert "ENOENT comes back as EPERM" in r.message and "declared lossy" in r.message
    assert r.counterexample.startswith("[pid  1000] read(") and "= -1 ENOENT" in r.counterexample


def test_errno_map_declared_lossy_is_fine_but_totality_still_checked(tmp_path: Path) -> None:
    s = subject_from(tmp_path, USER + '\n[errno.to_host]\nENOENT = { to = "EPERM", lossy = "test" }\n')
    r = run("errno-map-total", s)
    # Linux errnos FreeBSD lacks (ECHRNG, ...) have no fate in this spec
    assert r.status == "falsified" and "has no value on freebsd-amd64" in r.message


def test_signal_map_lossy_without_declaration(tmp_path: Path) -> None:
    text = USER.replace('guest = "linux-x86_64"', 'guest = "freebsd-amd64"').replace(
        'host = "freebsd-amd64"', 'host = "netbsd-amd64"')
    s = subject_from(tmp_path, text + '\n[signals.to_host]\nSIGUSR1 = { to = "SIGUSR2" }\n')
    r = run("signal-map-total", s)
    assert r.status == "falsified", r
    assert "SIGUSR1 comes back as SIGUSR2" in r.message
    assert "SIGNAL 30 (SIGUSR1)" in r.counterexample           # as FreeBSD truss prints it


def test_native_law_catches_a_diverging_engine(monkeypatch) -> None:
    s = Subject.load("native")
    cs = s.compiled("linux-x86_64")
    nr = cs.guest.by_name["close"].number
    monkeypatch.setattr(cs, "outcome", [shim.FAILED if i == nr else o for i, o in enumerate(cs.outcome)])
    monkeypatch.setattr(cs, "fail_err", [9 if i == nr else e for i, e in enumerate(cs.fail_err)])
    cs._c = None
    monkeypatch.setattr(s, "abis", lambda: ["linux-x86_64"])
    r = run("native-never-diverges", s)
    assert r.status == "falsified" and "close diverges under native" in r.message
    lines = r.counterexample.splitlines()
    assert lines[-1].endswith("close(3) = 0") and len(lines) <= 6   # shrunk: open something, close it


def test_none_law_catches_a_call_that_works(monkeypatch) -> None:
    s = Subject.load("disabled")
    monkeypatch.setattr(s, "abis", lambda: ["linux-x86_64"])
    cs = s.compiled("linux-x86_64")
    monkeypatch.setattr(cs, "outcome", [shim.EMULATED] * len(cs.outcome))
    r = run("none-fails-every-call", s)
    assert r.status == "falsified" and "is emulated" in r.message
    assert len(r.counterexample.splitlines()) == 1


def test_monotonic_law_catches_support_that_breaks_others(monkeypatch) -> None:
    s = Subject.load("linuxulator")
    real = shim.compile_shim

    def worse(spec, abi=None, fallbacks=None):
        cs = real(spec, abi, fallbacks)
        added = [n for n, r in spec.rules.items() if r.note.startswith("added by the coverage-monotonic")]
        if added:                                 # the "new support" silently breaks every other call
            keep = cs.guest.by_name[added[0]].number
            cs.outcome = [o if i == keep else shim.FAILED for i, o in enumerate(cs.outcome)]
            cs.fail_err = [e if i == keep else 9 for i, e in enumerate(cs.fail_err)]
        return cs

    monkeypatch.setattr(properties.shim, "compile_shim", worse)
    r = properties.get("coverage-monotonic").run(s, NO_SHRINK, 1)
    assert r.status == "falsified" and "lowers coverage" in r.message and "stop working" in r.message
    assert "# after adding [syscalls]" in r.counterexample


def test_agreement_catches_an_engine_disagreement(monkeypatch) -> None:
    s = Subject.load("linuxulator")
    real = replay.replay_event

    def skewed(cs, ev):
        r = real(cs, ev)
        if ev.kind == model.SYSCALL and ev.name == "close":
            r.err += 1
        return r

    monkeypatch.setattr(properties.replay, "replay_event", skewed)
    r = properties.get("c-python-agree").run(s, NO_SHRINK, 3)
    assert r.status == "falsified" and "close: err is" in r.message
    assert "close(" in r.counterexample


def test_roundtrip_catches_a_parser_that_loses_events(monkeypatch) -> None:
    real = properties.parse_text

    def lossy(text, fmt, abi, engine="python", strict=True):
        return [e for e in real(text, fmt, abi, engine, strict) if e.kind != model.SIGNAL]

    monkeypatch.setattr(properties, "parse_text", lossy)
    r = run("roundtrip-truss-illumos", Subject.load("native"))
    assert r.status == "falsified" and "parsed 0 events, printed 1" in r.message
    assert "Received signal #1, SIGHUP" in r.counterexample


def test_an_exception_is_an_error_not_a_falsification(monkeypatch) -> None:
    def boom(*a, **kw):
        raise RuntimeError("the parser exploded")

    monkeypatch.setattr(properties, "parse_text", boom)
    r = run("roundtrip-dtruss", Subject.load("native"))
    assert r.status == "error" and "RuntimeError: the parser exploded" in r.message
    assert r.counterexample


def test_check_runs_the_applicable_properties_and_unknown_names_fail() -> None:
    names = [r.name for r in properties.check("wsl1", max_examples=3, seed=0,
                                              only=["errno-map-total", "signal-map-total"])]
    assert names == ["errno-map-total", "signal-map-total"]
    with pytest.raises(Exception, match="unknown property"):
        list(properties.check("wsl1", only=["no-such-law"]))
