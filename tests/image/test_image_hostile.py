# SPDX-License-Identifier: MIT
"""Hostile images end in bounded time and memory with one error line naming
the image and what was wrong, exit 2: tar bombs (a gzip layer that inflates
hugely, a giant member, millions of members) and path escapes (``..``, an
absolute name, a hard link out of the root).  A symbolic link that points out
of the root and is then written through stays inside the image, as a runtime
resolves it: nothing is ever extracted to disk, so there is nothing to escape.

The layers are real tar streams written by python's tarfile into OCI layouts
(imagefix); the heavy cases run the CLI with its address space capped at
1 GiB, as tests/test_hostile_input.py does.  Bounds: docs/limits.md."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from hostilekit import cli_capped, one_line

import imagefix as fx
from shimsim import cli
from shimsim.image import archive, fs



def _image(tmp_path: Path, entries: list[tuple], compression: str | None = None) -> Path:
    lay = fx.Layout(tmp_path / "img")
    m = lay.image([fx.layer(entries)], entrypoint=["/bin/sh"], compression=compression)
    return lay.finish([(m, "latest")])


class _Zeros(io.RawIOBase):
    def __init__(self, n: int) -> None:
        self.left = n

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        k = min(len(b), self.left)
        b[:k] = bytes(k)
        self.left -= k
        return k


def _bomb_layout(tmp_path: Path, members: list[tuple[str, int]]) -> Path:
    """An OCI layout whose one gzip layer holds MEMBERS (name, size) of zeros, written by
    streaming (never held in memory); digests and diff_ids are right, so only the bound refuses it."""
    root = tmp_path / "bomb"
    (root / "blobs" / "sha256").mkdir(parents=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    tmp = root / "layer.tmp"

    class _Tee(io.RawIOBase):            # the uncompressed tar stream, hashed on its way to gzip
        def __init__(self, gz) -> None:
            self.gz, self.h = gz, hashlib.sha256()

        def writable(self) -> bool:
            return True

        def write(self, b) -> int:
            self.h.update(b)
            return self.gz.write(b)

    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
        tee = _Tee(gz)
        with tarfile.open(fileobj=tee, mode="w|", format=tarfile.PAX_FORMAT) as tf:
            for name, size in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = size, 0o755, 1700000000
                tf.addfile(info, _Zeros(size) if size else None)
    diff_id = "sha256:" + tee.h.hexdigest()
    h = hashlib.sha256()
    with open(tmp, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    size = tmp.stat().st_size
    tmp.rename(root / "blobs" / "sha256" / h.hexdigest())
    lay = fx.Layout(root)
    cfg = lay.blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/bin/sh"]},
                               "rootfs": {"type": "layers", "diff_ids": [diff_id]}}).encode(), fx.MT_CONFIG)
    man = {"schemaVersion": 2, "mediaType": fx.MT_MANIFEST, "config": cfg,
           "layers": [{"mediaType": fx.MT_LAYER["gzip"], "digest": "sha256:" + h.hexdigest(), "size": size}]}
    return lay.finish([(lay.blob(json.dumps(man).encode(), fx.MT_MANIFEST), "latest")])


# --- tar bombs ------------------------------------------------------------------------------

@pytest.mark.slow
def test_gzip_layer_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    """One member of 2 GiB of zeros in a ~2 MB gzip layer: refused at 256 MiB inflated."""
    root = _bomb_layout(tmp_path, [("bin/sh", 2 << 30)])
    r = cli_capped("image", str(root))
    assert r.returncode == 2
    one_line(r.stderr, str(root), "decompression bomb", f"over {fs.MAX_RATIO}:1")


def test_layer_bomb_bound_in_process(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(fs, "RATIO_FLOOR", 1 << 20)
    root = _bomb_layout(tmp_path, [("etc/zeros", 8 << 20)])          # 8 MiB of zeros, gzip 1000:1
    assert cli.main(["image", str(root)]) == 2
    one_line(capsys.readouterr().err, str(root), "blobs/sha256/", "decompression bomb")


def test_a_layer_that_compresses_well_is_not_a_bomb(tmp_path: Path, capsys) -> None:
    bb = fx.read(fx.BUSYBOX)
    root = _image(tmp_path, [("dir", "bin"), ("file", "bin/sh", bb), ("file", "var/log/lastlog", bytes(4 << 20))],
                  compression="gzip")                                  # 4 MiB of zeros: below the floor
    assert cli.main(["image", str(root), "--json"]) == 0
    assert "error" not in capsys.readouterr().err


def test_too_many_members_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(fs, "MAX_ENTRIES", 1000)
    root = _bomb_layout(tmp_path, [(f"d/f{i}", 0) for i in range(1001)])
    assert cli.main(["image", str(root)]) == 2
    one_line(capsys.readouterr().err, str(root), "too many entries", "over 1000 tar members")


@pytest.mark.slow
def test_a_million_tiny_members_end_in_bounded_memory(tmp_path: Path) -> None:
    """MAX_ENTRIES + 1 empty members: the layer is read through once, memory capped at 1 GiB."""
    root = _bomb_layout(tmp_path, [(f"d{i // 10000}/f{i}", 0) for i in range(fs.MAX_ENTRIES + 1)])
    r = cli_capped("image", str(root))
    assert r.returncode == 2
    one_line(r.stderr, str(root), "too many entries")


def test_archive_with_too_many_members_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(archive, "MAX_MEMBERS", 50)
    root = _image(tmp_path, [("file", "bin/sh", b"#!/bin/true\n")])
    for i in range(60):
        (root / f"junk{i}").write_text("x")
    for compression in (None, "gzip"):
        out = fx.archive(root, tmp_path / f"img-{compression}.tar", compression)
        assert cli.main(["image", str(out)]) == 2
        one_line(capsys.readouterr().err, str(out), "too many members", "over 50")


def test_compressed_archive_bomb_is_refused(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(archive, "RATIO_FLOOR", 1 << 20)
    root = _image(tmp_path, [("file", "bin/sh", b"#!/bin/true\n")])
    (root / "zeros").write_bytes(bytes(16 << 20))
    out = fx.archive(root, tmp_path / "img.tar.gz", "gzip")
    assert cli.main(["image", str(out)]) == 2
    one_line(capsys.readouterr().err, str(out), "decompression bomb")


def test_giant_member_past_the_end_is_truncated(tmp_path: Path, capsys) -> None:
    """A header that claims a 1 TiB member in a small plain layer: truncated, read no further."""
    info = tarfile.TarInfo("bin/sh")
    info.size = 1 << 40
    head = info.tobuf(tarfile.PAX_FORMAT)
    lay = fx.Layout(tmp_path / "img")
    blob = head + b"\x7fELF" + bytes(4096)
    desc = lay.blob(blob, fx.MT_LAYER[None])
    cfg = lay.blob(json.dumps({"architecture": "amd64", "os": "linux",
                               "rootfs": {"type": "layers", "diff_ids": [desc["digest"]]}}).encode(), fx.MT_CONFIG)
    man = {"schemaVersion": 2, "mediaType": fx.MT_MANIFEST, "config": cfg, "layers": [desc]}
    root = lay.finish([(lay.blob(json.dumps(man).encode(), fx.MT_MANIFEST), "latest")])
    assert cli.main(["image", str(root)]) == 2
    one_line(capsys.readouterr().err, str(root), "truncated")


# --- path escapes ---------------------------------------------------------------------------

@pytest.mark.parametrize("entries, needle", [
    ([("file", "../../etc/evil", b"x")], "'../../etc/evil' leaves the image root"),
    ([("dir", "a"), ("file", "a/../../evil", b"x")], "leaves the image root"),
    ([("file", "/etc/evil", b"x")], "'/etc/evil' is an absolute path"),
    ([("hardlink", "bin/sh", "../../../etc/passwd")], "hard link 'bin/sh' -> '../../../etc/passwd' leaves the image root"),
    ([("hardlink", "bin/sh", "/etc/passwd")], "no file of that name in this or a lower layer"),
    ([("symlink", "up", "../../../../.."), ("hardlink", "bin/sh", "up/etc/passwd")], "no file of that name"),
])
def test_path_escape_is_one_error(tmp_path: Path, capsys, entries: list[tuple], needle: str) -> None:
    root = _image(tmp_path, entries)
    assert cli.main(["image", str(root)]) == 2
    one_line(capsys.readouterr().err, str(root), needle)


def test_write_through_a_symlink_out_of_the_root_stays_in_the_image(tmp_path: Path, capsys) -> None:
    """``etc -> ../../../../etc`` then ``etc/passwd``: the write lands on the image's /etc/passwd,
    nothing of the host's is read or written."""
    host_passwd = Path("/etc/passwd").read_bytes()
    root = _image(tmp_path, [("symlink", "up", "../../../../.."), ("dir", "up/etc"),
                             ("file", "up/etc/passwd", b"image:x:0:0::/:/bin/sh\n"),
                             ("dir", "usr/bin"), ("symlink", "bin", "/../../usr/bin"), ("file", "bin/sh", b"#!/bin/true\n")])
    layer_blob = next(p for p in (root / "blobs" / "sha256").iterdir() if p.stat().st_size > 1000)
    with open(layer_blob, "rb") as f:
        ch = fs.read_layer(0, f, str(root), "layer", [1 << 20])
    tree = fs.ImageFS()
    tree.apply(ch, str(root), "layer")
    assert tree.lookup("/etc/passwd")[1].head == b"image:x:0:0::/:/bin/sh\n"
    assert "usr/bin/sh" in tree.nodes and tree.isfile("/bin/sh")
    assert Path("/etc/passwd").read_bytes() == host_passwd
    assert cli.main(["image", str(root), "--json"]) == 0
