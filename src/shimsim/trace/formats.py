# SPDX-License-Identifier: MIT
"""The registry of trace formats: name -> parser module and default guest OS.

strace is parsed here (Python reference) and in the C tokeniser; the other
formats are Python modules with sniff()/parse() (contract in notes/TEAM.md),
imported lazily so that a missing or broken one only matters when used.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from shimsim.errors import ShimsimError, UnknownName

# format name -> (module, default guest ABI)
FORMATS: dict[str, tuple[str, str]] = {
    "strace": ("shimsim.trace.strace", "linux-x86_64"),
    "strace-summary": ("shimsim.trace.strace", "linux-x86_64"),
    "truss-freebsd": ("shimsim.trace.truss_freebsd", "freebsd-amd64"),
    "truss-illumos": ("shimsim.trace.truss_illumos", "illumos-amd64"),
    "dtruss": ("shimsim.trace.dtruss", "darwin-x86_64"),
    "kdump": ("shimsim.trace.kdump", "freebsd-amd64"),
    "runsc-strace": ("shimsim.trace.runsc_strace", "linux-x86_64"),
    "qemu-strace": ("shimsim.trace.qemu_strace", "linux-aarch64"),
}

# DEFAULT_OS of a module -> the ABI used when nothing else says
OS_ABI = {
    "linux": "linux-x86_64", "freebsd": "freebsd-amd64", "netbsd": "netbsd-amd64",
    "openbsd": "openbsd-amd64", "illumos": "illumos-amd64", "solaris": "illumos-amd64",
    "darwin": "darwin-x86_64", "macos": "darwin-x86_64",
}


def names() -> list[str]:
    return list(FORMATS)


def module(name: str) -> ModuleType:
    """The parser module of a format; a clear error if it is not available."""
    if name not in FORMATS:
        raise UnknownName("format", name, FORMATS)
    modname = FORMATS[name][0]
    try:
        return importlib.import_module(modname)
    except ImportError as exc:
        raise ShimsimError(f"the {name} parser is not available ({exc})") from exc


def available(name: str) -> ModuleType | None:
    """The module if it can be imported, else None (used by sniffing only)."""
    try:
        return module(name)
    except ShimsimError:
        return None


def default_abi(name: str, mod: ModuleType | None = None) -> str:
    if mod is not None and getattr(mod, "DEFAULT_OS", None) in OS_ABI and name != "kdump":
        return OS_ABI[mod.DEFAULT_OS]
    return FORMATS[name][1]
