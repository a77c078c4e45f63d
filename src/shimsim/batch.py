# SPDX-License-Identifier: MIT
"""Python Events -> ss_event arrays: the one packer.

The C tokeniser fills ss_event arrays itself; everything else that reaches
the C replay as a batch (the truss, dtruss and kdump parsers, the Python
strace reference, tests, benchmarks, properties) is packed here, so every
producer sets the same fields and flags the same way.
"""
from __future__ import annotations

from typing import Any

from shimsim import model
from shimsim.engine import core


class EventPacker:
    """Packs lists of Events into ss_event arrays.

    File names become ``file_id`` indexes into ``files`` and ABI names
    ``abi`` indexes into ``abis`` (both may be given up front, so the ids
    match a trace's own lists).  All text of a batch goes into one
    contiguous buffer, as the tokeniser's arena does; the array and its
    text stay valid until the next ``pack`` call."""

    def __init__(self, abis: list[str] | None = None, files: list[str] | None = None) -> None:
        self.abis = list(abis or [])
        self.files: list[str] = []
        self._file_ids: dict[str, int] = {}
        for path in files or ():
            self.file_id(path)
        self._keep: list[Any] = []

    def file_id(self, path: str) -> int:
        fid = self._file_ids.get(path)
        if fid is None:
            fid = self._file_ids[path] = len(self.files)
            self.files.append(path)
        return fid

    def _abi_index(self, name: str | None) -> int:
        if name is None:
            return 0
        if name not in self.abis:
            self.abis.append(name)
        return self.abis.index(name)

    def pack(self, events: list[model.Event]) -> tuple[Any, int]:
        """(ss_event array, count)."""
        ffi = core().ffi
        n = len(events)
        arr = ffi.new("ss_event[]", max(1, n))
        chunks: list[bytes] = []
        offsets: list[tuple[int, ...]] = []
        pos = 0
        for ev in events:
            row: list[int] = []
            for text in (ev.name, ev.args, ev.errname):
                b = text.encode("utf-8", "surrogateescape") if text else b""
                row += [pos, len(b)]
                chunks.append(b)
                chunks.append(b"\0")
                pos += len(b) + 1
            offsets.append(tuple(row))
        buf = ffi.new("char[]", b"".join(chunks) or b"\0")
        for i, ev in enumerate(events):
            c = arr[i]
            c.line = ev.line
            c.file_id = self.file_id(ev.file)
            c.kind = ev.kind
            c.rec = ev.rec or 0
            flags = ev.flags
            if ev.kind == model.SYSCALL and ev.ret is None:
                flags |= model.F_NO_RET
            if ev.ts is not None:
                flags |= model.F_HAS_TS
                c.ts = ev.ts
            if ev.dur is not None:
                flags |= model.F_HAS_DUR
                c.dur = ev.dur
            c.flags = flags
            c.pid = -1 if ev.pid is None else ev.pid
            c.tid = -1 if ev.tid is None else ev.tid
            c.nr = -1 if ev.nr is None else ev.nr
            c.err = ev.err or 0
            c.ret = ev.ret or 0
            c.abi = self._abi_index(ev.abi)
            no, nl, ao, al, eo, el = offsets[i]
            if ev.name:
                c.name, c.name_len = buf + no, nl
            if ev.args:
                c.args, c.args_len = buf + ao, al
            if ev.errname:
                c.errname, c.errname_len = buf + eo, el
        self._keep = [arr, buf]
        return arr, n
