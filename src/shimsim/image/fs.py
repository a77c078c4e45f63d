# SPDX-License-Identifier: MIT
"""Layers merged into one file system in memory, as a container runtime would.

Each layer is a tar stream (plain or gzip/xz/zstd, sniffed by magic bytes),
read once.  Its changes are applied in order on top of the layers below per
the OCI image spec (image-spec layer.md, "Whiteouts"): ``.wh.NAME`` removes
NAME from the lower layers, ``.wh..wh..opq`` removes every lower entry of
its directory, and neither touches entries of its own layer; hard links are
followed to the file they name; member paths are resolved through the
symbolic links already in the tree, and a ``..`` member that leaves the root
is an error.  Symbolic links are resolved against the image root the way a
chroot resolves them: an absolute target starts at the image root, ``..``
stops there, and nothing outside the image is ever looked at.

Only what analysis needs is kept in memory: the full content of files that
start with the ELF magic or ``#!`` and of the loader configuration files
(ld.so.cache, ld-musl-*.path, os-release), and the first bytes of the rest.
"""
from __future__ import annotations

import hashlib
import io
import posixpath
import stat
import tarfile
from dataclasses import dataclass, field
from typing import BinaryIO

from shimsim.image.archive import ImageError, decompress, describe_stream_error, sniff, stream_errors
from shimsim.inflation import Inflation

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
HEAD = 256                       # bytes kept of every regular file
MAX_KEPT = 2 << 30               # bytes of file content kept in memory per image
MAX_ENTRIES = 1_000_000          # tar members per image (all layers): each costs memory (measured in docs/limits.md)
# A compressed layer that inflates beyond MAX_RATIO times its stored bytes, once
# past RATIO_FLOOR, is refused as a decompression bomb.  Real layers inflate
# 2-5:1; the floor leaves room for the odd layer of zeros (a sparse lastlog).
MAX_RATIO = 250
RATIO_FLOOR = 256 << 20
MAX_SYMLINKS = 40                # Linux's MAXSYMLINKS: ELOOP past this
KEEP_NAMES = ("etc/ld.so.cache", "etc/os-release", "usr/lib/os-release", "var/run/ld-elf.so.hints")
ELF_MAGIC = b"\x7fELF"


@dataclass
class Node:
    kind: str                    # "file", "dir", "symlink", "char", "block", "fifo"
    mode: int = 0o755
    size: int = 0
    link: str = ""               # symlink target
    head: bytes = b""
    data: bytes | None = None    # full content when kept
    layer: int = -1              # index of the layer that brought it in
    member: str = ""             # its member name in that layer


@dataclass
class LayerChanges:
    """What one layer does, before it is applied: parsed once, in any order."""

    index: int
    entries: list[tuple[str, Node, str | None]] = field(default_factory=list)   # (path, node, hardlink target)
    whiteouts: list[tuple[str, str]] = field(default_factory=list)              # (path, member)
    opaque: list[tuple[str, str]] = field(default_factory=list)                 # (dir, member)
    digest: str = ""             # of the stored (possibly compressed) blob
    diff_id: str = ""            # of the uncompressed tar stream
    compression: str | None = None
    stored_size: int = 0


class _Hashing(io.RawIOBase):
    def __init__(self, fh: BinaryIO, alg: str = "sha256") -> None:
        self.fh = fh
        self.h = hashlib.new(alg)
        self.alg = alg
        self.n = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self.fh.read(len(b))
        n = len(data)
        b[:n] = data
        self.h.update(data)
        self.n += n
        return n

    def digest(self) -> str:
        return f"{self.alg}:{self.h.hexdigest()}"


def _norm(name: str) -> str | None:
    """A member name as a path below the root ("" is the root), None if it leaves it."""
    parts: list[str] = []
    for p in name.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(p)
    return "/".join(parts)


def _inflation(raw: BinaryIO, stored: _Hashing, image: str, member: str) -> Inflation:
    """The decompressed stream of a layer, refused once it inflates like a bomb."""
    def refuse(n: int, k: int) -> ImageError:
        return ImageError(image, member, f"decompression bomb: the layer inflated {n} bytes from {k} "
                                         f"(over {MAX_RATIO}:1)")
    return Inflation(raw, lambda: stored.n, max_ratio=MAX_RATIO, floor=RATIO_FLOOR, refuse=refuse)


