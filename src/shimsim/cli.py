# SPDX-License-Identifier: MIT
"""The ``shimsim`` command line.

Each subcommand lives in ``shimsim.commands.<name>`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
callable taking the parsed namespace and returning an exit status.
Exit status: 0 success, 1 a requested condition failed (``--fail-on``),
2 bad input or usage (including a file that cannot be read or written),
130 interrupted, 141 stdout closed early (``| head``), as SIGPIPE would.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from shimsim import __version__
from shimsim.errors import ShimsimError

# Subcommand modules, in the order --help lists them.
COMMANDS = ("abi", "parse", "replay", "shims", "derive", "inspect", "image", "corpus", "probe", "check", "record",
            "compat", "diff")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors exit 2 with one line
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="shimsim",
        description="Replay recorded syscall streams through models of compat layers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"shimsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in COMMANDS:
        importlib.import_module(f"shimsim.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
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
