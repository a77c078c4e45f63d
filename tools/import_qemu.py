# SPDX-License-Identifier: MIT
"""Build the QEMU user-mode shim specs (qemu-user*@VERSION.toml) from QEMU's own
``linux-user/`` sources.

    python tools/import_qemu.py --src DIR/qemu-7.2.0 --version 7.2 \\
        --upstream qemu-project/qemu@b67b00e6b4c7831a3f5bc684bc0df7a9bfd1bd56 [--out tables/shims]

(b67b00e6 is the commit the v7.2.0 tag names, "Update VERSION for v7.2.0").

DIR is an unpacked QEMU release (Debian's ``apt-get source qemu`` gives the
7.2.0 release tarball as ``qemu_7.2+dfsg.orig.tar.xz``; its stable updates
v7.2.1..v7.2.22 in debian/patches add or remove no ``case TARGET_NR_`` in
linux-user/syscall.c).  For each guest (linux-aarch64; riscv64 once shimsim has its ABI) on an
x86-64 host the importer runs a small C preprocessor over
``linux-user/syscall.c`` and the linux-user headers it includes, with:

* the target's macros as QEMU's meson.build defines them (TARGET_<ARCH>,
  TARGET_<BASE_ARCH>, TARGET_ABI_BITS) and the TARGET_NR_* numbers of
  linux-user/<arch>/syscall_nr.h;
* the host's __NR_* names (tables/syscalls/linux-x86_64.csv) and __x86_64__;
* the CONFIG_* feature tests of meson.build, all true for a glibc x86-64
  build such as Debian's (HOST_CONFIG below).

Every ``case TARGET_NR_x:`` left in do_syscall1 is a call QEMU handles; a
case whose body is only ``return -TARGET_ENOSYS`` (set_robust_list, ...)
fails with ENOSYS; every other guest number reaches ``default:``, which
logs "Unsupported syscall" and returns -TARGET_ENOSYS.  A handled call is
translated to the host call of the same name when the host has one (QEMU
converts arguments, flags and structures on the way), and emulated when
QEMU does the work itself (EMULATED: the guest address space, signals,
threads) or the host has no such call.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "src"))
from import_compat import Rule, write_spec  # noqa: E402

# meson.build config_host_data checks (cc.has_function / cc.links / has_header),
# true on a glibc x86-64 host
HOST_CONFIG = ["CONFIG_TIMERFD", "CONFIG_SETNS", "CONFIG_OPEN_BY_HANDLE", "CONFIG_CLOCK_ADJTIME",
               "CONFIG_SYNC_FILE_RANGE", "CONFIG_SYNCFS", "CONFIG_SPLICE", "CONFIG_SENDFILE",
               "CONFIG_INOTIFY", "CONFIG_INOTIFY1", "CONFIG_FALLOCATE", "CONFIG_EVENTFD", "CONFIG_EPOLL",
               "CONFIG_EPOLL_CREATE1", "CONFIG_DUP3", "CONFIG_ATTR", "CONFIG_PRCTL_PR_SET_TIMERSLACK",
               "CONFIG_LINUX", "HAVE_STRUCT_STAT_ST_ATIM", "CONFIG_USER_ONLY", "CONFIG_LINUX_USER",
               "CONFIG_FIEMAP", "CONFIG_RTNETLINK", "CONFIG_GETRANDOM", "CONFIG_MEMFD", "CONFIG_SYNC_FILE_RANGE"]
HOST_MACROS = {"__x86_64__": "1", "__linux__": "1", "HOST_X86_64": "1"}

TARGETS = {
    # guest ABI -> (linux-user dir, macros meson.build defines, shim stem)
    "linux-aarch64": ("aarch64", {"TARGET_AARCH64": "1", "TARGET_ARM": "1", "TARGET_ABI_BITS": "64",
                                  "TARGET_LONG_BITS": "64"}, "qemu-user"),
    "linux-riscv64": ("riscv", {"TARGET_RISCV64": "1", "TARGET_RISCV": "1", "TARGET_ABI_BITS": "64",
                                "TARGET_LONG_BITS": "64"}, "qemu-user-riscv64"),
}

# Calls QEMU carries out itself rather than passing to the host call of the
# same name (function in linux-user/ that does it)
EMULATED = {
    "brk": "do_brk: the guest heap is kept inside the guest address space",
    "mmap": "target_mmap (linux-user/mmap.c): guest pages mapped within the guest address space",
    "munmap": "target_munmap (linux-user/mmap.c)",
    "mprotect": "target_mprotect (linux-user/mmap.c)",
    "mremap": "target_mremap (linux-user/mmap.c)",
    "madvise": "target_madvise: only MADV_DONTNEED is passed on when safe, other advice is ignored",
    "shmat": "do_shmat: mapped within the guest address space",
    "shmdt": "do_shmdt",
    "clone": "do_fork: threads get a new guest CPU state; only pthread-style and fork-style flag sets are accepted (EINVAL otherwise)",
    "rt_sigaction": "do_sigaction: signals are queued and delivered by QEMU with guest signal frames",
    "rt_sigprocmask": "do_sigprocmask: the guest mask is kept by QEMU",
    "rt_sigreturn": "do_rt_sigreturn: the guest signal frame is unwound by QEMU",
    "sigaltstack": "do_sigaltstack: the guest alternate stack is kept by QEMU",
    "rt_sigsuspend": "the guest mask is kept by QEMU (process_pending_signals)",
    "rt_sigpending": "the guest's pending set is kept by QEMU",
    "exit": "thread teardown of the guest CPU (exit of the last thread exits the process)",
    "execve": "path and argument copies; the host execve runs the target file, through binfmt when registered",
    "execveat": "as execve",
    "set_tid_address": "the clear-child-tid address is translated to the guest address space",
    "prctl": "do_prctl: PR_GET/SET_NAME, PR_SET_PDEATHSIG ...; arch-specific options emulated, others passed on",
    "openat": "do_openat: /proc/self/{maps,stat,auxv,cmdline,exe} and /proc/cpuinfo are faked for the guest",
    "readlinkat": "/proc/self/exe resolves to the guest executable (exec_path)",
    "uname": "the machine field reports the guest CPU (cpu_to_uname_machine)",
    "getrandom": "host getrandom, guest buffer translated",
}
FUNC_CASE = re.compile(r"^\s*case\s+TARGET_NR_(\w+)\s*:")
DIRECTIVE = re.compile(r"^\s*#\s*(\w+)\s*(.*)$")


class PP:
    """A small C preprocessor: conditionals, object-like #define/#undef and
    #include "..." within linux-user/; enough for QEMU's syscall tables."""

    def __init__(self, src: Path, arch_dir: str, macros: dict[str, str]) -> None:
        self.dirs = [src / "linux-user" / arch_dir, src / "linux-user" / "generic", src / "linux-user"]
        self.macros = dict(macros)
        self.seen: set[Path] = set()

    def expr(self, text: str, where: str) -> bool:
        text = re.sub(r"/\*.*?\*/|//.*$", "", text)
        text = re.sub(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)",
                      lambda m: "1" if (m.group(1) or m.group(2)) in self.macros else "0", text)

        # function-like macros (KERNEL_VERSION(2,6,0)) are not expanded: 0, as for unknown names
        text = re.sub(r"\b[A-Za-z_]\w*\s*\([^()]*\)", "0", text)

        def ident(m: re.Match) -> str:
            v = self.macros.get(m.group(0), "0")
            return v if re.fullmatch(r"(0x[0-9a-fA-F]+|\d+)[UL]*", v or "0") else "0"
        text = re.sub(r"\b[A-Za-z_]\w*\b", ident, text)
        text = re.sub(r"(\d+)[UL]+\b", r"\1", text)
        text = re.sub(r"\b0([0-7]+)\b", r"0o\1", text)      # C octal
        text = text.replace("&&", " and ").replace("||", " or ")
        text = re.sub(r"!(?!=)", " not ", text)
        try:
            return bool(eval(text, {"__builtins__": {}}, {}))  # noqa: S307 (digits and operators only)
        except Exception as exc:  # noqa: BLE001
            raise SystemExit(f"import_qemu: {where}: cannot evaluate #if {text!r}: {exc}")

    def lines(self, path: Path):
        """(path, lineno, text) of the active lines of PATH and what it includes."""
        raw = path.read_text(errors="replace").splitlines()
        # join continued lines
        joined: list[tuple[int, str]] = []
        buf, start = "", 0
        for i, line in enumerate(raw, 1):
            if not buf:
                start = i
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            joined.append((start, buf + line))
            buf = ""
        stack: list[list[bool]] = []     # [this branch active, some branch taken]
        active = True
        for lineno, line in joined:
            m = DIRECTIVE.match(line)
            where = f"{path.name}:{lineno}"
            if m:
                d, rest = m.group(1), m.group(2).strip()
                if d in ("if", "ifdef", "ifndef"):
                    if not active:
                        stack.append([False, True, active])
                    else:
                        name = rest.split()[0] if d != "if" and rest else ""
                        val = (name in self.macros if d == "ifdef" else
                               name not in self.macros if d == "ifndef" else self.expr(rest, where))
                        stack.append([val, val, active])
                    active = stack[-1][0] and stack[-1][2]
                    continue
                if d == "elif":
                    top = stack[-1]
                    if top[1] or not top[2]:
                        top[0] = False
                    else:
                        top[0] = self.expr(rest, where)
                        top[1] = top[0]
                    active = top[0] and top[2]
                    continue
                if d == "else":
                    top = stack[-1]
                    top[0] = not top[1] and top[2]
                    top[1] = True
                    active = top[0]
                    continue
                if d == "endif":
                    top = stack.pop()
                    active = top[2]
                    continue
                if not active:
                    continue
                if d == "define":
                    mm = re.match(r"(\w+)(\(?)\s*(.*)", rest)
                    if mm and not mm.group(2):
                        val = re.sub(r"/\*.*?\*/|//.*$", "", mm.group(3)).strip()
                        self.macros[mm.group(1)] = val
                    continue
                if d == "undef":
                    self.macros.pop(rest.split()[0], None)
                    continue
                if d == "include":
                    mm = re.match(r'"([^"]+)"', rest)
                    if mm:
                        inc = self.find(mm.group(1))
                        if inc is not None and inc not in self.seen:
                            self.seen.add(inc)
                            yield from self.lines(inc)
                    continue
                continue
            if active:
                yield path, lineno, line

    def find(self, name: str) -> Path | None:
        for d in self.dirs:
            if (d / name).is_file():
                return (d / name).resolve()
        return None


