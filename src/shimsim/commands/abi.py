# SPDX-License-Identifier: MIT
"""``shimsim abi``: inspect the ABI tables (syscalls, constants, signatures) and compare ABIs."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from shimsim import tables
from shimsim.commands._common import add_json, formatter, print_json
from shimsim.errors import ShimsimError

DESCRIPTION = ("Inspect the ABI tables: syscall numbers and statuses, argument signatures, constant "
               "families (errno, signals, open flags, ...), and what differs between two ABIs.")

EPILOG = """examples:
  shimsim abi list
  shimsim abi show linux-x86_64 openat
  shimsim abi show freebsd-amd64 499 --json
  shimsim abi const linux-aarch64 open_flags O_DIRECTORY
  shimsim abi const freebsd-amd64 errno
  shimsim abi const linux-x86_64 mmap.prot --decode 0x7
  shimsim abi diff linux-x86_64 linux-aarch64
  shimsim abi diff linux-x86_64 freebsd-amd64 --family open_flags --json
  shimsim abi check
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("abi", help="inspect ABI tables: syscalls, constants, signatures",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=formatter())
    s = p.add_subparsers(dest="abi_cmd", metavar="SUBCOMMAND", parser_class=type(p))
    s.required = True

    q = s.add_parser("list", help="list the ABIs (or the syscall classes / argument kinds)",
                     epilog="examples:\n  shimsim abi list\n  shimsim abi list --classes --json",
                     formatter_class=formatter())
    q.add_argument("--classes", action="store_true",
                   help="list the syscall class and argument kind vocabularies instead")
    add_json(q)
    q.set_defaults(func=cmd_list)

    q = s.add_parser("show", help="one syscall: number, status, signature, classes",
                     epilog="examples:\n  shimsim abi show linux-x86_64 openat\n"
                            "  shimsim abi show linux-aarch64 56 --json", formatter_class=formatter())
    q.add_argument("abi", metavar="ABI")
    q.add_argument("syscall", metavar="SYSCALL", help="name (or alias) or number")
    add_json(q)
    q.set_defaults(func=cmd_show)

    q = s.add_parser("const", help="constants of a family (or one constant)",
                     epilog="examples:\n  shimsim abi const linux-x86_64 errno EAGAIN\n"
                            "  shimsim abi const freebsd-amd64 open_flags --json\n"
                            "  shimsim abi const linux-x86_64 open_flags --decode 0x80241\n"
                            "  shimsim abi const linux-x86_64 open_flags --decode 0x80241 --to freebsd-amd64\n"
                            "  shimsim abi const darwin-x86_64 list     (families of that ABI)",
                     formatter_class=formatter())
    q.add_argument("abi", metavar="ABI")
    q.add_argument("family", metavar="FAMILY", help="family name, or 'list' to list families")
    q.add_argument("name", metavar="NAME", nargs="?", help="one constant")
    q.add_argument("--decode", metavar="VALUE", help="decode an integer into member names")
    q.add_argument("--to", metavar="ABI_B",
                   help="with --decode: translate the value to ABI_B by member name")
    add_json(q)
    q.set_defaults(func=cmd_const)

    q = s.add_parser("check", help="validate every table (all ABIs, families, signatures)",
                     epilog="examples:\n  shimsim abi check\n  shimsim abi check --root ./tables --json",
                     formatter_class=formatter())
    q.add_argument("--root", metavar="DIR", help="a table directory to check instead of the installed one")
    add_json(q)
    q.set_defaults(func=cmd_check)

    q = s.add_parser("diff", help="syscalls or constants that differ between two ABIs",
                     epilog="examples:\n  shimsim abi diff linux-x86_64 linux-i386\n"
                            "  shimsim abi diff linux-x86_64 freebsd-amd64 --family errno",
                     formatter_class=formatter())
    q.add_argument("abi_a", metavar="ABI_A")
    q.add_argument("abi_b", metavar="ABI_B")
    q.add_argument("--family", metavar="F", help="compare constant family F instead of syscalls")
    q.add_argument("--all", action="store_true",
                   help="include obsolete/unimplemented/reserved syscall slots")
    add_json(q)
    q.set_defaults(func=cmd_diff)


# --------------------------------------------------------------------------- output

def _print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], title: str = "") -> None:
    """Aligned table: rich on a terminal, plain whitespace-aligned text when piped."""
    cells = [[("" if c is None else str(c)) for c in r] for r in rows]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        t = Table(title=title or None, show_edge=False, header_style="bold")
        for h in headers:
            t.add_column(h)
        for r in cells:
            t.add_row(*r)
        Console().print(t)
        return
    if title:
        print(title)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    for r in cells:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def _fmt_value(v: int | None, kind: str) -> str:
    if v is None:
        return "unsupported"
    return hex(v) if kind == "flags" and v >= 0 else str(v)


