# SPDX-License-Identifier: MIT
"""Regenerate the tables/ files that tables/UPSTREAM.toml lists from their pinned upstream files.

    python tools/regen.py --from DIR [--from DIR ...]          rewrite the generated tables
    python tools/regen.py --from DIR --check                   exit 1 if that would change a file
    python tools/regen.py --docs [--check]                     the compat pages (docs/compat/*.md)

Each ``[[table]]`` of the manifest names an output file (relative to tables/), how it is made
(``how``) and its upstream file as ``owner/repo@<40-hex commit>:path``.  An upstream file is read
from the first ``--from`` directory (or ``$SHIMSIM_UPSTREAM``, ``:``-separated) that has it, as
either ``DIR/owner+repo/repo`` (a bare git directory, as the ``fetch`` tool leaves it: the file is
read at the pinned commit with ``git show``) or ``DIR/owner+repo@<commit>/path`` (a plain copy of the
file at that commit).

Readers (``how``):

- ``linux-syscall-tbl``: a Linux ``syscall.tbl`` (``number abi name [entry [compat-entry]]``),
  every row kept with its abi in the ``kind`` column; abis.toml's ``syscall_abis`` filters them
  per ABI as the kernel's ``arch/*/kernel/Makefile.syscalls`` does.  An entry of
  ``sys_ni_syscall`` (or none) is ``unimplemented``.
- ``strace-common``: the numbers every Linux architecture shares from 424 on, read from strace's
  ``src/linux/generic/syscallent-common.h``, replacing rows ``first``..``last`` of an existing
  table (the supplement rows of a table whose own upstream copy is older); the other rows and
  comment lines are kept byte for byte.

Exit status: 0 done (or nothing to change), 1 ``--check`` found a difference, 2 bad input (a
missing upstream file, a malformed row: the message names file and line).
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import difflib
import io
import os
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("number", "name", "status", "kind", "entry", "aliases", "note")
SOURCE_RE = re.compile(r"(?P<repo>[\w.-]+/[\w.-]+)@(?P<commit>[0-9a-f]{40}):(?P<path>\S+)\Z")


class RegenError(Exception):
    """Bad input: names the file (and line) and what was expected."""


@dataclass(frozen=True)
class Source:
    repo: str
    commit: str
    path: str

    @classmethod
    def parse(cls, text: str, where: str) -> Source:
        m = SOURCE_RE.match(text)
        if not m:
            raise RegenError(f"{where}: source must be owner/repo@<40-hex commit>:path, got {text!r}")
        return cls(m["repo"], m["commit"], m["path"])

    def __str__(self) -> str:
        return f"{self.repo}@{self.commit}:{self.path}"


def read_upstream(src: Source, dirs: list[Path]) -> str:
    """The text of SRC from the first directory that has it (git dir at the commit, or a copy)."""
    tried = []
    for d in dirs:
        base = d / src.repo.replace("/", "+")
        git = base / "repo"
        if (git / "objects").is_dir() or (git / "HEAD").is_file():
            r = subprocess.run(["git", f"--git-dir={git}", "show", f"{src.commit}:{src.path}"],
                               capture_output=True)
            if r.returncode == 0:
                return r.stdout.decode("utf-8")
            tried.append(f"{git} (git show: {r.stderr.decode(errors='replace').strip()})")
        copy = d / f"{src.repo.replace('/', '+')}@{src.commit}" / src.path
        if copy.is_file():
            return copy.read_text(encoding="utf-8")
        tried.append(str(copy))
    raise RegenError(f"upstream file {src} not found; tried: {'; '.join(tried) or 'no --from directory'}")


# --------------------------------------------------------------------------- readers

def linux_syscall_tbl(text: str, src: Source) -> list[list[str]]:
    """Rows of a Linux syscall.tbl: number, name, status, kind (the abi column), entry."""
    rows = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        cells = line.split()
        if len(cells) < 3 or not cells[0].isdigit():
            raise RegenError(f"{src}:{lineno}: expected 'number abi name [entry [compat]]', got {raw!r}")
        number, abi, name = cells[:3]
        entry = cells[3] if len(cells) > 3 else ""
        status = "unimplemented" if entry in ("", "sys_ni_syscall") else "implemented"
        rows.append([number, name, status, abi, entry, "", ""])
    if not rows:
        raise RegenError(f"{src}: no syscall rows")
    return rows


_STRACE_ROW = re.compile(r'\[\s*BASE_NR\s*\+\s*(\d+)\s*\]\s*=\s*\{[^}]*SEN\(\w+\)\s*,\s*"(\w+)"\s*\}')


def strace_common(text: str, src: Source, first: int, last: int) -> dict[int, str]:
    """number -> name for [BASE_NR + N] rows of strace's syscallent-common.h, FIRST..LAST."""
    out: dict[int, str] = {}
    for raw in text.splitlines():
        m = _STRACE_ROW.search(raw)
        if m and first <= int(m[1]) <= last:
            out[int(m[1])] = m[2]
    missing = [n for n in range(first, last + 1) if n not in out]
    if missing:
        raise RegenError(f"{src}: no rows for {', '.join(map(str, missing))}")
    return out


