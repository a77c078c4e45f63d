# SPDX-License-Identifier: MIT
"""Write tests/fixtures/spotcheck.csv: calls of each shipped layer release checked against the
pinned upstream file, one row per call with the upstream file and line its status was read from.

    python tools/spotcheck.py --from DIR [--from DIR ...]

DIR is as for tools/regen.py (``owner+repo/repo`` bare git directories, or
``owner+repo@COMMIT/path`` copies).  Each reader parses a layer's own dispatch table at the
release's pinned commit and turns each entry into the status its kind means (below); about every
n-th entry is kept so that each release gets at least 40 rows spread over its table, plus the
calls named in FORCED (the ones issue 16 found wrong).  tests/test_spotcheck.py asserts that the
compiled shims give each row's status; it does not read upstream.

gVisor ``pkg/sentry/syscalls/linux/linux64.go``: ``Supported``/``SupportedPoint`` -> emulated (the
Sentry reimplements the call), ``PartiallySupported*`` -> partial, ``Error``/``ErrorWithEvent`` ->
failed with that errno, ``CapError`` -> failed EPERM (without the capability).  A handler that
returns ENOSYS by default (io_uring without ``runsc --iouring``) is read from its own file.

QEMU user mode (``qemu``): ``linux-user/syscall.c`` of qemu-project/qemu at the v7.2.0 commit; DIR
may hold the release tarball's linux-user/ as ``qemu-project+qemu@<commit>/linux-user/`` (Debian's
``apt-get source qemu`` gives that tarball as qemu_7.2+dfsg.orig.tar.xz).
"""
from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from regen import RegenError, Source, read_upstream  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from shimsim import shim as _shim  # noqa: E402


def guest_name(shim_name: str, nr: int, name: str) -> str:
    """The guest ABI's name for the call the layer's table names NAME at number NR (gVisor's
    arm64 table says pselect for Linux's pselect6)."""
    abi = _shim.bind_abis(_shim.load_spec(shim_name), None)[0]
    if name in abi.by_name:
        return name
    return abi.by_number[nr].name if nr in abi.by_number else name

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "spotcheck.csv"
HEADER = ("shim", "release", "call", "expected", "errno", "upstream", "evidence")
PER_RELEASE = 44

GVISOR = {
    # shim -> (release, commit, table variable)
    "gvisor": ("3c5eee17", "3c5eee17dc45659fb86843531074f38e78e0cc35", "AMD64"),
    "gvisor-arm64": ("3c5eee17", "3c5eee17dc45659fb86843531074f38e78e0cc35", "ARM64"),
    "gvisor@20221219": ("20221219", "2342c658c7c2ccdc1e23d642a5873c80297669de", "AMD64"),
    "gvisor-arm64@20221219": ("20221219", "2342c658c7c2ccdc1e23d642a5873c80297669de", "ARM64"),
}
GVISOR_ENTRY = re.compile(r'^\s*(\d+):\s*syscalls\.(\w+)\("(\w+)",\s*(?:linuxerr\.(\w+))?')
GVISOR_KIND = {"Supported": "emulated", "SupportedPoint": "emulated",
               "PartiallySupported": "partial", "PartiallySupportedPoint": "partial"}


# (release, call) -> the handler line that decides the status where the table entry does not
GVISOR_HANDLERS = {
    ("20221219", "rseq"): [("pkg/sentry/syscalls/linux/sys_rseq.go", r"return 0, nil, linuxerr\.ENOSYS",
                            "failed", "ENOSYS", "RSeq: ENOSYS when !t.RSeqAvailable() (ptrace, kvm platforms)")],
    ("20221219", "statx"): [("pkg/sentry/syscalls/linux/sys_stat.go",
                             r"flags&\^\(linux\.AT_EMPTY_PATH\|linux\.AT_SYMLINK_NOFOLLOW\|linux\.AT_STATX_SYNC_TYPE\)",
                             "emulated", "", "Statx: EINVAL for flags outside the three it takes (AT_NO_AUTOMOUNT): "
                             "the spec's reject rule")],
}


