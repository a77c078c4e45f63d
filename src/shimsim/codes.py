# SPDX-License-Identifier: MIT
"""The codes the C core and the Python side share: event kinds, recorded
outcomes, event flags, replay outcomes and divergence reasons."""
from __future__ import annotations

# Event kinds (SS_EV_*)
SYSCALL, SIGNAL, STOPPED, EXIT, KILLED, SUPERSEDED, PERSONALITY, DETACHED = range(1, 9)
KIND_NAMES = {
    SYSCALL: "syscall", SIGNAL: "signal", STOPPED: "stopped", EXIT: "exit", KILLED: "killed",
    SUPERSEDED: "superseded", PERSONALITY: "personality", DETACHED: "detached",
}
# Recorded outcomes (SS_REC_*)
SUCCESS, ERROR, REC_UNKNOWN, RESTARTED, INJECTED, UNFINISHED = range(1, 7)
REC_NAMES = {
    SUCCESS: "success", ERROR: "error", REC_UNKNOWN: "unknown", RESTARTED: "restarted",
    INJECTED: "injected", UNFINISHED: "unfinished",
}
# Flags (SS_EVF_*)
F_MERGED, F_TRUNCATED, F_HAS_TS, F_HAS_DUR, F_CORE, F_NO_RET = 1, 2, 4, 8, 16, 32
# Replay outcomes (SS_OUT_*), worst first so that "worst seen" is a minimum.
UNKNOWN, FAILED, FAKED, STUBBED, PARTIAL, EMULATED, TRANSLATED, NONE = range(8)
OUTCOME_NAMES = ("unknown", "failed", "faked", "stubbed", "partial", "emulated", "translated", "none")
NOUT = 8
# Divergence reasons (SS_DIV_*)
DIV_NONE, DIV_FAILS, DIV_FALLBACK, DIV_FLAG, DIV_ERRNO, DIV_RESULT, DIV_SIGNAL = range(7)
DIV_NAMES = ("none", "fails", "survivable", "flag dropped", "errno changed", "result changed",
             "signal changed")
NDIV = 7
MAXF = 4                 # SS_RP_MAXF: flag arguments translated per call
