# SPDX-License-Identifier: MIT
"""Trace ingestion: every supported format to one stream of normalised events.

    t = trace.open(["run.strace"], format=None, abi=None, strict=False, engine=None)
    t.format, t.abi, t.abis       # format name, guest ABI name, ABI names by ss_event.abi index
    for ev in t.events(): ...     # shimsim.model.Event objects
    for c in t.chunks(): ...      # the engine's own batches, for its replay session
    for b in t.batches(): ...     # b.events (cdata ss_event *), b.count: for the C replay
    t.stats                       # ParseStats (complete once the stream has been consumed)

strace goes through the C tokeniser (engine "c") or the Python reference
(engine "python"); the other formats are Python parsers whose events are
resolved here (syscall number, errno and signal numbers through the guest ABI).
Several files with numeric suffixes (strace -ff -o PREFIX) are one trace, the
pid of each coming from its suffix.

A trace as people publish it (in a Markdown fence or reST block, indented,
quoted, under a shell prompt and the tracer's command line, with ``[...]``
elisions, CRLF or a BOM) is cleaned first (trace.publish): the decoration is
reported as skipped lines with their reasons, events keep the line numbers of
the published text, and the command line helps choose the format.  In lenient
mode a last line cut off in the middle is skipped as "cut-off last line".
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

from shimsim._lazyre import lazy_re
from shimsim._record import replace
from shimsim import engine as _engine
from shimsim import model
from shimsim.engine.c import Batch  # noqa: F401  (public here: t.batches() yields them)
from shimsim.errors import InputError, ShimsimError
from shimsim.trace import formats, io, publish
from shimsim.trace.stats import ParseStats

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["open", "Trace", "Batch", "ParseStats", "expand_paths"]

# Kernel-internal restart codes that strace prints (linux include/linux/errno.h,
# torvalds/linux@v6.6:include/linux/errno.h); uapi errno tables do not list them.
LINUX_RESTART_ERRNOS = {"ERESTARTSYS": 512, "ERESTARTNOINTR": 513, "ERESTARTNOHAND": 514,
                        "ENOIOCTLCMD": 515, "ERESTART_RESTARTBLOCK": 516}
_SUFFIX = lazy_re(r"^(.*)\.(\d+)$")


def expand_paths(paths: list[str]) -> list[tuple[str, int]]:
    """(path, default_pid) per file.  A -ff set (PREFIX.PID files) gets pids
    from the suffixes; a PREFIX that does not exist but has PREFIX.N files
    stands for the whole set."""
    out: list[str] = []
    for p in paths:
        if p != "-" and not os.path.exists(p):
            import glob   # only for a -ff PREFIX that is not itself a file

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


class Trace:
    def __init__(self, files: list[tuple[str, int]], fmt: str, abi: str, strict: bool, eng: Any,
                 cleaned: dict[str, publish.Cleaned] | None = None) -> None:
        self.files = files
        self.cleaned = cleaned or {}   # path -> the published text's trace lines (trace.publish)
        self.paths = [p for p, _ in files]
        self.format = fmt
        self.module = formats.module(fmt)   # the format module: sniff, guess_abi, parse, render
        self.abi = abi
        self.abi_note: str | None = None   # an uncertain or stand-in ABI guess (set by open())
        self.strict = strict
        self.engine = _engine.get(eng)   # the engine object (its .name is "c" or "python")
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
                nrs, errnos, signals = tables.numbers(name)   # not the whole ABI (cached apart)
                sc.append(dict(nrs))
                e = dict(errnos)
                if tables.facts(name).os == "linux":
                    e.update(LINUX_RESTART_ERRNOS)
                er.append(e)
                sg.append(dict(signals))
            self._tables = (sc, er, sg)
        return self._tables

    def new_stats(self) -> ParseStats:
        self.stats = ParseStats()
        return self.stats

    # -- published traces (trace.publish) ----------------------------------------
    def source(self, path: str) -> Iterable[str]:
        """The lines of one file: the cleaned lines of a published text, else the file's."""
        c = self.cleaned.get(path)
        return c.lines if c is not None else io.lines(path, self.long_line(path))

    def source_blocks(self, path: str, lines_done: Any) -> Iterable[tuple[bytes, int]]:
        """The same as blocks for the C tokeniser, which is done with a block (its events
        copied or replayed) before it takes the one after next: so read into reused
        buffers (io.blocks' reuse)."""
        c = self.cleaned.get(path)
        if c is not None:
            return [(c.text().encode("utf-8", "surrogateescape"), 1)]
        return io.blocks(path, self.long_line(path), lines_done=lines_done, prefetch=io.jobs() > 1,
                         reuse=True)

    def line_of(self, path: str, line: int) -> int:
        """A line number of the lines read in the published text's numbering."""
        c = self.cleaned.get(path)
        return c.line_of(line) if c is not None else line

    def remapped(self, path: str, evs: Iterable[model.Event]) -> Iterator[model.Event]:
        """Events of a cleaned file get the line numbers of the published text."""
        c = self.cleaned.get(path)
        if c is None:
            yield from evs
            return
        try:
            for ev in evs:
                if ev.file == path:
                    # a copy: the parser may still read the event it yielded (kdump's exit event
                    # takes the line of the exit call)
                    extra = {k: (c.line_of(v) if k.endswith("_line") and isinstance(v, int) else v)
                             for k, v in ev.extra.items()}          # resumed_line, ret_line, ...
                    ev = replace(ev, line=c.line_of(ev.line), extra=extra)
                yield ev
        except InputError as exc:
            if exc.path == path and exc.line is not None:
                raise InputError(path, c.line_of(exc.line), exc.message) from None
            raise

    def file_done(self, path: str, first_unparsed: int, last: tuple[int, str] | None,
                  remap_stats: bool = True) -> None:
        """After one file: unparsed lines and the last line in published
        numbering, decoration counted as skipped, the cut-off last line."""
        st = self.stats
        c = self.cleaned.get(path)
        if c is not None:
            if remap_stats:
                for k in range(first_unparsed, len(st.unparsed_first)):
                    p, ln, r = st.unparsed_first[k]
                    if p == path:
                        st.unparsed_first[k] = (p, c.line_of(ln), r)
                if st.last_unparsed is not None and st.last_unparsed[0] == path:
                    p, ln, r = st.last_unparsed
                    st.last_unparsed = (p, c.line_of(ln), r)
            st.lines += len(c.skipped)
            if last is not None:
                last = (c.line_of(last[0]), last[1])
            for _line, reason in c.skipped:
                st.skip(reason)
            info: dict[str, Any] = {"skipped": [f"{ln}: {r}" for ln, r in c.skipped[:publish.FIRST_SKIPPED]]}
            if c.notes:
                info["notes"] = c.notes
            if c.command is not None:
                info["command"] = c.command.to_json()
            st.publication[path] = info
        publish.check_cut_off(st, path, last, self.strict)

    def long_line(self, path: str):  # -> Callable[[int], None] | None
        """What io does with an over-long line: count it unparsed (None under --strict: an error)."""
        if self.strict:
            return None
        stats = self.stats
        return lambda line: stats.unparsed(path, line, io.LONG_LINE_REASON)

    # -- streams -----------------------------------------------------------
    def events(self) -> Iterator[model.Event]:
        """Every event of the trace, in order, as the trace's engine reads it; fills self.stats."""
        return self.engine.events(self)

    def chunks(self) -> Iterator[Any]:
        """The trace in the engine's own batches (what its replay session takes); fills self.stats."""
        return self.engine.chunks(self)

    def batches(self) -> Iterator[Any]:
        """ss_event batches (shimsim.engine.c.Batch) of the events the trace's engine reads."""
        from shimsim.engine import c

        return c.batches(self)

    def reference_events(self) -> Iterator[model.Event]:
        """Every event through the format's Python parser; fills self.stats."""
        self.new_stats()
        whole = getattr(self.module, "parse_trace", None)
        if whole is not None:          # the format reads the trace as a whole (strace)
            yield from whole(self)
        else:
            yield from self._lines()

    def check_summary(self) -> None:
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

    # -- line formats ----------------------------------------------------------
    def _lines(self) -> Iterator[model.Event]:
        """A format whose parse() reads lines: its events resolved through the guest ABI."""
        mod = self.module
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
            k0 = len(st.unparsed_first)
            counted = publish.Tail(self.source(path))
            for ev in self.remapped(path, mod.parse(counted, path, st, self.strict)):
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
            self.file_done(path, k0, counted.last)


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
            raise InputError(p, None, io.missing(p))
    cleaned: dict[str, publish.Cleaned] = {}
    heads: dict[str, list[str]] = {}
    for p, _pid in files:
        heads[p] = io.head_lines(p)
        c = publish.inspect(p, heads[p])
        if c is not None:
            cleaned[p] = c
    first = cleaned.get(files[0][0])
    head = first.lines[:200] if first is not None else heads[files[0][0]]
    hint = first.format_hint if first is not None else None
    fmt = format or formats.detect(head, files[0][0], hint=hint)
    formats.module(fmt)
    if fmt.startswith("strace"):
        # 'strace -p PID' without -f prints no pid column: the events are that process's
        files = [(p, _attached(cleaned.get(p), pid)) for p, pid in files]
    note = None
    if abi is None:
        abi = formats.guess_abi(fmt, head)
        note = formats.guess_note(fmt, head)
    else:
        from shimsim import tables

        if abi not in tables.list_abis():
            from shimsim.errors import UnknownName

            raise UnknownName("ABI", abi, tables.list_abis())
    t = Trace(files, fmt, abi, strict, _engine.get(engine), cleaned)
    t.abi_note = note
    return t


def _attached(c: publish.Cleaned | None, pid: int) -> int:
    if c is None or c.command is None or c.command.tracer != "strace" or pid >= 0 or c.command.follow:
        return pid
    return c.command.attached_pid() or pid
