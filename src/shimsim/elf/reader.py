# SPDX-License-Identifier: MIT
"""Bounded, failure-tolerant reading of one ELF file.

Everything a hostile or broken file controls (counts, sizes, offsets) is
checked against the file size and against fixed caps *before* pyelftools
is asked to walk it, so a crafted header cannot make inspection loop,
allocate gigabytes or take minutes.  Anything that still goes wrong inside
pyelftools becomes an :class:`ElfReadError` with one line of text.
"""
from __future__ import annotations

import errno
import os
import struct
import time
from dataclasses import dataclass, field
from typing import BinaryIO

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

# Caps on what is read from one file.  Real executables and libraries stay
# far below them (tens of sections, a dozen segments, a handful of notes).
MAX_SECTIONS = 65536
MAX_SEGMENTS = 1024
MAX_NOTES = 256                 # notes read per note section/segment
MAX_NOTE_BYTES = 1 << 20        # bytes read from one note section/segment
MAX_NOTE_FIELD = 1 << 16        # name or descriptor size of one note
MAX_SYMBOLS = 1 << 20           # dynamic symbols read per file
MAX_NEEDED = 4096               # DT_NEEDED entries per file
MAX_STRING = 4096               # bytes of one string read from a string table
MAX_STRTAB = 64 << 20           # bytes read from one string table
DEFAULT_SECONDS = 30.0          # wall-clock budget for one top-level file

ELFMAG = b"\x7fELF"
PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE = 1, 2, 3, 4
PF_X = 1
SHT_NOTE, SHT_NOBITS, SHT_DYNSYM = 7, 8, 11
SHF_EXECINSTR = 4
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3


_OTHER_FORMATS = {
    b"\xcf\xfa\xed\xfe": "a Mach-O 64-bit file (macOS)", b"\xce\xfa\xed\xfe": "a Mach-O 32-bit file (macOS)",
    b"\xca\xfe\xba\xbe": "a Mach-O universal binary (macOS) or a Java class file",
    b"!<ar": "an ar archive (static library)",
}


class ElfReadError(Exception):
    """A file that cannot be inspected; ``str()`` is one line for the user."""


class Budget:
    """A wall-clock deadline shared by everything done for one input file.

    Loops over attacker-sized data call :meth:`check`; the deadline turns a
    pathological (but within-caps) file into an error instead of a hang.
    """

    def __init__(self, seconds: float = DEFAULT_SECONDS) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds = seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise ElfReadError(f"gave up after {self.seconds:g}s (file too large or too complex)")


@dataclass(frozen=True)
class Note:
    """One ELF note: owner name, type and raw descriptor."""

    owner: str
    type: int
    desc: bytes
    where: str          # section name or "PT_NOTE@0x..."
    in_segment: bool = True   # False: only in a section, which kernels never look at


@dataclass(frozen=True)
class Region:
    """A run of executable bytes and the virtual address of its first byte."""

    vaddr: int
    offset: int
    size: int
    name: str


@dataclass
class RawElf:
    """What inspection needs from one ELF file, already bounded and decoded."""

    path: str
    size: int
    elfclass: int                    # 32 or 64
    little_endian: bool
    e_type: int
    e_machine: int
    osabi: int
    abiversion: int
    entry: int
    interp: str | None = None
    notes: list[Note] = field(default_factory=list)
    needed: list[str] = field(default_factory=list)
    soname: str | None = None
    rpath: list[str] = field(default_factory=list)      # DT_RPATH: searched only without a DT_RUNPATH
    runpath: list[str] = field(default_factory=list)
    flags_1: int = 0
    has_dynamic: bool = False
    imports: list[str] = field(default_factory=list)     # undefined dynamic symbols
    exports: set[str] = field(default_factory=set)       # defined dynamic symbols
    local_functions: dict[int, str] = field(default_factory=dict)  # .symtab FUNC addr -> name
    section_names: list[str] = field(default_factory=list)
    exec_regions: list[Region] = field(default_factory=list)
    data_regions: list[Region] = field(default_factory=list)     # loaded, not executable
    plt_targets: dict[int, str] = field(default_factory=dict)  # GOT slot address -> symbol
    warnings: list[str] = field(default_factory=list)


