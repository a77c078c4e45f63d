# SPDX-License-Identifier: MIT
"""Build the shipped shim specs (tables/shims/*.toml) from the abi-facts
compat tables (one CSV per real compat layer) and the Linuxulator maps.

Run once per refresh of the facts:

    python tools/import_compat.py [--facts /work/shared/abi-facts] [--out tables/shims]

The specs it writes say they were generated and from what; from then on
they are the source of truth and are edited by hand where upstream is
ambiguous.  Translate-versus-emulate decisions come from one declared
table, tables/shims/_equivalences.csv (with a reason per row), plus the
per-layer readings documented in tables/shims/README.md:

* FreeBSD Linuxulator: NOPROTO (native) -> translate to the same FreeBSD
  call; STD linux_* -> translate when FreeBSD has a call of the same
  meaning (same name or a declared equivalence), emulate when the row is
  declared ``emulate`` or FreeBSD has no such call; DUMMY / UNIMPL -> fail.
* NetBSD compat_linux: NOARGS -> the NetBSD native handler; STD
  linux_sys_* as for FreeBSD; UNIMPL -> fail ENOSYS.
* illumos lx: in-kernel lx_* handler -> translate to the illumos call of
  the same name when there is one, else emulate by the lx handler;
  NOSYS_USERMODE -> emulated by the user-mode lx library; other NOSYS
  reasons -> fail with ENOTSUP (Linux EOPNOTSUPP).
* gVisor: Supported -> emulated by the Sentry; PartiallySupported ->
  partial with gVisor's note; Error/ErrorWithEvent -> fail with the
  errno the table names; CapError -> fail EPERM (unprivileged container).
* WSL1: implemented -> emulated by lxcore.sys; stubbed -> stub;
  unimplemented -> fail ENOSYS.
"""
from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from shimsim import tables  # noqa: E402  (names are checked against the tables shimsim ships)
LIVE_KINDS = re.compile(r"^(STD|NOSTD|NOARGS|NOERR|SYS|common|64)\b")


@dataclass
class Rule:
    name: str
    do: str
    to: str | None = None
    by: list[str] = field(default_factory=list)
    errno: str | None = None
    note: str = ""
    reject: dict[str, str] = field(default_factory=dict)   # flag -> errno the handler fails the call with


# ---------------------------------------------------------------- facts
def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def live_names(facts: Path, abi: str) -> set[str]:
    """Syscall names the ABI really serves (not OBSOL/UNIMPL/COMPAT-only)."""
    names = set()
    for r in read_csv(facts / "syscalls" / f"{abi}.csv"):
        if r["name"] and LIVE_KINDS.match(r["kind"] or ""):
            names.add(r["name"])
    return names


ABI_OF_OS = {"linux": "linux-x86_64", "freebsd": "freebsd-amd64"}


class Names:
    """Members of one shimsim family; names upstream spells differently (FASYNC for
    O_ASYNC) are found by value through abi-facts' own constant file."""

    def __init__(self, facts: Path, os_name: str, family: str, file: str) -> None:
        self.fam = tables.load_abi(ABI_OF_OS[os_name]).family(family)
        self.values = {r["name"]: r["value"] for r in read_csv(facts / "consts" / os_name / f"{file}.csv")}

    def __contains__(self, name: str) -> bool:
        return self.fam.members.get(name) is not None

    def canon(self, name: str) -> str | None:
        if self.fam.members.get(name) is not None:
            return name
        raw = self.values.get(name)
        if raw is None:
            return None
        try:
            v = int(raw, 0)
        except ValueError:
            return None
        for n, val in self.fam.members.items():
            if val == v and self.fam.member(n).role == "":
                return n
        return None


def const_names(facts: Path, os_name: str, family: str) -> Names:
    return Names(facts, os_name, family, family)


def guest_names(abi: str) -> set[str]:
    return set(tables.load_abi(abi).by_name)


def provenance(facts: Path, keys: list[str]) -> list[str]:
    """repo@commit:path for each SOURCES.csv row whose upstream path is one of keys
    (an OS prefix and the path inside that OS's tree, e.g. freebsd/sys/kern/syscalls.master)."""
    rows = read_csv(facts / "syscalls" / "SOURCES.csv") + read_csv(facts / "consts" / "SOURCES.csv")
    out = []
    for key in keys:
        os_prefix, _, path = key.partition("/")
        for r in rows:
            if r["source"].split("/")[0] == os_prefix and r["path"].split("@")[0] == path:
                item = f"{r['repo']}@{r['commit']}:{r['path']}"
                if item not in out:
                    out.append(item)
    return out


