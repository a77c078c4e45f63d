# SPDX-License-Identifier: MIT
"""``shimsim check``: run shimsim's shipped properties (round trips, table
laws, replay laws) against a shim spec, and show each falsified property
with its shrunk counterexample as trace text."""
from __future__ import annotations

import argparse
import random
import sys

from shimsim.commands._common import add_json, formatter, print_json
from shimsim.errors import ShimsimError

EPILOG = """examples:
  shimsim check linuxulator
  shimsim check my-layer.toml --max-examples 200
  shimsim check my-layer.toml --seed 1234          (reproduce a run: every run prints its seed)
  shimsim check gvisor --json
  shimsim check my-layer.toml --property flag-roundtrip --property errno-map-total

properties (those that apply to the spec are run):
  roundtrip-FORMAT       the guest's trace format prints and parses back to the same events
  flag-roundtrip         guest flag sets survive guest -> host -> guest, except reported bits
  errno-map-total        every errno has a fate on the other side; lossy mappings are declared
  signal-map-total       the same for signals
  native-never-diverges  (identity specs) no divergence from the recording
  none-fails-every-call  (specs that support nothing) every call fails
  coverage-monotonic     supporting one more syscall never makes a working call fail
  c-python-agree         the C core and the Python reference agree event by event

exit status: 0 all passed, 1 a property was falsified (or raised), 2 bad input.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the shipped properties against a shim spec",
                       description=__doc__, epilog=EPILOG, formatter_class=formatter())
    p.add_argument("spec", metavar="SPEC", help="a shipped shim (see 'shimsim shims') or a spec file")
    p.add_argument("--max-examples", type=int, default=50, metavar="N",
                   help="hypothesis examples per property (default 50)")
    p.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed (default: a fresh one, printed so the run can be repeated)")
    p.add_argument("--property", action="append", default=None, metavar="NAME", dest="only",
                   help="run only this property (repeatable)")
    add_json(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from shimsim import properties, shim  # properties imports hypothesis: only when checking

    if args.max_examples < 1:
        raise ShimsimError("--max-examples must be at least 1")
    if args.only:
        for n in args.only:
            properties.get(n)          # UnknownName (exit 2) before anything runs
    spec = shim.load_spec(args.spec)
    subject = properties.Subject(spec)
    for abi in subject.abis():
        subject.compiled(abi)          # a spec that does not compile is bad input (exit 2)
    seed = args.seed if args.seed is not None else random.randrange(2**32)
    results = []
    for r in properties.check(subject, max_examples=args.max_examples, seed=seed, only=args.only):
        results.append(r)
        if not args.json:
            _progress(r)
    passed = sum(r.status == "passed" for r in results)
    falsified = sum(r.status == "falsified" for r in results)
    errors = sum(r.status == "error" for r in results)
    if args.json:
        print_json({
            "spec": spec.name, "path": spec.path, "guest": spec.guest, "host": spec.host,
            "max_examples": args.max_examples, "seed": seed,
            "properties": [r.to_json() for r in results],
            "passed": passed, "falsified": falsified, "errors": errors,
        })
    else:
        _summary(spec, results, seed, args.max_examples, passed, falsified, errors)
    return 1 if falsified or errors else 0


def _progress(r) -> None:
    print(f"  {r.name:<24} {r.status}", file=sys.stderr)


def _summary(spec, results, seed: int, max_examples: int, passed: int, falsified: int, errors: int) -> None:
    print(f"shim {spec.name} ({spec.path}): {spec.guest} -> {spec.host}")
    print(f"{len(results)} properties, up to {max_examples} examples each, seed {seed}")
    print()
    w = max([8] + [len(r.name) for r in results])
    print(f"{'property':<{w}}  status")
    for r in results:
        print(f"{r.name:<{w}}  {r.status}")
    for r in results:
        if r.status == "passed":
            continue
        print()
        print(f"{r.status.upper()}: {r.name}")
        print(f"  {r.message}")
        if r.counterexample:
            print("  counterexample:")
            for line in r.counterexample.rstrip("\n").split("\n"):
                print(f"    {line}")
    print()
    print(f"{passed} passed, {falsified} falsified, {errors} errors"
          + (f"  (repeat with --seed {seed})" if falsified or errors else ""))
