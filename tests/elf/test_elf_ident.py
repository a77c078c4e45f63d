# SPDX-License-Identifier: MIT
"""Identification and raw syscall sites of binaries built here with gcc.

The branded binaries are gcc output patched the way the real toolchains
brand theirs: the GNU .note.ABI-tag rewritten in place into a FreeBSD,
NetBSD or OpenBSD ident note (same 32 bytes), EI_OSABI set, PT_INTERP
pointed at the BSD loader; and, for a relocatable object, a hand-built
note added with objcopy --add-section.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from shimsim.elf import inspect_path
from shimsim.elf.reader import read_elf

gcc = shutil.which("gcc")

SOURCE = r"""
#include <unistd.h>
#include <sys/syscall.h>
int main(void) {
    long r = syscall(SYS_getuid);          /* 102 through libc's syscall(2) */
    r += syscall(SYS_gettid);              /* 186 */
    long ret;
    __asm__ volatile ("mov $63, %%eax\n\tsyscall"   /* uname, inline */
                      : "=a"(ret) : "D"(0) : "rcx", "r11", "memory");
    return (int)(r + ret) & 1;
}
"""
GNU_TAG = struct.pack("<III", 4, 16, 1) + b"GNU\0"


def _build(tmp: Path, name: str, *flags: str, src: str = SOURCE) -> Path:
    c = tmp / f"{name}.c"
    c.write_text(src)
    out = tmp / name
    res = subprocess.run([gcc, "-O1", *flags, "-o", str(out), str(c)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"gcc {' '.join(flags)} failed here: {res.stderr.strip()[:200]}")
    return out


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    if gcc is None:
        pytest.skip("gcc is not installed: cannot build test binaries")
    tmp = tmp_path_factory.mktemp("elfbuild")
    return {"dyn": _build(tmp, "dyn"), "static": _build(tmp, "static", "-static"),
            "nopie": _build(tmp, "nopie", "-no-pie"), "tmp": tmp}


def _brand_note(owner: bytes, version: int) -> bytes:
    """A 32-byte ident note (same size as the GNU ABI tag it replaces)."""
    name = owner + b"\0"
    name += b"\0" * (-len(name) % 4)
    assert len(name) == 8
    return struct.pack("<III", len(owner) + 1, 12, 1) + name + struct.pack("<III", version, 0, 0)


def _patch(src: Path, dst: Path, *, osabi: int | None = None, owner: bytes | None = None,
           version: int = 0, interp: str | None = None) -> Path:
    data = bytearray(src.read_bytes())
    if osabi is not None:
        data[7] = osabi
    if owner is not None:
        pos = data.find(GNU_TAG)
        assert pos > 0, "gcc output has no GNU ABI tag to rewrite"
        data[pos:pos + 32] = _brand_note(owner, version)
    if interp is not None:
        old = b"/lib64/ld-linux-x86-64.so.2\0"
        pos = data.find(old)
        assert pos > 0
        new = interp.encode() + b"\0"
        data[pos:pos + len(old)] = new + b"\0" * (len(old) - len(new))
    dst.write_bytes(bytes(data))
    return dst


def test_dynamic_pie_linux(built):
    ins = inspect_path(str(built["dyn"]))
    i = ins.identity
    assert (i.elfclass, i.byte_order, i.machine_name) == (64, "little", "x86_64")
    assert i.abi == "linux-x86_64" and i.os == "linux"
    assert i.linkage == "dynamic" and i.pie and i.file_type == "PIE executable"
    assert i.interp == "/lib64/ld-linux-x86-64.so.2"
    assert "libc.so.6" in i.needed and i.libc == "glibc"
    assert i.decided_by.startswith(".note.ABI-tag: OS Linux")
    assert i.kernel_version and i.kernel_version.count(".") == 2


def test_nopie_and_static(built):
    i = inspect_path(str(built["nopie"])).identity
    assert i.linkage == "dynamic" and not i.pie and i.file_type == "executable"
    s = inspect_path(str(built["static"])).identity
    assert s.linkage == "static" and s.interp is None and s.needed == []
    assert s.abi == "linux-x86_64"


def _origins(ins, name):
    return [o.text for o in ins.prediction.syscalls.get(name, [])]


def test_dynamic_raw_numbers_found(built):
    ins = inspect_path(str(built["dyn"]))
    p = ins.prediction
    assert any("call to syscall(2)" in t and "main" in t for t in _origins(ins, "getuid"))
    assert any("call to syscall(2)" in t for t in _origins(ins, "gettid"))
    assert any(t.startswith("syscall at 0x") and "in main" in t for t in _origins(ins, "uname"))
    # the loader and start-up set of every dynamic glibc program is there
    for name in ("execve", "brk", "arch_prctl", "mmap", "access", "openat", "mprotect", "set_tid_address",
                 "set_robust_list", "rseq", "prlimit64", "exit_group"):
        assert name in p.syscalls, name
        assert p.syscalls[name][0].kind in ("loader", "startup")


def test_static_sites_cover_the_run(built):
    ins = inspect_path(str(built["static"]))
    p = ins.prediction
    assert p.sites > 20                      # libc's own wrappers are linked in
    assert any("call to syscall(2)" in t for t in _origins(ins, "getuid"))
    assert any(t.startswith("syscall at") for t in _origins(ins, "uname"))
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace not installed: static coverage not measured")
    log = built["tmp"] / "static.strace"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    subprocess.run([strace, "-f", "-qq", "-o", str(log), str(built["static"])], check=False, env=env)
    seen = _traced(log)
    assert seen and seen <= set(p.syscalls), sorted(seen - set(p.syscalls))


def _traced(path: Path) -> set[str]:
    import re
    out = set()
    for line in path.read_text().splitlines():
        m = re.match(r"^(?:\d+\s+)?(?:<\.\.\. )?([a-z_0-9]+)\(", line)
        if m:
            out.add(m.group(1))
    return out


@pytest.mark.parametrize("os_name,owner,osabi,interp,version", [
    ("freebsd", b"FreeBSD", 9, "/libexec/ld-elf.so.1", 1400097),
    ("netbsd", b"NetBSD", 2, "/usr/libexec/ld.elf_so", 1000000000),
    ("openbsd", b"OpenBSD", 12, "/usr/libexec/ld.so", 0),
])
def test_bsd_brand_note(built, os_name, owner, osabi, interp, version):
    tmp = built["tmp"]
    note_only = _patch(built["dyn"], tmp / f"{os_name}-note", owner=owner, version=version)
    i = inspect_path(str(note_only)).identity
    assert i.os == os_name and i.abi == f"{os_name}-amd64"
    assert i.decided_by.startswith(owner.decode())
    # still linked against glibc: the conflict is reported, not hidden
    assert any("libc.so.6" in c for c in i.conflicts)
    full = _patch(built["dyn"], tmp / f"{os_name}-full", owner=owner, version=version, osabi=osabi, interp=interp)
    j = inspect_path(str(full)).identity
    assert j.abi == f"{os_name}-amd64" and j.interp == interp
    sources = {e.source for e in j.evidence if e.os == os_name}
    assert {"note", "PT_INTERP"} <= sources
    if osabi != 0:
        assert "EI_OSABI" in sources
    if version:
        assert j.kernel_version == str(version)


def test_osabi_alone_decides_without_notes(built):
    tmp = built["tmp"]
    data = bytearray(built["static"].read_bytes())
    pos = data.find(GNU_TAG)
    assert pos > 0
    data[pos + 8:pos + 12] = struct.pack("<I", 99)   # no longer an ABI tag (type 99)
    data[7] = 9
    p = tmp / "osabi-freebsd"
    p.write_bytes(bytes(data))
    i = inspect_path(str(p)).identity
    assert i.abi == "freebsd-amd64" and i.decided_by == "EI_OSABI 9 (FreeBSD)"


def test_interp_alone_decides(built):
    tmp = built["tmp"]
    data = bytearray(_patch(built["dyn"], tmp / "x", interp="/usr/libexec/ld.elf_so").read_bytes())
    pos = data.find(GNU_TAG)
    data[pos + 8:pos + 12] = struct.pack("<I", 99)
    p = tmp / "interp-netbsd"
    p.write_bytes(bytes(data))
    i = inspect_path(str(p)).identity
    assert i.abi == "netbsd-amd64" and i.decided_by == "PT_INTERP /usr/libexec/ld.elf_so"


def test_unbranded_static_is_assumed_linux_and_says_so(built):
    data = bytearray(built["static"].read_bytes())
    pos = data.find(GNU_TAG)
    data[pos + 8:pos + 12] = struct.pack("<I", 99)
    data[7] = 0                                      # static glibc output says GNU/Linux (IFUNCs)
    p = built["tmp"] / "unbranded"
    p.write_bytes(bytes(data))
    i = inspect_path(str(p)).identity
    assert i.abi == "linux-x86_64" and "assumed Linux" in i.decided_by


@pytest.mark.skipif(shutil.which("objcopy") is None, reason="objcopy (binutils) is not installed")
@pytest.mark.parametrize("owner,os_name", [(b"FreeBSD", "freebsd"), (b"NetBSD", "netbsd"), (b"OpenBSD", "openbsd")])
def test_note_added_with_objcopy_to_an_object(built, owner, os_name):
    tmp = built["tmp"]
    obj = tmp / f"obj-{os_name}.o"
    subprocess.run([gcc, "-c", "-o", str(obj), str(tmp / "dyn.c")], check=True)
    note = tmp / f"{os_name}.note"
    note.write_bytes(_brand_note(owner, 1))
    out = tmp / f"branded-{os_name}.o"
    subprocess.run(["objcopy", "--add-section", f".note.tag={note}", str(obj), str(out)], check=True)
    raw = read_elf(str(out))
    assert any(n.owner == owner.decode() and not n.in_segment for n in raw.notes)
    i = inspect_path(str(out)).identity
    assert i.file_type == "relocatable" and i.abi == f"{os_name}-amd64"
    assert "section only" in i.decided_by
    # the object's raw site is found, its number read in the branded ABI's own table
    from shimsim import tables
    name = tables.load_abi(i.abi).by_number[63].name
    assert inspect_path(str(out)).prediction.syscalls[name][0].text.startswith("syscall at 0x")


def test_section_only_note_does_not_override_a_segment_note(built):
    """A kernel reads PT_NOTE segments: an added non-loaded note is reported as a conflict."""
    if shutil.which("objcopy") is None:
        pytest.skip("objcopy (binutils) is not installed")
    tmp = built["tmp"]
    note = tmp / "fb.note"
    note.write_bytes(_brand_note(b"FreeBSD", 1400097))
    out = tmp / "dyn-plus-section"
    subprocess.run(["objcopy", "--add-section", f".note.tag={note}", str(built["dyn"]), str(out)], check=True)
    i = inspect_path(str(out)).identity
    assert i.abi == "linux-x86_64"
    assert any("FreeBSD" in c and "section only" in c for c in i.conflicts)


def test_i386_object_sites(built):
    tmp = built["tmp"]
    src = tmp / "i386.c"
    src.write_text("int f(void){int r; __asm__ volatile(\"mov $20, %%eax\\n\\tint $0x80\" : \"=a\"(r)); return r;}\n")
    obj = tmp / "i386.o"
    res = subprocess.run([gcc, "-m32", "-c", "-o", str(obj), str(src)], capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip("gcc -m32 unavailable here")
    ins = inspect_path(str(obj))
    assert ins.identity.abi == "linux-i386" and ins.identity.elfclass == 32
    assert "getpid" in ins.prediction.syscalls       # i386 number 20
    assert ins.prediction.syscalls["getpid"][0].text.startswith("int 0x80 at")


def _elf_with_code(machine: int, code: bytes, *, elfclass: int = 64, little: bool = True,
                   osabi: int = 0) -> bytes:
    """A minimal executable: ELF header, one PT_LOAD (R+X) holding ``code``."""
    e = "<" if little else ">"
    ident = b"\x7fELF" + bytes([2 if elfclass == 64 else 1, 1 if little else 2, 1, osabi]) + bytes(8)
    if elfclass == 64:
        ehsize, phsize = 64, 56
        off = ehsize + phsize
        hdr = struct.pack(e + "HHIQQQIHHHHHH", 2, machine, 1, 0x400000 + off, ehsize, 0, 0, ehsize, phsize, 1, 64, 0, 0)
        ph = struct.pack(e + "IIQQQQQQ", 1, 5, 0, 0x400000, 0x400000, off + len(code), off + len(code), 0x1000)
    else:
        ehsize, phsize = 52, 32
        off = ehsize + phsize
        hdr = struct.pack(e + "HHIIIIIHHHHHH", 2, machine, 1, 0x8048000 + off, ehsize, 0, 0, ehsize, phsize, 1, 40, 0, 0)
        ph = struct.pack(e + "IIIIIIII", 1, 0, 0x8048000, 0x8048000, off + len(code), off + len(code), 5, 0x1000)
    return ident + hdr + ph + code


def test_aarch64_svc_sites(tmp_path):
    """movz x8, #172 (getpid); svc #0 / movz w8, #64 (write) ... svc #0 / svc with w8 from a register."""
    def movz(reg_is_x: bool, imm: int) -> int:
        return (0xD2800008 if reg_is_x else 0x52800008) | (imm << 5)
    nop, svc = 0xD503201F, 0xD4000001
    mov_w8_w0 = 0x2A0003E8          # orr w8, wzr, w0
    words = [movz(True, 172), svc, movz(False, 64), nop, nop, svc, mov_w8_w0, svc]
    code = b"".join(struct.pack("<I", w) for w in words)
    p = tmp_path / "a64"
    p.write_bytes(_elf_with_code(183, code))
    ins = inspect_path(str(p))
    assert ins.identity.abi == "linux-aarch64" and ins.identity.linkage == "static"
    pred = ins.prediction
    assert pred.sites == 3 and pred.unknown_sites == 1
    assert pred.syscalls["getpid"][0].text.startswith("svc #0 at 0x")
    assert "number loaded a few instructions before" in pred.syscalls["write"][0].text


