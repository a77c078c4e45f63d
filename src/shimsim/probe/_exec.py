# SPDX-License-Identifier: MIT
"""The exec wrapper: load a seccomp filter, then execve the command.

    python3 .../shimsim/probe/_exec.py SPEC.json -- COMMAND [ARG...]

Run as a plain script (not ``-m``) so the command's environment needs no
PYTHONPATH; it imports only the standard library, cffi and its neighbour
``_seccomp.py``.  The filter is installed here, in the process that is about
to become the command, so it binds the command and its children and never
the shimsim process that started it.  strace traces this wrapper too; the
probe cuts the recording at the command's execve.

SPEC (JSON): {"path": absolute path to exec, "rules": [[nr, errno], ...],
"execve_nr": N, "status": file for the wrapper's own errors}.  errno 0 means
"return 0 without running the call" (a stub).  With no rules no filter is
loaded at all: the normal run goes through the very same wrapper, so both
recordings have the same prologue.

Between seccomp_load and execve the wrapper makes no other call: every
buffer is prepared beforehand and the garbage collector is off.  The execve
rule (if the shim fails execve) spares the one call whose path argument is
the wrapper's own buffer; later execs of the command meet the shim's errno.
"""
from __future__ import annotations

import gc
import json
import os
import sys

EXIT_WRAPPER = 125   # the wrapper failed before the command ran (message in the status file)


def _fail(status: str | None, msg: str) -> None:
    if status:
        try:
            with open(status, "w", encoding="utf-8") as f:
                f.write(msg + "\n")
        except OSError:
            pass
    sys.stderr.write(f"shimsim probe wrapper: {msg}\n")
    os._exit(EXIT_WRAPPER)


def main(argv: list[str]) -> None:
    if len(argv) < 4 or argv[2] != "--":
        _fail(None, "usage: _exec.py SPEC.json -- COMMAND [ARG...]")
    try:
        with open(argv[1], encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        _fail(None, f"cannot read spec {argv[1]}: {exc}")
    status = spec.get("status")
    cmd = argv[3:]
    # the neighbour module; sys.path[0] is not this directory under PYTHONSAFEPATH or -P
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    try:
        import _seccomp
    except ImportError as exc:
        _fail(status, f"cannot import the seccomp binding: {exc}")
    try:
        ffi, _sc, libc = _seccomp.lib()
    except _seccomp.SeccompUnavailable as exc:
        _fail(status, str(exc))
    path = ffi.new("char[]", os.fsencode(spec["path"]))
    args = [ffi.new("char[]", os.fsencode(a)) for a in cmd]
    c_argv = ffi.new("char *[]", args + [ffi.NULL])
    env = [ffi.new("char[]", os.fsencode(k) + b"=" + os.fsencode(v)) for k, v in os.environ.items()]
    c_envp = ffi.new("char *[]", env + [ffi.NULL])
    rules = spec.get("rules", [])
    flt = None
    if rules:
        try:
            flt = _seccomp.Filter()
            path_addr = int(ffi.cast("uintptr_t", path))
            for rule in rules:
                nr, err = rule[0], rule[1]
                if len(rule) == 4:      # [nr, errno, argument, mask]: a rejected flag
                    flt.masked_rule(nr, err, rule[2], rule[3])
                else:
                    flt.errno_rule(nr, err, path_addr if nr == spec.get("execve_nr") else None)
        except _seccomp.SeccompUnavailable as exc:
            _fail(status, str(exc))
    gc.disable()
    if flt is not None:
        try:
            flt.load()
        except _seccomp.SeccompUnavailable as exc:
            _fail(status, f"{exc} (does this kernel or container allow seccomp filters?)")
    libc.execve(path, c_argv, c_envp)
    # only reached when execve failed; the status file may itself be unwritable under the filter
    _fail(status, f"execve {spec['path']} failed: {os.strerror(ffi.errno)}")


if __name__ == "__main__":
    main(sys.argv)
