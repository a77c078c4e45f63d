# SPDX-License-Identifier: MIT
"""``shimsim image`` on images written at test time from this machine's real binaries.

The images hold busybox-static, a dynamic coreutils ``env`` with its own glibc
(found through an ld.so.cache that ``ldconfig -r`` builds for the image root),
a second layer with an explicit and an opaque whiteout, a multi-platform index
(linux/amd64, a linux/arm64 entry that really ships x86-64, freebsd/amd64 with
a FreeBSD-branded busybox made with objcopy, and an entry whose blobs are
absent), and broken inputs.  See imagefix.py for the writer.
"""
from __future__ import annotations

import json
import os
import shutil
import tarfile
from pathlib import Path

import pytest

import imagefix as fx
from shimsim import cli

pytestmark = pytest.mark.skipif(not (os.path.exists(fx.BUSYBOX) and fx.have("objcopy", "ldd", "ldconfig")),
                                reason="needs busybox-static (/bin/busybox), binutils' objcopy and glibc's ldd/ldconfig")
ENV = "/usr/bin/env"
ODD_LIB = "opt/odd/lib"          # a library directory only the image's ld.so.cache names


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    rc = cli.main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def run_json(argv: list[str], capsys) -> tuple[int, dict]:
    rc, out, err = run([*argv, "--json"], capsys)
    assert out, err
    return rc, json.loads(out)


def _image_cache(tmp: Path, libs: list[tuple[str, bytes]]) -> bytes:
    """An ld.so.cache for the image root, written by the real ldconfig (-r ROOT)."""
    root = tmp / "cacheroot"
    (root / ODD_LIB).mkdir(parents=True)
    (root / "etc").mkdir()
    for path, data in libs:
        (root / ODD_LIB / os.path.basename(path)).write_bytes(data)
    (root / "etc" / "ld.so.conf").write_text(f"/{ODD_LIB}\n")
    fx.run(["ldconfig", "-r", str(root)], check=True, capture_output=True)
    return (root / "etc" / "ld.so.cache").read_bytes()


