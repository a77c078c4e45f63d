# SPDX-License-Identifier: MIT
"""The registry of trace formats: one line per format.

A format is one module that owns everything about its tracer's output:

* ``sniff(lines) -> float``      confidence 0..1 that the first lines are this format
* ``guess_abi(lines) -> str|None`` (optional) the guest ABI the content shows, if it shows one
* ``parse(lines, path, stats, strict) -> Iterator[Event]``   the Python parser
  (or ``parse_trace(trace)`` when the format needs the whole trace: strace's
  Python reference joins calls per file and resolves names per personality)
* ``render(ev, **options) -> str`` and ``render_arg(value, fd_paths=False)``
  with ``ARG_SEP``: an event and an argument value (shimsim.trace.args) as the
  tool prints them, used by the hypothesis strategies for round trips (needed
  when the registry line names OSes, whose ABIs the strategies then generate)
* ``DEFAULT_OS``, ``ALIASES`` (call names the tool prints for table names),
  ``C_TOKENISER`` (True: the C engine reads it with csrc/tokenise.c)

Adding a format is its module plus one line here.  Modules are imported
lazily, so that a missing or broken one only matters when used.
"""
from __future__ import annotations

import importlib
from types import ModuleType

from shimsim._record import Frozen
from shimsim.errors import InputError, ShimsimError, UnknownName


class Format(Frozen):
    """One registry line: the module owning a trace format, its default ABI, OSes and sniffer."""
    _FIELDS = ("module", "default_abi", "oses", "sniff")
    module: str                   # the module that owns the format
    default_abi: str              # the guest ABI when neither --abi nor the content says
    oses: tuple[str, ...]         # the OSes whose tool prints it (strategies generate their ABIs)
    sniff: str                    # the module's sniffing function for this format

    def __init__(self, module: str, default_abi: str, oses: tuple[str, ...] = (), sniff: str = "sniff") -> None:
        self.__dict__.update(module=module, default_abi=default_abi, oses=oses, sniff=sniff)


FORMATS: dict[str, Format] = {
    # strace-summary first: a summary-only file also scores as nothing else
    "strace-summary": Format("shimsim.trace.strace", "linux-x86_64", (), "sniff_summary"),
    "strace": Format("shimsim.trace.strace", "linux-x86_64", ("linux",)),
    "truss-freebsd": Format("shimsim.trace.truss_freebsd", "freebsd-amd64", ("freebsd",)),
    "truss-illumos": Format("shimsim.trace.truss_illumos", "illumos-amd64", ("illumos",)),
    "dtruss": Format("shimsim.trace.dtruss", "darwin-x86_64", ("darwin",)),
    "kdump": Format("shimsim.trace.kdump", "freebsd-amd64", ("freebsd", "netbsd", "openbsd")),
    # the real layers' own logs (probe --real): read, never generated
    "runsc-strace": Format("shimsim.trace.runsc_strace", "linux-x86_64"),
    "qemu-strace": Format("shimsim.trace.qemu_strace", "linux-aarch64"),
}

# DEFAULT_OS of a module -> the ABI used when nothing else says
OS_ABI = {
    "linux": "linux-x86_64", "freebsd": "freebsd-amd64", "netbsd": "netbsd-amd64",
    "openbsd": "openbsd-amd64", "illumos": "illumos-amd64", "solaris": "illumos-amd64",
    "darwin": "darwin-x86_64", "macos": "darwin-x86_64",
}
MIN_SCORE = 0.2   # below this nothing is recognised


def names() -> list[str]:
    """Format names in registry order (strace first)."""
    order = sorted(FORMATS, key=lambda n: (n != "strace", n != "strace-summary"))
    return order


def module(name: str) -> ModuleType:
    """The module of a format; a clear error if it is not available."""
    if name not in FORMATS:
        raise UnknownName("format", name, FORMATS)
    modname = FORMATS[name].module
    try:
        return importlib.import_module(modname)
    except ImportError as exc:
        raise ShimsimError(f"the {name} parser is not available ({exc})") from exc