def _header_fields(head: bytes, path: str, size: int) -> tuple[int, bool, tuple]:
    """Validate e_ident and decode the fixed ELF header fields by hand.

    Done before pyelftools so counts and offsets are known to be sane.
    """
    if head[:2] == b"#!":
        interp = head[2:].split(b"\n", 1)[0].strip().split(b" ", 1)[0].decode("utf-8", "replace")
        raise ElfReadError(f"not an ELF file: a script for {interp or 'an unnamed interpreter'} (inspect the interpreter)")
    if len(head) < 16 or head[:4] != ELFMAG:
        if head[:4] == ELFMAG:
            raise ElfReadError(f"truncated ELF header ({size} bytes)")
        kind = _OTHER_FORMATS.get(head[:4]) or ("a PE/COFF (Windows) file" if head[:2] == b"MZ" else None)
        if kind:
            raise ElfReadError(f"not an ELF file: {kind}")
        raise ElfReadError("not an ELF file (no \\x7fELF magic)")
    ei_class, ei_data = head[4], head[5]
    if ei_class not in (1, 2):
        raise ElfReadError(f"bad EI_CLASS {ei_class} (expected 1 for 32-bit or 2 for 64-bit)")
    if ei_data not in (1, 2):
        raise ElfReadError(f"bad EI_DATA {ei_data} (expected 1 little-endian or 2 big-endian)")
    end = "<" if ei_data == 1 else ">"
    if ei_class == 1:
        fmt, hsize = end + "HHIIIIIHHHHHH", 52
    else:
        fmt, hsize = end + "HHIQQQIHHHHHH", 64
    if len(head) < hsize:
        raise ElfReadError(f"truncated ELF header ({size} bytes, need {hsize})")
    fields = struct.unpack_from(fmt, head, 16)
    return (32 if ei_class == 1 else 64), ei_data == 1, fields


def _check_tables(fields: tuple, elfclass: int, size: int) -> list[str]:
    """Reject header tables that point outside the file or are absurdly large."""
    (_t, _m, _v, _entry, phoff, shoff, _fl, _eh, phentsize, phnum, shentsize, shnum, _shstrndx) = fields
    warnings: list[str] = []
    want_ph = 32 if elfclass == 32 else 56
    want_sh = 40 if elfclass == 32 else 64
    if phnum:
        if phentsize != want_ph:
            raise ElfReadError(f"bad e_phentsize {phentsize} (expected {want_ph})")
        if phnum > MAX_SEGMENTS:
            raise ElfReadError(f"too many program headers ({phnum} > {MAX_SEGMENTS})")
        if phoff + phnum * phentsize > size:
            raise ElfReadError(f"program headers run past end of file (e_phoff {phoff:#x}, {phnum} entries, file {size} bytes)")
    if shoff:
        if shentsize != want_sh:
            raise ElfReadError(f"bad e_shentsize {shentsize} (expected {want_sh})")
        if shoff + max(shnum, 1) * shentsize > size:
            raise ElfReadError(f"section headers run past end of file (e_shoff {shoff:#x}, {shnum} entries, file {size} bytes)")
    return warnings


def _read_cstr(data: bytes, off: int) -> str:
    if off < 0 or off >= len(data):
        return ""
    end = data.find(b"\0", off, off + MAX_STRING)
    if end < 0:
        end = min(len(data), off + MAX_STRING)
    return data[off:end].decode("utf-8", "replace")


