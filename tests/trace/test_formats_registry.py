# SPDX-License-Identifier: MIT
"""The trace-format registry (shimsim.trace.formats): every format module has
the whole contract, detection picks each fixture's format, and a new format
is one module plus one registry line (minitrace_fmt.py, plugged in here)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings

from shimsim import properties, replay, shim, strategies, trace
from shimsim.errors import InputError
from shimsim.trace import formats

HERE = Path(__file__).parent
FIX = HERE.parent / "fixtures"
sys.path.insert(0, str(HERE))


@pytest.mark.parametrize("name", sorted(formats.FORMATS))
def test_every_format_module_has_the_contract(name: str) -> None:
    mod = formats.module(name)
    f = formats.FORMATS[name]
    assert callable(getattr(mod, f.sniff))
    assert callable(getattr(mod, "parse", None)) or callable(getattr(mod, "parse_trace", None))
    assert callable(mod.guess_abi) and mod.DEFAULT_OS in formats.OS_ABI
    assert f.default_abi and all(o in formats.OS_ABI for o in f.oses)
    if f.oses:  # a format strategies generate renders events back to its text
        assert callable(mod.render) and callable(mod.render_arg) and isinstance(mod.ARG_SEP, str)


@pytest.mark.parametrize("path, want", [
    ("strace/gen/python_signals_f_tt.strace", "strace"),
    ("truss_freebsd", "truss-freebsd"), ("truss_illumos", "truss-illumos"),
    ("dtruss", "dtruss"), ("kdump", "kdump"),
])
def test_detection_finds_each_fixture_format(path: str, want: str) -> None:
    p = FIX / path
    files = sorted(x for x in p.rglob("*") if x.is_file() and x.suffix in (".log", ".strace")) if p.is_dir() else [p]
    assert files
    for f in files[:3]:
        head = f.read_text(errors="replace").splitlines()[:200]
        assert formats.detect(head, str(f)) == want, f


def test_summary_only_is_strace_summary() -> None:
    head = ["% time     seconds  usecs/call     calls    errors syscall",
            "------ ----------- ----------- --------- --------- ----------------",
            " 40.00    0.000040          10         4           mmap"]
    assert formats.detect(head, "s") == "strace-summary"


def test_nothing_recognised_is_an_error_naming_the_scores() -> None:
    with pytest.raises(InputError, match=r"cannot recognise the trace format \(scores: strace 0\.00, "):
        formats.detect(["hello world", "not a trace"], "x.txt")


@pytest.fixture
def minitrace(monkeypatch):
    """The one registry line a newcomer adds."""
    monkeypatch.setitem(formats.FORMATS, "minitrace",
                        formats.Format("minitrace_fmt", "linux-x86_64", ("linux",)))
    return "minitrace"


TEXT = ('1000: openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) -> 3\n'
        "1000: read(3, 0x7ffde0000000, 4096) -> ERR EINTR\n"
        "1000: signal SIGINT\n"
        "1000: exit_group(0) -> ?\n"
        "1000: exited 0\n")


def test_a_new_format_is_detected_parsed_and_replayed(minitrace, tmp_path: Path) -> None:
    p = tmp_path / "run.mini"
    p.write_text(TEXT)
    for eng in ("c", "python"):
        t = trace.open([str(p)], engine=eng)
        assert t.format == "minitrace" and t.abi == "linux-x86_64"
        evs = list(t.events())
        assert [e.name for e in evs] == ["openat", "read", "SIGINT", "exit_group", None]
        assert evs[0].nr == 257 and evs[1].err == 4 and evs[2].err == 2   # resolved through the ABI
        rep = replay.replay_trace(trace.open([str(p)], engine=eng), shim.load_spec("linuxulator"))
        assert rep.syscalls == 3 and rep.events == 5


def test_a_new_format_round_trips_through_the_strategies(minitrace) -> None:
    @settings(max_examples=25, deadline=None)
    @given(strategies.trace_text(minitrace, max_size=8))
    def roundtrip(tt) -> None:
        assert tt.text.count("\n") == len(tt.text.splitlines())
        got = properties.parse_text(tt.text, minitrace, tt.abi)
        assert properties.compare_events(got, tt.events) is None

    roundtrip()
