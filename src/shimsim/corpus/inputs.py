# SPDX-License-Identifier: MIT
"""What the corpus is made of: every path given, classified and digested.

* a loupedb checkout (sniffed: application directories holding
  ``WORKLOAD/RUN/data/dyn.csv``) is one input per workload;
* a loupedb workload directory is one input;
* an ELF file (by its magic) is one input, inspected statically;
* any other file is a trace in any format ``shimsim parse`` reads (sniffed
  when analysed); in a walked directory a file that is neither ELF nor a
  recognisable trace is skipped and counted, named on the command line it
  is an error row;
* a container image (an OCI layout directory, or a tar archive, plain or
  compressed: ``corpus.images``) is one input;
* a directory is walked (sorted, symlinked directories not followed).

The digest is the SHA-256 of the content (for a workload: of each run's
dyn.csv with its relative name), so a renamed or copied file is the same
input and ``--resume`` recognises it.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from shimsim.corpus import images, loupe

ELF_MAGIC = b"\x7fELF"
TRACE, ELF, LOUPE, IMAGE = "trace", "elf", "loupe", "image"
KINDS = (TRACE, ELF, LOUPE, IMAGE)
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Input:
    kind: str          # trace, elf, loupe, image
    path: str
    name: str          # what weights files name it by (a workload, a file's base name)
    digest: str        # sha256 of the content
    explicit: bool     # named on the command line (a failure is an error, not a skip)

    def to_json(self) -> dict:
        return asdict(self)


def file_digest(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            b = fh.read(_BLOCK)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def workload_digest(wdir: str) -> str:
    h = hashlib.sha256()
    for f in loupe.run_files(wdir):
        h.update(os.path.relpath(f, wdir).encode() + b"\0")
        with open(f, "rb") as fh:
            h.update(fh.read())
        h.update(b"\0")
    return h.hexdigest()


def _has_magic(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == ELF_MAGIC


def _workload(wdir: str, explicit: bool) -> Input:
    w = os.path.normpath(wdir)
    name = f"{os.path.basename(os.path.dirname(w))}/{os.path.basename(w)}"
    return Input(LOUPE, wdir, name, workload_digest(wdir), explicit)


def _file(path: str, explicit: bool) -> Input:
    kind = ELF if _has_magic(path) else IMAGE if images.is_archive(path) else TRACE
    return Input(kind, path, os.path.basename(path), file_digest(path), explicit)


def _layout(path: str, explicit: bool) -> Input:
    return Input(IMAGE, path, os.path.basename(os.path.normpath(path)), images.layout_digest(path), explicit)


def discover(paths: list[str], errors: list[tuple[str, str]], force_loupe: bool = False) -> Iterator[Input]:
    """Inputs in a stable order; unreadable paths go to ``errors`` as (path, message)."""
    for top in paths:
        if force_loupe:
            if loupe.is_workload(top):
                yield _workload(top, True)
            elif loupe.is_checkout(top):
                for w in loupe.workload_dirs(top):
                    yield _workload(w, True)
            else:
                errors.append((top, "not a loupedb checkout (expected APP/WORKLOAD/RUN/data/dyn.csv below it)"))
            continue
        if not os.path.exists(top):
            errors.append((top, "no such file or directory"))
            continue
        if images.is_layout(top):
            yield _layout(top, True)
            continue
        if os.path.isdir(top):
            yield from _walk(top, errors)
            continue
        try:
            yield _file(top, True)
        except OSError as exc:
            errors.append((top, f"cannot read: {exc.strerror or exc}"))


def _walk(top: str, errors: list[tuple[str, str]]) -> Iterator[Input]:
    if loupe.is_workload(top):
        yield _workload(top, True)
        return
    for root, dirs, files in os.walk(top, onerror=lambda e: errors.append((e.filename, e.strerror or str(e)))):
        dirs.sort()
        keep = []
        for d in dirs:
            full = os.path.join(root, d)
            if loupe.is_workload(full):
                yield _workload(full, False)
            elif images.is_layout(full):
                yield _layout(full, False)
            elif not d.startswith("."):
                keep.append(d)
        dirs[:] = keep
        for f in sorted(files):
            p = os.path.join(root, f)
            if os.path.islink(p) and not os.path.exists(p):
                continue                      # dangling link inside a tree
            if not os.path.isfile(p):
                continue
            try:
                yield _file(p, False)
            except OSError as exc:
                errors.append((p, f"cannot read: {exc.strerror or exc}"))
