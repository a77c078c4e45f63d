# SPDX-License-Identifier: MIT
"""atheris fuzz targets for shimsim's readers of untrusted input.

    python fuzz/fuzz.py --list
    python fuzz/fuzz.py TARGET [libFuzzer flags] [CORPUS_DIR ...]
    python fuzz/fuzz.py TARGET --replay FILE...     (run inputs once, no atheris needed)

Each target feeds bytes to one public entry point.  The contract checked on
every input: the entry point returns, or raises ShimsimError (a one-line
user error, exit 2) or ElfReadError; any other exception is a bug, and so is
a crash of the C core (a signal kills the process; libFuzzer saves the
input).  The differential targets also require the C and Python engines to
agree exactly, event by event and count by count.

Python code is coverage-instrumented by atheris; the C core (a cffi module
built by gcc) is exercised but not instrumented (atheris needs a clang
build of the extension for C coverage), so it is fuzzed through Python
coverage and the differential oracle, and under ASan when the extension is
built with SHIMSIM_SANITIZE=1 (see fuzz/README.md).
"""
from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if any((ROOT / "src" / "shimsim").glob("_core*.so")):   # a development build in place; else the installed one
    sys.path.insert(0, str(ROOT / "src"))

_TMP = tempfile.mkdtemp(prefix="shimsim-fuzz-")