def host_names() -> set[str]:
    with (ROOT / "tables" / "syscalls" / "linux-x86_64.csv").open() as f:
        return {r["name"] for r in csv.DictReader(row for row in f if not row.startswith("#"))}


def handled(src: Path, guest: str) -> tuple[dict[str, tuple[str, int]], set[str], dict[str, int]]:
    """(case name -> (body kind, line), target numbers, macros) for one guest."""
    arch_dir, target_macros, _ = TARGETS[guest]
    macros = dict(HOST_MACROS)
    macros.update({m: "1" for m in HOST_CONFIG})
    macros.update(target_macros)
    macros.update({f"__NR_{n}": "1" for n in host_names()})
    pp = PP(src, arch_dir, macros)
    syscall_c = src / "linux-user" / "syscall.c"
    body: list[tuple[int, str]] = []
    inside = False
    for path, lineno, line in pp.lines(syscall_c):
        if path == syscall_c.resolve() or path == syscall_c:
            if line.startswith("static abi_long do_syscall1("):
                inside = True
            elif inside and line.startswith("abi_long do_syscall("):
                inside = False
            if inside:
                body.append((lineno, line))
    targets = {k[len("TARGET_NR_"):] for k in pp.macros if k.startswith("TARGET_NR_")}
    # each label's body: the text until the next label that has text of its own
    labels: list[tuple[str, int]] = []
    segments: dict[int, list[str]] = {}
    for lineno, line in body:
        m = FUNC_CASE.match(line)
        if m:
            labels.append((m.group(1), lineno))
            segments[len(labels) - 1] = []
        elif labels:
            segments[len(labels) - 1].append(line)
    out: dict[str, tuple[str, int]] = {}
    for i, (name, lineno) in enumerate(labels):
        j = i
        while j < len(labels) - 1 and not "".join(segments[j]).strip():
            j += 1
        text = re.sub(r"/\*.*?\*/", "", " ".join(segments[j]), flags=re.S)
        text = re.sub(r"//[^\n]*", "", text)
        kind = "enosys" if re.fullmatch(r"[\s{}]*return\s+-TARGET_ENOSYS;[\s{}]*(default:.*)?", text) else "handled"
        out.setdefault(name, (kind, lineno))
    return out, targets, pp.macros


