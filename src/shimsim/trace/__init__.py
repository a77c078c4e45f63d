# SPDX-License-Identifier: MIT
"""Trace ingestion: every supported format to one stream of normalised events.

    t = trace.open(["run.strace"], format=None, abi=None, strict=False, engine=None)
    t.format, t.abi, t.abis       # format name, guest ABI name, ABI names by ss_event.abi index
    for ev in t.events(): ...     # shimsim.model.Event objects
    for b in t.batches(): ...     # b.events (cdata ss_event *), b.count: for the C replay
    t.stats                       # ParseStats (complete once the stream has been consumed)

strace goes through the C tokeniser (engine "c") or the Python reference
(engine "python"); the other formats are Python parsers whose events are
resolved here (syscall number, errno and signal numbers through the guest ABI).
Several files with numeric suffixes (strace -ff -o PREFIX) are one trace, the
pid of each coming from its suffix.
"""
from __future__ import annotations

import glob
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from shimsim import engine as _engine
from shimsim import model
from shimsim.errors import InputError, ShimsimError
from shimsim.trace import formats, io, sniff
from shimsim.trace.stats import ParseStats

__all__ = ["open", "Trace", "Batch", "ParseStats", "expand_paths"]

# Kernel-internal restart codes that strace prints (linux include/linux/errno.h,
# torvalds/linux@v6.6:include/linux/errno.h); uapi errno tables do not list them.
LINUX_RESTART_ERRNOS = {"ERESTARTSYS": 512, "ERESTARTNOINTR": 513, "ERESTARTNOHAND": 514,
                        "ENOIOCTLCMD": 515, "ERESTART_RESTARTBLOCK": 516}
_SUFFIX = re.compile(r"^(.*)\.(\d+)$")
BATCH_EVENTS = 65536  # events per batch built from Python parsers


def expand_paths(paths: list[str]) -> list[tuple[str, int]]:
    """(path, default_pid) per file.  A -ff set (PREFIX.PID files) gets pids
    from the suffixes; a PREFIX that does not exist but has PREFIX.N files
    stands for the whole set."""
    out: list[str] = []
    for p in paths:
        if p != "-" and not os.path.exists(p):
            members = [m for m in glob.glob(glob.escape(p) + ".*") if _SUFFIX.match(m)
                       and _SUFFIX.match(m).group(1) == p]  # type: ignore[union-attr]
            if members:
                out.extend(sorted(members, key=lambda m: int(_SUFFIX.match(m).group(2))))  # type: ignore[union-attr]
                continue
        out.append(p)
    stems = {(_SUFFIX.match(p).group(1) if _SUFFIX.match(p) else None) for p in out}  # type: ignore[union-attr]
    if len(out) > 1 and len(stems) == 1 and None not in stems:
        return [(p, int(_SUFFIX.match(p).group(2))) for p in out]  # type: ignore[union-attr]
    return [(p, -1) for p in out]


@dataclass
class Batch:
    """ss_event records of one batch; valid until the next batch is requested."""
    events: Any          # cdata 'ss_event *' (or 'ss_event[]')
    count: int
    files: list[str]     # ss_event.file_id -> path
    abis: list[str]      # ss_event.abi -> ABI name


