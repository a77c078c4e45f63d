# SPDX-License-Identifier: MIT
"""Issue 12's done-when, the Go half: a real Go >= 1.23 program that calls os.StartProcess/Wait
is predicted to survive the missing pidfd_open under the Linuxulator, with the Go runtime named.

Go 1.23's os package opens a pidfd of itself first (checkPidfd, src/os/pidfd_linux.go:154 in
go1.23.5); any pidfd_open error turns pidfds off and Process.Wait waits by PID (waitid(P_PID),
then wait4: src/os/exec_unix.go).  tables/fallbacks.csv holds that row for go >= 1.23.  The Go
toolchain is Debian's golang-1.23-go (bookworm-backports), installed by .ci/run; strace records."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim import model, shim
from shimsim import trace as trace_mod

GO123 = os.environ.get("SHIMSIM_GO123", "/usr/lib/go-1.23/bin/go")

PROGRAM = """package main

import (
	"fmt"
	"os"
)

func main() {
	p, err := os.StartProcess("/bin/true", []string{"true"}, &os.ProcAttr{Files: []*os.File{nil, os.Stdout, os.Stderr}})
	if err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	st, err := p.Wait()
	if err != nil {
		fmt.Println("wait:", err)
		os.Exit(1)
	}
	fmt.Println("child exited", st.ExitCode())
}
"""

pytestmark = [pytest.mark.slow,   # builds a Go program
         pytest.mark.skipif(not os.access(GO123, os.X_OK), reason=f"no Go 1.23 toolchain at {GO123}"),
         pytest.mark.skipif(shutil.which("strace") is None, reason="no strace")]


@pytest.fixture(scope="module")
def go_trace(tmp_path_factory) -> tuple[Path, str]:
    """The program built by Go 1.23 and its strace -f recording; (trace, 'go1.23.x')."""
    d = tmp_path_factory.mktemp("go123")
    (d / "main.go").write_text(PROGRAM)
    env = {**os.environ, "GOCACHE": str(d / "cache"), "GOPATH": str(d / "gopath"), "CGO_ENABLED": "0",
           "GOTOOLCHAIN": "local", "GOFLAGS": ""}
    exe = d / "startprocess"
    subprocess.run([GO123, "build", "-o", str(exe), "main.go"], cwd=d, env=env, check=True, capture_output=True)
    version = subprocess.run([GO123, "env", "GOVERSION"], env=env, capture_output=True, text=True,
                             check=True).stdout.strip()
    trace = d / "t.strace"
    r = subprocess.run(["strace", "-f", "-o", str(trace), str(exe)], capture_output=True, text=True)
    if r.returncode != 0 and "ptrace" in r.stderr:
        pytest.skip(f"strace cannot trace here: {r.stderr.strip()}")
    assert r.returncode == 0 and r.stdout == "child exited 0\n", (r.stdout, r.stderr)
    return trace, version


def _replay(trace: Path, shim_name: str) -> dict:
    r = subprocess.run([sys.executable, "-m", "shimsim", "replay", str(trace), "--shim", shim_name, "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_go_1_23_opens_a_pidfd_in_the_recording(go_trace) -> None:
    trace, version = go_trace
    assert re.fullmatch(r"go1\.2[3-9](\.\d+)?", version), version
    # Read through shimsim's parser: under strace -f a threaded Go program's calls are often split
    # into "<unfinished ...>" and "<... pidfd_open resumed>" lines, which the parser joins.
    calls = [e for e in trace_mod.open(str(trace), engine="python").events() if e.kind == model.SYSCALL]
    pidfd = [e for e in calls if e.name == "pidfd_open"]
    assert pidfd, "Go 1.23's checkPidfd always calls pidfd_open"
    if all(e.rec != model.SUCCESS for e in pidfd):
        # This host refuses pidfd_open itself (seccomp, old kernel): Go fell back already, so the
        # recording shows the PID path; the prediction tests below still hold.
        assert not any(e.name == "waitid" and e.args.startswith("P_PIDFD") for e in calls)
        pytest.skip(f"this host fails pidfd_open ({pidfd[0].errname}); Go used its fallback while recording")
    assert any(e.rec == model.SUCCESS and e.args.endswith(", 0") and e.ret >= 0 for e in pidfd)
    assert any(e.name == "waitid" and e.args.startswith("P_PIDFD") for e in calls)


def test_startprocess_wait_survives_the_missing_pidfd_open_under_linuxulator(go_trace) -> None:
    trace, version = go_trace
    assert shim.load_spec("linuxulator").rules["pidfd_open"].do == "fail"
    rep = _replay(trace, "linuxulator")
    assert rep["verdict"]["status"] in ("runs", "runs-emulated"), rep["verdict"]
    assert rep["first_divergence"] is None or not rep["first_divergence"]["fatal"]
    pidfd = [d for d in rep["divergence_list"] if d["syscall"] == "pidfd_open"]
    assert pidfd and all(d["kind"] == "survivable" and not d["fatal"] for d in pidfd)
    reason = pidfd[0]["reason"]
    # the caller named, with the version its build info gives, and the row that rescues it
    assert f"Go runtime {version[2:]}" in reason and "wait4" in reason and "pidfd_linux.go" in reason, reason
    go = [c for c in rep["callers"] if any(r["name"] == "go" for r in c["runtimes"])]
    assert go and go[0]["identified"]
    assert next(r for r in go[0]["runtimes"] if r["name"] == "go")["version"] == version[2:]
    assert "buildinfo" in next(r for r in go[0]["runtimes"] if r["name"] == "go")["evidence"]


def test_the_go_rows_cover_the_toolchain_version(go_trace) -> None:
    _trace, version = go_trace
    rows = [f for f in shim.load_fallbacks() if f.syscall in ("pidfd_open", "pidfd_send_signal")]
    assert rows and all(f.implementer == "go" and f.holds_for(version[2:]) for f in rows)
    assert all(f.source.endswith(":src/os/pidfd_linux.go") and "go1.23.5" in f.note for f in rows)
    assert not rows[0].holds_for("1.22.9")     # before 1.23 os.Process had no pidfd