def equivalences(guest_os: str, host_os: str) -> dict[str, tuple[str, list[str], str]]:
    """guest name -> (relation, host names, reason) from the declared table."""
    out = {}
    for r in read_csv(ROOT / "tables" / "shims" / "_equivalences.csv"):
        if r["guest_os"] == guest_os and r["host_os"] == host_os:
            out[r["guest"]] = (r["relation"], r["host"].split(), r["reason"])
    return out


# ---------------------------------------------------------------- layers
def classify_handler(name: str, handler_names: list[str], host_live: set[str],
                     eq: dict[str, tuple[str, list[str], str]], handler: str, native: bool) -> Rule:
    """Translate or emulate for a call the layer handles, with the reason in the note."""
    if name in eq:
        relation, hosts, reason = eq[name]
        hosts = [h for h in hosts if h in host_live]
        if relation == "translate" and hosts:
            return Rule(name, "translate", to=hosts[0], note=f"{handler}: {reason}")
        if relation == "emulate":
            return Rule(name, "emulate", by=hosts, note=f"{handler}: {reason}")
    versioned = {re.sub(r"^__|\d+$", "", h): h for h in sorted(host_live)}
    for cand in handler_names + [name] + [versioned.get(name, "")]:
        if cand in host_live:
            how = "native handler" if native else "argument remapping"
            return Rule(name, "translate", to=cand, note=f"{handler}: {how}")
    return Rule(name, "emulate", note=f"{handler}: no host call of the same name or a declared equivalent; the handler builds it")


def linuxulator(facts: Path, arch: str) -> tuple[list[Rule], dict]:
    host_live = live_names(facts, "freebsd-amd64")
    eq = equivalences("linux", "freebsd")
    rules = []
    for r in read_csv(facts / "compat" / f"freebsd-linuxulator-{arch}.csv"):
        name, status, handler, notes = r["guest_name"], r["status"], r["handler"], r["notes"]
        if not name:
            continue  # UNIMPL filler slot: no Linux syscall at this number
        if status == "unimplemented":
            rules.append(Rule(name, "fail", errno="ENOSYS", note=notes))
        elif status == "native":
            base = handler.removeprefix("sys_")
            rules.append(classify_handler(name, [base], host_live, eq, f"NOPROTO {handler}", True))
        else:
            rules.append(classify_handler(name, [], host_live, eq, f"STD {handler}", False))
            if "verify" in notes:
                rules[-1].note += f" ({notes})"
    return rules, {"guest": f"linux-{'x86_64' if arch == 'amd64' else 'aarch64'}",
                   "host": f"freebsd-{arch}"}


def netbsd(facts: Path) -> list[Rule]:
    host_live = live_names(facts, "netbsd-amd64")
    eq = equivalences("linux", "netbsd")
    rules = []
    for r in read_csv(facts / "compat" / "netbsd-compat_linux-amd64.csv"):
        name, status, handler, notes = r["guest_name"], r["status"], r["handler"], r["notes"]
        if not name:
            continue
        if status == "unimplemented":
            rules.append(Rule(name, "fail", errno="ENOSYS", note=notes))
            continue
        native = status == "native"
        cands = []
        if native:
            cands = [re.sub(r"^(compat_\d+_)?sys_", r"\1", handler), handler.removeprefix("sys_")]
        rule = classify_handler(name, cands, host_live, eq, f"{notes.split(';')[0]} {handler}", native)
        if "#if defined" in notes:
            rule.note += "; " + notes.split(";", 1)[1].strip()
        rules.append(rule)
    return rules


