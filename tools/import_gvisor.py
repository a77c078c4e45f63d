# SPDX-License-Identifier: MIT
"""Build a per-release gVisor shim spec straight from gVisor's own syscall table.

    python tools/import_gvisor.py --repo /work/.mirror/google+gvisor/repo \\
        --tag release-20221219.0 --release 20221219 [--out tables/shims]

reads ``pkg/sentry/syscalls/linux/linux64.go`` at the tag (through ``git
show``, so any clone of the official google/gvisor repository will do) and
writes ``gvisor@RELEASE.toml`` (AMD64 table) and ``gvisor-arm64@RELEASE.toml``
(ARM64 table).  Each table row becomes one rule:

* ``Supported`` / ``SupportedPoint``     -> emulate (the Sentry reimplements it);
* ``PartiallySupported[Point]``          -> partial, with gVisor's own note;
* ``Error`` / ``ErrorWithEvent``         -> fail with the errno the row names;
* ``CapError``                           -> fail EPERM (the task lacks the capability;
  with it the call returns ENOSYS, see pkg/sentry/syscalls/syscalls.go CapError);
* numbers absent from the table          -> the table's ``Missing`` hook: ENOSYS.

Rows whose handler's behaviour depends on the platform runsc uses are then
overridden by PLATFORM (each with the upstream line that decides it), and
calls the real runsc contradicts are overridden by OBSERVED (each with the
handler line that explains it; the measurement is in docs/probe-real.md).  Names are checked against the guest ABI
tables shimsim ships; rows for names the ABI lacks are listed in a comment.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "src"))
from import_compat import Rule, write_spec  # noqa: E402

REPO = "google/gvisor"
TABLE = "pkg/sentry/syscalls/linux/linux64.go"
ROW = re.compile(r'^\s*(\d+):\s*syscalls\.(\w+)\("([^"]+)",\s*(.*)\),\s*(?://.*)?$')
BLOCK = re.compile(r"^var (AMD64|ARM64) = &kernel\.SyscallTable\{")

# Behaviour that depends on the platform (runsc --platform=ptrace, the default
# systrap/kvm alike): RSeqAvailable() is useHostCores && DetectsCPUPreemption(),
# and ptrace and kvm embed platform.NoCPUPreemptionDetection (false).
PLATFORM = {
    "rseq": (Rule("rseq", "fail", errno="ENOSYS",
                  note="RSeq: !t.RSeqAvailable() returns ENOSYS; ptrace and kvm platforms embed "
                       "NoCPUPreemptionDetection (pkg/sentry/kernel/rseq.go:52, platform/ptrace/ptrace.go:208)"),
             ["pkg/sentry/syscalls/linux/sys_rseq.go", "pkg/sentry/kernel/rseq.go",
              "pkg/sentry/platform/ptrace/ptrace.go"]),
}

# What the real runsc contradicts in the table, read back in the handler (evidence: docs/probe-real.md)
OBSERVED = {
    "statx": (Rule("statx", "emulate",
                   reject={f: "EINVAL" for f in ("AT_NO_AUTOMOUNT", "AT_SYMLINK_FOLLOW", "AT_REMOVEDIR",
                                                 "AT_EACCESS", "AT_RECURSIVE")},
                   note="Supported in the table; Statx fails with EINVAL for any flag outside AT_EMPTY_PATH|"
                        "AT_SYMLINK_NOFOLLOW|AT_STATX_SYNC_TYPE (pkg/sentry/syscalls/linux/sys_stat.go:156-157): "
                        "AT_NO_AUTOMOUNT, which coreutils (ls, stat) always pass, so under runsc 20221219 'ls -l' "
                        "fails, and AT_SYMLINK_FOLLOW, AT_REMOVEDIR (= AT_EACCESS) and AT_RECURSIVE; calls without "
                        "them work; setting both sync types is EINVAL too (:159-162, not modelled)"),
              ["pkg/sentry/syscalls/linux/sys_stat.go"]),
    "newfstatat": (Rule("newfstatat", "emulate",
                        reject={f: "EINVAL" for f in ("AT_NO_AUTOMOUNT", "AT_SYMLINK_FOLLOW", "AT_REMOVEDIR",
                                                      "AT_EACCESS", "AT_STATX_FORCE_SYNC", "AT_STATX_DONT_SYNC",
                                                      "AT_RECURSIVE")},
                        note="Supported: the Sentry reimplements it; fstatat fails with EINVAL for any flag "
                             "outside AT_EMPTY_PATH|AT_SYMLINK_NOFOLLOW (pkg/sentry/syscalls/linux/sys_stat.go:53-54), "
                             "AT_NO_AUTOMOUNT included"),
                   ["pkg/sentry/syscalls/linux/sys_stat.go"]),
    "getrandom": (Rule("getrandom", "partial",
                       note="Supported in the table; GetRandom rejects flags other than GRND_NONBLOCK|GRND_RANDOM "
                            "with EINVAL (pkg/sentry/syscalls/linux/sys_random.go:48): GRND_INSECURE fails (Rust std "
                            "tries it first and falls back)"),
                  ["pkg/sentry/syscalls/linux/sys_random.go"]),
    "openat": (Rule("openat", "partial",
                    note="SupportedPoint in the table; O_TMPFILE is not supported on the overlay root runsc do uses "
                         "(observed: EISDIR; the VFS contract, pkg/sentry/vfs/filesystem.go:242, allows EOPNOTSUPP); "
                         "CPython's tempfile falls back to mkstemp+unlink"),
               ["pkg/sentry/vfs/filesystem.go"]),
}


def git_show(repo: Path, tag: str, path: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(repo), "show", f"{tag}:{path}"], check=True,
                              capture_output=True, text=True).stdout
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"import_gvisor: cannot read {path} at {tag} in {repo}: {exc.stderr.strip()}")


def commit_of(repo: Path, tag: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", f"{tag}^{{commit}}"], check=True,
                          capture_output=True, text=True).stdout.strip()


def split_args(rest: str) -> list[str]:
    """Top-level comma-separated arguments of a Go call's remaining text."""
    out, depth, cur, in_str = [], 0, "", False
    for ch in rest:
        if ch == '"' and not cur.endswith("\\"):
            in_str = not in_str
        if not in_str:
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth -= 1
            elif ch == "," and depth == 0:
                out.append(cur.strip())
                cur = ""
                continue
        cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def unquote(s: str) -> str:
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def parse_tables(text: str) -> dict[str, list[tuple[int, str, str, list[str]]]]:
    """arch -> [(number, kind, name, other arguments)] in file order."""
    tables: dict[str, list] = {}
    cur = None
    for lineno, line in enumerate(text.splitlines(), 1):
        m = BLOCK.match(line)
        if m:
            cur = tables.setdefault(m.group(1), [])
            continue
        if cur is None:
            continue
        if line.startswith("}"):
            cur = None
            continue
        m = ROW.match(line)
        if m:
            cur.append((int(m.group(1)), m.group(2), m.group(3), split_args(m.group(4)), lineno))
        elif re.match(r"^\s*\d+:\s*syscalls\.", line):
            raise SystemExit(f"import_gvisor: {TABLE}:{lineno}: a table row this importer cannot read: {line.strip()}")
    return tables