# --------------------------------------------------------------------------- writers

def _csv_line(cells: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def make_syscall_tbl(entry: dict, dirs: list[Path], where: str) -> str:
    src = Source.parse(entry["source"], where)
    text = read_upstream(src, dirs)
    rows = linux_syscall_tbl(text, src)
    aliases = dict(entry.get("aliases", {}))
    for r in rows:
        names = aliases.pop(f"{r[0]}:{r[3]}", None)
        if names:
            r[5] = names
    if aliases:
        raise RegenError(f"{where}: aliases for rows {', '.join(aliases)} that {src} does not have")
    out = [f"# generated by tools/regen.py from tables/UPSTREAM.toml: do not edit, change the pin and rerun\n",
           f"# source: {src}\n"]
    if entry.get("note"):
        out.append(f"# upstream-note: {entry['note']}\n")
    out.append(f"# upstream-rows: {len(rows)}\n")
    out.append(_csv_line(list(HEADER)))
    out += [_csv_line(r) for r in rows]
    return "".join(out)


def make_strace_supplement(entry: dict, dirs: list[Path], where: str, current: str, out_name: str) -> str:
    src = Source.parse(entry["source"], where)
    first, last, kind = int(entry["first"]), int(entry["last"]), entry["kind"]
    names = strace_common(read_upstream(src, dirs), src, first, last)
    note = entry.get("row_note", "supplement: newer than the upstream table read")
    lines = current.splitlines(keepends=True)
    kept: list[str] = []
    header_at = None
    rows_before: list[str] = []
    rows_after: list[str] = []
    for i, raw in enumerate(lines):
        if raw.startswith("#") or not raw.strip():
            if raw.startswith(("# supplement-source:", "# supplement-rows:")):
                continue
            kept.append(raw)
            continue
        if header_at is None:
            header_at = len(kept)
            kept.append(raw)
            continue
        num = raw.split(",", 1)[0]
        if not num.isdigit():
            raise RegenError(f"tables/{out_name}:{i + 1}: expected a syscall number, got {raw.strip()!r}")
        n = int(num)
        if first <= n <= last:
            continue
        (rows_before if n < first else rows_after).append(raw)
    if header_at is None:
        raise RegenError(f"tables/{out_name}: no header row")
    supp = [f"# supplement-source: {src} (the numbers every architecture shares from 424 on)\n",
            f"# supplement-rows: {last - first + 1}\n"]
    new = [_csv_line([str(n), names[n], "implemented", kind, "", "", note]) for n in range(first, last + 1)]
    return "".join(kept[:header_at] + supp + kept[header_at:] + rows_before + new + rows_after)


def generate(manifest: Path, tables: Path, dirs: list[Path]) -> dict[Path, str]:
    """output path -> new text for every [[table]] of MANIFEST."""
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RegenError(f"{manifest}: {exc}") from None
    out: dict[Path, str] = {}
    for i, entry in enumerate(data.get("table", []), 1):
        where = f"{manifest.name} [[table]] #{i}"
        for key in ("output", "how", "source"):
            if key not in entry:
                raise RegenError(f"{where}: missing key {key!r}")
        path = tables / entry["output"]
        how = entry["how"]
        if how == "linux-syscall-tbl":
            out[path] = make_syscall_tbl(entry, dirs, where)
        elif how == "strace-common":
            current = out.get(path) or path.read_text(encoding="utf-8")
            out[path] = make_strace_supplement(entry, dirs, where, current, entry["output"])
        else:
            raise RegenError(f"{where}: unknown how {how!r} (known: linux-syscall-tbl, strace-common)")
    return out


def compat_docs(root: Path) -> dict[Path, str]:
    """docs/compat/<shim>.md: the output of `shimsim compat SHIM --output-format md` for every shipped shim."""
    sys.path.insert(0, str(root / "src"))
    from shimsim import cli                    # noqa: PLC0415 (the checkout being regenerated)

    def shimsim(*args: str) -> str:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = cli.main(list(args))
        if rc != 0:
            raise RegenError(f"shimsim {' '.join(args)} exited {rc}")
        return buf.getvalue()

    names = [p.stem for p in sorted((root / "tables" / "shims").glob("*.toml"))
             if not p.name.startswith("_")]
    out: dict[Path, str] = {}
    index = ["# Compatibility tables\n\n",
             "One page per shipped shim, generated by `python tools/regen.py --docs` from "
             "`shimsim compat SHIM --output-format md`: do not edit them; `tests/test_regen.py` checks that "
             "they are current.\n\n",
             "| shim | what | outcomes |\n|---|---|---|\n"]
    for name in names:
        text = shimsim("compat", name, "--output-format", "md")
        out[root / "docs" / "compat" / f"{name}.md"] = text
        lines = text.splitlines()
        what = lines[2].strip() if len(lines) > 2 else ""
        counts = next((l for l in lines if l.endswith(" syscalls)")), "")
        index.append(f"| [{name}]({name}.md) | {what} | {counts} |\n")
    out[root / "docs" / "compat" / "README.md"] = "".join(index)
    return out


def apply(new: dict[Path, str], check: bool, root: Path) -> int:
    changed = 0
    for path, text in new.items():
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old == text:
            continue
        changed += 1
        rel = os.path.relpath(path, root)
        if check:
            diff = list(difflib.unified_diff(old.splitlines(), text.splitlines(), f"a/{rel}", f"b/{rel}",
                                             lineterm="", n=1))
            print("\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else ""))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {rel}")
    if check:
        print(f"{len(new)} files checked, {changed} would change" if changed
              else f"{len(new)} files checked: regeneration is a no-op")
    return 1 if check and changed else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--from", dest="dirs", action="append", type=Path, default=[],
                   help="directory holding owner+repo/repo (git) or owner+repo@COMMIT/PATH copies")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file would change")
    p.add_argument("--root", type=Path, default=ROOT, help="project root (default: this checkout)")
    p.add_argument("--manifest", type=Path, help="default ROOT/tables/UPSTREAM.toml")
    p.add_argument("--docs", action="store_true", help="the compat pages instead of the tables")
    args = p.parse_args(argv)
    root = args.root.resolve()
    dirs = args.dirs or [Path(d) for d in os.environ.get("SHIMSIM_UPSTREAM", "").split(":") if d]
    try:
        if args.docs:
            new = compat_docs(root)
        else:
            new = generate(args.manifest or root / "tables" / "UPSTREAM.toml", root / "tables", dirs)
    except RegenError as exc:
        print(f"regen: {exc}", file=sys.stderr)
        return 2
    return apply(new, args.check, root)


if __name__ == "__main__":
    sys.exit(main())
