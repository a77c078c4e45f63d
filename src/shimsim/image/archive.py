# SPDX-License-Identifier: MIT
"""Where an image's files are: an OCI layout directory or a tar archive.

An archive is an OCI layout (``oci-layout``, ``index.json``, ``blobs/``), a
``docker save`` / ``podman save`` tarball (Docker 25 and later write an OCI
layout with the legacy ``manifest.json`` beside it; older ones only
``manifest.json`` and ``<id>/layer.tar``), plain or wrapped in gzip, xz or
zstd (FreeBSD ships its images as ``.txz`` OCI layouts).  The wrapper is
sniffed by its magic bytes, never by the file name.

A plain tar archive or a directory is read by random access.  A compressed
archive cannot be, so it is streamed: once to keep its small members (the
JSON documents, manifests and configs) and once more to hand out the layer
blobs in the order they are stored; callers parse layers in any order and
merge them afterwards.
"""
from __future__ import annotations

import gzip
import io
import lzma
import os
import posixpath
import re
import tarfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from shimsim.errors import ShimsimError
from shimsim.inflation import Inflation

SMALL_MEMBER = 8 << 20          # members kept in memory from a streamed archive (JSON, configs)
SMALL_TOTAL = 512 << 20         # at most this much of them; the rest are streamed again when read
MAX_MEMBERS = 100_000           # members of an image archive (an OCI layout has a few per layer)
# a compressed image archive inflating beyond MAX_RATIO:1 past RATIO_FLOOR is a bomb (as a layer is, fs.py)
MAX_RATIO = 250
RATIO_FLOOR = 256 << 20
MAGIC = {b"\x1f\x8b": "gzip", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bzip2"}
DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")


class ImageError(ShimsimError):
    """Bad input in an image: one line naming the image and the member."""

    def __init__(self, image: str, member: str | None, message: str) -> None:
        self.image, self.member, self.message = image, member, message
        super().__init__(f"{image}: {member}: {message}" if member else f"{image}: {message}")


def sniff(head: bytes) -> str | None:
    """The compression of a stream from its first bytes (None: not compressed).

    A tar header ("ustar" at offset 257) wins: a member name may start with "BZh"."""
    if head[257:262] == b"ustar":
        return None
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def decompress(fh: BinaryIO, kind: str | None) -> BinaryIO:
    """A reader of the decompressed stream (``kind`` from :func:`sniff`)."""
    if kind is None:
        return fh
    if kind == "gzip":
        return gzip.GzipFile(fileobj=fh, mode="rb")
    if kind == "xz":
        return lzma.LZMAFile(fh, "rb")
    if kind == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
    if kind == "bzip2":
        import bz2
        return bz2.BZ2File(fh, "rb")
    raise ValueError(kind)


# what a broken stream raises while it is decompressed or untarred
def stream_errors() -> tuple[type[BaseException], ...]:
    errs: list[type[BaseException]] = [tarfile.TarError, EOFError, OSError, lzma.LZMAError, zlib.error,
                                       ValueError]
    try:
        import zstandard
        errs.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - zstandard is a dependency
        pass
    return tuple(errs)


def describe_stream_error(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, EOFError) or "unexpected end" in text.lower() or "end of stream" in text.lower() \
            or "compressed file ended" in text.lower():
        return f"truncated ({text})"
    return text[:200]


def digest_path(digest: str) -> str:
    m = DIGEST.match(digest or "")
    if m is None:
        raise ValueError(digest)
    return f"blobs/{m.group(1)}/{m.group(2)}"


def safe_member(name: str) -> str | None:
    """A member path relative to the archive root, or None if it leaves it."""
    norm = posixpath.normpath("/" + name.lstrip("/"))[1:]
    if name.startswith("/") or ".." in name.split("/"):
        return None
    return norm


def link_target(m: tarfile.TarInfo) -> str | None:
    """The member a hard or symbolic link member names (docker save links shared layers)."""
    if m.issym():
        if m.linkname.startswith("/"):
            return None
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(m.name), m.linkname))
        return None if joined == ".." or joined.startswith("../") else joined
    return safe_member(m.linkname)


