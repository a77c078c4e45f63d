# SPDX-License-Identifier: MIT
"""``shimsim image`` on a real Debian root file system made by mmdebstrap (slow: it downloads
Debian's essential set, ~40 MB, from the configured mirror; skipped when that fails).

The rootfs tarball is the first layer; a second layer whites out libpcre2 through the
merged-/usr symlink (lib -> usr/lib), so ls (libselinux -> libpcre2) cannot load while
dash still runs, and every library is found through the image's own ld.so.cache.
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

import imagefix as fx
from shimsim import cli

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("mmdebstrap") is None, reason="mmdebstrap is not installed")]


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("debian")
    out = tmp / "rootfs.tar"
    try:
        res = fx.run(["mmdebstrap", "--quiet", "--variant=essential", "--format=tar", "bookworm", str(out)],
                             capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.skip("mmdebstrap took more than 15 minutes")
    if res.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        pytest.skip(f"mmdebstrap could not build a rootfs here: {res.stderr.strip()[-300:]}")
    return tmp, out.read_bytes()


def test_debian_rootfs_image(rootfs, capsys):
    tmp, data = rootfs
    lay = fx.Layout(tmp / "oci")
    gone = fx.layer([("whiteout", "lib/x86_64-linux-gnu/libpcre2-8.so.0")])
    m = lay.image([data, gone], entrypoint=["/bin/sh", "-c"], cmd=["ls /"], compression="zstd",
                  env=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    root = lay.finish([(m, "bookworm")])
    rc = cli.main(["image", f"{root}:bookworm", "--host", "linux-x86_64", "--host", "freebsd-amd64",
                   "--all-binaries", "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    rep = json.loads(cap.out)
    (a,) = rep["analyses"]
    assert [s["path"] for s in a["entrypoint"]["chain"]] == ["/usr/bin/dash"]
    assert {v["status"] for v in a["verdicts"]} <= {"runs", "degraded"}
    bins = {b["path"]: b for b in a["binaries"]}
    assert len(bins) > 300 and not [b for b in bins.values() if b["error"]]
    assert "/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0" in {r["path"] for r in a["removed"]}
    ls = bins["/usr/bin/ls"]
    assert ls["missing"] == ["libpcre2-8.so.0"]
    assert all(v["status"] == "cannot run" for v in ls["verdicts"])
    libs = {lib["soname"]: lib["path"] for lib in ls["libraries"]}
    assert libs["libc.so.6"] == "/lib/x86_64-linux-gnu/libc.so.6"      # the image's ld.so.cache entry
    assert "/usr/bin/ls" in a["layers"][0]["failing_binaries"]