def parse_notes(data: bytes, little: bool, where: str, align: int = 4,
                in_segment: bool = True) -> tuple[list[Note], list[str]]:
    """Decode a note area by hand with caps on count and field sizes.

    pyelftools' note iterator trusts namesz/descsz; here a note that claims
    more bytes than remain ends the walk with a warning instead.
    """
    end = "<" if little else ">"
    notes: list[Note] = []
    warnings: list[str] = []
    align = 8 if align == 8 else 4
    pos = 0
    data = data[:MAX_NOTE_BYTES]
    while pos + 12 <= len(data):
        if len(notes) >= MAX_NOTES:
            warnings.append(f"{where}: more than {MAX_NOTES} notes; rest ignored")
            break
        namesz, descsz, ntype = struct.unpack_from(end + "III", data, pos)
        if namesz > MAX_NOTE_FIELD or descsz > MAX_NOTE_FIELD:
            warnings.append(f"{where}: note at +{pos:#x} claims {namesz}/{descsz} name/desc bytes; rest ignored")
            break
        name_off = pos + 12
        desc_off = name_off + ((namesz + 3) & ~3)
        nxt = desc_off + ((descsz + align - 1) & ~(align - 1))
        if desc_off + descsz > len(data):
            warnings.append(f"{where}: note at +{pos:#x} runs past its area; rest ignored")
            break
        owner = data[name_off:name_off + namesz].split(b"\0", 1)[0].decode("ascii", "replace")
        notes.append(Note(owner, ntype, bytes(data[desc_off:desc_off + descsz]), where, in_segment))
        pos = nxt  # strictly increasing: nxt >= pos + 12
    return notes, warnings


