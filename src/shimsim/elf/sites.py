# SPDX-License-Identifier: MIT
"""Raw system-call sites in machine code, and the number loaded before them.

No disassembler: the patterns needed are few and fixed-length, so a byte
scan with a short look-back finds them without a new dependency.

* x86-64: ``syscall`` (0f 05), number from ``mov eax, imm32`` (b8 id),
  ``mov rax, imm32`` (48 c7 c0 id), ``mov eax, imm32`` (c7 c0 id) or
  ``xor eax, eax`` in the bytes just before it.
* i386: ``int 0x80`` (cd 80) and glibc's ``call *%gs:0x10`` vsyscall entry,
  number from ``mov eax, imm32``.
* AArch64: ``svc #0`` (d4000001, 4-byte aligned), number from
  ``movz w8/x8, #imm`` in the preceding instructions.
* Calls to libc's ``syscall(2)`` (through the PLT, through the GOT with
  -fno-plt, or to a ``syscall`` function of an unstripped static binary)
  with the number from ``mov edi, imm32`` (bf id) or ``xor edi, edi``.

A byte pattern can also occur inside a longer instruction, so a site whose
number cannot be found is reported as ``number unknown`` rather than
guessed; a site whose load is not directly adjacent is marked ``near``.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from shimsim.elf.reader import Budget, RawElf, Region

EM_386, EM_X86_64, EM_AARCH64 = 3, 62, 183
# glibc x86-64 syscall(2) (sysdeps/unix/sysv/linux/x86_64/syscall.S): rdi->rax, rsi->rdi, rdx->rsi,
# rcx->rdx, r8->r10, r9->r8, 8(%rsp)->r9, syscall
GLIBC_SYSCALL_FN = bytes.fromhex("4889f8 4889f7 4889d6 4889ca 4d89c2 4d89c8 4c8b4c2408 0f05")
LOOKBACK = 24          # bytes searched before an x86 site for the number load
MAX_SCAN_BYTES = 256 << 20
MAX_SITES = 200_000


@dataclass(frozen=True)
class Site:
    """One place that enters the kernel (or calls syscall(2))."""

    address: int
    kind: str              # "syscall", "int80", "vsyscall", "svc", "syscall()"
    number: int | None     # None: not loaded from a constant nearby
    how: str               # "adjacent", "near", "unknown"
    function: str | None = None   # containing function from .symtab, if known


def _x86_number(buf: bytes, i: int, is64: bool) -> tuple[int | None, str]:
    """Find the eax/rax constant loaded in the bytes before offset ``i``."""
    lo = max(0, i - LOOKBACK)
    best: tuple[int, int] | None = None     # (end offset of the load, value)
    for j in range(i - 5, lo - 1, -1):
        b = buf[j]
        cand: tuple[int, int] | None = None
        if b == 0xB8 and j + 5 <= i:
            prev = buf[j - 1] if j > 0 else 0
            if is64 and 0x40 <= prev <= 0x4F:
                if prev & 1:          # REX.B: mov r8d, imm32 -- not eax
                    continue
                if prev & 8 and j + 9 <= i:   # movabs rax, imm64
                    cand = (j + 9, struct.unpack_from("<Q", buf, j + 1)[0])
                else:
                    cand = (j + 5, struct.unpack_from("<I", buf, j + 1)[0])
            else:
                cand = (j + 5, struct.unpack_from("<I", buf, j + 1)[0])
        elif b == 0xC7 and j + 6 <= i and buf[j + 1] == 0xC0:
            cand = (j + 6, struct.unpack_from("<i", buf, j + 2)[0])
        elif b in (0x31, 0x33) and j + 2 <= i and buf[j + 1] == 0xC0:
            cand = (j + 2, 0)
        if cand is not None and (best is None or cand[0] > best[0]):
            best = cand
            if cand[0] == i:
                break
    if best is None:
        return None, "unknown"
    end, value = best
    if value < 0 or value > 0xFFFF:
        return None, "unknown"
    return value, ("adjacent" if end == i else "near")


def _edi_number(buf: bytes, i: int) -> tuple[int | None, str]:
    """The constant loaded into edi before a call to syscall(2) at offset ``i``."""
    lo = max(0, i - LOOKBACK)
    for j in range(i - 2, lo - 1, -1):
        b = buf[j]
        if b == 0xBF and j + 5 <= i and not (j > 0 and 0x41 <= buf[j - 1] <= 0x4F and buf[j - 1] & 1):
            value = struct.unpack_from("<I", buf, j + 1)[0]
            if value <= 0xFFFF:
                return value, ("adjacent" if j + 5 == i else "near")
        if b == 0x31 and buf[j + 1] == 0xFF:
            return 0, ("adjacent" if j + 2 == i else "near")
    return None, "unknown"


def _aarch64_number(buf: bytes, i: int, little: bool) -> tuple[int | None, str]:
    fmt = "<I" if little else ">I"
    for k in range(1, 9):
        j = i - 4 * k
        if j < 0:
            break
        word = struct.unpack_from(fmt, buf, j)[0]
        if word & 0xFFE0001F in (0x52800008, 0xD2800008):   # movz w8/x8, #imm16
            return (word >> 5) & 0xFFFF, ("adjacent" if k == 1 else "near")
        if word & 0x1F == 8 and word & 0x7F000000 in (0x2A000000, 0x11000000):
            return None, "unknown"     # w8 set from a register or by arithmetic
    return None, "unknown"


def _function_for(addr: int, starts: list[int], names: dict[int, str]) -> str | None:
    import bisect
    k = bisect.bisect_right(starts, addr) - 1
    return names[starts[k]] if k >= 0 else None


def scan(raw: RawElf, read, budget: Budget) -> tuple[list[Site], list[str]]:
    """Scan the executable regions of ``raw`` for raw syscall sites.

    ``read(offset, size)`` returns file bytes.  Returns sites and warnings.
    """
    sites: list[Site] = []
    warnings: list[str] = []
    total = 0
    starts = sorted(raw.local_functions)
    plt_entries = _syscall_entries(raw, read, budget)
    for region in raw.exec_regions:
        budget.check()
        if total + region.size > MAX_SCAN_BYTES:
            warnings.append(f"executable code beyond {MAX_SCAN_BYTES >> 20} MiB not scanned")
            break
        total += region.size
        buf = read(region.offset, region.size)
        found = _scan_region(raw, region, buf, plt_entries, budget)
        for s in found:
            if starts:
                s = Site(s.address, s.kind, s.number, s.how, _function_for(s.address, starts, raw.local_functions))
            sites.append(s)
            if len(sites) >= MAX_SITES:
                warnings.append(f"more than {MAX_SITES} syscall sites; rest ignored")
                return sites, warnings
    return sites, warnings


def _scan_region(raw: RawElf, region: Region, buf: bytes, entries: dict[str, set[int]],
                 budget: Budget) -> list[Site]:
    out: list[Site] = []
    base = region.vaddr
    m = raw.e_machine
    if m in (EM_X86_64, EM_386):
        is64 = m == EM_X86_64
        pats = {b"\x0f\x05": "syscall"} if is64 else {b"\xcd\x80": "int80",
                                                     b"\x65\xff\x15\x10\x00\x00\x00": "vsyscall"}
        for pat, kind in pats.items():
            for n, mt in enumerate(re.finditer(re.escape(pat), buf)):
                if n % 4096 == 0:
                    budget.check()
                i = mt.start()
                num, how = _x86_number(buf, i, is64)
                out.append(Site(base + i, kind, num, how))
        if is64 and entries["syscall"]:
            out.extend(_calls_to(buf, base, entries["syscall"], budget))
        for addr in sorted(entries["gotcall"]):
            if base <= addr < base + len(buf):
                num, how = _edi_number(buf, addr - base)
                out.append(Site(addr, "syscall()", num, how))
    elif m == EM_AARCH64:
        pat = b"\x01\x00\x00\xd4" if raw.little_endian else b"\xd4\x00\x00\x01"
        for n, mt in enumerate(re.finditer(re.escape(pat), buf)):
            if n % 4096 == 0:
                budget.check()
            i = mt.start()
            if (base + i) % 4:
                continue
            num, how = _aarch64_number(buf, i, raw.little_endian)
            out.append(Site(base + i, "svc", num, how))
    return out


def _calls_to(buf: bytes, base: int, targets: set[int], budget: Budget) -> list[Site]:
    """x86-64 ``call rel32`` / ``jmp rel32`` to any of ``targets``; number from edi."""
    out: list[Site] = []
    lo = min(targets)
    hi = max(targets)
    # rel32 of a real call reaches within 16 MiB: its top byte is 00 or ff,
    # which skips most e8/e9 bytes that are not call/jmp opcodes
    for n, mt in enumerate(re.finditer(b"[\xe8\xe9](?=[\x00-\xff]{3}[\x00\xff])", buf, re.S)):
        if n % 65536 == 0:
            budget.check()
        i = mt.start()
        if i + 5 > len(buf):
            break
        target = base + i + 5 + struct.unpack_from("<i", buf, i + 1)[0]
        if lo <= target <= hi and target in targets:
            num, how = _edi_number(buf, i)
            out.append(Site(base + i, "syscall()", num, how))
    return out


def _syscall_entries(raw: RawElf, read, budget: Budget) -> dict[str, set[int]]:
    """Addresses a call to libc's syscall(2) can target in this file."""
    entries: set[int] = set()
    for addr, name in raw.local_functions.items():
        if name == "syscall":
            entries.add(addr)
    got = {a for a, n in raw.plt_targets.items() if n == "syscall"}
    if got and raw.e_machine == EM_X86_64:
        for region in raw.exec_regions:
            budget.check()
            buf = read(region.offset, region.size)
            for mt in re.finditer(b"\xff[\x25\x15]", buf):
                i = mt.start()
                if i + 6 > len(buf):
                    break
                slot = region.vaddr + i + 6 + struct.unpack_from("<i", buf, i + 2)[0]
                if slot not in got:
                    continue
                if buf[i + 1] == 0x15:          # call *GOT(%rip) (-fno-plt): itself a site
                    entries.add(-1 - (region.vaddr + i))
                    continue
                start = i - 1 if i > 0 and buf[i - 1] == 0xF2 else i   # bnd jmp
                if start >= 4 and buf[start - 4:start] == b"\xf3\x0f\x1e\xfa":  # endbr64
                    entries.add(region.vaddr + start - 4)
                entries.add(region.vaddr + start)
    if raw.e_machine == EM_X86_64:
        # glibc's syscall(2) itself, found by its argument shuffle in stripped static binaries
        for region in raw.exec_regions:
            budget.check()
            buf = read(region.offset, region.size)
            for mt in re.finditer(re.escape(GLIBC_SYSCALL_FN), buf):
                entries.add(region.vaddr + mt.start())
    direct = {-1 - e for e in entries if e < 0}
    return {"syscall": {e for e in entries if e >= 0}, "gotcall": direct}
