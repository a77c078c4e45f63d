# SPDX-License-Identifier: MIT
"""Cross-format checks for the truss, dtruss and kdump parsers: sniffing
picks the right format for every fixture and leaves strace alone, hostile
input is counted (never a crash), strict mode names file:line.  The helpers
here are shared by the per-format test files."""
from __future__ import annotations

import collections
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shimsim import model
from shimsim.errors import InputError
from shimsim.trace import dtruss, kdump, truss_freebsd, truss_illumos
from shimsim.trace.stats import ParseStats

FIXTURES = Path(__file__).parents[1] / "fixtures"
MODULES: dict[str, ModuleType] = {
    "truss_freebsd": truss_freebsd, "truss_illumos": truss_illumos, "dtruss": dtruss, "kdump": kdump,
}

# Real strace 6.1 lines (tests/fixtures must not depend on another helper's copy).
STRACE_LINES = [
    'execve("/usr/bin/ls", ["ls", "-la", "/usr"], 0x7ffea6758e90 /* 4 vars */) = 0',
    "brk(NULL)                               = 0x55ceb38a2000",
    "mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f9970dea000",
    'access("/etc/ld.so.preload", R_OK)      = -1 ENOENT (No such file or directory)',
    'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
    'newfstatat(3, "", {st_mode=S_IFREG|0644, st_size=34547, ...}, AT_EMPTY_PATH) = 0',
    "close(3)                                = 0",
    'read(3, "\\177ELF\\2\\1\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\3\\0>\\0\\1\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0"..., 832) = 832',
    "19:44:19.151745 --- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=14972, si_uid=0} ---",
    "exit_group(0)                           = ?",
    "+++ exited with 0 +++",
]


def fixture_lines(fmt: str, name: str) -> list[str]:
    return (FIXTURES / fmt / name).read_text(encoding="utf-8").splitlines()


def run(mod: ModuleType, lines: list[str], path: str = "t.log",
        strict: bool = False) -> tuple[list[model.Event], ParseStats]:
    stats = ParseStats()
    return list(mod.parse(lines, path, stats, strict)), stats


def kinds(events: list[model.Event]) -> dict[str, int]:
    return dict(collections.Counter(model.KIND_NAMES[e.kind] for e in events))


def all_fixtures() -> list[tuple[str, str]]:
    return [(fmt, p.name) for fmt in MODULES for p in sorted((FIXTURES / fmt).iterdir())]


def test_every_fixture_is_present() -> None:
    counts = {fmt: len(list((FIXTURES / fmt).iterdir())) for fmt in MODULES}
    assert counts == {"truss_freebsd": 7, "truss_illumos": 6, "dtruss": 11, "kdump": 8}


@pytest.mark.parametrize(("fmt", "name"), all_fixtures())
def test_sniff_picks_the_right_format(fmt: str, name: str) -> None:
    lines = fixture_lines(fmt, name)
    scores = {f: m.sniff(lines) for f, m in MODULES.items()}
    assert scores[fmt] >= 0.5, scores
    assert all(scores[fmt] > s for f, s in scores.items() if f != fmt), scores


@pytest.mark.parametrize("fmt", list(MODULES))
def test_sniff_does_not_claim_strace(fmt: str) -> None:
    assert MODULES[fmt].sniff(STRACE_LINES) < 0.5
    assert MODULES[fmt].sniff([]) == 0.0


@pytest.mark.parametrize("fmt", list(MODULES))
def test_format_constants(fmt: str) -> None:
    mod = MODULES[fmt]
    assert mod.FORMAT == {"truss_freebsd": "truss-freebsd", "truss_illumos": "truss-illumos",
                          "dtruss": "dtruss", "kdump": "kdump"}[fmt]
    assert mod.DEFAULT_OS in ("freebsd", "illumos", "darwin")


@pytest.mark.parametrize("fmt", list(MODULES))
def test_strace_lines_are_not_understood_as_this_format_in_strict_mode(fmt: str) -> None:
    with pytest.raises(InputError) as ei:
        run(MODULES[fmt], ["+++ exited with 0 +++"], path="x.strace", strict=True)
    assert str(ei.value).startswith("x.strace:1: expected ")


HOSTILE = [
    "\x00\x01\x02\xff\xfe garbage \x00",
    "\ufffd\ufffd\ufffd" * 50,
    "A" * (2 * 1024 * 1024),                          # longer than any trace line
    'open("/etc/passwd, O_RDONLY',                     # unbalanced quote, no result
    "write(1,\"abc)))))((((\" ",
    "   ",
    "(((((((((((((((((((((((((((((((((((((((((((((((",
    "\"" * 1000,
    "  123 comm CALL",                                 # record type with nothing after it
    "  123 comm RET   write bogus",
]


@pytest.mark.parametrize("fmt", list(MODULES))
def test_hostile_lines_are_counted_not_fatal(fmt: str) -> None:
    events, stats = run(MODULES[fmt], HOSTILE)
    assert stats.unparsed_count >= 5
    assert stats.skipped["blank"] == 1
    assert all(e.kind in model.KIND_NAMES for e in events)
    assert all(len(r) < 200 for _, _, r in stats.unparsed_first)      # reasons stay short


@pytest.mark.parametrize("fmt", list(MODULES))
def test_strict_mode_raises_on_binary_garbage(fmt: str) -> None:
    with pytest.raises(InputError) as ei:
        run(MODULES[fmt], ["", HOSTILE[0]], path="bin.dat", strict=True)
    assert ei.value.path == "bin.dat" and ei.value.line == 2
    assert "expected" in ei.value.message


@pytest.mark.parametrize("fmt", list(MODULES))
@given(st.lists(st.text(max_size=300), max_size=30))
def test_any_text_parses_leniently_without_exception(fmt: str, lines: list[str]) -> None:
    lines = [ln.replace("\n", " ").replace("\r", " ") for ln in lines]
    events, stats = run(MODULES[fmt], lines)
    assert stats.unparsed_count <= len(lines)
    for e in events:
        assert e.file == "t.log" and 1 <= e.line <= max(1, len(lines))


@pytest.mark.parametrize("fmt", list(MODULES))
@given(st.lists(st.binary(max_size=200), max_size=20))
def test_any_bytes_in_strict_mode_raise_only_input_error(fmt: str, blobs: list[bytes]) -> None:
    lines = [b.decode("utf-8", "replace").replace("\n", " ").replace("\r", " ") for b in blobs]
    try:
        run(MODULES[fmt], lines, strict=True)
    except InputError as e:
        assert e.path == "t.log" and e.line is not None and 1 <= e.line <= len(lines)