def read_layer(index: int, fh: BinaryIO, image: str, member: str, budget: list[int],
               alg: str = "sha256") -> LayerChanges:
    """Parse one layer blob; ``budget`` is [bytes of content still allowed in memory,
    tar members still allowed (optional, MAX_ENTRIES when absent)]."""
    if len(budget) < 2:
        budget.append(MAX_ENTRIES)
    outer = _Hashing(fh, alg)
    buffered = io.BufferedReader(outer, 1 << 16)
    head = buffered.peek(512)[:512]
    kind = sniff(head)
    ch = LayerChanges(index, compression=kind)
    current = None
    try:
        if kind is None and alg == "sha256":
            inner, stream = outer, buffered     # the blob is the tar stream: hash it once
        else:
            raw = decompress(buffered, kind)
            inner = _Hashing(_inflation(raw, outer, image, member) if kind else raw, "sha256")
            stream = io.BufferedReader(inner, 1 << 16)
        tar = tarfile.open(fileobj=stream, mode="r|")
        while (m := tar.next()) is not None:
            tar.members.clear()         # a stream read keeps no member list: millions of members cost nothing there
            current = m.name
            budget[1] -= 1
            if budget[1] < 0:
                raise ImageError(image, member, f"too many entries: the image has over {MAX_ENTRIES} tar members "
                                                "(a tar bomb?)")
            _entry(ch, m, tar, image, member, budget)
        current = None
        while stream.read(1 << 20):     # the rest of the tar stream (end blocks, padding)
            pass
        while buffered.read(1 << 20):   # and of the blob (a compressor's trailing bytes)
            pass
    except ImageError:
        raise
    except stream_errors() as exc:
        what = f"member {current!r}: " if current else ""
        if current is None and outer.n == 0:
            raise ImageError(image, member, "layer is empty (0 bytes)") from None
        raise ImageError(image, member, f"layer is not a readable tar stream{' (' + kind + ')' if kind else ''}: "
                                        f"{what}{describe_stream_error(exc)}") from None
    ch.digest = outer.digest()
    ch.diff_id = inner.digest()
    ch.stored_size = outer.n
    return ch


def _entry(ch: LayerChanges, m: tarfile.TarInfo, tar: tarfile.TarFile, image: str, member: str,
           budget: list[int]) -> None:
    path = _norm(m.name)
    if path is None:
        raise ImageError(image, member, f"path escape: entry {m.name!r} leaves the image root")
    if m.name.startswith("/"):
        raise ImageError(image, member, f"path escape: entry {m.name!r} is an absolute path "
                                        "(layer members are relative to the image root)")
    if path == "":
        return                          # the root directory itself
    parent, base = posixpath.split(path)
    if base == OPAQUE:
        ch.opaque.append((parent, m.name))
        return
    if base.startswith(WHITEOUT):
        target = base[len(WHITEOUT):]
        if target in ("", ".", "..") or "/" in target:
            raise ImageError(image, member, f"whiteout {m.name!r} names something outside its directory")
        ch.whiteouts.append((posixpath.join(parent, target), m.name))
        return
    node = Node("file", m.mode & 0o7777, m.size, layer=ch.index, member=m.name)
    link = None
    if m.isdir():
        node.kind, node.size = "dir", 0
    elif m.issym():
        node.kind, node.link, node.size = "symlink", m.linkname, len(m.linkname)
    elif m.islnk():
        link = _norm(m.linkname)
        if link is None:
            raise ImageError(image, member, f"path escape: hard link {m.name!r} -> {m.linkname!r} leaves the image root")
    elif m.ischr() or m.isblk() or m.isfifo():
        node.kind = "char" if m.ischr() else "block" if m.isblk() else "fifo"
        node.size = 0
    elif m.isfile():
        f = tar.extractfile(m)
        head = f.read(HEAD) if f is not None else b""
        node.head = head
        keep = head[:4] == ELF_MAGIC or head[:2] == b"#!" or path in KEEP_NAMES or _musl_path_file(path)
        if keep and budget[0] >= m.size and f is not None:
            rest = f.read()
            node.data = head + rest
            budget[0] -= m.size
    else:
        return                          # other types (GNU volume headers, ...) carry no file
    ch.entries.append((path, node, link))


def _musl_path_file(path: str) -> bool:
    return path.startswith("etc/ld-musl-") and path.endswith(".path")


@dataclass
class Removed:
    path: str
    layer: int
    how: str                     # "whiteout" or "opaque directory"
    member: str