class _Reader:
    """Reads one file into a :class:`RawElf`, converting every failure."""

    def __init__(self, path: str, stream: BinaryIO, size: int, budget: Budget) -> None:
        self.path = path
        self.stream = stream
        self.size = size
        self.budget = budget

    def read_at(self, off: int, n: int) -> bytes:
        if off < 0 or n <= 0 or off >= self.size:
            return b""
        self.stream.seek(off)
        return self.stream.read(min(n, self.size - off))

    def run(self) -> RawElf:
        head = self.read_at(0, 256)
        elfclass, little, fields = _header_fields(head, self.path, self.size)
        warnings = _check_tables(fields, elfclass, self.size)
        raw = RawElf(
            path=self.path, size=self.size, elfclass=elfclass, little_endian=little,
            e_type=fields[0], e_machine=fields[1], osabi=head[7], abiversion=head[8],
            entry=fields[3], warnings=warnings,
        )
        self.stream.seek(0)
        elf = ELFFile(self.stream)
        shnum = elf.num_sections()
        if shnum > MAX_SECTIONS:
            raise ElfReadError(f"too many sections ({shnum} > {MAX_SECTIONS})")
        phnum = elf.num_segments()
        if phnum > MAX_SEGMENTS:
            raise ElfReadError(f"too many program headers ({phnum} > {MAX_SEGMENTS})")
        self._segments(elf, raw, phnum)
        self._sections(elf, raw, shnum)
        return raw

    # -- program headers -------------------------------------------------
    def _segments(self, elf: ELFFile, raw: RawElf, phnum: int) -> None:
        for i in range(phnum):
            self.budget.check()
            ph = elf._get_segment_header(i)  # header only: no segment object needed
            ptype, off, filesz = ph["p_type"], ph["p_offset"], ph["p_filesz"]
            if ptype == "PT_INTERP":
                raw.interp = _read_cstr(self.read_at(off, min(filesz, MAX_STRING)), 0) or None
            elif ptype == "PT_NOTE":
                data = self.read_at(off, min(filesz, MAX_NOTE_BYTES))
                notes, warns = parse_notes(data, raw.little_endian, f"PT_NOTE@{off:#x}", ph["p_align"])
                raw.notes.extend(notes)
                raw.warnings.extend(warns)
            elif ptype == "PT_DYNAMIC":
                raw.has_dynamic = True
            elif ptype == "PT_LOAD" and filesz:
                size = max(0, min(filesz, self.size - off))
                if size:
                    where = raw.exec_regions if ph["p_flags"] & PF_X else raw.data_regions
                    where.append(Region(ph["p_vaddr"], off, size, f"PT_LOAD@{ph['p_vaddr']:#x}"))

    # -- sections --------------------------------------------------------
    def _sections(self, elf: ELFFile, raw: RawElf, shnum: int) -> None:
        seen = {(n.owner, n.type, n.desc) for n in raw.notes}
        exec_sections: list[Region] = []
        self.sections = []
        for i in range(shnum):
            self.budget.check()
            sec = elf.get_section(i)
            self.sections.append(sec)
            name = sec.name if len(sec.name) < MAX_STRING else sec.name[:MAX_STRING]
            raw.section_names.append(name)
            sh = sec.header
            if sh["sh_type"] == "SHT_NOTE":
                data = self.read_at(sh["sh_offset"], min(sh["sh_size"], MAX_NOTE_BYTES))
                notes, warns = parse_notes(data, raw.little_endian, name or f"section {i}",
                                           sh["sh_addralign"], in_segment=False)
                for note in notes:        # notes also seen through PT_NOTE are kept once
                    if (note.owner, note.type, note.desc) not in seen:
                        seen.add((note.owner, note.type, note.desc))
                        raw.notes.append(note)
                raw.warnings.extend(warns)
            if sh["sh_flags"] & SHF_EXECINSTR and sh["sh_type"] != "SHT_NOBITS" and sh["sh_size"]:
                size = max(0, min(sh["sh_size"], self.size - sh["sh_offset"]))
                if size:
                    exec_sections.append(Region(sh["sh_addr"], sh["sh_offset"], size, name))
        if not raw.exec_regions:      # relocatable objects have no segments
            raw.exec_regions = exec_sections
        self._dynamic(elf, raw)
        self._dynsym(elf, raw)
        self._symtab(elf, raw)
        self._plt(elf, raw)

    def _dynamic(self, elf: ELFFile, raw: RawElf) -> None:
        dyn = next((s for s in self.sections if s.header["sh_type"] == "SHT_DYNAMIC"), None)
        if dyn is None:
            return
        raw.has_dynamic = True
        count = 0
        for tag in dyn.iter_tags():
            self.budget.check()
            count += 1
            if count > MAX_NEEDED * 4:
                raw.warnings.append(".dynamic: too many entries; rest ignored")
                break
            kind = tag.entry.d_tag
            if kind == "DT_NULL":
                break
            if kind == "DT_NEEDED":
                raw.needed.append(_safe_attr(tag, "needed"))
            elif kind == "DT_SONAME":
                raw.soname = _safe_attr(tag, "soname")
            elif kind == "DT_RUNPATH":
                raw.runpath.extend(p for p in _safe_attr(tag, "runpath").split(":") if p)
            elif kind == "DT_RPATH":
                raw.rpath.extend(p for p in _safe_attr(tag, "rpath").split(":") if p)
            elif kind == "DT_FLAGS_1":
                raw.flags_1 = int(tag.entry.d_val)

    # -- symbols and relocations, decoded with struct (pyelftools' per-entry
    #    parsing costs seconds on large binaries) -----------------------------
    def _symbols(self, elf: ELFFile, raw: RawElf, sh, strict: bool) -> list[tuple[str, int, int, int]]:
        """(name, st_info, st_shndx, st_value) of a symbol table section."""
        ent = 16 if raw.elfclass == 32 else 24
        n = sh["sh_size"] // ent
        what = "dynamic symbol table" if sh["sh_type"] == "SHT_DYNSYM" else "symbol table"
        if n > MAX_SYMBOLS:
            if strict:
                raise ElfReadError(f"{what} claims {n} symbols (cap {MAX_SYMBOLS})")
            n = MAX_SYMBOLS
        if sh["sh_offset"] + n * ent > raw.size:
            if strict:
                raise ElfReadError(f"{what} runs past end of file")
            raw.warnings.append(f"{what} runs past end of file; ignored")
            return []
        strtab = b""
        if 0 < sh["sh_link"] < elf.num_sections():
            link = elf._get_section_header(sh["sh_link"])
            strtab = self.read_at(link["sh_offset"], min(link["sh_size"], MAX_STRTAB))
        data = self.read_at(sh["sh_offset"], n * ent)
        end = "<" if raw.little_endian else ">"
        out: list[tuple[str, int, int, int]] = []
        self.budget.check()
        if raw.elfclass == 64:
            for st_name, info, _other, shndx, value, _size in struct.iter_unpack(end + "IBBHQQ", data):
                out.append((_read_cstr(strtab, st_name) if st_name else "", info, shndx, value))
        else:
            for st_name, value, _size, info, _other, shndx in struct.iter_unpack(end + "IIIBBH", data):
                out.append((_read_cstr(strtab, st_name) if st_name else "", info, shndx, value))
        self.budget.check()
        return out

    def _dynsym(self, elf: ELFFile, raw: RawElf) -> None:
        sec = next((s for s in self.sections if s.header["sh_type"] == "SHT_DYNSYM"), None)
        if sec is None:
            return
        self.dynsyms = self._symbols(elf, raw, sec.header, strict=True)
        for name, _info, shndx, _value in self.dynsyms:
            if not name:
                continue
            if shndx == 0:             # SHN_UNDEF
                raw.imports.append(name)
            else:
                raw.exports.add(name)

    def _symtab(self, elf: ELFFile, raw: RawElf) -> None:
        """Function symbols of .symtab (unstripped files) to name raw sites."""
        sec = next((s for s in self.sections if s.header["sh_type"] == "SHT_SYMTAB"), None)
        if sec is None:
            return
        for name, info, _shndx, value in self._symbols(elf, raw, sec.header, strict=False):
            if info & 0xF == 2 and value and name:     # STT_FUNC
                raw.local_functions.setdefault(value, name)

    def _plt(self, elf: ELFFile, raw: RawElf) -> None:
        """Map GOT slots to imported names, so calls through the PLT can be named."""
        syms = getattr(self, "dynsyms", None)
        if not syms or raw.e_type == ET_REL:
            return
        end = "<" if raw.little_endian else ">"
        for sec in self.sections:
            sh = sec.header
            if sh["sh_type"] not in ("SHT_RELA", "SHT_REL") or not sh["sh_flags"] & 2:   # SHF_ALLOC
                continue
            rela = sh["sh_type"] == "SHT_RELA"
            if raw.elfclass == 64:
                fmt, ent, shift = end + ("QQq" if rela else "QQ"), (24 if rela else 16), 32
            else:
                fmt, ent, shift = end + ("IIi" if rela else "II"), (12 if rela else 8), 8
            n = sh["sh_size"] // ent
            if n > MAX_SYMBOLS or sh["sh_offset"] + n * ent > raw.size:
                raw.warnings.append(f"{sec.name}: relocation table out of bounds; ignored")
                continue
            self.budget.check()
            for row in struct.iter_unpack(fmt, self.read_at(sh["sh_offset"], n * ent)):
                idx = row[1] >> shift
                if 0 < idx < len(syms) and syms[idx][0]:
                    raw.plt_targets[row[0]] = syms[idx][0]


