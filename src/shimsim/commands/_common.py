# SPDX-License-Identifier: MIT
"""Options shared by subcommands, so names stay consistent across commands."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")


def add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine", choices=("c", "python"), default=None,
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