class ImageFS:
    """The merged tree: paths below the root ("usr/bin/env") to nodes."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {"": Node("dir", 0o755)}
        self.children: dict[str, set[str]] = {"": set()}
        self.removed: list[Removed] = []
        self.notes: list[str] = []

    # -- building -------------------------------------------------------
    def _drop(self, path: str) -> list[str]:
        """Remove ``path`` and everything below it; the removed paths."""
        if path not in self.nodes:
            return []
        out = []
        stack = [path]
        while stack:
            p = stack.pop()
            out.append(p)
            for c in self.children.pop(p, set()):
                stack.append(f"{p}/{c}" if p else c)
            self.nodes.pop(p, None)
        parent, base = posixpath.split(path)
        self.children.get(parent, set()).discard(base)
        return out

    def _ensure_dir(self, path: str, layer: int) -> None:
        if path in self.nodes and self.nodes[path].kind == "dir":
            return
        if path in self.nodes:
            self._drop(path)
        parent, base = posixpath.split(path)
        if path:
            self._ensure_dir(parent, layer)
            self.children[parent].add(base)
        self.nodes[path] = Node("dir", 0o755, layer=layer)
        self.children.setdefault(path, set())

    def _place(self, path: str) -> str:
        """Where a member path lands: its parent resolved through the tree's symlinks."""
        parent, base = posixpath.split(path)
        if not parent:
            return path
        real = self.resolve(parent)
        if real is None or (real in self.nodes and self.nodes[real].kind != "dir"):
            return path
        return f"{real}/{base}" if real else base

    def apply(self, ch: LayerChanges, image: str, member: str) -> None:
        for d, m in ch.opaque:
            real = self.resolve(d) if d else ""
            where = real if real is not None and real in self.nodes and self.nodes[real].kind == "dir" else d
            for c in sorted(self.children.get(where, set())):
                p = f"{where}/{c}" if where else c
                for r in self._drop(p):
                    self.removed.append(Removed("/" + r, ch.index, "opaque directory", m))
        for p, m in ch.whiteouts:
            where = self._place(p)
            gone = self._drop(where)
            if not gone:
                self.notes.append(f"layer {ch.index}: whiteout {m} removes /{p}, which no lower layer has")
            for r in gone:
                self.removed.append(Removed("/" + r, ch.index, "whiteout", m))
        self.removed.sort(key=lambda r: (r.layer, r.path))
        for path, node, link in ch.entries:
            where = self._place(path)
            if link is not None:
                real = self.resolve(link, follow_final=False)
                src = self.nodes.get(real) if real is not None else None
                if src is None or src.kind == "dir":
                    raise ImageError(image, member, f"hard link {node.member!r} -> {link!r}: "
                                                    "no file of that name in this or a lower layer")
                node = Node(src.kind, src.mode, src.size, src.link, src.head, src.data, ch.index, node.member)
            old = self.nodes.get(where)
            if node.kind == "dir":
                if old is not None and old.kind == "dir":
                    old.mode, old.layer, old.member = node.mode, node.layer, node.member
                    continue
                self._drop(where)
                self._ensure_dir(posixpath.dirname(where), ch.index)
                self._ensure_dir(where, ch.index)
                self.nodes[where] = node
                continue
            if old is not None:
                self._drop(where)
            parent, base = posixpath.split(where)
            self._ensure_dir(parent, ch.index)
            self.children[parent].add(base)
            self.nodes[where] = node

    # -- lookup ---------------------------------------------------------
    def resolve(self, path: str, follow_final: bool = True, cwd: str = "") -> str | None:
        """The tree path ``path`` names (absolute or relative to ``cwd``), symlinks followed
        inside the image; None when a component is missing or not a directory, or on a loop.
        A missing last component resolves to the path it would have."""
        todo = [p for p in path.split("/") if p not in ("", ".")]
        todo.reverse()
        stack: list[str] = [] if path.startswith("/") else [p for p in cwd.split("/") if p]
        hops = 0
        while todo:
            comp = todo.pop()
            if comp == ".":
                continue
            if comp == "..":
                if stack:
                    stack.pop()
                continue
            cand = "/".join(stack + [comp])
            node = self.nodes.get(cand)
            if node is None:
                if todo:
                    return None
                return cand
            if node.kind == "symlink" and (todo or follow_final):
                hops += 1
                if hops > MAX_SYMLINKS:
                    return None
                target = node.link
                if target.startswith("/"):
                    stack = []
                parts = [p for p in target.split("/") if p not in ("", ".")]
                todo.extend(reversed(parts))
                continue
            if todo and node.kind != "dir":
                return None
            stack.append(comp)
        return "/".join(stack)

    def lookup(self, path: str, cwd: str = "") -> tuple[str, Node] | None:
        real = self.resolve(path, cwd=cwd)
        if real is None or real not in self.nodes:
            return None
        return real, self.nodes[real]

    def isfile(self, path: str) -> bool:
        hit = self.lookup(path)
        return hit is not None and hit[1].kind == "file"

    def listdir(self, path: str) -> list[str]:
        hit = self.lookup(path)
        if hit is None or hit[1].kind != "dir":
            raise FileNotFoundError(2, "No such file or directory", path)
        return sorted(self.children.get(hit[0], set()))

    def read(self, path: str) -> bytes | None:
        hit = self.lookup(path)
        if hit is None or hit[1].kind != "file":
            return None
        return hit[1].data

    def files(self):
        """(path, node) of every regular file, sorted by path."""
        for p in sorted(self.nodes):
            n = self.nodes[p]
            if n.kind == "file":
                yield "/" + p, n

    def executable(self, node: Node) -> bool:
        return bool(node.mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
