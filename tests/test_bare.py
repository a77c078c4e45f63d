# SPDX-License-Identifier: MIT
"""No layer at all (``none``, ``none-freebsd``): the host's own loader and
syscall table meet the guest program.

The loader facts are checked on this Linux machine with real files: a
FreeBSD-branded ELF (EI_OSABI 9 and a FreeBSD ABI note, built here with gcc
and rebranded) is started by Linux when static, and its execve fails with
ENOENT when its PT_INTERP names FreeBSD's /libexec/ld-elf.so.1.  The replay
of a real FreeBSD truss recording then shows, call by call, the Linux call
each FreeBSD number lands on.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim import shim, trace
from shimsim.replay import Replayer
from shimsim.callers import CallerTracker

FIX = Path(__file__).parent / "fixtures"
TRUSS = FIX / "truss_freebsd" / "gh_freebsd_valgrind189_pid_sigset.log"
GNU_TAG = struct.pack("<III", 4, 16, 1) + b"GNU\0"
GCC = shutil.which("gcc")
LINUX_INTERP = b"/lib64/ld-linux-x86-64.so.2"


def _rebrand(data: bytearray) -> bytearray:
    pos = data.find(GNU_TAG)
    assert pos > 0, "no GNU ABI tag note to rebrand"
    data[pos:pos + 32] = struct.pack("<III", 8, 12, 1) + b"FreeBSD\0" + struct.pack("<III", 1400097, 0, 0)
    data[7] = 9                                   # EI_OSABI = ELFOSABI_FREEBSD
    return data


@pytest.fixture(scope="module")
def freebsd_elfs(tmp_path_factory) -> dict[str, Path]:
    if GCC is None or os.uname().machine != "x86_64":
        pytest.skip("needs gcc on x86-64 to build the test programs")
    tmp = tmp_path_factory.mktemp("bare")
    src = tmp / "p.c"
    src.write_text('#include <stdio.h>\nint main(void){puts("ran"); return 0;}\n')
    out = {}
    static = tmp / "static"
    r = subprocess.run([GCC, "-static", "-O1", "-o", str(static), str(src)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"no static libc to link against: {r.stderr.decode()[:200]}")
    p = tmp / "freebsd-static"
    p.write_bytes(bytes(_rebrand(bytearray(static.read_bytes()))))
    p.chmod(0o755)
    out["static"] = p
    dyn = tmp / "dyn"
    subprocess.run([GCC, "-O1", "-o", str(dyn), str(src)], check=True)
    data = _rebrand(bytearray(dyn.read_bytes()))
    at = data.find(LINUX_INTERP)
    new = b"/libexec/ld-elf.so.1"
    data[at:at + len(LINUX_INTERP)] = new + b"\0" * (len(LINUX_INTERP) - len(new))
    p = tmp / "freebsd-dynamic"
    p.write_bytes(bytes(data))
    p.chmod(0o755)
    out["dynamic"] = p
    return out


def _replay(shim_name: str, path: Path, binary: str | None = None, engine: str = "c", events: int = 0):
    t = trace.open([str(path)], engine=engine)
    cs = shim.compile_shim(shim.load_spec(shim_name), t.abi)
    rp = Replayer(cs, engine, keep_events=events, callers=CallerTracker(None, binary))
    if engine == "c":
        for b in t.batches():
            rp.feed_batch(b.events, b.count, b.files, b.abis)
    else:
        rp.feed_events(t.events())
    return rp.finish()


def test_linux_starts_a_freebsd_branded_static_elf(freebsd_elfs) -> None:
    """The fact the model rests on, on this very kernel: EI_OSABI is not checked."""
    r = subprocess.run([str(freebsd_elfs["static"])], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == "ran\n"


def test_linux_fails_a_freebsd_dynamic_elf_at_its_interpreter(freebsd_elfs) -> None:
    with pytest.raises(OSError) as ei:
        subprocess.run([str(freebsd_elfs["dynamic"])], capture_output=True)
    assert ei.value.errno == errno.ENOENT        # the interpreter path, not the program, is missing


@pytest.mark.parametrize("engine", ["c", "python"])
def test_static_freebsd_program_goes_wrong_silently_at_its_first_call(freebsd_elfs, engine) -> None:
    rep = _replay("none", TRUSS, str(freebsd_elfs["static"]), engine, events=5)
    assert rep.loader["status"] == "started"
    first = rep.event_rows[0]
    assert first["name"] == "thr_self"                       # FreeBSD 432 = Linux fsmount
    assert first["host_call"] == "fsmount" and "read as success" in first["result"]
    write = next(r for r in rep.event_rows if r["name"] == "write")
    assert write["host_call"] == "stat"                      # FreeBSD write = 4 = Linux stat
    ff = rep.first_fatal
    assert ff.syscall == "thr_self" and "goes wrong silently" in ff.reason and "carry flag" in ff.reason


def test_dynamic_freebsd_program_never_starts(freebsd_elfs) -> None:
    rep = _replay("none", TRUSS, str(freebsd_elfs["dynamic"]))
    assert rep.loader["status"] == "interpreter-missing"
    assert rep.first_fatal.syscall == "execve" and "/libexec/ld-elf.so.1" in rep.first_fatal.reason
    assert "ENOENT" in rep.first_fatal.reason


def test_without_the_program_file_the_report_says_what_it_cannot_know() -> None:
    rep = _replay("none", TRUSS)
    assert rep.loader["status"] == "unknown" and "does not show whether it is static" in rep.loader["text"]
    assert rep.first_fatal.syscall != "execve"               # the calls themselves still go wrong


def test_macho_and_pe_files_are_refused(tmp_path: Path) -> None:
    mo = tmp_path / "prog"
    mo.write_bytes(b"\xcf\xfa\xed\xfe" + b"\0" * 60)
    rep = _replay("none", TRUSS, str(mo))
    assert rep.loader["status"] == "refused" and "Mach-O" in rep.loader["text"] and "ENOEXEC" in rep.loader["text"]
    pe = tmp_path / "prog.exe"
    pe.write_bytes(b"MZ" + b"\0" * 62)
    rep = _replay("none", TRUSS, str(pe))
    assert rep.loader["status"] == "refused" and "PE" in rep.loader["text"]


def test_cli_replay_with_binary_and_json(freebsd_elfs) -> None:
    r = subprocess.run([sys.executable, "-m", "shimsim", "replay", str(TRUSS), "--shim", "none", "--binary",
                        str(freebsd_elfs["static"]), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["verdict"]["status"] == "breaks" and doc["loader"]["status"] == "started"
    r = subprocess.run([sys.executable, "-m", "shimsim", "replay", str(TRUSS), "--shim", "none", "--binary",
                        "/nonexistent"], capture_output=True, text=True)
    assert r.returncode == 2 and "--binary /nonexistent" in r.stderr
