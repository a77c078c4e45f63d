# SPDX-License-Identifier: MIT
"""Argument values as tracers print them: the vocabulary of the format
modules' ``render_arg`` (each tool spells an fd, a pointer, a string or a
flag set its own way) and of the strategies that generate traces."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlagSet:
    """A value of a flag (or enum) family with the names a tracer prints for it.

    ``str(fs)`` is the strace spelling (``O_RDWR|O_CLOEXEC``, ``0`` for none)."""

    family: str
    names: tuple[str, ...]
    value: int
    kind: str = "flags"

    def __str__(self) -> str:
        return "|".join(self.names) if self.names else "0"


@dataclass(frozen=True)
class Fd:
    n: int
    path: str | None = None


@dataclass(frozen=True)
class Ptr:
    addr: int              # 0 = NULL


@dataclass(frozen=True)
class Quoted:
    text: str
    kind: str              # path, string, buf


@dataclass(frozen=True)
class Num:
    value: int
    kind: str              # int, size, mode, ...


@dataclass(frozen=True)
class Named:
    name: str              # AT_FDCWD, SIGINT
    value: int


@dataclass(frozen=True)
class FdPair:
    fds: tuple[int, int]


Value = FlagSet | Fd | Ptr | Quoted | Num | Named | FdPair


def no_text(v: object) -> TypeError:
    return TypeError(f"no text for argument {v!r}")