class Trace:
    def __init__(self, files: list[tuple[str, int]], fmt: str, abi: str, strict: bool, eng: str) -> None:
        self.files = files
        self.paths = [p for p, _ in files]
        self.format = fmt
        self.abi = abi
        self.strict = strict
        self.engine = eng
        self.stats = ParseStats()
        self.abis, self.modes = _abi_list(fmt, abi)
        self._tables: tuple[list, list, list] | None = None

    # -- tables ------------------------------------------------------------
    def tables(self) -> tuple[list, list, list]:
        """Name -> number dicts per ABI index: syscalls, errnos, signals."""
        if self._tables is None:
            from shimsim import tables

            sc: list[dict[str, int] | None] = []
            er: list[dict[str, int] | None] = []
            sg: list[dict[str, int] | None] = []
            known = set(tables.list_abis())
            for name in self.abis:
                if name not in known:
                    sc.append(None), er.append(None), sg.append(None)
                    continue
                a = tables.load_abi(name)
                sc.append({n: s.number for n, s in a.by_name.items()})
                e = dict(a.errno.supported())
                if a.os == "linux":
                    e.update(LINUX_RESTART_ERRNOS)
                er.append(e)
                sg.append(dict(a.signals.supported()))
            self._tables = (sc, er, sg)
        return self._tables

    def _new_stats(self) -> ParseStats:
        self.stats = ParseStats()
        return self.stats

    def _long_line(self, path: str):  # -> Callable[[int], None] | None
        if self.strict:
            return None
        stats = self.stats
        return lambda line: stats.unparsed(path, line, io.LONG_LINE_REASON)

    # -- streams -----------------------------------------------------------
    def events(self) -> Iterator[model.Event]:
        """Every event of the trace, in order; fills self.stats."""
        self._new_stats()
        if self.format in ("strace", "strace-summary"):
            if self.engine == "c":
                yield from self._c_events()
            else:
                yield from self._py_strace()
        else:
            yield from self._other()

    def batches(self) -> Iterator[Batch]:
        """ss_event arrays for the C replay.  For strace with the C engine no
        Python object is made per event; other formats and the Python engine
        are packed into arrays."""
        if self.format in ("strace", "strace-summary") and self.engine == "c":
            self._new_stats()
            yield from self._c_batches()
            return
        from shimsim.batch import EventPacker

        packer = EventPacker(self.abis, self.paths)
        buf: list[model.Event] = []
        for ev in self.events():
            buf.append(ev)
            if len(buf) >= BATCH_EVENTS:
                yield Batch(*packer.pack(buf), packer.files, packer.abis)
                buf = []
        if buf:
            yield Batch(*packer.pack(buf), packer.files, packer.abis)

    # -- strace, Python reference ----------------------------------------
    def _resolver(self):  # -> strace.Resolver
        from shimsim.trace.strace import Resolver

        sc, er, sg = self.tables()
        return Resolver(self.abis, sc, er, sg, self.modes)

    def _py_strace(self) -> Iterator[model.Event]:
        from shimsim.trace.strace import StraceParser

        p = StraceParser(self.stats, self._resolver(), self.strict)
        for path, pid in self.files:
            yield from p.parse(io.lines(path, self._long_line(path)), path, pid)
            # calls and call lines never join across files: each file ends here
            yield from p.finish()
        self._check_summary()

    # -- strace, C tokeniser -----------------------------------------------
    def _c_batches(self) -> Iterator[Batch]:
        from shimsim.trace import _ctok
        from shimsim.trace.summary import SummaryTable

        sc, er, sg = self.tables()
        tok = _ctok.Tokeniser(sc, er, sg, self.modes)
        table = SummaryTable()
        ptr = tok.events_ptr
        for fid, (path, pid) in enumerate(self.files):
            first_block = True
            done = lambda: 0 if first_block else tok.next_line() - 1  # noqa: E731
            for block, _ in io.blocks(path, self._long_line(path), lines_done=done):
                # line numbers: 1 for a file's first block, then the tokeniser counts on
                n = tok.feed(block, fid, 1 if first_block else 0, pid)
                first_block = False
                self._c_notes(tok, table)
                if n:
                    yield Batch(ptr(), n, self.paths, self.abis)
            # calls and call lines never join across files: each file ends here
            n = tok.finish()
            self._c_notes(tok, table)
            if n:
                yield Batch(ptr(), n, self.paths, self.abis)
        self._c_stats(tok, table)

    def _c_notes(self, tok: Any, table: Any) -> None:
        from shimsim.trace import _ctok

        for note in tok.notes():
            if note.kind == _ctok.NOTE_UNPARSED:
                path = self.paths[note.file_id]
                if self.strict:
                    raise InputError(path, note.line, _ctok.reason_text(note.reason))
                self.stats.unparsed(path, note.line, _ctok.reason_text(note.reason))
            elif note.kind == _ctok.NOTE_SUMMARY:
                if note.reason == 1:
                    table.header(note.text)
                else:
                    table.row(note.text)

    def _c_stats(self, tok: Any, table: Any) -> None:
        c = tok.counts()
        st = self.stats
        st.lines = c["lines"]
        for k, n in enumerate(c["by_kind"]):
            if n:
                st.events[model.KIND_NAMES[k]] = n
        st.syscalls = tok.syscall_stats()
        st.pids = tok.pids()
        for key, reason in (("blank", "blank"), ("stack", "stack frame (-k)"), ("messages", "strace message"),
                            ("summary", "summary table"), ("continuation", "continuation line")):
            if c[key]:
                st.skipped[reason] = c[key]
        if table.rows:
            st.summary = table.totals()
        self._check_summary()

    def _c_events(self) -> Iterator[model.Event]:
        from shimsim.trace import _ctok

        ffi = _engine.core().ffi
        for b in self._c_batches():
            yield from _ctok.to_events(ffi, b.events, b.count, self.paths, self.abis)

    def _check_summary(self) -> None:
        """strace -C: the summary table at the end against the events read;
        for a summary-only file the table is the statistics."""
        st = self.stats
        if st.summary is None:
            return
        if not st.syscalls:
            st.syscalls = {k: list(v) for k, v in st.summary.items()}
            return
        for name in sorted(set(st.summary) | set(st.syscalls)):
            want = st.summary.get(name, [0, 0])
            got = st.syscalls.get(name, [0, 0])
            if want != got:
                st.summary_mismatches.append(
                    f"{name}: summary table says {want[0]} calls/{want[1]} errors, events give {got[0]}/{got[1]}")

    # -- other formats -------------------------------------------------------
    def _other(self) -> Iterator[model.Event]:
        mod = formats.module(self.format)
        aliases: dict[str, str] = getattr(mod, "ALIASES", {})
        sc, er, sg = self.tables()
        reverse: dict[str, tuple[dict[int, str], dict[int, str]]] = {}

        def names(abi: str) -> tuple[dict[int, str], dict[int, str]]:
            if abi not in reverse:
                reverse[abi] = _number_names(abi)
            return reverse[abi]

        index = {n: i for i, n in enumerate(self.abis)}
        st = self.stats
        for path, _pid in self.files:
            counted = _Counted(io.lines(path, self._long_line(path)))
            for ev in mod.parse(counted, path, st, self.strict):
                if ev.abi is None:
                    ev.abi = self.abi
                a = index.get(ev.abi)
                if a is None:
                    a = len(self.abis)
                    index[ev.abi] = a
                    self.abis.append(ev.abi)
                    self._tables = None
                    sc, er, sg = self.tables()
                self._resolve_other(ev, sc[a], er[a], sg[a], aliases, names(ev.abi))
                st.add_event(ev)
                yield ev
            st.lines += counted.n


    @staticmethod
    def _resolve_other(ev: model.Event, sc: dict[str, int] | None, er: dict[str, int] | None,
                       sg: dict[str, int] | None, aliases: dict[str, str],
                       names: tuple[dict[int, str], dict[int, str]]) -> None:
        """Numbers for names and names for numbers, through the guest ABI.

        truss, dtruss and kdump print some calls under other names than the
        syscall table (FreeBSD ``exit`` is ``_exit``; illumos truss prints
        subcodes such as ``door_call``): the format module's ALIASES say which.
        They print errnos and signals as numbers: the names come from the
        ABI's tables, so errors are counted and replayed by name."""
        errno_names, signal_names = names
        if ev.kind == model.SYSCALL and ev.nr is None and ev.name and sc is not None:
            ev.nr = sc.get(ev.name)
            if ev.nr is None and ev.name in aliases:
                ev.nr = sc.get(aliases[ev.name])
        if ev.errname and ev.err is None and er is not None:
            ev.err = er.get(ev.errname, -1)
        elif ev.kind == model.SYSCALL and ev.errname is None and ev.err and ev.err > 0:
            ev.errname = errno_names.get(ev.err, f"E{ev.err}")
        if ev.kind in (model.SIGNAL, model.STOPPED, model.KILLED):
            if ev.err is None and ev.name and sg is not None:
                ev.err = sg.get(ev.name, -1)
            elif ev.name is None and ev.err and ev.err > 0:
                ev.name = signal_names.get(ev.err, f"SIG{ev.err}")


