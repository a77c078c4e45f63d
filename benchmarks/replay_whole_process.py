# SPDX-License-Identifier: MIT
"""Whole-process `shimsim replay` (parse + replay) of large strace traces, serial
against pipelined: wall-clock GB/s and peak RSS of the child process.

    python benchmarks/replay_whole_process.py [--sizes 49M,2G] [-n 3] [--shim gvisor] [--gzip] [--peers] [SOURCE]

SOURCE is a real strace recording (default: the benchmarks' cached
compileall recording in $SHIMSIM_BENCH_CACHE, else every plain strace fixture
concatenated); each size is that recording concatenated with itself until
the size is reached (the last copy cut at a line end), written to a temporary
directory and deleted afterwards.  Each run is `python -m shimsim replay --shim
SHIM --json TRACE` with SHIMSIM_JOBS=1 (serial) and SHIMSIM_JOBS=2 (the
tokeniser pipelined with the replay, issue 17), interleaved; the figures are
medians and bests (the best run is the one least slowed by other load), the
peak RSS the largest /usr/bin/time -f %M of the runs.  Prints a Markdown table.

With --peers, the same runs also time, interleaved with them, `shimsim parse --json TRACE`
against the peer on PyPI (strace-process-tree, `python -m strace_process_tree TRACE`, when
installed) and the `wc -l` floor, whole process, and print their ratios.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("SHIMSIM_BENCH_CACHE", Path.home() / ".cache" / "shimsim-bench"))
REAL = CACHE / "compileall_xargs_f_tt_T_y.strace"


def size_of(text: str) -> int:
    units = {"K": 1 << 10, "M": 10 ** 6, "G": 10 ** 9}
    return int(float(text[:-1]) * units[text[-1].upper()]) if text[-1].upper() in units else int(text)


def source_bytes(src: Path | None) -> bytes:
    if src is not None:
        return src.read_bytes()
    if REAL.exists():
        return REAL.read_bytes()
    fix = sorted(p for p in (HERE / "tests" / "fixtures" / "strace" / "gen").glob("*.strace"))
    return b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in fix)


def build(path: Path, one: bytes, size: int) -> int:
    """Whole copies of the recording, then its first lines up to the size."""
    copies, rest = divmod(size, len(one))
    tail = one[: one.rfind(b"\n", 0, rest) + 1] if rest else b""
    with open(path, "wb") as f:
        for _ in range(copies):
            f.write(one)
        f.write(tail)
    return copies * len(one) + len(tail)


def timed(argv: list[str], env: dict[str, str], tmp: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one command, its stdout discarded; the RSS from
    /usr/bin/time -f %M (the child's own, not the fork of this process, which holds the recording)."""
    out = tmp / "rss"
    t = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-o", str(out), "-f", "%M", *argv],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=HERE)
    dt = time.perf_counter() - t
    if r.returncode not in ok:
        sys.exit(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.decode(errors='replace')[-500:]}")
    return dt, int(out.read_text().split()[-1]) * 1024


def run(trace: Path, jobs: str, shim: str, env0: dict[str, str], tmp: Path) -> tuple[float, int]:
    """One whole-process replay (exit 1 is a verdict, the shim breaking the program, not a failure)."""
    return timed([sys.executable, "-m", "shimsim", "replay", "--shim", shim, "--json", str(trace)],
                 dict(env0, SHIMSIM_JOBS=jobs), tmp, ok=(0, 1))


def peers(trace: Path, env0: dict[str, str]) -> dict[str, list[str]]:
    """The parse-side commands timed with --peers: shimsim parse --json, the PyPI peer, wc -l."""
    out = {"shimsim parse --json": [sys.executable, "-m", "shimsim", "parse", "--json", str(trace)]}
    if importlib.util.find_spec("strace_process_tree") is not None:
        out["strace-process-tree 1.5.3" if _spt_version() == "1.5.3" else "strace-process-tree"] = \
            [sys.executable, "-m", "strace_process_tree", str(trace)]
    out["wc -l (floor)"] = ["wc", "-l", str(trace)]
    return out


def _spt_version() -> str:
    import strace_process_tree
    return getattr(strace_process_tree, "__version__", "?")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="49M,2G")
    ap.add_argument("-n", type=int, default=3, help="runs per size and mode (default 3)")
    ap.add_argument("--shim", default="gvisor")
    ap.add_argument("--gzip", action="store_true", help="gzip -1 the generated traces (the decompression thread)")
    ap.add_argument("--peers", action="store_true",
                    help="also time shimsim parse --json, strace-process-tree and wc -l (whole process)")
    ap.add_argument("--tmp", default=None, help="directory for the generated traces (default: the system's)")
    ap.add_argument("source", nargs="?", type=Path)
    a = ap.parse_args()
    env0 = dict(os.environ)
    env0.setdefault("PYTHONPATH", str(HERE / "src"))
    one = source_bytes(a.source)
    tmp = Path(tempfile.mkdtemp(prefix="shimsim-bench-", dir=a.tmp))
    rows = []
    peer_rows = []
    try:
        for s in a.sizes.split(","):
            trace = tmp / f"trace-{s}.strace"
            n = build(trace, one, size_of(s))
            if a.gzip:
                subprocess.run(["gzip", "-1", str(trace)], check=True)
                trace = trace.with_name(trace.name + ".gz")
            res: dict[str, list[tuple[float, int]]] = {"1": [], "2": []}
            others = peers(trace, env0) if a.peers and not a.gzip else {}
            pres: dict[str, list[tuple[float, int]]] = {k: [] for k in others}
            run(trace, "2", a.shim, env0, tmp)             # warm the page cache
            for _ in range(a.n):
                for jobs in ("1", "2"):
                    res[jobs].append(run(trace, jobs, a.shim, env0, tmp))
                for k, argv in others.items():
                    pres[k].append(timed(argv, env0, tmp))
            if others:
                ours = min(x[0] for x in pres["shimsim parse --json"])
                for k in others:
                    best = min(x[0] for x in pres[k])
                    peer_rows.append((s, k, statistics.median(x[0] for x in pres[k]), best, n / best / 1e9,
                                      best / ours, max(x[1] for x in pres[k]) / 1e6))
            for jobs, label in (("1", "serial (SHIMSIM_JOBS=1)"), ("2", "pipelined (SHIMSIM_JOBS=2)")):
                label += " .gz" if a.gzip else ""
                t = statistics.median(x[0] for x in res[jobs])
                best = min(x[0] for x in res[jobs])
                rss = max(x[1] for x in res[jobs])
                rows.append((s, n, label, t, best, n / best / 1e9, rss / 1e6))
            trace.unlink()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("| trace | bytes | mode | wall s (median) | wall s (best) | GB/s (best) | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s, n, label, t, best, gbs, rss in rows:
        print(f"| {s} | {n} | {label} | {t:.2f} | {best:.2f} | {gbs:.3f} | {rss:.0f} |")
    if peer_rows:
        print()
        print("| trace | command | wall s (median) | wall s (best) | GB/s (best) | time / shimsim parse | peak RSS MB |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for s, k, t, best, gbs, ratio, rss in peer_rows:
            print(f"| {s} | {k} | {t:.2f} | {best:.2f} | {gbs:.3f} | {ratio:.2f} | {rss:.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
