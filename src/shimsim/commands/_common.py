# SPDX-License-Identifier: MIT
"""Options shared by subcommands, so names stay consistent across commands."""
from __future__ import annotations

import argparse
import sys

from shimsim.engine import ENGINES

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine", choices=ENGINES, default=None,
        help="run the C core (default) or the pure-Python reference; also SHIMSIM_ENGINE",
    )


def add_quiet(p: argparse.ArgumentParser) -> None:
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar (it is drawn on stderr, and only when stderr is a terminal)")


def print_json(obj: Any) -> None:
    import json   # here: the text reports do not need it (~1 ms of start-up)

    json.dump(obj, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def formatter() -> type[argparse.HelpFormatter]:
    return argparse.RawDescriptionHelpFormatter


FAIL_ON_HELP = "exit 1 when COND holds: {}; repeatable, any COND that holds counts (default never)"


def add_fail_on(p: argparse.ArgumentParser, conds: tuple[str, ...] | None = None,
                meaning: str = "fatal, divergence (any), failed, partial") -> None:
    """``--fail-on COND``, one grammar in every command: repeatable, 'never' accepted,
    exit status 1 when any COND holds.  The conditions are the command's own."""
    if conds is None:
        from shimsim.replay.report import FAIL_ON  # here: importing shimsim.replay loads the replayer
        conds = FAIL_ON
    if "never" not in conds:
        conds = ("never", *conds)
    p.add_argument("--fail-on", action="append", choices=conds, default=None, metavar="COND",
                   help=FAIL_ON_HELP.format(meaning))


def fail_on(args: argparse.Namespace) -> list[str]:
    """The conditions asked for with --fail-on, 'never' left out."""
    return [c for c in (args.fail_on or []) if c != "never"]


def add_trace_format(p: argparse.ArgumentParser) -> None:
    from shimsim.trace import formats

    p.add_argument("--format", choices=formats.names(), metavar="FORMAT",
                   help="trace format (default: detected): " + ", ".join(formats.names()))


def add_trace_options(p: argparse.ArgumentParser) -> None:
    add_trace_format(p)
    p.add_argument("--abi", metavar="ABI", help="guest ABI of the trace (default: detected)")
    p.add_argument("--strict", action="store_true", help="stop at the first line that does not parse")


class _OldSpelling(argparse.Action):
    """A renamed option's old spelling: still accepted, hidden from --help, with a note
    on stderr naming the new one."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kw: Any) -> None:
        self.new = new
        kw["help"] = argparse.SUPPRESS
        kw.setdefault("default", argparse.SUPPRESS)
        super().__init__(option_strings, dest, **kw)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"shimsim: warning: {option_string} is deprecated, say {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, self.const if self.nargs == 0 else values)


def add_old_spelling(p: argparse.ArgumentParser, old: str, new: str, dest: str, **kw: Any) -> None:
    """Keep OLD working as a hidden alias of the option NEW (given as 'NEW METAVAR')."""
    p.add_argument(old, dest=dest, action=_OldSpelling, new=new, **kw)


SHIM_HELP = ("a shipped shim (see 'shimsim shims'), a spec file, or 'all' for every shipped shim; "
             "repeatable or comma-separated (one pass over the trace, one report per shim)")


def add_shims(p: argparse.ArgumentParser, help: str = SHIM_HELP) -> None:
    """``--shim``, the same grammar in every command: repeatable, comma-separated,
    'all'.  Read the result with :func:`shim_names`."""
    p.add_argument("--shim", action="append", required=True, metavar="NAME_OR_FILE", help=help)


def shim_names(asked: list[str] | None, unique: bool = True) -> list[str]:
    """The shims named by repeated and comma-separated ``--shim`` options, in
    order, 'all' expanded, without repeats unless ``unique`` is false (diff
    compares a shim with itself); an unknown name fails up front."""
    from shimsim import shim as shimmod
    from shimsim.errors import ShimsimError

    known = shimmod.list_shims()
    out: list[str] = []
    for opt in asked or []:
        for name in (n.strip() for n in opt.split(",")):
            if not name:
                raise ShimsimError(f"--shim {opt!r}: an empty name in the list")
            for n in (known if name == "all" else [name]):
                if n not in out or not unique:
                    out.append(n)
    for n in out:
        if n not in known:
            shimmod.resolve_spec_path(n)   # a release alias or a spec file; else names the error
    return out


def held_per_shim(conds: list[str] | None, reps: list[Any]) -> list[str]:
    """'COND (shim, shim)' for every --fail-on condition that holds under some report."""
    from shimsim.replay import failed_conditions

    by: dict[str, list[str]] = {}
    for rep in reps:
        for c in failed_conditions(conds, rep):
            by.setdefault(c, []).append(rep.shim)
    return [f"{c} ({', '.join(s)})" if len(reps) > 1 else c for c, s in by.items()]


def shim_specs(asked: list[str], abi: str) -> list[Any]:
    """The specs the --shim options name; 'all' keeps the shipped shims for the trace's ABI."""
    from shimsim import shim as _shim

    specs = [_shim.load_spec(n) for n in shim_names(asked)]
    if any(n.strip() == "all" for opt in asked for n in opt.split(",")):
        explicit = {n.strip() for opt in asked for n in opt.split(",")}
        specs = [s for s in specs if s.name in explicit
                 or _shim.for_guest(s, abi).guest in (_shim.ANY, abi)]
    return specs


def one_layer_only(args: argparse.Namespace, n: int) -> None:
    """--events and --html report on one layer: refuse them with several --shim."""
    from shimsim.errors import ShimsimError

    if n > 1:
        for opt, given in (("--events", getattr(args, "events", 0)), ("--html", args.html)):
            if given:
                raise ShimsimError(f"{opt} reports on one layer: give one --shim (got {n})")


def print_layers(con, reps: list[Any], t: Any) -> None:
    """One row per layer: verdict, first fatal call, calls per outcome (worst first)."""
    from shimsim import shim as _shim
    from shimsim.report import terminal, verdict

    con.print(terminal.text(f"trace: {', '.join(t.paths)} ({t.format}, {t.abi}), {reps[0].syscalls} syscalls, "
                            f"{len(reps)} layers"))
    con.print()
    tab = terminal.table(("shim", "left"), ("host", "left"), ("verdict", "left"), ("first fatal call", "left"),
                         ("calls per outcome", "left"), tty=con.is_terminal)
    for rep in reps:
        v = verdict(rep)
        ff = rep.first_fatal
        where = f"{ff.file}:{ff.line}: {ff.syscall}" if ff else "-"
        counts = ", ".join(f"{rep.outcomes[o]} {_shim.OUTCOME_NAMES[o]}" for o in sorted(rep.outcomes)
                           if rep.outcomes[o])
        tab.add_row(terminal.text(rep.shim), terminal.text(rep.host),
                    terminal.text(v.status, style=terminal.VERDICT_STYLE.get(v.status, "bold")),
                    terminal.text(where), terminal.text(counts or "-"))
    terminal.print_table(con, tab)
    con.print()
    for rep in reps:
        con.print(terminal.text(f"{rep.shim}: {verdict(rep).text}"))
