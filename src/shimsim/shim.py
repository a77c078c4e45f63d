# SPDX-License-Identifier: MIT
"""Shim specs: load, validate against both ABIs, and compile to flat arrays.

A spec (TOML, format in tables/shims/README.md) says per guest syscall what a
compat layer does with it.  ``load_spec`` reads and checks the shape;
``compile_shim`` resolves every name through the guest and host ABIs (an
unknown syscall, errno, signal or flag is an InputError naming the spec file
and the line of the offending key) and produces a ``CompiledShim``: plain
Python lists indexed by guest syscall number, which the Python replay uses
directly and ``CompiledShim.c()`` packs into the ``ss_shim`` struct of the C
core.  Both engines therefore run on the very same compiled tables.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from shimsim import csvtable, resources, tables
from shimsim.errors import InputError, ShimsimError, UnknownName

# Outcome codes, ordered worst first so that "worst seen" is a minimum (shimsim.codes).
from shimsim.codes import (EMULATED, FAILED, FAKED, NONE, OUTCOME_NAMES, PARTIAL,  # noqa: E402,F401
                           STUBBED, TRANSLATED, UNKNOWN)

RULE_OUTCOME = {"translate": TRANSLATED, "emulate": EMULATED, "partial": PARTIAL,
                "fail": FAILED, "stub": STUBBED, "fake": FAKED}
RULE_KEYS = {"do", "to", "by", "errno", "note", "flags", "reject"}
REJECT_DOS = ("translate", "emulate", "partial")   # handlers that run, and check their flags
SHIM_KEYS = {"name", "description", "guest", "host", "host_kind", "provenance", "default",
             "default_errno", "default_note", "generated", "variants"}
MAP_KEYS = {"to", "drop", "ignore", "keep", "lossy", "emulated", "note"}
ANY = "*"


def shim_dir() -> Path:
    return resources.table_path("shims")


def list_shims() -> list[str]:
    """Names of the shipped shims (tables/shims/*.toml; files starting with _ are data)."""
    return sorted(p.stem for p in shim_dir().glob("*.toml") if not p.name.startswith("_"))


# --------------------------------------------------------------------------- spec

@dataclass
class MapEntry:
    key: str
    to: str | None
    drop: str | None
    lossy: str | None
    emulated: str | None
    note: str
    line: int | None
    ignore: str | None = None   # flags only: the guest kernel itself ignores the bit
    keep: str | None = None     # flags only: the value passes unchanged (same number on the host)


@dataclass
class Rule:
    name: str
    do: str
    to: str | None
    by: list[str]
    errno: str | None
    note: str
    flags: dict[int, str]
    line: int | None
    # flag name -> guest errno: the layer's handler fails a call carrying that flag with that errno
    reject: dict[str, str] = field(default_factory=dict)


@dataclass
class Spec:
    path: str
    name: str
    description: str
    guest: str
    host: str
    host_kind: str              # "abi" or "opaque" (gVisor's Sentry, WSL1's lxcore: no ABI table)
    provenance: list[str]
    default: str
    default_errno: str
    default_note: str
    rules: dict[str, Rule]
    errno_to_host: dict[str, MapEntry]
    errno_to_guest: dict[str, MapEntry]
    signals_to_host: dict[str, MapEntry]
    signals_to_guest: dict[str, MapEntry]
    flags: dict[str, dict[str, MapEntry]]
    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    # other guest ABI -> shipped spec of the same layer for it (FreeBSD's linux32 module runs
    # linux-i386 guests next to the linux-x86_64 Linuxulator)
    variants: dict[str, str] = field(default_factory=dict)

    def line(self, section: str, key: str | None = None) -> int | None:
        return self.lines.get((section, key or ""))

    def err(self, section: str, key: str | None, msg: str) -> InputError:
        return InputError(self.path, self.line(section, key), msg)


_SECTION_RE = re.compile(r"^\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$")
_KEY_RE = re.compile(r'^\s*("([^"]*)"|[A-Za-z0-9_.-]+)\s*=')


def _line_index(text: str) -> dict[tuple[str, str], int]:
    """(section, key) -> line number, so errors can point at the key that is wrong.
    A section header itself is indexed under key ''."""
    out: dict[tuple[str, str], int] = {}
    section = ""
    for lineno, raw in enumerate(text.splitlines(), 1):
        m = _SECTION_RE.match(raw)
        if m and not raw.lstrip().startswith("[["):
            section = m.group(1).replace('"', "")
            out.setdefault((section, ""), lineno)
            continue
        m = _KEY_RE.match(raw)
        if m:
            key = m.group(2) if m.group(2) is not None else m.group(1)
            out.setdefault((section, key), lineno)
    return out


def resolve_spec_path(name_or_path: str) -> Path:
    """A shipped shim name, or a path to a spec file."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or "/" in name_or_path or p.exists():
        if not p.exists():
            raise ShimsimError(f"shim spec {name_or_path}: no such file")
        return p
    cand = shim_dir() / f"{name_or_path}.toml"
    if not cand.exists():
        target = release_aliases().get(name_or_path)
        if target is None:
            raise UnknownName("shim", name_or_path, list_shims() + sorted(release_aliases()))
        cand = shim_dir() / f"{target}.toml"
    return cand


def release_aliases() -> dict[str, str]:
    """Other names of shipped shims (tables/shims/_releases.toml): linuxulator@freebsd-15.0 is
    linuxulator, the layer's newest release."""
    path = shim_dir() / "_releases.toml"
    if not path.exists():
        return {}
    return dict(tomllib.loads(path.read_text(encoding="utf-8")).get("alias", {}))


def load_spec(name_or_path: str) -> Spec:
    path = resolve_spec_path(name_or_path)
    display = str(path) if not str(path).startswith(str(shim_dir())) else f"tables/shims/{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(display, None, f"cannot read: {exc.strerror}") from None
    return parse_spec(text, display)


def parse_spec(text: str, display: str) -> Spec:
    """Check the shape of a spec (names are checked later, against the ABIs)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        raise InputError(display, int(m.group(1)) if m else None, f"bad TOML: {exc}") from None
    lines = _line_index(text)

    def err(section: str, key: str | None, msg: str) -> InputError:
        return InputError(display, lines.get((section, key or "")), msg)

    unknown_sections = set(data) - {"shim", "syscalls", "errno", "signals", "flags"}
    if unknown_sections:
        s = sorted(unknown_sections)[0]
        raise err(s, None, f"unknown section [{s}] (expected shim, syscalls, errno, signals, flags)")
    head = data.get("shim")
    if not isinstance(head, dict):
        raise InputError(display, None, "missing [shim] section (name, guest, host, provenance, default)")
    for k in head:
        if k not in SHIM_KEYS:
            raise err("shim", k, f"unknown key {k!r} in [shim] (expected one of {', '.join(sorted(SHIM_KEYS))})")
    for k in ("name", "guest", "host"):
        if not isinstance(head.get(k), str) or not head[k]:
            raise err("shim", k if k in head else None, f"[shim] needs a non-empty string {k!r}")
    prov = head.get("provenance")
    if not isinstance(prov, list) or not prov or not all(isinstance(p, str) and p for p in prov):
        raise err("shim", "provenance" if "provenance" in head else None,
                  "[shim] needs provenance = [\"repo@commit:path\", ...] (at least one)")
    default = head.get("default", "fail")
    if default not in RULE_OUTCOME:
        raise err("shim", "default", f"default {default!r} is not one of {', '.join(RULE_OUTCOME)}")
    host_kind = head.get("host_kind", "abi")
    if host_kind not in ("abi", "opaque", "bare"):
        raise err("shim", "host_kind", "host_kind must be 'abi', 'opaque' or 'bare'")
    if host_kind == "opaque" and default == "translate":
        raise err("shim", "default", "an opaque host has no syscall table to translate to")
    if host_kind == "bare":
        # no layer at all: the named host's own loader and syscall entry meet any guest ABI
        if head["guest"] != ANY or head["host"] == ANY:
            raise err("shim", "host_kind", "a bare host (no layer) takes guest = \"*\" and a named host ABI")
        if data.get("syscalls"):
            raise err("syscalls", None, "a bare host has no rules: its kernel's own table decides every call")
    elif (head["guest"] == ANY) != (head["host"] == ANY):
        raise err("shim", "guest", "guest and host are either both '*' (bound to the trace) or both named")
    variants = head.get("variants", {})
    if not isinstance(variants, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                                 for k, v in variants.items()):
        raise err("shim", "variants", "variants = { GUEST-ABI = \"shim name\", ... } (strings)")
    if head["guest"] in variants:
        raise err("shim", "variants", f"variants names the spec's own guest ABI {head['guest']}")
    rules = {}
    sysc = data.get("syscalls", {})
    if not isinstance(sysc, dict):
        raise err("syscalls", None, "[syscalls] must be a table of name = { do = ... }")
    for name, body in sysc.items():
        rules[name] = _parse_rule(name, body, host_kind, err)
    errno = data.get("errno", {})
    signals = data.get("signals", {})
    for sec_name, sec in (("errno", errno), ("signals", signals)):
        extra = set(sec) - {"to_host", "to_guest"}
        if extra:
            raise err(sec_name, None, f"[{sec_name}] has only to_host and to_guest subtables, not {sorted(extra)[0]!r}")
    flags = {}
    for fam, body in data.get("flags", {}).items():
        flags[fam] = _parse_map(f"flags.{fam}", body, err)
    return Spec(
        path=display, name=head["name"], description=head.get("description", ""),
        guest=head["guest"], host=head["host"], host_kind=host_kind, provenance=prov,
        default=default, default_errno=head.get("default_errno", "ENOSYS"),
        default_note=head.get("default_note", ""), rules=rules,
        errno_to_host=_parse_map("errno.to_host", errno.get("to_host", {}), err),
        errno_to_guest=_parse_map("errno.to_guest", errno.get("to_guest", {}), err),
        signals_to_host=_parse_map("signals.to_host", signals.get("to_host", {}), err),
        signals_to_guest=_parse_map("signals.to_guest", signals.get("to_guest", {}), err),
        flags=flags, lines=lines, variants=dict(variants),
    )


def for_guest(spec: Spec, abi: str) -> Spec:
    """The spec of this layer that runs ABI's guests: SPEC itself, or the variant it names for ABI
    (linuxulator names linuxulator-linux32 for linux-i386).  A variant must be for that guest ABI."""
    if spec.guest == ANY or abi == spec.guest or abi not in spec.variants:
        return spec
    other = load_spec(spec.variants[abi])
    if other.guest != abi:
        raise InputError(spec.path, spec.line("shim", "variants"),
                         f"variant {spec.variants[abi]} for {abi} has guest ABI {other.guest}")
    return other


def _parse_rule(name: str, body: Any, host_kind: str, err) -> Rule:
    if not isinstance(body, dict):
        raise err("syscalls", name, f"rule for {name} must be an inline table {{ do = ... }}")
    for k in body:
        if k not in RULE_KEYS:
            raise err("syscalls", name, f"rule for {name}: unknown key {k!r} (expected {', '.join(sorted(RULE_KEYS))})")
    do = body.get("do")
    if do not in RULE_OUTCOME:
        raise err("syscalls", name, f"rule for {name}: do = {do!r} is not one of {', '.join(RULE_OUTCOME)}")
    to = body.get("to")
    if do == "translate" and host_kind == "abi" and to is None:
        to = name
    if to is not None and (not isinstance(to, str) or host_kind == "opaque" or do not in ("translate", "partial")):
        raise err("syscalls", name, f"rule for {name}: 'to' names a host syscall and only fits translate/partial on an ABI host")
    if do == "translate" and host_kind == "opaque":
        raise err("syscalls", name, f"rule for {name}: an opaque host cannot translate; use emulate")
    by = body.get("by", [])
    if isinstance(by, str):
        by = [by]
    if not isinstance(by, list) or not all(isinstance(b, str) for b in by):
        raise err("syscalls", name, f"rule for {name}: 'by' is a list of host syscall names")
    errno = body.get("errno")
    if errno is not None and do != "fail":
        raise err("syscalls", name, f"rule for {name}: 'errno' only fits do = \"fail\"")
    if do == "partial" and not body.get("note"):
        raise err("syscalls", name, f"rule for {name}: partial needs a note saying which restriction")
    fl = body.get("flags", {})
    if not isinstance(fl, dict):
        raise err("syscalls", name, f"rule for {name}: flags = {{ ARGINDEX = \"family\" }}")
    flags = {}
    for k, v in fl.items():
        if not k.isdigit() or not isinstance(v, str) or int(k) > 5:
            raise err("syscalls", name, f"rule for {name}: flags keys are argument indexes 0..5 and values family names")
        flags[int(k)] = v
    if len(flags) > 4:
        raise err("syscalls", name, f"rule for {name}: at most 4 flag arguments")
    rej = body.get("reject", {})
    if not isinstance(rej, dict) or not all(isinstance(k, str) and isinstance(v, str) and v for k, v in rej.items()):
        raise err("syscalls", name, f"rule for {name}: reject = {{ FLAG = \"ERRNO\", ... }} (the errno the "
                                    "handler fails a call carrying FLAG with)")
    if rej and do not in REJECT_DOS:
        raise err("syscalls", name, f"rule for {name}: reject only fits a handler that runs "
                                    f"(do = {', '.join(REJECT_DOS)}), not do = {do!r}")
    return Rule(name, do, to, by, errno, str(body.get("note", "")), flags, None, dict(rej))


def _parse_map(section: str, body: Any, err) -> dict[str, MapEntry]:
    if not isinstance(body, dict):
        raise err(section, None, f"[{section}] must be a table of NAME = {{ to = ... }}")
    out = {}
    for key, val in body.items():
        if isinstance(val, str):
            val = {"to": val}
        if not isinstance(val, dict) or set(val) - MAP_KEYS:
            raise err(section, key, f"[{section}] {key}: expected {{ to = NAME [, lossy = REASON] }}, "
                                    "{ drop = REASON }, { ignore = REASON }, { keep = REASON } or { emulated = REASON }")
        kinds = [k for k in ("to", "drop", "emulated", "ignore", "keep") if k in val]
        if len(kinds) != 1:
            raise err(section, key, f"[{section}] {key}: exactly one of to, drop, ignore, keep, emulated")
        if ("ignore" in val or "keep" in val) and not section.startswith("flags."):
            raise err(section, key, f"[{section}] {key}: ignore and keep only fit flag maps")
        for k in ("drop", "ignore", "keep", "lossy", "emulated"):
            if k in val and (not isinstance(val[k], str) or not val[k].strip()):
                raise err(section, key, f"[{section}] {key}: {k} needs the reason as text")
        out[key] = MapEntry(key, val.get("to"), val.get("drop"), val.get("lossy"), val.get("emulated"),
                            val.get("note", ""), None, val.get("ignore"), val.get("keep"))
    return out


def rule_key(spec: Spec, sc: Any) -> str | None:
    """The spec key naming syscall SC: its table name or one of its aliases (newfstat for fstat)."""
    if sc.name in spec.rules:
        return sc.name
    return next((a for a in sc.aliases if a in spec.rules), None)


# --------------------------------------------------------------------------- fallbacks

IMPLEMENTERS = ("glibc", "musl", "go", "rust-std", "cpython", "openjdk", "node", "libuv", "openssl",
                "systemd", "coreutils", "kernel")
UNCONFIRMED = 0x4000      # fallback id bit: a row would rescue, but the caller is not identified
_VERSION = r"[0-9]+(?:\.[0-9]+)*"


def _vtuple(v: str) -> tuple[int, ...]:
    return tuple(int(x) for x in v.split(".") if x.isdigit())


@dataclass(frozen=True)
class Fallback:
    syscall: str
    errnos: tuple[str, ...]        # empty: any errno ('*')
    targets: tuple[str, ...]       # empty: the failure is tolerated without another call
    source: str
    note: str
    line: int
    implementer: str = "kernel"
    versions: str = "*"

    def any_errno(self) -> bool:
        return not self.errnos

    def holds_for(self, version: str | None) -> bool | None:
        """Whether the row holds for this implementer version (None: version unknown)."""
        spec = self.versions
        if spec == "*":
            return True
        if version is None:
            return None
        v = _vtuple(version)
        if spec.startswith(">="):
            return v >= _vtuple(spec[2:])
        if spec.startswith("<"):
            return v < _vtuple(spec[1:])
        lo, _, hi = spec.partition("-")
        return (not lo or v >= _vtuple(lo)) and (not hi or v[:len(_vtuple(hi))] <= _vtuple(hi))

    def who(self) -> str:
        from shimsim.elf.runtime import DISPLAY
        name = DISPLAY.get(self.implementer, self.implementer)
        return name + ("" if self.versions == "*" else f" {self.versions}")


def load_fallbacks(path: Path | None = None) -> list[Fallback]:
    """tables/fallbacks.csv: known retry chains of libcs and language runtimes, each with its implementer."""
    path = path or resources.table_path("fallbacks.csv")
    header = ("syscall", "errnos", "fallback", "implementer", "versions", "source", "note")
    table = csvtable.read(path, header, resources.display(path), strip=False)
    vrx = re.compile(rf"^(\*|>={_VERSION}|<{_VERSION}|{_VERSION}-(?:{_VERSION})?)$")
    out = []
    for row in table:
        sc, errs, fb, impl, vers, src, note = row.cells
        if not src.strip():
            raise table.error(row.line, "every fallback needs its source")
        if "@" not in src or ":" not in src.split("@", 1)[1]:
            raise table.error(row.line, f"source {src!r}: expected repo@commit:path")
        if impl not in IMPLEMENTERS:
            raise table.error(row.line, f"implementer {impl!r}: expected one of {', '.join(IMPLEMENTERS)}")
        if not vrx.match(vers):
            raise table.error(row.line, f"versions {vers!r}: expected '*', '>=X', '<X' or 'X-Y'")
        errnos = () if errs.strip() == "*" else tuple(e for e in errs.split("|") if e)
        if not errnos and errs.strip() != "*":
            raise table.error(row.line, "errnos: give the errnos that trigger the fallback, or '*' for any")
        out.append(Fallback(sc, errnos, tuple(t for t in fb.split("|") if t and t != "-"), src, note, row.line,
                            impl, vers))
    return out


# --------------------------------------------------------------------------- compiled form

@dataclass
class FlagMap:
    """One guest constant family mapped onto the host, for one shim.

    members: (name, guest value, host value, supported); steps: the order in
    which a numeric value is decomposed, as (mask, value, member) triples:
    a step applies when none of its mask bits were consumed yet and
    value & mask == step value (multi-bit fields such as the access mode
    first, then the widest bit groups, so O_SYNC wins over O_DSYNC)."""

    family: str
    is_enum: bool
    members: list[tuple[str, int, int, bool]]
    by_name: dict[str, int]
    steps: list[tuple[int, int, int]]
    reasons: dict[str, str]
    # a reject map (shim rule 'reject'): members the handler rejects are the unsupported ones,
    # and a call carrying one fails with this guest errno; 0 for a translation map
    reject: int = 0


@dataclass
class CompiledShim:
    spec: Spec
    guest: Any                      # tables.ABI
    host: Any | None                # tables.ABI, None for an opaque host
    host_name: str
    nsys: int
    outcome: list[int]
    host_nr: list[int]
    fail_err: list[int]
    fallback: list[int]             # per guest number, for a caller not identified (UNCONFIRMED bit set)
    progs: dict[int, list[tuple[int, int]]]
    fmaps: list[FlagMap]
    errno_rt: list[int]
    sig_rt: list[int]
    fallbacks: list[Fallback]
    notes: dict[int, str]
    listed: dict[str, int]          # rule outcome counts over the listed guest syscalls
    unlisted: int
    fallback_rows: dict[int, list[int]] = field(default_factory=dict)  # guest nr -> rows that would rescue
    bare: Any = None                # bare.BareHost: no layer, the host kernel meets the guest directly
    # guest nr -> [(argument, reject fmap, errno)]: flags the layer's handler rejects (rule 'reject')
    rejects: dict[int, list[tuple[int, int, int]]] = field(default_factory=dict)
    _c: Any = None

    @property
    def name(self) -> str:
        return self.spec.name

    def syscall_name(self, nr: int) -> str:
        s = self.guest.by_number.get(nr)
        return s.name if s else f"#{nr}"

    def fallback_text(self, fid: int) -> str:
        fb = self.fallbacks[fid & ~UNCONFIRMED]
        tgt = " or ".join(fb.targets) if fb.targets else "tolerated"
        if fid & UNCONFIRMED:
            return f"if the caller falls back as {fb.who()} does: {fb.syscall} -> {tgt} ({fb.source})"
        return f"fallback {fb.syscall} -> {tgt} by {fb.who()} ({fb.source})"

    def fallback_for(self, nr: int, caller) -> int:
        """The fallback id for guest call NR made by CALLER (a callers.Caller, None: not
        identified): a row whose implementer the caller carries, UNCONFIRMED|row when only
        an unidentified caller could be rescued, -1 when nothing rescues it."""
        rows = self.fallback_rows.get(nr)
        if not rows:
            return -1
        maybe = -1
        for fid in rows:
            fb = self.fallbacks[fid]
            ok = True if fb.implementer == "kernel" else (None if caller is None else caller.implements(fb))
            if ok:
                return fid
            if ok is None and maybe < 0:
                maybe = fid | UNCONFIRMED
        return maybe

    def c(self):
        """The ss_shim struct for the C core (built once, arrays kept alive here)."""
        if self._c is None:
            from shimsim.engine import c
            self._c = c.pack_shim(self)
        return self._c


def _popcount(v: int) -> int:
    return bin(v).count("1")


def _family(abi, name: str):
    try:
        return abi.family(name)
    except UnknownName:
        return None


def build_flagmap(spec: Spec, fam_name: str, guest, host) -> FlagMap | None:
    gfam = _family(guest, fam_name)
    if gfam is None or gfam.kind not in ("flags", "enum"):
        return None
    hfam = gfam if host is guest else (_family(host, fam_name) if host is not None else None)
    overrides = spec.flags.get(fam_name, {})
    members: list[tuple[str, int, int, bool]] = []
    reasons: dict[str, str] = {}
    for name, gval in gfam.members.items():
        if gval is None:
            continue
        ov = overrides.get(name)
        hval, ok = 0, False
        if ov is not None and ov.drop is not None:
            reasons[name] = ov.drop
        elif ov is not None and ov.ignore is not None:
            ok = True           # nothing to pass on: the guest kernel ignores it too
        elif ov is not None and ov.keep is not None:
            hval, ok = gval, True
        elif hfam is not None:
            hname = ov.to if ov is not None and ov.to else name
            hv = hfam.members.get(hname)
            if hv is not None:
                hval, ok = hv, True
            else:
                reasons[name] = f"{hname} has no value on {host.name if host else 'the host'}"
        else:
            reasons[name] = f"family {fam_name} does not exist on the host"
        members.append((name, gval, hval, ok))
    # values of a multi-bit field whose names come from another family (clone's exit
    # signal: CSIGNAL holds a signal number, printed SIGCHLD): members of the map too
    for f in gfam.fields:
        for v, n in sorted(f.members.items()):
            if n in gfam.members or any(m[0] == n for m in members):
                continue
            if host is guest:
                members.append((n, v, v, True))
                continue
            hv = None
            for hf in (hfam.fields if hfam is not None else ()):
                if hf.mask == f.mask:
                    hv = next((x for x, hn in hf.members.items() if hn == n), None)
            if hv is not None:
                members.append((n, v, hv, True))
            else:
                reasons[n] = f"{n} has no value in {fam_name} on {host.name if host else 'the host'}"
                members.append((n, v, 0, False))
    by_name = {m[0]: i for i, m in enumerate(members)}
    steps: list[tuple[int, int, int]] = []
    if gfam.kind == "enum":
        seen: set[int] = set()
        for i, (name, gval, _, _) in enumerate(members):
            if gfam.member(name).role == "" and gval not in seen:
                seen.add(gval)
                steps.append((-1, gval, i))
    else:
        in_field = set()
        for f in gfam.fields:
            for v, n in sorted(f.members.items()):
                if n in by_name:
                    steps.append((f.mask, v, by_name[n]))
                    in_field.add(n)
        bits = [(gval, i) for i, (name, gval, _, _) in enumerate(members)
                if gval > 0 and name in gfam.members and gfam.member(name).role == "" and name not in in_field]
        bits.sort(key=lambda t: (-_popcount(t[0]), t[1]))
        steps += [(g, g, i) for g, i in bits]
    return FlagMap(fam_name, gfam.kind == "enum", members, by_name, steps, reasons)


def bind_abis(spec: Spec, trace_abi: str | None):
    """The guest and host ABI objects; '*' shims bind to the trace's ABI."""
    if spec.guest == ANY:
        if trace_abi is None:
            raise ShimsimError(f"shim {spec.name} works for any ABI: give the trace ABI (--abi)")
        g = tables.load_abi(trace_abi)
        if spec.host_kind == "bare":
            try:
                h = tables.load_abi(spec.host)
            except UnknownName as exc:
                raise spec.err("shim", "host", str(exc)) from None
            return g, h, h.name
        return g, g, g.name
    try:
        guest = tables.load_abi(spec.guest)
    except UnknownName as exc:
        raise spec.err("shim", "guest", str(exc)) from None
    if trace_abi is not None and trace_abi != spec.guest:
        raise ShimsimError(f"the trace's ABI is {trace_abi} but shim {spec.name} models guest {spec.guest}")
    if spec.host_kind == "opaque":
        return guest, None, spec.host
    try:
        host = tables.load_abi(spec.host)
    except UnknownName as exc:
        raise spec.err("shim", "host", str(exc)) from None
    return guest, host, host.name


def _errno_value(spec: Spec, abi, name: str, section: str, key: str | None, what: str) -> int:
    v = abi.errno.members.get(name)
    if v is None:
        known = [n for n, x in abi.errno.members.items() if x is not None]
        hint = UnknownName("errno", name, known)
        raise spec.err(section, key, f"{what}: {hint} on {abi.name}")
    return v


def compile_shim(spec: Spec, trace_abi: str | None = None,
                 fallbacks: list[Fallback] | None = None) -> CompiledShim:
    if spec.host_kind == "bare":
        return compile_bare(spec, trace_abi, fallbacks)
    guest, host, host_name = bind_abis(spec, trace_abi)
    _check_maps(spec, guest, host)
    nsys = max(guest.by_number) + 1
    outcome = [UNKNOWN] * nsys
    host_nr = [-1] * nsys
    fail_err = [0] * nsys
    notes: dict[int, str] = {}
    progs: dict[int, list[tuple[int, int]]] = {}
    fmap_ids: dict[str, int] = {}
    fmaps: list[FlagMap] = []
    listed = {k: 0 for k in OUTCOME_NAMES[1:7]}
    for name, rule in spec.rules.items():
        if name not in guest.by_name:
            raise spec.err("syscalls", name, f"{UnknownName('syscall', name, guest.by_name)} in guest ABI {guest.name}")
        sc = guest.by_name[name]
        other = [n for n in (sc.name, *sc.aliases) if n != name and n in spec.rules]
        if other:
            raise spec.err("syscalls", name, f"{name} and {other[0]} are one syscall of {guest.name} "
                                             f"(number {sc.number}); give one rule")
    default_rule = Rule("", spec.default, None, [], spec.default_errno if spec.default == "fail" else None,
                        spec.default_note, {}, None)
    rejects: dict[int, list[tuple[int, int, int]]] = {}
    reject_ids: dict[tuple[str, str, int], int] = {}
    unlisted = 0
    counted: set[str] = set()
    for sc in guest.syscalls:
        nr = sc.number
        key = rule_key(spec, sc)
        rule = spec.rules.get(key) if key else None
        if rule is None:
            rule = default_rule
            unlisted += 1
        elif sc.name not in counted:
            counted.add(sc.name)
            listed[OUTCOME_NAMES[RULE_OUTCOME[rule.do]]] += 1
        section_key = ("syscalls", key) if rule is not default_rule else ("shim", "default")
        outcome[nr] = RULE_OUTCOME[rule.do]
        notes[nr] = rule.note
        if rule.reject:
            rejects[nr] = _reject_program(spec, rule, sc, guest, fmaps, reject_ids, section_key)
        to = rule.to if rule is not default_rule else (sc.name if spec.default == "translate" else None)
        if to is not None:
            if host is None:
                raise spec.err(*section_key, f"{sc.name}: opaque host {host_name} has no syscall {to!r}")
            hs = sc if host is guest and to == sc.name else host.by_name.get(to)
            if hs is None:
                if rule is default_rule:
                    # default translate on a concrete pair: no same-named host call -> fails
                    outcome[nr] = FAILED
                    fail_err[nr] = _errno_value(spec, guest, "ENOSYS", "shim", "default", "default")
                    notes[nr] = f"no host syscall named {sc.name}"
                    continue
                raise spec.err(*section_key, f"{sc.name}: {UnknownName('syscall', to, host.by_name)} in host ABI {host.name}")
            host_nr[nr] = hs.number
            prog = _flag_program(spec, rule, sc, guest, host, fmap_ids, fmaps, section_key)
            if prog:
                progs[nr] = prog
        for b in rule.by:
            if host is not None and b not in host.by_name:
                raise spec.err(*section_key, f"{sc.name}: 'by' names {UnknownName('syscall', b, host.by_name)} in host ABI {host.name}")
        if outcome[nr] == FAILED:
            fail_err[nr] = _errno_value(spec, guest, rule.errno or "ENOSYS", *section_key, f"{sc.name}: errno")
    fbs = load_fallbacks() if fallbacks is None else fallbacks
    rows = _fallback_rows(fbs, guest, outcome, fail_err)
    rows.update(_reject_fallback_rows(fbs, guest, outcome, rejects))
    cs = CompiledShim(spec, guest, host, host_name, nsys, outcome, host_nr, fail_err, [-1] * nsys, progs,
                      fmaps, _errno_rt(spec, guest, host), _sig_rt(spec, guest, host), fbs, notes,
                      listed, unlisted, rows, rejects=rejects)
    cs.fallback = [cs.fallback_for(nr, None) for nr in range(nsys)]
    return cs


def compile_bare(spec: Spec, trace_abi: str | None, fallbacks=None) -> CompiledShim:
    """No layer (host_kind = \"bare\"): the host's loader and syscall table meet the guest (shimsim.bare)."""
    import dataclasses

    from shimsim.bare import BareHost, loader_for
    if trace_abi is None:
        raise ShimsimError(f"shim {spec.name} works for any guest ABI: give the trace ABI (--abi)")
    guest = tables.load_abi(trace_abi)
    try:
        host = tables.load_abi(spec.host)
    except Exception as exc:  # noqa: BLE001 - UnknownName with the suggestions
        raise spec.err("shim", "host", str(exc)) from None
    status, text, source = loader_for(guest, host)
    if status == "same":
        native = dataclasses.replace(spec, guest=ANY, host=ANY, host_kind="abi",
                                     default="translate", default_note=text)
        cs = compile_shim(native, trace_abi, fallbacks)
        cs.bare = BareHost(guest.name, host.name, host.os, guest.os, status, text, source)
        return cs
    nsys = max(guest.by_number) + 1
    outcome = [UNKNOWN] * nsys
    host_nr = [-1] * nsys
    fail_err = [0] * nsys
    notes: dict[int, str] = {}
    enosys = host.errno.members.get("ENOSYS") or 38
    bh = BareHost(guest.name, host.name, host.os, guest.os, status, text, source, enosys=enosys)
    listed = {k: 0 for k in OUTCOME_NAMES[1:7]}
    for sc in guest.syscalls:
        nr = sc.number
        if status == "refuses":
            outcome[nr] = FAILED
            fail_err[nr] = guest.errno.members.get("ENOEXEC") or 8
            notes[nr] = text
            continue
        hs = host.by_number.get(nr)
        same = hs is not None and hs.name == sc.name and (sc.args is None or hs.args is None
                                                          or [a.kind for a in sc.args] == [a.kind for a in hs.args])
        if same:
            outcome[nr] = TRANSLATED
            host_nr[nr] = nr
            notes[nr] = f"{sc.name} has the same number ({nr}) and arguments on {host.name}: it does what the guest asked"
            continue
        outcome[nr] = FAILED
        bh.landing[nr] = hs.name if hs is not None else None
        notes[nr] = bh.lands(nr, sc.name)
    fbs = load_fallbacks() if fallbacks is None else fallbacks
    cs = CompiledShim(spec, guest, host, host.name, nsys, outcome, host_nr, fail_err, [-1] * nsys, {},
                            [], list(range(max(v for v in guest.errno.members.values() if v is not None) + 1)),
                            list(range(max(v for v in guest.signals.members.values() if v is not None) + 1)),
                            fbs, notes, listed, len(guest.syscalls), {})
    cs.bare = bh
    return cs


def _flag_args(rule, sc) -> dict[int, str]:
    """Argument index -> flag or enum family of SC's arguments, the rule's own `flags` overriding."""
    fams = {i: a.family for i, a in enumerate(sc.args or ())
            if a.kind in ("flags", "enum") and a.family and i < 6}
    fams.update(rule.flags)
    return fams


def _flag_program(spec, rule, sc, guest, host, fmap_ids, fmaps, section_key) -> list[tuple[int, int]]:
    wanted = _flag_args(rule, sc)
    prog = []
    for idx, fam in sorted(wanted.items())[:4]:
        if fam not in fmap_ids:
            fm = build_flagmap(spec, fam, guest, host)
            if fm is None:
                if idx in rule.flags:
                    raise spec.err(*section_key, f"{sc.name}: flags: no flag or enum family {fam!r} on {guest.name}")
                continue
            fmap_ids[fam] = len(fmaps)
            fmaps.append(fm)
        prog.append((idx, fmap_ids[fam]))
    return prog


def _reject_program(spec, rule, sc, guest, fmaps, reject_ids, section_key) -> list[tuple[int, int, int]]:
    """The flags SC's handler rejects: per (flag argument, errno) one reject map, in which the rejected
    members are the unsupported ones (ss_flag_decode then reports exactly the rejected bits present)."""
    fams = _flag_args(rule, sc)
    groups: dict[tuple[int, int], set[str]] = {}
    for flag, ename in rule.reject.items():
        where = [i for i, fam in sorted(fams.items())
                 if _family(guest, fam) is not None and _family(guest, fam).members.get(flag) is not None]
        if not where:
            known = ", ".join(sorted(set(fams.values()))) or "none"
            raise spec.err(*section_key, f"{sc.name}: reject names {flag!r}, not a constant of its flag "
                                         f"arguments ({known}) on {guest.name}")
        ev = _errno_value(spec, guest, ename, *section_key, f"{sc.name}: reject {flag}")
        groups.setdefault((where[0], ev), set()).add(flag)
    plain = replace(spec, flags={})
    prog = []
    for (arg, ev), names in sorted(groups.items()):
        ident = (fams[arg], ",".join(sorted(names)), ev)
        if ident not in reject_ids:
            fm = build_flagmap(plain, fams[arg], guest, guest)
            assert fm is not None
            ename = names_of_errno(guest, ev)
            fm.members = [(n, g, g, n not in names) for n, g, _h, _ok in fm.members]
            fm.reasons = {n: f"rejected with {ename} by the layer's {sc.name} handler" for n in names}
            fm.reject = ev
            reject_ids[ident] = len(fmaps)
            fmaps.append(fm)
        prog.append((arg, reject_ids[ident], ev))
    if len(prog) > 4:
        raise spec.err(*section_key, f"{sc.name}: reject: at most 4 (argument, errno) groups")
    return prog


def names_of_errno(abi, value: int) -> str:
    return next((n for n, v in abi.errno.members.items() if v == value and abi.errno.member(n).role != "alias"),
                str(value))


def _check_maps(spec: Spec, guest, host) -> None:
    """Every name in the errno/signal/flag maps exists on the side it belongs to."""
    checks = [("errno.to_host", spec.errno_to_host, guest, host, "errno"),
              ("errno.to_guest", spec.errno_to_guest, host, guest, "errno"),
              ("signals.to_host", spec.signals_to_host, guest, host, "signals"),
              ("signals.to_guest", spec.signals_to_guest, host, guest, "signals")]
    for section, entries, src, dst, fam in checks:
        if entries and (host is None or host is guest):
            raise spec.err(section, None, f"[{section}] needs a concrete host ABI")
        for key, e in entries.items():
            sf = src.family(fam)
            if sf.members.get(key) is None:
                raise spec.err(section, key, f"{UnknownName(fam[:-1] if fam == 'signals' else fam, key, sf.supported())} on {src.name}")
            if e.to is not None and dst.family(fam).members.get(e.to) is None:
                raise spec.err(section, key, f"{key} -> {e.to}: {e.to} is not a {fam} name with a value on {dst.name}")
    for fam, entries in spec.flags.items():
        gfam = _family(guest, fam)
        if gfam is None:
            raise spec.err(f"flags.{fam}", None, f"no constant family {fam!r} on {guest.name}")
        hfam = _family(host, fam) if host is not None else None
        for key, e in entries.items():
            if gfam.members.get(key) is None:
                raise spec.err(f"flags.{fam}", key, f"{UnknownName(fam + ' constant', key, gfam.supported())} on {guest.name}")
            if e.to is not None and (hfam is None or hfam.members.get(e.to) is None):
                raise spec.err(f"flags.{fam}", key, f"{key} -> {e.to}: not a {fam} constant with a value on {host.name if host else 'the host'}")


def _fallback_rows(fbs: list[Fallback], guest, outcome, fail_err) -> dict[int, list[int]]:
    """Per guest number the shim fails: the rows (in table order) that would rescue the failure.
    A row rescues when the shim fails with one of the errnos its implementer retries on
    and one of its targets is handled by the shim (or the failure is simply tolerated)."""
    out: dict[int, list[int]] = {}
    errno = guest.errno.members
    for fid, fb in enumerate(fbs):
        sc = guest.by_name.get(fb.syscall)
        if sc is None or outcome[sc.number] != FAILED:
            continue
        if fb.errnos and fail_err[sc.number] not in {errno.get(e) for e in fb.errnos}:
            continue
        if not fb.targets or any(
                (t in guest.by_name and outcome[guest.by_name[t].number] > FAILED) for t in fb.targets):
            out.setdefault(sc.number, []).append(fid)
    return out


def _reject_fallback_rows(fbs: list[Fallback], guest, outcome, rejects) -> dict[int, list[int]]:
    """Per guest number whose handler rejects flags: the rows that would rescue a rejected call (the
    caller retries on every errno the call's flags are rejected with, and a fallback call is handled)."""
    out: dict[int, list[int]] = {}
    errno = guest.errno.members
    for fid, fb in enumerate(fbs):
        sc = guest.by_name.get(fb.syscall)
        if sc is None or sc.number not in rejects:
            continue
        errs = {e for _a, _f, e in rejects[sc.number]}
        if fb.errnos and not errs <= {errno.get(e) for e in fb.errnos}:
            continue
        if not fb.targets or any(
                (t in guest.by_name and outcome[guest.by_name[t].number] > FAILED) for t in fb.targets):
            out.setdefault(sc.number, []).append(fid)
    return out


def _errno_rt(spec: Spec, guest, host) -> list[int]:
    """errno_rt[E] = what the guest sees when the host kernel reports the condition
    the recording reported as E: guest name -> host name -> back to a guest number."""
    gfam = guest.errno
    nerr = max(v for v in gfam.members.values() if v is not None) + 1
    rt = list(range(nerr))
    if host is None or host is guest:
        return rt
    hfam = host.errno
    seen: set[int] = set()
    for name, v in gfam.members.items():
        if v is None or v in seen or gfam.member(name).role == "alias":
            continue
        seen.add(v)
        e = spec.errno_to_host.get(name)
        hname = e.to if e is not None and e.to else name
        if hfam.members.get(hname) is None:
            continue            # the host has no such errno: make no claim
        b = spec.errno_to_guest.get(hname)
        gname = b.to if b is not None and b.to else hname
        gv = gfam.members.get(gname)
        rt[v] = gv if gv is not None else v
    return rt


def _sig_rt(spec: Spec, guest, host) -> list[int]:
    """sig_rt[S] = the guest signal number a delivery of S arrives as, -1 if the
    host cannot deliver it.  Realtime signals map by offset from SIGRTMIN."""
    gfam = guest.signals
    nsig = max(v for v in gfam.members.values() if v is not None) + 1
    rt = list(range(nsig))
    if host is None or host is guest:
        return rt
    hfam = host.signals
    gmin, gmax = gfam.members.get("SIGRTMIN"), gfam.members.get("SIGRTMAX")
    hmin, hmax = hfam.members.get("SIGRTMIN"), hfam.members.get("SIGRTMAX")
    if None not in (gmin, gmax):
        for v in range(gmin, min(gmax, nsig - 1) + 1):
            rt[v] = v if (hmin is not None and hmax is not None and hmin + (v - gmin) <= hmax) else -1
    seen: set[int] = set()
    for name, v in gfam.members.items():
        if v is None or v in seen or name in ("SIGRTMIN", "SIGRTMAX") or gfam.member(name).role == "alias":
            continue
        seen.add(v)   # the first name of a value is its primary one (SIGIO before SIGPOLL)
        e = spec.signals_to_host.get(name)
        if e is not None and e.emulated:
            continue
        if e is not None and e.drop:
            rt[v] = -1
            continue
        hname = e.to if e is not None and e.to else name
        if hfam.members.get(hname) is None:
            rt[v] = -1
            continue
        b = spec.signals_to_guest.get(hname)
        if b is not None and b.drop:
            rt[v] = -1
            continue
        gname = b.to if b is not None and b.to else hname
        gv = gfam.members.get(gname)
        rt[v] = gv if gv is not None else -1
    return rt


def load(name_or_path: str, trace_abi: str | None = None) -> CompiledShim:
    """Load, validate and compile a shim in one step."""
    return compile_shim(load_spec(name_or_path), trace_abi)
