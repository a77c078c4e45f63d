# SPDX-License-Identifier: MIT
"""The probe leaves none of the probed program's processes behind: not at a
timeout, not on Ctrl-C, not when the program exits first, and not for a child
that called setsid(2) to leave the program's process group and session.

The program is a real one: python forks a child that calls setsid and then
execs a sleeping python whose command line carries a marker; afterwards no
process with the marker may be left in /proc."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from shimsim.probe import supervise

if shutil.which("strace") is None:
    pytestmark = pytest.mark.skip(reason="strace is not installed")

PY = sys.executable
LAYERS = ["--shim native",
          pytest.param("--real runsc", marks=pytest.mark.skipif(shutil.which("runsc") is None or os.geteuid() != 0,
                                                                reason="runsc (as root) is not available"))]


def _daemonizing(marker: str, parent: str) -> list[str]:
    """A program whose child calls setsid and execs a sleeper with MARKER in its command line;
    the parent then sleeps too ("stay") or exits at once ("leave", so the child is an orphan
    in a session of its own).  Only the sleeper's command line holds MARKER whole (the program's
    and shimsim's hold it in two pieces), so /proc finds exactly the sleeper."""
    half = len(marker) // 2
    code = ("import os, sys, time\n"
            f"marker = {marker[:half]!r} + {marker[half:]!r}\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    os.execv(sys.executable, [sys.executable, '-c', 'import time  # ' + marker + '\\ntime.sleep(600)'])\n"
            + ("time.sleep(600)\n" if parent == "stay" else "sys.exit(0)\n"))
    return [PY, "-c", code]


def _left(marker: str) -> list[int]:
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if marker.encode() in Path(f"/proc/{p}/cmdline").read_bytes():
                    out.append(int(p))
            except OSError:
                pass
    return out


def _runsc_started(tmp_path: Path, shimsim: int) -> bool:
    for p in _left(str(tmp_path)):
        try:
            if p != shimsim and b"runsc" in Path(f"/proc/{p}/cmdline").read_bytes().split(b"\0")[0]:
                return True
        except OSError:
            pass
    return False


def _wait_for(marker: str, proc: subprocess.Popen, tmp_path: Path, layer: str, seconds: float = 60.0) -> None:
    """Until the sleeper runs: seen in /proc natively; under runsc it lives inside the sandbox,
    which is seen as runsc processes (then a moment for the sandbox to start the program)."""
    deadline = time.monotonic() + seconds
    runsc = "runsc" in layer
    while not (_runsc_started(tmp_path, proc.pid) if runsc else _left(marker)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sleeping child never started"
        time.sleep(0.05)
    if runsc:
        time.sleep(3)


@pytest.mark.parametrize("parent", ["stay", "leave"])
@pytest.mark.parametrize("layer", LAYERS)
def test_timeout_kills_a_child_that_called_setsid(tmp_path: Path, parent: str, layer: str) -> None:
    marker = f"shimsim-setsid-{uuid.uuid4().hex}"
    r = subprocess.run([PY, "-m", "shimsim", "probe", *layer.split(), "--timeout", "3", "--recordings", str(tmp_path / "o"),
                        "--", *_daemonizing(marker, parent)], capture_output=True, text=True, timeout=300)
    assert "Traceback" not in r.stderr, r.stderr
    assert "timeout" in r.stdout, (r.stdout, r.stderr)
    assert _left(marker) == []


@pytest.mark.parametrize("layer", LAYERS)
def test_ctrl_c_exits_130_and_leaves_no_process(tmp_path: Path, layer: str) -> None:
    marker = f"shimsim-sigint-{uuid.uuid4().hex}"
    proc = subprocess.Popen([PY, "-m", "shimsim", "probe", *layer.split(), "--timeout", "300",
                             "--recordings", str(tmp_path / "o"), "--", *_daemonizing(marker, "stay")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(marker, proc, tmp_path, layer)
        proc.send_signal(signal.SIGINT)              # what the terminal sends shimsim on Ctrl-C
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, (out, err)
    assert err == "shimsim: interrupted\n", err
    assert _left(marker) == [] and _left(str(tmp_path)) == []


def test_supervisor_passes_the_status_through_and_kills_the_rest(tmp_path: Path) -> None:
    marker = f"shimsim-exit-{uuid.uuid4().hex}"
    p = supervise.start(_daemonizing(marker, "leave"))
    assert p.wait(timeout=120) == 0                  # the program's own status
    assert _left(marker) == []                       # its daemon did not outlive it
    p = supervise.start(["sh", "-c", "exit 7"])
    assert p.wait(timeout=60) == 7
    p = supervise.start(["sh", "-c", "kill -TERM $$"])
    assert p.wait(timeout=60) == -signal.SIGTERM    # killed by a signal: seen as such


def test_supervisor_reports_a_command_that_cannot_start() -> None:
    from shimsim.errors import ShimsimError

    with pytest.raises(ShimsimError, match="cannot start /nonexistent/shimsim-x: No such file"):
        supervise.start(["/nonexistent/shimsim-x"])
