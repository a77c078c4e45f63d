# SPDX-License-Identifier: MIT
"""ABI tables: syscall numbers, constant families and signatures, loaded strictly.

The CSV/TOML files under tables/ (installed as ``shimsim._tables``) are the single source of
facts.  Loading is lazy and cached: ``load_abi`` reads the ABI list, the family catalogue, that
ABI's syscall table and the signatures of its OS; a constant file is read the first time one of
its families is asked for.  Every problem in a table is an ``InputError(path, line, msg)``, so a
bad edit names its file and line instead of surfacing later as a wrong translation.

Layout and vocabularies are documented in tables/README.md.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path

from shimsim import diskcache, resources
from shimsim._lazyre import lazy_re
from shimsim._record import Frozen, Record
from shimsim.errors import InputError, UnknownName

STATUSES = ("implemented", "obsolete", "unimplemented", "reserved")

# Syscall classes (like strace's sysent flags): one line each, shown by `shimsim abi list --classes`.
CLASSES: dict[str, str] = {
    "file": "takes a file name (path) argument",
    "desc": "takes or returns a file descriptor",
    "network": "sockets and networking",
    "process": "creates, replaces, waits for or ends processes and threads",
    "memory": "maps, unmaps or changes memory",
    "signal": "sends, waits for or handles signals",
    "ipc": "System V / POSIX IPC (messages, semaphores, shared memory)",
    "time": "reads or sets clocks and timers, or sleeps",
    "creds": "reads or changes user/group credentials and capabilities",
    "stat": "returns file status (stat family)",
    "statfs": "returns file system status (statfs family)",
    "fs": "mounts, quotas, swap and other file system administration",
    "sched": "scheduling policy, priorities and CPU affinity",
    "system": "whole-system operations (reboot, hostname, modules, sysctl, accounting)",
    "pure": "never fails and takes no arguments (getpid, getuid, ...)",
    "event": "readiness and event notification (poll, select, epoll, kqueue, inotify)",
    "io": "plain data transfer on descriptors (read/write family)",
}

# Argument and return kinds: one line each (tables/README.md repeats them).
ARG_KINDS: dict[str, str] = {
    "fd": "a file descriptor",
    "dirfd": "a directory descriptor or AT_FDCWD (family at_flags.dirfd)",
    "path": "a NUL-terminated file name",
    "string": "a NUL-terminated string that is not a file name",
    "buf": "a pointer to bytes whose length is another argument",
    "size": "an unsigned byte count (size_t)",
    "ssize": "a signed byte count (ssize_t)",
    "off": "a file offset (off_t)",
    "int": "a plain signed integer",
    "uint": "a plain unsigned integer",
    "long": "a signed long",
    "ulong": "an unsigned long",
    "flags": "a bit set of the named family (flags:FAMILY)",
    "enum": "one value of the named family (enum:FAMILY)",
    "mode": "file mode bits (family stat_mode)",
    "pid": "a process or thread id",
    "uid": "a user id",
    "gid": "a group id",
    "signal": "a signal number (family signals)",
    "ptr": "an untyped user pointer",
    "addr": "a memory address (mmap, brk)",
    "struct": "a pointer to a structure (struct:NAME)",
    "array": "a pointer to an array (array:ELEMENT)",
    "time": "a pointer to a time structure (timespec, timeval, ...)",
    "fdarray": "a pointer to an array of file descriptors (pipe)",
    "sockaddr": "a pointer to a socket address",
    "socklen": "a socket address length or a pointer to one",
    "id": "another kernel object id (timer, key, semaphore, ...)",
    "cmd": "an operation selector without a modelled family (ioctl request, prctl option)",
    "varargs": "the remaining arguments depend on another argument",
}
RETURN_KINDS: dict[str, str] = {
    **{k: v for k, v in ARG_KINDS.items() if k in (
        "fd", "int", "uint", "long", "ulong", "size", "ssize", "off", "pid", "uid", "gid",
        "addr", "ptr", "mode", "signal", "id")},
    "zero": "0 on success (-1 and errno on failure), nothing else",
    "noreturn": "does not return on success",
    "bool": "0 or 1",
    "flags": "a bit set of the named family",
}
# Kinds that imply a family when none is written.
IMPLIED_FAMILY = {"mode": "stat_mode", "signal": "signals", "dirfd": "at_flags.dirfd"}
NEEDS_FAMILY = ("flags", "enum")
HAS_DETAIL = ("struct", "array")

# compiled when a table is read from its CSV, not when the cross-run cache answers (start-up)
_NAME_RE = lazy_re(r"[A-Za-z_][A-Za-z0-9_.]*\Z")
_CONST_RE = lazy_re(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SIG_RE = lazy_re(r"([A-Za-z_][A-Za-z0-9_.]*)\((.*)\)\s*->\s*(\S+)\s*\[([^\]]*)\]\Z")


# --------------------------------------------------------------------------- data types

class Arg(Frozen):
    """One syscall argument: name, kind (see ARG_KINDS), family for flags/enum/mode/signal."""
    _FIELDS = ("name", "kind", "family", "detail")
    name: str
    kind: str
    family: str | None
    detail: str | None          # struct/array element name

    def __init__(self, name: str, kind: str, family: str | None = None, detail: str | None = None) -> None:
        self.__dict__.update(name=name, kind=kind, family=family, detail=detail)

    def to_json(self) -> dict:
        d: dict = {"name": self.name, "kind": self.kind}
        if self.family:
            d["family"] = self.family
        if self.detail:
            d["type"] = self.detail
        return d


class Signature(Frozen):
    """Argument names and kinds, return kind and classes of one syscall on one OS."""
    _FIELDS = ("name", "args", "returns", "returns_family", "classes", "path", "line")
    name: str
    args: tuple[Arg, ...]
    returns: str
    returns_family: str | None
    classes: tuple[str, ...]
    path: str
    line: int

    def __init__(self, name: str, args: tuple[Arg, ...], returns: str, returns_family: str | None,
                 classes: tuple[str, ...], path: str, line: int) -> None:
        self.__dict__.update(name=name, args=args, returns=returns, returns_family=returns_family,
                             classes=classes, path=path, line=line)


class Syscall(Frozen):
    """One slot of an ABI's syscall table (plus its signature when one is known)."""
    _FIELDS = ("number", "name", "status", "kind", "entry", "aliases", "note", "classes", "args", "returns",
               "returns_family")
    number: int
    name: str
    status: str
    kind: str
    entry: str
    aliases: tuple[str, ...]
    note: str
    classes: tuple[str, ...]
    args: tuple[Arg, ...] | None
    returns: str | None
    returns_family: str | None

    def __init__(self, number: int, name: str, status: str, kind: str, entry: str = "",
                 aliases: tuple[str, ...] = (), note: str = "", classes: tuple[str, ...] = (),
                 args: tuple[Arg, ...] | None = None, returns: str | None = None,
                 returns_family: str | None = None) -> None:
        self.__dict__.update(number=number, name=name, status=status, kind=kind, entry=entry, aliases=aliases,
                             note=note, classes=classes, args=args, returns=returns,
                             returns_family=returns_family)

    def to_json(self, abi: str) -> dict:
        return {
            "abi": abi, "name": self.name, "number": self.number, "status": self.status,
            "kind": self.kind, "entry": self.entry, "aliases": list(self.aliases),
            "classes": list(self.classes),
            "args": None if self.args is None else [a.to_json() for a in self.args],
            "returns": self.returns,
            **({"returns_family": self.returns_family} if self.returns_family else {}),
            **({"note": self.note} if self.note else {}),
        }


