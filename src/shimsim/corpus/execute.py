# SPDX-License-Identifier: MIT
"""Running the analyses: serially, on a local Dask cluster, or on an existing one.

The same pure function (``analyze.analyze_many``) runs everywhere; rows come
back as they finish and are folded by the caller, so the order of arrival
does not matter (the merge is exact).  Inputs go out in small chunks with a
bounded number in flight, so memory stays flat however large the corpus.
A chunk whose task fails (an exception, or a worker that died: a crash in
the C core or a parser) is retried by Dask, then split and each input run
alone; an input that fails alone too is run once more at the end with
nothing else in flight (a dying worker also fails the tasks queued on it),
and if it still fails it is one error row naming it.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from shimsim.corpus import analysis as _analyze
from shimsim.corpus.inputs import Input
from shimsim.errors import ShimsimError

CHUNK = 16            # inputs per task
IN_FLIGHT = 4         # tasks in flight per worker


def _chunks(items: Iterable[Input], n: int) -> Iterator[list[Input]]:
    buf: list[Input] = []
    for it in items:
        buf.append(it)
        if len(buf) >= n:
            yield buf
            buf = []
    if buf:
        yield buf


def serial(todo: Iterable[Input], shims: list[str], engine: str, on_row: Callable[[dict], None]) -> None:
    for inp in todo:
        on_row(_analyze.analyze(inp, shims, engine))


def _crash_row(inp: Input, exc: BaseException) -> dict:
    return {"input": inp.path, "kind": inp.kind, "name": inp.name, "digest": inp.digest, "abi": None,
            "syscalls": [], "shims": {}, "skipped": None,
            "error": f"{inp.path}: analysis failed on the worker after retries: {type(exc).__name__}: {exc}"}


def dask_client(jobs: int | None = None, scheduler: str | None = None):
    """A distributed Client: a LocalCluster of ``jobs`` single-threaded worker processes, or the
    cluster at ``scheduler``.  The caller closes it (and the local cluster with it)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ShimsimError("--jobs and --scheduler need Dask: pip install 'shimsim[corpus]' "
                           "(dask[distributed])") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="15s")
        except (OSError, TimeoutError) as exc:
            raise ShimsimError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    # dashboard_address=None still serves the dashboard on 8787, and when that port is taken (a
    # notebook's cluster) distributed falls back with a warning and a leaked socket: ask for any port.
    cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    return Client(cluster)


def distributed(todo: Iterable[Input], shims: list[str], engine: str, on_row: Callable[[dict], None],
                client, chunk: int = CHUNK, fn: Callable[..., list[dict]] | None = None) -> None:
    """Run ``fn`` (default ``analysis.analyze_many``) over chunks of ``todo`` on ``client``."""
    from distributed import as_completed

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    limit = workers * IN_FLIGHT
    chunks = _chunks(todo, chunk)
    pending: dict = {}
    ac = as_completed()

    def submit(batch: list[Input], single: bool = False) -> None:
        fut = client.submit(fn or _analyze.analyze_many, batch, shims, engine, retries=1, pure=False)
        pending[fut] = (batch, single)
        ac.add(fut)

    for _ in range(limit):
        b = next(chunks, None)
        if b is None:
            break
        submit(b)
    suspects: list[Input] = []
    for fut in ac:
        batch, single = pending.pop(fut)
        try:
            rows = fut.result()
        except Exception:  # noqa: BLE001 - a worker crash or an unexpected bug: never the whole run
            if single or len(batch) == 1:
                suspects.append(batch[0])      # it may only have shared a dying worker: again, alone, at the end
            else:
                for inp in batch:
                    submit([inp], single=True)
            fut.release()
            continue
        fut.release()
        for r in rows:
            on_row(r)
        b = next(chunks, None)
        if b is not None:
            submit(b)
    # Inputs whose task failed even alone: once more each, with nothing else in flight, so a worker
    # killed by one of them takes no innocent input with it.  What fails now is one error row.
    for inp in suspects:
        fut = client.submit(fn or _analyze.analyze_many, [inp], shims, engine, retries=0, pure=False)
        try:
            rows = fut.result()
        except Exception as exc:  # noqa: BLE001
            rows = [_crash_row(inp, exc)]
        fut.release()
        for r in rows:
            on_row(r)
