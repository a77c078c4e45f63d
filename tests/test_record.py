# SPDX-License-Identifier: MIT
"""shimsim._record: the plain record classes of the parse path behave as the dataclasses they replace
(repr, equality, hash, frozen fields, replace, asdict, pickling, fresh mutable defaults)."""
from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from shimsim import _record, model, tables
from shimsim.engine import c as engine_c
from shimsim.report import Verdict
from shimsim.trace import formats, publish, stats, strace

RECORDS = [model.Frame, model.Event, model.Result, engine_c.Batch, engine_c.Note, engine_c.Packed,
           engine_c.BatchRun, formats.Format, publish.Command, publish.Cleaned, stats.ParseStats, Verdict,
           strace.Result, strace._Pending, tables.Arg, tables.Signature, tables.Syscall, tables.Member,
           tables.Translation, tables.Field, tables.ArchFacts, tables.FamilySpec]


def _twin(cls: type) -> type:
    """The dataclass cls was: the same fields in the same order, the same defaults (a fresh
    empty container where __init__ makes one), frozen and slots as cls is."""
    sample = cls(**{p.name: f"v_{p.name}" for p in _required(cls)})
    specs = []
    for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
        if p.default is inspect.Parameter.empty:
            specs.append((p.name, object))
        elif p.default is None and isinstance(getattr(sample, p.name), (list, dict, set)):
            specs.append((p.name, object, dataclasses.field(default_factory=type(getattr(sample, p.name)))))
        else:
            specs.append((p.name, object, dataclasses.field(default=p.default)))
    return dataclasses.make_dataclass(cls.__name__, specs, frozen=issubclass(cls, _record.Frozen),
                                      slots="__dict__" not in dir(sample))


def _required(cls: type) -> list[inspect.Parameter]:
    return [p for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
            if p.default is inspect.Parameter.empty]


@pytest.mark.parametrize("cls", RECORDS, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_a_record_behaves_as_its_dataclass(cls: type) -> None:
    twin = _twin(cls)
    assert cls._FIELDS == tuple(f.name for f in dataclasses.fields(twin))   # positional order too
    args = {p.name: f"v_{p.name}" for p in _required(cls)}
    a, b, t = cls(**args), cls(**args), twin(**args)
    assert repr(a).replace(cls.__qualname__, "X", 1) == repr(t).replace(twin.__qualname__, "X", 1)
    assert a == b and not a != b and a.__eq__(t) is NotImplemented
    assert _record.asdict(a) == dataclasses.asdict(t)
    assert pickle.loads(pickle.dumps(a)) == a
    for name in cls._FIELDS:   # mutable defaults are fresh per instance, as default_factory's
        v = getattr(a, name)
        if isinstance(v, (list, dict, set)) and not v:
            assert v is not getattr(b, name)
    first = cls._FIELDS[0]
    c = _record.replace(a, **{first: "other"})
    assert getattr(c, first) == "other" and c != a and _record.replace(a) == a
    assert _record.asdict(c) == dataclasses.asdict(dataclasses.replace(t, **{first: "other"}))
    if issubclass(cls, _record.Frozen):
        with pytest.raises(AttributeError):
            setattr(a, first, 1)
        with pytest.raises(AttributeError):
            delattr(a, first)
        try:
            want = hash(t)
        except TypeError:          # a dict field (ArchFacts.personalities): neither hashes
            with pytest.raises(TypeError):
                hash(a)
        else:
            assert hash(a) == hash(b) == want
    else:
        assert cls.__hash__ is None
        setattr(a, first, 1)
        assert getattr(a, first) == 1 and a != b


def test_replace_refuses_an_unknown_field() -> None:
    with pytest.raises(TypeError, match="no field 'nope'"):
        _record.replace(model.Frame("libc.so.6"), nope=1)


def test_event_to_json_copies_nested_values() -> None:
    extra = {"k": [1, (2, 3)]}
    ev = model.Event(model.SYSCALL, "f", 1, name="read", extra=extra, frames=[model.Frame("libc.so.6", "read", 4)])
    d = ev.to_json()
    assert d["extra"] == extra and d["extra"] is not extra and d["extra"]["k"] is not extra["k"]
    assert d["frames"] == [{"library": "libc.so.6", "symbol": "read", "offset": 4, "address": None}]
    assert d["kind"] == "syscall" and list(d)[:3] == ["kind", "file", "line"]
