# SPDX-License-Identifier: MIT
"""Which OS and ABI an ELF file is built for, and the evidence that says so.

Kernels decide this from the file alone, in roughly this order: an OS
brand note (FreeBSD/NetBSD/OpenBSD notes, GNU's .note.ABI-tag), then
EI_OSABI, then the program interpreter path.  The same order is used
here, and every piece of evidence is kept so that a conflict is visible.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from shimsim import tables
from shimsim.elf.reader import ET_DYN, ET_EXEC, ET_REL, RawElf

# e_machine -> (Linux arch name, BSD/illumos arch name)
MACHINES = {
    3: ("i386", "i386"), 62: ("x86_64", "amd64"), 183: ("aarch64", "arm64"),
    40: ("arm", "arm"), 8: ("mips", "mips"), 20: ("ppc", "powerpc"), 21: ("ppc64", "powerpc64"),
    22: ("s390x", "s390x"), 43: ("sparc64", "sparc64"), 243: ("riscv64", "riscv64"),
    258: ("loongarch64", "loongarch64"),
}
OSABI = {0: "SYSV", 1: "HP-UX", 2: "NetBSD", 3: "GNU/Linux", 6: "Solaris", 7: "AIX", 8: "IRIX",
         9: "FreeBSD", 10: "Tru64", 11: "Modesto", 12: "OpenBSD", 13: "OpenVMS", 97: "ARM",
         255: "standalone"}
OSABI_OS = {2: "netbsd", 3: "linux", 6: "illumos", 9: "freebsd", 12: "openbsd"}
GNU_ABI_OS = {0: "linux", 1: "hurd", 2: "illumos", 3: "freebsd"}   # NT_GNU_ABI_TAG word 0
GNU_ABI_NAMES = {0: "Linux", 1: "Hurd", 2: "Solaris", 3: "FreeBSD"}
# loaders of machines without an ABI in abis.toml (whose `interpreters` lists the others)
INTERP_OS = {
    "/lib/ld-linux-armhf.so.3": "linux", "/lib/ld-linux.so.3": "linux",
    "/lib64/ld64.so.2": "linux", "/lib64/ld64.so.1": "linux", "/lib/ld64.so.1": "linux",
    "/libexec/ld-elf32.so.1": "freebsd",      # FreeBSD's 32-bit loader (lib32)
    "/usr/lib/ld.so.1": "illumos", "/lib/ld.so.1": "illumos",      # illumos 32-bit
    "/system/bin/linker64": "linux", "/system/bin/linker": "linux",     # Android's bionic loader
}


def _interp_os() -> dict[str, str]:
    """PT_INTERP path -> OS: every ABI's `interpreters` in abis.toml, then INTERP_OS's others."""
    out = {p: tables.facts(n).os for n in tables.list_abis() for p in tables.facts(n).interpreters}
    for p, os in INTERP_OS.items():
        out.setdefault(p, os)
    return out


OS_NAMES = {"linux": "Linux", "freebsd": "FreeBSD", "netbsd": "NetBSD", "openbsd": "OpenBSD",
            "illumos": "illumos/Solaris", "hurd": "GNU Hurd", "darwin": "Darwin"}
PF_X = 1
DF_1_PIE = 0x08000000


@dataclass
class Evidence:
    source: str          # "note", "EI_OSABI", "PT_INTERP", "DT_NEEDED", "sections", "default"
    os: str | None
    text: str


@dataclass
class Identity:
    elfclass: int
    byte_order: str              # "little" / "big"
    machine: int
    machine_name: str
    file_type: str               # "executable", "shared object", "PIE executable", "relocatable", "core", ...
    osabi: int
    osabi_name: str
    os: str                      # decided OS
    abi: str                     # decided guest ABI name
    decided_by: str              # the evidence that decided
    evidence: list[Evidence] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    kernel_version: str | None = None   # from the GNU ABI tag or the BSD version note
    interp: str | None = None
    linkage: str = "static"      # "static", "dynamic", "static-pie"
    pie: bool = False
    needed: list[str] = field(default_factory=list)
    libc: str | None = None      # "glibc", "musl", "FreeBSD libc", ...

    def to_json(self) -> dict:
        return {
            "class": self.elfclass, "byte_order": self.byte_order,
            "machine": self.machine_name, "e_machine": self.machine, "type": self.file_type,
            "osabi": self.osabi_name, "ei_osabi": self.osabi, "os": self.os, "abi": self.abi,
            "decided_by": self.decided_by, "kernel_version": self.kernel_version,
            "interp": self.interp, "linkage": self.linkage, "pie": self.pie,
            "needed": self.needed, "libc": self.libc,
            "evidence": [{"source": e.source, "os": e.os, "text": e.text} for e in self.evidence],
            "conflicts": self.conflicts,
        }


def _u32s(desc: bytes, little: bool, n: int) -> tuple[int, ...] | None:
    if len(desc) < 4 * n:
        return None
    return struct.unpack_from(("<" if little else ">") + "I" * n, desc, 0)


def _note_evidence(raw: RawElf) -> tuple[list[Evidence], str | None]:
    """Brand notes: GNU ABI tag, FreeBSD/NetBSD/OpenBSD ident notes."""
    out: list[Evidence] = []
    kver: str | None = None
    for note in raw.notes:
        seen = "" if note.in_segment else " (section only: not in a PT_NOTE segment, so a kernel would not see it)"
        if note.owner == "GNU" and note.type == 1:
            words = _u32s(note.desc, raw.little_endian, 4)
            if words is None:
                out.append(Evidence("note", None, f"GNU ABI tag in {note.where} too short ({len(note.desc)} bytes)"))
                continue
            osname = GNU_ABI_OS.get(words[0])
            kver = f"{words[1]}.{words[2]}.{words[3]}"
            out.append(Evidence("note", osname,
                                f".note.ABI-tag: OS {GNU_ABI_NAMES.get(words[0], words[0])}, kernel {kver}{seen}"))
        elif note.owner == "FreeBSD" and note.type == 1:
            words = _u32s(note.desc, raw.little_endian, 1)
            ver = str(words[0]) if words else "?"
            kver = kver or ver
            out.append(Evidence("note", "freebsd", f"FreeBSD ABI tag note in {note.where}: __FreeBSD_version {ver}{seen}"))
        elif note.owner == "NetBSD" and note.type == 1:
            words = _u32s(note.desc, raw.little_endian, 1)
            ver = str(words[0]) if words else "?"
            kver = kver or ver
            out.append(Evidence("note", "netbsd", f"NetBSD ident note in {note.where}: __NetBSD_Version__ {ver}{seen}"))
        elif note.owner == "OpenBSD" and note.type == 1:
            out.append(Evidence("note", "openbsd", f"OpenBSD ident note in {note.where}{seen}"))
        elif note.owner == "Go" and note.type == 4:
            out.append(Evidence("note", None, "Go build ID note (Go runtime: raw syscalls, no libc)"))
    return out, kver


def _needed_os(needed: list[str]) -> tuple[str | None, str | None, str | None]:
    """(os, libc name, the soname) from the libc a file links against."""
    for n in needed:
        if n == "libc.so.6":
            return "linux", "glibc", n
        if n.startswith("libc.musl-") or n.startswith("ld-musl-"):
            return "linux", "musl", n
        if n == "libc.so.7":
            return "freebsd", "FreeBSD libc", n
        if n == "libc.so.12":
            return "netbsd", "NetBSD libc", n
        if n.startswith("libc.so.") and n.count(".") == 3:      # OpenBSD: libc.so.MAJOR.MINOR
            return "openbsd", "OpenBSD libc", n
        if n == "libc.so.1":
            return "illumos", "illumos libc", n
        if n == "libc.so.0.3":
            return "hurd", "glibc", n
        if n == "libSystem.B.dylib":
            return "darwin", "libSystem", n
    return None, None, None


def abi_name(os: str, machine: int) -> str:
    """The ABI for OS and ELF e_machine: a known one from abis.toml, else os-<arch> by name."""
    known = tables.find_abis(os=os, machine=machine)
    if known:
        return known[0]
    arch = MACHINES.get(machine)
    if arch is None:
        return f"{os}-em{machine}"
    return f"{os}-{arch[0] if os == 'linux' else arch[1]}"


def identify(raw: RawElf) -> Identity:
    """Decide OS and ABI from ``raw``, strongest evidence first."""
    evidence, kver = _note_evidence(raw)
    if raw.osabi:
        evidence.append(Evidence("EI_OSABI", OSABI_OS.get(raw.osabi),
                                 f"EI_OSABI {raw.osabi} ({OSABI.get(raw.osabi, 'unknown')})"))
    if raw.interp:
        os = _interp_os().get(raw.interp)
        if os is None:
            low = raw.interp.lower()
            os = ("linux" if "ld-linux" in low or "ld-musl" in low else
                  "freebsd" if "ld-elf" in low else "netbsd" if "ld.elf_so" in low else None)
        evidence.append(Evidence("PT_INTERP", os, f"PT_INTERP {raw.interp}"))
    n_os, libc, soname = _needed_os(raw.needed)
    if soname:
        evidence.append(Evidence("DT_NEEDED", n_os, f"DT_NEEDED {soname}"))
    if any(s.startswith(".SUNW_") for s in raw.section_names):
        evidence.append(Evidence("sections", "illumos", "Solaris .SUNW_* sections"))

    decided = next((e for e in evidence if e.os is not None and e.source == "note" and "section only" not in e.text), None) \
        or next((e for e in evidence if e.os is not None), None)
    if decided is None:
        decided = Evidence("default", "linux", "no OS brand, EI_OSABI is SYSV and no interpreter: assumed Linux, "
                                               "whose kernel runs unbranded ELF")
        evidence.append(decided)
    os = decided.os or "linux"
    conflicts = [f"{e.text} says {OS_NAMES.get(e.os, e.os)}" for e in evidence if e.os and e.os != os]

    pie = bool(raw.flags_1 & DF_1_PIE) or (raw.e_type == ET_DYN and raw.interp is not None and not raw.soname)
    if raw.interp:
        linkage = "dynamic"
    elif raw.e_type == ET_DYN and (raw.flags_1 & DF_1_PIE or not raw.soname and raw.entry) and not raw.needed:
        linkage = "static-pie"
        pie = True
    elif raw.needed:
        linkage = "dynamic"
    else:
        linkage = "static"
    ftype = {ET_REL: "relocatable", ET_EXEC: "executable", 4: "core"}.get(raw.e_type)
    if raw.e_type == ET_DYN:
        ftype = "PIE executable" if pie else "shared object"
    if ftype is None:
        ftype = f"type {raw.e_type}"
    if libc is None and os == "linux" and raw.interp and "musl" in raw.interp:
        libc = "musl"
    if libc is None and any(n.owner == "GNU" and n.type == 1 for n in raw.notes):
        libc = "glibc"          # the ABI tag note is emitted by glibc's crt1.o (csu/abi-note.S)
    arch = MACHINES.get(raw.e_machine, (f"em{raw.e_machine}",))[0]
    return Identity(
        elfclass=raw.elfclass, byte_order="little" if raw.little_endian else "big",
        machine=raw.e_machine, machine_name=arch, file_type=ftype,
        osabi=raw.osabi, osabi_name=OSABI.get(raw.osabi, f"unknown ({raw.osabi})"),
        os=os, abi=abi_name(os, raw.e_machine), decided_by=decided.text,
        evidence=evidence, conflicts=conflicts, kernel_version=kver, interp=raw.interp,
        linkage=linkage, pie=pie, needed=list(raw.needed), libc=libc,
    )
