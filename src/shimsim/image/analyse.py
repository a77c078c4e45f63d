# SPDX-License-Identifier: MIT
"""From a chosen platform manifest to verdicts: layers merged, entrypoint found, ELF judged.

The verdict for a platform and a host comes first, from the declared
platform alone (which layer, if any, would run it there).  Then the merged
file system gives the entrypoint (``Entrypoint`` + ``Cmd`` through the
image's ``PATH`` and ``#!`` lines), each ELF file is inspected with the
image as its root (its own ld.so.cache, musl path file and library
directories), and the declared platform is checked against what the binary
actually is.
"""
from __future__ import annotations

import errno
import hashlib
import io
import posixpath
import struct
from dataclasses import dataclass, field
from functools import lru_cache

from shimsim.elf import Inspection, libpath
from shimsim.elf.ident import MACHINES, abi_name, identify
from shimsim.elf.predict import predict
from shimsim.elf.reader import Budget, ElfReadError, RawElf, read_elf_stream
from shimsim.elf.verdict import CANNOT, machine_abi, verdict
from shimsim.errors import ShimsimError, UnknownName
from shimsim.image.archive import ImageError, Store, stream_errors
from shimsim.image.fs import ELF_MAGIC, MAX_KEPT, ImageFS, Node, read_layer
from shimsim.image.manifest import Candidate, Platform

SEVERITY = {"runs": 0, "unknown": 0, "degraded": 1, "may fail": 2, "fails": 3, "cannot run": 4}
# OCI architecture names (GOARCH values) -> e_machine
# source: opencontainers/image-spec@069d186692cf734b8f5119a0cfdf4ff1ad741934:image-index.md (platform.architecture: GOARCH values)
ARCH_MACHINE = {"amd64": 62, "386": 3, "arm64": 183, "arm": 40, "ppc64le": 21, "ppc64": 21, "s390x": 22,
                "riscv64": 243, "loong64": 258, "mips64le": 8, "mips64": 8, "mipsle": 8, "mips": 8}
OS_NAME = {"linux": "linux", "freebsd": "freebsd", "netbsd": "netbsd", "openbsd": "openbsd",
           "illumos": "illumos", "solaris": "illumos", "darwin": "darwin", "windows": "windows"}
# Host names a user may type for a whole system, and the ABI (or opaque host) they mean
HOST_ALIASES = {"linux": "linux-x86_64", "freebsd": "freebsd-amd64", "illumos": "illumos-amd64",
                "smartos": "illumos-amd64", "netbsd": "netbsd-amd64", "openbsd": "openbsd-amd64",
                "windows": "windows-nt-lxcore", "wsl1": "windows-nt-lxcore", "gvisor": "gvisor-sentry",
                "macos": "darwin-x86_64", "darwin": "darwin-x86_64"}
# the PATH docker and podman give a container whose image sets none (moby's DefaultPathEnvUnix;
# commit not pinned here)
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# musl's loader: LD_LIBRARY_PATH, DT_RPATH/DT_RUNPATH, then /etc/ld-musl-ARCH.path (colon or newline
# separated) or, without it, this list
# source: bminor/musl@039d3c34f2e3578a8b7ada42f89213b844aa7a4e:ldso/dynlink.c (mirror of git.musl-libc.org)
MUSL_DEFAULT = ("/lib", "/usr/local/lib", "/usr/lib")
# FreeBSD rtld after DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH: the directories of the hints file
# ldconfig writes, then /lib and /usr/lib; ldconfig puts /usr/local/lib in the hints on installed
# systems, so it is searched too when an image has no hints file
FREEBSD_DIRS = ("/lib", "/usr/lib", "/usr/local/lib")
# struct elfhints_hdr: magic, version, strtab, strsize, dirlist, dirlistlen (u32 each), then spares
# source: freebsd/freebsd-src@039ea811636f62633b18bcadb9f5332b215f7900:include/elf-hints.h
ELFHINTS_MAGIC = 0x746e6845
NOT_JUDGED = "not judged: "
# 32-bit guests a 64-bit kernel serves with its own compat syscall table (CONFIG_IA32_EMULATION)
COMPAT32 = {"linux-x86_64": ("linux-i386",)}
MAX_SHEBANG = 256               # Linux's BINPRM_BUF_SIZE: the #! line is cut there
MAX_INTERP_DEPTH = 4            # Linux's interpreter recursion limit (BINPRM_MAX_RECURSION)