def illumos(facts: Path) -> list[Rule]:
    host_live = live_names(facts, "illumos-amd64")
    eq = equivalences("linux", "illumos")
    rules = []
    for r in read_csv(facts / "compat" / "illumos-lx-amd64.csv"):
        name, status, handler, notes = r["guest_name"], r["status"], r["handler"], r["notes"]
        if not name:
            continue
        if status == "unimplemented":
            rules.append(Rule(name, "fail", errno="EOPNOTSUPP",
                              note=f"{notes} (illumos ENOTSUP reaches the Linux guest as EOPNOTSUPP)"))
        elif status == "other":
            rules.append(Rule(name, "emulate", by=[], note="user-mode lx emulation library (NOSYS_USERMODE)"))
        else:
            base = handler.removeprefix("lx_")
            rules.append(classify_handler(name, [base], host_live, eq, f"in-kernel {handler}", False))
    return rules


GVISOR_ERR = re.compile(r"returns (E[A-Z0-9]+)")


def gvisor(facts: Path, arch: str) -> list[Rule]:
    rules = []
    for r in read_csv(facts / "compat" / f"gvisor-{arch}.csv"):
        name, status, handler, notes = r["guest_name"], r["status"], r["handler"], r["notes"]
        if not name:
            continue
        text = notes.removeprefix("gVisor ")
        if status == "compat":
            rules.append(Rule(name, "emulate", by=[], note=f"Sentry {handler}: {text}"))
        elif status == "partial":
            rules.append(Rule(name, "partial", note=f"Sentry {handler}: {text}"))
        else:
            m = GVISOR_ERR.search(notes)
            errno = m.group(1) if m else ("EPERM" if "CapError" in notes else "ENOSYS")
            rules.append(Rule(name, "fail", errno=errno, note=text))
    return rules


WSL_RANK = {"implemented": 0, "stubbed": 1, "unimplemented": 2}


def wsl1_rows(facts: Path) -> list[tuple[str, str, str]]:
    """One (name, status, notes) per x86_64 syscall.  Microsoft's list names a
    few calls twice (under two list names, or under two headings); the
    best-supported status wins, since one of the list names works."""
    best: dict[str, tuple[str, str]] = {}
    for r in read_csv(facts / "compat" / "wsl1-15014.csv"):
        if not r["guest_number"]:
            continue  # i386-only name in Microsoft's list: no x86_64 syscall
        name, status, notes = r["guest_name"], r["status"], r["notes"]
        old = best.get(name)
        if old is None or WSL_RANK[status] < WSL_RANK[old[0]]:
            best[name] = (status, notes or (old[1] if old else ""))
        elif old and notes and not old[1]:
            best[name] = (old[0], notes)
    return [(n, s, no) for n, (s, no) in best.items()]


# Microsoft's list names some calls only by their i386 large-file entry (STAT64, FSTATAT64,
# ...) and lists the x86_64 name as not implemented or not at all; a 64-bit ls could not
# have run on WSL1 otherwise.  These x86_64 calls are read as served by the same lxcore
# handler, with the note saying so (tests/test_shim_spec.py keeps them apart in the counts).
WSL_I386_EQUIV = {"stat64": "stat", "fstat64": "fstat", "lstat64": "lstat", "fstatat64": "newfstatat",
                  "fcntl64": "fcntl", "statfs64": "statfs", "fstatfs64": "fstatfs"}
ASSUMED = "assumed served by the lxcore handler of the i386 entry"


def wsl1(facts: Path) -> list[Rule]:
    rules = []
    i386_ok = {r["guest_name"] for r in read_csv(facts / "compat" / "wsl1-15014.csv")
               if not r["guest_number"] and r["status"] == "implemented"}
    rows = wsl1_rows(facts)
    listed = {n for n, _, _ in rows}
    for i386, x64 in WSL_I386_EQUIV.items():
        if x64 not in listed and i386 in i386_ok:
            rows.append((x64, "unimplemented", "not in the list"))
    for name, status, notes in rows:
        src = next((i for i, x in WSL_I386_EQUIV.items() if x == name and i in i386_ok), None)
        if status == "unimplemented" and src is not None:
            rules.append(Rule(name, "emulate", by=[],
                              note=f"{ASSUMED} {src.upper()} (list: {status}; {notes})"))
            continue
        suffix = f" ({notes})" if notes else ""
        if status == "implemented":
            rules.append(Rule(name, "emulate", by=[], note="lxcore.sys: implemented for at least one parameter combination" + suffix))
        elif status == "stubbed":
            rules.append(Rule(name, "stub", note="lxcore.sys: stubbed, returns success without doing the work" + suffix))
        else:
            rules.append(Rule(name, "fail", errno="ENOSYS", note="not implemented in build 15014" + suffix))
    return rules


