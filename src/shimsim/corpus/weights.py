# SPDX-License-Identifier: MIT
"""Input weights: how much each input counts in the scores.

Uniform by default (every input weighs 1).  ``--weights FILE`` reads either

* ``name weight`` lines (``#`` starts a comment; a weight is a non-negative
  decimal number), or
* a Debian popularity-contest ``by_inst`` file as popcon.debian.org
  publishes it (``#rank name inst vote old recent no-files (maintainer)``
  rows): the weight of a package is its ``inst`` count.

An input is looked up by its name (a loupedb workload ``APP/WORKLOAD``,
then ``APP``; a file's base name, then for a file under a Debian system the
package that ships it, from /var/lib/dpkg/info/*.list).  Inputs the file does
not name weigh 0 and are counted as unweighted.

Weights are held as integers in millionths (``UNIT``), so sums are exact and
the merge of partial scores is associative and commutative: serial, local
and cluster runs give bit-identical tables.
"""
from __future__ import annotations

import functools
import glob
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from shimsim.errors import InputError

UNIT = 1_000_000


def to_units(text: str, path: str, lineno: int) -> int:
    try:
        d = Decimal(text)
    except InvalidOperation:
        raise InputError(path, lineno, f"expected a non-negative number as the weight, got {text!r}") from None
    if not d.is_finite() or d < 0:
        raise InputError(path, lineno, f"expected a non-negative number as the weight, got {text!r}")
    return int((d * UNIT).to_integral_value())


@dataclass
class Weights:
    source: str                         # "uniform", or the file
    table: dict[str, int] = field(default_factory=dict)
    default: int = UNIT                 # weight of an input the table does not name

    @property
    def uniform(self) -> bool:
        return not self.table

    def of(self, row: dict) -> tuple[int, str | None]:
        """(weight in UNITs, the name it was found under or None)."""
        if self.uniform:
            return self.default, row.get("name")
        if row.get("error") or row.get("skipped"):
            return 0, None                   # not scored: no need to look it up
        for cand in self._candidates(row):
            if cand in self.table:
                return self.table[cand], cand
        return self.default, None

    def _candidates(self, row: dict) -> list[str]:
        name = row.get("name") or ""
        out = [name]
        if "/" in name and row.get("kind") == "loupe":
            out.append(name.split("/", 1)[0])
        path = row.get("input") or ""
        base = os.path.basename(path)
        out.append(base)
        if row.get("kind") == "elf":
            files = dpkg_files()
            pkg = files.get(path) or files.get(os.path.realpath(path))
            if pkg:
                out.append(pkg)
        return out


@functools.lru_cache(maxsize=1)
def dpkg_files() -> dict[str, str]:
    """Installed file -> Debian package, from this machine's dpkg database (empty elsewhere)."""
    out: dict[str, str] = {}
    for lst in sorted(glob.glob("/var/lib/dpkg/info/*.list")):
        pkg = os.path.basename(lst)[:-5].split(":", 1)[0]
        try:
            with open(lst, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    p = line.rstrip("\n")
                    if p and p not in out:
                        out[p] = pkg
        except OSError:
            continue
    return out


def uniform() -> Weights:
    return Weights("uniform")


def load(path: str) -> Weights:
    """A weights file (``name weight`` lines or popcon ``by_inst``)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None
    popcon = any(ln.startswith("#rank") for ln in lines[:40])
    table: dict[str, int] = {}
    for lineno, line in enumerate(lines, 1):
        text = line.split("#", 1)[0].strip() if not popcon else ("" if line.startswith("#") else line.strip())
        if not text:
            continue
        cells = text.split()
        if popcon:
            if cells[0].startswith("-") or cells[0].lower() == "total":
                continue                           # the ----- separator and the Total row
            if len(cells) < 3 or not cells[0].isdigit():
                raise InputError(path, lineno, "expected a popcon by_inst row: rank name inst vote old recent no-files")
            name, w = cells[1], cells[2]
        else:
            if len(cells) != 2:
                raise InputError(path, lineno, f"expected 'name weight', got {len(cells)} field(s)")
            name, w = cells
        table[name] = to_units(w, path, lineno)
    if not table:
        raise InputError(path, None, "no weights in the file (expected 'name weight' lines or a popcon by_inst file)")
    return Weights(path, table, default=0)
