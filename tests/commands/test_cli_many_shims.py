# SPDX-License-Identifier: MIT
"""Several --shim options mean the same in replay and record as in inspect and
diff: one pass over the trace, one row (or JSON object) per layer; never only the last."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from shimsim.report import schemas

ROOT = Path(__file__).parents[2]
GIT = str(ROOT / "examples" / "git-commit.strace")
LS = str(ROOT / "tests" / "fixtures" / "replay" / "ls_plain.strace")


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True, input=stdin)


def test_replay_prints_one_row_per_layer() -> None:
    r = cli("replay", GIT, "--shim", "wsl1", "--shim", "linuxulator", "--shim", "gvisor", "-q")
    assert r.returncode == 0, r.stderr
    rows = {line.split()[0]: line for line in r.stdout.splitlines() if line.split()[:1]}
    for shim, host in (("wsl1", "windows-nt-lxcore"), ("linuxulator", "freebsd-amd64"), ("gvisor", "gvisor-sentry")):
        assert host in rows[shim] and "runs-emulated" in rows[shim], rows[shim]
    assert "3 layers" in r.stdout
    # the counts per outcome are those of a replay through that shim alone
    for shim in ("wsl1", "linuxulator", "gvisor"):
        alone = json.loads(cli("replay", GIT, "--shim", shim, "--json").stdout)
        counts = ", ".join(f"{n} {k}" for k, n in alone["outcomes"].items() if n)
        assert counts in rows[shim], (shim, counts, rows[shim])
        assert f"{shim}: {alone['verdict']['text']}" in r.stdout


def test_comma_separated_is_the_same_as_repeated_and_json_is_an_array() -> None:
    a = json.loads(cli("replay", LS, "--shim", "wsl1,illumos-lx", "--json").stdout)
    b = json.loads(cli("replay", LS, "--shim", "wsl1", "--shim", "illumos-lx", "--json").stdout)
    strip = lambda docs: [{k: v for k, v in d.items() if k != "engine"} for d in docs]  # noqa: E731
    assert isinstance(a, list) and [d["shim"] for d in a] == ["wsl1", "illumos-lx"]
    assert strip(a) == strip(b)
    jsonschema.Draft202012Validator(schemas.load("replay")).validate(a)
    one = json.loads(cli("replay", LS, "--shim", "illumos-lx", "--json").stdout)
    assert isinstance(one, dict)                 # one --shim: the object, as before
    assert strip([one]) == strip(a[1:])


def test_stdin_is_read_once_for_all_layers() -> None:
    text = Path(LS).read_text()
    docs = json.loads(cli("replay", "-", "--shim", "native,gvisor", "--json", stdin=text).stdout)
    assert [d["shim"] for d in docs] == ["native", "gvisor"]
    assert docs[0]["syscall_events"] == docs[1]["syscall_events"] > 100


def test_fail_on_holds_for_any_layer_and_names_it() -> None:
    r = cli("replay", GIT, "--shim", "native", "--shim", "disabled", "--shim", "none-freebsd",
            "--fail-on", "fatal", "-q")
    assert r.returncode == 1
    assert "--fail-on fatal (disabled, none-freebsd): condition holds" in r.stderr   # not native
    assert "breaks" in r.stdout and ":1: execve" in r.stdout     # the first fatal call in the row
    r = cli("replay", GIT, "--shim", "native,vm", "--fail-on", "fatal", "-q")
    assert r.returncode == 0 and r.stderr == ""


def test_one_layer_options_refuse_several_shims_instead_of_picking_one(tmp_path: Path) -> None:
    r = cli("replay", LS, "--shim", "native", "--shim", "gvisor", "--events", "5")
    assert r.returncode == 2 and "--events reports on one layer: give one --shim (got 2)" in r.stderr
    r = cli("replay", LS, "--shim", "native,gvisor", "--html", str(tmp_path / "r.html"))
    assert r.returncode == 2 and "--html reports on one layer" in r.stderr and "Traceback" not in r.stderr
    r = cli("replay", LS, "--shim", "native,,gvisor")
    assert r.returncode == 2 and "an empty name" in r.stderr
    r = cli("replay", LS, "--shim", "native", "--shim", "gvisr")
    assert r.returncode == 2 and "unknown shim 'gvisr'; did you mean gvisor" in r.stderr
    r = cli("probe", "--shim", "native", "--shim", "gvisor", "--", "true")
    assert r.returncode == 2 and "probe runs one layer" in r.stderr


def test_all_means_the_shims_for_the_traces_abi() -> None:
    docs = json.loads(cli("replay", LS, "--shim", "all", "--json").stdout)
    names = [d["shim"] for d in docs]
    assert {"native", "wsl1", "gvisor", "linuxulator"} <= set(names)
    assert all(d["guest"] == "linux-x86_64" for d in docs)
    assert "none-freebsd" not in names or docs[names.index("none-freebsd")]["guest"] == "linux-x86_64"


def test_diff_takes_comma_separated_shims_too() -> None:
    a = json.loads(cli("diff", "--shim", "wsl1,illumos-lx", LS, "--json").stdout)
    assert (a["a"]["name"], a["b"]["name"]) == ("wsl1", "illumos-lx")
    r = cli("diff", "--shim", "wsl1,illumos-lx,gvisor", LS)
    assert r.returncode == 2 and "exactly two --shim" in r.stderr and "one row per layer" in r.stderr


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace not installed")
def test_record_replays_the_one_recording_through_every_layer(tmp_path: Path) -> None:
    out = tmp_path / "t.strace"
    r = cli("record", "--shim", "wsl1", "--shim", "gvisor", "--json", "-o", str(out), "--", "true")
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert [d["shim"] for d in docs] == ["wsl1", "gvisor"]
    assert docs[0]["recording"] == docs[1]["recording"] and docs[0]["recording"]["command"] == ["true"]
    jsonschema.Draft202012Validator(schemas.load("record")).validate(docs)
    again = json.loads(cli("replay", str(out), "--shim", "wsl1,gvisor", "--json").stdout)
    assert [d["outcomes"] for d in again] == [d["outcomes"] for d in docs]
    r = cli("record", "--shim", "wsl1,gvisor", "--fail-on", "partial", "-q", "--", "true")
    assert r.returncode == 1 and "--fail-on partial (wsl1, gvisor)" in r.stderr
