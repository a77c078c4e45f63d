# SPDX-License-Identifier: MIT
"""Regenerate the "direct" rows of tables/libc/glibc-x86_64.csv.

Why: which exported glibc function itself issues which system call is a
fact of the built library.  This tool reads it from an installed x86-64
libc.so.6 (every ``syscall`` instruction with its constant number, assigned
to the .dynsym function whose extent contains it, using shimsim's own site
scanner) and names the glibc source file that makes the call by looking the
function up in a glibc source checkout (file names only; no code is copied).

Rows whose notes are not exactly "site scan of libc.so.6" are written by hand
(they win over the scan for the same symbol) and are kept as they are.

Usage:
    python tools/gen_glibc_direct.py LIBC_SO GLIBC_GIT_DIR TAG SYSCALLS_CSV TABLE_CSV
SYSCALLS_CSV maps x86-64 numbers to names (columns number,name).
"""
from __future__ import annotations

import csv
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from elftools.elf.elffile import ELFFile  # noqa: E402

from shimsim.elf.reader import Budget, read_elf  # noqa: E402
from shimsim.elf.sites import scan  # noqa: E402

SCANNED = "site scan of libc.so.6"   # marks the rows this tool owns
PREFER = (
    "sysdeps/unix/sysv/linux/x86_64/64/", "sysdeps/unix/sysv/linux/x86_64/",
    "sysdeps/unix/sysv/linux/x86/", "sysdeps/unix/sysv/linux/", "sysdeps/nptl/", "nptl/",
    "sysdeps/unix/", "sysdeps/posix/", "",
)


def direct_calls(libc: str, names: dict[int, str]) -> dict[str, set[str]]:
    raw = read_elf(libc)
    with open(libc, "rb") as fh:
        def rd(off: int, n: int) -> bytes:
            fh.seek(off)
            return fh.read(n)
        sites, _ = scan(raw, rd, Budget(300))
        elf = ELFFile(fh)
        spans: dict[tuple[int, int], set[str]] = defaultdict(set)
        for sym in elf.get_section_by_name(".dynsym").iter_symbols():
            if sym["st_info"]["type"] in ("STT_FUNC", "STT_GNU_IFUNC") and sym["st_shndx"] != "SHN_UNDEF" \
                    and sym["st_size"]:
                spans[(sym["st_value"], sym["st_size"])].add(sym.name.split("@")[0])
    out: dict[str, set[str]] = defaultdict(set)
    for site in sites:
        if site.number is None or site.number not in names:
            continue
        for (start, size), syms in spans.items():
            if start <= site.address < start + size:
                for s in syms:
                    out[s].add(names[site.number])
    return out


# Functions whose file name does not follow from the symbol (checked by hand in glibc-2.36).
KNOWN_SOURCE = {
    "_Fork": "sysdeps/nptl/_Fork.c", "__libc_sigaction": "sysdeps/unix/sysv/linux/libc_sigaction.c",
    "__lll_lock_wait_private": "nptl/lowlevellock.c", "__lll_lock_wake_private": "nptl/lowlevellock.c",
    "__pthread_mutex_init": "nptl/pthread_mutex_init.c", "brk": "sysdeps/unix/sysv/linux/brk.c",
    "herror": "resolv/herror.c", "llseek": "sysdeps/unix/sysv/linux/lseek64.c",
    "pthread_mutex_setprioceiling": "nptl/pthread_mutex_setprioceiling.c",
    "sched_rr_get_interval": "sysdeps/unix/sysv/linux/sched_rr_gi.c",
    "timer_getoverrun": "sysdeps/unix/sysv/linux/timer_getoverr.c",
}


def source_for(sym: str, calls: set[str], files: list[str], git: str, tag: str) -> str:
    if sym in KNOWN_SOURCE:
        return KNOWN_SOURCE[sym]
    if "rwlock" in sym and "futex" in calls:
        return "nptl/pthread_rwlock_common.c"
    base = sym.lstrip("_")
    for pre in ("libc_", "GI_"):
        if base.startswith(pre):
            base = base[len(pre):]
    cands = [base, base.removesuffix("64"), base.removesuffix("_nocancel"),
             base.removesuffix("64_nocancel"), base + "64"]
    by_base = defaultdict(list)
    for f in files:
        by_base[f.rsplit("/", 1)[-1]].append(f)
    for name in cands:
        for pre in PREFER:
            for f in by_base.get(name + ".c", []) + by_base.get(name + ".S", []):
                rest = f[len(pre):] if f.startswith(pre) else None
                # only the directory itself: other architectures live in subdirectories
                if rest is None or rest.count("/") != (1 if pre == "" else 0):
                    continue
                if not f.startswith("sysdeps") or pre:
                    text = subprocess.run(["git", "-C", git, "show", f"{tag}:{f}"],
                                          capture_output=True, text=True).stdout
                    if any(re.search(rf"(SYSCALL\w*\s*\(\s*{c}\b|__NR_{c}\b|SYS_ify\s*\(\s*{c}\b)", text)
                           for c in calls):
                        return f
    for lst in ("sysdeps/unix/sysv/linux/x86_64/syscalls.list", "sysdeps/unix/sysv/linux/wordsize-64/syscalls.list",
                "sysdeps/unix/sysv/linux/syscalls.list", "sysdeps/unix/syscalls.list"):
        text = subprocess.run(["git", "-C", git, "show", f"{tag}:{lst}"],
                              capture_output=True, text=True).stdout
        for line in text.splitlines():
            cols = line.split()
            if cols and not line.startswith("#") and (sym in cols[4:] or cols[0] == base):
                return lst
    return ""


def main(argv: list[str]) -> int:
    libc, git, tag, syscalls_csv, table = argv
    names = {int(r["number"]): r["name"] for r in csv.DictReader(open(syscalls_csv))}
    files = subprocess.run(["git", "-C", git, "ls-tree", "-r", "--name-only", tag],
                           capture_output=True, text=True, check=True).stdout.split()
    header, kept = [], []
    with open(table) as fh:
        for line in fh:
            if line.startswith("#"):
                header.append(line)
            elif line.strip():
                kept.append(line)
    rows = list(csv.reader(kept))
    cols, body = rows[0], [r for r in rows[1:] if r[4] != SCANNED]
    have = {r[0] for r in body}
    for sym, calls in sorted(direct_calls(libc, names).items()):
        if sym in have:
            continue
        src = source_for(sym, calls, files, git, tag)
        body.append([sym, " ".join(sorted(calls)), "direct", src, SCANNED])
    body.sort(key=lambda r: r[0])
    with open(table, "w", newline="") as fh:
        fh.writelines(header)
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(cols)
        w.writerows(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
