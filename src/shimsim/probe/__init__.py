# SPDX-License-Identifier: MIT
"""Check shim predictions against real runs under seccomp (the method of Loupe).

    from shimsim.probe import check, minimize
    r = check.probe("gvisor", ["cat", "/etc/hostname"])        # check.ProbeResult
    r.predicted, r.observed, r.agree, r.parting()
    m = minimize.minimize("gvisor", ["cat", "/etc/hostname"])  # minimize.MinimizeResult

Layers, one job each: ``_seccomp`` (the only code that touches libseccomp,
cffi ABI mode), ``_exec`` (the wrapper that loads a filter and execs the
command), ``plan`` (shim -> rules, host checks), ``runner`` (one bounded
run), ``recording`` (cut and compare strace recordings), ``check`` and
``minimize`` (the two experiments).  The filter is only ever loaded in the
wrapper process, so shimsim itself is never filtered.
"""
from __future__ import annotations
