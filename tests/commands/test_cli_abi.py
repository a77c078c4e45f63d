# SPDX-License-Identifier: MIT
"""`shimsim abi`: every subcommand, its JSON shape, and one-line errors with exit 2."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shimsim import tables
from shimsim.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    obj = json.loads(out)  # exactly one JSON document
    assert isinstance(obj, dict)
    return obj


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "abi", "list")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["abi", "os", "arch"]
    assert any(l.split()[0] == "freebsd-arm64" for l in lines[1:])
    assert any(l.split()[:3] == ["linux-riscv64", "linux", "riscv64"] for l in lines[1:])
    obj = run_json(capsys, "abi", "list")
    names = [a["name"] for a in obj["abis"]]
    assert names[0] == "linux-x86_64" and names == tables.list_abis()
    x86 = obj["abis"][0]
    assert x86["os"] == "linux" and x86["syscalls"] == x86["implemented"] + x86["obsolete"] + \
        x86["unimplemented"] + x86["reserved"]
    assert x86["signatures"] > 200


def test_list_classes(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "list", "--classes")
    assert {"file", "desc", "network", "process", "memory", "signal", "ipc", "time",
            "creds"} <= set(obj["classes"])
    assert "fd" in obj["arg_kinds"] and "flags" in obj["arg_kinds"]
    rc, out, _ = run(capsys, "abi", "list", "--classes")
    assert rc == 0 and "network" in out and "dirfd" in out


@pytest.mark.parametrize("abi,key,number", [
    ("linux-x86_64", "openat", 257), ("linux-aarch64", "56", 56), ("linux-i386", "openat", 295),
    ("freebsd-amd64", "openat", 499), ("freebsd-arm64", "499", 499), ("netbsd-amd64", "openat", 468),
    ("openbsd-amd64", "openat", 321), ("illumos-amd64", "openat", 68), ("darwin-x86_64", "openat", 463),
])
def test_show_json(capsys: pytest.CaptureFixture[str], abi: str, key: str, number: int) -> None:
    obj = run_json(capsys, "abi", "show", abi, key)
    assert obj["abi"] == abi and obj["name"] == "openat" and obj["number"] == number
    assert obj["args"] == [
        {"name": "dirfd", "kind": "dirfd", "family": "at_flags.dirfd"},
        {"name": "path", "kind": "path"},
        {"name": "flags", "kind": "flags", "family": "open_flags"},
        {"name": "mode", "kind": "mode", "family": "stat_mode"},
    ]
    assert obj["returns"] == "fd" and obj["status"] == "implemented"
    assert set(obj["classes"]) == {"desc", "file"}


def test_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run(capsys, "abi", "show", "linux-x86_64", "openat")
    assert rc == 0
    assert "openat = 257" in out
    assert "openat(dirfd: dirfd, path: path, flags: flags:open_flags, mode: mode) -> fd" in out


def test_show_slot_without_signature(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "show", "freebsd-amd64", "91")
    assert obj["status"] == "reserved" and obj["name"] == "" and obj["args"] is None
    rc, out, _ = run(capsys, "abi", "show", "freebsd-amd64", "91")
    assert rc == 0 and "#91 = 91" in out and "not recorded" in out


def test_const_one(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "const", "linux-aarch64", "open_flags", "O_DIRECTORY")
    assert obj == {"abi": "linux-aarch64", "family": "open_flags", "name": "O_DIRECTORY",
                   "value": 0x4000, "supported": True, "note": obj.get("note")}
    assert run_json(capsys, "abi", "const", "freebsd-amd64", "errno", "EAGAIN")["value"] == 35
    un = run_json(capsys, "abi", "const", "freebsd-amd64", "open_flags", "O_NOATIME")
    assert un["value"] is None and un["supported"] is False
    rc, out, _ = run(capsys, "abi", "const", "linux-x86_64", "open_flags", "O_CLOEXEC")
    assert rc == 0 and out.startswith("O_CLOEXEC = 0x80000")


def test_const_family(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "const", "linux-x86_64", "errno")
    assert obj["abi"] == "linux-x86_64" and obj["family"] == "errno" and obj["kind"] == "enum"
    by = {m["name"]: m for m in obj["members"]}
    assert by["ENOENT"]["value"] == 2 and "No such file" in by["ENOENT"]["note"]
    mm = run_json(capsys, "abi", "const", "linux-x86_64", "mmap")
    assert mm["kind"] == "set" and set(mm["groups"]) == {"mmap.prot", "mmap.flags"}
    rc, out, _ = run(capsys, "abi", "const", "linux-x86_64", "signals")
    assert rc == 0 and any(l.split()[:2] == ["SIGKILL", "9"] for l in out.splitlines())


def test_const_decode_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "const", "linux-x86_64", "open_flags", "--decode", "0x80241")
    assert obj["names"] == ["O_WRONLY", "O_CREAT", "O_TRUNC", "O_CLOEXEC"] and obj["unknown"] == 0
    rc, out, _ = run(capsys, "abi", "const", "freebsd-amd64", "open_flags", "--decode", "0x100000")
    assert rc == 0 and out.strip() == "O_RDONLY|O_CLOEXEC"
    fams = run_json(capsys, "abi", "const", "freebsd-amd64", "list")
    names = {f["family"] for f in fams["families"]}
    assert {"rfork", "kqueue", "kqueue.filter", "errno"} <= names and "epoll" not in names
    rc, _, err = run(capsys, "abi", "const", "linux-x86_64", "open_flags", "--decode", "zz")
    assert rc == 2 and "--decode expects an integer" in err


def test_const_translate(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "const", "linux-x86_64", "open_flags", "--decode", "0xc0241",
                   "--to", "freebsd-amd64")
    assert obj["to"] == {"abi": "freebsd-amd64", "value": 0x100601, "unsupported": ["O_NOATIME"],
                         "unknown": 0, "exact": False}
    rc, out, _ = run(capsys, "abi", "const", "linux-x86_64", "errno", "--decode", "11", "--to",
                     "freebsd-amd64")
    assert rc == 0 and out.strip() == "EAGAIN  ->  freebsd-amd64: 35"
    rc, _, err = run(capsys, "abi", "const", "linux-x86_64", "errno", "--to", "freebsd-amd64")
    assert rc == 2 and "--to needs --decode" in err


def test_diff_syscalls(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "diff", "linux-x86_64", "linux-aarch64")
    assert obj["a"] == "linux-x86_64" and obj["b"] == "linux-aarch64"
    only_a = {d["name"] for d in obj["only_a"]}
    assert {"open", "fork", "stat"} <= only_a
    differ = {d["name"]: d for d in obj["differ"]}
    assert differ["openat"]["a"] == 257 and differ["openat"]["b"] == 56
    same = run_json(capsys, "abi", "diff", "freebsd-amd64", "freebsd-arm64")
    assert same["only_a"] == same["only_b"] == same["differ"] == [] and same["same"] > 400
    rc, out, _ = run(capsys, "abi", "diff", "linux-x86_64", "linux-i386")
    assert rc == 0 and out.startswith("linux-x86_64 vs linux-i386:")


def test_diff_family(capsys: pytest.CaptureFixture[str]) -> None:
    obj = run_json(capsys, "abi", "diff", "linux-x86_64", "freebsd-amd64", "--family", "errno")
    assert obj["family"] == "errno"
    differ = {d["name"]: d for d in obj["differ"]}
    assert differ["EAGAIN"] == {"name": "EAGAIN", "a": 11, "b": 35}
    assert "ENOENT" not in differ
    arch = run_json(capsys, "abi", "diff", "linux-x86_64", "linux-aarch64", "--family", "open_flags")
    assert {d["name"] for d in arch["differ"]} >= {"O_DIRECTORY", "O_NOFOLLOW", "O_DIRECT"}


@pytest.mark.parametrize("argv,needle", [
    (["abi", "show", "linux-x86_6", "read"], "did you mean linux-x86_64"),
    (["abi", "show", "linux-x86_64", "opnat"], "did you mean openat"),
    (["abi", "show", "linux-x86_64", "9999"], "unknown linux-x86_64 syscall number '9999'"),
    (["abi", "const", "linux-x86_64", "open_flag"], "did you mean open_flags"),
    (["abi", "const", "linux-x86_64", "errno", "ENOENTT"], "did you mean ENOENT"),
    (["abi", "const", "freebsd-amd64", "clone"], "unknown family on freebsd 'clone'"),
    (["abi", "diff", "linux-x86_64", "freebsd-amd6"], "did you mean freebsd-amd64"),
    (["abi", "diff", "linux-x86_64", "freebsd-amd64", "--family", "epoll"], "unknown family"),
])
def test_errors_exit_2_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("shimsim: error: ")
    assert needle in err


def test_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["abi", "show", "linux-x86_64"])
    assert exc.value.code == 2


def test_module_entry_point_plain_when_piped() -> None:
    proc = subprocess.run([sys.executable, "-m", "shimsim", "abi", "const", "linux-x86_64",
                           "errno", "EAGAIN"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("EAGAIN = 11")
    assert "\x1b[" not in proc.stdout  # no terminal escapes when piped


def test_check(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    obj = run_json(capsys, "abi", "check")
    n = len(tables.list_abis())
    assert obj["ok"] is True and obj["abis"] == n and obj["signatures"] > 1500
    rc, out, _ = run(capsys, "abi", "check")
    assert rc == 0 and f": ok: {n} ABIs" in out
    # a broken copy names the file and line, exit 2
    import shutil
    from shimsim.tables import Tables
    root = tmp_path / "tables"
    shutil.copytree(Tables().root, root, ignore=shutil.ignore_patterns("shims", "fallbacks*", "*.py"))
    p = root / "syscalls" / "linux-x86_64.csv"
    p.write_text(p.read_text().replace("\n1,write,", "\n0,write,"))
    rc, out, err = run(capsys, "abi", "check", "--root", str(root))
    assert rc == 2 and out == ""
    assert "syscalls/linux-x86_64.csv:" in err and "duplicate number 0" in err
    rc, _, err = run(capsys, "abi", "check", "--root", str(tmp_path))
    assert rc == 2 and "not a table directory" in err
