# SPDX-License-Identifier: MIT
"""The engine seam: the one place the C core or the pure-Python reference is
chosen.

``get(name)`` returns an engine object; the rest of the program asks it, and
never tests an engine's name.  An engine has

* ``name``: "c" or "python" (what reports print);
* ``events(trace)``: the trace's ``model.Event`` objects;
* ``chunks(trace)``: the trace in the engine's own batches (lists of Events
  for Python, ss_event arrays for C), what its replay session takes;
* ``chunks_of(events, guest)``: Python events as such batches;
* ``to_events(chunk)``: a batch as Events;
* ``session(compiled_shim)``: a replay session with ``feed(chunk, sink)``
  and ``totals(report)`` (the sink is ``shimsim.replay.Replayer``).

``engine.c`` (the only module that touches ``ffi``/``lib``) and
``engine.python`` (the reference) are the two engines.  There is no silent
fallback: if the C core was not built, choosing it is an error that says so.
``--engine`` on the command line wins over the ``SHIMSIM_ENGINE`` environment
variable; the default is ``c``.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from shimsim import model
from shimsim.errors import ShimsimError

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any, Literal, Protocol

    EngineName = Literal["c", "python"]
    Engine = EngineName      # backwards compatible: the type of an engine name (annotations only)

    class EngineObject(Protocol):
        name: str

        def available(self) -> None: ...
        def events(self, trace: Any) -> Iterator[model.Event]: ...
        def chunks(self, trace: Any) -> Iterator[Any]: ...
        def chunks_of(self, events: Iterable[model.Event], guest: str) -> Iterator[Any]: ...
        def to_events(self, chunk: Any) -> Iterable[model.Event]: ...
        def session(self, cs: Any) -> Any: ...

ENGINES: tuple[EngineName, ...] = ("c", "python")


def name(explicit: str | None = None) -> str:
    """The engine name chosen by ``explicit``, else $SHIMSIM_ENGINE, else "c"."""
    n = explicit or os.environ.get("SHIMSIM_ENGINE") or "c"
    if n not in ENGINES:
        raise ShimsimError(f"unknown engine {n!r}: expected one of {', '.join(ENGINES)}")
    return n


def get(which: str | EngineObject | None = None) -> EngineObject:
    """The engine object for a name (None: $SHIMSIM_ENGINE or "c"); an engine
    object is returned as it is.  Choosing C fails now, with a clear
    message, if the core is missing."""
    if which is not None and not isinstance(which, str):
        return which
    n = name(which)
    if n == "python":
        from shimsim.engine import python as mod
    else:
        from shimsim.engine import c as mod  # type: ignore[no-redef]
    eng = mod.ENGINE
    eng.available()
    return eng


def select(explicit: str | None = None) -> str:
    """The chosen engine's name (backwards compatible; ``get`` gives the engine)."""
    return get(explicit).name


def core():  # -> the compiled cffi module (backwards compatible)
    """The compiled C core (``shimsim._core``); a clear error if it is missing."""
    from shimsim.engine import c

    return c.core()
