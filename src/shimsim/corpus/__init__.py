# SPDX-License-Identifier: MIT
"""Corpus scale: many traces, binaries and Loupe workloads scored per compat layer.

    from shimsim import corpus
    res = corpus.run(["/usr/bin", "loupedb/"], ["gvisor", "linuxulator"], jobs=2)
    res.summary.completeness("gvisor"), res.summary.blockers("linuxulator", 10)
    res.tables()                     # the JSON-ready tables (schemas/corpus.json)

One pure analysis per input (``analyze``), one exact merge (``score``), and an
executor that runs the analyses serially, on a local Dask cluster
(``jobs``) or on an existing one (``scheduler``); the tables are identical
whichever runs them.  Results stream to a JSONL file (``out``) and a killed
run resumes from it (``resume``).  The scores are defined in docs/corpus.md.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from shimsim.corpus import execute, inputs, score, store
from shimsim.corpus import weights as _weights
from shimsim.corpus.analysis import VERDICTS, analyze
from shimsim.corpus.inputs import Input, discover
from shimsim.corpus.score import Summary

__all__ = ["Input", "Result", "Summary", "VERDICTS", "analyze", "discover", "run", "shim_names"]


@dataclass
class Result:
    summary: Summary
    weights: str
    shims: list[str]
    analysed: int = 0             # rows computed in this run
    reused: int = 0               # rows taken from --resume
    executor: str = "serial"
    errors_seen: list[tuple[str, str]] = field(default_factory=list)

    def tables(self, top: int | None = 20) -> dict:
        out = self.summary.to_json(top, self.weights)
        out["run"] = {"analysed": self.analysed, "reused": self.reused, "executor": self.executor}
        return out


def shim_names(asked: list[str]) -> list[str]:
    """--shim values: shipped names, spec files, or 'all'; checked up front."""
    import os

    from shimsim import shim as shimmod
    from shimsim.errors import UnknownName
    known = shimmod.list_shims()
    out: list[str] = []
    for name in asked:
        for n in (known if name == "all" else [name]):
            if n not in out:
                out.append(n)
    for n in out:
        if n not in known and not os.path.exists(n):
            raise UnknownName("shim", n, known)
        shimmod.load_spec(n)                 # a broken spec is a usage error now, not one per input
    return out


def run(paths: list[str], shims: list[str], weights: _weights.Weights | None = None, *, jobs: int | None = None,
        scheduler: str | None = None, out: str | None = None, resume: bool = False, engine: str | None = None,
        force_loupe: bool = False, client=None, progress: Callable[[int, int], None] | None = None) -> Result:
    """Score every input under every shim (see the module docstring)."""
    from shimsim import engine as _engine
    eng = _engine.select(engine)
    shims = shim_names(shims)
    weights = weights or _weights.uniform()
    sdig = store.shim_digest(shims)
    disc_errors: list[tuple[str, str]] = []
    found = list(discover(paths, disc_errors, force_loupe))
    st = store.ResultStore(out, resume)
    summary = Summary()
    res = Result(summary, weights.source, [], executor="serial")
    from shimsim.corpus.analysis import _spec
    res.shims = [_spec(s).name for s in shims]
    total = len(found) + len(disc_errors)
    done = [0]

    def fold(row: dict) -> None:
        w, name = weights.of(row)
        summary.add(row, w, weights.uniform or name is not None)
        done[0] += 1
        if progress:
            progress(done[0], total)

    for path, msg in disc_errors:
        fold({"input": path, "kind": None, "error": f"{path}: {msg}"})
    todo: list[Input] = []
    keys: dict[tuple[str, str], str] = {}
    for inp in found:
        k = store.row_key(inp.kind, inp.digest, sdig)
        keys[(inp.path, inp.digest)] = k
        prev = st.done.get(k)
        if prev is not None:
            row = dict(prev, input=inp.path, name=inp.name)
            if prev["input"] != inp.path:
                st.write(row)
            res.reused += 1
            fold(row)
        else:
            todo.append(inp)

    def on_row(row: dict) -> None:
        row["key"] = keys[(row["input"], row["digest"])]
        st.write(row)
        res.analysed += 1
        fold(row)

    try:
        if jobs is None and scheduler is None and client is None:
            execute.serial(todo, shims, eng, on_row)
        else:
            own = client is None
            c = client or execute.dask_client(jobs, scheduler)
            res.executor = "dask " + (scheduler or (f"local x{jobs}" if own else str(c.scheduler.address)))
            try:
                execute.distributed(todo, shims, eng, on_row, c)
            finally:
                if own:
                    cluster = getattr(c, "cluster", None)
                    c.close()
                    if cluster is not None:
                        cluster.close()
    finally:
        st.close()
    return res
