# SPDX-License-Identifier: MIT
"""One image analysed into one JSON-ready dict (schemas/image.json)."""
from __future__ import annotations

import os
from collections.abc import Callable

from shimsim.image.analyse import (SEVERITY, Binary, ImageRoot, Target, find_entrypoint, image_env, inspect_binary,
                                   make_targets, merge_layers, mismatch, platform_abi, platform_verdicts)
from shimsim.image.archive import ImageError, Store, open_store
from shimsim.image.fs import ELF_MAGIC
from shimsim.image.manifest import Candidate, Listing, Platform, choose, list_image

MAX_REMOVED = 2000               # removed paths listed per platform in the report
STATUS_BY_RANK = {v: k for k, v in SEVERITY.items() if k != "unknown"}


TRANSPORTS = ("oci:", "oci-archive:", "docker-archive:")     # skopeo's names for the same inputs


def split_reference(arg: str) -> tuple[str, str | None]:
    """IMAGE or IMAGE:REF, where IMAGE is the shortest prefix that exists; skopeo's
    transport prefixes (oci:DIR:REF, oci-archive:FILE, docker-archive:FILE) are accepted."""
    if os.path.exists(arg):
        return arg, None
    for t in TRANSPORTS:
        if arg.startswith(t) and not os.path.exists(arg.split(":", 1)[0]):
            return split_reference(arg[len(t):])
    for i in (i for i, ch in enumerate(arg) if ch == ":"):
        if i and os.path.exists(arg[:i]):
            return arg[:i], arg[i + 1:] or None
    raise ImageError(arg, None, "no such file or directory (expected an OCI layout directory or an image archive, "
                                "optionally followed by :REF)")


def analyse_image(arg: str, hosts: list[str], shims: list[str], platform: str | None = None,
                  all_binaries: bool = False, progress: Callable[[int], Callable[[str], None]] | None = None,
                  seconds: float = 30.0) -> dict:
    path, ref = split_reference(arg)
    want = None
    if platform is not None:
        try:
            want = Platform.parse(platform)
        except ValueError:
            raise ImageError(path, None, f"--platform {platform!r}: expected OS/ARCH or OS/ARCH/VARIANT") from None
    targets = make_targets(hosts, shims)
    store = open_store(path)
    try:
        listing = list_image(store, ref)
        chosen = _select(listing, want, store)
        plats = []
        for c in listing.candidates:
            entry = c.to_json()
            entry["abi"] = platform_abi(c.platform) if c.platform else None
            entry["selected"] = any(c is s for s in chosen)
            entry["verdicts"] = [] if c.attestation else platform_verdicts(c, targets)
            plats.append(entry)
        analyses = [_analyse(store, c, targets, all_binaries, progress, seconds) for c in chosen]
    finally:
        store.close()
    worst = max((SEVERITY.get(v["status"], 0) for a in analyses for v in a["verdicts"]), default=0)
    return {
        "image": path, "reference": ref, "format": listing.format, "archive": store.kind,
        "references": listing.refs,
        "targets": [{"name": t.name, "kind": t.kind, "host": t.host} for t in targets],
        "platforms": plats, "analyses": analyses,
        "summary": {"platforms": len([c for c in listing.candidates if not c.attestation]),
                    "analysed": len(analyses),
                    "binaries": sum(len(a["binaries"]) for a in analyses),
                    "worst": STATUS_BY_RANK.get(worst, "runs")},
    }


def _select(listing: Listing, want: Platform | None, store: Store) -> list[Candidate]:
    if want is not None:
        c = choose(listing, want)
        return [c]
    images = [c for c in listing.candidates if not c.attestation]
    present = [c for c in images if c.present]
    if not present:
        if not images:
            raise ImageError(store.image, None, "the image lists no platform manifests")
        first = images[0]
        raise ImageError(store.image, first.missing[0], "missing blob: no platform of the image has all its blobs")
    return present


