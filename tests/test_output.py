# SPDX-License-Identifier: MIT
"""Outputs are all-or-nothing and never clobber by surprise (shimsim.output):
refused paths, interrupted and crashed writes, and every command's writer."""
from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from shimsim import output
from shimsim.cli import main

ROOT = Path(__file__).resolve().parents[1]
TRACE = ROOT / "examples" / "git-commit.strace"


def _one_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("shimsim: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)
    return err


def _leftovers(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir() if p.name.endswith(".part"))


# --- the helper itself -------------------------------------------------------

def test_write_replaces_whole_file_and_keeps_its_mode(tmp_path: Path) -> None:
    p = tmp_path / "out.txt"
    p.write_text("old contents\n")
    p.chmod(0o640)
    output.write_text(p, "new\n")
    assert p.read_text() == "new\n"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        output.write_text(tmp_path / "n.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "n.txt").stat().st_mode) == 0o640


def test_exception_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    p = tmp_path / "report.html"
    p.write_text("the previous report\n")
    with pytest.raises(RuntimeError):
        with output.atomic(p) as f:
            f.write("half of a new rep")
            raise RuntimeError("crash while rendering")
    assert p.read_text() == "the previous report\n"
    assert _leftovers(tmp_path) == []


def test_ctrl_c_mid_write_leaves_the_old_file(tmp_path: Path) -> None:
    p = tmp_path / "events.jsonl"
    p.write_text("{}\n")
    with pytest.raises(KeyboardInterrupt):
        with output.atomic(p) as f:
            f.write('{"half": ')
            raise KeyboardInterrupt
    assert p.read_text() == "{}\n" and _leftovers(tmp_path) == []


def test_a_new_file_does_not_appear_until_complete(tmp_path: Path) -> None:
    p = tmp_path / "new.txt"
    with output.atomic(p) as f:
        f.write("partial")
        f.flush()
        assert not p.exists()
    assert p.read_text() == "partial"


def test_non_utf8_trace_bytes_round_trip(tmp_path: Path) -> None:
    text = b"open(\"\xff\xfe\")\n".decode("utf-8", "surrogateescape")
    output.write_text(tmp_path / "b", text)
    assert (tmp_path / "b").read_bytes() == b"open(\"\xff\xfe\")\n"


@pytest.mark.parametrize("case", ["directory", "missing-parent", "symlink", "dangling-symlink", "input",
                                  "input-via-hardlink", "empty", "parent-is-file"])
def test_refused_paths(tmp_path: Path, case: str) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    inputs: list[Path] = []
    if case == "directory":
        p, why = tmp_path, "is a directory"
    elif case == "missing-parent":
        p, why = tmp_path / "no" / "x", f"no such directory {tmp_path / 'no'}"
    elif case == "symlink":
        p = tmp_path / "report.html"
        p.symlink_to(victim)
        why = "symbolic link"
    elif case == "dangling-symlink":
        p = tmp_path / "report.html"
        p.symlink_to(tmp_path / "created-by-the-attacker")
        why = "symbolic link"
    elif case == "input":
        p, why, inputs = victim, "also an input", [victim]
    elif case == "input-via-hardlink":
        p = tmp_path / "alias"
        os.link(victim, p)
        why, inputs = "also an input", [victim]
    elif case == "parent-is-file":
        p, why = victim / "x", "Not a directory"
    else:
        p, why = "", "empty file name"
    with pytest.raises(output.OutputError) as ei:
        output.write_text(p, "clobbered\n", inputs=inputs)
    assert why in str(ei.value)
    assert victim.read_text() == "precious\n"
    assert not (tmp_path / "created-by-the-attacker").exists()
    assert _leftovers(tmp_path) == []


def test_unwritable_directory(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root may write anywhere")
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o500)
    try:
        with pytest.raises(output.OutputError, match="not writable"):
            output.write_text(d / "x", "x")
    finally:
        d.chmod(0o700)


def test_symlink_to_a_stream_is_written_in_place(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to(os.devnull)
    output.write_text(link, "discarded\n")       # /dev/null neither replaced nor refused
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_disk_full_names_the_file() -> None:
    with pytest.raises(output.OutputError, match="/dev/full.*No space left"):
        output.write_text("/dev/full", "x" * 100_000)


def test_link_planted_after_the_check_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    p = tmp_path / "out"
    with output.atomic(p) as f:
        f.write("report\n")
        p.symlink_to(victim)                     # the race: planted between check and rename
    assert not p.is_symlink() and p.read_text() == "report\n"
    assert victim.read_text() == "precious\n"


# --- every command's writer ----------------------------------------------------

def _cmds(out: Path) -> dict[str, list[str]]:
    return {
        "parse --events": ["parse", str(TRACE), "--events-out", str(out)],
        "replay --html": ["replay", str(TRACE), "--shim", "gvisor", "--html", str(out)],
        "derive -o": ["derive", "freebsd-amd64", "linux-x86_64", "-o", str(out)],
    }


@pytest.mark.parametrize("cmd", ["parse --events", "replay --html", "derive -o"])
def test_commands_refuse_a_planted_symlink(tmp_path: Path, capsys, cmd: str) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("precious\n")
    out = tmp_path / "out"
    out.symlink_to(victim)
    assert main(_cmds(out)[cmd]) == 2
    _one_error(capsys, str(out), "symbolic link")
    assert victim.read_text() == "precious\n"


@pytest.mark.parametrize("cmd", ["parse --events", "replay --html"])
def test_commands_refuse_to_overwrite_their_input(tmp_path: Path, capsys, cmd: str) -> None:
    t = tmp_path / "t.strace"
    t.write_bytes(TRACE.read_bytes())
    argv = [str(t) if a in (str(TRACE), str(tmp_path / "x")) else a for a in _cmds(tmp_path / "x")[cmd]]
    assert main(argv) == 2
    _one_error(capsys, str(t), "also an input")
    assert t.read_bytes() == TRACE.read_bytes()


@pytest.mark.parametrize("cmd", ["parse --events", "replay --html", "derive -o"])
def test_commands_write_complete_files(tmp_path: Path, capsys, cmd: str) -> None:
    out = tmp_path / "out"
    out.write_text("old\n")
    assert main(_cmds(out)[cmd]) == 0
    text = out.read_text()
    ends = {"parse --events": "}\n", "replay --html": "</html>", "derive -o": "}\n"}[cmd]
    assert text != "old\n" and text.rstrip(" ").endswith(ends), text[-40:]
    assert _leftovers(tmp_path) == []


def test_parse_events_refused_before_reading_the_trace(tmp_path: Path, capsys) -> None:
    # the output is judged first: a bad output path with a missing trace names the output
    assert main(["parse", str(tmp_path / "missing.strace"), "--events-out", str(tmp_path)]) == 2
    _one_error(capsys, "is a directory")


# --- interrupted and killed processes -------------------------------------------

_CHILD = textwrap.dedent("""
    import json, sys, time
    from shimsim.cli import main

    real_dumps, n = json.dumps, [0]
    def dumps(*a, **k):                   # the real command, stalled after 50 events
        n[0] += 1
        if n[0] == 50:
            print("writing", flush=True)
            time.sleep(60)
        return real_dumps(*a, **k)
    json.dumps = dumps                    # parse imports json when --events-out writes
    sys.exit(main(["parse", sys.argv[1], "--events-out", sys.argv[2]]))
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_signal_mid_write_leaves_the_old_file(tmp_path: Path, sig: signal.Signals) -> None:
    out = tmp_path / "events.jsonl"
    out.write_text('{"previous": "run"}\n')
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(TRACE), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "writing\n"
        proc.send_signal(sig)
        status = proc.wait(timeout=60)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.stderr.close()
    assert out.read_text() == '{"previous": "run"}\n'
    if sig == signal.SIGINT:
        assert status == 130 and err == "shimsim: interrupted\n"
        assert _leftovers(tmp_path) == []      # Ctrl-C cleans up its temporary file
    else:
        assert status == -signal.SIGKILL       # kill -9 may leave a .part file, never a truncated output
        assert all(n.startswith(".events.jsonl.") for n in _leftovers(tmp_path))
