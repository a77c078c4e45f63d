# SPDX-License-Identifier: MIT
"""``shimsim inspect`` end to end: JSON shape, verdicts, directories, exit status."""
from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from shimsim.cli import main

gcc = shutil.which("gcc")
GNU_TAG = struct.pack("<III", 4, 16, 1) + b"GNU\0"


@pytest.fixture(scope="module")
def bins(tmp_path_factory) -> dict[str, Path]:
    if gcc is None:
        pytest.skip("gcc is not installed: cannot build test binaries")
    tmp = tmp_path_factory.mktemp("cli")
    src = tmp / "p.c"
    src.write_text("#include <stdio.h>\n#include <unistd.h>\n#include <sys/syscall.h>\n"
                   "int main(void){printf(\"%ld\\n\", syscall(SYS_gettid)); return 0;}\n")
    linux = tmp / "linux"
    subprocess.run([gcc, "-O1", "-o", str(linux), str(src)], check=True)
    data = bytearray(linux.read_bytes())
    pos = data.find(GNU_TAG)
    data[pos:pos + 32] = struct.pack("<III", 8, 12, 1) + b"FreeBSD\0" + struct.pack("<III", 1400097, 0, 0)
    data[7] = 9
    fbsd = tmp / "freebsd"
    fbsd.write_bytes(bytes(data))
    fbsd.chmod(0o755)
    return {"linux": linux, "freebsd": fbsd, "tmp": tmp}


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_linux_binary(bins, capsys):
    code, out, err = _run(capsys, "inspect", str(bins["linux"]), "--shim", "native", "--shim", "none",
                          "--native-host", "linux-x86_64", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"] == {"inspected": 1, "errors": 0, "skipped_not_elf": 0}
    f = doc["files"][0]
    assert f["identity"]["abi"] == "linux-x86_64" and f["identity"]["linkage"] == "dynamic"
    calls = f["predicted"]["syscalls"]
    assert any(o["kind"] == "syscall()" for o in calls["gettid"]["origins"])
    assert any(o["kind"] == "import" and "printf" in o["from"] for o in calls["write"]["origins"])
    verdicts = {v["shim"]: v for v in f["verdicts"]}
    assert verdicts["native"]["status"] == "runs"
    assert verdicts["none"]["status"] == "runs"          # a Linux binary on a Linux host needs no layer


def test_freebsd_binary_cannot_run_on_linux(bins, capsys):
    code, out, _ = _run(capsys, "inspect", str(bins["freebsd"]), "--shim", "native", "--shim", "linuxulator",
                        "--native-host", "linux-x86_64", "--json")
    assert code == 0
    f = json.loads(out)["files"][0]
    assert f["identity"]["abi"] == "freebsd-amd64"
    for v in f["verdicts"]:
        assert v["status"] == "cannot run"
        assert "no layer for this ABI" in v["reason"]


def test_text_output_names_evidence_and_verdict(bins, capsys):
    code, out, _ = _run(capsys, "inspect", str(bins["freebsd"]), "--shim", "native", "--native-host", "linux-x86_64")
    assert code == 0
    assert "freebsd-amd64 (decided by FreeBSD ABI tag note" in out
    assert "cannot run: no layer for this ABI" in out


def test_linux_binary_under_a_real_layer(bins, capsys):
    code, out, _ = _run(capsys, "inspect", str(bins["linux"]), "--shim", "linuxulator", "--json")
    assert code == 0
    v = json.loads(out)["files"][0]["verdicts"][0]
    assert v["guest"] == "linux-x86_64" and v["status"] in ("runs", "degraded", "fails")
    for c in v["calls"]:
        assert c["from"], c     # every flagged call says where it came from


def test_directory_walk(bins, capsys, tmp_path):
    d = tmp_path / "tree"
    (d / "sub").mkdir(parents=True)
    shutil.copy(bins["linux"], d / "sub" / "prog")
    (d / "README").write_text("not a binary\n")
    (d / "broken").write_bytes(b"\x7fELF\x02\x01\x01")
    os.symlink(d / "loop2", d / "loop1")
    os.symlink(d / "loop1", d / "loop2")
    code, out, err = _run(capsys, "inspect", str(d), "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["summary"]["inspected"] == 1 and doc["summary"]["skipped_not_elf"] == 1
    assert [e["path"] for e in doc["errors"]] == [str(d / "broken")]
    assert "Traceback" not in err


def test_no_readable_file_exits_2(capsys, tmp_path):
    p = tmp_path / "x"
    p.write_text("hello")
    code, out, err = _run(capsys, "inspect", str(p))
    assert code == 2 and err.strip().count("\n") == 0 and "not an ELF file" in err


def test_unknown_shim_suggests(bins, capsys):
    code, _, err = _run(capsys, "inspect", str(bins["linux"]), "--shim", "linuxulatr")
    assert code == 2 and "linuxulator" in err


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        main(["inspect", "--help"])
    assert info.value.code == 0
    assert "examples:" in capsys.readouterr().out


def test_no_libraries_and_origins(bins, capsys):
    code, out, _ = _run(capsys, "inspect", str(bins["linux"]), "--no-libraries", "--json")
    assert code == 0
    f = json.loads(out)["files"][0]
    assert f["predicted"]["libraries"] == []
    code, out, _ = _run(capsys, "inspect", str(bins["linux"]), "--origins", "2")
    assert code == 0
    gettid = [line for line in out.splitlines() if line.strip().startswith("gettid ")]
    assert gettid and "call to syscall(2)" in gettid[0]
    code, out, _ = _run(capsys, "inspect", str(bins["linux"]), "--origins", "0")
    assert not [line for line in out.splitlines() if line.strip().startswith("gettid ")]


def test_bad_option_values(bins, capsys):
    assert _run(capsys, "inspect", str(bins["linux"]), "--origins", "-1")[0] == 2
    assert _run(capsys, "inspect", str(bins["linux"]), "--timeout", "0")[0] == 2


def test_library_closure_is_listed(bins, capsys):
    code, out, _ = _run(capsys, "inspect", str(bins["linux"]), "--json")
    libs = json.loads(out)["files"][0]["predicted"]["libraries"]
    assert any(lib["soname"] == "libc.so.6" and lib["glibc"] for lib in libs)


def test_fail_on(bins, capsys):
    args = ["inspect", str(bins["freebsd"]), "--shim", "native", "--native-host", "linux-x86_64", "--brief"]
    assert _run(capsys, *args, "--fail-on", "cannot-run")[0] == 1
    assert _run(capsys, *args)[0] == 0
    ok = ["inspect", str(bins["linux"]), "--shim", "vm", "--brief"]
    assert _run(capsys, *ok, "--fail-on", "degraded")[0] == 0


def test_progress_bar_on_a_terminal_keeps_results_on_stdout(bins, tmp_path):
    """stderr a terminal, stdout a file: the bar goes to the terminal, the results to the file."""
    import pty
    import sys
    master, slave = pty.openpty()
    out = tmp_path / "out.txt"
    env = {**os.environ, "COLUMNS": "100"}
    with open(out, "w") as fh:
        proc = subprocess.run([sys.executable, "-m", "shimsim", "inspect", str(bins["linux"]), str(bins["freebsd"]),
                               "--brief"], stdout=fh, stderr=slave, env=env, timeout=120)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    term = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "inspect" in term and "2/2" in term          # the bar counted both files
    text = out.read_text()
    assert "linux-x86_64" in text and "freebsd-amd64" in text and "2 file(s) inspected" in text
