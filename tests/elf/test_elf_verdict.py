# SPDX-License-Identifier: MIT
"""Verdict rules on hand-made predictions, through the real compiled shims."""
from __future__ import annotations

from shimsim import shim as shimmod
from shimsim.elf.ident import Identity
from shimsim.elf.predict import Origin, Prediction
from shimsim.elf.verdict import verdict


def _ident(abi: str = "linux-x86_64") -> Identity:
    os_name = abi.split("-")[0]
    return Identity(64, "little", 62, "x86_64", "PIE executable", 0, "SYSV", os_name, abi, "test")


def _pred(calls: dict[str, bool]) -> Prediction:
    """name -> reached by the program itself (False: only a library imports it)."""
    p = Prediction("linux-x86_64", "glibc-x86_64")
    for name, direct in calls.items():
        p.add(name, Origin("import", f"import by {'prog' if direct else 'libfoo.so.1'}", library=not direct))
    return p


def _failing_syscall(shim: str) -> str:
    c = shimmod.load(shim)
    for sc in c.guest.syscalls:
        nr = sc.number
        if c.outcome[nr] == shimmod.FAILED and c.fallback[nr] < 0 and sc.status == "implemented":
            return sc.name
    raise AssertionError(f"{shim} fails nothing")


def test_runs_when_everything_translates():
    v = verdict(_ident(), _pred({"read": True, "write": True}), "vm")
    assert v.status == "runs" and v.counts == {"translated": 2}


def test_program_call_that_fails_means_fails():
    bad = _failing_syscall("linuxulator")
    v = verdict(_ident(), _pred({"read": True, bad: True}), "linuxulator")
    assert v.status == "fails" and bad in v.reason
    assert [c.syscall for c in v.fatal()] == [bad]


def test_library_only_failure_means_may_fail():
    bad = _failing_syscall("linuxulator")
    v = verdict(_ident(), _pred({"read": True, bad: False}), "linuxulator")
    assert v.status == "may fail" and "only libraries import" in v.reason
    assert v.calls[0].library_only


def test_fallback_rescues():
    v = verdict(_ident(), _pred({"read": True, "clone3": True}), "disabled")
    assert v.status == "cannot run"           # 'disabled' fails everything, read included
    for shim in shimmod.list_shims():
        try:
            c = shimmod.load(shim)
        except Exception:                     # '*' shims need an ABI; others may be arm64
            continue
        if c.guest.name != "linux-x86_64":
            continue
        rescued = [(sc.name, c.fallbacks[c.fallback[sc.number] & ~shimmod.UNCONFIRMED].targets) for sc in c.guest.syscalls
                   if c.fallback[sc.number] >= 0]
        if not rescued:
            continue
        name, targets = rescued[0]
        w = verdict(_ident(), _pred({name: True, **{t: True for t in targets}, "read": True}), shim)
        call = next(x for x in w.calls if x.syscall == name)
        assert call.outcome == "failed" and call.fallback and name in call.fallback
        assert w.status in ("degraded", "runs") or name not in w.reason, (shim, w.reason)
        assert name not in [x.syscall for x in w.fatal()]
        return
    raise AssertionError("no shim with a fallback-rescued failure")


def test_other_abi_cannot_run_anywhere_but_its_own_layers():
    p = _pred({"read": True})
    p.abi = "freebsd-amd64"
    for shim in ("native", "linuxulator", "gvisor", "wsl1"):
        v = verdict(_ident("freebsd-amd64"), p, shim, host="linux-x86_64")
        assert v.status == "cannot run" and "no layer for this ABI" in v.reason, shim
    assert verdict(_ident("freebsd-amd64"), p, "native", host="freebsd-amd64").status == "runs"


def test_empty_prediction_is_unknown():
    v = verdict(_ident(), Prediction("linux-x86_64", None), "linuxulator")
    assert v.status == "unknown"
