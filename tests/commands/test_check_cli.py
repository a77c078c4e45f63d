# SPDX-License-Identifier: MIT
"""``shimsim check``: a deliberately broken spec is caught with its
counterexample, a sound one passes, --json is one object, bad input exits 2."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from shimsim import cli

HEAD = """# SPDX-License-Identifier: MIT
[shim]
name = "my-layer"
guest = "linux-x86_64"
host = "freebsd-amd64"
provenance = ["tests: a user's layer"]
default = "fail"

[syscalls]
open = { do = "translate" }
openat = { do = "translate" }
read = { do = "translate" }
close = { do = "translate" }
"""
# O_APPEND is sent to the host's O_NONBLOCK: it comes back as O_NONBLOCK, and nothing says so.
BROKEN = HEAD + """
[flags.open_flags]
O_APPEND = { to = "O_NONBLOCK" }
"""
DECLARED = HEAD + """
[flags.open_flags]
O_APPEND = { to = "O_NONBLOCK", lossy = "this layer has no append mode: writes go where the offset is" }
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["check", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    p = tmp_path / "my-layer.toml"
    p.write_text(BROKEN)
    return p


def test_broken_spec_is_falsified_with_its_counterexample_as_trace_text(capsys, broken: Path) -> None:
    code, out, _ = run(capsys, str(broken), "--json", "--max-examples", "10", "--seed", "7")
    assert code == 1
    doc = json.loads(out)                    # ONE JSON object
    props = {p["name"]: p for p in doc["properties"]}
    fr = props["flag-roundtrip"]
    assert fr["status"] == "falsified"
    assert "O_APPEND" in fr["message"] and "declared lossy" in fr["message"]
    # the shrunk counterexample: one call carrying just the lossy member, as strace prints it
    assert fr["counterexample"].startswith("[pid  1000] open(")
    assert "O_APPEND" in fr["counterexample"] and fr["counterexample"].count("\n") == 1
    assert doc["falsified"] >= 1 and doc["passed"] + doc["falsified"] + doc["errors"] == len(doc["properties"])
    assert doc["seed"] == 7 and doc["max_examples"] == 10
    for p in doc["properties"]:
        assert set(p) == {"name", "status", "counterexample", "message"}
        assert p["status"] in ("passed", "falsified", "error")
        assert p["status"] != "error", p


def test_broken_spec_text_report_shows_the_counterexample(capsys, broken: Path) -> None:
    code, out, err = run(capsys, str(broken), "--property", "flag-roundtrip", "--seed", "1")
    assert code == 1
    assert "FALSIFIED: flag-roundtrip" in out
    assert "counterexample:" in out and "open(" in out and "O_APPEND" in out
    assert "0 passed, 1 falsified, 0 errors" in out and "--seed 1" in out
    assert "flag-roundtrip" in err               # progress goes to stderr


def test_declaring_the_loss_makes_the_flag_law_pass(capsys, tmp_path: Path) -> None:
    p = tmp_path / "ok.toml"
    p.write_text(DECLARED)
    code, out, _ = run(capsys, str(p), "--property", "flag-roundtrip", "--json", "--max-examples", "20")
    assert code == 0
    doc = json.loads(out)
    assert doc["properties"][0]["status"] == "passed" and doc["falsified"] == 0


def test_shipped_shim_by_name(capsys) -> None:
    code, out, _ = run(capsys, "gvisor", "--json", "--max-examples", "5", "--seed", "3")
    doc = json.loads(out)
    assert code == 0, [p for p in doc["properties"] if p["status"] != "passed"]
    assert doc["falsified"] == 0 and doc["errors"] == 0
    assert doc["spec"] == "gvisor" and doc["guest"] == "linux-x86_64"
    names = [p["name"] for p in doc["properties"]]
    assert "roundtrip-strace" in names and "c-python-agree" in names and "flag-roundtrip" not in names


def test_same_seed_same_result(capsys, broken: Path) -> None:
    a = json.loads(run(capsys, str(broken), "--json", "--max-examples", "5", "--seed", "11")[1])
    b = json.loads(run(capsys, str(broken), "--json", "--max-examples", "5", "--seed", "11")[1])
    assert a == b


@pytest.mark.parametrize("argv, needle", [
    (["nosuch-shim"], "unknown shim"),
    (["/nonexistent/layer.toml"], "no such file"),
    (["native", "--property", "flag-round-trip"], "unknown property"),
    (["native", "--max-examples", "0"], "--max-examples"),
])
def test_bad_input_exits_2_with_one_line(capsys, argv: list[str], needle: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert needle in err and err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_spec_that_does_not_compile_exits_2_naming_file_and_line(capsys, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(HEAD + 'frobnicate = { do = "translate" }\n')
    code, _, err = run(capsys, str(p))
    assert code == 2
    assert f"{p}:14:" in err and "frobnicate" in err


def test_bad_toml_exits_2(capsys, tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[shim\nname = 1\n")
    code, _, err = run(capsys, str(p))
    assert code == 2 and f"{p}:1" in err


def test_help_has_examples(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["check", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "shimsim check linuxulator" in out and "--seed" in out and "exit status" in out
