# SPDX-License-Identifier: MIT
"""Engine selection: the C core, or the pure-Python reference, chosen explicitly.

There is no silent fallback: if the C core was not built, selecting it is an
error that says so.  ``--engine`` on the command line wins over the
``SHIMSIM_ENGINE`` environment variable; the default is ``c``.
"""
from __future__ import annotations

import os
from typing import Literal

from shimsim.errors import ShimsimError

Engine = Literal["c", "python"]
ENGINES: tuple[Engine, ...] = ("c", "python")


def select(explicit: str | None = None) -> Engine:
    name = explicit or os.environ.get("SHIMSIM_ENGINE") or "c"
    if name not in ENGINES:
        raise ShimsimError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
    if name == "c":
        core()  # fail now, with a clear message, if the core is missing
    return name  # type: ignore[return-value]


def core():  # -> the compiled cffi module
    """The compiled C core (``shimsim._core``); a clear error if it is missing."""
    try:
        from shimsim import _core
    except ImportError as exc:  # pragma: no cover - only on a broken install
        raise ShimsimError(
            f"the C core is not built ({exc}); reinstall with 'pip install .' "
            "or choose the reference with --engine python"
        ) from exc
    return _core