def _number_names(abi: str) -> tuple[dict[int, str], dict[int, str]]:
    """errno and signal number -> canonical name for one ABI (empty if the
    ABI has no tables)."""
    from shimsim import tables

    if abi not in tables.list_abis():
        return {}, {}
    a = tables.load_abi(abi)
    errnos = {v: a.errno.decode(v)[0] for v in set(dict(a.errno.supported()).values())}
    signals = {v: a.signals.decode(v)[0] for v in set(dict(a.signals.supported()).values())}
    return errnos, signals


class _Counted:
    """Counts the lines a format parser pulls."""

    def __init__(self, it: Iterable[str]) -> None:
        self.it = iter(it)
        self.n = 0

    def __iter__(self) -> Iterator[str]:
        for line in self.it:
            self.n += 1
            yield line


def _abi_list(fmt: str, abi: str) -> tuple[list[str], tuple[int, int, int]]:
    """ABI names by index and the personality modes (64 bit, 32 bit, x32) for strace.

    The personalities come from abis.toml: the trace's ABI is index 0, then the others a
    personality switch can reach; an ABI without personalities never switches."""
    from shimsim import tables

    pers = tables.facts(abi).personalities if abi in tables.list_abis() else {}
    if not pers:
        return [abi], (0, -1, -1)
    names = [abi] + [pers[m] for m in ("64", "32", "x32") if m in pers and pers[m] != abi]
    modes = tuple(names.index(pers[m]) if m in pers else -1 for m in ("64", "32", "x32"))
    return names, modes  # type: ignore[return-value]


def open(paths: str | list[str], format: str | None = None, abi: str | None = None,  # noqa: A001
         strict: bool = False, engine: str | None = None) -> Trace:
    """Open a trace (one file, several, a -ff set, or '-' for stdin)."""
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise ShimsimError("no trace file given")
    files = expand_paths(list(paths))
    for p, _ in files:
        if not io.exists(p):
            raise InputError(p, None, "no such file")
    head = io.head_lines(files[0][0])
    fmt = format or sniff.detect(head, files[0][0])
    mod = formats.module(fmt)
    if abi is None:
        guessed = None
        if fmt.startswith("strace"):
            guessed = sniff.strace_abi(head)
        elif hasattr(mod, "guess_abi"):
            guessed = mod.guess_abi(head)
        abi = guessed or formats.default_abi(fmt, mod)
    else:
        from shimsim import tables

        if abi not in tables.list_abis():
            from shimsim.errors import UnknownName

            raise UnknownName("ABI", abi, tables.list_abis())
    eng = _engine.select(engine)
    return Trace(files, fmt, abi, strict, eng)
