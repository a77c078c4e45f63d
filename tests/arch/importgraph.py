# SPDX-License-Identifier: MIT
"""The import graph of the shimsim package, read from the sources (ast):
every ``import``/``from ... import`` at any depth (a function-level import is
still a dependency), resolved to shimsim modules.  Run as a script to print
the graph, its module sizes and any cycle."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def modules(src: Path = SRC) -> dict[str, Path]:
    out = {}
    for p in sorted((src / "shimsim").rglob("*.py")):
        parts = list(p.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = p
    return out


def graph(src: Path = SRC) -> dict[str, set[str]]:
    mods = modules(src)
    g: dict[str, set[str]] = {m: set() for m in mods}
    for m, p in mods.items():
        pkg = m if p.name == "__init__.py" else m.rpartition(".")[0]
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = pkg.split(".")
                    up = up[: len(up) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # "from X import a": the module X.a if there is one, else X itself
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
            for name in names:
                # the longest shimsim module the name refers to
                while name and name not in mods:
                    name = name.rpartition(".")[0]
                if name and name != m and name.startswith("shimsim"):
                    g[m].add(name)
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    sys.setrecursionlimit(10000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    g = graph()
    mods = modules()
    lines = sum(len(p.read_text().splitlines()) for p in mods.values())
    print(f"{len(mods)} modules, {lines} lines")
    for m in sorted(g):
        print(f"{m} ({len(mods[m].read_text().splitlines())}) -> {', '.join(sorted(g[m]))}")
    for c in cycles(g):
        print("CYCLE:", " <-> ".join(c))
