# SPDX-License-Identifier: MIT
"""The ``shimsim`` command line.

Each subcommand lives in ``shimsim.commands.<name>`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed namespace and returning an exit status.
Exit status: 0 success, 1 a requested condition failed (``--fail-on``),
2 bad input or usage (including a file that cannot be read or written),
130 interrupted, 141 stdout closed early (``| head``), as SIGPIPE would.

Start-up stays light: the top-level parser lists every command from HELP
below, and a command's module (and whatever it imports: tables, rich,
pyelftools, ...) is imported only when that command is the one run.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from shimsim import __version__
from shimsim.errors import ShimsimError

# Subcommand modules, in the order --help lists them, with the one-line help
# each module's register() gives (tests/test_cli_help.py keeps the two equal).
HELP = {
    "abi": "inspect ABI tables: syscalls, constants, signatures",
    "parse": "read traces and summarise them (format, ABI, events, syscalls)",
    "replay": "replay traces through a shim model of a compat layer",
    "shims": "list the shipped shims with provenance and counts",
    "derive": "write a baseline shim spec for a guest/host ABI pair",
    "inspect": "identify ELF binaries and predict their syscalls and per-shim verdicts",
    "image": "will a container image run on a host? (OCI layout, OCI or docker archive)",
    "corpus": "score many traces, binaries and Loupe workloads per compat layer",
    "probe": "check a shim's prediction against a real run under seccomp",
    "check": "run the shipped properties against a shim spec",
    "record": "run a command under strace, then replay and report in one step",
    "compat": "a shim's support matrix (Markdown, CSV or JSON)",
    "diff": "the calls whose outcome differs between two shims on a trace",
}
COMMANDS = tuple(HELP)


def _columns() -> int:
    """The terminal's width as shutil.get_terminal_size() gives it ($COLUMNS, else stdout's
    terminal, else 80), without importing shutil (which imports bz2 and lzma: ~1.6 ms)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with one line
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")

    def _get_formatter(self) -> argparse.HelpFormatter:
        # argparse's own asks shutil for the width, on every add_argument too: the same width here
        return self.formatter_class(prog=self.prog, width=_columns() - 2)


class _LazySubParsers(argparse._SubParsersAction):
    """Subcommand parsers that start as placeholders carrying only their help
    line; the command's module is imported, and its real parser registered in
    the placeholder's place, when the command is chosen (or by load())."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._placeholders: set[str] = set()

    def add_placeholder(self, name: str, help: str) -> None:
        # What add_parser(name, help=help) records for --help and for the choices, without
        # building a parser that load() throws away (13 of them: ~1-2 ms of every start-up).
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        self._name_parser_map[name] = None   # type: ignore[assignment]  # load() replaces it
        self._placeholders.add(name)

    def load(self, name: str) -> argparse.ArgumentParser:
        if name in self._placeholders:
            self._placeholders.discard(name)
            # Take the placeholder out, register the real parser, and put its
            # help line back where the placeholder's was, so --help keeps its order.
            index = next(i for i, a in enumerate(self._choices_actions) if a.dest == name)
            del self._choices_actions[index]
            del self._name_parser_map[name]
            importlib.import_module(f"shimsim.commands.{name}").register(self)
            new = next(i for i, a in enumerate(self._choices_actions) if a.dest == name)
            self._choices_actions.insert(index, self._choices_actions.pop(new))
        return self._name_parser_map[name]

    def __call__(self, parser, namespace, values, option_string=None):
        if values and values[0] in self._name_parser_map:
            self.load(values[0])
        super().__call__(parser, namespace, values, option_string)


SHELLS = ("bash", "zsh", "fish")
# Arguments completed as paths: by metavar, the same in every command (tests/test_cli_help.py).
_FILE_METAVARS = {"TRACE", "FILE", "INPUT", "NAME_OR_FILE", "BINARY", "SPEC", "PATH", "IMAGE[:REF]"}
_DIR_METAVARS = {"DIR"}


class _PrintCompletion(argparse.Action):
    """``--print-completion SHELL``: the completion script, generated by shtab from
    every command's real parser (so it cannot fall behind the options)."""

    def __call__(self, parser, namespace, values, option_string=None):
        import shtab

        full = build_parser(load=COMMANDS)
        _mark_paths(full)
        sys.stdout.write(shtab.complete(full, shell=values))
        parser.exit(0)


def _mark_paths(parser: argparse.ArgumentParser) -> None:
    import shtab

    for a in parser._actions:
        if isinstance(a.choices, dict):
            for sp in a.choices.values():
                _mark_paths(sp)
        elif a.choices is None and a.metavar in _FILE_METAVARS:
            a.complete = shtab.FILE
        elif a.choices is None and a.metavar in _DIR_METAVARS:
            a.complete = shtab.DIRECTORY


def build_parser(load: tuple[str, ...] | list[str] = ()) -> argparse.ArgumentParser:
    """The top-level parser; the commands named in `load` (all with
    load=COMMANDS) get their real parsers now, the others when chosen."""
    parser = _Parser(
        prog="shimsim",
        description="Replay recorded syscall streams through models of compat layers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"shimsim {__version__}")
    parser.add_argument("--print-completion", choices=SHELLS, metavar="SHELL", action=_PrintCompletion,
                        help="print a completion script for SHELL (bash, zsh or fish) and exit")
    parser.register("action", "lazy_parsers", _LazySubParsers)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, action="lazy_parsers")
    sub.required = True
    for name, help in HELP.items():
        sub.add_placeholder(name, help)
    for name in load:
        sub.load(name)
    return parser


def main(argv: list[str] | None = None) -> int:
    if (sys.argv[1:] if argv is None else list(argv)) == ["--version"]:
        # What the parser's version action prints, without importing or building it
        # (argparse, gettext, locale and shutil for the terminal width: about 4 ms).
        print(f"shimsim {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ShimsimError as exc:
        print(f"shimsim: error: {exc}", file=sys.stderr)
        return exc.exit_status
    except BrokenPipeError:  # e.g. piped into head: end quietly, as a tool killed by SIGPIPE
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + 13
    except OSError as exc:  # a file the user named cannot be read or written
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"shimsim: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("shimsim: interrupted", file=sys.stderr)
        return 130
