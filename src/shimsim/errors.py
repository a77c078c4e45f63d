# SPDX-License-Identifier: MIT
"""Errors a user can act on.  The CLI prints them as one line and exits 2."""
from __future__ import annotations

from collections.abc import Iterable


class ShimsimError(Exception):
    """Bad input or usage: shown to the user without a traceback."""

    exit_status = 2


class InputError(ShimsimError):
    """Bad content in a file: names the file and line and what was expected."""

    def __init__(self, path: str, line: int | None, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class UnknownName(ShimsimError):
    """An ABI, syscall, family or constant that does not exist; suggests near names."""

    def __init__(self, what: str, name: str, known: Iterable[str]) -> None:
        self.what = what
        self.name = name
        import difflib  # only for this message: not at start-up

        close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        super().__init__(f"unknown {what} {name!r}{hint}")
