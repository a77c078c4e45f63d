# SPDX-License-Identifier: MIT
"""The libc symbol -> syscalls table: shape, provenance, names, lookups."""
from __future__ import annotations

import re

import pytest

from shimsim import tables
from shimsim.elf.libc import load_table, parse_table, table_dir
from shimsim.elf.libpath import parse_ld_so_cache
from shimsim.errors import InputError

HEADER = "symbol,syscalls,kind,source,notes\n"


def test_table_loads_with_provenance_and_real_names():
    t = load_table("glibc-x86_64")
    assert len(t.rows) > 900
    known = set(tables.load_abi("linux-x86_64").by_name)
    for row in t.rows.values():
        for name in row.syscalls:
            assert name in known, f"{t.display}:{row.line}: {row.symbol} names unknown syscall {name}"
        for path in row.source.split():
            assert re.fullmatch(r"[A-Za-z0-9_./+-]+\.(c|S|h|list)", path), f"{t.display}:{row.line}: {path}"
    header = (table_dir() / "glibc-x86_64.csv").read_text()
    assert "c804cd1c00adde061ca51711f63068c103e94eef" in header      # glibc-2.36 commit named in the header


def test_pseudo_rows_present():
    t = load_table("glibc-x86_64")
    for key in ("@ld.so", "@start-dynamic", "@start-static", "@exit"):
        assert key in t.rows
    assert "access" in t.rows["@ld.so"].syscalls            # /etc/ld.so.preload
    assert t.rows["@exit"].syscalls == ("exit_group",)


@pytest.mark.parametrize("symbol,via", [
    ("__printf_chk", "__printf_chk"), ("__isoc99_sscanf", "__isoc99_sscanf"), ("fopen64", "fopen64"),
    ("__openat64_2", "__openat64_2"), ("__wprintf_chk", None), ("fputs_unlocked", "fputs_unlocked"),
    ("__readlinkat_chk", "__readlinkat_chk"), ("readdir64", "readdir64"), ("__pread64_chk", "__pread64_chk"),
    ("opendir@GLIBC_2.2.5", "opendir"), ("__getcwd_chk", "__getcwd_chk"),
])
def test_lookup_variants(symbol, via):
    hit = load_table("glibc-x86_64").lookup(symbol)
    if via is None:
        assert hit is None
    else:
        assert hit is not None and hit[1] == via


def test_lookup_falls_back_to_plain_function():
    t = load_table("glibc-x86_64")
    row, via = t.lookup("__vfwprintf_chk") or (None, None)
    assert row is None or via in ("vfwprintf", "__vfwprintf_chk")
    row2, via2 = t.lookup("__ftruncate64_chk") or (None, None)
    assert row2 is not None and via2 in ("ftruncate64", "ftruncate")


@pytest.mark.parametrize("body,fragment", [
    ("open,openat,direct,,x\n", "needs its source file"),
    ("open,openat,weird,a.c,x\n", "kind 'weird'"),
    ("open,,direct,a.c,x\n", "needs at least one syscall"),
    ("strlen,write,none,a.c,x\n", "kind none but syscalls listed"),
    ("open,openat,direct,a.c\n", "expected 5 columns"),
    ("open,openat,direct,a.c,x\nopen,openat,direct,a.c,x\n", "duplicate symbol open"),
    ("open,openatt,direct,a.c,x\n", "unknown syscall 'openatt'"),
])
def test_bad_rows_name_file_and_line(body, fragment):
    known = set(tables.load_abi("linux-x86_64").by_name)
    with pytest.raises(InputError) as info:
        parse_table("# c\n" + HEADER + body, "t.csv", "t", known)
    assert fragment in str(info.value) and str(info.value).startswith("t.csv:")


def test_bad_header():
    with pytest.raises(InputError, match="t.csv:1: header must be"):
        parse_table("a,b\n", "t.csv", "t")
    with pytest.raises(InputError, match="no header row"):
        parse_table("# only comments\n", "t.csv", "t")


def test_ld_so_cache_parser_handles_garbage():
    assert parse_ld_so_cache(b"") == []
    assert parse_ld_so_cache(b"glibc-ld.so.cache1.1" + b"\xff" * 8) == []
    import struct
    hdr = b"glibc-ld.so.cache1.1" + struct.pack("<II", 1, 0) + bytes(20)
    strings_at = len(hdr) + 24
    entry = struct.pack("<iIIIQ", 0x303, strings_at, strings_at + 8, 0, 0)
    blob = hdr + entry + b"libx.so\0/l/libx.so\0"
    assert parse_ld_so_cache(blob) == [("libx.so", "/l/libx.so")]


def _glibc_version() -> str | None:
    import ctypes
    try:
        fn = ctypes.CDLL("libc.so.6").gnu_get_libc_version
    except (OSError, AttributeError):
        return None
    fn.restype = ctypes.c_char_p
    return fn().decode()


def test_table_covers_the_installed_libc_sites():
    """Differential: every syscall the installed libc.so.6 issues inside an exported
    function (site scan) is listed for that function.  Only meaningful for the glibc
    release the table was made from."""
    import os
    from elftools.elf.elffile import ELFFile

    from shimsim.elf.reader import Budget, read_elf
    from shimsim.elf.sites import scan
    path = "/lib/x86_64-linux-gnu/libc.so.6"
    if _glibc_version() != "2.36" or not os.path.exists(path):
        pytest.skip(f"table made from glibc 2.36; this machine has {_glibc_version()}")
    raw = read_elf(path, Budget(120))
    names = {n: s.name for n, s in tables.load_abi("linux-x86_64").by_number.items()}
    with open(path, "rb") as fh:
        def rd(off, n):
            fh.seek(off)
            return fh.read(n)
        sites = [s for s in scan(raw, rd, Budget(120))[0] if s.number in names]
        spans = [(sym["st_value"], sym["st_size"], sym.name.split("@")[0])
                 for sym in ELFFile(fh).get_section_by_name(".dynsym").iter_symbols()
                 if sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC") and sym["st_size"]]
    t = load_table("glibc-x86_64")
    problems = []
    for start, size, sym in spans:
        inside = {names[s.number] for s in sites if start <= s.address < start + size}
        row = t.rows.get(sym)
        if inside and (row is None or not inside <= set(row.syscalls)):
            problems.append(f"{sym}: scan {sorted(inside)} table {row.syscalls if row else None}")
    assert not problems, problems[:10]


def test_aarch64_table_is_derived_with_generic_names():
    from shimsim.elf.libc import table_for_abi
    t = table_for_abi("linux-aarch64")
    known = set(tables.load_abi("linux-aarch64").by_name)
    used = {n for r in t.rows.values() for n in r.syscalls}
    assert used <= known, sorted(used - known)
    ld = t.rows["@ld.so"].syscalls
    assert "faccessat" in ld and "access" not in ld and "arch_prctl" not in ld
    assert t.rows["dup2"].syscalls == ("dup3",)
    assert t.rows["poll"].syscalls == ("ppoll",)
    assert t.rows["strlen"].kind == "none"
    assert table_for_abi("freebsd-amd64") is None


@pytest.mark.parametrize("body,fragment", [
    ("x86_64,aarch64,source,notes\naccess,faccessat,,x\n", "expected x86_64 name"),
    ("a,b\n", "header must be"),
    ("x86_64,aarch64,source,notes\naccess,faccessat,a.c,\naccess,faccessat,a.c,\n", "duplicate name access"),
])
def test_bad_equivalents(body, fragment):
    from shimsim.elf.libc import parse_equivalents
    with pytest.raises(InputError, match=fragment):
        parse_equivalents(body, "e.csv")