def available(name: str) -> ModuleType | None:
    """The module if it can be imported, else None (used by sniffing only)."""
    try:
        return module(name)
    except ShimsimError:
        return None


def default_abi(name: str, mod: ModuleType | None = None) -> str:
    if mod is not None and getattr(mod, "DEFAULT_OS", None) in OS_ABI and name != "kdump":
        return OS_ABI[mod.DEFAULT_OS]
    return FORMATS[name].default_abi


def printable() -> dict[str, tuple[str, ...]]:
    """Format -> the ABIs whose tool prints it, for the formats strategies can generate: the ABIs
    of the format's OSes in abis.toml order, so a new ABI of a known OS needs no code here."""
    from shimsim import tables

    return {n: tuple(a for a in tables.list_abis() if tables.facts(a).os in f.oses)
            for n, f in FORMATS.items() if f.oses}


def scores(lines: list[str]) -> dict[str, float]:
    """Each format's sniffing score for these first lines (registry order)."""
    out: dict[str, float] = {}
    for name, f in FORMATS.items():
        mod = available(name)
        if mod is None or not hasattr(mod, f.sniff):
            continue
        try:
            out[name] = float(getattr(mod, f.sniff)(lines))
        except Exception:  # a broken sniffer must not hide the other formats  # noqa: BLE001
            out[name] = 0.0
    return out


MARGIN = 0.1      # the best format must beat the runner-up by this much, or a tie rule decides


def decide(sc: dict[str, float], hint: str | None = None) -> str | None:
    """The format these scores name, or None when they do not decide.

    The best score wins when it beats the runner-up by MARGIN.  Otherwise,
    among the formats within the margin: the one the tracer's command line
    names (``hint``: a format, or "truss" for either truss; trace.publish),
    then a truss format over strace (truss-only records such as ``Err#N``
    lines are what lifts a truss format to strace's score, while strace's
    grammar also accepts most bare ``NAME(ARGS) = N`` truss lines)."""
    ranked = sorted(sc.items(), key=lambda kv: -kv[1])
    if not ranked or ranked[0][1] < MIN_SCORE:
        return None
    top = ranked[0][1]
    if hint:
        named = [k for k, v in ranked if (k == hint or k.startswith(hint + "-")) and v >= MIN_SCORE]
        if named:
            return named[0]
    close = [k for k, v in ranked if top - v < MARGIN]
    if len(close) == 1:
        return close[0]
    truss = [k for k in close if k.startswith("truss-")]
    if "strace" in close and truss and len(close) == len(truss) + 1:
        if len(truss) == 1 or sc[truss[0]] - sc[truss[1]] >= MARGIN / 2:
            return truss[0]
    return None


def detect(lines: list[str], path: str, hint: str | None = None) -> str:
    """The format name for these first lines: the best score by a margin (see
    decide(); hint is the format a published command line names); a clear
    error naming the scores when nothing fits or two formats fit alike."""
    sc = scores(lines)
    best = decide(sc, hint)
    if best is None:
        tried = ", ".join(f"{k} {v:.2f}" for k, v in sorted(sc.items(), key=lambda kv: -kv[1])
                          if k != "strace-summary")
        top = max(sc.values()) if sc else 0.0
        what = "cannot recognise the trace format" if top < MIN_SCORE else "the trace format is ambiguous"
        if top < MIN_SCORE and any("\0" in line for line in lines):
            raise InputError(path, None, f"{what}: binary data (NUL bytes), expected a text trace")
        raise InputError(path, None, f"{what} (scores: {tried}); give --format")
    return best


def guess_note(name: str, lines: list[str]) -> str | None:
    """Why the guessed ABI may be wrong (uncertain, or a stand-in table), when the format can tell."""
    note = getattr(module(name), "guess_note", None)
    return note(lines) if note is not None else None


def guess_abi(name: str, lines: list[str]) -> str:
    """The guest ABI of a trace of this format: what its content shows, else the default."""
    mod = module(name)
    guess = getattr(mod, "guess_abi", None)
    return (guess(lines) if guess is not None else None) or default_abi(name, mod)
