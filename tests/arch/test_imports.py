# SPDX-License-Identifier: MIT
"""The layering of src/shimsim, read from its import graph (importgraph.py):
no import cycles, the library never imports a command, no command imports
another, and only engine/c.py reaches the compiled core."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import importgraph  # noqa: E402

GRAPH = importgraph.graph()
MODS = importgraph.modules()


def test_the_graph_is_read() -> None:
    assert len(MODS) > 50
    assert "shimsim.engine.c" in GRAPH["shimsim.replay"]          # a from-import of a submodule
    assert "shimsim.engine" in GRAPH["shimsim.replay.replayer"]    # a module import
    assert "shimsim.tables" in GRAPH["shimsim.trace"]              # a function-level import


def test_no_import_cycles() -> None:
    assert importgraph.cycles(GRAPH) == []


def test_cycles_are_found() -> None:
    """The check itself: a two-module and a three-module circle are reported."""
    g = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(importgraph.cycles(g)) == [["a", "b"], ["c", "d", "e"]]


def test_library_does_not_import_commands() -> None:
    bad = [(m, d) for m, deps in GRAPH.items() for d in deps
           if d.startswith("shimsim.commands") and not m.startswith("shimsim.commands") and m != "shimsim.cli"]
    assert bad == []


def test_no_command_imports_another() -> None:
    shared = {"shimsim.commands", "shimsim.commands._common"}
    bad = [(m, d) for m, deps in GRAPH.items() if m.startswith("shimsim.commands.")
           for d in deps if d.startswith("shimsim.commands.") and d not in shared]
    assert bad == []


def test_only_the_engine_touches_the_core() -> None:
    """shimsim._core (the cffi module) is imported by engine/c.py alone."""
    users = []
    for m, p in MODS.items():
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            if isinstance(node, ast.ImportFrom) and any(a.name == "_core" for a in node.names):
                users.append(m)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_core"):
                users.append(m)
            elif isinstance(node, ast.Import) and any(a.name.endswith("._core") for a in node.names):
                users.append(m)
    assert users == ["shimsim.engine.c"]
