# SPDX-License-Identifier: MIT
"""A small writer of OCI image layouts and archives, for tests.

It writes what the OCI image spec and ``docker save`` write (blobs named by
their sha256, manifests, configs with rootfs.diff_ids, index.json with
ref.name annotations, Docker 25's manifest.json beside the OCI layout), from
layers given as lists of entries over real files of this machine.  The
tools themselves (umoci, skopeo) are exercised in test_image_tools.py.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import tarfile
from pathlib import Path

MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {None: "application/vnd.oci.image.layer.v1.tar", "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd": "application/vnd.oci.image.layer.v1.tar+zstd", "xz": "application/vnd.oci.image.layer.v1.tar+xz"}
BUSYBOX = "/bin/busybox"
# the tools run without the sanitizer pass's preload (ldd would list libasan; Go programs refuse it)
TOOL_ENV = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """subprocess.run for the real tools the tests use, without the sanitizer preload."""
    kw.setdefault("env", TOOL_ENV)
    return subprocess.run(argv, **kw)


def layer(entries: list[tuple]) -> bytes:
    """A tar layer.  Entries: ("file", name, bytes[, mode]), ("dir", name), ("symlink", name, target),
    ("hardlink", name, target), ("whiteout", name) -> .wh.NAME, ("opaque", dir) -> DIR/.wh..wh..opq,
    ("raw", TarInfo, bytes|None) for anything else."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            kind = e[0]
            if kind == "raw":
                tf.addfile(e[1], io.BytesIO(e[2]) if e[2] is not None else None)
                continue
            if kind == "whiteout":
                d, base = os.path.split(e[1])
                info, data = tarfile.TarInfo(os.path.join(d, ".wh." + base)), b""
            elif kind == "opaque":
                info, data = tarfile.TarInfo(os.path.join(e[1], ".wh..wh..opq")), b""
            else:
                info, data = tarfile.TarInfo(e[1]), None
            info.mtime = 1700000000
            if kind == "file":
                data = e[2]
                info.mode = e[3] if len(e) > 3 else 0o755
            elif kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, 0o755
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e[2]
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, e[2]
            if data is not None:
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
            else:
                tf.addfile(info)
    return buf.getvalue()


def compress(data: bytes, kind: str | None) -> bytes:
    if kind is None:
        return data
    if kind == "gzip":
        return gzip.compress(data, mtime=0)
    if kind == "xz":
        return lzma.compress(data)
    if kind == "zstd":
        import zstandard
        return zstandard.ZstdCompressor().compress(data)
    raise ValueError(kind)


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Layout:
    """An OCI layout directory being written."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
        (self.root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
        self.legacy: list[dict] = []

    def blob(self, data: bytes, media_type: str) -> dict:
        d = sha(data)
        (self.root / "blobs" / "sha256" / d.split(":")[1]).write_bytes(data)
        return {"mediaType": media_type, "digest": d, "size": len(data)}

    def image(self, layers: list[bytes], *, os_name: str = "linux", arch: str = "amd64", variant: str = "",
              entrypoint: list[str] | None = None, cmd: list[str] | None = None, env: list[str] | None = None,
              compression: str | None = "gzip", platform_in_descriptor: bool = True, tags: list[str] | None = None,
              os_version: str = "") -> dict:
        """Write one platform image; returns its manifest descriptor."""
        descs = [self.blob(compress(t, compression), MT_LAYER[compression]) for t in layers]
        cfg = {"architecture": arch, "os": os_name,
               "config": {"Env": env if env is not None else ["PATH=/usr/local/bin:/usr/bin:/bin"]},
               "rootfs": {"type": "layers", "diff_ids": [sha(t) for t in layers]},
               "history": [{"created_by": f"layer {i} written by tests/image/imagefix.py"} for i in range(len(layers))]}
        if variant:
            cfg["variant"] = variant
        if os_version:
            cfg["os.version"] = os_version
        if entrypoint is not None:
            cfg["config"]["Entrypoint"] = entrypoint
        if cmd is not None:
            cfg["config"]["Cmd"] = cmd
        cdesc = self.blob(json.dumps(cfg).encode(), MT_CONFIG)
        man = {"schemaVersion": 2, "mediaType": MT_MANIFEST, "config": cdesc, "layers": descs}
        mdesc = self.blob(json.dumps(man).encode(), MT_MANIFEST)
        if platform_in_descriptor:
            mdesc["platform"] = {"architecture": arch, "os": os_name, **({"variant": variant} if variant else {})}
        if tags is not None:
            self.legacy.append({"Config": "blobs/sha256/" + cdesc["digest"].split(":")[1], "RepoTags": tags,
                                "Layers": ["blobs/sha256/" + d["digest"].split(":")[1] for d in descs]})
        return mdesc

    def index(self, manifests: list[dict]) -> dict:
        doc = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": manifests}
        return self.blob(json.dumps(doc).encode(), MT_INDEX)

    def finish(self, top: list[tuple[dict, str | None]]) -> Path:
        """Write index.json with (descriptor, ref name) entries (and Docker 25's manifest.json if tagged)."""
        manifests = []
        for desc, ref in top:
            d = dict(desc)
            if ref:
                d["annotations"] = {"org.opencontainers.image.ref.name": ref}
            manifests.append(d)
        (self.root / "index.json").write_text(json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                                                          "manifests": manifests}))
        if self.legacy:
            (self.root / "manifest.json").write_text(json.dumps(self.legacy))
        return self.root


def archive(src: Path, out: Path, compression: str | None = None) -> Path:
    """Pack a layout directory into a tar archive (as oci-archive and docker save write it)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for p in sorted(src.rglob("*")):
            tf.add(p, arcname=str(p.relative_to(src)), recursive=False)
    out.write_bytes(compress(buf.getvalue(), compression))
    return out


def read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def freebsd_busybox(tmp: Path) -> bytes:
    """busybox-static branded FreeBSD: its .note.ABI-tag replaced by objcopy with a FreeBSD ABI
    tag note (__FreeBSD_version 1400097) and EI_OSABI set to 9, as FreeBSD's toolchain brands."""
    note = struct.pack("<III", 8, 4, 1) + b"FreeBSD\0" + struct.pack("<I", 1400097)
    (tmp / "freebsd.note").write_bytes(note)
    out = tmp / "busybox-freebsd"
    run(["objcopy", "--update-section", f".note.ABI-tag={tmp / 'freebsd.note'}", BUSYBOX, str(out)],
                   check=True, capture_output=True)
    data = bytearray(out.read_bytes())
    data[7] = 9                      # EI_OSABI: ELFOSABI_FREEBSD
    return bytes(data)


def have(*tools: str) -> bool:
    return all(shutil.which(t) for t in tools)


def glibc_closure(program: str) -> list[tuple[str, bytes]]:
    """(real path, content) of a dynamic program of this machine and of the libraries ldd finds for it."""
    paths = [program]
    res = run(["ldd", program], capture_output=True, text=True, check=True)
    for line in res.stdout.splitlines():
        parts = line.split()
        if "=>" in parts and len(parts) > 2 and parts[2].startswith("/"):
            paths.append(parts[2])
        elif parts and parts[0].startswith("/"):
            paths.append(parts[0])
    return [(os.path.realpath(p), read(p)) for p in dict.fromkeys(paths) if os.path.exists(p)]
