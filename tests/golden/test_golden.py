# SPDX-License-Identifier: MIT
"""Golden outputs: for every fixture trace, what ``shimsim parse --json`` and
``shimsim replay --json --events N`` print under every shipped shim that
takes its ABI, stored in tests/golden/expected/ and compared on both engines.

A comparison of the two engines alone cannot see a bug both share; this pins
the output itself.  After an intended change, regenerate with

    PYTHONPATH=src python -m pytest tests/golden --update-golden

and read the diff.  The "engine" key (which engine ran) is left out: apart
from it, both engines must print the same bytes.  The C engine runs in the
fast suite, the Python reference (slower) is marked slow.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import pytest

from shimsim import engine, replay, shim, trace
from shimsim.callers import CallerTracker
from shimsim.errors import ShimsimError
from shimsim.report import parse_json, replay_json

TESTS = Path(__file__).resolve().parents[1]
FIX = TESTS / "fixtures"
EXPECTED = Path(__file__).resolve().parent / "expected"
NO_ROOT = "/nonexistent-golden-root"
EVENTS = 6           # --events N: the first N events one by one
LISTED = 10          # divergence_list entries kept in full; the whole list is pinned by its sha256
SKIP_SUFFIX = (".csv", ".md", ".toml")
NOT_TRACES = ("upstream", "compat")   # fixture folders of tables and specs, not traces


def fixture_traces() -> list[str]:
    """Every fixture trace, relative to tests/ (as the golden outputs name them)."""
    out = []
    for p in sorted(FIX.rglob("*")):
        if p.is_file() and p.suffix not in SKIP_SUFFIX and not set(NOT_TRACES) & set(p.relative_to(FIX).parts):
            out.append(str(p.relative_to(TESTS)))
    return out


TRACES = fixture_traces()


@functools.lru_cache(maxsize=None)
def _compiled(name: str, abi: str) -> shim.CompiledShim:
    spec = shim.load_spec(name)
    return shim.compile_shim(spec, abi if spec.guest == shim.ANY else None)


def _shims_for(abi: str) -> list[str]:
    return [n for n in shim.list_shims() if shim.load_spec(n).guest in (shim.ANY, abi)]


def _drop_engine(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "engine"}


def _pinned(d: dict) -> dict:
    """The replay JSON with its divergence list cut to LISTED entries and the
    whole list pinned by a digest (the full lists would make the goldens tens
    of megabytes)."""
    d = _drop_engine(d)
    full = d.get("divergence_list", [])
    d["divergence_list"] = full[:LISTED]
    d["divergence_list_sha256"] = hashlib.sha256(
        json.dumps(full, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
    return d


def outputs(rel: str, eng: str) -> dict:
    """The parse and replay JSON of one fixture trace (paths relative to tests/)."""
    try:
        t = trace.open([rel], engine=eng)
        for _ in t.chunks():
            pass
        out: dict = {"parse": _drop_engine(parse_json(t)), "replay": {}}
        t = trace.open([rel], engine=eng)
        names = _shims_for(t.abi)
        # Callers are looked up under a root that does not exist, never in this machine's
        # /usr/bin: the goldens must not depend on what the machine running them has installed.
        rps = [replay.Replayer(_compiled(n, t.abi), t.engine, keep_events=EVENTS,
                               callers=CallerTracker(root=NO_ROOT)) for n in names]
        for chunk in t.chunks():
            for rp in rps:
                rp.feed(chunk)
        for n, rp in zip(names, rps):
            out["replay"][n] = _pinned(replay_json(rp.finish(), t))
    except ShimsimError as exc:
        out = {"error": str(exc)}
    return out


def _text(v, ind: int = 0) -> str:
    """JSON with objects spread over lines and list items one per line (compact),
    so that a change shows as a one-line diff."""
    pad = " " * (ind + 1)
    if isinstance(v, dict) and v:
        items = [f"{pad}{json.dumps(k, ensure_ascii=False)}: {_text(x, ind + 1)}" for k, x in v.items()]
        out = "{\n" + ",\n".join(items) + "\n" + " " * ind + "}"
    elif isinstance(v, list) and v:
        items = [pad + json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in v]
        out = "[\n" + ",\n".join(items) + "\n" + " " * ind + "]"
    else:
        out = json.dumps(v, ensure_ascii=False)
    return out + ("\n" if ind == 0 else "")


def _golden(rel: str) -> Path:
    return EXPECTED / (rel.replace("/", "__") + ".json")


def check(rel: str, eng: str, update: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TESTS)
    got = _text(outputs(rel, eng))
    path = _golden(rel)
    if update:
        EXPECTED.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
        return
    assert path.exists(), f"no golden output for {rel}: run pytest tests/golden --update-golden"
    want = path.read_text(encoding="utf-8")
    if got != want:
        g, w = json.loads(got), json.loads(want)
        assert g == w, f"{rel} under the {eng} engine differs from {path.name}"
        assert got == want, f"{rel}: same values, different bytes"


def test_there_are_golden_outputs_for_every_fixture(update_golden: bool) -> None:
    if update_golden:
        pytest.skip("the goldens are being rewritten")
    assert len(TRACES) > 80
    stale = sorted({p.name for p in EXPECTED.glob("*.json")} - {_golden(r).name for r in TRACES})
    assert stale == [], f"golden outputs of fixtures that are gone: {stale}"


def test_golden_outputs_cover_replays_and_event_rows(update_golden: bool) -> None:
    """The goldens are not empty shells: replays under several shims, divergences,
    --events rows (an exit event without a name among them)."""
    if update_golden:
        pytest.skip("the goldens are being rewritten")
    docs = [json.loads(p.read_text()) for p in sorted(EXPECTED.glob("*.json"))]
    replays = [r for d in docs for r in d.get("replay", {}).values()]
    assert len(replays) > 300
    assert sum(1 for r in replays if r["divergences"]) > 50
    rows = [row for r in replays for row in r.get("event_list", [])]
    assert any(row["kind"] == "exit" and row["name"] is None for row in rows)
    # every shim for the ABIs of the fixtures (there is no aarch64 fixture, so no *-arm64 shim)
    assert {r["shim"] for r in replays} >= set(_shims_for("linux-x86_64")) | set(_shims_for("freebsd-amd64"))


@pytest.mark.parametrize("rel", TRACES)
def test_c_engine_matches_golden(rel: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    engine.get("c")
    check(rel, "c", update_golden, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("rel", TRACES)
def test_python_engine_matches_golden(rel: str, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if update_golden:
        pytest.skip("the goldens are written from the C engine; this then checks the reference against them")
    check(rel, "python", False, monkeypatch)
