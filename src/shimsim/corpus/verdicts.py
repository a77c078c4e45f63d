# SPDX-License-Identifier: MIT
"""The four verdicts of a corpus row, and how ``shimsim inspect``'s statuses map onto them."""
from __future__ import annotations

RUNS, EMULATED, BREAKS, UNKNOWN = "runs", "emulated", "breaks", "unknown"
VERDICTS = (RUNS, EMULATED, BREAKS, UNKNOWN)

# inspect's status -> corpus verdict.  "may fail" (only libraries import the failing call) breaks:
# Tsai et al. count a package's whole footprint.
ELF_VERDICT = {"runs": RUNS, "degraded": EMULATED, "may fail": BREAKS, "fails": BREAKS, "cannot run": BREAKS,
               "unknown": UNKNOWN}
