# SPDX-License-Identifier: MIT
"""``shimsim image``: will this container image run on that host?  Answered from the image.

Reads an OCI image layout directory, an OCI archive or a docker/podman save
tarball (plain, gzip, xz or zstd) without a registry, a daemon or
extracting anything to disk.  Gives a verdict per platform and host from the
declared platform first, then merges the layers as the runtime would
(whiteouts applied), finds the entrypoint through the image's PATH and #!
lines, and inspects its ELF closure with the image's own loader
configuration.  A declared platform the binary does not match is the
headline.
"""
from __future__ import annotations

import argparse

from shimsim.commands._common import add_fail_on, add_json, fail_on, formatter, print_json
from shimsim.errors import ShimsimError

EPILOG = """examples:
  skopeo copy docker://docker.io/library/alpine:3.20 oci:alpine:3.20      (registries stay out: copy first)
  shimsim image alpine:3.20 --host linux-x86_64 --host freebsd-amd64 --host illumos
  shimsim image app.tar --platform linux/arm64 --shim gvisor-arm64
  shimsim image freebsd-runtime.txz --host linux --host freebsd
  shimsim image debian.tar.zst --all-binaries --json > report.json
  shimsim image app.oci.tar:v2 --html report.html --fail-on fails          (exit 1 if a verdict fails)

IMAGE is a directory or an archive, optionally followed by :REF (an
org.opencontainers.image.ref.name annotation or a docker RepoTag); skopeo's
spellings oci:DIR:REF, oci-archive:FILE and docker-archive:FILE work too.  Hosts are
ABI names (linux-x86_64, freebsd-amd64, illumos-amd64, ...) or the short names
linux, freebsd, illumos, windows (WSL1) and gvisor; the layer that runs a
platform there is chosen from the shipped shims (linuxulator, illumos-lx, wsl1,
...).  --shim NAME judges through one shim instead.  Default: this machine.
A FreeBSD host may carry its version (--host freebsd@13.2): a FreeBSD binary
whose ABI note says it was built for a newer FreeBSD may fail there (FreeBSD
images declare no os.version, so the binaries' notes are what is compared).

--json prints one object (schemas/image.json): "platforms" (every platform
manifest, present or not, with a verdict per target from the declared platform),
"analyses" (per analysed platform: "headline" when the declared platform and the
entrypoint's ELF disagree, "verdicts" per target, "entrypoint" with its #! chain,
"binaries" with identity, libraries and per-target verdicts, "layers" with the
binaries each brought in and those that would fail, "removed" by whiteouts).

Bad input (not an image, truncated archive, missing blob, digest mismatch, path
escape, a layer that is not a tar) is one error line naming the image and the
member, exit 2.  Nothing is written but the --html file.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("image", help="will a container image run on a host? (OCI layout, OCI or docker archive)",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("image", metavar="IMAGE[:REF]", help="OCI layout directory or image archive")
    p.add_argument("--host", action="append", default=[], metavar="ABI",
                   help="judge for this host (repeatable; e.g. linux-x86_64, freebsd-amd64, illumos, windows)")
    p.add_argument("--shim", action="append", default=[], metavar="NAME_OR_FILE",
                   help="judge through this shim (repeatable or comma-separated; 'all' for every shipped shim)")
    p.add_argument("--platform", metavar="OS/ARCH[/VARIANT]", default=None,
                   help="analyse this platform of an index (default: every platform whose blobs are present)")
    p.add_argument("--all-binaries", action="store_true",
                   help="inspect every ELF file in the image, not only the entrypoint and its interpreters")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                   help="give up on one binary after this long (default 30)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report to FILE")
    add_fail_on(p, ("degraded", "may-fail", "fails", "cannot-run"),
                "degraded, may-fail, fails, cannot-run (any image verdict is COND or worse)")
    add_json(p)
    p.set_defaults(func=run)


def _progress(total: int):
    """A rich progress bar on stderr for --all-binaries, when stderr is a terminal."""
    import os
    from shimsim.report.progress import enabled

    if total < 2 or not enabled(False):
        def step(path: str) -> None:
            pass
        step.close = lambda: None                               # type: ignore[attr-defined]
        return step
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    bar = Progress(TextColumn("image"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   TextColumn("{task.description}"), console=Console(stderr=True), transient=True)
    bar.start()
    task = bar.add_task("", total=total)

    def step(path: str) -> None:
        bar.update(task, advance=1, description=os.path.basename(path)[:40])
    step.close = bar.stop                                       # type: ignore[attr-defined]
    return step


def run(args: argparse.Namespace) -> int:
    from shimsim.image import analyse_image
    from shimsim.image.analyse import SEVERITY
    if args.timeout <= 0:
        raise ShimsimError("--timeout must be positive")
    shims = [n.strip() for opt in args.shim for n in opt.split(",") if n.strip()]
    if args.html:
        from shimsim import output
        from shimsim.image.report import split_reference
        image_file = split_reference(args.image)[0]
        output.check(args.html, [image_file])   # before the analysis: refused paths fail at once
    rep = analyse_image(args.image, args.host, shims, args.platform, args.all_binaries,
                        _progress if args.all_binaries else None, args.timeout)
    if args.html:
        from shimsim.image import html
        html.write(args.html, rep, [image_file])  # all-or-nothing
    if args.json:
        print_json(rep)
    else:
        print(render_text(rep))
        if args.html:
            print(f"HTML report written to {args.html}")
    if fail_on(args):
        worst = min(SEVERITY[c.replace("-", " ")] for c in fail_on(args))
        if any(SEVERITY.get(v["status"], 0) >= worst for a in rep["analyses"] for v in a["verdicts"]):
            return 1
    return 0


def render_text(rep: dict) -> str:
    out = [f"{rep['image']}{':' + rep['reference'] if rep['reference'] else ''}: {rep['format']} "
           f"({rep['archive']}), {rep['summary']['platforms']} platform(s)"]
    out.append("platforms:")
    for p in rep["platforms"]:
        name = p["platform"] or "(platform not declared)"
        extra = []
        if p["attestation"]:
            extra.append("attestation manifest, not an image")
        if not p["present"]:
            extra.append(f"blobs absent: {', '.join(p['missing_blobs'][:3])}")
        if p["os_version"]:
            extra.append(f"os.version {p['os_version']}")
        if p["os_features"]:
            extra.append(f"os.features {','.join(p['os_features'])}")
        mark = "*" if p["selected"] else " "
        out.append(f" {mark} {name:<22} {(p['digest'] or p['via'])[:19]:<19} {'; '.join(extra)}".rstrip())
        for v in p["verdicts"]:
            out.append(f"      on {v['target']}: {v['reason']}")
    for a in rep["analyses"]:
        out.append("")
        out.append(f"== {a['platform']} ({a['abi']}), {len(a['layers'])} layer(s), {a['files']} files ==")
        if a["headline"]:
            out.append(f"MISMATCH: {a['headline']}")
        for v in a["verdicts"]:
            who = f" [{v['binary']}]" if v.get("binary") else ""
            out.append(f"verdict on {v['target']}: {_status_reason(v)}{who}")
        ep = a["entrypoint"]
        if ep["argv"]:
            out.append(f"entrypoint ({ep['from']}): {' '.join(ep['argv'])}")
        for s in ep["chain"]:
            what = f"#! {s['interpreter']}{' ' + s['argument'] if s['argument'] else ''}" if s["kind"] == "script" \
                else s["kind"]
            via = f"{s['named']} = " if s["named"] != s["path"] else ""
            out.append(f"  -> {via}{s['path']} ({what}, layer {s['layer']})")
        if ep["error"]:
            out.append(f"  entrypoint problem: {ep['error']}")
        if a["binary_os_versions"]:
            out.append(f"FreeBSD version from the binaries' ABI notes: {', '.join(map(str, a['binary_os_versions']))}"
                       + ("" if a["config"]["os_version"] else " (the config declares no os.version)"))
        out.append("binaries:")
        shown = [b for b in a["binaries"] if b["role"] != "image" or max(
            (_rank(v["status"]) for v in b["verdicts"]), default=0) >= 3 or b["error"]]
        for b in shown[:60]:
            if b["error"]:
                out.append(f"  {b['path']} (layer {b['layer']}): error: {b['error']}")
                continue
            i = b["identity"]
            kind = f"{i['abi']} {i['type']}, {i['linkage']}" + (f", {i['libc']}" if i.get("libc") else "") + \
                (", Go" if b["language"] == "go" else "")
            out.append(f"  {b['path']} ({b['role']}, layer {b['layer']}): {kind}; {b['syscalls']} syscalls predicted")
            if b["missing"]:
                out.append(f"    missing in the image: {', '.join(b['missing'])}")
            for v in b["verdicts"]:
                out.append(f"    {v['target']}: {_status_reason(v)}")
        rest = len(a["binaries"]) - len(shown)
        if rest > 0:
            out.append(f"  ... {rest} more binaries with no failing verdict (use --json)")
        if any(b["role"] == "image" for b in a["binaries"]):
            for t in rep["targets"]:
                counts: dict[str, int] = {}
                for b in a["binaries"]:
                    st = "error" if b["error"] else next((v["status"] for v in b["verdicts"]
                                                          if v["target"] == t["name"]), "unknown")
                    counts[st] = counts.get(st, 0) + 1
                order = ("runs", "degraded", "may fail", "fails", "cannot run", "unknown", "error")
                out.append(f"  all {len(a['binaries'])} binaries on {t['name']}: "
                           + ", ".join(f"{counts[k]} {k}" for k in order if k in counts))
        out.append("layers:")
        for lay in a["layers"]:
            created = f" {lay['created_by'][:60]}" if lay["created_by"] else ""
            fail = f"; would fail: {', '.join(lay['failing_binaries'][:6])}" if lay["failing_binaries"] else ""
            out.append(f"  {lay['index']}: {(lay['digest'] or '')[:19]} {lay['entries']} entries, "
                       f"{lay['whiteouts']} whiteouts, {lay['opaque_directories']} opaque{created}{fail}")
        if a["removed_total"]:
            paths = ", ".join(r["path"] for r in a["removed"][:8])
            out.append(f"removed by whiteouts ({a['removed_total']}, absent from the merged image): {paths}"
                       + (" ..." if a["removed_total"] > 8 else ""))
        for n in a["notes"][:5]:
            out.append(f"note: {n}")
    return "\n".join(out)


def _rank(status: str) -> int:
    from shimsim.image.analyse import SEVERITY
    return SEVERITY.get(status, 0)


def _status_reason(v: dict) -> str:
    """'status: reason', without saying the status twice when the reason starts with it."""
    r = v["reason"]
    return r if r.startswith(v["status"] + ":") else f"{v['status']}: {r}"
