# SPDX-License-Identifier: MIT
"""The set of system calls a binary can make, each with where it came from.

Sources, in the order a process meets them:

* loader and start-up: what ld.so and libc's start-up do in every dynamic
  (or every static) glibc program, from the table's ``@`` rows;
* imports: every undefined dynamic symbol of the program *and of each
  library it needs, transitively* (their imports are the program's too),
  resolved to the object that defines it; those defined by glibc's own
  objects are mapped through the libc table;
* raw sites: ``syscall``/``int 0x80``/``svc #0`` instructions and calls to
  syscall(2) with a constant number, in the program and in every non-glibc
  library (glibc's own sites are what the table summarises).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from shimsim.elf import libpath
from shimsim.elf.ident import Identity
from shimsim.elf.libc import LibcTable, table_for_abi
from shimsim.elf.reader import Budget, ElfReadError, RawElf
from shimsim.elf.sites import Site, scan

MAX_LIBRARIES = 512
MAX_ORIGINS = 8          # origins kept per syscall (the count is kept in full)
GLIBC_SONAMES = {
    "libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "librt.so.1", "libresolv.so.2",
    "libutil.so.1", "libanl.so.1", "libmvec.so.1", "libBrokenLocale.so.1", "libc_malloc_debug.so.0",
    "libnss_files.so.2", "libnss_dns.so.2", "libmemusage.so", "libpcprofile.so", "libthread_db.so.1",
}


def is_glibc_object(soname: str) -> bool:
    return soname in GLIBC_SONAMES or soname.startswith("ld-linux")


@dataclass
class Origin:
    kind: str            # "loader", "startup", "import", "site", "syscall()"
    text: str
    library: bool = False   # from a needed/dlopened library, not the program itself

    def to_json(self) -> dict:
        return {"kind": self.kind, "from": self.text, "library": self.library}


@dataclass
class Library:
    soname: str
    path: str | None
    error: str | None = None
    glibc: bool = False
    dlopen_by: str | None = None     # found as a dlopen() name string in this object


@dataclass
class Prediction:
    abi: str
    table: str | None
    syscalls: dict[str, list[Origin]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    vdso_only: set[str] = field(default_factory=set)
    direct: set[str] = field(default_factory=set)   # reached by the program itself, loader or start-up
    libraries: list[Library] = field(default_factory=list)
    unmapped_imports: list[str] = field(default_factory=list)
    sites: int = 0
    unknown_sites: int = 0
    unnamed_numbers: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, origin: Origin, vdso: bool = False) -> None:
        if not origin.library:
            self.direct.add(name)
        n = self.counts.get(name, 0)
        self.counts[name] = n + 1
        origins = self.syscalls.setdefault(name, [])
        if len(origins) < MAX_ORIGINS:
            origins.append(origin)
        if vdso and n == 0:
            self.vdso_only.add(name)
        elif not vdso:
            self.vdso_only.discard(name)

    def names(self) -> list[str]:
        return sorted(self.syscalls)

    def to_json(self) -> dict:
        return {
            "abi": self.abi, "libc_table": self.table,
            "syscalls": {n: {"origins": [o.to_json() for o in self.syscalls[n]],
                             "count": self.counts[n], "vdso_only": n in self.vdso_only,
                             "only_from_libraries": n not in self.direct}
                         for n in self.names()},
            "libraries": [{"soname": lib.soname, "path": lib.path, "error": lib.error, "glibc": lib.glibc,
                           "dlopen_by": lib.dlopen_by}
                          for lib in self.libraries],
            "unmapped_imports": self.unmapped_imports,
            "sites": self.sites, "sites_without_number": self.unknown_sites,
            "unnamed_numbers": self.unnamed_numbers, "notes": self.notes,
        }


class _Objects:
    """The program and its DT_NEEDED closure as the loader would find it here."""

    def __init__(self, main: RawElf, budget: Budget, follow: bool, root: "libpath.Root | None" = None) -> None:
        self.root = root or libpath.HOST
        self.objects: list[tuple[str, RawElf]] = [(os.path.basename(main.path), main)]
        self.libraries: list[Library] = []
        self._dlopen_done = False
        if follow:
            self._closure(main, budget)

    def _closure(self, main: RawElf, budget: Budget) -> None:
        seen: set[str] = set()
        queue: list[RawElf] = [main]
        while queue:
            cur = queue.pop(0)
            for soname in cur.needed:
                if soname in seen:
                    continue
                seen.add(soname)
                if len(self.libraries) >= MAX_LIBRARIES:
                    self.libraries.append(Library(soname, None, f"more than {MAX_LIBRARIES} libraries; not followed"))
                    return
                lib = self._find(soname, cur, budget)
                self.libraries.append(lib[0])
                if lib[1] is not None:
                    self.objects.append((soname, lib[1]))
                    queue.append(lib[1])
            if not queue and not self._dlopen_done:
                self._dlopen_done = True
                queue.extend(self._dlopen_candidates(seen, budget))
                queue.extend(self._plugin_modules(main, seen, budget))

    def _plugin_modules(self, main: RawElf, seen: set[str], budget: Budget) -> list[RawElf]:
        """Extension modules of an embedded Python, which it dlopens by computed path.

        An object exporting Py_Initialize is a Python runtime; it loads its
        compiled modules from <prefix>/lib/pythonX.Y/lib-dynload, and what
        they import is what the interpreter can do.
        """
        runtime = next(((n, r) for n, r in self.objects if "Py_Initialize" in r.exports), None)
        if runtime is None:
            return []
        found: list[RawElf] = []
        for d in _python_dynload_dirs(main.path, runtime[1].path, self.root):
            try:
                names = sorted(f for f in self.root.listdir(d) if f.endswith(".so"))[:MAX_PLUGINS]
            except OSError:
                continue
            for f in names:
                path = os.path.join(d, f)
                if f in seen or not self.root.isfile(path):
                    continue
                seen.add(f)
                try:
                    raw = self.root.read_library(path, budget)
                except (ElfReadError, OSError):
                    continue
                if raw.e_machine != main.e_machine or raw.elfclass != main.elfclass:
                    continue
                self.libraries.append(Library(f, path, None, False, dlopen_by=f"{runtime[0]} (Python extension module)"))
                self.objects.append((f, raw))
                found.append(raw)
            break                       # the first existing directory is the runtime's own
        return found

    def _dlopen_candidates(self, seen: set[str], budget: Budget) -> list[RawElf]:
        """Libraries named by a string in an object that imports dlopen.

        Programs that load optional libraries at run time (procps loading
        libnuma, for one) name them as string constants; when such a name
        resolves on this machine its calls are the program's too.
        """
        found: list[RawElf] = []
        for owner, raw in list(self.objects):
            if is_glibc_object(owner) or not {"dlopen", "dlmopen"} & {i.split("@", 1)[0] for i in raw.imports}:
                continue
            for name in _library_strings(raw, budget, self.root):
                if name in seen or is_glibc_object(name):
                    continue
                seen.add(name)
                lib, lraw = self._find(name, raw, budget)
                if lraw is None:
                    continue            # a name that is not installed here: nothing to add
                lib.dlopen_by = owner
                self.libraries.append(lib)
                self.objects.append((name, lraw))
                found.append(lraw)
        return found

    def _find(self, soname: str, req: RawElf, budget: Budget) -> tuple[Library, RawElf | None]:
        last_err = f"not found {self.root.where}"
        for path in self.root.candidates(soname, req.e_machine, req.path, req.rpath, req.runpath):
            if not self.root.isfile(path):
                continue
            try:
                raw = self.root.read_library(path, budget)
            except ElfReadError as exc:
                last_err = f"{path}: {exc}"
                continue
            except OSError as exc:
                last_err = f"{path}: {exc.strerror or exc}"
                continue
            if raw.e_machine != req.e_machine or raw.elfclass != req.elfclass:
                last_err = f"{path}: wrong class or machine"
                continue
            return Library(soname, path, None, is_glibc_object(soname)), raw
        return Library(soname, None, last_err, is_glibc_object(soname)), None


_LIBNAME = re.compile(rb"lib[A-Za-z0-9_+.-]{1,80}?\.so\.[0-9][0-9.]{0,12}(?=\0)")
MAX_DATA_SCAN = 64 << 20
MAX_DLOPEN_NAMES = 64


def _library_strings(raw: RawElf, budget: Budget, root: "libpath.Root") -> list[str]:
    """sonames (lib*.so.N) appearing as NUL-terminated strings in loaded data."""
    names: list[str] = []
    total = 0
    with root.open(raw.path) as fh:
        for region in raw.data_regions:
            budget.check()
            size = min(region.size, MAX_DATA_SCAN - total)
            if size <= 0:
                break
            total += size
            fh.seek(region.offset)
            for m in _LIBNAME.finditer(fh.read(size)):
                name = m.group(0).decode("ascii", "replace")
                if name not in names and name not in raw.needed:
                    names.append(name)
                    if len(names) >= MAX_DLOPEN_NAMES:
                        return names
    return names


MAX_PLUGINS = 256


def _python_dynload_dirs(main_path: str, runtime_path: str, root: "libpath.Root") -> list[str]:
    """<prefix>/lib/pythonX.Y/lib-dynload candidates for a Python runtime binary."""
    m = re.search(r"python(\d+\.\d+)", os.path.basename(runtime_path)) or \
        re.search(r"python(\d+\.\d+)", os.path.basename(root.realpath(main_path)))
    if m is None:
        return []
    ver = m.group(1)
    out = []
    for p in (root.realpath(main_path), root.realpath(runtime_path)):
        prefix = os.path.dirname(os.path.dirname(p))          # .../bin/python3.11 -> ...
        out.append(os.path.join(prefix, "lib", f"python{ver}", "lib-dynload"))
    out.append(f"/usr/lib/python{ver}/lib-dynload")           # Debian keeps it outside the prefix
    return list(dict.fromkeys(out))


_LIBS = libpath._LIBS                  # the per-run library cache (benchmarks clear it)
_read_library = libpath.read_library


def _export_bases(raw: RawElf) -> frozenset[str]:
    """The base names (version suffix cut) ``raw`` defines; computed once per object."""
    memo = raw.__dict__.get("_export_bases")
    if memo is None:
        memo = raw.__dict__["_export_bases"] = frozenset(sym.split("@", 1)[0] for sym in raw.exports)
    return memo


def _definers(objs: list[tuple[str, RawElf]]) -> dict[str, str]:
    """Symbol -> first object in load order that defines it (global lookup scope)."""
    out: dict[str, str] = {}
    for soname, raw in reversed(objs):
        out.update(dict.fromkeys(_export_bases(raw), soname))
    return out


class _Definer:
    """Which object of the closure defines a symbol first in load order, asked per
    symbol (a program imports a few hundred; its closure may export a million)."""

    def __init__(self, objs: list[tuple[str, RawElf]]) -> None:
        self._objs = [(soname, _export_bases(raw)) for soname, raw in objs]
        self._memo: dict[str, str | None] = {}

    def get(self, base: str) -> str | None:
        try:
            return self._memo[base]
        except KeyError:
            where = self._memo[base] = next((s for s, bases in self._objs if base in bases), None)
            return where


def predict(main: RawElf, ident: Identity, budget: Budget, follow_libraries: bool = True,
            root: "libpath.Root | None" = None) -> Prediction:
    """Predict the syscall set of ``main`` (already read) for its guest ABI.

    ``root`` is where libraries are looked for and files are read: this
    machine by default, or a container image's merged file system.
    """
    root = root or libpath.HOST
    table = table_for_abi(ident.abi) if ident.libc in ("glibc", None) else None
    pred = Prediction(ident.abi, table.name if table else None)
    objs = _Objects(main, budget, follow_libraries and ident.linkage == "dynamic", root)
    pred.libraries = objs.libraries
    numbers = _numbers(ident.abi)
    _startup(pred, ident, table)
    if table is not None:
        _imports(pred, objs.objects, table, budget)
    elif ident.linkage == "dynamic":
        pred.notes.append(f"no libc table for {ident.abi}"
                          f"{' with ' + ident.libc if ident.libc else ''}: imported functions not mapped to syscalls")
    for soname, raw in objs.objects:
        if is_glibc_object(soname) and raw is not main:
            continue
        _sites(pred, soname, raw, numbers, budget, library=raw is not main, root=root)
    pred.unnamed_numbers.sort()
    return pred


def _startup(pred: Prediction, ident: Identity, table: LibcTable | None) -> None:
    if table is None or ident.libc != "glibc" or ident.file_type in ("relocatable", "shared object"):
        return                  # start-up rows describe glibc programs only (not Go, musl, asm, ...)
    keys = ["@ld.so", "@start-dynamic"] if ident.linkage == "dynamic" else ["@start-static"]
    for key in keys + ["@exit"]:
        row = table.rows.get(key)
        if row is None:
            continue
        kind = "loader" if row.kind == "loader" else "startup"
        for name in row.syscalls:
            label = {"@ld.so": "dynamic loader (ld.so)", "@start-dynamic": "glibc start-up (dynamic)",
                     "@start-static": "glibc start-up (static)", "@exit": "exit"}.get(key, key[1:])
            pred.add(name, Origin(kind, label))


def _import_hits(raw: RawElf, soname: str, table: LibcTable, library: bool) -> list[tuple]:
    """(base, [(syscall, origin, vdso)] or None when not in the table) per distinct import of
    ``raw``, in sorted symbol order; the same for every program that loads the library, so
    it is kept on the object (keyed by the name it is loaded as and the table)."""
    memo = raw.__dict__.setdefault("_import_hits", {})
    key = (soname, table.name, library)
    hits = memo.get(key)
    if hits is None:
        hits = []
        for sym in sorted(set(raw.imports)):
            base = sym.split("@", 1)[0]
            hit = table.lookup(base)
            if hit is None:
                hits.append((base, None))
                continue
            row, via = hit
            label = f"import of {base}" + (f" (as {via})" if via != base else "") + f" by {soname}"
            origin = Origin("import", label, library=library)
            hits.append((base, [(name, origin, row.kind == "vdso") for name in row.syscalls]))
        memo[key] = hits
    return hits


def _imports(pred: Prediction, objs: list[tuple[str, RawElf]], table: LibcTable, budget: Budget) -> None:
    definer = _Definer(objs)
    unmapped: set[str] = set()
    for soname, raw in objs:
        if is_glibc_object(soname) and soname != objs[0][0]:
            continue                    # glibc's internal imports are summarised by the table
        budget.check()
        for base, adds in _import_hits(raw, soname, table, raw is not objs[0][1]):
            where = definer.get(base)
            if where is not None and not is_glibc_object(where):
                continue                # provided by another library: its own imports count instead
            if adds is None:
                if where is not None:       # defined by glibc but not in the table
                    unmapped.add(base)
                continue
            for name, origin, vdso in adds:
                pred.add(name, origin, vdso=vdso)
    pred.unmapped_imports = sorted(unmapped)


def _numbers(abi: str) -> dict[int, str]:
    try:
        from shimsim import tables
        return {n: s.name for n, s in tables.load_abi(abi).by_number.items()}
    except Exception:  # noqa: BLE001 - an ABI without a table just leaves numbers unnamed
        return {}


_SITES: dict[tuple[str, int, int], tuple[list[Site], list[str]]] = {}


def _scan(raw: RawElf, budget: Budget, root: "libpath.Root | None" = None) -> tuple[list[Site], list[str]]:
    if root is None or root is libpath.HOST:     # a file of this machine: maybe scanned by an earlier run
        from shimsim.elf.filecache import cached
        return cached("sites", raw.path, lambda: _scan_now(raw, budget, libpath.HOST))
    return _scan_now(raw, budget, root)


def _scan_now(raw: RawElf, budget: Budget, root: "libpath.Root") -> tuple[list[Site], list[str]]:
    with (root or libpath.HOST).open(raw.path) as fh:
        def read(off: int, n: int) -> bytes:
            fh.seek(off)
            return fh.read(n)
        return scan(raw, read, budget)


def _library_sites(raw: RawElf, budget: Budget, root: "libpath.Root | None" = None) -> tuple[list[Site], list[str]]:
    """A library's raw sites are the same for every program that loads it: scan each
    (path, size, mtime) of this machine once per process (libLLVM alone takes seconds,
    and a corpus of /usr/bin has dozens of programs that need it).  Files inside
    another root (an image) are scanned each time."""
    if root is not None and root is not libpath.HOST:
        return _scan(raw, budget, root)
    st = os.stat(raw.path)
    key = (os.path.realpath(raw.path), st.st_size, st.st_mtime_ns)
    hit = _SITES.get(key)
    if hit is None:
        if len(_SITES) > 2048:
            _SITES.clear()
        hit = _SITES[key] = _scan(raw, budget)       # (and across runs: shimsim.elf.filecache)
    return hit


def _sites(pred: Prediction, soname: str, raw: RawElf, numbers: dict[int, str], budget: Budget,
           library: bool = False, root: "libpath.Root | None" = None) -> None:
    sites, warns = _library_sites(raw, budget, root) if library else _scan(raw, budget, root)
    pred.notes.extend(f"{soname}: {w}" for w in warns)
    for s in sites:
        pred.sites += 1
        if s.number is None:
            pred.unknown_sites += 1
            continue
        name = numbers.get(s.number)
        if name is None:
            if numbers:                 # not a syscall of this ABI: bytes that only look like a site
                pred.unknown_sites += 1
                if s.number not in pred.unnamed_numbers:
                    pred.unnamed_numbers.append(s.number)
                continue
            name = f"#{s.number}"
        pred.add(name, Origin("syscall()" if s.kind == "syscall()" else "site", _site_text(soname, s),
                              library=library))


def _site_text(soname: str, s: Site) -> str:
    fn = f" in {s.function}" if s.function else ""
    what = {"syscall": "syscall", "int80": "int 0x80", "vsyscall": "call *%gs:0x10", "svc": "svc #0",
            "syscall()": "call to syscall(2)"}[s.kind]
    near = "" if s.how == "adjacent" else " (number loaded a few instructions before)"
    return f"{what} at {s.address:#x}{fn} in {soname}{near}"