def platform_abi(p: Platform) -> str:
    os_name = OS_NAME.get(p.os, p.os)
    em = ARCH_MACHINE.get(p.architecture)
    if em is None:
        return f"{os_name}-{p.architecture}"
    return abi_name(os_name, em)


# ---------------------------------------------------------------- targets

@dataclass
class Target:
    name: str                   # as the user gave it
    kind: str                   # "host" or "shim"
    host: str                   # host ABI (or opaque host name)
    version: int | None = None  # the host's __FreeBSD_version, from ABI@VERSION


# __FreeBSD_version is <major><two-digit minor><three digits>: 1400097 is 14.0
# source: freebsd/freebsd-src@0010db7bbc62a031b34706ed4e5f60549f4740fd:sys/sys/param.h
def freebsd_version(text: str) -> int:
    """'14.1', '14' or a raw __FreeBSD_version ('1401000') as __FreeBSD_version."""
    if text.isdigit() and len(text) >= 6:
        return int(text)
    major, _, minor = text.partition(".")
    if not major.isdigit() or (minor and not minor.isdigit()):
        raise ValueError(text)
    return int(major) * 100000 + int(minor or 0) * 1000


def version_text(v: int) -> str:
    return f"{v // 100000}.{(v // 1000) % 100}"


@lru_cache(maxsize=64)
def _spec(name: str):
    """A shipped shim's spec, parsed once (each is a few thousand lines of TOML)."""
    from shimsim import shim as shimmod
    return shimmod.load_spec(name)


@lru_cache(maxsize=1)
def _shim_hosts() -> tuple[tuple[str, str, str], ...]:
    """(name, guest, host) of every shipped shim."""
    from shimsim import shim as shimmod
    return tuple((n, _spec(n).guest, _spec(n).host) for n in shimmod.list_shims())


def make_targets(hosts: list[str], shims: list[str]) -> list[Target]:
    from shimsim import shim as shimmod
    from shimsim import tables
    known_hosts = set(tables.list_abis()) | {h for _n, _g, h in _shim_hosts()} - {"*"}
    out: list[Target] = []
    for h in hosts:
        base, _, ver = h.partition("@")
        real = HOST_ALIASES.get(base, base)
        if real not in known_hosts:
            raise UnknownName("host", base, sorted(known_hosts | set(HOST_ALIASES)))
        version = None
        if ver:
            if not real.startswith("freebsd-"):
                raise ShimsimError(f"--host {h}: a version (@VERSION) is understood for FreeBSD hosts only")
            try:
                version = freebsd_version(ver)
            except ValueError:
                raise ShimsimError(f"--host {h}: expected a FreeBSD version such as 14.1 or 1401000") from None
        out.append(Target(h, "host", real, version))
    names = shimmod.list_shims()
    for s in shims:
        for n in (names if s == "all" else [s]):
            if n not in names:
                raise UnknownName("shim", n, names)
            spec = _spec(n)
            out.append(Target(n, "shim", machine_abi() if spec.host == shimmod.ANY else spec.host))
    if not out:
        out.append(Target(machine_abi(), "host", machine_abi()))
    return out


def layer_for(guest: str, t: Target) -> tuple[str | None, str]:
    """(shim that runs a ``guest`` binary for this target, or None; why)."""
    from shimsim import shim as shimmod
    if t.kind == "shim":
        spec = _spec(t.name)
        if spec.guest == shimmod.ANY:
            if t.name == "native" and guest != t.host:
                return None, _no_layer(guest, t.host)
            return t.name, f"{t.name} runs any guest"
        if spec.guest != guest:
            return None, f"no layer: {t.name} runs {spec.guest} guests, this is {guest}"
        return t.name, f"{t.name} runs {guest} guests on {spec.host}"
    if guest == t.host:
        return "native", f"native: a {guest} image on a {t.host} host"
    if guest in COMPAT32.get(t.host, ()):
        return "native", f"native: the {t.host} kernel runs {guest} programs itself (32-bit compat syscalls)"
    if guest.startswith("windows-") and t.host.startswith("windows"):
        return None, NOT_JUDGED + "a Windows image runs on a Windows host as a Windows container (PE programs)"
    for n, g, h in _shim_hosts():
        if g == guest and h == t.host and "@" not in n and not _emulator(g, h):
            n, note = _release_for(n, t.version)
            desc = _spec(n).description
            return n, (f"through {n} ({desc.split(',')[0]})" if desc else f"through {n}") + note
    why = _no_layer(guest, t.host)
    emulators = [n for n, g, h in _shim_hosts() if g == guest and h == t.host and _emulator(g, h)]
    if emulators:       # an emulator is a choice the user makes (binfmt_misc), never assumed
        why += f"; --shim {emulators[0]} judges it under that emulator"
    return None, why


