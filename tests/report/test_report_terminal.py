# SPDX-License-Identifier: MIT
"""Verdicts, terminal rendering, the timeline and --fail-on of replay."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from shimsim import replay, shim, trace
from shimsim.report import progress, terminal, verdict
from shimsim.report.timeline import Timeline

FIX = Path(__file__).parents[1] / "fixtures"
TAIL = FIX / "replay" / "tail_f_inotify.strace"
LS = FIX / "replay" / "ls_plain.strace"
HOSTILE = FIX / "report" / "hostile.strace"
GIT = FIX / "replay" / "git_gc_f_ttt_T_y.strace"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True)


def rep_of(path: Path, name: str, engine: str = "c", tl: Timeline | None = None) -> replay.Report:
    t = trace.open([str(path)], engine=engine)
    cs = shim.compile_shim(shim.load_spec(name), t.abi)
    rp = replay.Replayer(cs, engine, timeline=tl)
    if engine == "c":
        for b in t.batches():
            rp.feed_batch(b.events, b.count, b.files, b.abis)
    else:
        rp.feed_events(t.events())
    return rp.finish()


# --------------------------------------------------------------------------- verdict

def test_verdict_breaks_names_file_line_syscall_and_reason() -> None:
    v = verdict(rep_of(TAIL, "linuxulator@freebsd-14.3"))
    assert v.status == "breaks"
    assert v.text.startswith(f"would break at {TAIL}:267: syscall inotify_add_watch (fails with ENOSYS")
    assert any("3 survivable" in n for n in v.notes)   # inotify_init (polling fallback), rseq twice


def test_verdict_runs_natively_and_emulated() -> None:
    v = verdict(rep_of(LS, "native"))
    assert (v.status, v.text, v.emulated_calls) == ("runs", "would run", 0)
    r = rep_of(LS, "gvisor")
    v = verdict(r)
    n = sum(r.outcomes.get(o, 0) for o in (shim.EMULATED, shim.PARTIAL, shim.STUBBED, shim.FAKED))
    assert v.status == "runs-emulated" and v.text == f"would run with {n} emulated calls" and n > 200


def test_verdict_says_what_was_not_judged() -> None:
    r = rep_of(FIX / "replay" / "i386_mixed_personality.strace", "linuxulator")
    v = verdict(r)
    assert r.outcomes[shim.UNKNOWN] == 10
    assert "10 calls not judged: not syscalls of linux-x86_64" in v.notes


# --------------------------------------------------------------------------- terminal

def test_piped_text_is_plain_and_verdict_first() -> None:
    r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3")
    assert r.returncode == 0
    assert "\x1b[" not in r.stdout                      # no colour in a pipe
    assert r.stdout.splitlines()[0].startswith("would break at ")
    assert not any(line != line.rstrip() for line in r.stdout.splitlines())   # no padding
    assert r.stderr == ""                               # no progress bar off a terminal


def test_terminal_output_has_colour_and_tables() -> None:
    buf = io.StringIO()
    con = Console(file=buf, force_terminal=True, width=120, markup=False, highlight=False, color_system="standard")
    t = trace.open([str(TAIL)])
    rep = rep_of(TAIL, "linuxulator@freebsd-14.3")
    terminal.print_replay(con, rep, t, 5)
    out = buf.getvalue()
    assert "\x1b[" in out and "inotify_init" in out and "─" in out


def test_trace_text_is_never_rich_markup() -> None:
    """A trace string like '[bold]' or '[/]' must print literally, not style or crash."""
    buf = io.StringIO()
    con = terminal.console(buf)
    rep = replay.Report("s", "g", "h", "c")
    rep.divergences.append(replay.Divergence("[/]x[bold red].strace", 3, "open", replay.DIV_FAILS,
                                             "open fails [/bold] [link=x]y[/link]", True))
    rep.div_counts[replay.DIV_FAILS] = 1
    rep.first_fatal = rep.divergences[0]

    class T:
        paths, format = ["[/]x[bold red].strace"], "strace"
        stats = trace.ParseStats()
    terminal.print_replay(con, rep, T, 5)
    out = buf.getvalue()
    assert "[/]x[bold red].strace:3: [FATAL] open fails [/bold] [link=x]y[/link]" in out


def test_events_rows_unchanged_format() -> None:
    r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--events", "300")
    assert "inotify_init: failed = -1 ENOSYS  [survivable]" in r.stdout


def test_progress_only_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True
    assert progress.enabled(False, Tty())
    assert not progress.enabled(True, Tty())
    assert not progress.enabled(False, io.StringIO())


def test_progress_reads_the_open_file_position(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_bytes(b"x" * 10000)
    bar = progress.TraceProgress([str(p)], "t", show=False)
    assert bar.total == 10000
    with open(p, "rb", buffering=0) as f:
        f.read(1234)
        assert bar._bytes() == 1234
    assert bar._bytes() is None          # closed: position unknown, the bar keeps its last value


# --------------------------------------------------------------------------- timeline

@pytest.mark.parametrize("engine", ["c", "python"])
def test_timeline_counts_every_event_and_stays_bounded(engine: str) -> None:
    tl = Timeline(bins=40)
    rep = rep_of(GIT, "wsl1", engine, tl)
    j = tl.to_json()
    assert j["events"] == rep.events
    assert len(j["bins"]) <= 80
    assert sum(b["events"] for b in j["bins"]) == rep.events
    assert sum(sum(b["outcomes"].values()) for b in j["bins"]) == rep.syscalls
    assert all(b["events"] == j["events_per_bin"] for b in j["bins"][:-1])
    lines = [b["line"] for b in j["bins"]]
    assert lines == sorted(lines) and lines[0] == 1


def test_timeline_engines_agree() -> None:
    a, b = Timeline(30), Timeline(30)
    rep_of(TAIL, "linuxulator@freebsd-14.3", "c", a)
    rep_of(TAIL, "linuxulator@freebsd-14.3", "python", b)
    assert a.to_json() == b.to_json()


def test_timeline_halving_by_hand() -> None:
    tl = Timeline(bins=2)
    tl.add(bytes([shim.TRANSLATED] * 4 + [shim.FAILED] * 5), lambda i: ("f", i + 1))
    j = tl.to_json()
    assert j["events_per_bin"] == 4 and [b["events"] for b in j["bins"]] == [4, 4, 1]
    assert j["bins"][0]["outcomes"] == {"translated": 4} and j["bins"][1]["outcomes"] == {"failed": 4}
    assert [b["line"] for b in j["bins"]] == [1, 5, 9]


# --------------------------------------------------------------------------- --fail-on and exit status

@pytest.mark.parametrize("cond,path,shim_name,want", [
    ("fatal", TAIL, "linuxulator@freebsd-14.3", 1), ("fatal", LS, "native", 0),
    ("divergence", TAIL, "linuxulator@freebsd-14.3", 1), ("any", LS, "native", 0),
    ("failed", TAIL, "linuxulator@freebsd-14.3", 1), ("failed", LS, "gvisor", 0),
    ("partial", LS, "gvisor", 1), ("partial", LS, "native", 0),
])
def test_fail_on(cond: str, path: Path, shim_name: str, want: int) -> None:
    r = cli("replay", str(path), "--shim", shim_name, "--fail-on", cond, "--json")
    assert r.returncode == want, r.stderr
    json.loads(r.stdout)                       # the report is still printed
    if want:
        assert f"--fail-on {cond}" in r.stderr


def test_fail_on_repeatable_and_bad_value() -> None:
    assert cli("replay", str(LS), "--shim", "gvisor", "--fail-on", "fatal", "--fail-on", "partial").returncode == 1
    r = cli("replay", str(LS), "--shim", "gvisor", "--fail-on", "sometimes")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_json_has_verdict_first() -> None:
    d = json.loads(cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--json").stdout)
    assert list(d)[0] == "verdict" and d["verdict"]["status"] == "breaks"


def test_control_characters_from_a_trace_never_reach_the_terminal(tmp_path: Path) -> None:
    """An ESC in a trace file name (or any trace text) is shown as \\x1b, not obeyed."""
    p = tmp_path / "evil\x1b]0;owned\x07\x1b[2J.strace"
    p.write_bytes(LS.read_bytes())
    for args in (["replay", str(p), "--shim", "native"], ["diff", "--shim", "native", "--shim", "gvisor", str(p)]):
        r = cli(*args)
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout and "\x07" not in r.stdout
        assert "evil\\x1b]0;owned\\x07\\x1b[2J.strace" in r.stdout
    assert terminal.clean("a\x1b[31mb\x9bc\td") == "a\\x1b[31mb\\x9bc\td"   # tabs are harmless