def rule_of(kind: str, name: str, args: list[str]) -> Rule:
    if kind in ("Supported", "SupportedPoint"):
        return Rule(name, "emulate", note=f"{kind}: the Sentry reimplements it")
    if kind in ("PartiallySupported", "PartiallySupportedPoint"):
        note = unquote(args[-2]) if len(args) >= 3 else ""
        return Rule(name, "partial", note=f"{kind}: {note or 'no note upstream'}")
    if kind in ("Error", "ErrorWithEvent"):
        m = re.fullmatch(r"linuxerr\.(E[A-Z0-9]+)|syserror\.(E[A-Z0-9]+)", args[0])
        if not m:
            raise SystemExit(f"import_gvisor: {name}: unreadable errno {args[0]!r}")
        errno = m.group(1) or m.group(2)
        note = unquote(args[1]) if len(args) > 1 else ""
        return Rule(name, "fail", errno=errno, note=f"{kind}: returns {errno}" + (f" - {note}" if note else ""))
    if kind == "CapError":
        cap = args[0].removeprefix("linux.")
        note = unquote(args[1]) if len(args) > 1 else ""
        return Rule(name, "fail", errno="EPERM",
                    note=f"CapError: EPERM without {cap}, ENOSYS with it" + (f" - {note}" if note else ""))
    raise SystemExit(f"import_gvisor: {name}: unknown row kind syscalls.{kind}")


# gVisor's table names that the Linux ABI tables spell otherwise
RENAMES = {"sysctl": "_sysctl", "pselect": "pselect6"}


def build(text: str, arch: str, overrides: dict) -> list[Rule]:
    rules = []
    for _nr, kind, name, args, _line in parse_tables(text)[arch]:
        name = RENAMES.get(name, name)
        rule = rule_of(kind, name, args)
        if name in overrides:
            rule = overrides[name][0]
        rules.append(rule)
    return rules


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True, help="a clone of google/gvisor")
    ap.add_argument("--tag", required=True, help="e.g. release-20221219.0")
    ap.add_argument("--release", required=True, help="the name the shim carries, e.g. 20221219")
    ap.add_argument("--out", type=Path, default=ROOT / "tables" / "shims")
    a = ap.parse_args()
    text = git_show(a.repo, a.tag, TABLE)
    commit = commit_of(a.repo, a.tag)
    overrides = {**PLATFORM, **OBSERVED}
    extra = sorted({p for _r, paths in overrides.values() for p in paths})
    prov = [f"{REPO}@{commit}:{p}" for p in [TABLE, "pkg/sentry/syscalls/syscalls.go", *extra]]
    for arch, stem, guest in (("AMD64", "gvisor", "linux-x86_64"), ("ARM64", "gvisor-arm64", "linux-aarch64")):
        name = f"{stem}@{a.release}"
        write_spec(a.out / f"{name}.toml", {
            "name": name, "guest": guest, "host": "gvisor-sentry", "host_kind": "opaque",
            "description": f"gVisor {a.tag} ({a.tag} of {REPO}), {arch} table, as runsc runs it on the ptrace platform",
            "provenance": prov,
            "default_note": "numbers missing from gVisor's table reach its Missing hook: ENOSYS"},
            build(text, arch, overrides), [f"{REPO}@{commit}:{TABLE}"],
            generator="tools/import_gvisor.py")


if __name__ == "__main__":
    main()