def _safe_attr(tag, attr: str) -> str:
    val = getattr(tag, attr, "") or ""
    return val[:MAX_STRING]


def read_elf(path: str, budget: Budget | None = None) -> RawElf:
    """Read ``path`` as ELF within caps; raise :class:`ElfReadError` on any problem."""
    budget = budget or Budget()
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ElfReadError(f"cannot stat: {exc.strerror or exc}") from None
    import stat as _stat
    if _stat.S_ISDIR(st.st_mode):
        raise ElfReadError("is a directory")
    if not _stat.S_ISREG(st.st_mode):
        raise ElfReadError("not a regular file")
    if st.st_size == 0:
        raise ElfReadError("empty file (0 bytes)")
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ElfReadError(f"cannot read: {exc.strerror or exc}") from None
    with fh:
        return read_elf_stream(path, fh, st.st_size, budget)


def read_elf_stream(path: str, fh: BinaryIO, size: int, budget: Budget | None = None) -> RawElf:
    """Read an ELF image from a seekable stream (a file inside a container image, say).

    ``path`` is what the result and its messages are named by.
    """
    budget = budget or Budget()
    if size == 0:
        raise ElfReadError("empty file (0 bytes)")
    try:
        return _Reader(path, fh, size, budget).run()
    except ElfReadError:
        raise
    except OSError as exc:
        if exc.errno == errno.EINVAL:       # a seek to an offset no file can have
            raise ElfReadError("corrupt ELF: an offset points far outside the file") from None
        raise ElfReadError(f"cannot read: {exc.strerror or exc}") from None
    except (ELFError, struct.error, ValueError, KeyError, IndexError, TypeError,
            AttributeError, UnicodeError, OverflowError, AssertionError, RecursionError) as exc:
        raise ElfReadError(f"corrupt ELF: {_one_line(exc)}") from None
    except MemoryError:
        raise ElfReadError("corrupt ELF: a table is too large to read") from None
    except Exception as exc:  # noqa: BLE001 - construct raises many private types
        raise ElfReadError(f"corrupt ELF: {type(exc).__name__}: {_one_line(exc)}") from None


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
