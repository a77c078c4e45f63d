# SPDX-License-Identifier: MIT
"""Loupe's dyn.csv, read as Loupe writes it, and the verdicts it leads to."""
from __future__ import annotations

from pathlib import Path

import pytest

from shimsim import shim as shimmod
from shimsim.corpus import analysis, inputs, loupe
from shimsim.errors import InputError

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "loupedb"
HEADER = loupe.HEADER + "\n"


def _workload(root: Path, runs: dict[str, str], app: str = "app", wl: str = "benchmark-x") -> Path:
    for run, text in runs.items():
        d = root / app / wl / run / "data"
        d.mkdir(parents=True)
        (d / "dyn.csv").write_text(text)
    return root / app / wl


def _inp(path: Path) -> inputs.Input:
    return inputs.Input(inputs.LOUPE, str(path), path.parent.name + "/" + path.name,
                        inputs.workload_digest(str(path)), True)


def test_columns_are_disjoint_categories_and_required_is_what_survives_neither(tmp_path):
    w = loupe.read_workload(str(_workload(tmp_path, {"r1": HEADER + "0,Y,N,N,N\n1,Y,Y,N,N\n2,Y,N,Y,N\n3,Y,N,N,Y\n4,N,N,N,N\n"})))
    assert w.used == {0, 1, 2, 3}
    assert w.fake_ok == {1, 3} and w.stub_ok == {2, 3}
    assert w.required == {0}


def test_two_runs_union_use_and_survive_only_if_every_run_survived(tmp_path):
    w = loupe.read_workload(str(_workload(tmp_path, {
        "a": HEADER + "0,Y,N,Y,N\n1,Y,Y,N,N\n2,N,N,N,N\n",
        "b": "0,Y,N,N,N\n1,N,N,N,N\n2,Y,N,N,Y\n",       # no header, as envoy's imported run
    })))
    assert w.runs == ["a", "b"]
    assert w.used == {0, 1, 2}
    assert w.stub_ok == {2} and w.fake_ok == {1, 2}
    assert w.required == {0}


def test_real_fixture_workloads():
    ws = {Path(p).relative_to(FIX).as_posix(): loupe.read_workload(p) for p in loupe.workload_dirs(str(FIX))}
    assert len(ws) == 8
    assert ws["nginx/suite-nginx-tests"].runs == ["c7d2ac9eca329a756e7690251213b81f", "imported"]
    envoy = ws["envoy/benchmark-envoy-test"]               # the imported run has no header line
    assert len(envoy.used) > 30 and envoy.required <= envoy.used
    aio = ws["aio-stress/benchmark-aio-stress"]
    assert {206, 208, 209} <= aio.required                 # io_setup, io_getevents, io_submit (x86-64 numbers)


@pytest.mark.parametrize("text,where,what", [
    (HEADER + "0,Y,N,N\n", 2, "expected 5 columns"),
    (HEADER + "0,Y,N,maybe,N\n", 2, "expected Y or N"),
    (HEADER + "0,Y,N,N,N\nread,Y,N,N,N\n", 3, "expected a syscall number"),
])
def test_bad_rows_name_file_and_line(tmp_path, text, where, what):
    wd = _workload(tmp_path, {"r": text})
    with pytest.raises(InputError) as e:
        loupe.read_workload(str(wd))
    assert e.value.line == where and what in str(e.value) and "dyn.csv" in str(e.value)
    row = analysis.analyze(_inp(wd), ["gvisor"])
    assert row["error"] and f"dyn.csv:{where}" in row["error"] and row["shims"] == {}


def _enosys_failure(shim: str) -> int:
    """A linux-x86_64 call the shim fails with ENOSYS and no fallback."""
    cs = shimmod.load(shim, "linux-x86_64")
    enosys = cs.guest.errno.members["ENOSYS"]
    for nr in range(cs.nsys):
        if cs.outcome[nr] == shimmod.FAILED and cs.fallback[nr] < 0 and cs.fail_err[nr] == enosys:
            return nr
    raise AssertionError(f"{shim} fails nothing with ENOSYS")


