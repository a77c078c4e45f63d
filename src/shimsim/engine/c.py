# SPDX-License-Identifier: MIT
"""The C core (csrc/, built by csrc/build_ffi.py into ``shimsim._core``): the
only module that touches ``ffi``/``lib``.

* ``Tokeniser`` binds the C strace tokeniser; ``strace_batches`` drives it
  over a trace's files, block by block;
* ``to_events`` (ss_event -> Event) and ``EventPacker`` (Event -> ss_event)
  are the one converter each way;
* ``pack_shim`` lays a compiled shim out as the ``ss_shim`` struct, and
  ``Session`` runs ``ss_replay_batch`` over ss_event batches;
* ``CEngine`` is the engine object (``shimsim.engine.get("c")``).

Every C allocation is owned by a cdata handle (``ffi.new`` / ``ffi.gc``), so
it is freed with the Python object that holds it.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator

from shimsim import model
from shimsim._record import Record
from shimsim.codes import (DIV_FAILS, NDIV, NEV, NOTE_FRAME, NOTE_SUMMARY, NOTE_UNPARSED, NOUT, REASONS, TOK_ERRNOS,
                           TOK_MAX_ABI, TOK_SIGNALS, TOK_SYSCALLS)
from shimsim.errors import InputError, ShimsimError
from shimsim.model import Result

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

SYSCALLS, ERRNOS, SIGNALS, MAX_ABI = TOK_SYSCALLS, TOK_ERRNOS, TOK_SIGNALS, TOK_MAX_ABI
BATCH_EVENTS = 65536     # events per packed batch
DIVS_CAP = 4096          # divergence records kept per batch (all are counted)
FCACHE_ENTRIES = 4096    # flag-decoding memo of a packed shim (results are identical)


def core():  # -> the compiled cffi module
    """The compiled C core (``shimsim._core``); a clear error if it is missing."""
    try:
        from shimsim import _core
    except ImportError as exc:  # pragma: no cover - only on a broken install
        raise ShimsimError(
            f"the C core is not built ({exc}); reinstall with 'pip install .' "
            "or choose the reference with --engine python"
        ) from exc
    return _core


def _lib() -> tuple[Any, Any]:
    mod = core()
    return mod.ffi, mod.lib


# --------------------------------------------------------------------------- ss_event <-> Event

def _text(ffi: Any, p: Any, n: int) -> str:
    return ffi.unpack(p, n).decode("utf-8", "surrogateescape") if n else ""


def event(ffi: Any, e: Any, files: list[str], abis: list[str]) -> model.Event:
    """One ss_event as an Event: the one ss_event -> Event conversion."""
    kind = int(e.kind)
    flags = int(e.flags)
    ev = model.Event(kind=kind, file=files[e.file_id] if e.file_id < len(files) else "?", line=int(e.line),
                     pid=int(e.pid) if e.pid >= 0 else None,
                     tid=int(e.tid) if e.tid >= 0 else None,
                     ts=float(e.ts) if flags & model.F_HAS_TS else None,
                     dur=float(e.dur) if flags & model.F_HAS_DUR else None,
                     name=_text(ffi, e.name, e.name_len) or None,
                     args=_text(ffi, e.args, e.args_len),
                     flags=flags, abi=abis[e.abi] if e.abi < len(abis) else None)
    if kind == model.SYSCALL:
        ev.nr = int(e.nr) if e.nr >= 0 else None
        ev.rec = int(e.rec)
        ev.ret = None if flags & model.F_NO_RET else int(e.ret)
        if e.errname_len:
            ev.errname = _text(ffi, e.errname, e.errname_len)
            ev.err = int(e.err)
    elif kind in (model.SIGNAL, model.STOPPED, model.KILLED):
        ev.err = int(e.err)
    elif kind in (model.EXIT, model.SUPERSEDED, model.PERSONALITY):
        ev.ret = int(e.ret)
    return ev


def to_events(arr: Any, count: int, files: list[str], abis: list[str]) -> Iterator[model.Event]:
    """Event objects for count ss_event records (the slow path, for --events,
    tests and Python consumers)."""
    ffi = core().ffi
    for k in range(count):
        yield event(ffi, arr[k], files, abis)


class EventPacker:
    """Events -> ss_event arrays: the one Event -> ss_event conversion.

    The C tokeniser fills ss_event arrays itself; everything else that reaches
    the C replay (the truss, dtruss and kdump parsers, tests, benchmarks,
    properties) is packed here, so every producer sets the same fields and
    flags the same way.  File names become ``file_id`` indexes into ``files``
    and ABI names ``abi`` indexes into ``abis`` (both may be given up front, so
    the ids match a trace's own lists).  All text of a batch goes into one
    contiguous buffer, as the tokeniser's arena does; the array and its text
    stay valid until the next ``pack`` call."""

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
            c.ret = model.s64(ev.ret or 0)
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


class Batch(Record):
    """ss_event records of one batch; valid until the next batch is requested."""
    _FIELDS = ("events", "count", "files", "abis", "frames", "keep")
    events: Any          # cdata 'ss_event *' (or 'ss_event[]')
    count: int
    files: list[str]     # ss_event.file_id -> path
    abis: list[str]      # ss_event.abi -> ABI name
    # -k stack frames of this batch: (event number in the batch, 0 = the previous batch's last; text)
    frames: list[tuple[int, str]]
    keep: Any            # the input block the records' text points into

    def __init__(self, events: Any, count: int, files: list[str], abis: list[str],
                 frames: list[tuple[int, str]] | None = None, keep: Any = None) -> None:
        self.events, self.count, self.files, self.abis = events, count, files, abis
        self.frames = [] if frames is None else frames
        self.keep = keep

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[model.Event]:
        """The records as Events (so any engine's session can take a batch)."""
        return to_events(self.events, self.count, self.files, self.abis)


# --------------------------------------------------------------------------- strace tokeniser

class Note(Record):
    """A tokeniser note: an unparsed line, a -k frame or a summary row (kind, reason, where, text)."""
    _FIELDS = ("kind", "reason", "file_id", "line", "text")
    kind: int
    reason: int
    file_id: int
    line: int
    text: str

    def __init__(self, kind: int, reason: int, file_id: int, line: int, text: str) -> None:
        self.kind, self.reason, self.file_id, self.line, self.text = kind, reason, file_id, line, text


def _cbuf(ffi: Any, block: bytes | memoryview) -> Any:
    """A block as a C call takes it: bytes as they are, a memoryview (io._ring_blocks)
    through ffi.from_buffer."""
    return block if type(block) is bytes else ffi.from_buffer(block)


class Tokeniser:
    """One C tokeniser: name tables are loaded once, then feed() per block."""

    def __init__(self, syscalls: list[dict[str, int] | None], errnos: list[dict[str, int] | None],
                 signals: list[dict[str, int] | None], modes: tuple[int, int, int]) -> None:
        self.ffi, self.lib = _lib()
        if len(syscalls) > MAX_ABI:
            raise ShimsimError(f"at most {MAX_ABI} ABIs per trace in the C tokeniser")
        ptr = self.lib.ss_tok_new()
        if ptr == self.ffi.NULL:
            raise MemoryError("ss_tok_new")
        self._t = self.ffi.gc(ptr, self.lib.ss_tok_free)
        for table, dicts in ((SYSCALLS, syscalls), (ERRNOS, errnos), (SIGNALS, signals)):
            for abi, names in enumerate(dicts):
                for name, value in (names or {}).items():
                    b = name.encode()
                    if self.lib.ss_tok_add_name(self._t, table, abi, b, len(b), value) < 0:
                        raise MemoryError("ss_tok_add_name")
        self.lib.ss_tok_set_modes(self._t, *modes)
        self._keep: bytes = b""

    def feed(self, block: bytes, file_id: int, first_line: int, default_pid: int,
             threads: int = 1, chunk: int = 0) -> int:
        """Tokenise one block; returns the number of events now in events().
        threads > 1: on that many cores (ss_tok_feed_par, the same result;
        chunk > 0 is its test knob, the bytes per chunk)."""
        self._keep = block  # events point into it until the next feed (a Batch keeps it longer)
        buf = _cbuf(self.ffi, block)
        if threads > 1:
            n = self.lib.ss_tok_feed_par(self._t, buf, len(block), file_id, first_line, default_pid,
                                         threads, chunk)
        else:
            n = self.lib.ss_tok_feed(self._t, buf, len(block), file_id, first_line, default_pid)
        if n < 0:
            raise MemoryError("the C tokeniser ran out of memory")
        return int(n)

    def next_line(self) -> int:
        return int(self.lib.ss_tok_next_line(self._t))

    def swap(self) -> None:
        """The next feed/finish writes the other output slot (ss_tok_swap)."""
        self.lib.ss_tok_swap(self._t)

    def finish(self) -> int:
        n = self.lib.ss_tok_finish(self._t)
        if n < 0:
            raise MemoryError("the C tokeniser ran out of memory")
        return int(n)

    def events_ptr(self) -> Any:
        return self.lib.ss_tok_events(self._t)

    def notes(self) -> list[Note]:
        n = self.lib.ss_tok_nnotes(self._t)
        if not n:
            return []
        arr = self.lib.ss_tok_notes(self._t)
        out = []
        for k in range(n):
            x = arr[k]
            out.append(Note(int(x.kind), int(x.reason), int(x.file_id), int(x.line), _text(self.ffi, x.text, x.len)))
        return out

    def counts(self) -> dict[str, Any]:
        c = self.ffi.new("ss_tok_counts *")
        self.lib.ss_tok_get_counts(self._t, c)
        return {
            "lines": int(c.lines), "unparsed": int(c.unparsed), "blank": int(c.blank),
            "stack": int(c.stack), "messages": int(c.messages), "summary": int(c.summary),
            "continuation": int(c.continuation),
            "by_kind": [int(c.by_kind[k]) for k in range(NEV + 1)],
        }

    def syscall_stats(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        name = self.ffi.new("const char **")
        ln = self.ffi.new("uint32_t *")
        calls = self.ffi.new("uint64_t *")
        errs = self.ffi.new("uint64_t *")
        for i in range(self.lib.ss_tok_nsyscalls(self._t)):
            self.lib.ss_tok_syscall_stat(self._t, i, name, ln, calls, errs)
            if calls[0]:
                out[_text(self.ffi, name[0], ln[0])] = [int(calls[0]), int(errs[0])]
        return out

    def par_stats(self) -> tuple[int, int, int]:
        """(chunks tokenised speculatively, of them redone serially, lines run again) so far."""
        c, r, x = (self.ffi.new("uint64_t *") for _ in range(3))
        self.lib.ss_tok_par_stats(self._t, c, r, x)
        return int(c[0]), int(r[0]), int(x[0])

    def pids(self) -> set[int]:
        n = self.lib.ss_tok_npids(self._t)
        buf = self.ffi.new("int32_t[]", max(n, 1))
        m = self.lib.ss_tok_pids(self._t, buf, n)
        return {int(buf[k]) for k in range(m)}


TOK_PAR = True           # feeds tokenise each block on several cores (ss_tok_feed_par; see strace_batches)
TOK_PAR_CHUNK = 0        # its bytes per chunk, 0 = each block split evenly (tests set a few hundred)
PIPELINE_MIN = 8 << 20   # input bytes from which strace_batches pipelines (see pipeline_wanted)


def pipeline_wanted(paths: list[str]) -> bool:
    """Pipeline the tokeniser when more than one core may be used and the input is
    large (stdin counts as large: its size is unknown); small files stay serial, where
    a thread would cost more than it saves."""
    from shimsim.trace import io

    if io.jobs() < 2:
        return False
    total = 0
    for p in paths:
        if p == "-":
            return True
        try:
            total += os.stat(p).st_size
        except OSError:
            return False     # the serial path reports the missing file as it always has
    return total >= PIPELINE_MIN


class Pipe:
    """The tokeniser's worker thread (csrc/tok_pipe.c): ``feed`` starts
    ss_tok_feed on a block and returns at once, ``wait`` gives its result.  No
    Python runs on the thread, so it never waits for the GIL."""

    def __init__(self, tok: Tokeniser) -> None:
        self.tok = tok
        self.ffi, self.lib = tok.ffi, tok.lib
        self._p = self.lib.ss_tok_pipe_new(tok._t)
        if self._p == self.ffi.NULL:
            raise ShimsimError("cannot start the tokeniser thread (SHIMSIM_JOBS=1 reads serially)")
        self._block = b""

    def feed(self, block: bytes, file_id: int, first_line: int, default_pid: int) -> None:
        buf = _cbuf(self.ffi, block)
        self._block = buf     # the thread reads it until wait()
        if self.lib.ss_tok_pipe_feed(self._p, buf, len(block), file_id, first_line, default_pid) < 0:
            raise RuntimeError("ss_tok_pipe_feed: a feed is already in flight")

    def set_par(self, threads: int, chunk: int = 0) -> None:
        """Later feeds tokenise each block on `threads` cores (ss_tok_feed_par; 1 = serially)."""
        self.lib.ss_tok_pipe_set_par(self._p, threads, chunk)

    def wait(self) -> int:
        n = self.lib.ss_tok_pipe_wait(self._p)
        if n == -1:
            raise MemoryError("the C tokeniser ran out of memory")
        return int(n)

    def close(self) -> None:
        """Wait for a feed in flight and stop the thread (before the tokeniser goes)."""
        if self._p is not None:
            self.lib.ss_tok_pipe_free(self._p)
            self._p = None


def strace_batches(t: Any, pipeline: bool | None = None) -> Iterator[Batch]:
    """An strace trace through the C tokeniser, block by block; fills t.stats
    (``t`` is a shimsim.trace.Trace).

    The tokenising is one serial pass over the blocks in order whatever the
    mode, so the events, notes and statistics are the same.  Pipelined
    (``pipeline`` True, or None and ``pipeline_wanted``), block k+1 is
    tokenised by a C thread (``Pipe``) while the consumer replays batch k: the
    tokeniser's output is double buffered (ss_tok_swap), and every Python-side
    step (reading, notes, file ends) runs on this thread in the serial order."""
    from shimsim.trace import io, publish
    from shimsim.trace.summary import SummaryTable

    def reason_text(code: int) -> str:
        return REASONS[code] if 0 < code < len(REASONS) else f"reason {code}"

    def notes() -> None:
        for note in tok.notes():
            note.line = t.line_of(t.paths[note.file_id], note.line)   # a published text's numbering
            if note.kind == NOTE_FRAME:
                frames.append((note.reason, note.text))
            elif note.kind == NOTE_UNPARSED:
                path = t.paths[note.file_id]
                if t.strict:
                    raise InputError(path, note.line, reason_text(note.reason))
                t.stats.unparsed(path, note.line, reason_text(note.reason))
            elif note.kind == NOTE_SUMMARY:
                if note.reason == 1:
                    table.header(note.text)
                else:
                    table.row(note.text)

    if pipeline is None:
        pipeline = pipeline_wanted([path for path, _pid in t.files])
    st = t.new_stats()
    sc, er, sg = t.tables()
    tok = Tokeniser(sc, er, sg, t.modes)
    table = SummaryTable()
    ptr = tok.events_ptr
    frames: list[tuple[int, str]] = []
    extra_lines = 0          # decoration lines of published texts, which the tokeniser never sees

    def batch(n: int, fid: int, block: bytes | None) -> Batch:
        arr = ptr()
        if t.paths[fid] in t.cleaned:
            for k in range(n):
                e = arr[k]
                if e.file_id == fid:
                    e.line = t.line_of(t.paths[fid], int(e.line))
        b = Batch(arr, n, t.paths, t.abis, list(frames), block)
        frames.clear()
        return b

    def end_of_file(fid: int, in_file: int, last_block: bytes) -> Iterator[Batch]:
        nonlocal extra_lines
        # calls and call lines never join across files: each file ends here
        n = tok.finish()
        notes()
        if n or frames:
            yield batch(n, fid, None)
        path = t.paths[fid]
        if path in t.cleaned:
            extra_lines += len(t.cleaned[path].skipped)
        t.file_done(path, 0, publish.last_line_of_block(bytes(last_block), in_file), remap_stats=False)

    # each block on several cores (csrc/tok_par.c), the same result; pipelined, this thread is one
    # of them while it waits for a feed (ss_tok_pipe_set_par), so a replay never competes with an
    # extra worker for a core (it ran 15% slower so: 2.33 s against 2.05 s on 2 GB, two cores)
    par_threads = io.jobs() if TOK_PAR else 1
    pipe = Pipe(tok) if pipeline else None
    if pipe is not None and par_threads > 1:
        pipe.set_par(par_threads, TOK_PAR_CHUNK)
    try:
        for fid, (path, pid) in enumerate(t.files):
            first_block = True
            last_block = b""
            if pipe is None:
                done = lambda: 0 if first_block else tok.next_line() - 1  # noqa: E731
                for block, _ in t.source_blocks(path, done):
                    # line numbers: 1 for a file's first block, then the tokeniser counts on
                    n = tok.feed(block, fid, 1 if first_block else 0, pid, threads=par_threads, chunk=TOK_PAR_CHUNK)
                    first_block = False
                    last_block = block
                    notes()
                    if n or frames:
                        yield batch(n, fid, block)
            else:
                # Block k+1 is read while block k is tokenised on the thread, then
                # tokenised while batch k is consumed.  Whatever reading needs the
                # tokeniser's state for (the line number of a bad line) waits for
                # the feed in flight and handles its notes first (sync), so the
                # statistics and errors come in the serial order; what reading
                # raised is raised after batch k is handed on, as serially.
                inflight: list[bytes] = []      # the block on the thread, if any
                ready: list[Batch] = []

                def sync() -> None:
                    if inflight:
                        blk = inflight.pop()
                        n = pipe.wait()
                        notes()
                        if n or frames:
                            ready.append(batch(n, fid, blk))

                done = lambda: 0 if first_block else (sync(), tok.next_line() - 1)[1]  # noqa: E731
                blocks = iter(t.source_blocks(path, done))
                while True:
                    failed: Exception | None = None
                    try:
                        item = next(blocks, None)
                    except Exception as exc:
                        item, failed = None, exc
                    sync()
                    if item is not None and failed is None:
                        block = item[0]
                        tok.swap()          # batch k stays intact in the other slot
                        pipe.feed(block, fid, 1 if first_block else 0, pid)
                        inflight.append(block)
                        first_block = False
                        last_block = block
                    while ready:
                        yield ready.pop(0)
                    if failed is not None:
                        raise failed
                    if item is None:
                        break
                sync()
                while ready:
                    yield ready.pop(0)
                tok.swap()
            in_file = tok.next_line() - 1 if not first_block else 0
            yield from end_of_file(fid, in_file, last_block)
    finally:
        if pipe is not None:
            pipe.close()
    c = tok.counts()
    st.lines = c["lines"] + extra_lines
    for k, n in enumerate(c["by_kind"]):
        if n:
            st.events[model.KIND_NAMES[k]] = n
    st.syscalls = tok.syscall_stats()
    st.pids = tok.pids()
    st.tids = {(p, p) for p in st.pids}     # strace prints thread ids: each is its own tid
    for key, reason in (("blank", "blank"), ("stack", "stack frame (-k)"), ("messages", "strace message"),
                        ("summary", "summary table"), ("continuation", "continuation line")):
        if c[key]:
            st.skipped[reason] = c[key]
    if table.rows:
        st.summary = table.totals()
    t.check_summary()


# --------------------------------------------------------------------------- shim packing

def fnv1a(b: bytes) -> int:
    h = 2166136261
    for c in b:
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


class Packed(Record):
    """A packed ss_shim (ptr) and the cffi arrays it points into (keep)."""
    _FIELDS = ("ptr", "keep")
    ptr: Any
    keep: list[Any]

    def __init__(self, ptr: Any, keep: list[Any]) -> None:
        self.ptr, self.keep = ptr, keep


def _per_call(items: dict[int, list], nsys: int) -> tuple[list[int], list[int], list]:
    """(offsets, lengths, flat list) of per-syscall-number lists, as the core's ss_shim holds
    them (prog_off/prog_len/progs, rej_off/rej_len/rejs)."""
    off, length, flat = [], [], []
    for nr in range(nsys):
        x = items.get(nr, [])
        off.append(len(flat))
        length.append(len(x))
        flat += x
    return off, length, flat


def pack_shim(cs: Any) -> Packed:
    """The ss_shim struct over cffi-owned arrays; the returned object keeps them alive."""
    ffi = core().ffi
    keep: list[Any] = []

    def arr(ctype: str, values: list[int]):
        a = ffi.new(f"{ctype}[]", values if values else [0])
        keep.append(a)
        return a

    fmaps = ffi.new("ss_fmap[]", max(1, len(cs.fmaps)))
    keep.append(fmaps)
    for j, fm in enumerate(cs.fmaps):
        names = b""
        members = ffi.new("ss_fmember[]", max(1, len(fm.members)))
        for i, (name, g, h, ok) in enumerate(fm.members):
            nb = name.encode()
            members[i].gval = g & 0xFFFFFFFFFFFFFFFF
            members[i].hval = h & 0xFFFFFFFFFFFFFFFF
            members[i].name_off = len(names)
            members[i].name_len = len(nb)
            members[i].supported = 1 if ok else 0
            names += nb
        steps = ffi.new("ss_fstep[]", max(1, len(fm.steps)))
        for i, (mask, val, m) in enumerate(fm.steps):
            steps[i].mask = mask & 0xFFFFFFFFFFFFFFFF
            steps[i].val = val & 0xFFFFFFFFFFFFFFFF
            steps[i].member = m
        size = 8
        while size < 2 * len(fm.members):
            size *= 2
        table = [-1] * size
        for i, (name, *_rest) in enumerate(fm.members):
            h = fnv1a(name.encode()) & (size - 1)
            while table[h] >= 0:
                h = (h + 1) & (size - 1)
            table[h] = i
        names_c = ffi.new("char[]", names or b"\0")
        hash_c = arr("int32_t", table)
        keep += [members, steps, names_c]
        fmaps[j].members = members
        fmaps[j].nmembers = len(fm.members)
        fmaps[j].steps = steps
        fmaps[j].nsteps = len(fm.steps)
        fmaps[j].hash = hash_c
        fmaps[j].hash_mask = size - 1
        fmaps[j].is_enum = 1 if fm.is_enum else 0
        fmaps[j].names = names_c
    prog_off, prog_len, progs = _per_call(cs.progs, cs.nsys)
    progs_c = ffi.new("ss_fprog[]", max(1, len(progs)))
    keep.append(progs_c)
    for i, (a, f) in enumerate(progs):
        progs_c[i].arg = a
        progs_c[i].fmap = f
    rej_off, rej_len, rejs = _per_call(cs.rejects, cs.nsys)
    rejs_c = ffi.new("ss_frej[]", max(1, len(rejs)))
    keep.append(rejs_c)
    for i, (a, f, e) in enumerate(rejs):
        rejs_c[i].arg = a
        rejs_c[i].fmap = f
        rejs_c[i].err = e
    sh = ffi.new("ss_shim *")
    sh.nsys = cs.nsys
    sh.nerr = len(cs.errno_rt)
    sh.nsig = len(cs.sig_rt)
    sh.nfmaps = len(cs.fmaps)
    sh.outcome = arr("uint8_t", cs.outcome)
    sh.host_nr = arr("int32_t", cs.host_nr)
    sh.fail_err = arr("int32_t", cs.fail_err)
    sh.fallback = arr("int16_t", cs.fallback)
    sh.prog_off = arr("uint32_t", prog_off)
    sh.prog_len = arr("uint8_t", prog_len)
    sh.progs = progs_c
    sh.fmaps = fmaps
    if rejs:
        sh.rej_off = arr("uint32_t", rej_off)
        sh.rej_len = arr("uint8_t", rej_len)
        sh.rejs = rejs_c
    sh.errno_rt = arr("int32_t", cs.errno_rt)
    sh.sig_rt = arr("int32_t", cs.sig_rt)
    cache = ffi.new("ss_fcache[]", FCACHE_ENTRIES)
    keep.append(cache)
    sh.cache = cache
    sh.cache_mask = FCACHE_ENTRIES - 1
    return Packed(sh, keep)


def _result(o: Any) -> Result:
    return Result(o.outcome, o.div, o.nflags, bool(o.dropped), bool(o.undecoded), o.fallback,
                  o.host_nr, o.err, o.ret, list(o.hflags), list(o.unsup))


# --------------------------------------------------------------------------- replay

class Session:
    """One compiled shim under the C core: feed() ss_event batches; the results
    go to a sink (shimsim.replay.Replayer) as they come."""

    def __init__(self, cs: Any) -> None:
        self.cs = cs
        self.ffi, self.lib = _lib()
        ffi = self.ffi
        self._sh = cs.c()
        self._st = ffi.new("ss_rp_stats *")
        self._per = ffi.new("uint64_t[]", cs.nsys * NOUT)
        self._st.per_nr = self._per
        self._divs = ffi.new("ss_rp_div[]", DIVS_CAP)
        self._st.divs = self._divs
        self._st.divs_cap = DIVS_CAP
        self._unk = ffi.new("uint32_t[]", DIVS_CAP)
        self._st.unk = self._unk
        self._st.unk_cap = DIVS_CAP
        self._want = None          # the guest numbers the sink's caller tracker follows

    def feed(self, b: Batch, sink: Any) -> None:
        arr, n, files, abis = b.events, b.count, b.files, b.abis
        if not n:
            return          # a batch of -k frames only
        ffi, st = self.ffi, self._st
        guest_idx = abis.index(self.cs.guest.name) if abis and self.cs.guest.name in abis else 0
        self._sh.ptr.abi = guest_idx
        # once the report's list is full only the counters and the first fatal one matter
        st.divs_cap = DIVS_CAP if sink.listing() else 0
        want = min(n, sink.rows_wanted())
        tl = sink.timeline
        out = ffi.new("ss_rp_result[]", n) if want > 0 or (tl is not None and n) else ffi.NULL
        if n:
            sink.seen_first(files[arr[0].file_id] if arr[0].file_id < len(files) else "?", arr[0].line)
        evfb, ctxs = self._callers(arr, n, sink)
        self._sh.ptr.ev_fallback = evfb if evfb is not None else ffi.NULL
        try:
            self.lib.ss_replay_batch(self._sh.ptr, arr, n, st, out)
        finally:
            self._sh.ptr.ev_fallback = ffi.NULL
        if tl is not None and n:
            size = ffi.sizeof("ss_rp_result")
            off = ffi.offsetof("ss_rp_result", "outcome")
            outs = memoryview(ffi.buffer(out, size * n))[off::size].tobytes()  # one outcome byte per event
            tl.add(outs, lambda i: (files[arr[i].file_id] if arr[i].file_id < len(files) else "?", arr[i].line))
        for i in range(max(0, want)):
            sink.add_row(event(ffi, arr[i], files, abis), _result(out[i]))
        for k in range(min(st.nunk, DIVS_CAP)):
            e = arr[self._unk[k]]
            name = _text(ffi, e.name, e.name_len) or f"#{e.nr}"
            if e.abi != guest_idx and abis and e.abi < len(abis):
                name = f"{name} ({abis[e.abi]})"
            sink.unknown(name)
        if st.nunk > DIVS_CAP:
            sink.unknown("(unnamed beyond the record limit)", st.nunk - DIVS_CAP)
        for k in range(min(st.ndivs, st.divs_cap)):
            d = self._divs[k]
            ev = event(ffi, arr[d.index], files, abis)
            sink.divergence(ev.file, ev.line, d.nr, ev.name, d.code, d.err, d.fallback, d.arg, d.fmap,
                            d.unsup, int(arr[d.index].err), int(arr[d.index].ret), ctxs.get(d.index))
        if sink.first_fatal_missing() and st.first_fatal >= 0:
            # beyond the listed records: the first fatal divergence is still exact
            e = arr[st.first_fatal]
            ev = event(ffi, e, files, abis)
            sink.divergence(ev.file, ev.line, e.nr, ev.name, DIV_FAILS, self.cs.fail_err[e.nr], -1, 0, 0, 0,
                            int(e.err), int(e.ret), ctxs.get(st.first_fatal))

    def _callers(self, arr: Any, n: int, sink: Any):
        """Follow the batch's processes (execve, fork, library opens) through the sink's
        caller tracker and give each event with a fallback row the fallback id for its
        caller: (int16 array or None, {index: ctx}).  ss_select_nr picks the events in C."""
        if n == 0:
            return None, {}
        ffi, cs = self.ffi, self.cs
        if self._want is None:
            w = bytearray(cs.nsys)
            for nr in sink.watch:
                if 0 <= nr < len(w):
                    w[nr] = 2 if nr in sink.open_nrs and nr not in cs.fallback_rows else 1
            self._want = ffi.new("uint8_t[]", bytes(w) or b"\0")
        sel = ffi.new("uint32_t[]", n)
        k = self.lib.ss_select_nr(arr, n, self._want, cs.nsys, sel, n)
        if not k:
            return None, {}
        rows = cs.fallback_rows
        evfb = ffi.new("int16_t[]", n) if rows else None
        if evfb is not None:
            ffi.memmove(evfb, b"\xff" * (2 * n), 2 * n)     # -1 everywhere
        ctxs: dict[int, int] = {}
        tracker = sink.callers
        opens, follows = sink.open_nrs, sink.follow_nrs
        for i in list(sel[0:k]):
            e = arr[i]
            if e.kind != model.SYSCALL:
                continue
            nr = e.nr
            pid = None if e.pid < 0 else e.pid
            if nr in opens:
                # only a successful open of a shared object says something about the caller
                if e.rec != model.SUCCESS or e.ret < 0 or e.flags & model.F_NO_RET or not e.args:
                    continue
                raw = ffi.buffer(e.args, e.args_len)[:]
                if b".so" not in raw and b".hints" not in raw:
                    continue
                tracker.see(_text(ffi, e.name, e.name_len), pid, raw.decode("utf-8", "surrogateescape"),
                            e.rec, e.ret)
                continue
            if nr in follows:
                ret = None if e.flags & model.F_NO_RET else e.ret
                args = ffi.buffer(e.args, e.args_len)[:].decode("utf-8", "surrogateescape") if e.args else ""
                ctx = tracker.see(_text(ffi, e.name, e.name_len) or None, pid, args, e.rec, ret)
            else:
                ctx = tracker.ctx_of(pid)
            if evfb is not None and nr in rows:
                ctxs[i] = ctx
                evfb[i] = sink.fallback_for(nr, ctx)
        return evfb, ctxs

    def totals(self, rep: Any) -> list[tuple[int, Counter]]:
        """Fill the report's counters; the per-syscall outcome counters by guest number."""
        st = self._st
        rep.events, rep.syscalls, rep.undecoded = st.events, st.syscalls, st.undecoded
        rep.outcomes = Counter({o: st.outcome[o] for o in range(NOUT) if st.outcome[o]})
        rep.div_counts = Counter({k: st.div[k] for k in range(1, NDIV) if st.div[k]})
        per = self._per
        out = []
        for nr in range(self.cs.nsys):
            base = nr * NOUT
            c = Counter({o: per[base + o] for o in range(NOUT) if per[base + o]})
            if c:
                out.append((nr, c))
        return out


class BatchRun(Record):
    """Per-event results and counters of one ``ss_replay_batch`` call."""
    _FIELDS = ("results", "stats", "_keep")
    results: list[Result]
    stats: Any                # cdata 'ss_rp_stats *'
    _keep: tuple              # the buffers ``stats`` points into

    def __init__(self, results: list[Result], stats: Any, _keep: tuple = ()) -> None:
        self.results, self.stats, self._keep = results, stats, _keep


def run_batch(cs: Any, events: list[model.Event], cap: int = 64) -> BatchRun:
    """Python events through the C core in one batch, with per-event results:
    what the differential tests and properties compare with replay_event."""
    ffi, lib = _lib()
    packer = EventPacker([cs.guest.name])   # owns the events' text until the batch has run
    arr, n = packer.pack(events)
    stt = ffi.new("ss_rp_stats *")
    per = ffi.new("uint64_t[]", cs.nsys * NOUT)
    divs = ffi.new("ss_rp_div[]", cap)
    unk = ffi.new("uint32_t[]", cap)
    stt.per_nr, stt.divs, stt.divs_cap, stt.unk, stt.unk_cap = per, divs, cap, unk, cap
    out = ffi.new("ss_rp_result[]", max(1, n))
    sh = cs.c()
    sh.ptr.abi = 0
    lib.ss_replay_batch(sh.ptr, arr, n, stt, out)
    res = [_result(o) for o in out[0:n]]
    return BatchRun(res, stt, (per, divs, unk, packer, sh))


# --------------------------------------------------------------------------- the engine object

class CEngine:
    """The C core: the C strace tokeniser, the C replay over ss_event batches."""

    name = "c"

    def __str__(self) -> str:
        return self.name

    def available(self) -> None:
        """Raise a clear ShimsimError if the core is not built."""
        core()

    def events(self, trace: Any) -> Iterator[model.Event]:
        if getattr(trace.module, "C_TOKENISER", False):
            return _with_frames(strace_batches(trace))
        return trace.reference_events()

    def chunks(self, trace: Any) -> Iterator[Batch]:
        """ss_event batches; for strace no Python object is made per event."""
        if getattr(trace.module, "C_TOKENISER", False):
            return strace_batches(trace)
        return self._packed(trace.reference_events(), trace.abis, trace.paths)

    def chunks_of(self, events: Iterable[model.Event], guest: str, batch: int = BATCH_EVENTS) -> Iterator[Batch]:
        """Python events as this engine's chunks."""
        return self._packed(events, [guest], None, batch)

    @staticmethod
    def _packed(events: Iterable[model.Event], abis: list[str], files: list[str] | None,
                batch: int = BATCH_EVENTS) -> Iterator[Batch]:
        packer = EventPacker(abis, files)
        buf: list[model.Event] = []
        for ev in events:
            buf.append(ev)
            if len(buf) >= batch:
                yield Batch(*packer.pack(buf), packer.files, packer.abis)
                buf = []
        if buf:
            yield Batch(*packer.pack(buf), packer.files, packer.abis)

    def to_events(self, chunk: Batch) -> Iterator[model.Event]:
        return to_events(chunk.events, chunk.count, chunk.files, chunk.abis)

    def session(self, cs: Any) -> Session:
        return Session(cs)


ENGINE = CEngine()


def _with_frames(batches: Iterable[Batch]) -> Iterator[model.Event]:
    """Events of the tokeniser's batches with their -k frames; a batch's last
    event waits for the next batch, whose first lines may still be its frames."""
    from shimsim.trace.strace import parse_frame

    last: model.Event | None = None
    for b in batches:
        evs = list(to_events(b.events, b.count, b.files, b.abis))
        for k, text in b.frames:
            target = evs[k - 1] if 0 < k <= len(evs) else last
            if target is not None:
                target.frames.append(parse_frame(text))
        if evs:
            if last is not None:
                yield last
            yield from evs[:-1]
            last = evs[-1]
    if last is not None:
        yield last


def batches(t: Any) -> Iterator[Batch]:
    """ss_event batches of the events trace ``t``'s engine reads (its own
    chunks under C, the reference's events packed under Python)."""
    if t.engine is ENGINE:
        return ENGINE.chunks(t)
    return ENGINE._packed(t.events(), t.abis, t.paths)
