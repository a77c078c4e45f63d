# SPDX-License-Identifier: MIT
"""The JSON Schemas of the commands' --json output, shipped in the package
(src/shimsim/schemas/<command>.json), so automation can validate what it reads."""
from __future__ import annotations

import importlib.resources
import json
from typing import Any


def names() -> list[str]:
    """Commands with a shipped schema."""
    d = importlib.resources.files("shimsim") / "schemas"
    return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".json"))


def load(command: str) -> dict[str, Any]:
    """The schema of one command's --json output."""
    p = importlib.resources.files("shimsim") / "schemas" / f"{command}.json"
    return json.loads(p.read_text(encoding="utf-8"))