class Member(Record):
    """One constant of a family on one OS: value None means explicitly unsupported there."""
    _FIELDS = ("name", "value", "role", "alias_of", "note", "path", "line")
    name: str
    value: int | None
    role: str          # "", "alias", "helper", "internal"
    alias_of: str | None
    note: str
    path: str
    line: int

    def __init__(self, name: str, value: int | None, role: str, alias_of: str | None, note: str, path: str,
                 line: int) -> None:
        self.name, self.value, self.role, self.alias_of = name, value, role, alias_of
        self.note, self.path, self.line = note, path, line


class Translation(Frozen):
    """Result of Family.translate: the value on the other OS, names it lacks, bits nobody named."""
    _FIELDS = ("value", "unsupported", "unknown")
    value: int
    unsupported: tuple[str, ...]
    unknown: int

    def __init__(self, value: int, unsupported: tuple[str, ...], unknown: int) -> None:
        self.__dict__.update(value=value, unsupported=unsupported, unknown=unknown)

    @property
    def exact(self) -> bool:
        return not self.unsupported and not self.unknown


class Field(Record):
    """A multi-bit field inside a flag set, decoded as one enum value (O_ACCMODE, S_IFMT)."""
    _FIELDS = ("mask", "members")
    mask: int
    members: dict[int, str]

    def __init__(self, mask: int, members: dict[int, str]) -> None:
        self.mask, self.members = mask, members


