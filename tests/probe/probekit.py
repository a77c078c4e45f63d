# SPDX-License-Identifier: MIT
"""What the probe tests share: whether seccomp filters can be loaded here, and
hand-written shims that translate everything but the calls a test names."""
from __future__ import annotations

import shutil
from pathlib import Path

from shimsim.probe import _seccomp
from shimsim.probe import plan as _plan

SHIM_HEAD = """[shim]
name = "{name}"
guest = "linux-x86_64"
host = "linux-x86_64"
provenance = ["shimsim tests: hand-written"]
default = "translate"

[syscalls]
"""


def unavailable() -> str | None:
    """Why the probe cannot run its test shims here (strace, seccomp, a
    linux-x86_64 host), or None."""
    if shutil.which("strace") is None:
        return "strace is not installed"
    try:
        _seccomp.version()
    except _seccomp.SeccompUnavailable as exc:
        return f"seccomp unavailable: {exc}"
    if not _seccomp.kernel_supports_filters():
        return "seccomp unavailable: kernel without seccomp"
    if _plan.host_abi() != "linux-x86_64":
        return "the test shims model linux-x86_64 guests"
    return None


def write_shim(tmp_path: Path, name: str, rules: str) -> str:
    """A linux-x86_64 -> linux-x86_64 shim spec that translates all but RULES."""
    p = tmp_path / f"{name}.toml"
    p.write_text(SHIM_HEAD.format(name=name) + rules, encoding="utf-8")
    return str(p)