def _spread(entries: list[tuple], n: int, forced: set[str]) -> list[tuple]:
    step = max(1, len(entries) // n)
    keep = [e for i, e in enumerate(entries) if i % step == 0 or e[0] in forced]
    return keep


def gvisor(dirs: list[Path]) -> list[list[str]]:
    rows: list[list[str]] = []
    for shim_name, (release, commit, table) in GVISOR.items():
        src = Source("google/gvisor", commit, "pkg/sentry/syscalls/linux/linux64.go")
        text = read_upstream(src, dirs)
        io_src = Source("google/gvisor", commit, "pkg/sentry/syscalls/linux/sys_iouring.go")
        io_text = read_upstream(io_src, dirs)
        # the line where IOUringSetup/IOUringEnter give ENOSYS without the kernel's io_uring switch
        io_lines = {}
        fn = None
        for k, line in enumerate(io_text.splitlines(), 1):
            m = re.match(r"func (IOUring\w+)\(", line)
            if m:
                fn = m.group(1)
            if fn and "ENOSYS" in line and fn not in io_lines:
                io_lines[fn] = k
        entries = []
        inside = False
        for k, line in enumerate(text.splitlines(), 1):
            if line.startswith(f"var {table} = "):
                inside = True
            elif inside and line.startswith("}"):
                break
            if not inside:
                continue
            m = GVISOR_ENTRY.match(line)
            if not m:
                continue
            nr, kind, name, err = m.groups()
            name = guest_name(shim_name, int(nr), name)
            if kind in GVISOR_KIND:
                status, errno = GVISOR_KIND[kind], ""
            elif kind in ("Error", "ErrorWithEvent") and err:
                status, errno = "failed", err
            elif kind == "CapError":
                status, errno = "failed", "EPERM"
            else:
                continue
            where, ev = f"{src.repo}@{commit}:{src.path}:{k}", kind
            handler = {"io_uring_setup": "IOUringSetup", "io_uring_enter": "IOUringEnter"}.get(name)
            if handler and handler in io_lines:
                status, errno = "failed", "ENOSYS"
                where = f"{io_src.repo}@{commit}:{io_src.path}:{io_lines[handler]}"
                ev = f"{handler}: ENOSYS unless io_uring is enabled (runsc --iouring)"
            for hpath, pattern, hstatus, herrno, hev in GVISOR_HANDLERS.get((release, name), ()):
                hsrc = Source("google/gvisor", commit, hpath)
                lines = read_upstream(hsrc, dirs).splitlines()
                hit = next((j for j, ln in enumerate(lines, 1) if re.search(pattern, ln)), None)
                if hit is None:
                    raise RegenError(f"{hsrc}: no line matches {pattern!r}")
                status, errno, ev = hstatus, herrno, f"{kind} in the table; {hev}"
                where = f"{hsrc.repo}@{commit}:{hpath}:{hit}"
            entries.append((name, status, errno, where, ev))
        for name, status, errno, where, ev in _spread(entries, PER_RELEASE, FORCED):
            rows.append([shim_name, release, name, status, errno, where, ev])
    return rows


NETBSD_SKEL = ROOT / "tools" / "spotcheck_data" / "netbsd-amd64-syscalls.master.skel"
NETBSD_SRC = "NetBSD/src@0124a94134087629ad3d7bd4f7a3282d20839f3d:sys/compat/linux/arch/amd64/syscalls.master"


def netbsd(_dirs: list[Path]) -> list[list[str]]:
    """NetBSD compat_linux amd64 (src@0124a941, syscalls.master 1.74 of 2024-07-01): NOARGS -> translated (a
    native or shared handler, no argument structure of its own), UNIMPL -> failed ENOSYS.  STD
    entries (a linux_sys_* handler: translated or emulated, which the table alone does not say)
    and entries under #ifdef (SYSV IPC, EXEC_AOUT: two alternatives) are left out.  The file is
    read through a line skeleton transcribed from the stored copy (tools/spotcheck_data), since
    the repository is too big to fetch here."""
    line = 1
    entries: list[tuple[int, str, int]] = []
    seen: dict[int, int] = {}
    for raw in NETBSD_SKEL.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# ") and raw[2:].strip().isdigit():
            line += int(raw[2:])
            continue
        if not raw or raw.startswith("#"):
            continue
        nr, kind, _name, n = raw.split()
        entries.append((int(nr), kind, line))
        seen[int(nr)] = seen.get(int(nr), 0) + 1
        line += int(n)
    picked = []
    for nr, kind, ln in entries:
        if seen[nr] > 1 or kind not in ("NOARGS", "UNIMPL"):
            continue
        name = guest_name("netbsd-compat-linux", nr, "")
        status, errno = ("translated", "") if kind == "NOARGS" else ("failed", "ENOSYS")
        picked.append((name, status, errno, f"{NETBSD_SRC}:{ln}", kind))
    return [["netbsd-compat-linux", "src@0124a941", *e] for e in _spread(picked, PER_RELEASE, FORCED)]


def _skeleton(path: Path) -> list[tuple[str, str, int]]:
    """(kind, name, line) of a line skeleton: "# N" counts N lines, other lines "KIND NAME [...]"
    and optionally a last field with the entry's number of lines (default 1)."""
    line, out = 1, []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# ") and raw[2:].strip().isdigit():
            line += int(raw[2:])
            continue
        if not raw or raw.startswith("#"):
            continue
        parts = raw.split()
        out.append((parts[0], parts[1], line))
        line += int(parts[-1]) if len(parts) > 2 and parts[-1].isdigit() else 1
    return out


FREEBSD_DUMMY_SKEL = ROOT / "tools" / "spotcheck_data" / "freebsd-linux_dummy.c.skel"
FREEBSD_DUMMY = "freebsd/freebsd-src@08bd00ae959098008b0dd0b74551cce2e63ffb00:sys/compat/linux/linux_dummy.c"
FREEBSD_DUMMY_14_SKEL = ROOT / "tools" / "spotcheck_data" / "freebsd-linux_dummy.c@685dc743.skel"
FREEBSD_DUMMY_14 = "freebsd/freebsd-src@685dc743dc3b5645e34836464128e1c0558b404b:sys/compat/linux/linux_dummy.c"
# shim -> (release, the linux_dummy.c the release spec pins for its stubs)
LINUXULATOR = {"linuxulator": ("freebsd-15.0", FREEBSD_DUMMY_SKEL, FREEBSD_DUMMY),
               "linuxulator-linux32": ("freebsd-15.0", FREEBSD_DUMMY_SKEL, FREEBSD_DUMMY),
               "linuxulator-arm64": ("freebsd-15.0", FREEBSD_DUMMY_SKEL, FREEBSD_DUMMY),
               "linuxulator@freebsd-14.3": ("freebsd-14.3", FREEBSD_DUMMY_14_SKEL, FREEBSD_DUMMY_14),
               "linuxulator-linux32@freebsd-14.3": ("freebsd-14.3", FREEBSD_DUMMY_14_SKEL, FREEBSD_DUMMY_14)}


def linuxulator(_dirs: list[Path]) -> list[list[str]]:
    """FreeBSD's Linuxulator, the stubs of sys/compat/linux/linux_dummy.c each release spec pins
    (08bd00ae for 15.0, 685dc743 for 14.3).  DUMMY(x) (logs once, ENOSYS) and UNIMPLEMENTED(x) (ENOSYS) -> failed ENOSYS, for
    the calls the release's guest ABI has.  Read through a transcribed line skeleton (the
    repository is too big to fetch here)."""
    rows = []
    for shim_name, (release, skel, src) in LINUXULATOR.items():
        abi = _shim.bind_abis(_shim.load_spec(shim_name), None)[0]
        for kind, name, ln in _skeleton(skel):
            if name in abi.by_name:
                rows.append([shim_name, release, name, "failed", "ENOSYS", f"{src}:{ln}", kind])
    return rows


WSL_COMMIT = "337158f70ee5569c60fa28b93784fce7495dee15"   # the only commit that added the file
WSL_KIND = {"Implemented": ("emulated", ""), "Stubbed": ("stubbed", ""), "Unimplemented": ("failed", "ENOSYS")}


def wsl1(dirs: list[Path]) -> list[list[str]]:
    """WSL1 build 15014 (MicrosoftDocs/WSL LTP_Results/15014/Syscalls.txt, the newest syscall list
    Microsoft published; later builds have LTP logs only): "Implemented" -> emulated (lxcore.sys
    serves it), "Stubbed" -> stubbed (success, nothing done), "Unimplemented" -> failed ENOSYS.
    Names the list has for the guest ABI's calls only (the list mixes i386 and x86_64 names)."""
    src = Source("MicrosoftDocs/WSL", WSL_COMMIT, "LTP_Results/15014/Syscalls.txt")
    abi = _shim.bind_abis(_shim.load_spec("wsl1"), None)[0]
    section, entries = None, []
    for k, line in enumerate(read_upstream(src, dirs).splitlines(), 1):
        m = re.match(r"\*\*\* (\w+) Syscalls:", line)
        if m:
            section = m.group(1)
            continue
        name = line.strip().lower()
        if section in WSL_KIND and re.fullmatch(r"[a-z_0-9]+", name) and name in abi.by_name:
            status, errno = WSL_KIND[section]
            entries.append((name, status, errno, f"{src.repo}@{WSL_COMMIT}:{src.path}:{k}", section))
    # the list is ambiguous for a name under two headings (GETRLIMIT) and for an x86_64 name
    # listed unimplemented whose i386 "64" twin is implemented (FCNTL/FCNTL64, STAT/STAT64): the
    # spec resolves those in its notes; they are no spot check of the list
    heads: dict[str, set[str]] = {}
    for e in entries:
        heads.setdefault(e[0], set()).add(e[4])
    raw = read_upstream(src, dirs)
    impl64 = {ln.strip().lower()[:-2] for ln in raw.split("*** Stubbed")[0].splitlines() if ln.strip().endswith("64")}
    entries = [e for e in entries if len(heads[e[0]]) == 1 and not (e[4] == "Unimplemented" and e[0] in impl64)]
    # every stubbed call (few), an even spread of the others
    keep = [e for e in entries if e[1] == "stubbed"]
    keep += _spread([e for e in entries if e[1] != "stubbed"], PER_RELEASE, FORCED)
    return [["wsl1", "build-15014", *e] for e in keep]


LX_SKEL = ROOT / "tools" / "spotcheck_data" / "illumos-lx_sysent64.skel"
LX_SRC = ("TritonDataCenter/illumos-joyent@9a647c67a6ef286079869c29eca7052e7ad92550:"
          "usr/src/uts/common/brand/lx/os/lx_syscall.c")


def illumos_lx(_dirs: list[Path]) -> list[list[str]]:
    """illumos lx brand, amd64 table lx_sysent64 at illumos-joyent 9a647c67: an entry with no
    handler and flag 0 (NOSYS_USERMODE) -> emulated (user-mode emulation); a NOSYS_* reason ->
    failed EOPNOTSUPP (lx_syscall_enter sets ENOTSUP, which reaches a Linux guest as EOPNOTSUPP).
    Entries with an lx_* handler are left out (translated or emulated: the table does not say).
    Read through a transcribed skeleton (the repository is too big to fetch here)."""
    base, entries = None, []
    for raw in LX_SKEL.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# base "):
            base = int(raw.split()[2])
            continue
        if not raw or raw.startswith("#"):
            continue
        nr, flag = raw.split()
        name = guest_name("illumos-lx", int(nr), "")
        status, errno = ("emulated", "") if flag == "0" else ("failed", "EOPNOTSUPP")
        entries.append((name, status, errno, f"{LX_SRC}:{base + int(nr)}", "NOSYS_USERMODE" if flag == "0" else flag))
    return [["illumos-lx", "joyent@9a647c67", *e] for e in _spread(entries, PER_RELEASE, FORCED)]


QEMU_COMMIT = "b67b00e6b4c7831a3f5bc684bc0df7a9bfd1bd56"   # the v7.2.0 tag: "Update VERSION for v7.2.0"
# shim -> linux-user/ directory of its guest, and the syscall_nr.h that directory's syscall_nr.h includes
QEMU = {"qemu-user@7.2": ("aarch64", "aarch64/syscall_nr.h"),
        "qemu-user-riscv64@7.2": ("riscv", "riscv/syscall64_nr.h")}
QEMU_SIMPLE_IF = re.compile(r"#\s*(?:ifdef\s+TARGET_NR_(\w+)|if\s+defined\s*\(\s*TARGET_NR_(\w+)\s*\))\s*(?:/\*.*\*/)?\s*$")


def qemu(dirs: list[Path]) -> list[list[str]]:
    """QEMU 7.2 user mode (qemu-project/qemu at the v7.2.0 commit), linux-user/syscall.c
    do_syscall1: a ``case TARGET_NR_x:`` whose body is only ``return -TARGET_ENOSYS`` -> failed
    ENOSYS; another case -> handled: translated when the x86-64 host has a call of that name and
    QEMU does not do the work itself (tools/import_qemu.py EMULATED names those), emulated
    otherwise; a guest number of the target's syscall_nr.h with no case anywhere in syscall.c ->
    failed ENOSYS at do_syscall1's ``default:`` ("Unsupported syscall").  Only cases whose every
    enclosing conditional is ``#ifdef TARGET_NR_y`` / ``#if defined(TARGET_NR_y)`` of a number
    the target defines are kept (no host CONFIG_* or #else branch to evaluate), so this reader
    needs no preprocessor and does not share the importer's."""
    import import_qemu
    src = Source("qemu-project/qemu", QEMU_COMMIT, "linux-user/syscall.c")
    text = read_upstream(src, dirs).splitlines()
    host = import_qemu.host_names()
    rows = []
    for shim_name, (arch_dir, nr_file) in QEMU.items():
        nr_text = read_upstream(Source("qemu-project/qemu", QEMU_COMMIT, f"linux-user/{nr_file}"), dirs)
        numbers = {m.group(1): int(m.group(2))
                   for m in re.finditer(r"^#define TARGET_NR_(\w+)\s+(\d+)\s*$", nr_text, re.M)}
        abi = _shim.bind_abis(_shim.load_spec(shim_name), None)[0]
        all_cases = {m.group(1) for ln in text if (m := re.match(r"\s*case\s+TARGET_NR_(\w+)\s*:", ln))}
        stack: list[str | None] = []     # a simple condition's TARGET_NR_ name, None for anything else
        inside, default_line, entries = False, None, []
        for k, line in enumerate(text, 1):
            if line.startswith("static abi_long do_syscall1("):
                inside = True
                continue
            if inside and line.startswith("abi_long do_syscall("):
                break
            if not inside:
                continue
            d = re.match(r"\s*#\s*(\w+)", line)
            if d:
                if d.group(1) in ("if", "ifdef", "ifndef"):
                    m = QEMU_SIMPLE_IF.match(line.strip())
                    stack.append((m.group(1) or m.group(2)) if m else None)
                elif d.group(1) in ("elif", "else"):
                    stack[-1] = None
                elif d.group(1) == "endif":
                    stack.pop()
                continue
            if re.match(r"    default:", line) and not stack:
                default_line = k
            m = re.match(r"\s*case\s+TARGET_NR_(\w+)\s*:", line)
            if not m or not all(c is not None and c in numbers for c in stack):
                continue
            name = m.group(1)
            if name not in numbers:
                continue
            # the case's first statement (past further labels and comments); a body that starts
            # with a conditional is left out
            body = next(t.strip() for t in text[k:] if t.strip() and not re.match(r"\s*(case\s+TARGET_NR_|/?\*|//)", t))
            if body.startswith("#"):
                continue
            call = guest_name(shim_name, numbers[name], name)
            if call not in abi.by_name:
                continue
            if body == "return -TARGET_ENOSYS;":
                entries.append((call, "failed", "ENOSYS", k, "case returns -TARGET_ENOSYS"))
            elif name in host and name not in import_qemu.EMULATED:
                entries.append((call, "translated", "", k, f"case TARGET_NR_{name}: host {name}"))
            else:
                why = "QEMU does it itself" if name in import_qemu.EMULATED else "no host call of that name"
                entries.append((call, "emulated", "", k, f"case TARGET_NR_{name}: {why}"))
        if default_line is None:
            raise RegenError(f"{src}: no default: in do_syscall1")
        for name, nr in numbers.items():
            call = guest_name(shim_name, nr, name)
            if name not in all_cases and call in abi.by_name:
                entries.append((call, "failed", "ENOSYS", default_line,
                                f"no case TARGET_NR_{name} in syscall.c: default, 'Unsupported syscall'"))
        seen: set[str] = set()
        entries = [e for e in sorted(entries) if not (e[0] in seen or seen.add(e[0]))]
        # every case that returns -TARGET_ENOSYS (few), an even spread of the others
        keep = [e for e in entries if e[4] == "case returns -TARGET_ENOSYS"]
        keep += _spread([e for e in entries if e not in keep], PER_RELEASE, FORCED)
        for call, status, errno, k, ev in sorted(keep):
            rows.append([shim_name, "7.2", call, status, errno, f"{src.repo}@{QEMU_COMMIT}:{src.path}:{k}", ev])
    return rows


FORCED = {"io_uring_setup", "io_uring_enter", "seccomp", "rseq", "splice", "inotify_init1",
          "inotify_add_watch", "clone3", "statx", "close_range", "pidfd_open", "membarrier"}
READERS = {"gvisor": gvisor, "netbsd": netbsd, "linuxulator": linuxulator, "wsl1": wsl1, "illumos-lx": illumos_lx, "qemu": qemu}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="dirs", action="append", type=Path, default=[], required=True)
    p.add_argument("--only", action="append", choices=sorted(READERS))
    a = p.parse_args(argv)
    rows: list[list[str]] = []
    try:
        for name in a.only or READERS:
            rows += READERS[name](a.dirs)
    except RegenError as exc:
        print(f"spotcheck: {exc}", file=sys.stderr)
        return 2
    old = list(csv.reader(OUT.open(encoding="utf-8")))[1:] if OUT.exists() else []
    done = {r[0] for r in rows}
    rows = [r for r in old if r[0] not in done] + rows
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    w.writerows(sorted(rows, key=lambda r: (r[0], r[2])))
    OUT.write_text(buf.getvalue(), encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
