# SPDX-License-Identifier: MIT
"""Real layers as the judge: the runsc and QEMU log formats, the per-release
models read from upstream, and ``probe --real`` against the real runsc and
qemu-aarch64 (CI installs both: apt-get install runsc qemu-user; skipped with
the reason when the binary is absent)."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shimsim import cli, model, shim, trace
from shimsim.errors import InputError, ShimsimError
from shimsim.probe import real
from shimsim.trace import formats, qemu_strace, runsc_strace

ROOT = Path(__file__).resolve().parents[2]
FIX = ROOT / "tests" / "fixtures"
RUNSC_LOG = FIX / "runsc" / "python-pidfd_open.boot.txt"
QEMU_LOG = FIX / "qemu" / "python-thread.aarch64.log"


def events(path: Path, **kw) -> list[model.Event]:
    return list(trace.open([str(path)], **kw).events())


# --------------------------------------------------------------------------- formats

def test_runsc_log_is_sniffed_and_gives_each_exit_line_with_its_errno() -> None:
    evs = events(RUNSC_LOG, strict=True)
    by = {e.name: e for e in evs}
    assert [e.name for e in evs][:3] == ["brk", "mmap", "access"]
    assert by["pidfd_open"].rec == model.ERROR and by["pidfd_open"].errname == "ENOSYS"
    assert by["rseq"].errname == "ENOSYS" and by["access"].errname == "ENOENT"
    assert by["set_robust_list"].rec == model.SUCCESS and by["set_robust_list"].ret == 0
    assert by["brk"].ret == 11313152 and by["brk"].dur == pytest.approx(7.103e-6)
    assert by["access"].dur == pytest.approx(1.175784e-3)
    assert all(e.abi == "linux-x86_64" and e.tid == 1 for e in evs)


def test_runsc_entry_without_exit_is_unfinished_and_a_broken_exit_line_is_an_error(tmp_path: Path) -> None:
    lines = RUNSC_LOG.read_text().splitlines()
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(lines[:-1]) + "\n")           # exit_group's X line lost
    last = events(f, format="runsc-strace")[-1]
    assert last.name == "exit_group" and last.rec == model.UNFINISHED
    bad = tmp_path / "bad.txt"
    bad.write_text(lines[0] + "\n" + lines[2].replace(" = 11313152 (0xaca000)", " = what") + "\n")
    with pytest.raises(InputError) as ei:
        events(bad, format="runsc-strace", strict=True)
    assert "bad.txt:2" in str(ei.value)


def test_qemu_log_is_sniffed_as_the_guest_abi_with_interleaved_threads_resolved() -> None:
    evs = events(QEMU_LOG, strict=True)
    assert {e.abi for e in evs} == {"linux-aarch64"}
    by_line: dict[int, list[model.Event]] = {}
    for e in evs:
        by_line.setdefault(e.line, []).append(e)
    rseq = next(e for e in evs if e.name == "rseq")
    assert rseq.nr == 293 and rseq.rec == model.ERROR and rseq.errname == "ENOSYS"   # Unknown + Unsupported
    srl = next(e for e in evs if e.name == "set_robust_list")
    assert srl.errname == "ENOSYS" and srl.err == 38
    # line 15 of the fixture holds two futex calls: the first waits, its " = 0" comes on the next line
    two = by_line[15]
    assert [e.name for e in two] == ["futex", "futex"]
    waiting = next(e for e in two if "FUTEX_WAIT" in e.args)
    assert waiting.rec == model.SUCCESS and waiting.ret == 0 and waiting.extra["result_line"] == 16
    assert all(e.rec in (model.SUCCESS, model.ERROR) for e in evs if e.name not in ("exit", "exit_group"))
    assert [e.rec for e in evs if e.name in ("exit", "exit_group")] == [model.UNFINISHED] * 2


def test_qemu_unknown_syscall_without_unimp_line_stays_unknown(tmp_path: Path) -> None:
    f = tmp_path / "q.log"
    f.write_text("7 Unknown syscall 293\n7 getpid() = 7\n7 write(1,0x4000b0,3) = 3\n")
    evs = events(f, format="qemu-strace", abi="linux-aarch64")
    assert evs[0].name == "rseq" and evs[0].rec == model.UNKNOWN
    assert [e.name for e in evs[1:]] == ["getpid", "write"]


def test_strace_output_is_not_taken_for_qemu_and_back() -> None:
    strace_lines = ['1234  openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
                    "1234  close(3)                          = 0"]
    assert formats.detect(strace_lines, "x") == "strace"
    assert formats.detect(QEMU_LOG.read_text().splitlines()[:30], "x") == "qemu-strace"
    assert formats.detect(RUNSC_LOG.read_text().splitlines(), "x") == "runsc-strace"


@given(st.lists(st.tuples(st.sampled_from(["getpid", "close", "read", "futex"]),
                          st.one_of(st.integers(0, 10**9), st.integers(1, 133).map(lambda e: -e))),
                min_size=1, max_size=20))
def test_qemu_parser_round_trips_rendered_lines(calls) -> None:
    """Lines printed as linux-user/strace.c prints them parse back to the same results."""
    lines = []
    for name, r in calls:
        res = f"-1 errno={-r} (x)" if r < 0 else str(r)
        lines.append(f"42 {name}(1,2) = {res}")

    class S:
        def unparsed(self, *a): raise AssertionError(a)
        def skip(self, *a): pass
    evs = list(qemu_strace.parse(lines, "t", S(), True))
    assert [(e.name, -e.err if e.rec == model.ERROR else e.ret) for e in evs] == calls


# --------------------------------------------------------------------------- the models

@pytest.mark.parametrize("name,errno", [("pidfd_open", "ENOSYS"), ("copy_file_range", "ENOSYS"),
                                        ("clone3", "ENOSYS"), ("rseq", "ENOSYS"), ("pidfd_send_signal", "ENOSYS")])
def test_gvisor_20221219_fails_what_the_release_fails(name: str, errno: str) -> None:
    spec = shim.load_spec("gvisor@20221219")
    r = spec.rules[name]
    assert r.do == "fail" and r.errno == errno
    assert any("2342c658c7c2ccdc1e23d642a5873c80297669de" in p for p in spec.provenance)


def test_gvisor_release_differs_from_the_current_table_where_upstream_changed() -> None:
    old, new = shim.load_spec("gvisor@20221219"), shim.load_spec("gvisor")
    assert old.rules["pidfd_open"].do == "fail" and new.rules["pidfd_open"].do != "fail"
    assert old.rules["close_range"].do == "emulate"
    # the table says Supported; the handler rejects AT_NO_AUTOMOUNT (which the real runsc showed) with EINVAL,
    # the newer one clears it as a no-op
    assert old.rules["statx"].do == "emulate" and old.rules["statx"].reject["AT_NO_AUTOMOUNT"] == "EINVAL"
    assert "sys_stat.go:156" in old.rules["statx"].note
    assert "AT_NO_AUTOMOUNT" not in new.rules["statx"].reject and new.rules["statx"].reject["AT_RECURSIVE"] == "EINVAL"


def test_qemu_user_72_model() -> None:
    spec = shim.load_spec("qemu-user@7.2")
    assert spec.guest == "linux-aarch64" and spec.host == "linux-x86_64"
    assert spec.rules["set_robust_list"].do == "fail" and "TARGET_ENOSYS" in spec.rules["set_robust_list"].note
    assert spec.rules["rseq"].do == "fail" and "Unsupported syscall" in spec.rules["rseq"].note
    assert spec.rules["clone3"].do == "fail"
    assert spec.rules["openat"].do == "emulate" and "/proc/self" in spec.rules["openat"].note
    assert spec.rules["newfstatat"].do == "translate"
    assert spec.rules["brk"].do == "emulate"


def test_importer_preprocessor_follows_conditionals(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import import_qemu as iq
    lu = tmp_path / "linux-user"
    (lu / "aarch64").mkdir(parents=True)
    (lu / "aarch64" / "syscall_nr.h").write_text("#define TARGET_NR_a 1\n#define TARGET_NR_b 2\n")
    (lu / "syscall.c").write_text(
        '#include "syscall_nr.h"\n'
        "#if defined(TARGET_NR_a) && defined(__NR_a)\nA_ON\n#elif TARGET_ABI_BITS == 64\nA_ELSE\n#endif\n"
        "#ifndef TARGET_NR_c\nNO_C\n#else\nC\n#endif\n"
        "#if KERNEL_VERSION(2,6,0) || 010 == 8\nOCTAL\n#endif\n")
    pp = iq.PP(tmp_path, "aarch64", {"TARGET_ABI_BITS": "64"})
    text = [ln for _p, _n, ln in pp.lines(lu / "syscall.c")]
    assert text == ["A_ELSE", "NO_C", "OCTAL"]
    assert "TARGET_NR_b" in pp.macros
    with pytest.raises(SystemExit):
        iq.PP(tmp_path, "aarch64", {}).expr("1 +* (", "x:1")


def test_gvisor_importer_reads_table_rows() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    import import_gvisor as ig
    text = ("var AMD64 = &kernel.SyscallTable{\n"
            '\t\t0: syscalls.SupportedPoint("read", Read, PointRead),\n'
            '\t\t7: syscalls.PartiallySupported("x", X, "Only some.", nil),\n'
            '\t\t9: syscalls.ErrorWithEvent("y", linuxerr.ENOSYS, "", []string{"gvisor.dev/issue/1"}), // TODO\n'
            '\t\t10: syscalls.CapError("z", linux.CAP_SYS_ADMIN, "", nil),\n'
            "}\n")
    rows = ig.parse_tables(text)["AMD64"]
    rules = [ig.rule_of(k, n, a) for _nr, k, n, a, _l in rows]
    assert [(r.do, r.errno) for r in rules] == [("emulate", None), ("partial", None), ("fail", "ENOSYS"),
                                                ("fail", "EPERM")]
    assert "Only some." in rules[1].note
    with pytest.raises(SystemExit):
        ig.parse_tables("var ARM64 = &kernel.SyscallTable{\n\t\t1: syscalls.Supported(oops\n}\n")


# --------------------------------------------------------------------------- the judge

def _ev(name: str, nr: int, rec: int, ret: int | None = 0, err: int | None = None, line: int = 1) -> model.Event:
    return model.Event(kind=model.SYSCALL, file="t", line=line, pid=1, name=name, nr=nr, rec=rec, ret=ret, err=err,
                       errname="ENOSYS" if err == 38 else None)


def test_logged_comparison_counts_both_directions() -> None:
    cs = shim.load("qemu-user@7.2", "linux-aarch64")
    mdl = real.Model(cs)
    log = [_ev("set_robust_list", 99, model.ERROR, -1, 38, 1),   # model fails it, QEMU failed it
           _ev("getpid", 172, model.SUCCESS, 5, None, 2),        # both: kept
           _ev("openat2", 437, model.SUCCESS, 3, None, 3),       # model fails it, QEMU answered: false alarm
           _ev("getppid", 173, model.ERROR, -1, 38, 4)]          # model keeps it, QEMU failed it: missed
    c = real.compare_logged(log, mdl, 38)
    assert [v.agree for v in c.verdicts] == [True, True, False, False]
    d = c.disagreements()
    assert d["openat2"]["false_alarm"] == 1 and d["getppid"]["missed"] == 1
    assert c.first_divergence().name == "set_robust_list" and c.rate == 0.5
    rebuilt = real.reconstruct_native(log, 38)
    assert rebuilt[0].rec == model.SUCCESS and rebuilt[0].extra["assumed_native"] and log[0].rec == model.ERROR


def test_unknown_layer_and_missing_command_are_errors() -> None:
    with pytest.raises(ShimsimError, match="unknown real layer"):
        real.probe("wine", ["true"])
    with pytest.raises(ShimsimError, match="no command"):
        real.probe("runsc", [])


def test_cli_real_rejects_minimize(capsys) -> None:
    assert cli.main(["probe", "--real", "runsc", "--minimize", "--", "true"]) == 2
    assert "--minimize works with the seccomp imitation only" in capsys.readouterr().err


# --------------------------------------------------------------------------- real runsc

def _runsc_reason() -> str | None:
    if shutil.which("runsc") is None:
        return "runsc is not installed (apt-get install runsc)"
    if shutil.which("strace") is None:
        return "strace is not installed"
    if os.geteuid() != 0:
        return "runsc do needs root here"
    return None


def _runsc_processes(root: Path) -> set[int]:
    """runsc, runsc-sandbox and runsc-gofer processes of this test's private --root."""
    out = subprocess.run(["pgrep", "-f", f"--root={root}"], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


@pytest.mark.slow
@pytest.mark.skipif(_runsc_reason() is not None, reason=_runsc_reason() or "")
def test_real_runsc_pidfd_open_breaks_and_the_model_foresaw_the_call(tmp_path: Path) -> None:
    r = real.probe("runsc", [sys.executable, "-c", "import os; os.close(os.pidfd_open(os.getpid()))"],
                   timeout=60, out_dir=str(tmp_path))
    assert r.shim == f"gvisor@{real.runsc_release()}" or r.notes
    assert r.observed == "breaks" and "exit 1" in r.real_status and r.ref_status == "exit 0"
    verdicts = [v for v in r.calls.verdicts if v.name == "pidfd_open"]
    assert verdicts and verdicts[0].real == "changes" and verdicts[0].model == "changes"
    assert verdicts[0].layer == "-1 ENOSYS"
    # predicted too, with the caller named: CPython has no fallback for pidfd_open (Go's row
    # must not rescue it), though strace's events before the command's execve are cut
    assert r.predicted == "breaks" and r.agree
    assert r.report.first_fatal.syscall == "pidfd_open" and "CPython" in r.report.first_fatal.reason
    assert "OSError" in r.real.stderr.read_text() or b"Function not implemented" in r.real.stderr.read_bytes()
    assert r.calls.rate is not None and r.calls.rate > 0.9
    # nothing left behind: no container under the private root, no new runsc process
    assert real.cleanup_runsc(shutil.which("runsc"), tmp_path / "runsc-root") == []
    assert _runsc_processes(tmp_path / "runsc-root") == set()


@pytest.mark.slow
@pytest.mark.skipif(_runsc_reason() is not None, reason=_runsc_reason() or "")
def test_real_runsc_that_cannot_start_is_an_error_not_a_verdict(tmp_path: Path, monkeypatch, capsys) -> None:
    """'runsc do' keeps its state under TMPDIR; inside a directory closed to other users its
    sandbox does not start (runsc exits 128, "creating container: ..."): that is one error
    line, never the program scored as broken by the layer."""
    closed = tmp_path / "closed"
    (closed / "tmp").mkdir(parents=True)
    closed.chmod(0o700)
    monkeypatch.setenv("TMPDIR", str(closed / "tmp"))
    code = cli.main(["probe", "--real", "runsc", "--recordings", str(tmp_path / "rec"), "--", "true"])
    err = capsys.readouterr().err
    assert code == 2 and "runsc could not start the sandbox (creating container:" in err, err
    assert f"TMPDIR={closed / 'tmp'}" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert real.cleanup_runsc(shutil.which("runsc"), tmp_path / "rec" / "runsc-root") == []


@pytest.mark.slow
@pytest.mark.skipif(_runsc_reason() is not None, reason=_runsc_reason() or "")
def test_real_runsc_cli_json_true_runs_and_agrees(tmp_path: Path, capsys) -> None:
    code = cli.main(["probe", "--real", "runsc", "--json", "--recordings", str(tmp_path), "--fail-on", "disagree",
                     "--", "true"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["observed"] == "runs" and out["agree"]
    assert out["calls"]["compared"] > 5 and out["layer"] == "runsc"
    assert Path(out["reality"]["layer"]["log"]).name.endswith(".boot.txt")


# --------------------------------------------------------------------------- real qemu

def write_static_elf(path: Path, machine: int, base: int, code: list[int], data: bytes) -> None:
    """An executable ELF64 little-endian file: one PT_LOAD (R+X) at BASE holding the
    headers, the 32-bit instruction words CODE and then DATA; entry at the first word."""
    body = b"".join(struct.pack("<I", c) for c in code) + data
    hdr = 64 + 56                                     # ELF header + one program header
    ehdr = struct.pack("<4s5B7x2H I 3Q I 6H", b"\x7fELF", 2, 1, 1, 0, 0, 2, machine, 1, base + hdr, 64, 0, 0,
                       64, 56, 1, 64, 0, 0)
    phdr = struct.pack("<2I 6Q", 1, 5, 0, base, base, hdr + len(body), hdr + len(body), 0x1000)
    path.write_bytes(ehdr + phdr + body)
    path.chmod(0o755)


def aarch64_elf(path: Path) -> None:
    """A static aarch64 program (no libc): set_robust_list(0, 24), rseq(0, 32, 0, 0),
    write(1, "hi\\n", 3), exit_group(0); the machine code is assembled here."""
    def movz(rd, imm):
        return 0xD2800000 | (imm << 5) | rd
    svc = 0xD4000001
    code = [movz(0, 0), movz(1, 24), movz(8, 99), svc,
            movz(0, 0), movz(1, 32), movz(2, 0), movz(3, 0), movz(8, 293), svc,
            movz(0, 1), None, movz(2, 3), movz(8, 64), svc,
            movz(0, 0), movz(8, 94), svc]
    adr_at = code.index(None)
    off = (len(code) - adr_at) * 4                    # msg follows the code
    code[adr_at] = 0x10000000 | ((off & 3) << 29) | (((off >> 2) & 0x7FFFF) << 5) | 1
    write_static_elf(path, machine=183, base=0x400000, code=code, data=b"hi\n")


@pytest.mark.skipif(shutil.which("qemu-aarch64") is None, reason="qemu-aarch64 is not installed (apt-get install qemu-user)")
def test_real_qemu_judges_every_call_of_an_aarch64_program(tmp_path: Path) -> None:
    prog = tmp_path / "hi"
    aarch64_elf(prog)
    r = real.probe("qemu", [str(prog)], timeout=30, out_dir=str(tmp_path / "w"))
    assert r.real.output() == b"hi\n" and r.real_status == "exit 0" and r.observed == "runs"
    assert r.shim == "qemu-user@7.2" or r.notes
    names = [v.name for v in r.calls.verdicts]
    assert names == ["set_robust_list", "rseq", "write"]
    assert all(v.agree for v in r.calls.verdicts)
    assert [v.real for v in r.calls.verdicts] == ["changes", "changes", "keeps"]
    assert r.calls.first_divergence().name == "set_robust_list"
    # the prediction replays the reconstructed native run: both failures are fatal for a
    # program with no fallback, unless tables/fallbacks.csv names the caller's retry
    assert r.predicted in ("runs", "breaks")


def riscv64_elf(path: Path) -> None:
    """A static riscv64 program (no libc): set_robust_list(0, 24), rseq(0, 32, 0, 0),
    write(1, "hi\\n", 3), exit_group(0); the machine code is assembled here."""
    def li(rd, imm):                                  # addi rd, x0, imm
        return (imm << 20) | (rd << 7) | 0x13
    a0, a1, a2, a3, a7, ecall = 10, 11, 12, 13, 17, 0x00000073
    code = [li(a0, 0), li(a1, 24), li(a7, 99), ecall,
            li(a0, 0), li(a1, 32), li(a2, 0), li(a3, 0), li(a7, 293), ecall,
            li(a0, 1), None, None, li(a2, 3), li(a7, 64), ecall,
            li(a0, 0), li(a7, 94), ecall]
    at = code.index(None)
    off = (len(code) - at) * 4                        # msg follows the code, from the auipc
    code[at] = (a1 << 7) | 0x17                       # auipc a1, 0
    code[at + 1] = (off << 20) | (a1 << 15) | (a1 << 7) | 0x13    # addi a1, a1, off
    write_static_elf(path, machine=243, base=0x10000, code=code, data=b"hi\n")


def test_qemu_user_riscv64_72_model() -> None:
    spec = shim.load_spec("qemu-user-riscv64@7.2")
    assert spec.guest == "linux-riscv64" and spec.host == "linux-x86_64"
    assert spec.rules["set_robust_list"].do == "fail" and "TARGET_ENOSYS" in spec.rules["set_robust_list"].note
    # QEMU 7.2 names riscv_flush_icache but has no case for it; riscv_hwprobe came later
    assert spec.rules["riscv_flush_icache"].do == "fail" and "Unsupported syscall" in spec.rules["riscv_flush_icache"].note
    assert spec.rules["riscv_hwprobe"].do == "fail"
    assert spec.rules["openat"].do == "emulate" and spec.rules["newfstatat"].do == "translate"


@pytest.mark.skipif(shutil.which("qemu-riscv64") is None, reason="qemu-riscv64 is not installed (apt-get install qemu-user)")
def test_real_qemu_judges_every_call_of_a_riscv64_program(tmp_path: Path) -> None:
    prog = tmp_path / "hi"
    riscv64_elf(prog)
    r = real.probe("qemu", [str(prog)], timeout=30, out_dir=str(tmp_path / "w"), arch="riscv64")
    assert r.real.output() == b"hi\n" and r.real_status == "exit 0" and r.observed == "runs"
    assert r.shim == "qemu-user-riscv64@7.2"
    assert [v.name for v in r.calls.verdicts] == ["set_robust_list", "rseq", "write"]
    assert all(v.agree for v in r.calls.verdicts)
    assert [v.real for v in r.calls.verdicts] == ["changes", "changes", "keeps"]


@pytest.mark.skipif(shutil.which("qemu-aarch64") is None, reason="qemu-aarch64 is not installed (apt-get install qemu-user)")
def test_real_qemu_missing_guest_program_is_a_clear_error(tmp_path: Path, capsys) -> None:
    code = cli.main(["probe", "--real", "qemu", "--sysroot", str(tmp_path), "--", "/no/such/prog"])
    assert code == 2
    assert "guest program not found" in capsys.readouterr().err


def test_strace_recording_is_cut_at_the_first_process_exec_only() -> None:
    evs = [_ev("brk", 12, model.SUCCESS, 1, None, 1),
           _ev("execve", 59, model.SUCCESS, 0, None, 2),
           _ev("vfork", 58, model.SUCCESS, 7, None, 3),
           model.Event(kind=model.SYSCALL, file="t", line=4, pid=7, name="execve", nr=59, rec=model.SUCCESS, ret=0),
           _ev("wait4", 61, model.SUCCESS, 7, None, 5)]
    assert [e.line for e in real.after_first_exec(evs)] == [3, 4, 5]
    # no exec of the first process: nothing is cut
    assert [e.line for e in real.after_first_exec(evs[2:])] == [3, 4, 5]


def test_qemu_log_sharing_the_programs_output_keeps_the_result(tmp_path: Path) -> None:
    """Without -D the log shares the terminal with the program: its output lands
    between a call and the call's result (as in 'qemu-aarch64 -strace busybox echo hi 2>&1')."""
    f = tmp_path / "q.log"
    f.write_text("13631 getuid() = 0\n13631 write(1,0x5dafc0,3)hi\n = 3\n13631 exit_group(0)\n")
    evs = events(f, format="qemu-strace", abi="linux-aarch64", strict=True)
    assert [(e.name, e.ret) for e in evs] == [("getuid", 0), ("write", 3), ("exit_group", None)]
    assert evs[1].args == "1,0x5dafc0,3" and evs[2].rec == model.UNFINISHED


@given(st.lists(st.tuples(st.sampled_from(["getpid", "close", "read", "futex"]),
                          st.one_of(st.integers(0, 2**47), st.integers(1, 133).map(lambda e: -e)),
                          st.integers(1, 999999)),
                min_size=1, max_size=20))
def test_runsc_parser_round_trips_rendered_lines(calls) -> None:
    """Exit lines printed as pkg/sentry/strace prints them parse back to the same results."""
    lines = []
    for i, (name, r, ns) in enumerate(calls):
        pre = f"I1207 00:46:17.{i:06d}   20750 strace.go:602] [   1:   1] prog "
        lines.append(pre + f"E {name}(0x1)")
        res = f"0 (0x0) errno={-r} (x)" if r < 0 else f"{r} ({r:#x})"
        lines.append(pre + f"X {name}(0x1) = {res} ({ns}ns)")

    class S:
        def unparsed(self, *a): raise AssertionError(a)
        def skip(self, *a): pass
    evs = list(runsc_strace.parse(lines, "t", S(), True))
    assert [(e.name, -e.err if e.rec == model.ERROR else e.ret) for e in evs] == [(n, r) for n, r, _ in calls]
    assert [round(e.dur * 1e9) for e in evs] == [ns for _, _, ns in calls]


def test_runsc_restart_errnos_are_restarts_not_errors(tmp_path: Path) -> None:
    f = tmp_path / "r.txt"
    f.write_text("I1207 00:56:12.5   1 strace.go:602] [   1:   1] sh X wait4(0xffffffff, 0x7f2178d9546c, 0x0, 0x0)"
                 " = 0 (0x0) errno=512 (to be restarted if SA_RESTART is set) (72.72108ms)\n")
    ev = events(f, format="runsc-strace", strict=True)[0]
    assert ev.rec == model.RESTARTED and ev.errname == "ERESTARTSYS" and ev.dur == pytest.approx(0.07272108)


@pytest.mark.skipif(shutil.which("qemu-aarch64") is None, reason="qemu-aarch64 is not installed (apt-get install qemu-user)")
def test_real_qemu_cli_text_report(tmp_path: Path, capsys) -> None:
    prog = tmp_path / "hi"
    aarch64_elf(prog)
    code = cli.main(["probe", "--real", "qemu", "--recordings", str(tmp_path / "w"), "--fail-on", "breaks", "--", str(prog)])
    out = capsys.readouterr().out
    assert code == 0
    assert "under the real qemu 7." in out and "judging qemu-user@" in out
    assert "calls:     3/3 judged as the layer answered them (100.0%)" in out
    assert "layer changed set_robust_list: 1 calls (e.g. native 0, layer -1 ENOSYS); model foresaw 1" in out
    assert "first divergence: set_robust_list" in out and "(predicted)" in out


@pytest.mark.slow
@pytest.mark.skipif(_runsc_reason() is not None, reason=_runsc_reason() or "")
def test_real_runsc_timeout_leaves_no_sandbox_behind(tmp_path: Path) -> None:
    r = real.probe("runsc", ["sleep", "30"], timeout=3, out_dir=str(tmp_path))
    assert r.real.timed_out and r.real_status == "timeout"
    roots = [p for p in real.do_roots(tmp_path / "runsc-log") if p.name.startswith("runsc-do")]
    assert roots    # runsc do's own state directory, beside the --root the probe gave
    for root in roots:
        assert not root.exists()
        assert _runsc_processes(root) == set()