def _release_for(layer: str, version: int | None) -> tuple[str, str]:
    """The release of LAYER a FreeBSD host of __FreeBSD_version VERSION carries: the newest
    modelled `LAYER@freebsd-X.Y` not newer than the host (the plain name is the newest
    release, named by its alias in tables/shims/_releases.toml); and a note when the host
    is older than every modelled release."""
    from shimsim import shim as shimmod
    if version is None:
        return layer, ""
    prefix = f"{layer}@freebsd-"
    releases: dict[int, str] = {}
    for name in shimmod.list_shims() + sorted(shimmod.release_aliases()):
        if name.startswith(prefix):
            try:
                releases[freebsd_version(name[len(prefix):])] = shimmod.release_aliases().get(name, name)
            except ValueError:
                continue
    if not releases:
        return layer, ""
    fit = [v for v in releases if v <= version // 1000 * 1000]
    if fit:
        return releases[max(fit)], ""
    oldest = min(releases)
    return releases[oldest], (f"; FreeBSD {version_text(version)}'s layer is not modelled, "
                              f"judged by its {version_text(oldest)} release")


def _emulator(guest: str, host: str) -> bool:
    """A layer that runs another architecture of the same OS: a CPU emulator (qemu-user)."""
    return guest.partition("-")[0] == host.partition("-")[0] and guest != host


def _no_layer(guest: str, host: str) -> str:
    g_os = guest.partition("-")[0]
    h_os = host.partition("-")[0]
    if g_os == h_os:
        return (f"cannot run: exec format error (a {guest} binary on a {host} host: other architecture; "
                "no emulator such as qemu-user is modelled)")
    if h_os == "linux" and g_os in ("freebsd", "netbsd", "openbsd", "illumos"):
        return (f"cannot run: no layer runs {g_os} binaries on Linux; its ELF loader does not check the OS brand, "
                f"so a {guest} binary starts and its {g_os} system call numbers reach Linux as other calls "
                "(it fails at its first system calls, often silently)")
    if g_os == "windows":
        return f"cannot run: a Windows image needs a Windows host (this is {host})"
    return f"cannot run: no layer runs {guest} binaries on {host}"


def platform_verdicts(cand: Candidate, targets: list[Target]) -> list[dict]:
    """Per target, from the declared platform alone: which layer would start it (status native,
    layer, cannot run or unknown)."""
    out = []
    for t in targets:
        if cand.platform is None:
            out.append({"target": t.name, "host": t.host, "shim": None, "status": "unknown",
                        "reason": "the platform is not declared (no descriptor platform and no config)"})
            continue
        guest = platform_abi(cand.platform)
        shim, why = layer_for(guest, t)
        # "native" or "layer": something would start it (the binaries' verdicts say how far it gets)
        status = ("native" if shim == "native" else "layer") if shim else \
            "unknown" if why.startswith(NOT_JUDGED) else CANNOT
        out.append({"target": t.name, "host": t.host, "shim": shim, "guest": guest, "status": status, "reason": why})
    return out


# ---------------------------------------------------------------- file system

@dataclass
class LayerInfo:
    index: int
    name: str
    digest: str | None
    diff_id: str | None
    created_by: str
    compression: str | None
    entries: int = 0
    whiteouts: int = 0
    opaque: int = 0

    def to_json(self) -> dict:
        return {"index": self.index, "blob": self.name, "digest": self.digest, "diff_id": self.diff_id,
                "created_by": self.created_by, "compression": self.compression, "entries": self.entries,
                "whiteouts": self.whiteouts, "opaque_directories": self.opaque}


def merge_layers(store: Store, cand: Candidate) -> tuple[ImageFS, list[LayerInfo]]:
    """Stream each layer once (in storage order), verify it, merge in manifest order."""
    for name in cand.missing:
        raise ImageError(store.image, name, f"missing blob (needed by {cand.platform.text() if cand.platform else 'the image'})")
    budget = [MAX_KEPT]                # read_layer adds the image's member allowance (fs.MAX_ENTRIES)
    parsed = {}
    names = list(dict.fromkeys(layer.name for layer in cand.layers))
    index_of = {layer.name: i for i, layer in reversed(list(enumerate(cand.layers)))}
    try:
        for name, fh in store.streams(names):
            i = index_of[name]
            alg = (cand.layers[i].digest or "sha256:").split(":", 1)[0]
            parsed[name] = read_layer(i, fh, store.image, name, budget, alg)
    except ImageError:
        raise
    except stream_errors() as exc:
        raise ImageError(store.image, None, f"cannot read a layer: {exc}") from None
    fs = ImageFS()
    infos = []
    for i, layer in enumerate(cand.layers):
        ch = parsed.get(layer.name)
        if ch is None:
            raise ImageError(store.image, layer.name, "missing blob")
        if layer.digest and ch.digest != layer.digest and ch.diff_id != layer.digest:
            raise ImageError(store.image, layer.name, f"digest mismatch: content is {ch.digest}, "
                                                      f"the manifest says {layer.digest}")
        if layer.diff_id and ch.diff_id != layer.diff_id:
            raise ImageError(store.image, layer.name, f"diff_id mismatch: the uncompressed layer is {ch.diff_id}, "
                                                      f"the config's rootfs.diff_ids[{i}] says {layer.diff_id}")
        for _p, node, _l in ch.entries:
            node.layer = i
        ch.index = i
        fs.apply(ch, store.image, layer.name)
        infos.append(LayerInfo(i, layer.name, layer.digest or ch.digest, ch.diff_id, layer.created_by,
                               ch.compression, len(ch.entries), len(ch.whiteouts), len(ch.opaque)))
    return fs, infos


# musl's loader answers these names with itself: "lib" + one of them, then anything
# source: bminor/musl@039d3c34f2e3578a8b7ada42f89213b844aa7a4e:ldso/dynlink.c (load_library, "reserved")
MUSL_RESERVED = ("c.", "pthread.", "rt.", "m.", "dl.", "util.", "xnet.")


def _musl_reserved(soname: str) -> bool:
    return soname.startswith("lib") and soname[3:].startswith(MUSL_RESERVED)


class ImageRoot(libpath.Root):
    """The merged image as the loader's root: its own cache, path files and directories."""

    where = "in the image"

    def __init__(self, fs: ImageFS, env: dict[str, str]) -> None:
        self.fs = fs
        self.env = env
        self.flavour = "glibc"
        self.musl_arch = ""
        self.musl_interp = ""
        self._libs: dict[str, RawElf] = {}
        self._cache: dict[str, list[str]] | None = None

    def ld_so_cache(self) -> dict[str, list[str]]:
        if self._cache is None:
            self._cache = {}
            data = self.fs.read("/etc/ld.so.cache")
            if data:
                for soname, lib in libpath.parse_ld_so_cache(data):
                    self._cache.setdefault(soname, []).append(lib)
        return self._cache

    def _env_dirs(self) -> list[str]:
        return [d for d in self.env.get("LD_LIBRARY_PATH", "").split(":") if d]

    def candidates(self, soname: str, machine: int, requester: str, rpath: list[str],
                   runpath: list[str]) -> list[str]:
        if "/" in soname:
            return [soname]
        origin = posixpath.dirname(self.realpath(requester))
        exp = [libpath._expand(p, origin) for p in (rpath or [])]
        if self.flavour == "musl":
            if self.musl_interp and _musl_reserved(soname):
                return [self.musl_interp]       # libc, libm, libpthread, ...: the loader itself
            dirs = self._env_dirs() + exp + self._musl_dirs()
            out = [posixpath.join(d, soname) for d in dirs]
        else:
            dirs = ([] if runpath else exp) + self._env_dirs() + [libpath._expand(p, origin) for p in runpath]
            out = [posixpath.join(d, soname) for d in dirs]
            if self.flavour == "freebsd":
                out += [posixpath.join(d, soname) for d in self._freebsd_hints() + list(FREEBSD_DIRS)]
            else:
                out += self.ld_so_cache().get(soname, [])
                out += [posixpath.join(d, soname) for d in libpath.default_dirs(machine)]
        return list(dict.fromkeys(out))

    def _freebsd_hints(self) -> list[str]:
        """The directory list of the image's /var/run/ld-elf.so.hints (written by ldconfig)."""
        data = self.fs.read("/var/run/ld-elf.so.hints")
        if not data or len(data) < 24:
            return []
        for order in "<>":
            magic, _version, strtab, strsize, dirlist, dirlistlen = struct.unpack_from(order + "6I", data)
            if magic == ELFHINTS_MAGIC:
                start = strtab + dirlist
                text = data[start:start + min(dirlistlen, strsize, 1 << 16)].decode("utf-8", "replace")
                return [d for d in text.split(":") if d]
        return []

    def _musl_dirs(self) -> list[str]:
        data = self.fs.read(f"/etc/ld-musl-{self.musl_arch}.path") if self.musl_arch else None
        if data is None:
            return list(MUSL_DEFAULT)
        text = data.decode("utf-8", "replace")
        return [d for part in text.split("\n") for d in part.split(":") if d.strip()]

    def isfile(self, path: str) -> bool:
        return self.fs.isfile(path)

    def listdir(self, path: str) -> list[str]:
        return self.fs.listdir(path)

    def realpath(self, path: str) -> str:
        real = self.fs.resolve(path)
        return "/" + real if real is not None else path

    def open(self, path: str):
        data = self.fs.read(path)
        if data is None:
            raise OSError(errno.EIO, "content not kept in memory", path)
        return io.BytesIO(data)

    def read_library(self, path: str, budget: Budget) -> RawElf:
        key = self.realpath(path)
        raw = self._libs.get(key)
        if raw is None:
            data = self.fs.read(path)
            if data is None:
                raise OSError(errno.EIO, "content not kept in memory", path)
            raw = self._libs[key] = read_elf_stream(key, io.BytesIO(data), len(data), budget)
        return raw


# ---------------------------------------------------------------- entrypoint

@dataclass
class Step:
    path: str
    kind: str                    # "elf", "script"
    layer: int
    interpreter: str | None = None
    argument: str | None = None
    named: str = ""              # the name it was reached by ("/bin/sh" for /usr/bin/dash)

    def to_json(self) -> dict:
        return {"path": self.path, "named": self.named or self.path, "kind": self.kind, "layer": self.layer,
                "interpreter": self.interpreter, "argument": self.argument}


@dataclass
class Entrypoint:
    argv: list[str]
    source: str                  # "Entrypoint+Cmd", "Entrypoint", "Cmd", "none"
    chain: list[Step] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict:
        return {"argv": self.argv, "from": self.source, "chain": [s.to_json() for s in self.chain],
                "error": self.error}


def image_env(cfg: dict | None) -> dict[str, str]:
    env: dict[str, str] = {}
    for item in ((cfg or {}).get("config") or {}).get("Env") or []:
        if isinstance(item, str) and "=" in item:
            k, v = item.split("=", 1)
            env[k] = v
    return env


def find_entrypoint(fs: ImageFS, cfg: dict | None) -> Entrypoint:
    c = (cfg or {}).get("config") or {}
    ep = _argv(c.get("Entrypoint"))
    cmd = _argv(c.get("Cmd"))
    argv = ep + cmd
    source = "Entrypoint+Cmd" if ep and cmd else "Entrypoint" if ep else "Cmd" if cmd else "none"
    out = Entrypoint(argv, source)
    if not argv:
        out.error = ("the image sets neither Entrypoint nor Cmd: a runtime needs a command on its command line "
                     "(docker says 'no command specified')")
        return out
    env = image_env(cfg)
    path_var = env.get("PATH", DEFAULT_PATH)
    cwd = (str(c.get("WorkingDir") or "/")).lstrip("/")
    prog, search = argv[0], "/" not in argv[0]
    for _ in range(MAX_INTERP_DEPTH + 2):
        found = _find_program(fs, prog, path_var, cwd) if search else fs.lookup(prog, cwd=cwd)
        hit = found[:2] if found else None
        named = found[2] if search and found else prog
        if hit is None:
            where = f"in the image's PATH ({path_var})" if search else "in the image"
            out.error = (f"{prog}: not found {where}: the runtime fails with "
                         + (f"'exec: \"{prog}\": executable file not found in $PATH'" if search
                            else "'no such file or directory'"))
            return out
        real, node = hit
        if node.kind != "file":
            out.error = f"{prog} (/{real}) is a {node.kind}, not a program: 'permission denied'"
            return out
        if not fs.executable(node):
            out.error = f"{prog} (/{real}) is not executable (mode {node.mode:o}): 'permission denied'"
            return out
        if node.head[:4] == ELF_MAGIC:
            out.chain.append(Step("/" + real, "elf", node.layer, named=named))
            last = out.chain[-1]
            if len(out.chain) >= 2 and out.chain[-2].kind == "script" and \
                    posixpath.basename(last.path) == "env" and out.chain[-2].argument:
                # '#!/usr/bin/env NAME': env looks NAME up in PATH and execs it
                name = out.chain[-2].argument.split()[0]
                if name.startswith("-"):
                    return out
                prog, search = name, "/" not in name
                continue
            return out
        if node.head[:2] == b"#!":
            line = node.head[2:MAX_SHEBANG].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
            interp, _, arg = line.replace("\t", " ").partition(" ")
            out.chain.append(Step("/" + real, "script", node.layer, interp or None, arg.strip() or None, named))
            if not interp:
                out.error = f"/{real}: '#!' names no interpreter: 'exec format error'"
                return out
            if len(out.chain) > MAX_INTERP_DEPTH:
                out.error = f"more than {MAX_INTERP_DEPTH} nested #! interpreters: 'exec format error' (ELOOP)"
                return out
            prog, search = interp, False
            cwd = posixpath.dirname(real)
            continue
        out.chain.append(Step("/" + real, "data", node.layer, named=named))
        out.error = f"/{real} is neither ELF nor a #! script: 'exec format error'"
        return out
    return out


def _argv(value) -> list[str]:
    """Entrypoint/Cmd: a list, or a lone string (which docker runs as one word)."""
    if isinstance(value, str):
        return [value] if value else []
    return [str(a) for a in value or []]


def _find_program(fs: ImageFS, name: str, path_var: str, cwd: str) -> tuple[str, Node, str] | None:
    """(tree path, node, the PATH candidate that found it), as execvp searches."""
    for d in path_var.split(":"):
        cand = posixpath.join(d or ".", name)
        hit = fs.lookup(cand, cwd=cwd)
        if hit is not None and hit[1].kind == "file" and fs.executable(hit[1]):
            return hit[0], hit[1], cand
    return None


# ---------------------------------------------------------------- binaries

@dataclass
class Binary:
    path: str
    layer: int
    role: str                    # "entrypoint", "interpreter", "all-binaries"
    inspection: Inspection | None = None
    error: str | None = None
    verdicts: list[dict] = field(default_factory=list)
    language: str | None = None
    missing: list[str] = field(default_factory=list)     # libraries or interpreter absent from the image

    def worst(self) -> int:
        return max((SEVERITY.get(v["status"], 0) for v in self.verdicts), default=0)

    def to_json(self) -> dict:
        ins = self.inspection
        return {"path": self.path, "layer": self.layer, "role": self.role, "error": self.error,
                "language": self.language, "missing": self.missing,
                "identity": ins.identity.to_json() if ins else None,
                "libraries": [{"soname": lib.soname, "path": lib.path, "error": lib.error}
                              for lib in ins.prediction.libraries] if ins else [],
                "syscalls": len(ins.prediction.syscalls) if ins else 0,
                "warnings": ins.warnings if ins else [],
                "verdicts": self.verdicts}


# static programs seen before (busybox in every layer of every platform): (sha256, name) -> analysis
_STATIC: dict[tuple[bytes, str], tuple] = {}


def inspect_binary(fs: ImageFS, root: ImageRoot, path: str, role: str, targets: list[Target],
                   seconds: float = 30.0, follow: bool = True) -> Binary:
    hit = fs.lookup(path)
    if hit is None:
        return Binary(path, -1, role, error="not in the image")
    real, node = hit
    b = Binary("/" + real, node.layer, role)
    if node.data is None:
        b.error = "content not kept in memory (the image is over the 2 GiB analysis budget)"
        return b
    budget = Budget(seconds)
    key = (hashlib.sha256(node.data).digest(), posixpath.basename(b.path))
    try:
        if key in _STATIC:
            raw, ident, pred = _STATIC[key]
        else:
            raw = read_elf_stream(b.path, io.BytesIO(node.data), len(node.data), budget)
            ident = identify(raw)
            root.flavour = ("freebsd" if ident.os == "freebsd" else
                            "musl" if ident.libc == "musl" or (ident.interp or "").find("ld-musl") >= 0 else "glibc")
            root.musl_arch = posixpath.basename(ident.interp or "").removeprefix("ld-musl-").removesuffix(".so.1")
            root.musl_interp = (ident.interp or "") if root.flavour == "musl" else ""
            pred = predict(raw, ident, budget, follow, root)
            if ident.linkage != "dynamic":      # nothing of it depends on the image around it
                if len(_STATIC) > 256:
                    _STATIC.clear()
                _STATIC[key] = (raw, ident, pred)
    except ElfReadError as exc:
        b.error = str(exc)
        return b
    except RecursionError:
        b.error = "corrupt ELF: structure nested too deeply"
        return b
    except OSError as exc:
        b.error = f"cannot read: {exc.strerror or exc}"
        return b
    b.inspection = Inspection(b.path, ident, pred, warnings=list(raw.warnings))
    if {".go.buildinfo", ".gopclntab", ".note.go.buildid"} & set(raw.section_names) or \
            any(e.text.startswith("Go build ID") for e in ident.evidence):
        b.language = "go"
    if ident.interp and not fs.isfile(ident.interp):
        b.missing.append(ident.interp)
    b.missing += [lib.soname for lib in pred.libraries if lib.path is None and not lib.dlopen_by]
    for t in targets:
        b.verdicts.append(_binary_verdict(b, t))
    return b


def _binary_verdict(b: Binary, t: Target) -> dict:
    ins = b.inspection
    assert ins is not None
    guest = ins.identity.abi
    shim, why = layer_for(guest, t)
    base = {"target": t.name, "host": t.host, "shim": shim, "guest": guest}
    if shim is None:
        return {**base, "status": "unknown" if why.startswith(NOT_JUDGED) else CANNOT, "reason": why,
                "counts": {}, "calls": []}
    if b.missing:
        interp = ins.identity.interp
        if interp in b.missing:
            why = (f"cannot run: its interpreter {interp} is not in the image: exec fails with "
                   "'no such file or directory' although the file itself is there")
        else:
            why = (f"cannot run: {', '.join(b.missing[:4])} not found in the image: the loader stops "
                   "('error while loading shared libraries')")
        return {**base, "status": CANNOT, "reason": why, "counts": {}, "calls": []}
    try:
        native_host = guest if guest in COMPAT32.get(t.host, ()) else t.host
        v = verdict(ins.identity, ins.prediction, shim, native_host if shim == "native" else None)
    except ShimsimError as exc:
        return {**base, "status": CANNOT, "reason": f"cannot evaluate: {exc}", "counts": {}, "calls": []}
    j = v.to_json()
    status, reason = j["status"], j["reason"]
    kv = ins.identity.kernel_version
    if t.version and ins.identity.os == "freebsd" and kv and kv.isdigit() and int(kv) > t.version:
        if SEVERITY.get(status, 0) < SEVERITY["may fail"]:
            status = "may fail"
        reason = (f"built for FreeBSD {version_text(int(kv))} (__FreeBSD_version {kv}), newer than the host's "
                  f"{version_text(t.version)} ({t.version}): it may make system calls the older kernel lacks; "
                  + reason)
    return {**base, "status": status, "reason": reason, "counts": j["counts"], "calls": j["calls"][:40]}


def mismatch(cand: Candidate, b: Binary | None) -> str | None:
    """The declared platform against the entrypoint's ELF: the report's headline when they differ."""
    if cand.platform is None or b is None or b.inspection is None:
        return None
    declared = platform_abi(cand.platform)
    i = b.inspection.identity
    if i.abi == declared:
        return None
    d_os = declared.split("-", 1)[0]
    em = ARCH_MACHINE.get(cand.platform.architecture)
    if em is not None and em != i.machine:
        arch = MACHINES.get(i.machine, (i.machine_name, i.machine_name))[0]
        return (f"declared {cand.platform.text()} but {b.path} is {_article(arch)} {arch} ELF ({i.abi}): "
                f"on a {cand.platform.text()} host it fails with 'exec format error'")
    if d_os != i.os:
        return (f"declared {cand.platform.text()} but {b.path} is a {i.os} binary ({i.abi}, decided by "
                f"{i.decided_by}): a {d_os} host runs it with no layer")
    return f"declared {cand.platform.text()} ({declared}) but {b.path} is {i.abi}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiox" else "a"
