# SPDX-License-Identifier: MIT
"""Indexes, manifests and configs: which platforms an image has, and their layers.

The walk starts at ``index.json`` (OCI layout, also written by Docker 25+
``docker save`` and by ``podman save --format oci-archive``) or, without
one, at ``manifest.json`` (older ``docker save``).  Nested indexes and
Docker manifest lists are followed; every platform manifest found is a
:class:`Candidate`, with its platform from the descriptor or, failing that,
from its config, and whether all its blobs are present.  Every document read
is checked against its digest.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from shimsim.image.archive import DIGEST, ImageError, Store, digest_path

MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (MT_OCI_INDEX, MT_DOCKER_LIST)
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
MAX_DEPTH = 8
# Which variants a wanted platform accepts, most capable first, as containers/image
# (podman, skopeo, buildah) chooses from an index
# source: containers/image@0fd82e7f3a0cb30011f324ffd4464fb3ac1e2fe3:internal/pkg/platform/platform_matcher.go
VARIANT_COMPAT = {"arm": ("v7", "v6", "v5"), "arm64": ("v8",)}
BASE_VARIANT = {"arm64": "v8"}


@dataclass
class Platform:
    os: str
    architecture: str
    variant: str = ""
    os_version: str = ""
    os_features: list[str] = field(default_factory=list)

    def text(self) -> str:
        return f"{self.os}/{self.architecture}" + (f"/{self.variant}" if self.variant else "")

    def to_json(self) -> dict:
        return {"os": self.os, "architecture": self.architecture, "variant": self.variant or None,
                "os_version": self.os_version or None, "os_features": list(self.os_features)}

    @classmethod
    def parse(cls, text: str) -> Platform:
        parts = text.split("/")
        if len(parts) not in (2, 3) or not all(parts):
            raise ValueError(text)
        return cls(parts[0], parts[1], parts[2] if len(parts) == 3 else "")

    @classmethod
    def from_json(cls, d: dict | None) -> Platform | None:
        if not isinstance(d, dict) or not d.get("os") or not d.get("architecture"):
            return None
        feats = d.get("os.features") or []
        return cls(str(d["os"]), str(d["architecture"]), str(d.get("variant") or ""),
                   str(d.get("os.version") or ""), [str(f) for f in feats] if isinstance(feats, list) else [])

    def wanted(self) -> list[str]:
        """The variants this wanted platform accepts, in order of preference."""
        if self.variant:
            order = VARIANT_COMPAT.get(self.architecture, ())
            out = list(order[order.index(self.variant):]) if self.variant in order else [self.variant]
            return out + [""]
        base = BASE_VARIANT.get(self.architecture)
        return ["", base] if base else [""]


@dataclass
class Layer:
    name: str                    # member path of the blob
    digest: str | None           # what the blob must hash to (None: not named by digest)
    media_type: str = ""
    size: int | None = None
    diff_id: str | None = None   # from the config's rootfs.diff_ids
    created_by: str = ""
    present: bool = True


@dataclass
class Candidate:
    """One platform manifest of the image."""

    platform: Platform | None
    digest: str | None
    ref: str | None
    via: str                     # how it was reached ("index.json", "index.json > manifest list sha256:...")
    list_kind: str | None        # "image index" / "manifest list" it was listed in, None for a lone manifest
    missing: list[str] = field(default_factory=list)     # member paths of absent blobs
    attestation: bool = False
    config_name: str | None = None
    config_digest: str | None = None
    config: dict | None = None
    layers: list[Layer] = field(default_factory=list)
    platform_from: str = "descriptor"   # "descriptor" or "config"
    notes: list[str] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return not self.missing

    def to_json(self) -> dict:
        p = self.platform.to_json() if self.platform else {"os": None, "architecture": None, "variant": None,
                                                           "os_version": None, "os_features": []}
        return {**p, "platform": self.platform.text() if self.platform else None, "digest": self.digest,
                "ref": self.ref, "via": self.via, "present": self.present, "missing_blobs": self.missing,
                "attestation": self.attestation, "platform_from": self.platform_from,
                "layers": len(self.layers)}


@dataclass
class Listing:
    format: str                  # "oci-layout", "docker-save (OCI layout, Docker 25+)", "docker-save (legacy)"
    candidates: list[Candidate]
    refs: list[str]              # every reference the archive names
    list_kind: str | None        # kind of the top list, for the no-platform error
    image: str = ""


def _json(store: Store, name: str, data: bytes) -> dict | list:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(store.image, name, f"not valid JSON: {exc}") from None


def _verify(store: Store, name: str, data: bytes, digest: str, what: str) -> None:
    m = DIGEST.match(digest)
    if m is None:
        raise ImageError(store.image, name, f"{what} names the malformed digest {digest!r}")
    got = hashlib.new(m.group(1), data).hexdigest()
    if got != m.group(2):
        raise ImageError(store.image, name, f"digest mismatch: content is {m.group(1)}:{got}, {what} says {digest}")


def _blob(store: Store, digest: str, what: str) -> tuple[str, bytes | None]:
    """(member name, content verified against ``digest``) or (name, None) if absent."""
    try:
        name = digest_path(digest)
    except ValueError:
        raise ImageError(store.image, None, f"{what} names the malformed digest {digest!r}") from None
    if not store.exists(name):
        return name, None
    data = store.read(name)
    _verify(store, name, data, digest, what)
    return name, data


def _ref_of(desc: dict) -> str | None:
    ann = desc.get("annotations") or {}
    return ann.get(REF_NAME) or ann.get(CONTAINERD_NAME)


def _short(name: str) -> str:
    """A reference without the registry defaults docker adds (docker.io/, docker.io/library/)."""
    for prefix in ("docker.io/library/", "docker.io/", "localhost/"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def tag_matches(name: str, want: str) -> bool:
    """``want`` names ``name``: the whole reference, its tag, or its repository."""
    n, w = _short(name), _short(want)
    return n == w or n.endswith(":" + w) or n.rsplit(":", 1)[0] == w or (":" not in w and n == w + ":latest")


def _ref_matches(desc_ref: str | None, ann: dict, want: str) -> bool:
    names = [n for n in (ann.get(REF_NAME), ann.get(CONTAINERD_NAME), desc_ref) if n]
    return any(tag_matches(n, want) for n in names)


def list_image(store: Store, ref: str | None) -> Listing:
    if store.exists("index.json"):
        lst = _from_index(store, ref)
    elif store.exists("manifest.json"):
        lst = _from_legacy(store, ref)
    else:
        lst = None
    if lst is not None:
        lst.image = store.image
        return lst
    raise ImageError(store.image, None, "not an image: no index.json (OCI layout) and no manifest.json "
                                        "(docker save) at its top level")


def _from_index(store: Store, ref: str | None) -> Listing:
    index = _json(store, "index.json", store.read("index.json"))
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise ImageError(store.image, "index.json", "expected an object with a 'manifests' list")
    legacy = store.exists("manifest.json")
    fmt = "docker-save (OCI layout, Docker 25+)" if legacy else "oci-layout"
    tops = [d for d in index["manifests"] if isinstance(d, dict)]
    refs = sorted({r for r in (_ref_of(d) for d in tops) if r})
    if ref is not None:
        chosen = [d for d in tops if _ref_matches(_ref_of(d), d.get("annotations") or {}, ref)]
        if not chosen:
            if legacy:
                lst = _from_legacy(store, ref, fmt)
                if lst.candidates:
                    return lst
            raise ImageError(store.image, "index.json", f"no image with reference {ref!r}; "
                                                        f"references here: {', '.join(refs) or 'none'}")
    else:
        groups = {_ref_of(d) for d in tops}
        if len(groups) > 1 and not _one_image(tops):
            raise ImageError(store.image, "index.json", f"holds {len(groups)} images "
                                                        f"({', '.join(sorted(r or '(unnamed)' for r in groups))}); "
                                                        "pick one with IMAGE:REF")
        chosen = tops
    out: list[Candidate] = []
    top_kind = "image index" if len(chosen) > 1 or index.get("mediaType") == MT_OCI_INDEX else None
    for d in chosen:
        _walk(store, d, _ref_of(d), "index.json", top_kind if len(chosen) > 1 else None, out, 0)
    kinds = [c.list_kind for c in out if c.list_kind]
    return Listing(fmt, out, refs, kinds[0] if kinds else top_kind)


def _one_image(tops: list[dict]) -> bool:
    """Several top-level descriptors are one image when they are its platform manifests."""
    return all(d.get("mediaType") not in INDEX_TYPES and not _ref_of(d) for d in tops) \
        or len({d.get("digest") for d in tops}) == 1


def _walk(store: Store, desc: dict, ref: str | None, via: str, list_kind: str | None,
          out: list[Candidate], depth: int) -> None:
    digest = desc.get("digest")
    if not isinstance(digest, str):
        raise ImageError(store.image, via, "a descriptor has no digest")
    if depth > MAX_DEPTH:
        raise ImageError(store.image, via, f"indexes nested more than {MAX_DEPTH} deep")
    name, data = _blob(store, digest, via)
    mt = desc.get("mediaType")
    doc = _json(store, name, data) if data is not None else None
    if isinstance(doc, dict):
        mt = doc.get("mediaType") or mt
        if mt is None and isinstance(doc.get("manifests"), list):
            mt = MT_OCI_INDEX
    if mt in INDEX_TYPES:
        if doc is None:
            out.append(Candidate(Platform.from_json(desc.get("platform")), digest, ref, via, list_kind,
                                 missing=[name]))
            return
        kind = "manifest list" if mt == MT_DOCKER_LIST else "image index"
        for child in doc.get("manifests") or []:
            if isinstance(child, dict):
                _walk(store, child, ref, f"{via} > {kind} {digest[:19]}", kind, out, depth + 1)
        return
    cand = Candidate(Platform.from_json(desc.get("platform")), digest, ref, via, list_kind)
    ann = desc.get("annotations") or {}
    if ann.get("vnd.docker.reference.type") == "attestation-manifest" or (
            cand.platform and cand.platform.os == "unknown" and cand.platform.architecture == "unknown"):
        cand.attestation = True
    if doc is None:
        cand.missing.append(name)
        out.append(cand)
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict) or not isinstance(doc.get("layers"), list):
        raise ImageError(store.image, name, "expected an image manifest with 'config' and 'layers'")
    cfg_digest = doc["config"].get("digest")
    if not isinstance(cfg_digest, str):
        raise ImageError(store.image, name, "the manifest's config has no digest")
    cfg_name, cfg = _blob(store, cfg_digest, f"manifest {digest[:19]}")
    cand.config_name, cand.config_digest = cfg_name, cfg_digest
    if cfg is None:
        cand.missing.append(cfg_name)
    else:
        cand.config = _config(store, cfg_name, cfg)
        if cand.platform is None:
            cand.platform = _config_platform(cand.config)
            cand.platform_from = "config"
    for i, ld in enumerate(doc["layers"]):
        if not isinstance(ld, dict) or not isinstance(ld.get("digest"), str):
            raise ImageError(store.image, name, f"layer {i} has no digest")
        try:
            lname = digest_path(ld["digest"])
        except ValueError:
            raise ImageError(store.image, name, f"layer {i} names the malformed digest {ld['digest']!r}") from None
        layer = Layer(lname, ld["digest"], str(ld.get("mediaType") or ""), ld.get("size"))
        layer.present = store.exists(lname)
        if not layer.present:
            cand.missing.append(lname)
        cand.layers.append(layer)
    _attach_config(cand)
    out.append(cand)


CONFIG_TYPES = {"config": dict, "rootfs": dict, "history": list, "os": str, "architecture": str, "variant": str,
                "os.version": str, "os.features": list}
RUN_CONFIG_TYPES = {"Entrypoint": (list, str), "Cmd": (list, str), "Env": list, "WorkingDir": str, "User": str}


def _config(store: Store, name: str, data: bytes) -> dict:
    """The image config, its fields of the types the image spec gives them."""
    cfg = _json(store, name, data)
    if not isinstance(cfg, dict):
        raise ImageError(store.image, name, "expected an image config object")
    for key, typ in CONFIG_TYPES.items():
        if cfg.get(key) is not None and not isinstance(cfg[key], typ):
            raise ImageError(store.image, name, f"config field {key!r} is not a {typ.__name__}")
    run = cfg.get("config") or {}
    for key, types in RUN_CONFIG_TYPES.items():
        if run.get(key) is not None and not isinstance(run[key], types):
            raise ImageError(store.image, name, f"config field config.{key} has the wrong type")
    diff_ids = (cfg.get("rootfs") or {}).get("diff_ids")
    if diff_ids is not None and (not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids)):
        raise ImageError(store.image, name, "config field rootfs.diff_ids is not a list of digests")
    return cfg


def _config_platform(cfg: dict | None) -> Platform | None:
    if not cfg:
        return None
    return Platform.from_json({"os": cfg.get("os"), "architecture": cfg.get("architecture"),
                               "variant": cfg.get("variant"), "os.version": cfg.get("os.version"),
                               "os.features": cfg.get("os.features")})


def _attach_config(cand: Candidate) -> None:
    """diff_ids and history lines onto the layers."""
    cfg = cand.config or {}
    diff_ids = (cfg.get("rootfs") or {}).get("diff_ids") or []
    history = [h for h in cfg.get("history") or [] if isinstance(h, dict) and not h.get("empty_layer")]
    for i, layer in enumerate(cand.layers):
        if i < len(diff_ids) and isinstance(diff_ids[i], str):
            layer.diff_id = diff_ids[i]
        if i < len(history):
            layer.created_by = str(history[i].get("created_by") or history[i].get("comment") or "")


def _from_legacy(store: Store, ref: str | None, fmt: str = "docker-save (legacy)") -> Listing:
    doc = _json(store, "manifest.json", store.read("manifest.json"))
    if not isinstance(doc, list):
        raise ImageError(store.image, "manifest.json", "expected a list of images")
    entries = [e for e in doc if isinstance(e, dict)]
    refs = sorted({t for e in entries for t in (e.get("RepoTags") or []) if isinstance(t, str)})
    if ref is not None:
        entries = [e for e in entries if any(isinstance(t, str) and tag_matches(t, ref)
                                             for t in e.get("RepoTags") or [])]
        if not entries:
            raise ImageError(store.image, "manifest.json", f"no image with reference {ref!r}; "
                                                           f"references here: {', '.join(refs) or 'none'}")
    elif len(entries) > 1:
        raise ImageError(store.image, "manifest.json", f"holds {len(entries)} images ({', '.join(refs)}); "
                                                       "pick one with IMAGE:REF")
    out: list[Candidate] = []
    for e in entries:
        cfg_name = e.get("Config")
        if not isinstance(cfg_name, str) or not isinstance(e.get("Layers"), list):
            raise ImageError(store.image, "manifest.json", "an entry lacks 'Config' or 'Layers'")
        tags = [t for t in e.get("RepoTags") or [] if isinstance(t, str)]
        cand = Candidate(None, None, tags[0] if tags else None, "manifest.json", None, config_name=cfg_name)
        if not store.exists(cfg_name):
            cand.missing.append(cfg_name)
        else:
            data = store.read(cfg_name)
            hexpart = cfg_name.rsplit("/", 1)[-1].removesuffix(".json")
            if len(hexpart) == 64 and all(c in "0123456789abcdef" for c in hexpart):
                _verify(store, cfg_name, data, f"sha256:{hexpart}", "its file name")
                cand.config_digest = f"sha256:{hexpart}"
            cand.config = _config(store, cfg_name, data)
            cand.platform = _config_platform(cand.config)
            cand.platform_from = "config"
        for lname in e["Layers"]:
            if not isinstance(lname, str):
                raise ImageError(store.image, "manifest.json", "a layer name is not a string")
            digest = None
            if lname.startswith("blobs/") and lname.count("/") == 2:
                alg, hexpart = lname.split("/")[1:]
                digest = f"{alg}:{hexpart}"
            layer = Layer(lname, digest)
            layer.present = store.exists(lname)
            if not layer.present:
                cand.missing.append(lname)
            cand.layers.append(layer)
        _attach_config(cand)
        out.append(cand)
    return Listing(fmt, out, refs, None)


def no_match_message(listing: Listing, want: Platform) -> str:
    """The error containers/image (podman, skopeo, buildah) gives for a platform an index lacks."""
    # source: containers/image@bbd40dd2cc658d4b893a547fbb0542f3661027c4:internal/manifest/oci_index.go
    # (and docker_schema2_list.go for "manifest list")
    where = "manifest list" if listing.list_kind == "manifest list" else "image index"
    return (f"no image found in {where} for architecture {_goq(want.architecture)}, "
            f"variant {_goq(want.variant)}, OS {_goq(want.os)}")


def _goq(s: str) -> str:
    """Go's %q for the plain strings platform names are."""
    return json.dumps(s)


def choose(listing: Listing, want: Platform) -> Candidate:
    """The candidate containers/image would pick for ``want``, or its error."""
    images = [c for c in listing.candidates if not c.attestation and c.platform is not None]
    for variant in want.wanted():
        for c in images:
            p = c.platform
            if (p.os, p.architecture, p.variant) == (want.os, want.architecture, variant):
                return c
    if len(images) == 1 and images[0].list_kind is None:
        # a lone manifest is used anyway; podman only warns, in these words ("WARNING: image
        # platform (linux/386) does not match the expected platform (linux/amd64)" in its output)
        c = images[0]
        c.notes.append(f"image platform ({c.platform.text()}) does not match the expected platform "
                       f"({want.text()}); a lone manifest is used anyway, as podman does")
        return c
    raise ImageError(listing_image(listing), None, no_match_message(listing, want))


def listing_image(listing: Listing) -> str:
    return listing.image
