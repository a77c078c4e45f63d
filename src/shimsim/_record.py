# SPDX-License-Identifier: MIT
"""Plain record classes for the ``parse`` path (issue 17: start-up).

``dataclasses`` imports ``inspect`` (with ``ast``, ``dis``, ``tokenize``: about
6 ms) and ``@dataclass`` generates and compiles each class's methods when the
module is imported (0.2 to 0.7 ms a class; ~22 classes on the way to parsing a
trace).  The classes ``parse`` needs are written out instead: each has its own
``__init__`` and names its fields in ``_FIELDS`` (its ``__slots__`` too when
the dataclass had ``slots=True``); ``Record`` gives the ``__repr__`` and
``__eq__`` ``@dataclass`` would (field by field, only between instances of the
same class), ``Frozen`` adds ``frozen=True``'s refusal to assign and the hash
of the fields.  ``replace`` and ``asdict`` stand for the ``dataclasses``
functions of the same name on these classes.
"""
from __future__ import annotations

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any


class FrozenError(AttributeError):
    """Assigning to a field of a frozen record (dataclasses.FrozenInstanceError's role)."""


class Record:
    """Base of a plain record class: ``__repr__`` and ``__eq__`` over ``_FIELDS``."""

    __slots__ = ()
    _FIELDS: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (f"{type(self).__qualname__}("
                + ", ".join(f"{n}={getattr(self, n)!r}" for n in self._FIELDS) + ")")

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, n) for n in self._FIELDS)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._values() == other._values()  # type: ignore[attr-defined]
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]   # as @dataclass(eq=True) without frozen


class Frozen(Record):
    """A record whose fields cannot be assigned after ``__init__`` (which fills ``self.__dict__``);
    hashable by its fields, as ``@dataclass(frozen=True)``."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"cannot delete field {name!r}")

    def __hash__(self) -> int:
        return hash(self._values())


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of a record with some fields changed (``dataclasses.replace``)."""
    for k in changes:
        if k not in obj._FIELDS:
            raise TypeError(f"{type(obj).__qualname__} has no field {k!r}")
    return type(obj)(**{n: changes[n] if n in changes else getattr(obj, n) for n in obj._FIELDS})


def asdict(obj: Any) -> Any:
    """Fields as a dict, records, lists, tuples and dicts inside copied the same way
    (``dataclasses.asdict``); other values as they are."""
    if isinstance(obj, Record):
        return {n: asdict(getattr(obj, n)) for n in obj._FIELDS}
    if isinstance(obj, list):
        return [asdict(v) for v in obj]
    if isinstance(obj, dict):
        return {asdict(k): asdict(v) for k, v in obj.items()}
    if isinstance(obj, tuple):
        return type(obj)(*[asdict(v) for v in obj]) if hasattr(obj, "_fields") else tuple(asdict(v) for v in obj)
    return obj