class Family:
    """A constant family on one OS (``kind`` flags, enum, or set = a group of families)."""

    def __init__(self, name: str, kind: str, os: str, doc: str, translatable: bool,
                 members: dict[str, Member], fields: list[Field] | None = None,
                 zero: str | None = None, groups: tuple[str, ...] = (),
                 prefer: tuple[str, ...] = ()) -> None:
        self.name = name
        self.prefer = prefer
        self.kind = kind
        self.os = os
        self.doc = doc
        self.translatable = translatable
        self._members = members
        self.fields = fields or []
        self.zero = zero
        self.groups = groups
        self.members: dict[str, int | None] = {n: m.value for n, m in members.items()}

    def __repr__(self) -> str:
        return f"<Family {self.os}:{self.name} {self.kind} {len(self.members)} members>"

    def member(self, name: str) -> Member:
        """The full record (role, note, file:line) of one member."""
        try:
            return self._members[name]
        except KeyError:
            raise UnknownName(f"{self.name} constant", name, self._members) from None

    def value(self, name: str) -> int | None:
        """Value of NAME on this OS; None if declared unsupported; UnknownName if undeclared."""
        return self.member(name).value

    def supported(self) -> dict[str, int]:
        return {n: v for n, v in self.members.items() if v is not None}

    def _printable(self) -> list[Member]:
        """Members decode may print: preferred names first, then in declaration order."""
        rank = {n: i for i, n in enumerate(self.prefer)}
        # kernel-internal values (ERESTARTSYS) are printable too: tracers do see them
        ms = [m for m in self._members.values() if m.value is not None and m.role in ("", "internal")]
        return sorted(ms, key=lambda m: rank.get(m.name, len(rank)))

    @cached_property
    def _by_value(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for m in self._printable():
            out.setdefault(m.value, m.name)  # type: ignore[arg-type]
        return out

    @cached_property
    def _bits(self) -> list[tuple[int, str]]:
        in_field = {n for f in self.fields for n in f.members.values()}
        out = [(v, n) for v, n in self._by_value.items() if v > 0 and n not in in_field]
        # widest first so O_SYNC (two bits) wins over O_DSYNC; then by value
        out.sort(key=lambda vn: (-bin(vn[0]).count("1"), vn[0]))
        return out

    def decode_parts(self, value: int) -> tuple[list[str], int]:
        """Names making up VALUE and the bits (flags) or value (enum) left unexplained (0 = none)."""
        if self.kind == "set":
            raise UnknownName(f"family in set {self.name}; decode with one of", self.name,
                              self.groups)
        if self.kind == "enum":
            name = self._by_value.get(value)
            return ([name], 0) if name is not None else ([], value)
        names: list[str] = []
        rest = value & 0xFFFFFFFFFFFFFFFF if value < 0 else value
        for f in self.fields:
            v = rest & f.mask
            if v in f.members:
                names.append(f.members[v])
                rest &= ~f.mask
        for bits, name in self._bits:
            if rest & bits == bits:
                names.append(name)
                rest &= ~bits
        if not names and rest == 0 and self.zero and self.members.get(self.zero) == 0:
            names.append(self.zero)
        return names, rest

    def decode(self, value: int) -> list[str]:
        """Symbolic names for VALUE; unexplained bits/values appear as a hex (flags) or int item."""
        names, rest = self.decode_parts(value)
        if rest:
            names.append(hex(rest) if self.kind == "flags" else str(rest))
        if not names:
            names.append("0")
        return names

    def encode(self, names: Iterable[str]) -> int:
        """OR of the values of NAMES; UnknownName if one is undeclared, ValueError if unsupported."""
        out = 0
        for n in names:
            v = self.value(n)
            if v is None:
                raise ValueError(f"{n} is not supported on {self.os}")
            out |= v
        return out

    def translate(self, value: int, other: Family) -> Translation:
        """VALUE on this OS expressed on OTHER's OS by member name (the Qiling-style walk).

        Names the other OS declares unsupported and bits no name explains are reported, not
        dropped silently: a caller decides whether that makes the translation lossy.
        """
        if self.name != other.name:
            raise ValueError(f"cannot translate {self.name} into {other.name}")
        names, rest = self.decode_parts(value)
        out, lost = 0, []
        for n in names:
            v = other.members.get(n)
            if v is None:
                lost.append(n)
            else:
                out |= v
        if self.kind == "enum" and (lost or rest):
            out = 0
        return Translation(out, tuple(lost), rest)

    def to_json(self, abi: str) -> dict:
        return {
            "abi": abi, "family": self.name, "kind": self.kind, "translatable": self.translatable,
            **({"groups": list(self.groups)} if self.groups else {}),
            "members": [
                {"name": m.name, "value": m.value,
                 **({"role": m.role} if m.role else {}),
                 **({"alias_of": m.alias_of} if m.alias_of else {}),
                 **({"note": m.note} if m.note else {})}
                for m in self._members.values()
            ],
        }


# --------------------------------------------------------------------------- reading helpers


def parse_int(text: str, display: str, line: int | None, what: str = "value") -> int:
    """A 64-bit integer cell (shimsim.csvtable.parse_int; csvtable is imported when a table is read,
    not when the tables come from the cross-run cache)."""
    from shimsim import csvtable

    return csvtable.parse_int(text, display, line, what)


SYSCALL_HEADER = ("number", "name", "status", "kind", "entry", "aliases", "note")
CONST_HEADER = ("family", "name", "value", "role", "note")


# --------------------------------------------------------------------------- the table set

# abis.toml keys and their TOML types (tables/abis.toml's header says what each means)
ABI_KEYS: dict[str, str] = {
    "os": "a string", "arch": "a string", "syscalls": "a string", "pointer_bits": "an integer",
    "syscall_abis": "a list of strings", "consts_arch": "a string", "elf_machine": "an integer",
    "endian": "a string", "uname": "a list of strings", "audit_arch": "an integer",
    "personalities": "a table", "interpreters": "a list of strings", "lib_dirs": "a list of strings",
    "libc": "a string", "libc_rename": "a string", "doc": "a string",
    "native_guests": "a list of strings",
}


def _is(value: object, want: str) -> bool:
    if want == "a string":
        return isinstance(value, str)
    if want == "an integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if want == "a table":
        return isinstance(value, dict)
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


class ArchFacts(Frozen):
    """What abis.toml says about one ABI's machine, loader and tracer personalities."""
    _FIELDS = ("name", "os", "arch", "pointer_bits", "endian", "uname", "elf_machine", "audit_arch",
               "personalities", "interpreters", "lib_dirs", "libc", "libc_rename", "syscall_abis",
               "native_guests")
    name: str
    os: str
    arch: str
    pointer_bits: int
    endian: str
    uname: tuple[str, ...]
    elf_machine: int | None
    audit_arch: int | None
    personalities: dict[str, str]
    interpreters: tuple[str, ...]
    lib_dirs: tuple[str, ...]
    libc: str | None
    libc_rename: str | None
    syscall_abis: tuple[str, ...] | None
    native_guests: tuple[str, ...]          # other ABIs this ABI's kernel runs itself (ia32 on x86-64)

    def __init__(self, name: str, os: str, arch: str, pointer_bits: int, endian: str,  # noqa: A002
                 uname: tuple[str, ...], elf_machine: int | None = None, audit_arch: int | None = None,
                 personalities: dict[str, str] | None = None, interpreters: tuple[str, ...] = (),
                 lib_dirs: tuple[str, ...] = (), libc: str | None = None, libc_rename: str | None = None,
                 syscall_abis: tuple[str, ...] | None = None, native_guests: tuple[str, ...] = ()) -> None:
        self.__dict__.update(name=name, os=os, arch=arch, pointer_bits=pointer_bits, endian=endian, uname=uname,
                             elf_machine=elf_machine, audit_arch=audit_arch,
                             personalities={} if personalities is None else personalities,
                             interpreters=interpreters, lib_dirs=lib_dirs, libc=libc, libc_rename=libc_rename,
                             syscall_abis=syscall_abis, native_guests=native_guests)

    @classmethod
    def from_spec(cls, name: str, spec: dict) -> ArchFacts:
        return cls(name=name, os=spec["os"], arch=spec["arch"], pointer_bits=int(spec["pointer_bits"]),
                   endian=spec["endian"], uname=tuple(spec["uname"]),
                   elf_machine=spec.get("elf_machine"), audit_arch=spec.get("audit_arch"),
                   personalities=dict(spec.get("personalities", {})),
                   interpreters=tuple(spec.get("interpreters", ())),
                   lib_dirs=tuple(spec.get("lib_dirs", ())), libc=spec.get("libc"),
                   libc_rename=spec.get("libc_rename"),
                   syscall_abis=tuple(spec["syscall_abis"]) if "syscall_abis" in spec else None,
                   native_guests=tuple(spec.get("native_guests", ())))


class FamilySpec(Record):
    """One [family.NAME] of families.toml: a flag or enum constant family and where it lives."""
    _FIELDS = ("name", "file", "os", "kind", "translatable", "prefixes", "names", "zero", "fields", "doc",
               "prefer", "prefer_os")
    name: str
    file: str
    os: tuple[str, ...]
    kind: str
    translatable: bool
    prefixes: tuple[str, ...]
    names: tuple[str, ...]
    zero: str | None
    fields: list[dict]
    doc: str
    prefer: tuple[str, ...]
    prefer_os: dict[str, tuple[str, ...]]

    def __init__(self, name: str, file: str, os: tuple[str, ...], kind: str,  # noqa: A002
                 translatable: bool, prefixes: tuple[str, ...], names: tuple[str, ...], zero: str | None,
                 fields: list[dict], doc: str, prefer: tuple[str, ...] = (),
                 prefer_os: dict[str, tuple[str, ...]] | None = None) -> None:
        self.name, self.file, self.os, self.kind, self.translatable = name, file, os, kind, translatable
        self.prefixes, self.names, self.zero, self.fields, self.doc = prefixes, names, zero, fields, doc
        self.prefer = prefer
        self.prefer_os = {} if prefer_os is None else prefer_os

    def preferred(self, os: str) -> tuple[str, ...]:
        return self.prefer_os.get(os, ()) + self.prefer


def _abi_spec_problem(name: str, spec: dict, data: dict) -> str | None:
    """What is wrong with abis.toml's [abi.NAME] (None: nothing)."""
    for key in ("os", "arch", "syscalls", "pointer_bits", "endian", "uname"):
        if key not in spec:
            return f"missing key {key!r}"
    for key, want in ABI_KEYS.items():
        if key in spec and not _is(spec[key], want):
            return f"{key} must be {want}, got {spec[key]!r}"
    unknown = set(spec) - set(ABI_KEYS)
    if unknown:
        return f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(ABI_KEYS)})"
    if spec["endian"] not in ("little", "big"):
        return "endian must be little or big"
    for other in spec.get("native_guests", []):
        if other not in data or other == name:
            return f"native_guests names {other!r}, which is not another ABI of abis.toml"
    for mode, other in spec.get("personalities", {}).items():
        if mode not in ("64", "32", "x32") or not isinstance(other, str):
            return "personalities maps 64/32/x32 to an ABI name"
    return None