@pytest.fixture(scope="module")
def parts(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("imgparts")
    busybox = fx.read(fx.BUSYBOX)
    closure = fx.glibc_closure(ENV)
    env_bin = closure[0][1]
    libs = [(p, d) for p, d in closure[1:] if "ld-linux" not in p]
    loader = [(p, d) for p, d in closure[1:] if "ld-linux" in p]
    assert libs and loader, closure
    cache = _image_cache(tmp, libs)
    base = [("symlink", "bin", "usr/bin"), ("symlink", "lib", "usr/lib"), ("symlink", "lib64", "usr/lib64"),
            ("dir", "usr"), ("dir", "usr/bin"), ("dir", "usr/lib"), ("dir", "usr/lib64"), ("dir", "etc"),
            ("dir", "etc/sub"), ("dir", ODD_LIB.split("/")[0]), ("dir", "opt/odd"), ("dir", ODD_LIB),
            ("file", "usr/bin/busybox", busybox), ("symlink", "usr/bin/sh", "busybox"),
            ("file", "usr/bin/env", env_bin),
            ("file", "usr/lib64/ld-linux-x86-64.so.2", loader[0][1]),
            ("file", "etc/ld.so.cache", cache, 0o644),
            ("file", "etc/a", b"removed by a whiteout\n", 0o644),
            ("file", "etc/sub/x", b"removed by an opaque whiteout\n", 0o644),
            ("file", "etc/sub/kept-by-none", b"also removed\n", 0o644),
            ("hardlink", "usr/bin/busybox-again", "usr/bin/busybox")]
    base += [("file", f"{ODD_LIB}/{os.path.basename(p)}", d) for p, d in libs]
    top = [("whiteout", "etc/a"), ("opaque", "etc/sub"), ("file", "etc/sub/new", b"new\n", 0o644),
           ("dir", "usr/local"), ("dir", "usr/local/bin"),
           ("file", "usr/local/bin/app", b"#!/usr/bin/env sh\necho started\n")]
    return {"tmp": tmp, "busybox": busybox, "base": fx.layer(base), "top": fx.layer(top),
            "freebsd": fx.freebsd_busybox(tmp), "libs": libs}


@pytest.fixture(scope="module")
def debianish(parts) -> Path:
    """One linux/amd64 image: two layers, entrypoint a '#!/usr/bin/env sh' script found through PATH."""
    lay = fx.Layout(parts["tmp"] / "debianish")
    m = lay.image([parts["base"], parts["top"]], entrypoint=["app"], cmd=["--flag"],
                  env=["PATH=/usr/local/bin:/usr/bin:/bin"], tags=["example.org/debianish:1"])
    return lay.finish([(m, "1")])


@pytest.fixture(scope="module")
def multi(parts) -> Path:
    lay = fx.Layout(parts["tmp"] / "multi")
    amd = lay.image([parts["base"], parts["top"]], entrypoint=["app"], env=["PATH=/usr/local/bin:/usr/bin:/bin"])
    arm = lay.image([fx.layer([("dir", "bin"), ("file", "bin/server", parts["busybox"])])],
                    arch="arm64", variant="v8", entrypoint=["/bin/server"])
    fbsd = lay.image([fx.layer([("dir", "bin"), ("file", "bin/sh", parts["freebsd"])])],
                     os_name="freebsd", compression="xz", entrypoint=["/bin/sh"])
    absent = {"mediaType": fx.MT_MANIFEST, "digest": "sha256:" + "ab" * 32, "size": 500,
              "platform": {"os": "linux", "architecture": "s390x"}}
    nested = lay.index([amd, arm, fbsd, absent])
    return lay.finish([(nested, "latest")])


def test_entrypoint_through_path_env_and_image_cache(debianish, capsys):
    rc, rep = run_json(["image", str(debianish), "--host", "linux-x86_64"], capsys)
    assert rc == 0
    assert rep["format"] == "docker-save (OCI layout, Docker 25+)" and rep["archive"] == "directory"
    (a,) = rep["analyses"]
    ep = a["entrypoint"]
    assert ep["argv"] == ["app", "--flag"] and ep["from"] == "Entrypoint+Cmd" and ep["error"] is None
    chain = [(s["path"], s["kind"]) for s in ep["chain"]]
    # app is a script for /usr/bin/env, which looks 'sh' up in the image's PATH: /usr/bin/sh -> busybox
    assert chain == [("/usr/local/bin/app", "script"), ("/usr/bin/env", "elf"), ("/usr/bin/busybox", "elf")]
    assert ep["chain"][0]["interpreter"] == "/usr/bin/env" and ep["chain"][0]["argument"] == "sh"
    assert ep["chain"][0]["layer"] == 1 and ep["chain"][1]["layer"] == 0
    env = next(b for b in a["binaries"] if b["path"] == "/usr/bin/env")
    assert env["identity"]["linkage"] == "dynamic" and env["identity"]["libc"] == "glibc"
    libc = next(lib for lib in env["libraries"] if lib["soname"] == "libc.so.6")
    # resolved through the image's own ld.so.cache, not this machine's
    assert libc["path"] == f"/{ODD_LIB}/libc.so.6"
    assert env["missing"] == []
    bb = next(b for b in a["binaries"] if b["path"] == "/usr/bin/busybox")
    assert bb["identity"]["linkage"] == "static"
    (v,) = a["verdicts"]
    assert v["target"] == "linux-x86_64" and v["status"] == "runs"
    assert a["headline"] is None


def test_whiteouts_remove_lower_files(debianish, capsys):
    rc, rep = run_json(["image", str(debianish)], capsys)
    a = rep["analyses"][0]
    removed = {r["path"]: r["how"] for r in a["removed"]}
    assert removed == {"/etc/a": "whiteout", "/etc/sub/x": "opaque directory",
                       "/etc/sub/kept-by-none": "opaque directory"}
    assert [lay["whiteouts"] for lay in a["layers"]] == [0, 1]
    assert [lay["opaque_directories"] for lay in a["layers"]] == [0, 1]
    assert a["layers"][1]["created_by"] == "layer 1 written by tests/image/imagefix.py"
    # the merged tree itself
    from shimsim.image.analyse import merge_layers
    from shimsim.image.archive import open_store
    from shimsim.image.manifest import list_image
    store = open_store(str(debianish))
    fs, _ = merge_layers(store, list_image(store, None).candidates[0])
    assert fs.lookup("/etc/a") is None and fs.lookup("/etc/sub/x") is None
    assert fs.read("/etc/sub/new") is None and fs.isfile("/etc/sub/new")      # kept as metadata only
    assert fs.isfile("/bin/busybox-again") and fs.read("/bin/busybox-again") == fs.read("/usr/bin/busybox")
    assert fs.resolve("/lib64/../bin/sh") == "usr/bin/busybox"
    # an absolute symlink and '..' stay inside the image root
    assert fs.resolve("/../../../../usr/bin/sh") == "usr/bin/busybox"


def test_whiteout_of_a_library_makes_its_users_fail(parts, capsys):
    lay = fx.Layout(parts["tmp"] / "nolibc")
    gone = fx.layer([("whiteout", f"{ODD_LIB}/libc.so.6")])
    m = lay.image([parts["base"], parts["top"], gone], entrypoint=["app"], env=["PATH=/usr/local/bin:/usr/bin"])
    root = lay.finish([(m, None)])
    rc, rep = run_json(["image", str(root), "--fail-on", "cannot-run"], capsys)
    assert rc == 1
    _valid(rep)
    a = rep["analyses"][0]
    env = next(b for b in a["binaries"] if b["path"] == "/usr/bin/env")
    assert env["missing"] == ["libc.so.6"]
    assert env["verdicts"][0]["status"] == "cannot run" and "libc.so.6 not found in the image" in \
        env["verdicts"][0]["reason"]
    assert a["verdicts"][0]["status"] == "cannot run" and a["verdicts"][0]["binary"] == "/usr/bin/env"
    assert "/opt/odd/lib/libc.so.6" in {r["path"] for r in a["removed"]}


def test_multi_platform_index(multi, capsys):
    rc, rep = run_json(["image", str(multi), "--host", "linux-x86_64", "--host", "freebsd-amd64",
                        "--host", "illumos"], capsys)
    assert rc == 0
    plats = {p["platform"]: p for p in rep["platforms"]}
    assert set(plats) == {"linux/amd64", "linux/arm64/v8", "freebsd/amd64", "linux/s390x"}
    assert not plats["linux/s390x"]["present"] and plats["linux/s390x"]["missing_blobs"] == ["blobs/sha256/" + "ab" * 32]
    assert not plats["linux/s390x"]["selected"] and plats["linux/amd64"]["selected"]

    def pv(plat, target):
        return next(v for v in plats[plat]["verdicts"] if v["target"] == target)
    assert pv("linux/amd64", "linux-x86_64")["shim"] == "native" and pv("linux/amd64", "linux-x86_64")["status"] == "native"
    assert pv("linux/amd64", "freebsd-amd64")["status"] == "layer"
    assert pv("linux/amd64", "freebsd-amd64")["shim"] == "linuxulator"
    assert pv("linux/amd64", "illumos")["shim"] == "illumos-lx" and pv("linux/amd64", "illumos")["host"] == "illumos-amd64"
    assert pv("linux/arm64/v8", "linux-x86_64")["status"] == "cannot run"
    assert "exec format error" in pv("linux/arm64/v8", "linux-x86_64")["reason"]
    # an emulator is never assumed, only offered: qemu-user models aarch64 on x86-64 Linux
    assert "--shim qemu-user@7.2 judges it under that emulator" in pv("linux/arm64/v8", "linux-x86_64")["reason"]
    assert pv("freebsd/amd64", "freebsd-amd64")["shim"] == "native"
    assert pv("freebsd/amd64", "linux-x86_64")["status"] == "cannot run"
    assert "no layer runs freebsd binaries on Linux" in pv("freebsd/amd64", "linux-x86_64")["reason"]
    assert pv("freebsd/amd64", "illumos")["status"] == "cannot run"

    an = {a["platform"]: a for a in rep["analyses"]}
    assert set(an) == {"linux/amd64", "linux/arm64/v8", "freebsd/amd64"}
    # declared arm64, ships x86-64: the headline
    head = an["linux/arm64/v8"]["headline"]
    assert head and "declared linux/arm64/v8" in head and "x86_64" in head and "exec format error" in head
    arm_v = {v["target"]: v for v in an["linux/arm64/v8"]["verdicts"]}
    assert arm_v["linux-x86_64"]["status"] == "runs"      # an x86-64 host runs the x86-64 binary after all
    assert an["linux/amd64"]["headline"] is None and an["freebsd/amd64"]["headline"] is None
    fb = an["freebsd/amd64"]
    assert fb["binary_os_versions"] == ["1400097"] and fb["config"]["os_version"] is None
    (sh,) = fb["binaries"]
    assert sh["identity"]["abi"] == "freebsd-amd64" and "FreeBSD" in sh["identity"]["decided_by"]
    fb_v = {v["target"]: v for v in fb["verdicts"]}
    assert fb_v["linux-x86_64"]["status"] == "cannot run" and fb_v["illumos"]["status"] == "cannot run"
    assert fb_v["freebsd-amd64"]["status"] != "cannot run"
    assert fb["layers"][0]["compression"] == "xz"


def test_platform_selection_and_podman_error(multi, capsys):
    rc, rep = run_json(["image", str(multi), "--platform", "linux/arm64"], capsys)
    assert rc == 0 and [a["platform"] for a in rep["analyses"]] == ["linux/arm64/v8"]   # v8 is arm64's base variant
    rc, out, err = run(["image", str(multi), "--platform", "freebsd/arm64"], capsys)
    assert rc == 2 and out == ""
    assert err == (f'shimsim: error: {multi}: no image found in image index for architecture "arm64", '
                   'variant "", OS "freebsd"\n')
    rc, _, err = run(["image", str(multi), "--platform", "linux"], capsys)
    assert rc == 2 and "expected OS/ARCH" in err
    # named, the emulator is the layer for the arm64 platform; it still cannot run the x86-64 binary inside
    rc, rep = run_json(["image", str(multi), "--platform", "linux/arm64", "--shim", "qemu-user@7.2"], capsys)
    plat = next(p for p in rep["platforms"] if p["platform"] == "linux/arm64/v8")
    assert plat["verdicts"][0]["status"] == "layer" and plat["verdicts"][0]["shim"] == "qemu-user@7.2"
    v = rep["analyses"][0]["verdicts"][0]
    assert v["status"] == "cannot run" and "qemu-user@7.2 runs linux-aarch64 guests, this is linux-x86_64" in v["reason"]


def test_text_report(multi, capsys):
    rc, out, err = run(["image", f"{multi}:latest", "--host", "linux", "--host", "freebsd"], capsys)
    assert rc == 0, err
    assert "MISMATCH: declared linux/arm64/v8 but /bin/server is an x86_64 ELF" in out
    assert "FreeBSD version from the binaries' ABI notes: 1400097 (the config declares no os.version)" in out
    assert "removed by whiteouts (3, absent from the merged image): /etc/a" in out
    assert "blobs absent: blobs/sha256/abab" in out


def test_references(parts, capsys):
    lay = fx.Layout(parts["tmp"] / "tworefs")
    a = lay.image([parts["base"]], entrypoint=["/usr/bin/busybox"], compression=None)
    b = lay.image([fx.layer([("dir", "bin"), ("file", "bin/x", b"not a program\n")])], entrypoint=["/bin/x"])
    root = lay.finish([(a, "one"), (b, "two")])
    rc, _, err = run(["image", str(root)], capsys)
    assert rc == 2 and "holds 2 images (one, two); pick one with IMAGE:REF" in err
    rc, rep = run_json(["image", f"oci:{root}:two"], capsys)       # skopeo's spelling works too
    ep = rep["analyses"][0]["entrypoint"]
    assert rc == 0 and ep["error"] == "/bin/x is neither ELF nor a #! script: 'exec format error'"
    assert rep["analyses"][0]["verdicts"][0]["status"] == "cannot run"
    rc, _, err = run(["image", f"{root}:three"], capsys)
    assert rc == 2 and "no image with reference 'three'; references here: one, two" in err


def test_no_entrypoint_and_not_found(parts, capsys):
    lay = fx.Layout(parts["tmp"] / "noep")
    a = lay.image([parts["base"]], compression=None)
    b = lay.image([parts["base"]], cmd=["nosuch"], env=["PATH=/usr/bin"], compression=None)
    root = lay.finish([(a, "none"), (b, "missing")])
    rc, rep = run_json(["image", f"{root}:none"], capsys)
    assert "neither Entrypoint nor Cmd" in rep["analyses"][0]["entrypoint"]["error"]
    rc, rep = run_json(["image", f"{root}:missing"], capsys)
    err = rep["analyses"][0]["entrypoint"]["error"]
    assert "nosuch: not found in the image's PATH (/usr/bin)" in err and "executable file not found in $PATH" in err


@pytest.mark.parametrize("compression", [None, "gzip", "xz", "zstd"])
def test_archives_plain_and_compressed(debianish, tmp_path, compression, capsys):
    out = fx.archive(debianish, tmp_path / "img.tar", compression)
    rc, rep = run_json(["image", f"{out}:example.org/debianish:1"], capsys)
    assert rc == 0
    assert rep["archive"] == ("tar" if compression is None else f"tar+{compression}")
    ep = rep["analyses"][0]["entrypoint"]
    assert [s["path"] for s in ep["chain"]] == ["/usr/local/bin/app", "/usr/bin/env", "/usr/bin/busybox"]


def test_legacy_manifest_json_only(parts, tmp_path, capsys):
    """docker save before Docker 25: <id>/layer.tar, <config>.json, manifest.json and no index.json."""
    base = parts["base"]
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Entrypoint": ["/usr/bin/busybox"], "Cmd": ["true"]},
           "rootfs": {"type": "layers", "diff_ids": [fx.sha(base)]}}
    cfg_bytes = json.dumps(cfg).encode()
    cfg_name = fx.sha(cfg_bytes).split(":")[1] + ".json"
    d = tmp_path / "legacy"
    (d / "abc").mkdir(parents=True)
    (d / "abc" / "layer.tar").write_bytes(base)
    (d / cfg_name).write_bytes(cfg_bytes)
    (d / "manifest.json").write_text(json.dumps([{"Config": cfg_name, "RepoTags": ["legacy:latest"],
                                                  "Layers": ["abc/layer.tar"]}]))
    tar = fx.archive(d, tmp_path / "legacy.tar")
    # docker save stores a layer shared by two images once and symlinks the other
    (d / "def").mkdir()
    os.symlink("../abc/layer.tar", d / "def" / "layer.tar")
    cfg2 = dict(cfg, config={"Entrypoint": ["/usr/bin/sh"]})
    cfg2_bytes = json.dumps(cfg2).encode()
    cfg2_name = fx.sha(cfg2_bytes).split(":")[1] + ".json"
    (d / cfg2_name).write_bytes(cfg2_bytes)
    (d / "manifest.json").write_text(json.dumps([
        {"Config": cfg_name, "RepoTags": ["legacy:latest"], "Layers": ["abc/layer.tar"]},
        {"Config": cfg2_name, "RepoTags": ["other:1"], "Layers": ["def/layer.tar"]}]))
    tar = fx.archive(d, tmp_path / "legacy.tar")
    for comp in (None, "gzip"):
        both = fx.archive(d, tmp_path / f"both-{comp}.tar", comp)
        rc, rep = run_json(["image", f"{both}:other:1"], capsys)
        assert rc == 0 and rep["analyses"][0]["entrypoint"]["chain"][0]["path"] == "/usr/bin/busybox"
    for target in (d, tar, f"{tar}:legacy"):
        if target in (d, tar):
            target = f"{target}:legacy"
        rc, rep = run_json(["image", str(target)], capsys)
        assert rc == 0 and rep["format"] == "docker-save (legacy)"
        assert rep["analyses"][0]["entrypoint"]["chain"][0]["path"] == "/usr/bin/busybox"
    # the config's file name is its digest
    (d / cfg_name).write_bytes(cfg_bytes.replace(b"amd64", b"arm64"))
    rc, _, err = run(["image", f"{d}:legacy"], capsys)
    assert rc == 2 and f"{d}: {cfg_name}: digest mismatch" in err


