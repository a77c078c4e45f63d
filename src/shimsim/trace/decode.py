# SPDX-License-Identifier: MIT
"""Decoded argument values, computed on demand from an event's raw text and
the syscall's signature in the guest ABI (shimsim.tables).

Parsing stays fast because nothing here runs unless asked: ``decode(ev)``
splits the raw argument text at top-level commas and reads each piece by
the kind the signature gives it:

    fd, dirfd   3, 3</etc/passwd> (-y), AT_FDCWD, -100 /* AT_FDCWD */ (-X verbose)
    path, string "..." with C escapes (-x/-xx hex too), truncated with ...
    flags       A|B|0x40 by name (-X abbrev), 0x80000 (-X raw), both (-X verbose)
    enum        a name or a number
    mode        0644, S_IFREG|0644
    signal      SIGTERM or a number
    int, size, off, pid, uid, gid, addr, ptr ...  decimal, 0x hex, 0 octal, NULL
Everything else keeps its text.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from shimsim._lazyre import lazy_re
from shimsim import model
from shimsim.lex import strace as _lex

_INT = lazy_re(r"^-?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$")
_NAME = lazy_re(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ESC = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "a": "\a", "b": "\b", "\\": "\\", '"': '"', "'": "'"}
INT_KINDS = {"int", "uint", "long", "ulong", "size", "ssize", "off", "pid", "uid", "gid", "addr", "ptr",
             "socklen", "id", "time", "struct", "array", "buf", "sockaddr", "fdarray", "cmd"}


# Top-level comma-separated pieces of strace argument text: the one lexer.
split_args = _lex.split_args


def parse_int(text: str) -> int | None:
    t = text.strip()
    if t == "NULL":
        return 0
    if not _INT.match(t):
        return None
    neg = t.startswith("-")
    body = t[1:] if neg else t
    if body[:2] in ("0x", "0X"):
        v = int(body, 16)
    elif len(body) > 1 and body[0] == "0":
        v = int(body, 8)
    else:
        v = int(body)
    return -v if neg else v


def unquote(text: str) -> tuple[str | None, bool]:
    """A C string literal as printed by strace -> (value, truncated)."""
    t = text.strip()
    trunc = t.endswith('"...')
    if trunc:
        t = t[:-3]
    if len(t) < 2 or t[0] != '"' or t[-1] != '"':
        return None, False
    s = t[1:-1]
    out = bytearray()
    i = 0
    while i < len(s):
        c = s[i]
        if c != "\\":
            out += c.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = s[i + 1:i + 2]
        if nxt == "x":
            m = re.match(r"[0-9a-fA-F]{1,2}", s[i + 2:])
            if m:
                out.append(int(m.group(0), 16))
                i += 2 + len(m.group(0))
                continue
        elif nxt.isdigit():
            m = re.match(r"[0-7]{1,3}", s[i + 1:])
            if m:
                out.append(int(m.group(0), 8) & 0xFF)
                i += 1 + len(m.group(0))
                continue
        elif nxt in _ESC:
            out += _ESC[nxt].encode()
            i += 2
            continue
        out += b"\\"
        i += 1
    return out.decode("utf-8", "surrogateescape"), trunc


def _split_comment(text: str) -> tuple[str, str | None]:
    """'0x80000 /* O_RDONLY|O_CLOEXEC */' -> ('0x80000', 'O_RDONLY|O_CLOEXEC')."""
    m = re.match(r"^(.*?)\s*/\*\s*(.*?)\s*\*/\s*$", text, re.S)
    return (m.group(1), m.group(2)) if m else (text, None)


def _decoration(text: str) -> tuple[str, str | None]:
    """'3</etc/passwd>' -> ('3', '/etc/passwd')."""
    k = text.find("<")
    if k > 0 and text.endswith(">"):
        return text[:k], text[k + 1:-1]
    return text, None


@lru_cache(maxsize=16)
def _abi(name: str) -> Any:
    from shimsim import tables

    return tables.load_abi(name) if name in tables.list_abis() else None


def _family(abi: Any, fam: str | None) -> Any:
    if abi is None or not fam:
        return None
    try:
        return abi.family(fam)
    except Exception:  # unknown family on this OS: keep names only  # noqa: BLE001
        return None


def _flags(text: str, fam: Any) -> dict[str, Any]:
    raw, comment = _split_comment(text)
    names: list[str] = []
    value = 0
    known = True
    for part in (comment or raw).split("|"):
        p = part.strip()
        v = parse_int(p)
        if v is not None:
            value |= v
        elif _NAME.match(p):
            names.append(p)
            mv = fam.value(p) if fam is not None and p in fam.supported() else None
            if mv is None:
                known = False
            else:
                value |= mv
        else:
            known = False
    rv = parse_int(raw)
    if comment is not None and rv is not None:
        value, known = rv, True
    elif not names and rv is not None and fam is not None:
        names = fam.decode(rv)
    return {"names": names, "value": value if known else None}


def decode_arg(kind: str, fam_name: str | None, text: str, abi: Any) -> dict[str, Any]:
    """One argument's decoded value(s) by its kind."""
    d: dict[str, Any] = {"text": text}
    if kind in ("fd", "dirfd"):
        raw, path = _decoration(_split_comment(text)[0])
        _r, comment = _split_comment(text)
        v = parse_int(raw)
        if v is None and _NAME.match(raw.strip()):
            d["name"] = raw.strip()
            fam = _family(abi, fam_name)
            v = fam.value(raw.strip()) if fam is not None and raw.strip() in fam.supported() else None
        elif comment:
            d["name"] = comment
        d["value"] = v
        if path is not None:
            d["path"] = path
    elif kind in ("path", "string"):
        v, trunc = unquote(text)
        d["value"] = v
        if trunc:
            d["truncated"] = True
    elif kind in ("flags", "mode"):
        fam = _family(abi, fam_name or ("stat_mode" if kind == "mode" else None))
        d.update(_flags(text, fam))
    elif kind in ("enum", "signal"):
        raw, comment = _split_comment(text)
        fam = _family(abi, fam_name or ("signals" if kind == "signal" else None))
        v = parse_int(raw)
        name = comment if comment else (raw.strip() if v is None else None)
        if v is None and name and fam is not None and name in fam.supported():
            v = fam.value(name)
        if name is None and v is not None and fam is not None:
            dec = fam.decode(v)
            name = dec[0] if len(dec) == 1 else None
        d["name"], d["value"] = name, v
    elif kind in INT_KINDS:
        v = parse_int(_split_comment(_decoration(text)[0])[0])
        if v is not None:
            d["value"] = v
    return d


def decode(ev: model.Event) -> list[dict[str, Any]] | None:
    """Decoded arguments of a syscall event, by its signature in the event's
    ABI; None when there is no signature (unknown call or ABI)."""
    if ev.kind != model.SYSCALL or not ev.name or not ev.abi:
        return None
    abi = _abi(ev.abi)
    if abi is None:
        return None
    sc = abi.by_name.get(ev.name)
    if sc is None or sc.args is None:
        return None
    pieces = split_args(ev.args)
    out = []
    for k, text in enumerate(pieces):
        if k < len(sc.args):
            a = sc.args[k]
            d = decode_arg(a.kind, a.family, text, abi)
            d = {"arg": a.name, "kind": a.kind, **d}
        else:
            d = {"arg": None, "kind": None, "text": text}
        out.append(d)
    return out
