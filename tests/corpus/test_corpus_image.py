# SPDX-License-Identifier: MIT
"""Container images as corpus inputs (through shimsim.image), next to the other kinds."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from shimsim import corpus
from shimsim.corpus import images, inputs

# the image tests' writer of real OCI layouts and archives
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "image"))
import imagefix as fx  # noqa: E402

pytestmark = pytest.mark.skipif(not (os.path.exists(fx.BUSYBOX) and fx.have("objcopy")),
                                reason="needs busybox-static and objcopy")
FIX = Path(__file__).resolve().parents[1] / "fixtures"


def _busybox_image(root: Path, name: str, data: bytes, os_name: str = "linux") -> Path:
    lay = fx.Layout(root / name)
    top = fx.layer([("dir", "bin"), ("file", "bin/busybox", data), ("symlink", "bin/sh", "busybox")])
    m = lay.image([top], os_name=os_name, entrypoint=["/bin/busybox"], cmd=["true"])
    return lay.finish([(m, "latest")])


@pytest.fixture
def images_dir(tmp_path: Path) -> Path:
    d = tmp_path / "images"
    d.mkdir()
    lin = _busybox_image(d, "linux-busybox", fx.read(fx.BUSYBOX))
    _busybox_image(d, "freebsd-busybox", fx.freebsd_busybox(tmp_path), os_name="freebsd")
    fx.archive(lin, d / "linux-busybox.tar.gz", "gzip")
    return d


def test_images_are_recognised_and_traces_are_not(images_dir, tmp_path):
    assert images.is_layout(str(images_dir / "linux-busybox"))
    assert images.is_archive(str(images_dir / "linux-busybox.tar.gz"))
    assert not images.is_archive(str(FIX / "strace" / "gen" / "git_gc_f_ttt_T_y.strace.gz"))  # a compressed trace
    errs: list = []
    found = sorted((i.kind, i.name) for i in inputs.discover([str(images_dir)], errs))
    assert found == [("image", "freebsd-busybox"), ("image", "linux-busybox"), ("image", "linux-busybox.tar.gz")]
    assert not errs


def test_an_image_is_scored_like_its_entrypoint(images_dir):
    res = corpus.run([str(images_dir)], ["linuxulator", "native"])
    t = res.tables(None)
    assert t["kinds"] == {"image": 3} and t["errors"] == 0
    shims = {s["shim"]: s for s in t["shims"]}
    # static busybox carries every applet's calls: under the Linuxulator both Linux images (layout and
    # archive alike) break on the calls FreeBSD lacks (unshare, setns, ...); the FreeBSD one has no layer
    lx = shims["linuxulator"]
    assert (lx["breaks"], lx["no_layer"]) == (3, 1)
    blockers = {b["syscall"]: b for b in lx["blockers"]}
    assert blockers["unshare"]["inputs"] == 2 and blockers["setns"]["inputs"] == 2
    # native on this Linux host: the Linux images run, the FreeBSD busybox cannot
    assert (shims["native"]["runs"], shims["native"]["breaks"], shims["native"]["no_layer"]) == (2, 1, 1)
    names = {c["syscall"] for c in t["syscalls"]}
    assert {"execve", "read", "write"} <= names


def test_a_broken_image_is_one_error_row(tmp_path):
    bad = tmp_path / "broken"
    bad.mkdir()
    (bad / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    (bad / "index.json").write_text("{not json")
    res = corpus.run([str(bad), str(FIX / "replay" / "ls_plain.strace")], ["gvisor"])
    t = res.tables()
    assert t["inputs"] == 1 and t["errors"] == 1 and str(bad) in t["error_list"][0]["error"]
