# SPDX-License-Identifier: MIT
"""The one Python scanner of strace argument text: the twin of csrc/lex.c.

Used by the strace reference parser (trace/strace.py), the replay reference
(replay.arg_span) and the argument decoder (trace/decode.py); the C
tokeniser and the C replay use csrc/lex.c, and tests/lex/ holds the two to
the same answers.  The rules (see csrc/lex.h):

* ``"..."`` a string, to the next ``"`` not escaped by a backslash; followed
  by ``...`` it was truncated by strace (-s);
* ``/* ... */`` a comment (-X verbose);
* ``( [ {`` open a level, ``) ] }`` close one (never below zero); ``,`` at
  level zero ends an argument;
* ``N<...>`` an fd decoration (-y/-yy) after a digit or ``AT_FDCWD``, not
  ``<<`` and not ``<unfinished ...>``/``<detached ...>``: a path ends at
  ``>`` (strace escapes ``<`` ``>`` in names as ``\\74`` ``\\76``) with
  ``<`` nesting (``</dev/null<char 1:3>>``); a socket ``TYPE:[...]`` nests
  brackets and skips quoted strings, so ``->`` and ``"/run/a>b"`` inside do
  not end it.
"""
from __future__ import annotations

CLOSE, UNFINISHED, DETACHED, EOL = 0, 1, 2, 3

_SOCK_TYPE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def string_end(s: str, i: int) -> int:
    """Index of the '"' closing the string opened at s[i - 1]; len(s) if unclosed."""
    n = len(s)
    while i < n and s[i] != '"':
        i += 2 if s[i] == "\\" else 1
    return min(i, n)


def comment_end(s: str, i: int) -> int:
    """Index past the '*/' closing the comment opened at s[i - 2]; -1 if unclosed."""
    j = s.find("*/", i)
    return -1 if j < 0 else j + 2


def is_decoration(s: str, i: int) -> bool:
    """Whether s[i] == '<' starts an fd decoration."""
    n = len(s)
    if i + 1 >= n or s[i + 1] == "<":
        return False
    if not (i > 0 and "0" <= s[i - 1] <= "9") and not (i >= 8 and s.startswith("AT_FDCWD", i - 8)):
        return False
    return not s.startswith("<unfinished ...>", i) and not s.startswith("<detached ...>", i)


def decoration_end(s: str, i: int) -> int:
    """Index past the '>' closing the decoration at s[i] == '<'; -1 if unclosed."""
    n = len(s)
    j = k = i + 1
    while k < n and s[k] in _SOCK_TYPE:
        k += 1
    if k > j and k + 1 < n and s[k] == ":" and s[k + 1] == "[":
        bd = 0
        j = k + 1
        while j < n:
            c = s[j]
            if c == "\\":
                j += 1
            elif c == '"':
                j = string_end(s, j + 1)
            elif c == "[":
                bd += 1
            elif c == "]":
                if bd > 0:
                    bd -= 1
            elif c == ">" and bd == 0:
                return j + 1
            j += 1
        return -1
    ad = 1
    while j < n:
        c = s[j]
        if c == "\\":
            j += 1
        elif c == "<":
            ad += 1
        elif c == ">":
            ad -= 1
            if ad == 0:
                return j + 1
        j += 1
    return -1


def scan_call(s: str, i: int) -> tuple[int, int, bool]:
    """Argument text of a call from s[i] -> (end, kind, truncated): kind CLOSE
    (s[end] is the closing ')'), UNFINISHED / DETACHED (s[end] is the '<' of
    the marker) or EOL (the arguments run past the end of the line)."""
    depth = 0
    n = len(s)
    trunc = False
    while i < n:
        c = s[i]
        if c == '"':
            i = string_end(s, i + 1)
            if i >= n:
                return n, EOL, trunc
            i += 1
            if s.startswith("...", i):
                trunc = True
                i += 3
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                if c == ")":
                    return i, CLOSE, trunc
            else:
                depth -= 1
        elif c == "<":
            if s.startswith("<unfinished ...>", i):
                return i, UNFINISHED, trunc
            if s.startswith("<detached ...>", i):
                return i, DETACHED, trunc
            if is_decoration(s, i):
                j = decoration_end(s, i)
                if j < 0:
                    return n, EOL, trunc
                i = j
                continue
        elif c == "/" and s.startswith("/*", i):
            j = comment_end(s, i + 2)
            if j < 0:
                return n, EOL, trunc
            i = j
            continue
        i += 1
    return n, EOL, trunc


def arg_spans(s: str, maxidx: int | None = None) -> list[tuple[int, int]]:
    """(start, end) of each top-level argument (of arguments 0..maxidx)."""
    n = len(s)
    out: list[tuple[int, int]] = []
    i = st = depth = 0
    while i < n:
        c = s[i]
        if c == '"':
            i = string_end(s, i + 1)
        elif c == "/" and s.startswith("/*", i):
            j = comment_end(s, i + 2)
            i = n if j < 0 else j
            continue
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            if depth > 0:
                depth -= 1
        elif c == "<":
            if is_decoration(s, i):
                j = decoration_end(s, i)
                i = n if j < 0 else j
                continue
        elif c == "," and depth == 0:
            out.append((st, i))
            if maxidx is not None and len(out) > maxidx:
                return out
            st = i + 1
        i += 1
    out.append((st, n))
    return out


def arg_span(s: str, idx: int) -> tuple[int, int] | None:
    """Span of argument IDX (mirrors ss_lex_arg_span); None if there are fewer."""
    spans = arg_spans(s, idx)
    return spans[idx] if idx < len(spans) else None


def split_args(text: str) -> list[str]:
    """The top-level arguments, stripped; [] for empty text."""
    out = [text[a:b].strip() for a, b in arg_spans(text)]
    return [] if out == [""] else out


def balanced_paren(s: str, i: int) -> int:
    """Index just past the ')' matching s[i] == '(' (strings respected); -1 if none."""
    depth = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            i = string_end(s, i + 1)
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1
