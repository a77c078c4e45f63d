# SPDX-License-Identifier: MIT
"""ELF inspection: "will this binary run there?" answered from the file.

``inspect_path(path, shims)`` reads one file within fixed caps and a time
budget, identifies its OS/ABI with the evidence, predicts the syscalls it
can make (loader, start-up, libc imports through the DT_NEEDED closure,
raw syscall sites) and gives a verdict per shim.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shimsim.elf.ident import Identity, identify
from shimsim.elf.predict import Prediction, predict
from shimsim.elf.reader import Budget, ElfReadError, read_elf
from shimsim.elf.verdict import Verdict, verdicts

__all__ = ["ElfReadError", "Inspection", "inspect_path"]


@dataclass
class Inspection:
    path: str
    identity: Identity
    prediction: Prediction
    verdicts: list[Verdict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "path": self.path, "identity": self.identity.to_json(),
            "predicted": self.prediction.to_json(),
            "verdicts": [v.to_json() for v in self.verdicts], "warnings": self.warnings,
        }


def inspect_path(path: str, shims: list[str] | None = None, host: str | None = None,
                 follow_libraries: bool = True, seconds: float = 30.0) -> Inspection:
    """Inspect one file; raises ElfReadError (one line) when it cannot be read."""
    from shimsim.elf.libpath import read_cached
    budget = Budget(seconds)
    raw = read_cached(path, budget)
    ident = identify(raw)
    try:
        pred = predict(raw, ident, budget, follow_libraries)
    except OSError as exc:          # the file (or a library) vanished or became unreadable meanwhile
        raise ElfReadError(f"cannot read: {exc.strerror or exc}") from None
    out = Inspection(path, ident, pred, warnings=list(raw.warnings))
    if shims:
        from shimsim.callers import Caller
        from shimsim.elf.runtime import runtimes
        fr = runtimes(path)
        caller = Caller(path, tuple(fr.runtimes), True) if fr.found else None
        out.verdicts = verdicts(ident, pred, shims, host, caller)
    return out
