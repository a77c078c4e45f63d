# SPDX-License-Identifier: MIT
"""i386 Linux binaries (issue 16): an x86-64 Linux host runs them itself (abis.toml native_guests:
ia32 emulation) and the Linuxulator runs them through its linux32 variant (the linuxulator spec's
`variants`), for `inspect` of a real i386 ELF and replay of its strace."""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from shimsim import shim, tables
from shimsim.elf import verdict as _verdict
from shimsim.errors import InputError, ShimsimError

FIX = Path(__file__).resolve().parent.parent / "fixtures"
ELF = FIX / "elf" / "hello-i386"
TRACE = FIX / "replay" / "hello_i386.strace"
ROOT = Path(__file__).resolve().parent.parent.parent


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True, check=False)


def test_inspect_i386_elf_under_native_and_linuxulator() -> None:
    r = cli("inspect", str(ELF), "--shim", "native", "--shim", "linuxulator", "--shim",
            "linuxulator@freebsd-14.3", "--shim", "gvisor", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    v = {x["shim"]: x for x in d["files"][0]["verdicts"]}
    assert v["native"]["guest"] == "linux-i386" and v["native"]["status"] == "runs"
    assert v["linuxulator-linux32"]["guest"] == "linux-i386" and v["linuxulator-linux32"]["host"] == "freebsd-amd64"
    assert v["linuxulator-linux32"]["status"] == "runs"
    assert v["linuxulator-linux32@freebsd-14.3"]["status"] == "runs"
    # gVisor runs 64-bit binaries only
    assert v["gvisor"]["status"] == "cannot run" and "linux-i386 binary" in v["gvisor"]["reason"]


def test_native_i386_only_where_the_host_kernel_runs_it() -> None:
    assert "linux-i386" in tables.facts("linux-x86_64").native_guests
    assert tables.facts("linux-aarch64").native_guests == ()
    assert _verdict._runs_natively("linux-i386", "linux-x86_64")
    assert not _verdict._runs_natively("linux-i386", "linux-aarch64")
    assert not _verdict._runs_natively("linux-x86_64", "linux-i386")


def test_replay_i386_trace_through_linux32() -> None:
    r = cli("replay", str(TRACE), "--abi", "linux-i386", "--shim", "linuxulator", "--json")
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["shim"] == "linuxulator-linux32" and d["guest"] == "linux-i386" and d["host"] == "freebsd-amd64"
    r = cli("replay", str(TRACE), "--abi", "linux-i386", "--shim", "native")
    assert r.returncode == 0 and "would run" in r.stdout
    # a layer without an i386 variant still refuses the trace, naming both ABIs
    r = cli("replay", str(TRACE), "--abi", "linux-i386", "--shim", "gvisor")
    assert r.returncode == 2 and "linux-i386" in r.stderr and "linux-x86_64" in r.stderr
    assert "Traceback" not in r.stderr


def test_linux32_rules_say_how_they_were_modelled() -> None:
    for name in ("linuxulator-linux32", "linuxulator-linux32@freebsd-14.3"):
        spec = shim.load_spec(name)
        assert spec.guest == "linux-i386" and spec.host == "freebsd-amd64"
        for call, rule in spec.rules.items():
            assert rule.note.startswith(("as amd64", "assumed served by", "derive baseline")), (call, rule.note)
        # the shared handlers: same rows as amd64 where the name is the same
        assert spec.rules["rseq"].do == "fail" and spec.rules["rseq"].errno == "ENOSYS"
        assert spec.rules["stat64"].note.startswith("assumed served by the stat handler")
        assert spec.rules["socketcall"].do == "emulate"
    new, old = shim.load_spec("linuxulator-linux32"), shim.load_spec("linuxulator-linux32@freebsd-14.3")
    assert new.rules["inotify_add_watch"].do == "emulate" and old.rules["inotify_add_watch"].do == "fail"


def test_generated_linux32_specs_are_current() -> None:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_linux32
    finally:
        sys.path.pop(0)
    for src, out in gen_linux32.RELEASES.items():
        assert (ROOT / "tables" / "shims" / f"{out}.toml").read_text(encoding="utf-8") == \
            gen_linux32.generate(src, out), f"rerun tools/gen_linux32.py ({out})"
        assert shim.load_spec(src).variants["linux-i386"] == out


def test_bad_variant_is_an_error_naming_the_spec(tmp_path: Path) -> None:
    text = (ROOT / "tables" / "shims" / "linuxulator.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace('variants = { "linux-i386" = "linuxulator-linux32" }',
                                'variants = { "linux-i386" = "gvisor" }'), encoding="utf-8")
    spec = shim.load_spec(str(bad))
    with pytest.raises(InputError) as exc:
        shim.for_guest(spec, "linux-i386")
    assert "bad.toml" in str(exc.value) and "gvisor" in str(exc.value) and "linux-x86_64" in str(exc.value)
    bad.write_text(text.replace('variants = { "linux-i386" = "linuxulator-linux32" }',
                                'variants = { "linux-i386" = 3 }'), encoding="utf-8")
    with pytest.raises(InputError) as exc:
        shim.load_spec(str(bad))
    assert exc.value.line == 1 + next(i for i, line in enumerate(text.splitlines()) if line.startswith("variants ="))


def test_bad_native_guests_is_an_error_naming_abis_toml(tmp_path: Path) -> None:
    import shutil
    root = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", root)
    p = root / "abis.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('native_guests = ["linux-i386"]',
                                                       'native_guests = ["linux-i686"]'), encoding="utf-8")
    with pytest.raises(ShimsimError) as exc:
        tables.Tables(root).facts("linux-x86_64")
    assert "abis.toml" in str(exc.value) and "linux-i686" in str(exc.value)
    assert tomllib.loads((ROOT / "tables" / "abis.toml").read_text(encoding="utf-8"))
