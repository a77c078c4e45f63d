# SPDX-License-Identifier: MIT
"""Replay a trace through a compiled shim: per event, the outcome, the host
call and translated flags, the guest-visible result, and whether it diverges
from the recording.

Two engines with one semantics (``shimsim.engine``): the pure-Python
reference (``replay_event``, in engine/python.py, written to be read next to
csrc/replay.c) and the C core (``ss_replay_batch`` over ``ss_event`` arrays,
in engine/c.py), both on the very same compiled arrays.

``Replayer`` (replay/replayer.py) drives either engine, accumulates the
counters and turns the divergence records into the ``Report``
(replay/report.py) both engines share; ``replay_many`` reads a trace once
through several shims.  The names below are the public API of this module
as it was before the package split.
"""
from __future__ import annotations

from shimsim.codes import (DIV_ERRNO, DIV_FAILS, DIV_FALLBACK, DIV_FLAG, DIV_NAMES,  # noqa: F401
                           DIV_NONE, DIV_RESULT, DIV_SIGNAL, NOUT)
from shimsim.codes import RP_MAXF as MAXF  # noqa: F401
from shimsim.engine.c import (DIVS_CAP, FCACHE_ENTRIES, BatchRun, EventPacker,  # noqa: F401
                              fnv1a, pack_shim, run_batch)
from shimsim.engine.python import (SIGNAL_KINDS, TOKEN_MAX, arg_span, flag_decode,  # noqa: F401
                                   parse_num, replay_event)
from shimsim.model import Result  # noqa: F401
from shimsim.replay.replayer import (Replayer, check_guest, replay_events, replay_many,  # noqa: F401
                                     replay_trace)
from shimsim.replay.report import (FAIL_ON, LIST_CAP, Divergence, Report,  # noqa: F401
                                   failed_conditions, names_by_value)

_names_by_value = names_by_value  # the name it had
