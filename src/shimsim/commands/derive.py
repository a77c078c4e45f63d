# SPDX-License-Identifier: MIT
"""``shimsim derive``: write a baseline shim spec for any guest/host ABI pair
(same name and signature -> translate; declared equivalences such as kqueue
and epoll or rfork and clone -> emulate; everything else -> fail ENOSYS)."""
from __future__ import annotations

import argparse
import sys

from shimsim import derive as _derive
from shimsim import output
from shimsim import shim as _shim
from shimsim import tables
from shimsim.commands._common import add_json, formatter, print_json

EPILOG = """examples:
  shimsim derive freebsd-amd64 linux-x86_64 -o freebsd-on-linux.toml
  shimsim replay ls.truss --shim freebsd-on-linux.toml
  shimsim derive linux-x86_64 darwin-x86_64 --json     (counts only)
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("derive", help="write a baseline shim spec for a guest/host ABI pair",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("guest", metavar="GUEST_ABI")
    p.add_argument("host", metavar="HOST_ABI")
    p.add_argument("-o", "--output", metavar="FILE", help="write the spec to FILE (default: stdout)")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tables.load_abi(args.guest)
    tables.load_abi(args.host)
    text = _derive.derive_text(args.guest, args.host)
    spec = _shim.parse_spec(text, str(args.output or "<derived>"))
    cs = _shim.compile_shim(spec)           # the baseline must itself be a valid spec
    if args.output is not None:
        output.write_text(args.output, text)
    if args.json:
        print_json({"guest": args.guest, "host": args.host, "name": spec.name,
                    "output": str(args.output) if args.output else None, "counts": cs.listed})
    elif args.output is None:
        sys.stdout.write(text)
    else:
        c = cs.listed
        print(f"wrote {args.output}: {c['translated']} translated, {c['partial']} partial, "
              f"{c['emulated']} emulated, {c['failed']} failed")
    return 0
