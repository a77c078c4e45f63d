# SPDX-License-Identifier: MIT
"""Predicted syscall sets against fresh strace recordings of real programs.

For each program on this machine, a typical run is recorded with
``strace -f`` in the test, and the distinct syscalls it made must be (at
least 95 %) inside the set ``inspect`` predicts from the binary alone,
loader and start-up calls included.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim.elf import inspect_path

STRACE = shutil.which("strace")
THRESHOLD = 0.95
LINE = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_][a-z_0-9]*)(?:\(| resumed>)")


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def _program(name: str) -> str | None:
    """The ELF file that runs for ``name`` (wrapper scripts such as pyenv shims are skipped)."""
    cands = [shutil.which(name), f"/usr/bin/{name}", f"/bin/{name}"]
    if name == "python3":
        cands.append(sys.executable)
    for c in cands:
        if c and _is_elf(os.path.realpath(c)):
            return os.path.realpath(c)
    return None


def program_env(**extra: str) -> dict[str, str]:
    """The environment for the traced program: as a user runs it, without the
    sanitizer runtime the test process itself may be preloaded with (CI's
    ASan run sets LD_PRELOAD, which would add libasan's own calls)."""
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env.update(extra)
    return env


def _record(tmp: Path, argv: list[str], cwd: Path) -> set[str]:
    log = tmp / "trace"
    subprocess.run([STRACE, "-f", "-qq", "-o", str(log), *argv], cwd=cwd, capture_output=True,
                   timeout=120, env=program_env(LC_ALL="C.UTF-8"))
    names: set[str] = set()
    for line in log.read_text(errors="replace").splitlines():
        m = LINE.match(line)
        if m:
            names.add(m.group(1))
    return names


def _git_repo(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    (repo / "a.txt").write_text("hello\n")
    git = _program("git")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    for args in (["init", "-q"], ["add", "a.txt"], ["commit", "-qm", "x"]):
        subprocess.run([git, *args], cwd=repo, env=env, check=True, capture_output=True)
    (repo / "a.txt").write_text("changed\n")
    return repo


BUSY_PYTHON = """
import threading, socket, os, time, hashlib, random, tempfile, select, signal, mmap, sqlite3
t = threading.Thread(target=lambda: time.sleep(0.01)); t.start(); t.join()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0)); s.listen(); s.close()
os.listdir("."); hashlib.sha256(b"x").hexdigest(); random.random()
with tempfile.NamedTemporaryFile(dir=".") as f:
    f.write(b"x"); f.flush(); m = mmap.mmap(f.fileno(), 1); m.close()
c = sqlite3.connect(":memory:"); c.execute("select 1"); c.close()
signal.signal(signal.SIGUSR1, lambda *a: None); os.kill(os.getpid(), signal.SIGUSR1)
select.select([], [], [], 0)
"""

RUNS = {
    "ls": lambda prog, tmp: ([prog, "-la", str(tmp)], tmp),
    "python3": lambda prog, tmp: ([prog, "-c", "import json, os; print(json.dumps(sorted(os.listdir('.'))))"], tmp),
    "git": lambda prog, tmp: ([prog, "status", "--short"], _git_repo(tmp)),
    # threads, a listening socket, a temp file mapped, sqlite, a handled signal: one process, no exec
    "python3-busy": lambda prog, tmp: ([prog, "-c", BUSY_PYTHON], tmp),
}


@pytest.mark.skipif(STRACE is None, reason="strace is not installed: cannot record real runs")
@pytest.mark.parametrize("name", sorted(RUNS))
def test_prediction_covers_strace(tmp_path, name, capsys):
    prog = _program(name.split("-")[0])
    if prog is None:
        pytest.skip(f"{name} is not installed as an ELF program on this machine")
    argv, cwd = RUNS[name](prog, tmp_path)
    seen = _record(tmp_path, argv, cwd)
    if not seen:
        pytest.skip(f"strace recorded nothing for {name} (ptrace not permitted here?)")
    predicted = set(inspect_path(prog).prediction.syscalls)
    missing = sorted(seen - predicted)
    cover = len(seen & predicted) / len(seen)
    with capsys.disabled():
        print(f"\n[coverage] {name} ({prog}): {len(seen & predicted)}/{len(seen)} = {cover:.1%}"
              f" traced syscalls predicted ({len(predicted)} predicted); missing: {missing}")
    assert cover >= THRESHOLD, f"{name}: {cover:.1%} covered, missing {missing}"
    # the loader and start-up calls of every dynamic program are among them
    assert {"execve", "mmap", "openat", "close"} <= predicted