def _analyse(store: Store, cand: Candidate, targets: list[Target], all_binaries: bool,
             progress, seconds: float) -> dict:
    fs, infos = merge_layers(store, cand)
    root = ImageRoot(fs, image_env(cand.config))
    ep = find_entrypoint(fs, cand.config)
    binaries: list[Binary] = []
    seen: set[str] = set()
    elf_steps = [s for s in ep.chain if s.kind == "elf"]
    for i, step in enumerate(elf_steps):
        role = "entrypoint" if step is ep.chain[0] else "interpreter"
        b = inspect_binary(fs, root, step.path, role, targets, seconds)
        binaries.append(b)
        seen.add(b.path)
    main = binaries[-1] if binaries else None
    if all_binaries:
        todo = [(p, n) for p, n in fs.files() if n.head[:4] == ELF_MAGIC and p not in seen]
        advance = progress(len(todo)) if progress else None
        try:
            for p, _n in todo:
                binaries.append(inspect_binary(fs, root, p, "image", targets, seconds))
                if advance:
                    advance(p)
        finally:
            if advance and hasattr(advance, "close"):
                advance.close()
    headline = mismatch(cand, main)
    verdicts = []
    chain = [b for b in binaries if b.role != "image"]
    for t in targets:
        verdicts.append(_image_verdict(t, ep, chain))
    cfg = (cand.config or {}).get("config") or {}
    fbsd = sorted({b.inspection.identity.kernel_version for b in binaries
                   if b.inspection and b.inspection.identity.os == "freebsd" and b.inspection.identity.kernel_version})
    layers = []
    for info in infos:
        j = info.to_json()
        j["failing_binaries"] = [b.path for b in binaries if b.layer == info.index and b.worst() >= SEVERITY["fails"]]
        j["binaries"] = [b.path for b in binaries if b.layer == info.index]
        layers.append(j)
    return {
        "platform": cand.platform.text() if cand.platform else None,
        "abi": platform_abi(cand.platform) if cand.platform else None,
        "digest": cand.digest, "config_digest": cand.config_digest, "ref": cand.ref,
        "headline": headline,
        "verdicts": verdicts,
        "entrypoint": ep.to_json(),
        "config": {"user": cfg.get("User") or None, "working_dir": cfg.get("WorkingDir") or None,
                   "path": image_env(cand.config).get("PATH"),
                   "os_version": (cand.platform.os_version or None) if cand.platform else None},
        "binary_os_versions": fbsd,
        "binaries": [b.to_json() for b in binaries],
        "layers": layers,
        "removed": [{"path": r.path, "layer": r.layer, "how": r.how, "member": r.member}
                    for r in fs.removed[:MAX_REMOVED]],
        "removed_total": len(fs.removed),
        "files": sum(1 for _ in fs.files()),
        "notes": cand.notes + fs.notes[:50],
    }


def _image_verdict(t: Target, ep, chain: list[Binary]) -> dict:
    base = {"target": t.name, "host": t.host}
    if ep.error:
        return {**base, "status": "cannot run", "reason": ep.error, "binary": ep.chain[-1].path if ep.chain else None}
    worst, why, who = -1, "", None
    for b in chain:
        if b.error:
            rank, reason = SEVERITY["cannot run"], f"cannot inspect: {b.error}"
        else:
            v = next(v for v in b.verdicts if v["target"] == t.name)
            rank, reason = SEVERITY.get(v["status"], 0), v["reason"]
        if rank > worst:
            worst, why, who = rank, reason, b.path
    if worst < 0:
        return {**base, "status": "unknown", "reason": "no ELF program found to judge", "binary": None}
    status = STATUS_BY_RANK.get(worst, "runs")
    if worst == 0:
        vs = [v for b in chain for v in b.verdicts if v["target"] == t.name]
        status = "unknown" if vs and all(v["status"] == "unknown" for v in vs) else "runs"
    return {**base, "status": status, "reason": why, "binary": who}
