# SPDX-License-Identifier: MIT
"""Broken and hostile files: one clear error, no traceback, bounded time.

Each case is built here from a small valid ELF (or from nothing), so the
suite needs no fixtures.  "Bounded" is checked by the reader's own budget
and caps (the inspection is given a short budget and must end with either
a result or an ElfReadError), never by timing the test.
"""
from __future__ import annotations

import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim.elf import ElfReadError, inspect_path
from shimsim.elf.reader import MAX_NOTES, parse_notes


def _minimal_elf64(phnum: int = 0, shnum: int = 0, shoff: int = 0, phoff: int = 64) -> bytearray:
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    hdr = struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, phoff if phnum else 0, shoff, 0, 64, 56,
                      phnum, 64, shnum, 0)
    return bytearray(ident + hdr)


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    """A real binary to corrupt: gcc output when available, else /bin/true."""
    tmp = tmp_path_factory.mktemp("malformed")
    gcc = shutil.which("gcc")
    if gcc:
        src = tmp / "t.c"
        src.write_text("int main(void){return 0;}\n")
        out = tmp / "good"
        if subprocess.run([gcc, "-o", str(out), str(src)], capture_output=True).returncode == 0:
            return out
    for cand in ("/bin/true", "/usr/bin/true"):
        if os.path.exists(cand):
            return Path(cand)
    pytest.skip("no ELF binary to corrupt (no gcc, no /bin/true)")


def _expect_error(path: Path, fragment: str) -> str:
    with pytest.raises(ElfReadError) as info:
        inspect_path(str(path), seconds=20)
    msg = str(info.value)
    assert "\n" not in msg and fragment in msg, msg
    return msg