def test_i386_static_sites_and_vsyscall(tmp_path):
    code = (b"\xb8\x14\x00\x00\x00\xcd\x80"                       # mov eax, 20 (getpid); int 0x80
            b"\xb8\x04\x00\x00\x00\x65\xff\x15\x10\x00\x00\x00")   # mov eax, 4 (write); call *%gs:0x10
    p = tmp_path / "i386"
    p.write_bytes(_elf_with_code(3, code, elfclass=32))
    ins = inspect_path(str(p))
    assert ins.identity.abi == "linux-i386" and ins.identity.elfclass == 32
    assert ins.prediction.syscalls["getpid"][0].text.startswith("int 0x80 at 0x")
    assert ins.prediction.syscalls["write"][0].text.startswith("call *%gs:0x10 at 0x")


def test_big_endian_and_unknown_machine(tmp_path):
    p = tmp_path / "be"
    p.write_bytes(_elf_with_code(22, b"\x0a\x01" * 4, little=False, osabi=0))     # s390x
    i = inspect_path(str(p)).identity
    assert i.byte_order == "big" and i.machine_name == "s390x" and i.abi == "linux-s390x"


def test_script_is_named(tmp_path):
    from shimsim.elf import ElfReadError
    p = tmp_path / "s"
    p.write_text("#!/usr/bin/env python3\nprint()\n")
    with pytest.raises(ElfReadError, match="a script for /usr/bin/env"):
        inspect_path(str(p))