def _parse_value(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ShimsimError(f"--decode expects an integer (decimal or 0x..), got {text!r}") from None


# --------------------------------------------------------------------------- list

def cmd_list(args: argparse.Namespace) -> int:
    if args.classes:
        if args.json:
            print_json({"classes": tables.CLASSES, "arg_kinds": tables.ARG_KINDS,
                        "return_kinds": tables.RETURN_KINDS})
        else:
            _print_table(["class", "meaning"], list(tables.CLASSES.items()), "syscall classes")
            print()
            _print_table(["kind", "meaning"], list(tables.ARG_KINDS.items()), "argument kinds")
        return 0
    out = []
    for name in tables.list_abis():
        abi = tables.load_abi(name)
        by_status: dict[str, int] = {s: 0 for s in tables.STATUSES}
        for s in abi.syscalls:
            by_status[s.status] += 1
        out.append({
            "name": name, "os": abi.os, "arch": abi.arch, "pointer_bits": abi.pointer_bits,
            "syscalls": len(abi.syscalls), **by_status,
            "signatures": sum(1 for s in abi.syscalls if s.args is not None),
            "families": len(abi.family_names()), "doc": abi.spec.get("doc", ""),
        })
    if args.json:
        print_json({"abis": out})
        return 0
    _print_table(
        ["abi", "os", "arch", "bits", "slots", "impl", "obsolete", "unimpl", "reserved", "sigs"],
        [[a["name"], a["os"], a["arch"], a["pointer_bits"], a["syscalls"], a["implemented"],
          a["obsolete"], a["unimplemented"], a["reserved"], a["signatures"]] for a in out])
    return 0


# --------------------------------------------------------------------------- show

def cmd_show(args: argparse.Namespace) -> int:
    abi = tables.load_abi(args.abi)
    sc = abi.syscall(args.syscall)
    obj = sc.to_json(abi.name)
    if args.json:
        print_json(obj)
        return 0
    label = sc.name or f"#{sc.number}"
    print(f"{abi.name} {label} = {sc.number}  ({sc.status}; upstream kind {sc.kind}"
          + (f"; entry {sc.entry}" if sc.entry else "") + ")")
    if sc.aliases:
        print(f"aliases: {', '.join(sc.aliases)}")
    if sc.note:
        print(f"note: {sc.note}")
    if sc.args is None:
        print("signature: not recorded for this syscall")
        return 0
    sig = ", ".join(
        f"{a.name}: {a.kind}" + (f":{a.family}" if a.family and a.kind in ("flags", "enum") else "")
        + (f":{a.detail}" if a.detail else "") for a in sc.args)
    ret = sc.returns + (f":{sc.returns_family}" if sc.returns_family else "")
    print(f"signature: {sc.name}({sig}) -> {ret}")
    print(f"classes: {', '.join(sc.classes) or '-'}")
    return 0


# --------------------------------------------------------------------------- const

def cmd_const(args: argparse.Namespace) -> int:
    abi = tables.load_abi(args.abi)
    if args.family == "list" and args.name is None:
        names = abi.family_names()
        rows = []
        for n in names:
            f = abi.family(n)
            rows.append({"family": n, "kind": f.kind, "translatable": f.translatable,
                         "members": sum(1 for v in f.members.values() if v is not None),
                         "unsupported": sum(1 for v in f.members.values() if v is None),
                         "doc": f.doc})
        if args.json:
            print_json({"abi": abi.name, "families": rows})
        else:
            _print_table(["family", "kind", "members", "unsupported", "doc"],
                         [[r["family"], r["kind"], r["members"], r["unsupported"],
                           r["doc"] if len(r["doc"]) < 70 else r["doc"][:67] + "..."] for r in rows])
        return 0
    fam = abi.family(args.family)
    if args.to is not None and args.decode is None:
        raise ShimsimError("--to needs --decode VALUE")
    if args.decode is not None:
        v = _parse_value(args.decode)
        names, rest = fam.decode_parts(v)
        obj: dict = {"abi": abi.name, "family": fam.name, "value": v, "names": names,
                     "unknown": rest}
        text = "|".join(fam.decode(v))
        if args.to is not None:
            other = tables.load_abi(args.to)
            t = fam.translate(v, other.family(fam.name))
            obj["to"] = {"abi": other.name, "value": t.value, "unsupported": list(t.unsupported),
                         "unknown": t.unknown, "exact": t.exact}
            kind = fam.kind if fam.kind != "set" else "flags"
            text += f"  ->  {other.name}: {_fmt_value(t.value, kind)}"
            if t.unsupported:
                text += f"  (unsupported there: {', '.join(t.unsupported)})"
            if t.unknown:
                text += f"  (unknown bits {hex(t.unknown)})"
        if args.json:
            print_json(obj)
        else:
            print(text)
        return 0
    if args.name is not None:
        m = fam.member(args.name)
        obj = {"abi": abi.name, "family": fam.name, "name": m.name, "value": m.value,
               "supported": m.value is not None}
        if m.role:
            obj["role"] = m.role
        if m.alias_of:
            obj["alias_of"] = m.alias_of
        if m.note:
            obj["note"] = m.note
        if args.json:
            print_json(obj)
        else:
            kind = fam.kind if fam.kind != "set" else "flags"
            extra = f"  ({m.note})" if m.note else ""
            print(f"{m.name} = {_fmt_value(m.value, kind)}"
                  + (f" = {m.value}" if m.value is not None and kind == "flags" and m.value > 9 else "")
                  + extra)
        return 0
    if args.json:
        print_json(fam.to_json(abi.name))
        return 0
    rows = []
    for name in fam.members:
        m = fam.member(name)
        kind = _kind_of(abi, fam, name)
        rows.append([name, _fmt_value(m.value, kind),
                     m.role + (f":{m.alias_of}" if m.alias_of else ""), m.note])
    _print_table(["name", "value", "role", "note"], rows,
                 f"{abi.name} {fam.name} ({fam.kind}): {fam.doc}")
    return 0


def _kind_of(abi: tables.ABI, fam: tables.Family, name: str) -> str:
    if fam.kind != "set":
        return fam.kind
    for g in fam.groups:
        if name in abi.family(g).members:
            return abi.family(g).kind
    return "enum"


# --------------------------------------------------------------------------- check

def cmd_check(args: argparse.Namespace) -> int:
    """Load everything strictly; the first problem is an InputError naming file:line (exit 2)."""
    import pathlib

    root = pathlib.Path(args.root) if args.root else None
    if root is not None and not (root / "abis.toml").is_file():
        raise ShimsimError(f"{root}: not a table directory (no abis.toml)")
    t = tables.Tables(root)
    counts = t.validate_all()
    if args.json:
        print_json({"root": str(t.root), "ok": True, **counts})
    else:
        print(f"{t.root}: ok: {counts['abis']} ABIs, {counts['syscalls']} syscall slots, "
              f"{counts['signatures']} with signatures, {counts['families']} families, "
              f"{counts['constants']} constants")
    return 0


# --------------------------------------------------------------------------- diff

def cmd_diff(args: argparse.Namespace) -> int:
    a = tables.load_abi(args.abi_a)
    b = tables.load_abi(args.abi_b)
    if args.family:
        return _diff_family(a, b, args)
    def pick(abi: tables.ABI) -> dict[str, tables.Syscall]:
        return {s.name: s for s in abi.syscalls
                if s.name and (args.all or s.status == "implemented")}
    sa, sb = pick(a), pick(b)
    only_a = sorted(set(sa) - set(sb), key=lambda n: sa[n].number)
    only_b = sorted(set(sb) - set(sa), key=lambda n: sb[n].number)
    both = sorted(set(sa) & set(sb), key=lambda n: sa[n].number)
    differ = [n for n in both if sa[n].number != sb[n].number or sa[n].status != sb[n].status]
    same = len(both) - len(differ)
    obj = {
        "a": a.name, "b": b.name, "what": "syscalls",
        "only_a": [{"name": n, "number": sa[n].number} for n in only_a],
        "only_b": [{"name": n, "number": sb[n].number} for n in only_b],
        "differ": [{"name": n, "a": sa[n].number, "b": sb[n].number,
                    "a_status": sa[n].status, "b_status": sb[n].status} for n in differ],
        "same": same,
    }
    if args.json:
        print_json(obj)
        return 0
    print(f"{a.name} vs {b.name}: {len(only_a)} only in {a.name}, {len(only_b)} only in "
          f"{b.name}, {len(differ)} differ, {same} identical")
    rows = ([[n, sa[n].number, "-"] for n in only_a] + [[n, "-", sb[n].number] for n in only_b]
            + [[n, sa[n].number, sb[n].number] for n in differ])
    if rows:
        _print_table(["syscall", a.name, b.name], rows)
    return 0


def _diff_family(a: tables.ABI, b: tables.ABI, args: argparse.Namespace) -> int:
    fa, fb = a.family(args.family), b.family(args.family)
    ma = {n: v for n, v in fa.members.items() if v is not None}
    mb = {n: v for n, v in fb.members.items() if v is not None}
    only_a = [n for n in ma if n not in mb]
    only_b = [n for n in mb if n not in ma]
    differ = [n for n in ma if n in mb and ma[n] != mb[n]]
    same = sum(1 for n in ma if n in mb and ma[n] == mb[n])
    obj = {
        "a": a.name, "b": b.name, "what": "family", "family": fa.name,
        "only_a": [{"name": n, "value": ma[n]} for n in only_a],
        "only_b": [{"name": n, "value": mb[n]} for n in only_b],
        "differ": [{"name": n, "a": ma[n], "b": mb[n]} for n in differ],
        "same": same,
    }
    if args.json:
        print_json(obj)
        return 0
    print(f"{fa.name}: {a.name} vs {b.name}: {len(only_a)} only in {a.name}, {len(only_b)} only in "
          f"{b.name}, {len(differ)} differ, {same} identical")
    rows = ([[n, _fmt_value(ma[n], _kind_of(a, fa, n)), "-"] for n in only_a]
            + [[n, "-", _fmt_value(mb[n], _kind_of(b, fb, n))] for n in only_b]
            + [[n, _fmt_value(ma[n], _kind_of(a, fa, n)), _fmt_value(mb[n], _kind_of(b, fb, n))]
               for n in differ])
    if rows:
        _print_table(["name", a.name, b.name], rows)
    return 0


__all__ = ["register"]