def test_zero_length(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    _expect_error(p, "empty file")


def test_not_elf(tmp_path):
    p = tmp_path / "script"
    p.write_text("#!/bin/sh\necho hi\n")
    _expect_error(p, "not an ELF file")


def test_directory(tmp_path):
    _expect_error(tmp_path, "is a directory")


def test_missing(tmp_path):
    _expect_error(tmp_path / "nope", "cannot stat")


def test_symlink_loop(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    os.symlink(b, a)
    os.symlink(a, b)
    msg = _expect_error(a, "cannot stat")
    assert "symbolic links" in msg or "loop" in msg.lower()


@pytest.mark.parametrize("n", [4, 5, 16, 20, 40, 63])
def test_truncated_header(tmp_path, good, n):
    p = tmp_path / f"trunc{n}"
    p.write_bytes(good.read_bytes()[:n])
    with pytest.raises(ElfReadError) as info:
        inspect_path(str(p))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("frac", [0.05, 0.3, 0.6, 0.95])
def test_truncated_body(tmp_path, good, frac):
    data = good.read_bytes()
    p = tmp_path / "body"
    p.write_bytes(data[:int(len(data) * frac)])
    with pytest.raises(ElfReadError) as info:
        inspect_path(str(p))
    assert "past end of file" in str(info.value) or "corrupt" in str(info.value)


def test_bad_class_and_data(tmp_path, good):
    data = bytearray(good.read_bytes())
    data[4] = 7
    p = tmp_path / "cls"
    p.write_bytes(bytes(data))
    _expect_error(p, "bad EI_CLASS 7")
    data[4], data[5] = 2, 9
    p.write_bytes(bytes(data))
    _expect_error(p, "bad EI_DATA 9")


def test_huge_section_count(tmp_path):
    p = tmp_path / "many-sections"
    p.write_bytes(bytes(_minimal_elf64(shnum=65535, shoff=64)) + bytes(128))
    _expect_error(p, "section headers run past end of file")


def test_huge_program_header_count(tmp_path):
    p = tmp_path / "many-ph"
    p.write_bytes(bytes(_minimal_elf64(phnum=65535)) + bytes(56))
    _expect_error(p, "too many program headers")


def test_extended_section_count_in_section_zero(tmp_path):
    """e_shnum 0 with the real count (huge) in section 0's sh_size."""
    data = _minimal_elf64(shnum=0, shoff=64)
    sh0 = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 10**9, 0, 0, 0, 0)
    p = tmp_path / "xnum"
    p.write_bytes(bytes(data) + sh0)
    _expect_error(p, "too many sections")


def _note_segment_elf(note: bytes) -> bytes:
    data = _minimal_elf64(phnum=1)
    off = 64 + 56
    ph = struct.pack("<IIQQQQQQ", 4, 4, off, 0, 0, len(note), len(note), 4)   # PT_NOTE
    return bytes(data) + ph + note


def test_looping_and_oversized_notes(tmp_path):
    # thousands of empty notes: the walk stops at the cap
    empties = struct.pack("<III", 0, 0, 1) * 10000
    p = tmp_path / "loop-notes"
    p.write_bytes(_note_segment_elf(empties))
    ins = inspect_path(str(p))
    assert any(f"more than {MAX_NOTES} notes" in w for w in ins.warnings)
    # a note claiming 4 GiB of descriptor
    huge = struct.pack("<III", 4, 0xFFFFFFFF, 1) + b"GNU\0"
    p2 = tmp_path / "huge-note"
    p2.write_bytes(_note_segment_elf(huge))
    ins2 = inspect_path(str(p2))
    assert any("claims" in w for w in ins2.warnings)


def test_note_walk_always_advances():
    notes, warns = parse_notes(struct.pack("<III", 0, 0, 0) * 50, True, "x")
    assert len(notes) == 50 and not warns


def test_segment_offsets_past_eof(tmp_path):
    data = _minimal_elf64(phnum=1)
    ph = struct.pack("<IIQQQQQQ", 3, 4, 1 << 40, 0, 0, 1 << 40, 1 << 40, 1)   # PT_INTERP far away
    p = tmp_path / "far-interp"
    p.write_bytes(bytes(data) + ph)
    ins = inspect_path(str(p))
    assert ins.identity.interp is None


def test_random_bytes_with_magic(tmp_path):
    rng = random.Random(1234)
    print("seed 1234")
    for i in range(40):
        body = bytes(rng.getrandbits(8) for _ in range(rng.randrange(16, 4096)))
        p = tmp_path / f"rand{i}"
        p.write_bytes(b"\x7fELF" + bytes([rng.choice([1, 2]), rng.choice([1, 2])]) + body)
        try:
            inspect_path(str(p), seconds=10)
        except ElfReadError as exc:
            assert "\n" not in str(exc)


@settings(max_examples=150)
@given(st.data())
def test_mutated_real_binary(tmp_path_factory, good, data):
    """Flip bytes of a real header/table area: only results or ElfReadErrors come out."""
    blob = bytearray(good.read_bytes())
    for _ in range(data.draw(st.integers(1, 12))):
        pos = data.draw(st.integers(0, min(len(blob), 4096) - 1))
        blob[pos] = data.draw(st.integers(0, 255))
    tail = data.draw(st.sampled_from([len(blob), len(blob) // 2, len(blob) - 1]))
    p = tmp_path_factory.mktemp("mut") / "m"
    p.write_bytes(bytes(blob[:tail]))
    try:
        inspect_path(str(p), seconds=10)
    except ElfReadError as exc:
        assert "\n" not in str(exc)


def test_cli_mixed_good_and_bad(tmp_path, good):
    """One line per bad file on stderr, exit 0 while any file was read, 2 when none was."""
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x7fELF\x02\x01")
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    run = subprocess.run([sys.executable, "-m", "shimsim", "inspect", str(good), str(bad), str(empty),
                          "--brief"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    errs = [line for line in run.stderr.splitlines() if line]
    assert len(errs) == 2 and all(line.startswith("shimsim: ") for line in errs)
    assert "Traceback" not in run.stderr
    run2 = subprocess.run([sys.executable, "-m", "shimsim", "inspect", str(bad), str(empty)],
                          capture_output=True, text=True, timeout=120)
    assert run2.returncode == 2 and "Traceback" not in run2.stderr


@pytest.mark.parametrize("blob,fragment", [
    (b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(24), "Mach-O 64-bit"),
    (b"MZ\x90\x00" + bytes(60), "PE/COFF"),
    (b"!<arch>\n" + bytes(60), "ar archive"),
])
def test_other_binary_formats_are_named(tmp_path, blob, fragment):
    p = tmp_path / "other"
    p.write_bytes(blob)
    _expect_error(p, fragment)
