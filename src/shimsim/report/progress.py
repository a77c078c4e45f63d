# SPDX-License-Identifier: MIT
"""A progress bar with throughput for long parses and replays, on stderr.

Shown only when stderr is a terminal and --quiet is not given, so pipes, logs
and JSON consumers never see it.  The bar measures bytes of the trace files
read (the position of the open file, from /proc/self/fdinfo on Linux, which
also works for compressed files: it is the compressed file that is open);
where that is not available (stdin, other systems) it shows events and
events per second without a total.
"""
from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any
    from rich.progress import Progress, ProgressColumn

# rich is imported only when a bar is drawn (a terminal, no --quiet): pipes and
# scripts do not pay for its import.

MIN_SECONDS = 0.5   # no bar at all for runs shorter than this


def enabled(quiet: bool, stream: Any = None) -> bool:
    """Whether to draw: a terminal on stderr and no --quiet."""
    s = stream if stream is not None else sys.stderr
    return not quiet and hasattr(s, "isatty") and s.isatty()


def _events_column() -> ProgressColumn:
    """A column with the events so far and events per second."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class _EventsColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            n = task.fields.get("events", 0)
            el = task.elapsed or 0.0
            rate = f" {n / el / 1e6:.2f}M/s" if el > 0 else ""
            return Text(f"{n / 1e6:.2f}M events{rate}", style="progress.data.speed")

    return _EventsColumn()


def _file_pos(real: str) -> int | None:
    """Read position of the open file ``real`` in this process (Linux /proc), or None."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != real:
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as f:
                for line in f:
                    if line.startswith("pos:"):
                        return int(line.split()[1])
        except OSError:
            continue
    return None


class TraceProgress:
    """Context manager: ``update(events)`` after each batch."""

    def __init__(self, paths: list[str], label: str, show: bool) -> None:
        self.show = show
        self.label = label
        self.files = [os.path.realpath(p) for p in paths if p != "-" and os.path.isfile(p)]
        self.sizes = [os.path.getsize(p) for p in self.files]
        self.total = sum(self.sizes) if len(self.files) == len(paths) and self.files else None
        self._p: Progress | None = None
        self._task = None
        self._start = time.monotonic()
        self._done_files = 0          # bytes of files read completely
        self._cur = 0                 # index of the file being read

    def __enter__(self) -> TraceProgress:
        if self.show:
            from rich.console import Console
            from rich.progress import (BarColumn, DownloadColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn, TransferSpeedColumn)

            cols: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
            if self.total:
                cols += [BarColumn(), DownloadColumn(), TransferSpeedColumn()]
            cols += [_events_column(), TimeElapsedColumn()]
            self._p = Progress(*cols, console=Console(stderr=True), transient=True, auto_refresh=True)
            self._task = self._p.add_task(self.label, total=self.total, events=0, start=True)
        return self

    def _bytes(self) -> int | None:
        while self._cur < len(self.files):
            pos = _file_pos(self.files[self._cur])
            if pos is not None:
                return self._done_files + pos
            if self._cur + 1 < len(self.files) and _file_pos(self.files[self._cur + 1]) is not None:
                self._done_files += self.sizes[self._cur]
                self._cur += 1
                continue
            return None
        return self.total

    def update(self, events: int) -> None:
        if self._p is None or self._task is None:
            return
        if time.monotonic() - self._start < MIN_SECONDS:
            return
        if not self._p.live.is_started:
            self._p.start()
        done = self._bytes() if self.total else None
        self._p.update(self._task, events=events, **({"completed": done} if done is not None else {}))

    def __exit__(self, *exc: object) -> None:
        if self._p is not None and self._p.live.is_started:
            self._p.stop()
