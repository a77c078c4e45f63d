# SPDX-License-Identifier: MIT
"""Container images as corpus inputs, through ``shimsim.image``.

Recognised without reading the whole image: an OCI layout directory (it
holds ``oci-layout``), or a file that is a tar archive (``ustar`` at offset
257), plain or gzip/xz/zstd/bzip2 compressed (the first block decompressed
is a tar header; a compressed *trace* decompresses to text).  The digest of
a layout is that of its ``oci-layout``, ``index.json`` and ``manifest.json``
(the blobs they name are content-addressed); of an archive, its bytes.

One image is one input: the linux/amd64 platform if the image has it, else
its first complete platform; its entrypoint chain (through ``PATH`` and
``#!`` lines) is inspected with the image as the loader's root, exactly as
``shimsim image`` does, and the image's verdict per shim is the worst of the
chain's binaries.
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
from typing import Any

from shimsim.errors import ShimsimError

_MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bzip2"}
LAYOUT_FILES = ("oci-layout", "index.json", "manifest.json")
PREFERRED_ABI = "linux-x86_64"


def is_layout(path: str) -> bool:
    return os.path.isdir(path) and os.path.isfile(os.path.join(path, "oci-layout"))


def _is_tar_block(b: bytes) -> bool:
    return len(b) >= 262 and b[257:262] == b"ustar"


def is_archive(path: str) -> bool:
    """A tar archive, plain or compressed (never a compressed trace)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
            if _is_tar_block(head):
                return True
            kind = next((k for m, k in _MAGIC.items() if head.startswith(m)), None)
            if kind is None:
                return False
            fh.seek(0)
            if kind == "gzip":
                block = gzip.GzipFile(fileobj=fh).read(512)
            elif kind == "xz":
                block = lzma.LZMAFile(fh).read(512)
            elif kind == "bzip2":
                block = bz2.BZ2File(fh).read(512)
            else:
                import zstandard
                block = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True).read(512)
            return _is_tar_block(block)
    except (OSError, EOFError, lzma.LZMAError, ValueError):
        return False
    except Exception:  # noqa: BLE001 - zstandard.ZstdError: a broken stream is not an image
        return False


def layout_digest(path: str) -> str:
    h = hashlib.sha256()
    for name in LAYOUT_FILES:
        p = os.path.join(path, name)
        if os.path.isfile(p):
            with open(p, "rb") as fh:
                h.update(name.encode() + b"\0" + fh.read() + b"\0")
    return h.hexdigest()


def _image_api():
    try:
        from shimsim.image import analyse as ia
        from shimsim.image.archive import ImageError, open_store
        from shimsim.image.manifest import list_image
    except ImportError:
        raise ShimsimError("container images need shimsim.image, which this build does not have") from None
    return ia, ImageError, open_store, list_image


def analyse(path: str, shims: list[str], row: dict, outcome_of) -> None:
    """Fill ``row`` for the image at ``path`` (``outcome_of(shim, abi, names)``: non-translated outcomes)."""
    from shimsim import shim as shimmod
    from shimsim.elf.verdict import machine_abi
    ia, ImageError, open_store, list_image = _image_api()
    targets = []
    for name in shims:
        spec = ia._spec(name) if name in shimmod.list_shims() else shimmod.load_spec(name)
        targets.append(ia.Target(name, "shim", machine_abi() if spec.host == shimmod.ANY else spec.host))
    store = open_store(path)
    try:
        listing = list_image(store, None)
        cands = [c for c in listing.candidates if not c.attestation and c.present]
        if not cands:
            raise ImageError(path, None, "no platform of the image has all its blobs")
        cand = next((c for c in cands if c.platform and ia.platform_abi(c.platform) == PREFERRED_ABI), cands[0])
        fs, _infos = ia.merge_layers(store, cand)
        root = ia.ImageRoot(fs, ia.image_env(cand.config))
        ep = ia.find_entrypoint(fs, cand.config)
        steps = [s for s in ep.chain if s.kind == "elf"]
        chain = [ia.inspect_binary(fs, root, s.path, "entrypoint" if i == 0 else "interpreter", targets)
                 for i, s in enumerate(steps)]
    finally:
        store.close()
    abi = next((b.inspection.identity.abi for b in reversed(chain) if b.inspection), None)
    row["abi"] = abi or (ia.platform_abi(cand.platform) if cand.platform else None)
    used: set[str] = set()
    for b in chain:
        if b.inspection:
            used |= set(b.inspection.prediction.names())
    row["syscalls"] = sorted(used)
    row["image"] = {"platform": cand.platform.text() if cand.platform else None, "entrypoint": ep.argv,
                    "binaries": [b.path for b in chain]}
    from shimsim.corpus.verdicts import ELF_VERDICT, UNKNOWN
    for t in targets:
        spec_name = shimmod.load_spec(t.name).name
        if ep.error or not chain:
            reason = ep.error or "no ELF program found to judge"
            verdict = "breaks" if ep.error else UNKNOWN
            row["shims"][spec_name] = {"verdict": verdict, "reason": reason, "blockers": [], "outcomes": {},
                                       "first_fatal": None}
            continue
        worst, reason, blockers = -1, "", set()
        for b in chain:
            if b.error:
                rank, why = ia.SEVERITY["cannot run"], f"{b.path}: cannot inspect: {b.error}"
            else:
                v: dict[str, Any] = next(v for v in b.verdicts if v["target"] == t.name)
                rank, why = ia.SEVERITY.get(v["status"], 0), f"{b.path}: {v['status']}: {v['reason']}"
                blockers |= {c["syscall"] for c in v["calls"]
                             if c["outcome"] == "failed" and not c["fallback"] and not c["vdso_only"]}
            if rank > worst:
                worst, reason = rank, why
        status = {v: k for k, v in ia.SEVERITY.items() if k != "unknown"}.get(worst, "runs")
        if worst == 0 and all(v["status"] == "unknown" for b in chain for v in b.verdicts if v["target"] == t.name):
            status = "unknown"
        verdict = ELF_VERDICT.get(status, UNKNOWN)
        row["shims"][spec_name] = {"verdict": verdict, "reason": reason,
                                   "blockers": sorted(blockers) if verdict == "breaks" else [],
                                   "outcomes": outcome_of(t.name, abi, sorted(used)) if abi else {},
                                   "first_fatal": None}
