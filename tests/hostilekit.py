# SPDX-License-Identifier: MIT
"""Helpers shared by the hostile-input tests (tests/test_hostile_input.py, tests/image/test_image_hostile.py):
the CLI in a child process under an address-space cap, and the one-line error every refusal must be."""
from __future__ import annotations

import os
import resource
import subprocess
import sys

MEM_CAP = 1 << 30       # address space of the child: 1 GiB, ten times a 100 MB line


def cli_capped(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``python -m shimsim ARGS`` with its address space capped at MEM_CAP."""
    def cap() -> None:
        # ASan reserves terabytes of shadow address space at start-up, so under the sanitizer
        # job no address-space cap can apply; the normal run checks the bound.
        if "libasan" not in os.environ.get("LD_PRELOAD", ""):
            resource.setrlimit(resource.RLIMIT_AS, (MEM_CAP, MEM_CAP))
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True,
                          preexec_fn=cap, timeout=timeout)


def one_line(err: str, *needles: str) -> None:
    """ERR is a single ``shimsim: error:`` line, no traceback, holding every needle."""
    assert err.count("\n") == 1 and err.startswith("shimsim: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)
