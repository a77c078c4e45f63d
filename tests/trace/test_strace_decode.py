# SPDX-License-Identifier: MIT
"""Decoded argument values by signature kind, for every -X style strace prints."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shimsim import trace
from shimsim.trace.decode import decode, parse_int, split_args, unquote

FIX = Path(__file__).parents[1] / "fixtures" / "strace" / "gen"


def first(path: str, name: str):
    for e in trace.open(str(FIX / path)).events():
        if e.name == name and e.rec == 1:
            return decode(e)
    raise AssertionError(f"no {name} in {path}")


@pytest.mark.parametrize("path", ["python_yy.strace", "python_Xverbose.strace", "python_Xraw.strace"])
def test_openat_all_x_styles(path: str) -> None:
    d = first(path, "openat")
    assert [a["arg"] for a in d] == ["dirfd", "path", "flags"]
    assert d[0]["value"] == -100
    assert d[1]["value"].startswith("/")
    assert d[2]["value"] == 0x80000 and d[2]["names"] == ["O_RDONLY", "O_CLOEXEC"]


def test_fd_decorations_and_enums() -> None:
    d = first("python_yy.strace", "fcntl")
    assert d[0]["value"] == 3 and d[0]["path"].endswith(".pyc")
    assert d[1]["name"] == "F_GETFD" and d[1]["value"] == 1
    d = first("python_Xraw.strace", "rt_sigaction")
    assert d[0] == {"arg": "signum", "kind": "signal", "text": d[0]["text"], "name": d[0]["name"], "value": d[0]["value"]}
    assert d[0]["name"].startswith("SIG") and isinstance(d[0]["value"], int)


def test_strings_hex_and_truncation() -> None:
    assert unquote('"caf\\303\\251"') == ("café", False)
    assert unquote('"\\x63\\x61\\x66"') == ("caf", False)
    assert unquote('"total 88\\ndrwx"...') == ("total 88\ndrwx", True)
    assert unquote("NULL") == (None, False)
    assert parse_int("0x10") == 16 and parse_int("0644") == 0o644 and parse_int("-1") == -1
    assert parse_int("NULL") == 0 and parse_int("O_RDONLY") is None


def test_split_args_respects_nesting() -> None:
    assert split_args('3</a,b>, "x,y", [1, 2], {a=1, b=2}, f(1, 2), 5 /* a, b */') == \
        ["3</a,b>", '"x,y"', "[1, 2]", "{a=1, b=2}", "f(1, 2)", "5 /* a, b */"]
    assert split_args("") == []
    assert split_args("4</dev/null<char 1:3>>, 1") == ["4</dev/null<char 1:3>>", "1"]


@given(st.lists(st.sampled_from(['"a,b"', "[1, 2]", "{x=1, y=[3, 4]}", "7", "0x5", "A|B", "3</p>"]),
                min_size=1, max_size=6))
def test_split_args_roundtrip(parts: list[str]) -> None:
    assert split_args(", ".join(parts)) == parts


def test_no_signature_gives_none() -> None:
    from shimsim import model

    ev = model.Event(kind=model.SYSCALL, file="x", line=1, name="nosuch", args="1", abi="linux-x86_64")
    assert decode(ev) is None
    ev = model.Event(kind=model.EXIT, file="x", line=1, ret=0, abi="linux-x86_64")
    assert decode(ev) is None
