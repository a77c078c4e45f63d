# SPDX-License-Identifier: MIT
"""Measure how often ``shimsim probe``'s prediction agrees with reality.

Each command of commands.toml is probed under each layer (default: every shipped shim
whose guest is this host's ABI): the probe runs it normally and under a seccomp filter
that gives it exactly the layer's failures, and sets the replay's prediction beside what
happened.  The script prints (and with --json / --markdown writes) one row per probe and
the agreement rates, overall and on the probes that really broke, with every
disagreement and the replay's first fatal divergence or the reason it saw none.

    PYTHONPATH=src python benchmarks/probe_corpus/run.py [--shim NAME ...] [--only NAME ...]
        [--json FILE] [--markdown FILE] [--timeout S]

It only uses shimsim.probe.check.probe(shim, argv, timeout, compare_output, out_dir),
so the same script measures an older checkout (PYTHONPATH=that/src).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
GO123 = os.environ.get("SHIMSIM_GO123", "/usr/lib/go-1.23/bin/go")
LAYERS = ["linuxulator", "gvisor", "wsl1", "illumos-lx", "netbsd-compat-linux"]


def build(sources: dict, cache: Path) -> dict[str, str | None]:
    """Go and Rust programs of the corpus, built once into CACHE (None: no toolchain)."""
    out: dict[str, str | None] = {"go": None, "go123": None, "rust": None}
    env = {**os.environ, "GOCACHE": str(cache / "gocache"), "GOPATH": str(cache / "gopath"),
           "CGO_ENABLED": "0", "GOFLAGS": "-mod=mod", "GOTOOLCHAIN": "local"}
    # {go}: the distribution's go; {go123}: Go >= 1.23 (Debian's golang-1.23-go from bookworm-backports),
    # whose os.StartProcess/Wait use pidfd_open and fall back to wait4 (src/os/pidfd_linux.go)
    for key, tool in (("go", shutil.which("go")), ("go123", GO123 if os.access(GO123, os.X_OK) else None)):
        if tool is None:
            continue
        d = cache / key
        d.mkdir(parents=True, exist_ok=True)
        for name, body in sources.get("go", {}).items():
            src = d / f"{name}.go"
            src.write_text(body["text"])
            subprocess.run([tool, "build", "-o", str(d / name), str(src)], cwd=d, env=env, check=True,
                           capture_output=True)
        out[key] = str(d)
    if shutil.which("rustc"):
        d = cache / "rust"
        d.mkdir(parents=True, exist_ok=True)
        for name, body in sources.get("rust", {}).items():
            src = d / f"{name}.rs"
            src.write_text(body["text"])
            subprocess.run(["rustc", "-O", "-o", str(d / name), str(src)], check=True, capture_output=True)
        out["rust"] = str(d)
    return out


def fresh_data(root: Path) -> tuple[Path, Path]:
    data, outd = root / "data", root / "out"
    if root.exists():
        shutil.rmtree(root)
    (data / "sub").mkdir(parents=True)
    outd.mkdir()
    (data / "a.txt").write_text("".join(f"line {i}\n" for i in range(1, 201)))
    (data / "b.bin").write_bytes(bytes(range(256)) * 256)
    (data / "sub" / "c.txt").write_text("c\n")
    return data, outd


def expand(argv: list[str], subst: dict[str, str]) -> list[str] | None:
    out = []
    for a in argv:
        for k, v in subst.items():
            if "{" + k + "}" in a:
                if v is None:
                    return None
                a = a.replace("{" + k + "}", v)
        out.append(a)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shim", action="append", help="layer(s) to probe under (default: the five Linux-guest layers)")
    ap.add_argument("--only", action="append", help="command name(s) from commands.toml")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--markdown", metavar="FILE")
    ap.add_argument("--label", default="", help="a name for this measurement (e.g. the commit)")
    args = ap.parse_args()
    from shimsim.probe import check

    corpus = tomllib.loads((HERE / "commands.toml").read_text())
    cmds = [c for c in corpus["command"] if not args.only or c["name"] in args.only]
    shims = args.shim or LAYERS
    work = Path(tempfile.mkdtemp(prefix="shimsim-corpus-"))
    built = build(corpus.get("source", {}), work / "build")
    rows = []
    for c in cmds:
        for s in shims:
            data, outd = fresh_data(work / "run")
            argv = expand(c["argv"], {"data": str(data), "out": str(outd), "py": sys.executable,
                                      "go": built["go"], "go123": built["go123"], "rust": built["rust"]})
            if argv is None:
                rows.append({"command": c["name"], "lang": c["lang"], "shim": s, "skipped": "toolchain missing"})
                continue
            t0 = time.monotonic()
            try:
                r = check.probe(s, argv, args.timeout, bool(c.get("compare_output")), str(work / "rec"))
            except Exception as exc:  # noqa: BLE001 - one probe's trouble is that row's result
                rows.append({"command": c["name"], "lang": c["lang"], "shim": s, "error": f"{type(exc).__name__}: {exc}"})
                continue
            ff = r.report.first_fatal
            rows.append({
                "command": c["name"], "lang": c["lang"], "shim": s, "predicted": r.predicted,
                "observed": r.observed, "agree": r.agree, "why_observed": r.why_breaks(),
                "first_fatal": f"{ff.syscall}: {ff.reason}" if ff else None,
                "survivable": r.report.div_counts.get(2, 0),
                "seconds": round(time.monotonic() - t0, 2),
            })
            row = rows[-1]
            print(f"{c['name']:<14} {s:<20} predicted {row['predicted']:<9} observed {row['observed']:<7} "
                  f"{'agree' if row['agree'] else 'DISAGREE'}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    summary = summarize(rows)
    print(json.dumps(summary, indent=1))
    doc = {"label": args.label, "shims": shims, "commands": len(cmds), "summary": summary, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(doc, indent=1) + "\n")
    if args.markdown:
        Path(args.markdown).write_text(markdown(doc))
    return 0


def summarize(rows: list[dict]) -> dict:
    done = [r for r in rows if "agree" in r]
    broke = [r for r in done if r["observed"] == "breaks"]
    out = {"probes": len(done), "skipped": sum(1 for r in rows if "skipped" in r),
           "errors": sum(1 for r in rows if "error" in r),
           "agree": sum(r["agree"] for r in done),
           "observed_breaks": len(broke), "agree_on_breaks": sum(r["agree"] for r in broke),
           "predicted_uncertain": sum(1 for r in done if r["predicted"] == "uncertain")}
    out["agreement"] = round(out["agree"] / len(done), 3) if done else None
    out["agreement_on_breaks"] = round(out["agree_on_breaks"] / len(broke), 3) if broke else None
    per = {}
    for r in done:
        p = per.setdefault(r["shim"], {"probes": 0, "agree": 0, "breaks": 0, "agree_on_breaks": 0})
        p["probes"] += 1
        p["agree"] += r["agree"]
        if r["observed"] == "breaks":
            p["breaks"] += 1
            p["agree_on_breaks"] += r["agree"]
    out["per_shim"] = per
    return out


def markdown(doc: dict) -> str:
    s = doc["summary"]
    lines = [f"### {doc['label'] or 'probe corpus'}", "",
             f"{s['probes']} probes ({doc['commands']} commands x {len(doc['shims'])} layers; "
             f"{s['skipped']} skipped, {s['errors']} errors): agreement **{s['agree']}/{s['probes']}**"
             f" ({s['agreement']}); on observed breaks **{s['agree_on_breaks']}/{s['observed_breaks']}**"
             f" ({s['agreement_on_breaks']}); predicted uncertain: {s['predicted_uncertain']}", "",
             "| layer | probes | agree | observed breaks | agree on breaks |", "| --- | --- | --- | --- | --- |"]
    for name, p in s["per_shim"].items():
        lines.append(f"| {name} | {p['probes']} | {p['agree']} | {p['breaks']} | {p['agree_on_breaks']} |")
    lines += ["", "| command | layer | predicted | observed | first fatal divergence / why observed |",
              "| --- | --- | --- | --- | --- |"]
    for r in doc["rows"]:
        if "agree" not in r:
            lines.append(f"| {r['command']} | {r['shim']} | - | - | {r.get('skipped') or r.get('error')} |")
            continue
        if r["agree"] and r["observed"] == "runs":
            continue
        why = (r["first_fatal"] or "none") + ("; observed: " + "; ".join(r["why_observed"]) if r["why_observed"] else "")
        why = why.replace("|", "\\|")
        if len(why) > 300:
            why = why[:300] + "..."
        lines.append(f"| {r['command']} | {r['shim']} | {r['predicted']} | {r['observed']}"
                     f"{'' if r['agree'] else ' (DISAGREE)'} | {why} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
