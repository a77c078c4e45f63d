# SPDX-License-Identifier: MIT
"""Probed programs run without the sanitizer runtime CI preloads into the test process.

The sanitizer job sets LD_PRELOAD=libasan.so for Python (the core is built with
-fsanitize=address); the probe's children would inherit it, and libasan reads
/proc/self/maps at start-up in chunks whose sizes change with the address layout,
so two runs of the same `cat` part at a read that the program never made.  The
probe's own process keeps the runtime it has already loaded.
"""
from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_sanitizer_runtime_in_probed_programs(monkeypatch: pytest.MonkeyPatch) -> None:
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        monkeypatch.delenv("LD_PRELOAD")
