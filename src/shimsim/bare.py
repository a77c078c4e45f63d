# SPDX-License-Identifier: MIT
"""No layer: the host kernel meets a guest program directly (``host_kind = "bare"``).

What really happens when nothing translates (the "FreeBSD image silently
failed" case), per host:

* **the loader.**  Linux's ELF loader checks the magic, the class and the
  machine, never the OS brand (EI_OSABI, ABI notes): a FreeBSD, NetBSD or
  illumos x86-64 ELF is started (torvalds/linux fs/binfmt_elf.c,
  load_elf_binary).  A dynamic one names its own interpreter in PT_INTERP
  (/libexec/ld-elf.so.1): when the host has no file there, execve fails with
  ENOENT and the program never starts.  FreeBSD's loader looks for a
  registered brand (EI_OSABI, the ABI note, the interpreter path, the
  fallback brand) and refuses an ELF it has none for with ENOEXEC ("ELF
  binary type "0" not known", freebsd-src sys/kern/imgact_elf.c): a Linux
  ELF without the linux64 brand loaded never runs.  A file of another
  machine, or Mach-O or PE, is "exec format error" (ENOEXEC) everywhere.
* **the syscall entry.**  The guest's number is looked up in the host's own
  table: FreeBSD ``write`` (4) runs Linux ``stat``, FreeBSD ``mmap`` (477)
  has no Linux call (-ENOSYS).  Only a call that happens to have the same
  number, name and arguments on both (FreeBSD and Linux ``execve``, 59) does
  what the guest asked.
* **the error convention.**  BSD libcs test the carry flag for an error and
  read a positive errno from rax; Linux returns -errno in rax and hands the
  caller's flags back unchanged (restored from r11), so the carry flag is
  whatever it was before the call, normally clear: the guest's libc takes
  -38 (ENOSYS) or -14 (EFAULT) as a successful result.  The program goes
  wrong silently; nothing it sees says "unsupported".

shimsim.shim.compile_bare marks every call that lands on another call (or on
nothing) as failed with no errno: the replay reports, at each call, the host
call its number lands on and what the guest sees instead, and the first
such call that the recording shows succeeding is where the program goes
wrong.  The loader's verdict (refused, interpreter missing, started) comes
first; it is decided from the program file when the trace or ``--binary``
names one, else from the trace's own shape, else said to be unknown.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

from shimsim.errors import ShimsimError

LINUX_LOADER = "torvalds/linux@39fe5434cb9de5da40510028b17b96bc4eb312b3:fs/binfmt_elf.c"
FREEBSD_LOADER = "freebsd/freebsd-src@8c0a9afe01518e87ffb5cf6ec092851a84aaaef9:sys/kern/imgact_elf.c"
MACHINE = {"x86_64": "x86-64", "amd64": "x86-64", "aarch64": "arm64", "arm64": "arm64", "i386": "i386"}
# the error convention of each OS's syscall return (who reads what)
CARRY_FLAG_OSES = {"freebsd", "netbsd", "openbsd", "darwin", "illumos"}
OS_NAMES = {"linux": "Linux", "freebsd": "FreeBSD", "netbsd": "NetBSD", "openbsd": "OpenBSD",
            "illumos": "illumos", "darwin": "Darwin"}


@dataclass
class BareHost:
    """What a host without a layer does with one guest ABI."""
    guest: str
    host: str
    host_os: str
    guest_os: str
    loader: str                   # "same" | "starts" | "refuses"
    loader_text: str
    loader_source: str
    landing: dict[int, str | None] = field(default_factory=dict)   # guest nr -> host call name (None: none)
    enosys: int = 38              # the host's ENOSYS value (what the guest reads when nothing is there)

    def lands(self, nr: int, guest_name: str) -> str:
        """One call: the host call its number lands on and what the guest sees."""
        g, h = OS_NAMES.get(self.guest_os, self.guest_os), OS_NAMES.get(self.host_os, self.host_os)
        hname = self.landing.get(nr)
        reads = (f"{g}'s libc tests the carry flag, which {h} leaves as it was (normally clear), "
                 "so it takes that value as a successful result" if self.guest_os in CARRY_FLAG_OSES
                 else f"the guest reads {h}'s return value by its own convention")
        if hname is None:
            return (f"{g} {guest_name} (number {nr}) has no {h} call at that number: {h} returns "
                    f"-ENOSYS (-{self.enosys}) and {reads}")
        return (f"{g} {guest_name} (number {nr}) lands on {h} {hname}: {h} runs {hname} with "
                f"{guest_name}'s arguments and returns its result or a negative errno; {reads}")

    def sees(self, nr: int) -> str:
        hname = self.landing.get(nr)
        if hname is None:
            return f"{-self.enosys} read as success (host -ENOSYS, no carry flag)"
        return f"{hname}'s return value, read as success"


def _machine(abi) -> str:
    return MACHINE.get(abi.arch, abi.arch)


def loader_for(guest, host) -> tuple[str, str, str]:
    """(status, text, source) of the host's loader meeting a guest ELF of that ABI."""
    g, h = OS_NAMES.get(guest.os, guest.os), OS_NAMES.get(host.os, host.os)
    if guest.name == host.name:
        return "same", f"the host runs its own ABI ({host.name}): no layer is needed", LINUX_LOADER
    if _machine(guest) != _machine(host):
        return ("refuses", f"{h}'s loader refuses an ELF for another machine ({guest.arch} on {host.arch}): "
                           "execve fails with ENOEXEC (exec format error) and the program never starts",
                LINUX_LOADER if host.os == "linux" else FREEBSD_LOADER)
    if host.os == "linux":
        return ("starts", f"Linux's ELF loader does not check the OS brand: the {g} {guest.arch} ELF is started "
                          "(a dynamic one only if its PT_INTERP file exists on the host) and every syscall "
                          "number is read from Linux's own table", LINUX_LOADER)
    if host.os == "freebsd":
        return ("refuses", f"FreeBSD's ELF loader finds no registered brand for a {g} ELF (no compat module "
                           "loaded): execve fails with ENOEXEC (\"ELF binary type not known\") and the program "
                           "never starts", FREEBSD_LOADER)
    raise ShimsimError(f"a bare {host.name} host is not modelled (only Linux and FreeBSD hosts)")


