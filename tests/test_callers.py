# SPDX-License-Identifier: MIT
"""Caller-aware fallbacks: who makes each call, read from the traced program's
file, and a fallback row applies only when that caller implements it.

The runtime identification runs on real programs of this machine (the test's
own CPython, /bin/true, a Go and a Rust program built here when the toolchain
is installed); the probe tests (tests/probe/test_probe_callers.py) run real commands under
strace and seccomp.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim import callers, model, replay, shim
from shimsim.elf import runtime



PY = os.path.realpath(sys.executable)
PYVER = f"{sys.version_info.major}.{sys.version_info.minor}"
TRUE = shutil.which("true") or "/bin/true"


def _glibc() -> str | None:
    try:
        v = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return None
    return v.split()[-1] if v.startswith("glibc") else None


# --------------------------------------------------------------------------- identification

def test_this_cpython_is_identified_with_its_version_and_libc() -> None:
    fr = runtime.runtimes(PY)
    assert fr.found
    byname = {r.name: r for r in fr.runtimes}
    assert byname["cpython"].version == PYVER, fr.runtimes
    if _glibc():
        assert byname["glibc"].version == _glibc()
    assert "go" not in byname and "rust-std" not in byname


def test_a_c_program_carries_glibc_only() -> None:
    fr = runtime.runtimes(os.path.realpath(TRUE))
    names = fr.names()
    if _glibc():
        assert "glibc" in names
    assert not names & {"go", "rust-std", "cpython", "openjdk", "node"}


def test_a_script_is_its_interpreter(tmp_path: Path) -> None:
    s = tmp_path / "s.py"
    s.write_text(f"#!{PY}\nprint(1)\n")
    fr = runtime.runtimes(str(s))
    assert fr.interpreter == PY and "cpython" in fr.names()


def test_missing_and_non_elf_files_say_why(tmp_path: Path) -> None:
    fr = runtime.runtimes(str(tmp_path / "nope"))
    assert not fr.found and "No such file" in fr.problem
    (tmp_path / "data").write_bytes(b"\0" * 64)
    fr = runtime.runtimes(str(tmp_path / "data"))
    assert not fr.found and "not an ELF" in fr.problem


def test_root_dir_resolves_paths_under_it(tmp_path: Path) -> None:
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    shutil.copy(PY, tmp_path / "usr" / "bin" / f"python{PYVER}")
    fr = runtime.runtimes(f"/usr/bin/python{PYVER}", root=str(tmp_path))
    assert fr.found and "cpython" in fr.names()


@pytest.mark.slow   # builds a Go program
@pytest.mark.skipif(shutil.which("go") is None, reason="no Go toolchain")
def test_a_go_program_is_identified_from_its_buildinfo(tmp_path: Path) -> None:
    src = tmp_path / "main.go"
    src.write_text('package main\nimport "fmt"\nfunc main() { fmt.Println("hi") }\n')
    exe = tmp_path / "hi"
    env = {**os.environ, "GOCACHE": str(tmp_path / "cache"), "GOPATH": str(tmp_path / "gopath"), "CGO_ENABLED": "0"}
    subprocess.run(["go", "build", "-o", str(exe), str(src)], cwd=tmp_path, env=env, check=True,
                   capture_output=True)
    want = subprocess.run(["go", "version"], capture_output=True, text=True, env=env).stdout.split()[2]
    fr = runtime.runtimes(str(exe))
    go = next(r for r in fr.runtimes if r.name == "go")
    assert "go" + go.version == want
    assert "glibc" not in fr.names()          # CGO off: the Go runtime makes its own calls


@pytest.mark.slow   # builds a Rust program
@pytest.mark.skipif(shutil.which("rustc") is None, reason="no Rust toolchain")
def test_a_rust_program_is_identified_from_its_comment(tmp_path: Path) -> None:
    src = tmp_path / "m.rs"
    src.write_text('fn main() { println!("hi"); }\n')
    exe = tmp_path / "m"
    subprocess.run(["rustc", "-o", str(exe), str(src)], check=True, capture_output=True)
    want = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()[1]
    fr = runtime.runtimes(str(exe))
    assert next(r for r in fr.runtimes if r.name == "rust-std").version == want


# --------------------------------------------------------------------------- routing

def _ev(name: str, args: str, ret: int = 0, pid: int = 100, line: int = 1) -> model.Event:
    from shimsim import tables
    sc = tables.load_abi("linux-x86_64").by_name[name]
    return model.Event(model.SYSCALL, "t.strace", line, pid=pid, name=name, nr=sc.number, args=args,
                       ret=ret, rec=model.SUCCESS, abi="linux-x86_64")


def _shim(tmp_path: Path, rules: str) -> shim.CompiledShim:
    p = tmp_path / "s.toml"
    p.write_text('[shim]\nname = "s"\nguest = "linux-x86_64"\nhost = "linux-x86_64"\n'
                 'provenance = ["shimsim tests"]\ndefault = "translate"\n[syscalls]\n' + rules)
    return shim.load(str(p))


@pytest.mark.parametrize("engine", ["python", "c"])
def test_a_fallback_applies_only_to_the_runtime_that_implements_it(tmp_path: Path, engine: str) -> None:
    """pidfd_open fails: the Go row (>= 1.23) rescues a Go 1.23 caller; CPython has no
    such fallback (os.pidfd_open raises), so the same call made by it is fatal."""
    cs = _shim(tmp_path, 'pidfd_open = { do = "fail", errno = "ENOSYS" }\n')
    tr = callers.CallerTracker()
    go123 = tr._add(callers.Caller("/opt/app", (runtime.Runtime("go", "1.23.4", "test"),), True))
    tr._pid[200] = go123
    events = [_ev("execve", f'"{PY}", ["python3"], 0x7ffd /* 3 vars */', pid=100, line=1),
              _ev("pidfd_open", "100, 0", ret=3, pid=100, line=2),
              _ev("pidfd_open", "200, 0", ret=3, pid=200, line=3)]
    rp = replay.Replayer(cs, engine, callers=tr)
    if engine == "python":
        rp.feed_events(events)
    else:
        packer = replay.EventPacker([cs.guest.name])
        arr, n = packer.pack(events)
        rp.feed_batch(arr, n, packer.files, packer.abis)
    rep = rp.finish()
    by_line = {d.line: d for d in rep.divergences}
    assert by_line[2].code == replay.DIV_FAILS and by_line[2].fatal
    assert f"CPython {PYVER}" in by_line[2].reason and "Go runtime >=1.23" in by_line[2].reason
    assert by_line[3].code == replay.DIV_FALLBACK and "Go runtime" in by_line[3].reason
    assert rep.first_fatal.line == 2
    assert any(c["path"] == PY and c["identified"] for c in rep.callers)


def test_an_unidentified_caller_is_said_not_guessed(tmp_path: Path) -> None:
    cs = _shim(tmp_path, 'clone3 = { do = "fail", errno = "ENOSYS" }\n')
    rep = replay.replay_events(cs, [_ev("clone3", "{flags=CLONE_VM, exit_signal=SIGCHLD}, 88", ret=5)])
    d = rep.divergences[0]
    assert d.code == replay.DIV_FALLBACK and not d.fatal
    assert "if the caller falls back as glibc >=2.34 does" in d.reason and "caller not identified" in d.reason
    assert rep.unconfirmed == 1
    from shimsim.report import verdict
    v = verdict(rep)
    assert v.status == "uncertain" and "not identified" in v.text
    # a missing program file is named as the reason
    rep = replay.replay_events(cs, [_ev("execve", '"/nonexistent/prog", ["prog"], 0x1', line=1),
                                    _ev("clone3", "{flags=CLONE_VM}, 88", ret=5, line=2)])
    assert "/nonexistent/prog" in rep.divergences[0].reason and "not readable" in rep.divergences[0].reason


def test_children_inherit_their_parents_program_until_they_exec(tmp_path: Path) -> None:
    cs = _shim(tmp_path, 'clone3 = { do = "fail", errno = "ENOSYS" }\n')
    tr = callers.CallerTracker()
    events = [_ev("execve", f'"{PY}", ["python3"], 0x1', pid=10, line=1),
              _ev("clone", "child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD", ret=11, pid=10, line=2),
              _ev("clone3", "{flags=CLONE_VM}, 88", ret=12, pid=11, line=3)]
    rep = replay.replay_events(cs, events, callers=tr)
    d = rep.divergences[0]
    assert d.line == 3 and d.code == replay.DIV_FALLBACK and "glibc" in d.reason and "not identified" not in d.reason


def test_the_trace_shape_adds_runtimes_a_process_loads(tmp_path: Path) -> None:
    tr = callers.CallerTracker()
    tr.see("openat", 5, 'AT_FDCWD, "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so", O_RDONLY|O_CLOEXEC',
           model.SUCCESS, 3)
    c = tr.caller(tr.ctx_of(5))
    assert c.names() == {"openjdk"} and c.version("openjdk") == "17" and not c.complete
    fb = shim.Fallback("x", (), (), "a/b@c:d", "", 1, "glibc", "*")
    assert c.implements(fb) is None          # glibc not seen, not ruled out


@pytest.mark.parametrize("errno,survives", [("ENOSYS", True), ("EXDEV", True), ("EOPNOTSUPP", True),
                                            ("EPERM", False)])
def test_libuv_copyfile_falls_back_to_sendfile_on_its_errnos_only(tmp_path: Path, errno: str,
                                                                  survives: bool) -> None:
    """Node's fs.copyFileSync goes through libuv's uv__fs_sendfile (tables/fallbacks.csv,
    libuv/libuv@00c81969:src/unix/fs.c): ENOSYS, ENOTSUP and EXDEV retry with sendfile;
    EPERM is returned to the caller."""
    cs = _shim(tmp_path, f'copy_file_range = {{ do = "fail", errno = "{errno}" }}\n')
    tr = callers.CallerTracker()
    node = tr._add(callers.Caller("/usr/bin/node", (runtime.Runtime("node", None, "test"),
                                                    runtime.Runtime("libuv", None, "test")), True))
    tr._pid[300] = node
    rep = replay.replay_events(cs, [_ev("copy_file_range", "17, [0], 18, NULL, 4096, 0", ret=4096, pid=300)],
                               callers=tr)
    d = rep.divergences[0]
    if survives:
        assert d.code == replay.DIV_FALLBACK and not d.fatal and "libuv" in d.reason, d.reason
    else:
        assert d.code == replay.DIV_FAILS and d.fatal, d.reason