def test_aarch64_binary_verdicts(tmp_path):
    """A hand-made static aarch64 program: only its own sites are predicted (no glibc start-up),
    and the arm64 Linuxulator judges it while the amd64 one has no layer for it."""
    code = struct.pack("<II", 0xD2800008 | (172 << 5), 0xD4000001)       # getpid
    p = tmp_path / "a64"
    p.write_bytes(_elf_with_code(183, code))
    ins = inspect_path(str(p), ["linuxulator-arm64", "linuxulator"], host="linux-x86_64")
    assert ins.identity.libc is None and set(ins.prediction.syscalls) == {"getpid"}
    v = {x.shim: x for x in ins.verdicts}
    assert v["linuxulator-arm64"].status == "runs"
    assert v["linuxulator"].status == "cannot run" and "no layer for this ABI" in v["linuxulator"].reason


def test_illumos_interp_and_gnu_tag_os_field(built):
    tmp = built["tmp"]
    data = bytearray(_patch(built["dyn"], tmp / "y", interp="/usr/lib/amd64/ld.so.1").read_bytes())
    pos = data.find(GNU_TAG)
    data[pos + 8:pos + 12] = struct.pack("<I", 99)
    p = tmp / "illumos"
    p.write_bytes(bytes(data))
    assert inspect_path(str(p)).identity.abi == "illumos-amd64"
    # GNU ABI tag whose OS word says FreeBSD (GNU/kFreeBSD) or Solaris
    for word, abi in ((3, "freebsd-amd64"), (2, "illumos-amd64"), (0, "linux-x86_64")):
        data = bytearray(built["dyn"].read_bytes())
        pos = data.find(GNU_TAG)
        data[pos + 16:pos + 20] = struct.pack("<I", word)
        q = tmp / f"gnutag{word}"
        q.write_bytes(bytes(data))
        i = inspect_path(str(q)).identity
        assert i.abi == abi and i.decided_by.startswith(".note.ABI-tag: OS ")


def test_stripped_static_still_finds_syscall_calls(built):
    """Without .symtab, glibc's syscall(2) is recognised by its own code."""
    strip = shutil.which("strip")
    if strip is None:
        pytest.skip("strip (binutils) is not installed")
    out = built["tmp"] / "static-stripped"
    shutil.copy(built["static"], out)
    subprocess.run([strip, str(out)], check=True)
    ins = inspect_path(str(out))
    assert not read_elf(str(out)).local_functions
    assert any("call to syscall(2)" in t for t in _origins(ins, "getuid"))
    assert any("call to syscall(2)" in t for t in _origins(ins, "gettid"))