# --------------------------------------------------------------------------- the loader, per program

_MACHO = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")


@dataclass
class LoaderVerdict:
    status: str          # "refused" | "interpreter-missing" | "started" | "unknown"
    text: str
    evidence: str

    def to_json(self) -> dict:
        return {"status": self.status, "text": self.text, "evidence": self.evidence}


def judge_program(bh: BareHost, path: str | None, root: str | None, so_opened: str | None) -> LoaderVerdict:
    """The host's loader meeting this program: from its file when one is readable,
    else from the trace's shape (a shared library opened: a dynamic program)."""
    h = OS_NAMES.get(bh.host_os, bh.host_os)
    if bh.loader == "refuses":
        return LoaderVerdict("refused", bh.loader_text, bh.loader_source)
    real = (os.path.join(root, path.lstrip("/")) if root and path else path)
    head = b""
    if real:
        try:
            with open(real, "rb") as fh:
                head = fh.read(64)
        except OSError:
            head = b""
    if head:
        if head[:4] in _MACHO:
            return LoaderVerdict("refused", f"{path} is a Mach-O file: {h} has no loader for it; execve fails "
                                            "with ENOEXEC (exec format error)", bh.loader_source)
        if head[:2] == b"MZ":
            return LoaderVerdict("refused", f"{path} is a PE file: execve fails with ENOEXEC (exec format error)",
                                 bh.loader_source)
        if head[:4] == b"\x7fELF":
            from shimsim.elf.ident import identify
            from shimsim.elf.reader import ElfReadError, read_elf
            try:
                ident = identify(read_elf(real))
            except ElfReadError as exc:
                return LoaderVerdict("unknown", f"{path}: {exc}", path)
            if ident.interp:
                ipath = os.path.join(root, ident.interp.lstrip("/")) if root else ident.interp
                where = f"under {root}" if root else "on this host"
                if not os.path.exists(ipath):
                    return LoaderVerdict(
                        "interpreter-missing",
                        f"{path} is dynamic: {h} loads its PT_INTERP {ident.interp}, which does not exist "
                        f"{where}; execve fails with ENOENT and the program never starts", path)
                return LoaderVerdict(
                    "started", f"{path} is dynamic and its interpreter {ident.interp} exists {where}: {h} starts "
                               f"it, and the interpreter's own syscalls are read from {h}'s table", path)
            return LoaderVerdict("started", f"{path} is {ident.linkage}: {bh.loader_text}", path)
    if so_opened:
        return LoaderVerdict(
            "interpreter-missing",
            f"the trace shows the program's dynamic loader at work (it opens {so_opened}): on a {h} host its "
            f"execve fails at the PT_INTERP path with ENOENT unless that interpreter file exists there "
            f"(an image's root filesystem: give --root DIR to check)", "the trace's shape")
    what = f"{path} is not readable here" if path else "the trace names no program file"
    return LoaderVerdict("unknown", f"{what} and the trace does not show whether it is static: if it is, "
                                    f"{bh.loader_text}; if dynamic, its execve fails at the interpreter path "
                                    "(ENOENT) when the host has no such file", "none (give --binary FILE)")