def test_a_failed_call_the_workload_survives_stubbed_does_not_block(tmp_path):
    nr = _enosys_failure("linuxulator")
    name = shimmod.load("linuxulator").syscall_name(nr)
    survives = _workload(tmp_path / "a", {"r": HEADER + f"0,Y,N,N,N\n{nr},Y,N,Y,N\n"})
    needs_it = _workload(tmp_path / "b", {"r": HEADER + f"0,Y,N,N,N\n{nr},Y,Y,N,N\n"})   # survives faking only
    ok = analysis.analyze(_inp(survives), ["linuxulator"])["shims"]["linuxulator"]
    bad = analysis.analyze(_inp(needs_it), ["linuxulator"])["shims"]["linuxulator"]
    assert ok["verdict"] == "emulated" and ok["blockers"] == [] and ok["outcomes"][name] == "failed"
    assert bad["verdict"] == "breaks" and bad["blockers"] == [name]


def test_fixture_verdicts_follow_the_rule_on_every_used_call():
    """On the real data: a used call blocks exactly when the shim does not serve it and Loupe found
    the workload does not survive what the shim returns instead (ENOSYS for a failure, 0 for a stub or fake)."""
    shims = ["linuxulator", "wsl1", "illumos-lx", "netbsd-compat-linux", "gvisor"]
    seen_blocking = seen_surviving = 0
    for wd in loupe.workload_dirs(str(FIX)):
        w = loupe.read_workload(wd)
        row = analysis.analyze(_inp(Path(wd)), shims)
        assert row["error"] is None and len(row["syscalls"]) == len(w.used)
        for s in shims:
            cs = shimmod.load(s, "linux-x86_64")
            r = row["shims"][s]
            for nr in w.used:
                o = cs.outcome[nr]
                if o == shimmod.FAILED:
                    blocks = cs.fallback[nr] < 0 and nr not in w.stub_ok
                elif o in (shimmod.STUBBED, shimmod.FAKED):
                    blocks = nr not in w.fake_ok
                else:
                    blocks = o == shimmod.UNKNOWN
                assert (cs.syscall_name(nr) in r["blockers"]) == blocks, (wd, s, nr)
                seen_blocking += blocks
                seen_surviving += o == shimmod.FAILED and not blocks
            assert (r["verdict"] == "breaks") == bool(r["blockers"])
    assert seen_blocking > 10 and seen_surviving > 10


def test_native_runs_and_disabled_breaks_every_workload():
    # Loupe's workloads are Linux x86-64 programs: with no layer on a Linux x86-64 host
    # (none) they run as natively; a layer present but switched off (disabled) breaks them.
    for wd in loupe.workload_dirs(str(FIX)):
        row = analysis.analyze(_inp(Path(wd)), ["native", "vm", "none", "disabled"])
        assert row["shims"]["native"]["verdict"] == "runs"
        assert row["shims"]["vm"]["verdict"] == "runs"
        assert row["shims"]["none"]["verdict"] == "runs"
        assert row["shims"]["disabled"]["verdict"] == "breaks"


def test_sniffing_finds_checkout_workload_and_forced_import(tmp_path):
    errs: list = []
    found = list(inputs.discover([str(FIX)], errs))
    assert [i.kind for i in found if i.kind == "loupe"] == ["loupe"] * 8
    one = list(inputs.discover([str(FIX / "nginx" / "benchmark-wrk")], errs))
    assert [(i.kind, i.name) for i in one] == [("loupe", "nginx/benchmark-wrk")]
    assert list(inputs.discover([str(tmp_path)], errs, force_loupe=True)) == []
    assert errs and "not a loupedb checkout" in errs[0][1]


def test_tools_loupe_layers_table_is_monotonic_in_what_survives(capsys):
    """tools/loupe_layers.py (docs/corpus.md's table): allowing more ways to survive never runs fewer workloads,
    and its first column is what corpus itself reports."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("loupe_layers", Path(__file__).resolve().parents[2] / "tools" / "loupe_layers.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main([str(FIX)]) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ") and "%" in ln]
    assert [r.split("|")[1].strip() for r in rows] == mod.LAYERS
    from shimsim import corpus
    t = corpus.run([str(FIX)], mod.LAYERS).tables(None)
    shown = {s["shim"]: 100 * s["completeness"] for s in t["shims"]}
    for r in rows:
        name, both, loupe_only, fb_only, neither = [c.strip().rstrip(" %") for c in r.strip("|").split("|")]
        both, loupe_only, fb_only, neither = map(float, (both, loupe_only, fb_only, neither))
        assert both >= loupe_only >= neither and both >= fb_only >= neither
        assert both == pytest.approx(shown[name], abs=0.05)
