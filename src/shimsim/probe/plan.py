# SPDX-License-Identifier: MIT
"""From a compiled shim to seccomp rules, and the checks that must pass first.

The filter gives a real program exactly the failures the shim would give it:
a call the shim fails returns the shim's errno (guest numbering, which is
Linux numbering because the probe only runs shims whose guest is this host's
own ABI); a call it stubs or fakes returns 0 without running (seccomp cannot
invent output, so a fake is probed as a stub).  Everything else runs on the
real kernel: the probe checks failures, not flag translation or emulation.
"""
from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass, field

from shimsim import shim as _shim
from shimsim import tables
from shimsim.errors import ShimsimError
from shimsim.probe import _seccomp

# Calls never filtered, so that every run can end: with exit_group failing,
# glibc's _exit falls through to a privileged instruction and the process dies
# of SIGSEGV, which says nothing about the layer being modelled.
KEEP = {"exit": "the process must be able to end",
        "exit_group": "the process must be able to end"}


@dataclass
class Rule:
    name: str
    nr: int
    errno: int          # 0: return 0 without running the call
    outcome: str        # the shim's outcome for the call: failed, stubbed, faked, rejected
    arg: int = -1       # rejected: the flag argument, and the flag's bits (shim rule 'reject')
    mask: int = 0

    def to_pair(self) -> list[int]:
        return [self.nr, self.errno] if self.arg < 0 else [self.nr, self.errno, self.arg, self.mask]


@dataclass
class Plan:
    abi: str
    rules: list[Rule]
    kept: dict[str, str] = field(default_factory=dict)      # name -> why it stays unfiltered

    def pairs(self) -> list[list[int]]:
        return [r.to_pair() for r in self.rules]


def host_abi() -> str:
    """This machine's own syscall ABI; the probe can run nothing else."""
    if not sys.platform.startswith("linux"):
        raise ShimsimError(f"shimsim probe needs a Linux host (this is {sys.platform})")
    found = tables.find_abis(os="linux", uname=platform.machine())   # abis.toml `uname`
    abi = found[0] if found else None
    if abi is None:
        raise ShimsimError(f"shimsim probe does not know the syscall ABI of machine {platform.machine()!r}")
    return abi


def strace_path() -> str:
    path = shutil.which("strace")
    if path is None:
        raise ShimsimError("strace is not installed (apt-get install strace): the probe records both runs with it")
    return path


def check_seccomp() -> str:
    """libseccomp loads and the kernel has filters; returns the library version."""
    try:
        version = _seccomp.version()
    except _seccomp.SeccompUnavailable as exc:
        raise ShimsimError(f"seccomp is unavailable: {exc}") from None
    if not _seccomp.kernel_supports_filters():
        raise ShimsimError("seccomp is unavailable: this kernel has no seccomp support (no Seccomp line in /proc/self/status)")
    return version


def resolve_command(cmd: list[str]) -> str:
    """Absolute path of the command, as execvp would find it; exit 2 when missing."""
    if not cmd:
        raise ShimsimError("no command given: shimsim probe --shim NAME -- COMMAND [ARG...]")
    name = cmd[0]
    if "/" in name:
        if not os.path.exists(name):
            raise ShimsimError(f"command not found: {name}")
        if not os.access(name, os.X_OK) or os.path.isdir(name):
            raise ShimsimError(f"command is not executable: {name}")
        return os.path.abspath(name)
    path = shutil.which(name)
    if path is None:
        raise ShimsimError(f"command not found: {name} (not in PATH)")
    return os.path.abspath(path)


def load_shim(name: str, abi: str) -> _shim.CompiledShim:
    """The shim bound to this host's ABI; a clear error when it models another guest."""
    spec = _shim.load_spec(name)
    if spec.guest != _shim.ANY and spec.guest != abi:
        raise ShimsimError(f"shim {spec.name} models guest {spec.guest}, but this host runs {abi} programs: "
                           f"the probe can only run programs of the host's own ABI")
    return _shim.compile_shim(spec, abi)


def plan_for(cs: _shim.CompiledShim) -> Plan:
    """Seccomp rules for every guest syscall the shim fails, stubs or fakes."""
    rules: list[Rule] = []
    kept: dict[str, str] = {}
    for sc in sorted(cs.guest.syscalls, key=lambda s: s.number):
        out = cs.outcome[sc.number]
        if out not in (_shim.FAILED, _shim.STUBBED, _shim.FAKED):
            # flags the layer's handler rejects: the call fails when its argument carries one
            for arg, fmi, err in cs.rejects.get(sc.number, ()):
                for g in sorted({g for _n, g, _h, ok in cs.fmaps[fmi].members if not ok and g > 0}):
                    rules.append(Rule(sc.name, sc.number, err, "rejected", arg, g))
            continue
        if sc.name in KEEP:
            kept[sc.name] = KEEP[sc.name]
            continue
        err = cs.fail_err[sc.number] if out == _shim.FAILED else 0
        rules.append(Rule(sc.name, sc.number, err, _shim.OUTCOME_NAMES[out]))
    check_numbers(cs.guest, [r.name for r in rules])
    return Plan(cs.guest.name, rules, kept)


def single(abi_obj, name: str, err: int) -> Plan:
    """One call failing with ERR (or stubbed, ERR 0): a Loupe trial."""
    sc = abi_obj.syscall(name)
    return Plan(abi_obj.name, [Rule(sc.name, sc.number, err, "failed" if err else "stubbed")])


def check_numbers(abi_obj, names: list[str]) -> None:
    """The table's numbers must be the kernel's: cross-checked with libseccomp's own
    table wherever it knows the name (a mismatch would filter the wrong call)."""
    for name in names:
        nr = _seccomp.resolve_name(name)
        if nr is not None and nr != abi_obj.by_name[name].number:
            raise ShimsimError(f"syscall {name}: {abi_obj.name} table says {abi_obj.by_name[name].number}, "
                               f"libseccomp {_seccomp.version()} says {nr}; refusing to filter the wrong call")