def build(src: Path, guest: str, upstream: str) -> tuple[list[Rule], list[str]]:
    from shimsim import tables
    abi = tables.load_abi(guest)
    host = host_names()
    cases, targets, _macros = handled(src, guest)
    rules, unknown = [], []
    for name in sorted(targets, key=lambda n: int(_num(n, _macros))):
        if name not in abi.by_name:
            unknown.append(name)
            continue
        if name not in cases:
            rules.append(Rule(name, "fail", errno="ENOSYS",
                              note="no case in do_syscall1: default logs 'Unsupported syscall' and returns -TARGET_ENOSYS"))
            continue
        kind, lineno = cases[name]
        where = f"linux-user/syscall.c:{lineno}"
        if kind == "enosys":
            rules.append(Rule(name, "fail", errno="ENOSYS", note=f"{where}: the case returns -TARGET_ENOSYS"))
        elif name in EMULATED:
            rules.append(Rule(name, "emulate", note=f"{where}: {EMULATED[name]}"))
        elif name in host:
            rules.append(Rule(name, "translate", to=name,
                              note=f"{where}: host {name}, arguments and structures converted"))
        else:
            rules.append(Rule(name, "emulate", note=f"{where}: no host call of that name; QEMU builds it"))
    # guest calls with no TARGET_NR_ at all: QEMU cannot even name them
    # (one rule per syscall: an alias such as newfstat for fstat is covered by its syscall's rule)
    for name in sorted(abi.by_name):
        sc = abi.by_name[name]
        if name != sc.name or any(n in targets for n in (sc.name, *sc.aliases)):
            continue
        if name not in targets:
            rules.append(Rule(name, "fail", errno="ENOSYS",
                              note=f"no TARGET_NR_{name} in linux-user/{TARGETS[guest][0]}/syscall_nr.h: 'Unsupported syscall'"))
    return rules, unknown


