# SPDX-License-Identifier: MIT
"""Options shared by subcommands, so names stay consistent across commands."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from shimsim.engine import ENGINES


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
    json.dump(obj, sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def formatter() -> type[argparse.HelpFormatter]:
    return argparse.RawDescriptionHelpFormatter


def add_fail_on(p: argparse.ArgumentParser) -> None:
    from shimsim.replay.report import FAIL_ON  # here: importing shimsim.replay loads the replayer

    p.add_argument("--fail-on", action="append", choices=FAIL_ON, default=None, metavar="COND",
                   help="exit 1 when COND holds: fatal, divergence (any), failed, partial; repeatable "
                        "(default never)")


def add_trace_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", metavar="F", help="trace format (default: detected)")
    p.add_argument("--abi", metavar="A", help="guest ABI of the trace (default: detected)")
    p.add_argument("--strict", action="store_true", help="stop at the first line that does not parse")