def _file(data: bytes, name: str) -> str:
    """The input as a file (the readers take paths, as the CLI does)."""
    p = os.path.join(_TMP, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def _expected() -> tuple[type[BaseException], ...]:
    from shimsim.elf import ElfReadError
    from shimsim.errors import ShimsimError

    return (ShimsimError, ElfReadError)


def _events(path: str, fmt: str, engine: str) -> tuple[list[dict], dict]:
    from shimsim import trace

    t = trace.open([path], format=fmt, engine=engine)
    evs = [e.to_json() for e in t.events()]
    return evs, t.stats.to_json()


def _parse_outcome(path: str, fmt: str, engine: str):
    try:
        return "ok", _events(path, fmt, engine)
    except _expected() as exc:
        return "error", str(exc)


# ------------------------------------------------------------------ targets

def t_tokeniser(data: bytes) -> None:
    """The C tokeniser (csrc/tokenise.c) through the C engine, strace text."""
    from shimsim import trace

    try:
        t = trace.open([_file(data, "in.strace")], format="strace", engine="c")
        for _chunk in t.chunks():       # the engine's own batches: no Python object per event
            pass
        t.stats.to_json()
    except _expected():
        pass


def t_strace_diff(data: bytes) -> None:
    """Differential: C tokeniser vs the Python reference parser on strace text."""
    p = _file(data, "in.strace")
    py = _parse_outcome(p, "strace", "python")
    c = _parse_outcome(p, "strace", "c")
    if py[0] != c[0]:
        raise AssertionError(f"engines disagree: python {py[0]} {str(py[1])[:300]!r}, c {c[0]} {str(c[1])[:300]!r}")
    if py[0] == "ok":
        (pe, ps), (ce, cs) = py[1], c[1]
        if len(pe) != len(ce):
            raise AssertionError(f"python parsed {len(pe)} events, c {len(ce)}")
        for i, (a, b) in enumerate(zip(pe, ce)):
            if a != b:
                raise AssertionError(f"event {i}: python {a} != c {b}")
        if ps != cs:
            raise AssertionError(f"stats: python {ps} != c {cs}")


_LINUX_SHIMS: list = []


def _shims() -> list:
    """Compiled shims for the strace guest: every shipped one whose guest is linux-x86_64
    (or any), and a spec derived for linux-x86_64 on each other OS's ABI."""
    if not _LINUX_SHIMS:
        from shimsim import derive, shim

        for name in shim.list_shims():
            spec = shim.load_spec(name)
            if spec.guest in (shim.ANY, "linux-x86_64"):
                _LINUX_SHIMS.append(shim.compile_shim(spec, "linux-x86_64"))
        for host in ("freebsd-amd64", "darwin-x86_64", "illumos-amd64"):
            text = derive.derive_text("linux-x86_64", host)
            _LINUX_SHIMS.append(shim.compile_shim(shim.parse_spec(text, f"<derived {host}>"), "linux-x86_64"))
    return _LINUX_SHIMS


def t_replay_diff(data: bytes) -> None:
    """Differential: the C replay engine vs the Python one, on the events of the
    input (parsed by the Python reference) through a shim the first byte picks."""
    from shimsim import trace
    from shimsim.replay import replayer

    if not data:
        return
    cs = _shims()[data[0] % len(_shims())]
    p = _file(data[1:], "in.strace")
    try:
        evs = list(trace.open([p], format="strace", engine="python").events())
    except _expected():
        return
    py = replayer.replay_events(cs, evs, "python").to_json()
    c = replayer.replay_events(cs, evs, "c").to_json()
    py.pop("engine", None)
    c.pop("engine", None)
    if py != c:
        diff = {k: (py.get(k), c.get(k)) for k in set(py) | set(c) if py.get(k) != c.get(k)}
        raise AssertionError(f"replay of {len(evs)} events through {cs.name}: python != c: {str(diff)[:2000]}")


def _parser(fmt: str) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        _parse_outcome(_file(data, f"in.{fmt}"), fmt, "python")
    target.__doc__ = f"The Python {fmt} parser (trace/formats.py registry)."
    return target


def t_shim_spec(data: bytes) -> None:
    """The shim-spec compiler: TOML text -> Spec -> CompiledShim."""
    from shimsim import shim

    text = data.decode("utf-8", "surrogateescape")
    try:
        spec = shim.parse_spec(text, "<fuzz>")
        shim.compile_shim(spec)
    except _expected():
        pass


_SPECS: list[list[str]] = []


def t_shim_spec_lines(data: bytes) -> None:
    """The shim-spec compiler past the TOML parser: one line of a shipped spec replaced by the input."""
    from shimsim import shim

    if not _SPECS:
        for p in sorted((ROOT / "src" / "shimsim" / "_tables" / "shims").glob("*.toml")):
            _SPECS.append(p.read_text(encoding="utf-8").splitlines())
    if len(data) < 3:
        return
    lines = list(_SPECS[data[0] % len(_SPECS)])
    i = int.from_bytes(data[1:3], "little") % len(lines)
    lines[i:i + 1] = data[3:].decode("utf-8", "surrogateescape").split("\n")
    try:
        shim.compile_shim(shim.parse_spec("\n".join(lines) + "\n", "<fuzz>"))
    except _expected():
        pass


def t_elf(data: bytes) -> None:
    """The ELF reader and inspection (headers, sections, notes, symbols, libc)."""
    from shimsim.elf import inspect_path

    try:
        inspect_path(_file(data, "in.elf"), follow_libraries=False, seconds=5.0)
    except _expected():
        pass


def targets() -> dict[str, Callable[[bytes], None]]:
    from shimsim.trace import formats

    out: dict[str, Callable[[bytes], None]] = {
        "tokeniser": t_tokeniser, "strace-diff": t_strace_diff, "replay-diff": t_replay_diff,
    }
    for fmt in formats.FORMATS:
        out[f"parse-{fmt}"] = _parser(fmt)
    out["shim-spec"] = t_shim_spec
    out["shim-spec-lines"] = t_shim_spec_lines
    out["elf"] = t_elf
    return out


# ------------------------------------------------------------------ seeds

FIX = ROOT / "tests" / "fixtures"
SEED_DIRS = {
    "tokeniser": ["strace", "replay", "report"], "strace-diff": ["strace", "replay", "report"],
    "replay-diff": ["replay", "strace/gen"], "parse-strace": ["strace", "replay"],
    "parse-strace-summary": ["strace"], "parse-truss-freebsd": ["truss_freebsd"],
    "parse-truss-illumos": ["truss_illumos"], "parse-dtruss": ["dtruss"], "parse-kdump": ["kdump"],
    "parse-runsc-strace": ["runsc"], "parse-qemu-strace": ["qemu"],
}
SEED_MAX = 16 * 1024          # bigger fixtures are cut (run.sh passes -max_len=16384): fast inputs, more runs


def seeds(name: str, out: Path) -> int:
    """Write the seed corpus of a target into OUT; the number of seeds."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0

    def put(data: bytes) -> None:
        nonlocal n
        (out / f"seed-{n:04d}").write_bytes(data[:SEED_MAX])
        n += 1

    if name == "shim-spec-lines":        # (spec, line) pairs: each line of each spec as it is
        specs = sorted((ROOT / "src" / "shimsim" / "_tables" / "shims").glob("*.toml"))
        for k, p in enumerate(specs):
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines()[:60]):
                if "=" in line:
                    put(bytes([k]) + i.to_bytes(2, "little") + line.encode())
    elif name == "shim-spec":
        for p in sorted((ROOT / "src" / "shimsim" / "_tables" / "shims").glob("*.toml")):
            put(p.read_bytes())
    elif name == "elf":
        import shutil
        import subprocess

        gcc = shutil.which("gcc")
        if gcc:
            src = out / "t.c"
            src.write_text("int main(void){return 0;}\n")
            for flags in ([], ["-static"], ["-shared", "-fPIC"], ["-nostdlib", "-static", "-Wl,-e,main"]):
                exe = out / "t.out"
                if subprocess.run([gcc, *flags, "-o", str(exe), str(src)], capture_output=True).returncode == 0:
                    put(exe.read_bytes())
            src.unlink()
            (out / "t.out").unlink(missing_ok=True)
        for cand in ("/bin/true", sys.executable):
            if os.path.exists(cand):
                put(Path(cand).read_bytes())
        for p in sorted((HERE / "regressions" / "elf").glob("*")):
            put(p.read_bytes())
    else:
        import gzip
        import lzma

        for d in SEED_DIRS.get(name, []):
            for p in sorted((FIX / d).rglob("*")):
                if p.is_file() and p.suffix not in (".csv", ".md", ".toml", ".py"):
                    data = p.read_bytes()
                    if p.suffix in (".gz", ".xz"):   # the text, cut; then a small compressed seed
                        data = (gzip if p.suffix == ".gz" else lzma).decompress(data)[:SEED_MAX]
                        put(data)
                        data = (gzip if p.suffix == ".gz" else lzma).compress(data[:2048])
                    put(data)
    reg = HERE / "regressions" / name
    if reg.is_dir() and name != "elf":
        for p in sorted(reg.iterdir()):
            put(p.read_bytes())
    return n


def _instrumented() -> None:
    """Import shimsim under atheris's coverage instrumentation (before anything else imports it)."""
    import atheris

    with atheris.instrument_imports(include=["shimsim"]):
        import shimsim.elf  # noqa: F401
        import shimsim.engine.c  # noqa: F401
        import shimsim.engine.python  # noqa: F401
        import shimsim.replay  # noqa: F401
        import shimsim.shim  # noqa: F401
        import shimsim.trace  # noqa: F401
        from shimsim.trace import formats

        for fmt in formats.FORMATS:
            formats.module(fmt)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    name, rest = argv[0], argv[1:]
    fuzzing = name != "--list" and not (rest and rest[0] in ("--seeds", "--replay"))
    if fuzzing:
        _instrumented()
    ts = targets()
    if name == "--list":
        for n, fn in ts.items():
            print(f"{n:22} {(fn.__doc__ or '').splitlines()[0]}")
        return 0
    if name not in ts:
        print(f"unknown target {name!r}; --list shows them", file=sys.stderr)
        return 2
    if rest and rest[0] == "--seeds":
        print(seeds(name, Path(rest[1])))
        return 0
    if rest and rest[0] == "--replay":
        for p in rest[1:]:
            ts[name](Path(p).read_bytes())
        return 0
    import atheris

    if name == "replay-diff":
        _shims()
    atheris.Setup([sys.argv[0], *rest], ts[name])
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