class Tables:
    """All tables under one root directory (the installed package, or a test's tmp_path)."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root).resolve() if root is not None else resources.tables_root()
        self._abis: dict[str, ABI] = {}
        self._const_files: dict[tuple[str, str, str], dict[str, dict[str, Member]]] = {}
        self._sigs: dict[str, dict[str, Signature]] = {}
        self._checked_translatable: set[str] = set()

    def display(self, path: Path) -> str:
        """Paths in messages are relative to the table root's parent (tables/...)."""
        return resources.display(path, self.root)

    def _installed(self) -> bool:
        """Whether these are the installed tables (the only ones cached across runs)."""
        return self.root == resources.tables_root()

    def _toml(self, rel: str) -> dict:
        if self._installed():
            data = diskcache.load("toml", str(self.root), rel)
            if isinstance(data, dict):
                return data
        data = self._parse_toml(rel)
        if self._installed():
            diskcache.store("toml", str(self.root), rel, data)
        return data

    def _parse_toml(self, rel: str) -> dict:
        import tomllib                  # not needed when the cache answers
        path = self.root / rel
        try:
            with path.open("rb") as f:
                return tomllib.load(f)
        except OSError as exc:
            raise InputError(self.display(path), None, f"cannot read: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"line (\d+)", str(exc))
            raise InputError(self.display(path), int(m.group(1)) if m else None,
                             f"bad TOML: {exc}") from None

    # ---- catalogues
    @cached_property
    def abi_specs(self) -> dict[str, dict]:
        data = self._toml("abis.toml").get("abi")
        disp = self.display(self.root / "abis.toml")
        if not isinstance(data, dict) or not data:
            raise InputError(disp, None, "expected [abi.NAME] tables")
        for name, spec in data.items():
            problem = _abi_spec_problem(name, spec, data)
            if problem is not None:   # the line of [abi.NAME] is looked up for the message only
                lines = (self.root / "abis.toml").read_text(encoding="utf-8").splitlines()
                line = next((i for i, text in enumerate(lines, 1)
                             if (m := re.match(r"\[abi\.(\S+)\]", text)) and m.group(1).strip('"') == name), None)
                raise InputError(disp, line, f"abi {name}: {problem}")
        return data

    def facts(self, name: str) -> ArchFacts:
        """The architecture facts of ABI NAME from abis.toml (its syscall table is not read)."""
        spec = self.abi_specs.get(name)
        if spec is None:
            raise UnknownName("ABI", name, self.abi_specs)
        return ArchFacts.from_spec(name, spec)

    def find_abis(self, os: str | None = None, machine: int | None = None,
                  uname: str | None = None, bits: int | None = None) -> list[str]:
        """ABIs matching every given fact: OS name, ELF e_machine, `uname -m` string, pointer bits."""
        out = []
        for name in self.abi_specs:
            f = self.facts(name)
            if ((os is None or f.os == os) and (machine is None or f.elf_machine == machine)
                    and (uname is None or uname in f.uname) and (bits is None or f.pointer_bits == bits)):
                out.append(name)
        return out

    @cached_property
    def families(self) -> dict[str, FamilySpec]:
        path = self.root / "families.toml"
        disp = self.display(path)
        data = self._toml("families.toml").get("family", {})
        lines = {m.group(1).strip('"'): i for i, l in enumerate(path.read_text().splitlines(), 1)
                 if (m := re.match(r"\[family\.(\S+)\]", l))}
        out: dict[str, FamilySpec] = {}
        for name, spec in data.items():
            line = lines.get(name)
            kind = spec.get("kind")
            if kind not in ("flags", "enum"):
                raise InputError(disp, line, f"family {name}: kind must be flags or enum, got {kind!r}")
            for key in ("file", "os", "doc"):
                if key not in spec:
                    raise InputError(disp, line, f"family {name}: missing key {key!r}")
            out[name] = FamilySpec(
                name=name, file=spec["file"], os=tuple(spec["os"]), kind=kind,
                translatable=bool(spec.get("translatable", False)),
                prefixes=tuple(spec.get("prefixes", ())), names=tuple(spec.get("names", ())),
                zero=spec.get("zero"), fields=list(spec.get("fields", [])), doc=spec["doc"],
                prefer=tuple(spec.get("prefer", ())),
                prefer_os={o: tuple(v) for o, v in spec.get("prefer_os", {}).items()},
            )
        for name, spec in out.items():
            for f in spec.fields:
                if "family" in f and f["family"] not in out:
                    raise InputError(disp, lines.get(name),
                                     f"family {name}: field refers to unknown family {f['family']!r}")
        return out

    def family_names(self, os: str) -> list[str]:
        """Families that exist on OS, including the set names (mmap for mmap.prot/mmap.flags)."""
        leaves = [n for n, s in self.families.items() if os in s.os]
        sets = sorted({n.split(".")[0] for n in leaves if "." in n})
        return sorted(set(leaves) | set(sets))

    def list_abis(self) -> list[str]:
        return list(self.abi_specs)

    def load_abi(self, name: str) -> ABI:
        abi = self._abis.get(name)
        if abi is None:
            cached = self._from_disk(name)
            if cached is not None:
                abi = cached
            else:
                if name not in self.abi_specs:
                    raise UnknownName("ABI", name, self.abi_specs)
                abi = ABI(self, name, self.abi_specs[name])
                if self._installed():
                    diskcache.store("abi", str(self.root), name, abi)
            self._abis[name] = abi
        return abi

    def numbers(self, name: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
        """Name -> number of ABI NAME's syscalls, supported errnos and supported signals: all
        a trace reader needs of the ABI, kept across runs on their own (shimsim.diskcache) for
        the installed tables, since unpickling the whole compiled ABI costs more (issue 17)."""
        if self._installed():
            got = diskcache.load("numbers", str(self.root), name)
            if isinstance(got, tuple) and len(got) == 3 and all(isinstance(d, dict) for d in got):
                return got
        a = self.load_abi(name)
        got = ({n: s.number for n, s in a.by_name.items()}, dict(a.errno.supported()),
               dict(a.signals.supported()))
        if self._installed():
            diskcache.store("numbers", str(self.root), name, got)
        return got

    def _from_disk(self, name: str) -> "ABI | None":
        """The installed tables' ABI NAME as compiled by an earlier run (shimsim.diskcache)."""
        if not self._installed():
            return None
        abi = diskcache.load("abi", str(self.root), name)
        if not isinstance(abi, ABI) or abi.name != name:
            return None
        abi.tables = self
        return abi

    # ---- constants
    def _family_for(self, name: str, file: str, os: str) -> str | None:
        cands = [s for s in self.families.values() if s.file == file and os in s.os]
        for s in cands:
            if name in s.names:
                return s.name
        best, blen = None, -1
        for s in cands:
            for p in s.prefixes:
                if name.startswith(p) and len(p) > blen:
                    best, blen = s.name, len(p)
        return best

    def const_file(self, os: str, file: str, arch: str | None = None) -> dict[str, dict[str, Member]]:
        """family -> name -> Member for consts/<os>/<file>.csv, with <arch>/ overrides applied."""
        key = (os, file, arch or "")
        got = self._const_files.get(key)
        if got is not None:
            return got
        if arch:
            base = self.const_file(os, file)
            out = {f: dict(ms) for f, ms in base.items()}
            over = self.root / "consts" / os / arch / f"{file}.csv"
            if over.exists():
                for fam, m in self._read_const_rows(over, os, file, require_prov=True).items():
                    for name, mem in m.items():
                        if name not in out.get(fam, {}):
                            raise InputError(mem.path, mem.line,
                                             f"override {name} is not declared in the base file "
                                             f"consts/{os}/{file}.csv")
                        out[fam][name] = mem
        else:
            path = self.root / "consts" / os / f"{file}.csv"
            out = self._read_const_rows(path, os, file, require_prov=True)
        self._const_files[key] = out
        return out

    def _read_const_rows(self, path: Path, os: str, file: str,
                         require_prov: bool = False) -> dict[str, dict[str, Member]]:
        disp = self.display(path)
        from shimsim import csvtable

        table = csvtable.read(path, CONST_HEADER, disp, no_header="empty table (no header)")
        out: dict[str, dict[str, Member]] = {}
        seen: dict[str, int] = {}
        real = 0
        for row in table:
            line = row.line
            fam, name, val, role, note = row.cells
            if not _CONST_RE.match(name):
                raise InputError(disp, line, f"bad constant name {name!r}")
            if name in seen:
                raise InputError(disp, line, f"duplicate name {name} (first at line {seen[name]})")
            seen[name] = line
            spec = self.families.get(fam)
            if spec is None or spec.file != file:
                raise InputError(disp, line, f"unknown family {fam!r} for file {file}.csv")
            if os not in spec.os:
                raise InputError(disp, line, f"family {fam} is not declared for {os} in families.toml")
            want = self._family_for(name, file, os)
            if want != fam:
                raise InputError(disp, line, f"{name} belongs to family {want} by families.toml "
                                             f"prefixes/names, not {fam}")
            alias_of = None
            if role.startswith("alias:"):
                alias_of, role = role[6:], "alias"
            elif role not in ("", "helper", "internal"):
                raise InputError(disp, line, f"role must be '', alias:NAME, helper or internal; got {role!r}")
            if val == "unsupported":
                value = None
            else:
                value = csvtable.parse_int(val, disp, line)
                real += 1
            out.setdefault(fam, {})[name] = Member(name, value, role, alias_of, note, disp, line)
        for fam, ms in out.items():
            for m in ms.values():
                if m.alias_of and m.alias_of not in ms:
                    raise InputError(disp, m.line, f"{m.name} is an alias of unknown {m.alias_of}")
                if m.alias_of and m.value is not None and ms[m.alias_of].value != m.value:
                    raise InputError(disp, m.line, f"{m.name} is an alias of {m.alias_of} but "
                                                   f"their values differ")
        if require_prov:
            table.check_sources(pinned=False)
            up = table.meta_int("upstream-rows")
            if up is not None and up != real:
                raise InputError(disp, table.first("upstream-rows")[0],  # type: ignore[index]
                                 f"upstream-rows says {up} but {real} rows have values")
        return out

    def check_translatable(self, fam: str) -> None:
        """Every member of a translatable family is declared on every OS that has the family."""
        if fam in self._checked_translatable:
            return
        spec = self.families[fam]
        decl: dict[str, dict[str, Member]] = {
            os: self.const_file(os, spec.file).get(fam, {}) for os in spec.os}
        union: dict[str, Member] = {}
        for ms in decl.values():
            for n, m in ms.items():
                union.setdefault(n, m)
        for os, ms in decl.items():
            for n, m in union.items():
                if n not in ms:
                    disp = self.display(self.root / "consts" / os / f"{spec.file}.csv")
                    raise InputError(disp, None,
                                     f"translatable family {fam}: {n} (declared at {m.path}:{m.line}) "
                                     f"is missing here; give its value or mark it unsupported")
        self._checked_translatable.add(fam)

    # ---- signatures
    @cached_property
    def sig_files(self) -> list[tuple[Path, tuple[str, ...]]]:
        """(path, OSes) of every signatures/*.sigs, broadest first (common, bsd, then one OS)."""
        out = []
        d = self.root / "signatures"
        for path in sorted(d.glob("*.sigs")) if d.is_dir() else []:
            applies: tuple[str, ...] | None = None
            with path.open(encoding="utf-8") as f:
                for line in f:
                    m = re.match(r"#\s*applies-to:\s*(.*)", line)
                    if m:
                        applies = tuple(m.group(1).split())
                        break
            if not applies:
                raise InputError(self.display(path), None,
                                 "missing '# applies-to: OS ...' header line")
            out.append((path, applies))
        out.sort(key=lambda pa: (-len(pa[1]), pa[0].name))
        return out

    def signatures(self, os: str) -> dict[str, Signature]:
        """name -> Signature for OS: later (narrower) files override broader ones by name."""
        got = self._sigs.get(os)
        if got is None:
            got = {}
            for path, applies in self.sig_files:
                if os in applies:
                    got.update(self._read_sigs(path, os))
            self._sigs[os] = got
        return got

    def _read_sigs(self, path: Path, os: str) -> dict[str, Signature]:
        disp = self.display(path)
        out: dict[str, Signature] = {}
        fams = set(self.family_names(os))
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            m = _SIG_RE.match(text)
            if not m:
                raise InputError(disp, lineno, "expected NAME(arg: kind, ...) -> KIND [class, ...]")
            name, argtext, ret, cls = m.groups()
            if name in out:
                raise InputError(disp, lineno, f"duplicate signature for {name}")
            args = []
            for part in [p.strip() for p in argtext.split(",")] if argtext.strip() else []:
                args.append(self._parse_arg(part, disp, lineno, fams, os))
            rkind, _, rfam = ret.partition(":")
            if rkind not in RETURN_KINDS:
                raise InputError(disp, lineno, f"unknown return kind {rkind!r}")
            if rfam and rfam not in fams:
                raise InputError(disp, lineno, f"return family {rfam!r} does not exist on {os}")
            classes = tuple(c.strip() for c in cls.split(",") if c.strip())
            for c in classes:
                if c not in CLASSES:
                    raise InputError(disp, lineno, f"unknown class {c!r} (known: {', '.join(CLASSES)})")
            out[name] = Signature(name, tuple(args), rkind, rfam or None, classes, disp, lineno)
        return out

    def _parse_arg(self, part: str, disp: str, line: int, fams: set[str], os: str) -> Arg:
        """One `name: kind[:family|:type]`; flag/enum families must exist on OS."""
        aname, sep, kind = part.partition(":")
        aname, kind = aname.strip(), kind.strip()
        if not sep or not _NAME_RE.match(aname) or not kind:
            raise InputError(disp, line, f"argument {part!r}: expected name: kind")
        base, _, extra = kind.partition(":")
        if base not in ARG_KINDS:
            raise InputError(disp, line, f"unknown argument kind {base!r}")
        family = detail = None
        if base in NEEDS_FAMILY:
            if not extra:
                raise InputError(disp, line, f"argument {aname}: {base} needs a family ({base}:FAMILY)")
            family = extra
        elif base in HAS_DETAIL:
            detail = extra or None
        elif extra:
            raise InputError(disp, line, f"argument {aname}: kind {base} takes no ':{extra}'")
        else:
            implied = IMPLIED_FAMILY.get(base)
            family = implied if implied in fams else None
        if family is not None and family not in fams:
            known = family in self.families or family in {n.split(".")[0] for n in self.families}
            raise InputError(disp, line, f"argument {aname}: family {family!r} "
                             + (f"does not exist on {os}" if known else "is unknown"))
        return Arg(aname, base, family, detail)

    # ---- whole-set validation (tests, `shimsim abi check`)
    def validate_all(self) -> dict[str, int]:
        """Load every ABI, constant file and signature; return counts.  Raises on the first error."""
        counts = {"abis": 0, "syscalls": 0, "signatures": 0, "constants": 0, "families": 0}
        for name in self.list_abis():
            abi = self.load_abi(name)
            counts["abis"] += 1
            counts["syscalls"] += len(abi.syscalls)
            counts["signatures"] += sum(1 for s in abi.syscalls if s.args is not None)
            for fam in self.family_names(abi.os):
                f = abi.family(fam)
                if f.kind != "set":
                    counts["families"] += 1
                    counts["constants"] += sum(1 for v in f.members.values() if v is not None)
        self._check_signature_names()
        return counts

    def _check_signature_names(self) -> None:
        """A signature must name a syscall of some ABI it applies to (catches typos)."""
        names_by_os: dict[str, set[str]] = {}
        for name in self.list_abis():
            abi = self.load_abi(name)
            names_by_os.setdefault(abi.os, set()).update(abi.by_name)
        for path, applies in self.sig_files:
            known = set().union(*(names_by_os.get(o, set()) for o in applies))
            disp = self.display(path)
            for os in applies:
                for sig in self._read_sigs(path, os).values():
                    if sig.name not in known:
                        raise InputError(disp, sig.line, f"no ABI of {' '.join(applies)} has a "
                                                         f"syscall named {sig.name}")
                break


class ABI:
    """One OS + architecture: its syscall table, constants and signatures."""

    def __init__(self, tables: Tables, name: str, spec: dict) -> None:
        self.tables = tables
        self.name = name
        self.os: str = spec["os"]
        self.arch: str = spec["arch"]
        self.pointer_bits: int = int(spec["pointer_bits"])
        self.spec = spec
        self._families: dict[str, Family] = {}
        self.syscalls: list[Syscall] = self._load_syscalls()
        self.by_number: dict[int, Syscall] = {s.number: s for s in self.syscalls}
        self.by_name: dict[str, Syscall] = {}
        for s in self.syscalls:
            if s.name:
                self.by_name[s.name] = s
            for a in s.aliases:
                self.by_name[a] = s

    def __repr__(self) -> str:
        return f"<ABI {self.name}: {len(self.syscalls)} syscalls>"

    def __getstate__(self) -> dict:
        # The compiled syscall table only: the Tables object is re-attached on load and
        # families are loaded on demand again.
        state = dict(self.__dict__)
        state["tables"] = None
        state["_families"] = {}
        return state

    def _load_syscalls(self) -> list[Syscall]:
        path = self.tables.root / self.spec["syscalls"]
        disp = self.tables.display(path)
        from shimsim import csvtable

        table = csvtable.read(path, SYSCALL_HEADER, disp, no_header="empty table (no header)")
        sigs = self.tables.signatures(self.os)
        out: list[Syscall] = []
        nums: dict[int, int] = {}
        names: dict[str, int] = {}
        keep = self.spec.get("syscall_abis")      # a shared table's rows of this ABI
        for row in table:
            line = row.line
            num_s, name, status, kind, entry, aliases_s, note = row.cells
            if keep is not None and kind not in keep:
                continue
            number = csvtable.parse_int(num_s, disp, line, "syscall number")
            if number < 0:
                raise InputError(disp, line, f"syscall number {number} is negative")
            if number in nums:
                raise InputError(disp, line, f"duplicate number {number} (first at line {nums[number]})")
            nums[number] = line
            if status not in STATUSES:
                raise InputError(disp, line, f"status must be one of {', '.join(STATUSES)}; got {status!r}")
            if name == "" and status == "implemented":
                raise InputError(disp, line, "an implemented syscall needs a name")
            aliases = tuple(aliases_s.split()) if aliases_s else ()
            for n in ((name,) if name else ()) + aliases:
                if not _NAME_RE.match(n):
                    raise InputError(disp, line, f"bad syscall name {n!r}")
                if n in names:
                    raise InputError(disp, line, f"duplicate name {n} (first at line {names[n]})")
                names[n] = line
            # a signature is keyed by name; an alias (fstat for arm64's newfstat) may carry it
            sig = next((sigs[n] for n in ((name,) if name else ()) + aliases if n in sigs), None)
            out.append(Syscall(
                number=number, name=name, status=status, kind=kind, entry=entry,
                aliases=aliases, note=note,
                classes=sig.classes if sig else (),
                args=sig.args if sig else None,
                returns=sig.returns if sig else None,
                returns_family=sig.returns_family if sig else None,
            ))
        table.check_upstream_rows()
        table.check_sources(pinned=False)
        return out

    def syscall(self, key: str | int) -> Syscall:
        """By name (or alias) or number (int or decimal string); UnknownName otherwise."""
        if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
            n = int(key)
            if n in self.by_number:
                return self.by_number[n]
            raise UnknownName(f"{self.name} syscall number", str(n), [])
        s = self.by_name.get(key)
        if s is None:
            raise UnknownName(f"{self.name} syscall", key, self.by_name)
        return s

    def family_names(self) -> list[str]:
        return self.tables.family_names(self.os)

    def family(self, name: str) -> Family:
        """Constant family by name (leaf such as mmap.prot, or set such as mmap)."""
        fam = self._families.get(name)
        if fam is not None:
            return fam
        cached = self.tables._installed()
        if cached:
            fam = diskcache.load("family", str(self.tables.root), f"{self.name}-{name}")
            if isinstance(fam, Family) and fam.name == name and fam.os == self.os:
                self._families[name] = fam
                return fam
        fam = self._compile_family(name)
        self._families[name] = fam
        if cached:
            diskcache.store("family", str(self.tables.root), f"{self.name}-{name}", fam)
        return fam

    def _compile_family(self, name: str) -> Family:
        known = self.family_names()
        if name not in known:
            raise UnknownName(f"family on {self.os}", name, known)
        t = self.tables
        if name in t.families:
            spec = t.families[name]
            if spec.translatable:
                t.check_translatable(name)
            members = t.const_file(self.os, spec.file, self._arch_dir()).get(name, {})
            fam = Family(name, spec.kind, self.os, spec.doc, spec.translatable, members,
                         self._fields(spec, members), spec.zero, prefer=spec.preferred(self.os))
        else:
            children = [n for n in known if n.startswith(name + ".")]
            members: dict[str, Member] = {}
            for c in children:
                members.update(self.family(c)._members)
            docs = "; ".join(f"{c}: {t.families[c].doc}" for c in children)
            fam = Family(name, "set", self.os, docs,
                         all(t.families[c].translatable for c in children), members,
                         groups=tuple(children))
        return fam

    def _arch_dir(self) -> str | None:
        d = self.spec.get("consts_arch")
        return str(d) if d else None

    def _fields(self, spec: FamilySpec, members: dict[str, Member]) -> list[Field]:
        fields = []
        disp = self.tables.display(self.tables.root / "families.toml")
        for f in spec.fields:
            mask = f.get("mask")
            if isinstance(mask, str):
                m = members.get(mask)
                if m is None or m.value is None:
                    continue  # the field does not exist on this OS
                maskv = m.value
            elif isinstance(mask, int):
                maskv = mask
            else:
                raise InputError(disp, None, f"family {spec.name}: field mask must be a name or int")
            if "family" in f:
                src = self.family(f["family"])
                vals = {v: n for v, n in src._by_value.items() if v & ~maskv == 0}
            else:
                vals = {}
                for n in sorted(f.get("members", []),
                                key=lambda n: 0 if n in spec.preferred(self.os) else 1):
                    mem = members.get(n)
                    if mem is not None and mem.value is not None:
                        vals.setdefault(mem.value, n)
            fields.append(Field(maskv, vals))
        return fields

    @property
    def errno(self) -> Family:
        return self.family("errno")

    @property
    def signals(self) -> Family:
        return self.family("signals")

    def errno_message(self, name: str) -> str:
        """The strerror-like message recorded for errno NAME on this OS."""
        return self.errno.member(name).note


# --------------------------------------------------------------------------- module API

_default: Tables | None = None


def default_tables() -> Tables:
    global _default
    if _default is None:
        _default = Tables()
    return _default


def list_abis() -> list[str]:
    return default_tables().list_abis()


def load_abi(name: str) -> ABI:
    """The ABI NAME from the installed tables (cached); UnknownName if there is none."""
    return default_tables().load_abi(name)


def numbers(name: str) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Syscall, errno and signal name -> number of the installed ABI NAME (see Tables.numbers)."""
    return default_tables().numbers(name)


def facts(name: str) -> ArchFacts:
    """Architecture facts of ABI NAME (abis.toml only; cheap)."""
    return default_tables().facts(name)


def find_abis(os: str | None = None, machine: int | None = None, uname: str | None = None,
              bits: int | None = None) -> list[str]:
    """Installed ABIs matching every given fact (see Tables.find_abis)."""
    return default_tables().find_abis(os, machine, uname, bits)
