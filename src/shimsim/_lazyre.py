# SPDX-License-Identifier: MIT
"""Regular expressions compiled on first use (issue 17: start-up).

Every trace format's module is imported to sniff a trace's first lines, and
compiling all their module-level patterns cost more than parsing a small
trace.  ``lazy_re(pattern, flags)`` stands for ``re.compile(pattern, flags)``:
the first attribute asked of it compiles the pattern and binds the compiled
pattern's methods (``match``, ``search``, ...) on the object itself, so that
from then on ``P.match(s)`` is an instance-dict lookup of the bound method, no
dearer than on a compiled pattern.  ``pattern`` and ``flags`` are known
without compiling; ``compiled()`` gives the ``re.Pattern`` itself.
"""
from __future__ import annotations

import re

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

_BIND = ("match", "fullmatch", "search", "finditer", "findall", "sub", "subn", "split",
         "scanner", "groups", "groupindex")


class LazyPattern:
    """A pattern compiled on first use; see the module's docstring."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags

    def compiled(self) -> re.Pattern[str]:
        p: re.Pattern[str] | None = self.__dict__.get("_compiled")
        if p is None:
            p = re.compile(self.pattern, self.flags)
            d = self.__dict__
            for name in _BIND:
                d[name] = getattr(p, name)
            d["_compiled"] = p
        return p

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes not yet bound: compile, then look again
        if name.startswith("__") or name not in _BIND:
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        return f"lazy_re({self.pattern!r})" if not self.flags else f"lazy_re({self.pattern!r}, {self.flags!r})"


def lazy_re(pattern: str, flags: int = 0) -> LazyPattern:
    """``re.compile(pattern, flags)``, compiled when first used."""
    return LazyPattern(pattern, flags)
