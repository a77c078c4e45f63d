# SPDX-License-Identifier: MIT
"""``shimsim image`` on images made by the real tools: umoci builds an OCI layout from a
root file system (its repack writes the whiteouts for deleted files), skopeo converts it
to a docker-archive (the legacy docker save layout) and an oci-archive, and copies a
multi-platform index whole.  CI installs them from Debian: umoci, skopeo, busybox-static.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import imagefix as fx
from shimsim import cli

pytestmark = pytest.mark.skipif(not (fx.have("umoci", "skopeo", "objcopy") and os.path.exists(fx.BUSYBOX)),
                                reason="needs umoci, skopeo, binutils and busybox-static (Debian packages)")


def tool(*argv: str, cwd: Path) -> None:
    res = fx.run(list(argv), cwd=cwd, capture_output=True, text=True)
    assert res.returncode == 0, f"{' '.join(argv)}: {res.stderr.strip()[:500]}"


def run_json(argv: list[str], capsys) -> dict:
    rc = cli.main([*argv, "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    return json.loads(cap.out)


@pytest.fixture(scope="module")
def umoci_image(tmp_path_factory) -> Path:
    """umoci init/new/unpack --rootless/repack/config: busybox, a script entrypoint, and a
    second layer in which two files of the first are deleted (umoci writes .wh. entries)."""
    tmp = tmp_path_factory.mktemp("umoci")
    tool("umoci", "init", "--layout", "oci", cwd=tmp)
    tool("umoci", "new", "--image", "oci:app", cwd=tmp)
    tool("umoci", "unpack", "--rootless", "--image", "oci:app", "bundle", cwd=tmp)
    rootfs = tmp / "bundle" / "rootfs"
    for d in ("bin", "etc/conf.d", "usr/local/bin"):
        (rootfs / d).mkdir(parents=True, exist_ok=True)
    shutil.copy(fx.BUSYBOX, rootfs / "bin" / "busybox")
    os.symlink("busybox", rootfs / "bin" / "sh")
    (rootfs / "etc" / "old.conf").write_text("old\n")
    (rootfs / "etc" / "conf.d" / "a").write_text("a\n")
    app = rootfs / "usr" / "local" / "bin" / "app"
    app.write_text("#!/bin/sh\nexec busybox httpd -f\n")
    app.chmod(0o755)
    # --refresh-bundle: the next repack diffs against this layer, so deletions become whiteouts
    tool("umoci", "repack", "--refresh-bundle", "--image", "oci:app", "bundle", cwd=tmp)
    (rootfs / "etc" / "old.conf").unlink()
    (rootfs / "etc" / "conf.d" / "a").unlink()
    (rootfs / "etc" / "new.conf").write_text("new\n")
    tool("umoci", "repack", "--image", "oci:app", "bundle", cwd=tmp)
    tool("umoci", "config", "--image", "oci:app", "--config.entrypoint", "app",
         "--config.env", "PATH=/usr/local/bin:/bin", cwd=tmp)
    return tmp


def _check(rep: dict) -> dict:
    (a,) = rep["analyses"]
    assert [s["path"] for s in a["entrypoint"]["chain"]] == ["/usr/local/bin/app", "/bin/busybox"]
    assert a["entrypoint"]["chain"][0]["interpreter"] == "/bin/sh"
    removed = {r["path"] for r in a["removed"]}
    assert {"/etc/old.conf", "/etc/conf.d/a"} <= removed
    v = {x["target"]: x for x in a["verdicts"]}
    assert v["linux-x86_64"]["status"] == "runs"
    assert v["freebsd-amd64"]["status"] == "fails" and "unshare" in v["freebsd-amd64"]["reason"]
    return a


def test_umoci_layout(umoci_image, capsys):
    rep = run_json(["image", f"{umoci_image / 'oci'}:app", "--host", "linux-x86_64", "--host", "freebsd-amd64"],
                   capsys)
    assert rep["format"] == "oci-layout"
    a = _check(rep)
    assert len(a["layers"]) == 2 and a["layers"][1]["whiteouts"] >= 2


@pytest.mark.parametrize("transport,fmt", [("docker-archive", "docker-save (legacy)"), ("oci-archive", "oci-layout")])
def test_skopeo_archives(umoci_image, tmp_path, transport, fmt, capsys):
    out = tmp_path / f"{transport}.tar"
    dest = f"{transport}:{out}:" + ("example.org/app:v1" if transport == "docker-archive" else "v1")
    tool("skopeo", "copy", "--quiet", f"oci:{umoci_image / 'oci'}:app", dest, cwd=tmp_path)
    rep = run_json(["image", f"{out}:v1", "--host", "linux-x86_64", "--host", "freebsd-amd64"], capsys)
    assert rep["format"] == fmt and rep["archive"] == "tar"
    _check(rep)
    # the same archive compressed, as registries' export tools and FreeBSD (.txz) ship them
    xz = tmp_path / f"{transport}.tar.xz"
    tool("xz", "-k", "-1", str(out), cwd=tmp_path) if shutil.which("xz") else pytest.skip("no xz")
    rep = run_json(["image", f"{xz}:v1", "--host", "linux-x86_64", "--host", "freebsd-amd64"], capsys)
    assert rep["archive"] == "tar+xz"
    _check(rep)


def test_skopeo_copies_the_written_index_whole(tmp_path, capsys):
    """The test writer's multi-platform index is a valid OCI layout for skopeo (it verifies every
    digest), and survives 'skopeo copy --all' into an oci-archive with its platforms."""
    bb = fx.read(fx.BUSYBOX)
    lay = fx.Layout(tmp_path / "multi")
    amd = lay.image([fx.layer([("dir", "bin"), ("file", "bin/sh", bb)])], entrypoint=["/bin/sh"])
    arm = lay.image([fx.layer([("dir", "bin"), ("file", "bin/sh", bb)])], arch="arm64", entrypoint=["/bin/sh"])
    fbsd = lay.image([fx.layer([("dir", "bin"), ("file", "bin/sh", fx.freebsd_busybox(tmp_path))])],
                     os_name="freebsd", entrypoint=["/bin/sh"])
    lay.finish([(lay.index([amd, arm, fbsd]), "multi")])
    out = tmp_path / "multi.tar"
    tool("skopeo", "copy", "--quiet", "--all", f"oci:{tmp_path / 'multi'}:multi", f"oci-archive:{out}:multi",
         cwd=tmp_path)
    rep = run_json(["image", str(out), "--host", "linux-x86_64", "--host", "freebsd-amd64",
                    "--host", "illumos"], capsys)
    assert {p["platform"] for p in rep["platforms"]} == {"linux/amd64", "linux/arm64", "freebsd/amd64"}
    an = {a["platform"]: a for a in rep["analyses"]}
    assert "exec format error" in an["linux/arm64"]["headline"]
    v = {x["target"]: x["status"] for x in an["freebsd/amd64"]["verdicts"]}
    assert v["linux-x86_64"] == "cannot run" and v["illumos"] == "cannot run" and v["freebsd-amd64"] != "cannot run"
    v = {x["target"]: x["status"] for x in an["linux/amd64"]["verdicts"]}
    assert v == {"linux-x86_64": "runs", "freebsd-amd64": "fails", "illumos": "fails"}
