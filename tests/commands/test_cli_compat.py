# SPDX-License-Identifier: MIT
"""shimsim compat: support matrices generated from the shim tables."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

from shimsim import shim, tables


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True)


def test_json_has_every_guest_syscall_in_number_order() -> None:
    d = json.loads(cli("compat", "linuxulator", "--json").stdout)
    abi = tables.load_abi("linux-x86_64")
    assert [r["number"] for r in d["syscalls"]] == sorted(s.number for s in abi.syscalls)
    rows = {r["syscall"]: r for r in d["syscalls"]}
    assert rows["openat"]["outcome"] == "translated" and rows["openat"]["host_call"] == "openat"
    assert rows["inotify_init"]["outcome"] == "failed" and rows["inotify_init"]["note"].startswith("ENOSYS")
    assert rows["openat"]["source"].startswith("tables/shims/linuxulator.toml:")
    assert d["provenance"] and sum(d["counts"].values()) == len(d["syscalls"])


def test_source_line_is_the_rule() -> None:
    d = json.loads(cli("compat", "gvisor", "--output-format", "json").stdout)
    src = {r["syscall"]: r["source"] for r in d["syscalls"]}
    path, line = src["read"].rsplit(":", 1)
    text = (shim.shim_dir() / "gvisor.toml").read_text().splitlines()
    assert text[int(line) - 1].startswith("read = ")


def test_csv_and_markdown_agree_with_json() -> None:
    d = json.loads(cli("compat", "wsl1", "--json").stdout)
    rows = list(csv.DictReader(io.StringIO(cli("compat", "wsl1", "--output-format", "csv").stdout)))
    assert [r["syscall"] for r in rows] == [r["syscall"] for r in d["syscalls"]]
    assert list(rows[0]) == ["syscall", "number", "outcome", "host_call", "note", "source"]
    md = cli("compat", "wsl1").stdout
    assert md.startswith("# wsl1: linux-x86_64 on windows-nt-lxcore")
    table = [ln for ln in md.splitlines() if ln.startswith("| ") and not ln.startswith("| syscall")]
    assert len(table) == len(d["syscalls"])
    assert all(ln.count(" | ") - ln.count("\\| ") == 5 for ln in table)


def test_outcome_filter_and_any_abi_shims() -> None:
    d = json.loads(cli("compat", "wsl1", "--json", "--outcome", "failed").stdout)
    assert d["syscalls"] and {r["outcome"] for r in d["syscalls"]} == {"failed"}
    d = json.loads(cli("compat", "native", "--abi", "freebsd-amd64", "--json").stdout)
    assert d["guest"] == "freebsd-amd64" and {r["outcome"] for r in d["syscalls"]} == {"translated"}
    assert all(r["source"].endswith("(default)") for r in d["syscalls"])


@pytest.mark.parametrize("args,msg", [(["no-such-shim"], "no-such-shim"), (["gvisor", "--output-format", "xml"], "invalid choice"),
                                      (["gvisor", "--abi", "freebsd-amd64"], "models guest linux-x86_64 only"),
                                      (["native", "--abi", "nope"], "unknown ABI 'nope'")])
def test_bad_input(args: list[str], msg: str) -> None:
    r = cli("compat", *args)
    assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr


def test_markdown_escapes_cells() -> None:
    from shimsim.commands.compat import _md_cell
    assert _md_cell("a|b <x> & c\nd") == "a\\|b &lt;x&gt; &amp; c d"
