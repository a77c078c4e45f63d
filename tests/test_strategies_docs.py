# SPDX-License-Identifier: MIT
"""The documented examples run: every ```python block of docs/strategies.md
(top to bottom, one namespace) and the doctests of the strategies and
properties modules."""
from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import shimsim.properties
import shimsim.strategies

DOC = Path(__file__).resolve().parent.parent / "docs" / "strategies.md"
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)


def blocks() -> list[tuple[int, str]]:
    text = DOC.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_doc_has_examples_for_every_public_strategy() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name in ("abis", "syscalls", "flag_sets", "errnos", "signals", "events", "streams", "trace_text",
                 "shim_specs", "render_strace"):
        assert f"ss.{name}(" in text, name
    assert len(blocks()) >= 8


def test_doc_python_blocks_run() -> None:
    ns: dict = {"__name__": "docs_strategies"}
    for line, code in blocks():
        try:
            exec(compile(code, f"{DOC}:{line}", "exec"), ns)
        except Exception as exc:  # pragma: no cover - the message names the block
            pytest.fail(f"docs/strategies.md block at line {line} failed: {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("mod", [shimsim.strategies, shimsim.properties], ids=lambda m: m.__name__)
def test_module_doctests(mod) -> None:
    res = doctest.testmod(mod, optionflags=doctest.ELLIPSIS)
    assert res.failed == 0
    if mod is shimsim.strategies:
        assert res.attempted >= 10