class Store:
    """Members of an image archive or layout directory, by relative path."""

    image: str
    kind: str                  # "directory", "tar", "tar+gzip", ...
    compression: str | None

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def read(self, name: str) -> bytes:
        """A small member in full (JSON documents, manifests, configs)."""
        raise NotImplementedError

    def size(self, name: str) -> int | None:
        raise NotImplementedError

    def streams(self, names: list[str]) -> Iterator[tuple[str, BinaryIO]]:
        """(name, reader) for each of ``names`` that exists, in storage order."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class DirStore(Store):
    def __init__(self, path: str) -> None:
        self.image = path
        self.root = os.path.realpath(path)
        self.kind, self.compression = "directory", None

    def _path(self, name: str) -> str:
        rel = safe_member(name)
        if rel is None:
            raise ImageError(self.image, name, "path leaves the image directory")
        full = os.path.join(self.root, rel)
        real = os.path.realpath(full)
        if real != self.root and not real.startswith(self.root + os.sep):
            raise ImageError(self.image, name, "symbolic link leaves the image directory")
        return real

    def exists(self, name: str) -> bool:
        try:
            return os.path.isfile(self._path(name))
        except ImageError:
            return False

    def size(self, name: str) -> int | None:
        try:
            return os.path.getsize(self._path(name))
        except OSError:
            return None

    def read(self, name: str) -> bytes:
        try:
            with open(self._path(name), "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise ImageError(self.image, name, f"cannot read: {exc.strerror or exc}") from None

    def streams(self, names: list[str]) -> Iterator[tuple[str, BinaryIO]]:
        for name in names:
            if not self.exists(name):
                continue
            try:
                fh = open(self._path(name), "rb")
            except OSError as exc:
                raise ImageError(self.image, name, f"cannot read: {exc.strerror or exc}") from None
            with fh:
                yield name, fh


class TarStore(Store):
    """A plain tar archive: members are read in place by offset."""

    def __init__(self, path: str, fh: BinaryIO) -> None:
        self.image = path
        self.kind, self.compression = "tar", None
        self.fh = fh
        try:
            self.tar = tarfile.open(fileobj=fh, mode="r:")
            members = []
            while (m := self.tar.next()) is not None:
                members.append(m)
                if len(members) > MAX_MEMBERS:
                    raise ImageError(path, None, f"too many members: over {MAX_MEMBERS} in an image archive "
                                                 "(a tar bomb?)")
        except stream_errors() as exc:
            raise ImageError(path, None, f"not a readable tar archive: {describe_stream_error(exc)}") from None
        self.members: dict[str, tarfile.TarInfo] = {}
        for m in members:
            rel = safe_member(m.name)
            if rel is not None and (m.isfile() or m.islnk() or m.issym()):
                self.members[rel] = m
        end = max((m.offset_data + m.size for m in members), default=0)
        if end > _file_size(fh):
            last = max(members, key=lambda m: m.offset_data + m.size)
            raise ImageError(path, last.name, f"truncated archive: member needs {last.size} bytes, "
                                              f"the file ends {end - _file_size(fh)} bytes short")

    def _member(self, name: str) -> tarfile.TarInfo:
        m = self.members.get(name)
        depth = 0
        while m is not None and (m.islnk() or m.issym()) and depth < 8:     # a link to another member
            m = self.members.get(link_target(m) or "")
            depth += 1
        if m is None:
            raise ImageError(self.image, name, "missing from the archive")
        return m

    def exists(self, name: str) -> bool:
        return name in self.members

    def size(self, name: str) -> int | None:
        try:
            return self._member(name).size
        except ImageError:
            return None

    def read(self, name: str) -> bytes:
        m = self._member(name)
        try:
            f = self.tar.extractfile(m)
            return f.read() if f is not None else b""
        except stream_errors() as exc:
            raise ImageError(self.image, name, describe_stream_error(exc)) from None

    def streams(self, names: list[str]) -> Iterator[tuple[str, BinaryIO]]:
        order = sorted((n for n in names if n in self.members), key=lambda n: self._member(n).offset_data)
        for name in order:
            f = self.tar.extractfile(self._member(name))
            if f is not None:
                yield name, f

    def close(self) -> None:
        self.fh.close()


class StreamStore(Store):
    """A compressed tar archive: streamed, small members kept in memory."""

    def __init__(self, path: str, kind: str) -> None:
        self.image = path
        self.compression = kind
        self.kind = f"tar+{kind}"
        self.small: dict[str, bytes] = {}
        self.sizes: dict[str, int] = {}
        self.links: dict[str, str] = {}
        kept = 0
        for m, f in self._iter():
            rel = safe_member(m.name)
            if rel is None:
                continue
            if m.islnk() or m.issym():
                self.links[rel] = link_target(m) or ""
                continue
            self.sizes[rel] = m.size
            if m.size <= SMALL_MEMBER and kept + m.size <= SMALL_TOTAL:
                self.small[rel] = self._guard(rel, f.read)
                kept += m.size

    def _bomb(self, n: int, stored: int) -> ImageError:
        return ImageError(self.image, None, f"decompression bomb: the archive inflated {n} bytes "
                                            f"from {stored} (over {MAX_RATIO}:1)")

    def _guard(self, name: str, fn):
        try:
            return fn()
        except stream_errors() as exc:
            raise ImageError(self.image, name, describe_stream_error(exc)) from None

    def _iter(self) -> Iterator[tuple[tarfile.TarInfo, BinaryIO]]:
        try:
            fh = open(self.image, "rb")
        except OSError as exc:
            raise ImageError(self.image, None, f"cannot read: {exc.strerror or exc}") from None
        current = None
        try:
            with fh:
                stream = Inflation(decompress(fh, self.compression), fh.tell, max_ratio=MAX_RATIO,
                                   floor=RATIO_FLOOR, refuse=self._bomb)
                tar = tarfile.open(fileobj=stream, mode="r|")
                count = 0
                while (m := tar.next()) is not None:
                    tar.members.clear()
                    count += 1
                    if count > MAX_MEMBERS:
                        raise ImageError(self.image, None, f"too many members: over {MAX_MEMBERS} in an image "
                                                           "archive (a tar bomb?)")
                    current = m.name
                    if m.isfile():
                        f = tar.extractfile(m)
                        if f is not None:
                            yield m, f
                    elif m.islnk() or m.issym():
                        yield m, io.BytesIO()
                current = None
                while stream.read(1 << 20):   # to the end: a truncated compressed stream fails here
                    pass
        except ImageError:
            raise
        except stream_errors() as exc:
            where = f"while reading member {current}" if current else "after the last member"
            raise ImageError(self.image, None, f"not a readable {self.kind} archive {where}: "
                                               f"{describe_stream_error(exc)}") from None

    def _resolve(self, name: str) -> str:
        depth = 0
        while name in self.links and depth < 8:
            name = self.links[name]
            depth += 1
        return name

    def exists(self, name: str) -> bool:
        return self._resolve(name) in self.sizes

    def size(self, name: str) -> int | None:
        return self.sizes.get(self._resolve(name))

    def read(self, name: str) -> bytes:
        real = self._resolve(name)
        if real in self.small:
            return self.small[real]
        for n, f in self.streams([real]):
            return self._guard(n, f.read)
        raise ImageError(self.image, name, "missing from the archive")

    def streams(self, names: list[str]) -> Iterator[tuple[str, BinaryIO]]:
        want: dict[str, list[str]] = {}
        for n in names:
            want.setdefault(self._resolve(n), []).append(n)
        for m, f in self._iter():
            rel = safe_member(m.name)
            if rel in want and not (m.islnk() or m.issym()):
                for alias in want.pop(rel):
                    if rel in self.small:
                        yield alias, io.BytesIO(self.small[rel])
                    else:
                        yield alias, f
                        break
            if not want:
                return


def _file_size(fh: BinaryIO) -> int:
    pos = fh.tell()
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(pos)
    return size


def open_store(path: str) -> Store:
    """Sniff ``path`` and open it; an error names the path and what was expected."""
    if os.path.isdir(path):
        return DirStore(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise ImageError(path, None, f"cannot read: {exc.strerror or exc}") from None
    head = fh.read(512)
    kind = sniff(head)
    if kind is not None:
        fh.close()
        return StreamStore(path, kind)
    if len(head) < 512 or (head[257:262] != b"ustar" and not _plausible_v7(head)):
        fh.close()
        what = "an empty file" if not head else "neither a directory nor a tar archive (plain, gzip, xz or zstd)"
        raise ImageError(path, None, f"not an image: {what}; expected an OCI layout, an OCI archive "
                                     "or a docker/podman save tarball")
    fh.seek(0)
    try:
        return TarStore(path, fh)
    except BaseException:
        fh.close()
        raise


def _plausible_v7(head: bytes) -> bool:
    """An old-style tar header: its checksum field matches."""
    try:
        want = int(head[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    got = sum(head[:148]) + 8 * 32 + sum(head[156:512])
    return want == got
