# SPDX-License-Identifier: MIT
"""Write the name tables and personality modes the C tokeniser gets for a trace
(the same ones trace.open(..., engine="c") loads) as text for tokdriver.c:

    PYTHONPATH=src python benchmarks/tokdriver/dump_tables.py TRACE > /tmp/tables.txt
"""
from __future__ import annotations

import sys

from shimsim import trace


def main(path: str) -> None:
    t = trace.open(path, engine="c")
    tables, modes = t.tables(), t.modes
    out = sys.stdout
    out.write(f"M {modes[0]} {modes[1]} {modes[2]}\n")
    for ti, dicts in enumerate(tables):
        for abi, names in enumerate(dicts):
            for name, v in (names or {}).items():
                out.write(f"N {ti} {abi} {name} {v}\n")


if __name__ == "__main__":
    main(sys.argv[1])
