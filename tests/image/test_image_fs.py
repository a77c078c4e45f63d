# SPDX-License-Identifier: MIT
"""The layer merge and path resolution, against a plain model of the OCI whiteout rules.

Hypothesis writes two random layers (files, directories, symbolic links with
any target; then whiteouts, opaque directories and new entries) as real tar
streams, and the merged tree must equal what the spec's rules give on a plain
dict; resolving any path never leaves the image root and always ends.
"""
from __future__ import annotations

import io
import json
import posixpath
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import imagefix as fx
from shimsim import cli
from shimsim.image.fs import ImageFS, read_layer

NAMES = st.sampled_from(["a", "b", "c", "lib", "bin"])
PATHS = st.lists(NAMES, min_size=1, max_size=3).map("/".join)
TARGETS = st.lists(st.sampled_from(["a", "b", "..", ".", "lib", "", "bin"]), min_size=1, max_size=4).map(
    "/".join) | st.just("/") | PATHS.map(lambda p: "/" + p)


def _parents(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


@st.composite
def lower(draw) -> dict[str, tuple]:
    """A tree: path -> ("dir",) | ("file", bytes) | ("symlink", target); parents are directories."""
    tree: dict[str, tuple] = {}
    for path in draw(st.lists(PATHS, max_size=12)):
        if any(tree.get(p, ("dir",))[0] != "dir" for p in _parents(path)) or path in tree:
            continue
        kind = draw(st.sampled_from(["dir", "file", "symlink"]))
        for p in _parents(path):
            tree[p] = ("dir",)
        tree[path] = ("dir",) if kind == "dir" else ("file", path.encode()) if kind == "file" \
            else ("symlink", draw(TARGETS))
    return tree


def _entries(tree: dict[str, tuple]) -> list[tuple]:
    out = []
    for p in sorted(tree, key=lambda p: (p.count("/"), p)):
        v = tree[p]
        out.append(("dir", p) if v[0] == "dir" else ("file", p, v[1]) if v[0] == "file" else ("symlink", p, v[1]))
    return out


def _merged(data_layers: list[bytes]) -> ImageFS:
    fs = ImageFS()
    for i, data in enumerate(data_layers):
        ch = read_layer(i, io.BytesIO(data), "img", f"layer{i}", [1 << 30])
        fs.apply(ch, "img", f"layer{i}")
    return fs


def _model(low: dict[str, tuple], whiteouts: list[str], opaque: list[str], upper: dict[str, tuple]) -> dict:
    """The spec's rules on a dict, for layers whose entries never pass through a symlink."""
    tree = dict(low)

    def drop(p):
        for k in [k for k in tree if k == p or k.startswith(p + "/")]:
            del tree[k]
    for d in opaque:
        for k in [k for k in tree if k.startswith(d + "/")]:
            del tree[k]
    for w in whiteouts:
        drop(w)
    for p in sorted(upper, key=lambda p: (p.count("/"), p)):
        v = upper[p]
        if p in tree and (tree[p][0] != "dir" or v[0] != "dir"):
            drop(p)
        for q in _parents(p):
            if q in tree and tree[q][0] != "dir":
                drop(q)
            tree.setdefault(q, ("dir",))
        tree[p] = v
    return tree


def _snapshot(fs: ImageFS) -> dict:
    out = {}
    for p, n in fs.nodes.items():
        if p == "":
            continue
        out[p] = ("dir",) if n.kind == "dir" else ("file", n.data if n.data is not None else n.head) \
            if n.kind == "file" else ("symlink", n.link)
    return out


def _plain(tree: dict[str, tuple]) -> bool:
    """No entry sits below a symbolic link (the model resolves no parents)."""
    return all(all(tree.get(q, ("dir",))[0] == "dir" for q in _parents(p)) for p in tree)


@given(low=lower(), upper=lower(), wh=st.lists(PATHS, max_size=4), opq=st.lists(PATHS, max_size=2))
def test_merge_matches_the_whiteout_rules(low, upper, wh, opq):
    wh = [w for w in wh if w not in upper]
    opq = [d for d in opq if low.get(d, ("dir",))[0] == "dir" and upper.get(d, ("dir",))[0] == "dir"
           and all(low.get(q, ("dir",))[0] == "dir" and upper.get(q, ("dir",))[0] == "dir" for q in _parents(d))]
    if not (_plain(low) and _plain(upper)):
        return
    # an upper entry below a lower symlink would be placed through it: outside the model
    if any(low.get(q, ("dir",))[0] == "symlink" for p in list(upper) + wh + opq for q in _parents(p)):
        return
    up_entries = [("whiteout", w) for w in wh] + [("opaque", d) for d in opq] + _entries(upper)
    for d in opq:
        if d not in upper:
            up_entries.insert(0, ("dir", d))
            upper = {**upper, d: ("dir",)}
            for q in _parents(d):
                upper.setdefault(q, ("dir",))
    fs = _merged([fx.layer(_entries(low)), fx.layer(up_entries)])
    assert _snapshot(fs) == _model(low, wh, opq, upper)
    removed = {r.path[1:] for r in fs.removed}
    assert removed == {k for k in low if k not in _model(low, wh, opq, {})}


@given(tree=lower(), path=TARGETS, cwd=st.sampled_from(["", "a", "a/b"]))
def test_resolution_stays_in_the_root_and_ends(tree, path, cwd):
    if not _plain(tree):
        return
    fs = _merged([fx.layer(_entries(tree))])
    if cwd and (cwd not in fs.nodes or fs.nodes[cwd].kind != "dir"):
        cwd = ""                    # a WorkingDir the image lacks is created by the runtime
    real = fs.resolve(path, cwd=cwd)
    if real is not None:
        parts = real.split("/") if real else []
        assert ".." not in parts and "" not in parts and not real.startswith("/")
        assert posixpath.normpath("/" + real) == "/" + real if real else True
        parent = posixpath.dirname(real)
        assert parent == "" or fs.nodes[parent].kind == "dir"


def test_symlink_loop_and_escape():
    fs = _merged([fx.layer([("symlink", "a", "b"), ("symlink", "b", "a"), ("symlink", "up", "../../.."),
                            ("symlink", "abs", "/etc/passwd"), ("dir", "etc"),
                            ("file", "etc/passwd", b"image's own\n")])])
    assert fs.resolve("a") is None                         # ELOOP
    assert fs.resolve("up/etc/passwd") == "etc/passwd"     # '..' stops at the image root
    assert fs.resolve("/abs") == "etc/passwd"              # absolute targets start at the image root
    assert fs.resolve("up/../abs") == "etc/passwd" and fs.resolve("/../../abs") == "etc/passwd"


# ---------------------------------------------------------------- index kinds

MT_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"


def test_docker_manifest_list_attestations_and_hosts(tmp_path, capsys):
    bb = fx.read(fx.BUSYBOX)
    lay = fx.Layout(tmp_path / "list")
    amd = lay.image([fx.layer([("dir", "bin"), ("file", "bin/sh", bb)])], entrypoint=["/bin/sh"], compression=None)
    att = lay.image([fx.layer([("file", "sbom.json", b"{}", 0o644)])], os_name="unknown", arch="unknown",
                    compression=None)
    att["annotations"] = {"vnd.docker.reference.type": "attestation-manifest"}
    doc = {"schemaVersion": 2, "mediaType": MT_LIST, "manifests": [amd, att]}
    lst = lay.blob(json.dumps(doc).encode(), MT_LIST)
    root = lay.finish([(lst, "v1")])
    rc = cli.main(["image", str(root), "--host", "gvisor", "--host", "windows", "--shim", "linuxulator", "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    rep = json.loads(cap.out)
    plats = rep["platforms"]
    assert [p["attestation"] for p in plats] == [False, True] and plats[1]["verdicts"] == []
    assert rep["summary"]["platforms"] == 1 and len(rep["analyses"]) == 1
    shims = {v["target"]: v["shim"] for v in plats[0]["verdicts"]}
    assert shims == {"gvisor": "gvisor", "windows": "wsl1", "linuxulator": "linuxulator"}
    assert "manifest list" in plats[0]["via"]
    rc = cli.main(["image", str(root), "--platform", "linux/arm64"])
    err = capsys.readouterr().err
    assert rc == 2 and err.endswith('no image found in manifest list for architecture "arm64", variant "", OS "linux"\n')


@pytest.mark.parametrize("variant,want,picked", [("v7", "linux/arm", "linux/arm/v7"), ("v6", "linux/arm/v7", "linux/arm/v6"),
                                                 ("v8", "linux/arm64/v8", "linux/arm64/v8")])
def test_variant_compatibility(tmp_path, capsys, variant, want, picked):
    """Variants as containers/image accepts them: an arm/v7 host takes v6 and v5 images too."""
    bb = fx.read(fx.BUSYBOX)
    lay = fx.Layout(tmp_path / "arm")
    arch = "arm64" if variant == "v8" else "arm"
    m = lay.image([fx.layer([("file", "x", bb)])], arch=arch, variant=variant, entrypoint=["/x"], compression=None)
    root = lay.finish([(lay.index([m]), None)])
    rc = cli.main(["image", str(root), "--platform", want, "--json"])
    cap = capsys.readouterr()
    if variant == "v7" and want == "linux/arm":
        # no variant wanted: only an image without one (or arm64's base v8) matches
        assert rc == 2 and 'architecture "arm", variant "", OS "linux"' in cap.err
        return
    assert rc == 0, cap.err
    assert json.loads(cap.out)["analyses"][0]["platform"] == picked


def test_lone_manifest_with_another_platform_is_used_with_a_note(tmp_path, capsys):
    lay = fx.Layout(tmp_path / "lone")
    m = lay.image([fx.layer([("file", "x", fx.read(fx.BUSYBOX))])], entrypoint=["/x"], compression=None,
                  platform_in_descriptor=False)
    root = lay.finish([(m, None)])
    rc = cli.main(["image", str(root), "--platform", "linux/arm64", "--json"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    (a,) = json.loads(cap.out)["analyses"]
    assert a["platform"] == "linux/amd64"
    assert a["notes"][0].startswith("image platform (linux/amd64) does not match the expected platform (linux/arm64)")


def test_plain_layer_whose_first_name_looks_like_a_magic():
    """'BZh' opens a bzip2 stream, but a plain tar whose first member is named so is a tar."""
    fs = _merged([fx.layer([("file", "BZh91AY", b"x"), ("file", "\x1f\x8bname", b"y")])])
    assert fs.isfile("/BZh91AY") and fs.isfile("/\x1f\x8bname")


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 3) | st.text("ab:/", max_size=4),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text("ab", max_size=2), inner,
                                                                                   max_size=3), max_leaves=6)


def _paths_of(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths_of(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths_of(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    cur = doc
    for p in path[:-1]:
        cur = cur[p]
    cur[path[-1]] = value
    return doc


@settings(max_examples=50)       # each example writes and reads a whole image; 2000 passed under "thorough"
@given(which=st.sampled_from(["index", "manifest", "config"]), pick=st.integers(0, 200), value=JSON)
def test_any_damaged_document_is_one_error_or_a_report(which, pick, value):
    """Any field of index.json, the manifest or the config replaced by any JSON value (with the
    digests that name them kept right): exit 0 or one error line, never a traceback."""
    import contextlib
    import tempfile
    with tempfile.TemporaryDirectory(prefix="shimsim-fuzz-") as tmp:
        lay = fx.Layout(Path(tmp))
        m = lay.image([fx.layer([("file", "bin/sh", b"#!/bin/true\n")])], entrypoint=["/bin/sh"], compression=None)
        blobs = Path(tmp) / "blobs" / "sha256"
        man = json.loads((blobs / m["digest"].split(":")[1]).read_text())
        if which == "config":
            cfg = json.loads((blobs / man["config"]["digest"].split(":")[1]).read_text())
            paths = list(_paths_of(cfg))
            cfg = _set(cfg, paths[pick % len(paths)], value)
            man["config"] = lay.blob(json.dumps(cfg).encode(), fx.MT_CONFIG)
        if which in ("manifest", "config"):
            if which == "manifest":
                paths = list(_paths_of(man))
                man = _set(man, paths[pick % len(paths)], value)
            m = {**lay.blob(json.dumps(man).encode(), fx.MT_MANIFEST), "platform": m["platform"]}
        lay.finish([(m, None)])
        if which == "index":
            idx = json.loads((Path(tmp) / "index.json").read_text())
            paths = list(_paths_of(idx))
            idx = _set(idx, paths[pick % len(paths)], value)
            (Path(tmp) / "index.json").write_text(json.dumps(idx))
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            rc = cli.main(["image", tmp, "--json"])
        assert rc in (0, 2)
        if rc == 2:
            assert err.getvalue().startswith("shimsim: error: ") and err.getvalue().count("\n") == 1


def test_windows_image(tmp_path, capsys):
    lay = fx.Layout(tmp_path / "win")
    m = lay.image([fx.layer([("file", "Files/app.exe", b"MZ\x90\x00" + b"\0" * 60)])], os_name="windows",
                  entrypoint=["C:\\app.exe"], compression=None)
    root = lay.finish([(m, None)])
    rc = cli.main(["image", str(root), "--host", "windows", "--host", "linux", "--json"])
    rep = json.loads(capsys.readouterr().out)
    v = {x["target"]: x for x in rep["platforms"][0]["verdicts"]}
    assert v["windows"]["status"] == "unknown" and "Windows container" in v["windows"]["reason"]
    assert v["linux"]["status"] == "cannot run" and "needs a Windows host" in v["linux"]["reason"]


def test_i386_platform_on_an_x86_64_linux_host(tmp_path, capsys):
    lay = fx.Layout(tmp_path / "i386")
    m = lay.image([fx.layer([("file", "x", fx.read(fx.BUSYBOX))])], arch="386", entrypoint=["/x"], compression=None)
    root = lay.finish([(m, None)])
    assert cli.main(["image", str(root), "--host", "linux-x86_64", "--host", "freebsd", "--json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    v = {x["target"]: x for x in rep["platforms"][0]["verdicts"]}
    assert v["linux-x86_64"]["shim"] == "native" and "32-bit compat" in v["linux-x86_64"]["reason"]
    # FreeBSD's Linuxulator runs i386 Linux programs through its linux32 module
    assert v["freebsd"]["status"] == "layer"
    assert "declared linux/386 but /x is an x86_64 ELF" in rep["analyses"][0]["headline"]


def test_html_escapes_what_the_image_says(tmp_path, capsys):
    evil = "<script>alert(1)</script>"
    lay = fx.Layout(tmp_path / "evil")
    m = lay.image([fx.layer([("file", evil, b"#!/bin/" + evil.encode() + b"\n")])], entrypoint=["/" + evil],
                  compression=None)
    root = lay.finish([(m, evil)])
    out = tmp_path / "r.html"
    assert cli.main(["image", f"{root}:{evil}", "--html", str(out)]) == 0
    capsys.readouterr()
    page = out.read_text()
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<script") == 1            # the JSON data element only