# ---------------------------------------------------------------- bad input

def _one_error(capsys, argv) -> str:
    rc, out, err = run(argv, capsys)
    assert rc == 2, (rc, out, err)
    assert err.startswith("shimsim: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_truncated_archives(debianish, tmp_path, capsys):
    plain = fx.archive(debianish, tmp_path / "t.tar")
    data = plain.read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(data[:len(data) // 2])
    err = _one_error(capsys, ["image", str(cut)])
    assert str(cut) in err and "truncated" in err
    z = fx.archive(debianish, tmp_path / "t.tar.zst", "zstd")
    zc = tmp_path / "cut.tar.zst"
    zc.write_bytes(z.read_bytes()[:len(z.read_bytes()) // 2])
    err = _one_error(capsys, ["image", str(zc)])
    assert str(zc) in err and "truncated" in err


def test_missing_blob_and_digest_mismatch(parts, tmp_path, capsys):
    def fresh(name):
        lay = fx.Layout(tmp_path / name)
        m = lay.image([parts["top"]], entrypoint=["app"])
        return lay.finish([(m, None)]), m
    root, m = fresh("missing")
    man = json.loads((root / "blobs" / "sha256" / m["digest"].split(":")[1]).read_text())
    layer_blob = "blobs/sha256/" + man["layers"][0]["digest"].split(":")[1]
    (root / layer_blob).unlink()
    err = _one_error(capsys, ["image", str(root)])
    assert f"{root}: {layer_blob}: missing blob" in err
    root, m = fresh("mismatch")
    cfg_blob = "blobs/sha256/" + man["config"]["digest"].split(":")[1]
    p = root / cfg_blob
    p.write_bytes(p.read_bytes().replace(b"amd64", b"arm64"))
    err = _one_error(capsys, ["image", str(root)])
    assert f"{root}: {cfg_blob}: digest mismatch: content is sha256:" in err
    root, m = fresh("layermismatch")
    p = root / layer_blob
    import gzip
    p.write_bytes(gzip.compress(fx.layer([("file", "x", b"other")])))
    err = _one_error(capsys, ["image", str(root)])
    assert f"{layer_blob}: digest mismatch" in err


def test_diff_id_mismatch(parts, tmp_path, capsys):
    lay = fx.Layout(tmp_path / "diffid")
    good = lay.image([parts["top"]], entrypoint=["app"])
    man = json.loads((lay.root / "blobs" / "sha256" / good["digest"].split(":")[1]).read_text())
    cfg_path = lay.root / "blobs" / "sha256" / man["config"]["digest"].split(":")[1]
    cfg = json.loads(cfg_path.read_text())
    cfg["rootfs"]["diff_ids"] = ["sha256:" + "00" * 32]
    cdesc = lay.blob(json.dumps(cfg).encode(), fx.MT_CONFIG)
    man["config"] = cdesc
    mdesc = lay.blob(json.dumps(man).encode(), fx.MT_MANIFEST)
    root = lay.finish([(mdesc, None)])
    err = _one_error(capsys, ["image", str(root)])
    assert "diff_id mismatch" in err and "rootfs.diff_ids[0]" in err


@pytest.mark.parametrize("name,blob,message", [
    ("escape", None, "path escape: entry '../../etc/evil' leaves the image root"),
    ("notatar", b"\x1f\x8b" + b"garbage" * 100, "layer is not a readable tar stream (gzip)"),
    ("empty", b"", "layer is empty (0 bytes)"),
    ("wh-escape", None, "whiteout"),
])
def test_bad_layers(tmp_path, name, blob, message, capsys):
    lay = fx.Layout(tmp_path / name)
    if name == "escape":
        info = tarfile.TarInfo("../../etc/evil")
        info.size = 3
        blob = fx.layer([("raw", info, b"bad")])
    elif name == "wh-escape":
        blob = fx.layer([("raw", tarfile.TarInfo("etc/.wh.."), b"")])
    ldesc = lay.blob(blob, fx.MT_LAYER[None])
    cfg = {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": []}}
    cdesc = lay.blob(json.dumps(cfg).encode(), fx.MT_CONFIG)
    mdesc = lay.blob(json.dumps({"schemaVersion": 2, "mediaType": fx.MT_MANIFEST, "config": cdesc,
                                 "layers": [ldesc]}).encode(), fx.MT_MANIFEST)
    root = lay.finish([(mdesc, None)])
    err = _one_error(capsys, ["image", str(root)])
    assert f"{root}: blobs/sha256/{ldesc['digest'].split(':')[1]}: " in err and message in err
    assert not (Path("/etc/evil").exists())


def test_not_an_image(tmp_path, capsys):
    f = tmp_path / "notes.txt"
    f.write_text("hello\n" * 200)
    err = _one_error(capsys, ["image", str(f)])
    assert f"{f}: not an image" in err
    err = _one_error(capsys, ["image", str(tmp_path / "nothing")])
    assert "no such file or directory" in err
    (tmp_path / "emptydir").mkdir()
    err = _one_error(capsys, ["image", str(tmp_path / "emptydir")])
    assert "no index.json (OCI layout) and no manifest.json" in err
    bad = tmp_path / "badjson"
    bad.mkdir()
    (bad / "index.json").write_text("{not json")
    err = _one_error(capsys, ["image", str(bad)])
    assert f"{bad}: index.json: not valid JSON" in err


def test_unknown_host_and_shim(debianish, capsys):
    err = _one_error(capsys, ["image", str(debianish), "--host", "freebsd-amd46"])
    assert "unknown host 'freebsd-amd46'; did you mean freebsd-amd64" in err
    err = _one_error(capsys, ["image", str(debianish), "--shim", "linuxulatr"])
    assert "unknown shim" in err


def test_json_schema_and_html(multi, tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    from shimsim.report import schemas
    html = tmp_path / "r.html"
    rc, rep = run_json(["image", str(multi), "--host", "linux", "--shim", "gvisor", "--html", str(html)], capsys)
    assert rc == 0
    jsonschema.validate(rep, schemas.load("image"))
    page = html.read_text()
    assert "declared linux/arm64/v8 but /bin/server is an x86_64 ELF" in page
    assert '<script type="application/json" id="shimsim-data">' in page


def _valid(rep: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from shimsim.report import schemas
    jsonschema.Draft202012Validator(schemas.load("image")).validate(rep)


@pytest.fixture(scope="module")
def all_binaries(debianish) -> dict:
    from shimsim.image import analyse_image
    return analyse_image(str(debianish), ["freebsd-amd64", "linux-x86_64"], [], all_binaries=True)


def test_all_binaries(all_binaries):
    rep = all_binaries
    _valid(rep)
    a = rep["analyses"][0]
    paths = {b["path"]: b["role"] for b in a["binaries"]}
    assert paths["/usr/local/bin/app"] if False else True
    assert paths["/usr/bin/env"] == "interpreter" and paths["/usr/bin/busybox"] == "interpreter"
    assert paths[f"/{ODD_LIB}/libc.so.6"] == "image"
    assert paths["/usr/bin/busybox-again"] == "image"       # a hard link is a file of its own name
    assert "/usr/local/bin/app" not in paths                  # scripts are not ELF
    failing = [p for lay in a["layers"] for p in lay["failing_binaries"]]
    assert "/usr/bin/busybox" in failing                     # busybox's unshare/pivot_root fail on the Linuxulator
    assert a["layers"][0]["failing_binaries"] and not a["layers"][1]["failing_binaries"]


def test_all_binaries_text_summary(all_binaries):
    from shimsim.commands.image import render_text
    out = render_text(all_binaries)
    line = next(x for x in out.splitlines() if x.startswith("  all ") and "binaries on linux-x86_64" in x)
    n = int(line.split()[1])
    assert n >= 5 and sum(int(part.split()[0]) for part in line.split(": ", 1)[1].split(", ")) == n


def test_fail_on(debianish, capsys):
    rc, _, _ = run(["image", str(debianish), "--host", "freebsd", "--fail-on", "fails"], capsys)
    assert rc == 1
    rc, _, _ = run(["image", str(debianish), "--host", "linux-x86_64", "--fail-on", "degraded"], capsys)
    assert rc == 0


def test_go_binaries_are_named(parts, capsys):
    """A static Go program (docker's CLI) and a cgo one (umoci) whose libc the image lacks."""
    docker, umoci = shutil.which("docker"), shutil.which("umoci")
    if not (docker and umoci):
        pytest.skip("needs the docker CLI and umoci (Go programs) installed")
    lay = fx.Layout(parts["tmp"] / "go")
    m = lay.image([fx.layer([("dir", "bin"), ("file", "bin/docker", fx.read(docker)),
                             ("file", "bin/umoci", fx.read(umoci))])],
                  entrypoint=["/bin/umoci"], compression="zstd")
    root = lay.finish([(m, None)])
    rc, rep = run_json(["image", str(root), "--host", "linux-x86_64", "--all-binaries"], capsys)
    bins = {b["path"]: b for b in rep["analyses"][0]["binaries"]}
    assert bins["/bin/docker"]["language"] == "go" and bins["/bin/docker"]["identity"]["linkage"] == "static"
    u = bins["/bin/umoci"]
    assert u["language"] == "go" and u["identity"]["linkage"] == "dynamic"
    assert "/lib64/ld-linux-x86-64.so.2" in u["missing"]
    assert "interpreter /lib64/ld-linux-x86-64.so.2 is not in the image" in u["verdicts"][0]["reason"]
    assert rep["analyses"][0]["verdicts"][0]["status"] == "cannot run"


def test_example_image_tool(tmp_path, capsys):
    """README's example: tools/make_example_image.py, then shimsim image on what it wrote."""
    import sys
    out = tmp_path / "example"
    tool = Path(__file__).resolve().parents[2] / "tools" / "make_example_image.py"
    res = fx.run([sys.executable, str(tool), str(out)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    rc, rep = run_json(["image", str(out), "--host", "linux", "--host", "freebsd", "--host", "illumos"], capsys)
    an = {a["platform"]: a for a in rep["analyses"]}
    assert set(an) == {"linux/amd64", "linux/arm64/v8", "freebsd/amd64"}
    assert "exec format error" in an["linux/arm64/v8"]["headline"]
    assert an["linux/amd64"]["removed"][0]["path"] == "/etc/debug.conf"
    res = fx.run([sys.executable, str(tool), str(out)], capture_output=True, text=True)
    assert res.returncode == 2 and "exists" in res.stderr


def test_freebsd_version_from_abi_notes_against_the_host(multi, capsys):
    rc, rep = run_json(["image", str(multi), "--platform", "freebsd/amd64", "--host", "freebsd@13.2",
                        "--host", "freebsd-amd64@1401000"], capsys)
    (a,) = rep["analyses"]
    v = {x["target"]: x for x in a["verdicts"]}
    assert v["freebsd@13.2"]["status"] == "may fail"
    assert v["freebsd@13.2"]["reason"].startswith("built for FreeBSD 14.0 (__FreeBSD_version 1400097), newer than "
                                                  "the host's 13.2 (1302000)")
    assert v["freebsd-amd64@1401000"]["status"] not in ("may fail", "fails", "cannot run")
    err = _one_error(capsys, ["image", str(multi), "--host", "linux@6.1"])
    assert "understood for FreeBSD hosts only" in err
    err = _one_error(capsys, ["image", str(multi), "--host", "freebsd@fourteen"])
    assert "expected a FreeBSD version such as 14.1" in err


@pytest.mark.parametrize("field,value,message", [
    ("config", ["not", "an", "object"], "config field 'config' is not a dict"),
    ("rootfs", "layers", "config field 'rootfs' is not a dict"),
    ("config", {"Entrypoint": 7}, "config field config.Entrypoint has the wrong type"),
    ("rootfs", {"type": "layers", "diff_ids": "sha256:00"}, "config field rootfs.diff_ids is not a list of digests"),
    ("architecture", 64, "config field 'architecture' is not a str"),
])
def test_malformed_config_fields(parts, tmp_path, field, value, message, capsys):
    lay = fx.Layout(tmp_path / "cfg")
    ldesc = lay.blob(parts["top"], fx.MT_LAYER[None])
    cfg = {"architecture": "amd64", "os": "linux", "config": {},
           "rootfs": {"type": "layers", "diff_ids": [fx.sha(parts["top"])]}}
    cfg[field] = value
    cdesc = lay.blob(json.dumps(cfg).encode(), fx.MT_CONFIG)
    mdesc = lay.blob(json.dumps({"schemaVersion": 2, "mediaType": fx.MT_MANIFEST, "config": cdesc,
                                 "layers": [ldesc]}).encode(), fx.MT_MANIFEST)
    root = lay.finish([(mdesc, None)])
    err = _one_error(capsys, ["image", str(root)])
    assert f"blobs/sha256/{cdesc['digest'].split(':')[1]}: {message}" in err


def test_origin_runpath_inside_the_image(parts, tmp_path, capsys):
    """A program with RUNPATH $ORIGIN/../lib finds its library beside it in the image, nowhere else."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    (tmp_path / "foo.c").write_text("int foo(void) { return 42; }\n")
    (tmp_path / "main.c").write_text("int foo(void);\nint main(void) { return foo() == 42 ? 0 : 1; }\n")
    fx.run([gcc, "-shared", "-fPIC", "-Wl,-soname,libfoo.so.1", "-o", str(tmp_path / "libfoo.so.1"),
                    str(tmp_path / "foo.c")], check=True, capture_output=True)
    fx.run([gcc, "-o", str(tmp_path / "prog"), str(tmp_path / "main.c"), str(tmp_path / "libfoo.so.1"),
                    "-Wl,--enable-new-dtags,-rpath,$ORIGIN/../lib"], check=True, capture_output=True)
    lay = fx.Layout(tmp_path / "origin")
    app = fx.layer([("dir", "app"), ("dir", "app/bin"), ("dir", "app/lib"),
                    ("file", "app/bin/prog", fx.read(str(tmp_path / "prog"))),
                    ("file", "app/lib/libfoo.so.1", fx.read(str(tmp_path / "libfoo.so.1")))])
    m = lay.image([parts["base"], app], entrypoint=["/app/bin/prog"], compression=None)
    root = lay.finish([(m, None)])
    rc, rep = run_json(["image", str(root)], capsys)
    (b,) = rep["analyses"][0]["binaries"]
    libs = {lib["soname"]: lib["path"] for lib in b["libraries"]}
    assert libs["libfoo.so.1"] == "/app/bin/../lib/libfoo.so.1"      # named as ldd names it
    assert libs["libc.so.6"] == f"/{ODD_LIB}/libc.so.6" and b["missing"] == []
    assert b["layer"] == 1 and rep["analyses"][0]["verdicts"][0]["status"] == "runs"


def test_musl_image_uses_its_own_loader_paths(parts, tmp_path, capsys):
    """An Alpine-like image: a musl program (built with musl-gcc) whose library is found through
    /etc/ld-musl-x86_64.path, and whose libc.so is the musl loader itself, as musl's ldso does."""
    musl_gcc = shutil.which("musl-gcc")
    musl_libc = "/usr/lib/x86_64-linux-musl/libc.so"
    if musl_gcc is None or not os.path.exists(musl_libc):
        pytest.skip("needs musl-tools (musl-gcc) and musl")
    (tmp_path / "bar.c").write_text("int bar(void) { return 1; }\n")
    (tmp_path / "m.c").write_text("int bar(void);\nint main(void) { return bar(); }\n")
    fx.run([musl_gcc, "-shared", "-fPIC", "-Wl,-soname,libbar.so.1", "-o", str(tmp_path / "libbar.so.1"),
                    str(tmp_path / "bar.c")], check=True, capture_output=True)
    fx.run([musl_gcc, "-o", str(tmp_path / "prog"), str(tmp_path / "m.c"), str(tmp_path / "libbar.so.1")],
                   check=True, capture_output=True)
    alpine = fx.layer([("dir", "lib"), ("dir", "etc"), ("dir", "usr"), ("dir", "usr/bin"), ("dir", "opt"),
                       ("dir", "opt/musl"), ("dir", "opt/musl/lib"),
                       ("file", "lib/ld-musl-x86_64.so.1", fx.read(musl_libc)),
                       ("symlink", "lib/libc.musl-x86_64.so.1", "ld-musl-x86_64.so.1"),
                       ("file", "etc/ld-musl-x86_64.path", b"/opt/musl/lib\n/usr/lib\n", 0o644),
                       ("file", "opt/musl/lib/libbar.so.1", fx.read(str(tmp_path / "libbar.so.1"))),
                       ("file", "usr/bin/prog", fx.read(str(tmp_path / "prog")))])
    lay = fx.Layout(tmp_path / "alpine")
    m = lay.image([alpine], entrypoint=["prog"], env=["PATH=/usr/bin"], compression="gzip")
    root = lay.finish([(m, None)])
    rc, rep = run_json(["image", str(root), "--host", "linux-x86_64", "--host", "gvisor"], capsys)
    _valid(rep)
    (b,) = rep["analyses"][0]["binaries"]
    assert b["identity"]["libc"] == "musl" and b["identity"]["interp"] == "/lib/ld-musl-x86_64.so.1"
    libs = {lib["soname"]: lib["path"] for lib in b["libraries"]}
    assert libs == {"libbar.so.1": "/opt/musl/lib/libbar.so.1", "libc.so": "/lib/ld-musl-x86_64.so.1"}
    assert b["missing"] == [] and b["syscalls"] > 20         # musl's own raw syscall sites
    # without the path file, musl searches /lib:/usr/local/lib:/usr/lib and libbar is not there
    lay = fx.Layout(tmp_path / "alpine2")
    m = lay.image([alpine, fx.layer([("whiteout", "etc/ld-musl-x86_64.path")])], entrypoint=["prog"],
                  env=["PATH=/usr/bin"], compression=None)
    root = lay.finish([(m, None)])
    rc, rep = run_json(["image", str(root)], capsys)
    (b,) = rep["analyses"][0]["binaries"]
    assert b["missing"] == ["libbar.so.1"] and b["verdicts"][0]["status"] == "cannot run"


def test_freebsd_dynamic_program_uses_the_image_hints_file(parts, tmp_path, capsys):
    """A FreeBSD-branded dynamic program (gcc output, EI_OSABI 9, PT_INTERP /libexec/ld-elf.so.1)
    whose library is found through the image's /var/run/ld-elf.so.hints, as FreeBSD's rtld does."""
    import struct
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    (tmp_path / "foo.c").write_text("int foo(void) { return 0; }\n")
    (tmp_path / "start.c").write_text(
        "int foo(void);\nvoid _start(void) { long r = foo();\n"
        "  __asm__ volatile (\"mov $1, %%eax\\n\\tsyscall\" :: \"D\"(r) : \"rax\", \"rcx\", \"r11\"); }\n")
    fx.run([gcc, "-shared", "-fPIC", "-nostdlib", "-Wl,-soname,libfoo.so.1", "-o",
                    str(tmp_path / "libfoo.so.1"), str(tmp_path / "foo.c")], check=True, capture_output=True)
    fx.run([gcc, "-nostdlib", "-fno-stack-protector", "-o", str(tmp_path / "prog"), str(tmp_path / "start.c"),
                    str(tmp_path / "libfoo.so.1")], check=True, capture_output=True)
    prog = bytearray(fx.read(str(tmp_path / "prog")))
    prog[7] = 9
    old = b"/lib64/ld-linux-x86-64.so.2\0"
    pos = prog.find(old)
    assert pos > 0
    new = b"/libexec/ld-elf.so.1\0"
    prog[pos:pos + len(old)] = new + b"\0" * (len(old) - len(new))
    dirs = b"/opt/fbsd/lib"
    hints = struct.pack("<6I", 0x746e6845, 1, 128, len(dirs) + 1, 0, len(dirs)) + b"\0" * 104 + dirs + b"\0"
    base = fx.layer([("dir", "bin"), ("dir", "libexec"), ("dir", "var"), ("dir", "var/run"), ("dir", "opt"),
                     ("dir", "opt/fbsd"), ("dir", "opt/fbsd/lib"),
                     ("file", "bin/prog", bytes(prog)), ("file", "libexec/ld-elf.so.1", parts["freebsd"]),
                     ("file", "opt/fbsd/lib/libfoo.so.1", fx.read(str(tmp_path / "libfoo.so.1")))])
    with_hints = fx.layer([("file", "var/run/ld-elf.so.hints", hints, 0o644)])
    lay = fx.Layout(tmp_path / "fbsd")
    a = lay.image([base, with_hints], os_name="freebsd", entrypoint=["/bin/prog"], compression=None)
    b = lay.image([base], os_name="freebsd", entrypoint=["/bin/prog"], compression=None)
    root = lay.finish([(a, "hints"), (b, "nohints")])
    rc, rep = run_json(["image", f"{root}:hints", "--host", "freebsd", "--host", "linux"], capsys)
    (bin_,) = rep["analyses"][0]["binaries"]
    assert bin_["identity"]["abi"] == "freebsd-amd64" and bin_["identity"]["interp"] == "/libexec/ld-elf.so.1"
    assert {lib["soname"]: lib["path"] for lib in bin_["libraries"]} == {"libfoo.so.1": "/opt/fbsd/lib/libfoo.so.1"}
    v = {x["target"]: x["status"] for x in rep["analyses"][0]["verdicts"]}
    assert v["linux"] == "cannot run" and v["freebsd"] != "cannot run"
    rc, rep = run_json(["image", f"{root}:nohints", "--host", "freebsd"], capsys)
    (bin_,) = rep["analyses"][0]["binaries"]
    assert bin_["missing"] == ["libfoo.so.1"] and bin_["verdicts"][0]["status"] == "cannot run"


@pytest.mark.parametrize(("host", "layer", "note"), [
    ("freebsd", "linuxulator", False),                        # no version: the newest release
    ("freebsd@15.0", "linuxulator", False),
    ("freebsd@15.1", "linuxulator", False),
    ("freebsd@14.3", "linuxulator@freebsd-14.3", False),
    ("freebsd@1403000", "linuxulator@freebsd-14.3", False),   # __FreeBSD_version
    ("freebsd@14.4", "linuxulator@freebsd-14.3", False),
    ("freebsd@13.2", "linuxulator@freebsd-14.3", True),       # older than every modelled release
])
def test_a_freebsd_host_version_picks_the_linuxulator_release_it_carries(host: str, layer: str, note: bool) -> None:
    from shimsim.image import analyse
    [t] = analyse.make_targets([host], [])
    name, why = analyse.layer_for("linux-x86_64", t)
    assert name == layer and why.startswith(f"through {layer} (")
    assert ("13.2's layer is not modelled, judged by its 14.3 release" in why) == note
    assert analyse.layer_for("linux-i386", t)[0] in ("linuxulator-linux32" if layer == "linuxulator"
                                                     else "linuxulator-linux32@freebsd-14.3", None)


def test_html_output_is_checked_before_the_analysis_and_written_whole(debianish, tmp_path, capsys) -> None:
    err = _one_error(capsys, ["image", str(debianish), "--html", str(tmp_path)])      # a directory
    assert str(tmp_path) in err
    archive = tmp_path / "img.tar"
    with tarfile.open(archive, "w") as tf:
        tf.add(debianish, arcname=".")
    before = archive.read_bytes()
    err = _one_error(capsys, ["image", f"{archive}:latest", "--html", str(archive)])  # the image itself
    assert str(archive) in err and archive.read_bytes() == before
    page = tmp_path / "page.html"
    page.write_text("old")
    rc, _out, _err = run(["image", str(debianish), "--html", str(page)], capsys)
    assert rc == 0 and page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []    # no temporary left