def _num(name: str, macros: dict[str, str]) -> int:
    v = macros.get(f"TARGET_NR_{name}", "")
    m = re.search(r"\d+", v)
    return int(m.group(0)) if m and re.fullmatch(r"\(?\s*\d+\s*\)?", v) else 1 << 20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, required=True, help="an unpacked QEMU source tree")
    ap.add_argument("--version", required=True, help="the name the shims carry, e.g. 7.2")
    ap.add_argument("--upstream", required=True, help="repo@commit the tree is (a 40-hex commit, not a tag), e.g. qemu-project/qemu@b67b00e6b4c7831a3f5bc684bc0df7a9bfd1bd56")
    ap.add_argument("--out", type=Path, default=ROOT / "tables" / "shims")
    a = ap.parse_args()
    for guest, (arch_dir, _m, stem) in TARGETS.items():
        rules, unknown = build(a.src, guest, a.upstream)
        name = f"{stem}@{a.version}"
        prov = [f"{a.upstream}:linux-user/syscall.c", f"{a.upstream}:linux-user/{arch_dir}/syscall_nr.h",
                f"{a.upstream}:linux-user/syscall_defs.h", f"{a.upstream}:meson.build"]
        write_spec(a.out / f"{name}.toml", {
            "name": name, "guest": guest, "host": "linux-x86_64",
            "description": f"QEMU {a.version} user mode (qemu-{guest.split('-')[1]}): {guest} programs on a linux-x86_64 host",
            "provenance": prov,
            "default_note": "numbers with no case in do_syscall1: 'Unsupported syscall', -TARGET_ENOSYS"},
            rules, [f"{a.upstream}:linux-user/syscall.c"], generator="tools/import_qemu.py")
        if unknown:
            print(f"{name}: TARGET_NR_ names not in {guest}: {' '.join(unknown)}", file=sys.stderr)


if __name__ == "__main__":
    main()