# ---------------------------------------------------------------- maps
LINUX_IGNORED_MMAP = [
    ("MAP_DENYWRITE", {"ignore": "Linux itself ignores MAP_DENYWRITE (mm/mmap.c: ignored since 2.6)"}),
    ("MAP_EXECUTABLE", {"ignore": "Linux itself ignores MAP_EXECUTABLE (mm/mmap.c)"}),
]


LINUX_LEVELS = [
    (name, {"keep": f"socket levels are IP protocol numbers on the host too ({proto} = {num})"})
    for name, proto, num in (("SOL_IP", "IPPROTO_IP", 0), ("SOL_TCP", "IPPROTO_TCP", 6),
                             ("SOL_UDP", "IPPROTO_UDP", 17), ("SOL_IPV6", "IPPROTO_IPV6", 41),
                             ("SOL_ICMPV6", "IPPROTO_ICMPV6", 58), ("SOL_RAW", "IPPROTO_RAW", 255))
]


def linuxulator_maps(facts: Path) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Errno, signal and open-flag maps where they differ from identity by name."""
    lin_err = const_names(facts, "linux", "errno")
    bsd_err = const_names(facts, "freebsd", "errno")
    lin_sig = const_names(facts, "linux", "signals")
    bsd_sig = const_names(facts, "freebsd", "signals")
    out: dict[str, list[tuple[str, dict[str, str]]]] = {}

    def lossy_reason(note: str, a: str, b: str) -> str:
        return note or f"{a} has no same-named counterpart; upstream maps it to {b}"

    rows = []
    for r in read_csv(facts / "maps" / "linux-errno-to-freebsd.csv"):
        g, h = r["linux_name"], r["bsd_name"]
        if g in lin_err and h in bsd_err and g != h:
            rows.append((g, {"to": h, "lossy": lossy_reason(r["notes"], g, h)}))
    out["errno.to_host"] = rows
    rows = []
    for r in read_csv(facts / "maps" / "freebsd-errno-to-linux.csv"):
        h, g = r["bsd_name"], r["linux_name"]
        if h in bsd_err and g in lin_err and g != h:
            rows.append((h, {"to": g, "lossy": lossy_reason(r["notes"], h, g)}))
    out["errno.to_guest"] = rows
    rows = []
    for r in read_csv(facts / "maps" / "linux-signal-to-freebsd.csv"):
        g, h = r["linux_name"], r["freebsd_name"]
        if g not in lin_sig or g == h:
            continue
        if h in bsd_sig:
            rows.append((g, {"to": h, "lossy": lossy_reason(r["notes"], g, h)}))
        else:
            rows.append((g, {"emulated": r["notes"] or f"no {g} on FreeBSD"}))
    out["signals.to_host"] = rows
    rows = []
    for r in read_csv(facts / "maps" / "freebsd-signal-to-linux.csv"):
        h, g = r["freebsd_name"], r["linux_name"]
        if h not in bsd_sig or g == h:
            continue
        if g in lin_sig:
            rows.append((h, {"to": g, "lossy": lossy_reason(r["notes"], h, g)}))
        else:
            rows.append((h, {"drop": r["notes"] or f"no Linux equivalent of {h}"}))
    out["signals.to_guest"] = rows
    lin_open = const_names(facts, "linux", "open_flags")
    bsd_open = const_names(facts, "freebsd", "open_flags")
    rows = []
    for r in read_csv(facts / "maps" / "linux-open-to-freebsd.csv"):
        g, h = lin_open.canon(r["linux_flag"]), r["freebsd_flag"] and bsd_open.canon(r["freebsd_flag"])
        if g is None or any(k == g for k, _ in rows):
            continue
        note = r["notes"] + (f" (upstream name {r['linux_flag']})" if g != r["linux_flag"] else "")
        if not r["freebsd_flag"]:
            rows.append((g, {"drop": note}))
        elif h and h != g:
            rows.append((g, {"to": h, "note": note}))
    out["flags.open_flags"] = rows
    out["flags.mmap.flags"] = LINUX_IGNORED_MMAP
    out["flags.socket.level"] = LINUX_LEVELS
    return out


# ---------------------------------------------------------------- writer
def q(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rule_line(rule: Rule) -> str:
    parts = [f"do = {q(rule.do)}"]
    if rule.to:
        parts.append(f"to = {q(rule.to)}")
    if rule.by:
        parts.append("by = [" + ", ".join(q(b) for b in rule.by) + "]")
    if rule.errno:
        parts.append(f"errno = {q(rule.errno)}")
    if rule.reject:
        parts.append("reject = { " + ", ".join(f"{k} = {q(v)}" for k, v in rule.reject.items()) + " }")
    if rule.note:
        parts.append(f"note = {q(rule.note)}")
    key = rule.name if re.fullmatch(r"[A-Za-z0-9_-]+", rule.name) else q(rule.name)
    return f"{key} = {{ {', '.join(parts)} }}"


def write_spec(path: Path, head: dict, rules: list[Rule], sources: list[str],
               maps: dict[str, list[tuple[str, dict[str, str]]]] | None = None,
               generator: str | None = None) -> None:
    known = guest_names(head["guest"])
    skipped = [r.name for r in rules if r.name not in known]
    rules = [r for r in rules if r.name in known]
    lines = [
        "# SPDX-License-Identifier: MIT",
        (f"# Generated by {generator} from {', '.join(sources)}." if generator else
         f"# Generated by tools/import_compat.py from {', '.join(sources)} (abi-facts)."),
        "# Since generation this file is the source of truth: edit it here, with a note saying why.",
        "[shim]",
    ]
    for key in ("name", "description", "guest", "host", "host_kind"):
        if key in head:
            lines.append(f"{key} = {q(head[key])}")
    lines.append("provenance = [")
    lines += [f"  {q(p)}," for p in head["provenance"]]
    lines.append("]")
    lines.append(f"default = {q(head.get('default', 'fail'))}")
    lines.append(f"default_errno = {q(head.get('default_errno', 'ENOSYS'))}")
    if head.get("default_note"):
        lines.append(f"default_note = {q(head['default_note'])}")
    if skipped:
        lines.append(f"# upstream rows for names not in {head['guest']}: {' '.join(skipped)}")
    lines += ["", "[syscalls]"]
    lines += [rule_line(r) for r in rules]
    for section, rows in (maps or {}).items():
        if not rows:
            continue
        head_, _, fam = section.partition(".")
        lines += ["", f"[{head_}.{q(fam) if '.' in fam else fam}]"]
        for key, val in rows:
            body = ", ".join(f"{k} = {q(v)}" for k, v in val.items())
            lines.append(f"{key if re.fullmatch(r'[A-Za-z0-9_]+', key) else q(key)} = {{ {body} }}")
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", type=Path, default=Path("/work/shared/abi-facts"))
    ap.add_argument("--out", type=Path, default=ROOT / "tables" / "shims")
    a = ap.parse_args()
    facts, out = a.facts, a.out
    lx_prov = provenance(facts, ["freebsd/sys/amd64/linux/syscalls.master", "freebsd/sys/compat/linux/linux_dummy.c",
                                 "freebsd/sys/amd64/linux/linux_dummy_machdep.c", "freebsd/sys/x86/linux/linux_dummy_x86.c",
                                 "freebsd/sys/kern/syscalls.master", "freebsd/sys/compat/linux/linux_errno.inc",
                                 "freebsd/sys/compat/linux/linux_file.c", "freebsd/sys/compat/linux/linux.c__part1",
                                 "freebsd/sys/compat/linux/linux.c__part2"])
    maps = linuxulator_maps(facts)
    rules, ids = linuxulator(facts, "amd64")
    write_spec(out / "linuxulator.toml", {
        "name": "linuxulator", "guest": ids["guest"], "host": ids["host"], "provenance": lx_prov,
        "description": "FreeBSD's Linux binary compatibility layer (Linuxulator), amd64",
        "default_note": "numbers the Linux table does not use: nosys (ENOSYS)"},
        rules, ["compat/freebsd-linuxulator-amd64.csv", "maps/*.csv"], maps)
    arm_prov = provenance(facts, ["freebsd/sys/arm64/linux/syscalls.master", "freebsd/sys/compat/linux/linux_dummy.c",
                                  "freebsd/sys/arm64/linux/linux_dummy_machdep.c", "freebsd/sys/kern/syscalls.master",
                                  "freebsd/sys/compat/linux/linux_errno.inc", "freebsd/sys/compat/linux/linux_file.c",
                                  "freebsd/sys/compat/linux/linux.c__part1", "freebsd/sys/compat/linux/linux.c__part2"])
    rules, ids = linuxulator(facts, "arm64")
    write_spec(out / "linuxulator-arm64.toml", {
        "name": "linuxulator-arm64", "guest": ids["guest"], "host": ids["host"], "provenance": arm_prov,
        "description": "FreeBSD's Linux binary compatibility layer (Linuxulator), arm64",
        "default_note": "numbers the Linux table does not use: nosys (ENOSYS)"},
        rules, ["compat/freebsd-linuxulator-arm64.csv", "maps/*.csv"], maps)
    write_spec(out / "netbsd-compat-linux.toml", {
        "name": "netbsd-compat-linux", "guest": "linux-x86_64", "host": "netbsd-amd64",
        "description": "NetBSD compat_linux, amd64",
        "provenance": provenance(facts, ["netbsd/sys/compat/linux/arch/amd64/syscalls.master", "netbsd/sys/kern/syscalls.master"]),
        "default_note": "beyond the compat_linux table: ENOSYS"},
        netbsd(facts), ["compat/netbsd-compat_linux-amd64.csv"],
        {"flags.mmap.flags": LINUX_IGNORED_MMAP + [
            ("MAP_ANONYMOUS", {"to": "MAP_ANON", "note": "NetBSD spells it MAP_ANON; linux_sys_mmap translates it"})],
         "flags.socket.level": LINUX_LEVELS})
    write_spec(out / "illumos-lx.toml", {
        "name": "illumos-lx", "guest": "linux-x86_64", "host": "illumos-amd64",
        "description": "illumos lx brand (64-bit table lx_sysent64)",
        "provenance": provenance(facts, ["illumos/usr/src/uts/common/brand/lx/os/lx_syscall.c", "illumos/usr/src/uts/common/sys/syscall.h"]),
        "default_note": "numbers beyond lx_sysent64 (0..322) are rejected with ENOSYS"},
        illumos(facts), ["compat/illumos-lx-amd64.csv"], {"flags.mmap.flags": LINUX_IGNORED_MMAP,
                                                           "flags.socket.level": LINUX_LEVELS})
    gv_prov = provenance(facts, ["gvisor/pkg/sentry/syscalls/linux/linux64.go", "gvisor/pkg/sentry/syscalls/syscalls.go",
                                 "gvisor/pkg/sentry/syscalls/linux/error.go"])
    write_spec(out / "gvisor.toml", {
        "name": "gvisor", "guest": "linux-x86_64", "host": "gvisor-sentry", "host_kind": "opaque",
        "description": "gVisor's Sentry (a user-space Linux kernel), AMD64 table", "provenance": gv_prov,
        "default_note": "numbers missing from gVisor's table return ENOSYS"},
        gvisor(facts, "amd64"), ["compat/gvisor-amd64.csv"])
    write_spec(out / "gvisor-arm64.toml", {
        "name": "gvisor-arm64", "guest": "linux-aarch64", "host": "gvisor-sentry", "host_kind": "opaque",
        "description": "gVisor's Sentry (a user-space Linux kernel), ARM64 table", "provenance": gv_prov,
        "default_note": "numbers missing from gVisor's table return ENOSYS"},
        gvisor(facts, "arm64"), ["compat/gvisor-arm64.csv"])
    write_spec(out / "wsl1.toml", {
        "name": "wsl1", "guest": "linux-x86_64", "host": "windows-nt-lxcore", "host_kind": "opaque",
        "description": "Windows Subsystem for Linux 1 (lxcore.sys pico provider), Windows 10 build 15014",
        "provenance": provenance(facts, ["wsl1/LTP_Results/15014/Syscalls.txt"]),
        "default_note": "calls newer than build 15014's list: not implemented (ENOSYS)"},
        wsl1(facts), ["compat/wsl1-15014.csv"])


if __name__ == "__main__":
    main()
