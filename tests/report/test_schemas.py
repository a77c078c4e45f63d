# SPDX-License-Identifier: MIT
"""Every command's --json output validates against the JSON Schema shipped for it.

The outputs are real: each command runs on the test fixtures (record and probe
run real programs), and the schemas come from the installed package.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from shimsim import cli
from shimsim.report import schemas

FIX = Path(__file__).parents[1] / "fixtures"
TAIL = str(FIX / "replay" / "tail_f_inotify.strace")
LS = str(FIX / "replay" / "ls_plain.strace")
TRUSS = sorted((FIX / "truss_freebsd").glob("*.log"))

CASES = [
    ("abi", ["abi", "list"]),
    ("abi", ["abi", "list", "--classes"]),
    ("abi", ["abi", "show", "linux-x86_64", "openat"]),
    ("abi", ["abi", "const", "linux-x86_64", "list"]),
    ("abi", ["abi", "const", "freebsd-amd64", "open_flags"]),
    ("abi", ["abi", "const", "linux-x86_64", "open_flags", "O_CREAT"]),
    ("abi", ["abi", "const", "linux-x86_64", "open_flags", "--decode", "0x241"]),
    ("abi", ["abi", "check"]),
    ("abi", ["abi", "diff", "linux-x86_64", "freebsd-amd64"]),
    ("abi", ["abi", "diff", "linux-x86_64", "freebsd-amd64", "--family", "open_flags"]),
    ("parse", ["parse", TAIL]),
    ("parse", ["parse", LS, "--engine", "python"]),
    ("replay", ["replay", TAIL, "--shim", "linuxulator"]),
    ("replay", ["replay", LS, "--shim", "native", "--events", "5"]),
    ("replay", ["replay", LS, "--shim", "gvisor", "--engine", "python"]),
    ("shims", ["shims"]),
    ("derive", ["derive", "linux-x86_64", "freebsd-amd64"]),
    ("compat", ["compat", "linuxulator"]),
    ("compat", ["compat", "native", "--abi", "linux-aarch64"]),
    ("diff", ["diff", "--shim", "linuxulator", "--shim", "gvisor", TAIL]),
    ("diff", ["diff", "--shim", "native", "--shim", "native", LS]),
    ("inspect", ["inspect", "/bin/true", "--no-libraries"]),
    ("check", ["check", "none", "--max-examples", "3", "--seed", "1"]),
]
if TRUSS:
    CASES.append(("replay", ["replay", str(TRUSS[0]), "--shim", "none"]))


def run_json(argv: list[str], capsys) -> tuple[int, dict]:
    rc = cli.main([*argv, "--json"])
    cap = capsys.readouterr()
    assert cap.out, f"exit {rc}, no output; stderr: {cap.err}"
    return rc, json.loads(cap.out)


def run_cli_json(argv: list[str]) -> tuple[int, dict]:
    """A real process (record and probe run programs whose output must not reach our stdout)."""
    cmd, *rest = argv      # --json before the '--' that starts the recorded command
    r = subprocess.run([sys.executable, "-m", "shimsim", cmd, "--json", *rest], capture_output=True, text=True)
    assert r.stdout, f"exit {r.returncode}, no output; stderr: {r.stderr}"
    return r.returncode, json.loads(r.stdout)


def validate(name: str, doc: dict) -> None:
    jsonschema.Draft202012Validator(schemas.load(name)).validate(doc)


def test_every_command_has_a_valid_schema() -> None:
    shipped = schemas.names()
    assert set(cli.COMMANDS) <= set(shipped), set(cli.COMMANDS) - set(shipped)
    for name in shipped:
        s = schemas.load(name)
        jsonschema.Draft202012Validator.check_schema(s)
        assert s["title"].startswith("shimsim ") and s["description"]
    assert {name for name, _ in CASES} | {"record", "probe"} >= set(cli.COMMANDS)


@pytest.mark.parametrize("name,argv", CASES, ids=lambda v: " ".join(Path(a).name for a in v) if isinstance(v, list) else v)
def test_real_output_validates(name: str, argv: list[str], capsys) -> None:
    rc, doc = run_json(argv, capsys)
    assert rc in (0, 1)                       # 1: a property falsified (check) is still a report
    validate(name, doc)


def test_schema_rejects_a_wrong_document(capsys) -> None:
    _rc, doc = run_json(["replay", TAIL, "--shim", "linuxulator"], capsys)
    doc["outcomes"]["failed"] = "two"
    with pytest.raises(jsonschema.ValidationError):
        validate("replay", doc)
    del doc["verdict"]
    doc["outcomes"]["failed"] = 2
    with pytest.raises(jsonschema.ValidationError):
        validate("replay", doc)


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_record_output_validates(tmp_path: Path) -> None:
    rc, doc = run_cli_json(["record", "--shim", "linuxulator", "-q", "-o", str(tmp_path / "t.strace"),
                            "--", "true"])
    assert rc == 0
    validate("record", doc)
    assert doc["recording"]["command"] == ["true"] and doc["recording"]["exit_status"] == 0


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_probe_output_validates() -> None:
    rc, doc = run_cli_json(["probe", "--shim", "gvisor", "--", "true"])
    assert rc == 0
    validate("probe", doc)
