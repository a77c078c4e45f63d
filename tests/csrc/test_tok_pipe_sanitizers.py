# SPDX-License-Identifier: MIT
"""The tokeniser's pipeline thread (csrc/tok_pipe.c) and the parallel feed's
workers (csrc/tok_par.c) under ThreadSanitizer and AddressSanitizer+UBSan: a C
driver feeds a multi-block trace through the thread, reading each batch while
the next is tokenised, or each block on three threads (directly and on the
pipeline thread; chunks of a few hundred bytes and of one line, and blocks
split evenly, the threads sharing the chunks out),
and its digest of the events must equal the serial run's.  Skipped where gcc cannot build with the
sanitizer."""
from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
FIX = ROOT / "tests" / "fixtures" / "strace" / "gen"
SOURCES = ["tokenise.c", "tok_par.c", "tok_pipe.c", "tok_scan.c", "tok_store.c", "lex.c"]


def build(tmp: Path, sanitize: str) -> Path:
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("no gcc")
    exe = tmp / f"driver-{sanitize.replace(',', '-')}"
    r = subprocess.run([gcc, "-std=c11", "-pthread", "-O1", "-g", f"-fsanitize={sanitize}", f"-I{CSRC}",
                        str(Path(__file__).with_name("tok_pipe_driver.c")), *(str(CSRC / s) for s in SOURCES),
                        "-o", str(exe)], capture_output=True, text=True)
    if r.returncode != 0:
        if "sanitize" in r.stderr or "cannot find" in r.stderr:
            pytest.skip(f"gcc cannot build with -fsanitize={sanitize}: {r.stderr[-200:]}")
        raise AssertionError(r.stderr)
    return exe


@pytest.fixture(scope="module")
def trace_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    parts = [gzip.decompress((FIX / "python_threads_f_tt.strace.gz").read_bytes()),
             (FIX / "pipeline_f_stderr.strace").read_bytes(), (FIX / "i386_mixed_personality.strace").read_bytes()]
    out = tmp_path_factory.mktemp("pipe") / "t.strace"
    out.write_bytes(b"".join(p.rstrip(b"\n") + b"\n" for p in parts) * 3)
    return out


@pytest.mark.parametrize("sanitize", ["thread", "address,undefined"])
def test_pipeline_thread_sanitizer_clean(sanitize: str, trace_file: Path, tmp_path: Path) -> None:
    exe = build(tmp_path, sanitize)
    env = {"TSAN_OPTIONS": "halt_on_error=1", "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
           "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1", "PATH": "/usr/bin:/bin"}
    runs = {}
    # pipepar2: two threads, the pipeline thread and the waiting caller, no worker
    for mode, block, chunk in (("serial", "1500", "0"), ("pipe", "1500", "0"), ("serial", "40000", "0"),
                               ("par", "40000", "300"), ("pipepar", "40000", "300"), ("par", "40000", "1"),
                               ("pipepar2", "40000", "300"),
                               ("serial", "400000", "0"), ("par", "400000", "0"), ("pipepar", "400000", "0"),
                               ("pipepar2", "400000", "0")):
        argv = [str(exe), str(trace_file), mode.rstrip("2"), block, chunk] + (["2"] if mode.endswith("2") else [])
        r = subprocess.run(argv, capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "WARNING: ThreadSanitizer" not in r.stderr and "ERROR:" not in r.stderr, r.stderr[-2000:]
        runs[mode, block, chunk] = r.stdout
    assert runs["serial", "1500", "0"] == runs["pipe", "1500", "0"]
    assert int(runs["serial", "1500", "0"].split()[1]) > 1000
    # the parallel feeds: the serial feed's events, notes, counts, statistics and pids
    assert runs["serial", "40000", "0"] == runs["par", "40000", "300"] == runs["pipepar", "40000", "300"] \
        == runs["par", "40000", "1"] == runs["pipepar2", "40000", "300"]
    # blocks split evenly, chunks shared out between the threads as they get to them
    assert runs["serial", "400000", "0"] == runs["par", "400000", "0"] == runs["pipepar", "400000", "0"] \
        == runs["pipepar2", "400000", "0"]
