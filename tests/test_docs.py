# SPDX-License-Identifier: MIT
"""Every ```console block of README.md and docs/*.md runs against the real shimsim.

Sybil finds the blocks (and the `<!-- skip: next ... -->` directives) in the Markdown
and reports a failure as FILE, line N; the evaluator below runs each `$ COMMAND` line
with bash in a scratch directory holding a copy of examples/, and compares what it
prints (stdout and stderr, in order) with the lines under it on the page.

Elision: `...` stands for any text, inside a line or as whole lines (doctest's ELLIPSIS).
It is the only marker: everything else on the page must be printed as shown, apart
from trailing blanks.  A block's commands run in order and share the directory, so a
later block can read a file an earlier one wrote (`record -o`, `--html`).
"""
from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
PROMPT = "$ "
_CHECKER = doctest.OutputChecker()


def split_session(block: str) -> list[tuple[str, str]]:
    """`$ command` lines and the output under each, in order."""
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith(PROMPT):
            steps.append((line[len(PROMPT):], []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise ValueError(f"console block starts with output, not a {PROMPT!r} command: {line!r}")
    return [(cmd, "".join(f"{o}\n" for o in out)) for cmd, out in steps]


def _normal(text: str) -> str:
    return "".join(line.rstrip() + "\n" for line in text.strip("\n").splitlines())


def matches(want: str, got: str) -> bool:
    return _CHECKER.check_output(_normal(want), _normal(got), doctest.ELLIPSIS)


def _shell_env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PYTHONUNBUFFERED": "1",       # stdout and stderr interleave as on a terminal
        "PYTHONIOENCODING": "utf-8",   # the pages are UTF-8 (a published truss prints Ukrainian)
        "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200",
        "SHIMSIM_PYTHON": sys.executable,
    })
    env.pop("SHIMSIM_ENGINE", None)
    return env


# `shimsim` is the one the tests import (tests/conftest.py sets PYTHONPATH): an installed
# console script on PATH could be another version.
# `python` is this interpreter too (tools/ scripts the pages run).
_PRELUDE = 'shimsim() { "$SHIMSIM_PYTHON" -m shimsim "$@"; }\npython() { "$SHIMSIM_PYTHON" "$@"; }\n'


def evaluate_console(example: Example) -> str | None:
    work: Path = example.namespace["work"]
    failures = []
    for cmd, want in split_session(example.parsed):
        r = subprocess.run(["bash", "-c", _PRELUDE + cmd], cwd=work, env=_shell_env(work),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, encoding="utf-8", errors="replace",
                           timeout=300)
        if not matches(want, r.stdout):
            failures.append(f"$ {cmd}\n(exit status {r.returncode})\n"
                            + _CHECKER.output_difference(doctest.Example(cmd, _normal(want)),
                                                         _normal(r.stdout), doctest.ELLIPSIS))
    return "\n".join(failures) or None


def _setup(namespace: dict) -> None:
    namespace["STRACE"] = shutil.which("strace") is not None
    namespace["BUSYBOX"] = Path("/bin/busybox").exists() and shutil.which("objcopy") is not None


SYBIL = Sybil(parsers=[CodeBlockParser(language="console", evaluator=evaluate_console), SkipParser()],
              path="..", setup=_setup)


def _console_blocks(page: Path) -> int:
    return len(re.findall(r"^[ \t]*```console[ \t]*$", page.read_text(), flags=re.M))


def test_pages_with_commands_have_console_blocks() -> None:
    """The README and the walkthrough show commands with their output: those are console blocks."""
    assert _console_blocks(ROOT / "README.md") >= 2
    assert _console_blocks(ROOT / "docs" / "walkthrough.md") >= 7
    assert _console_blocks(ROOT / "docs" / "image.md") >= 1


@pytest.mark.parametrize("page", [p for p in PAGES if _console_blocks(p)], ids=lambda p: p.name)
def test_console_blocks_print_what_the_page_shows(page: Path, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "tools").symlink_to(ROOT / "tools")      # the pages' `python tools/...` commands
    doc = SYBIL.parse(page)
    _setup(doc.namespace)
    doc.namespace["work"] = tmp_path
    failures, ran, skipped = [], 0, []
    for example in doc:
        try:
            example.evaluate()
        except unittest.SkipTest as e:
            skipped.append(f"line {example.line}: {e}")
        except AssertionError as e:        # sybil's SybilFailure names the file and line
            failures.append(str(e))
        else:
            ran += example.region.evaluator is evaluate_console
    assert not failures, "\n\n".join(failures)
    assert ran + len(skipped) == _console_blocks(page), "a console block was neither run nor skipped"
    if skipped:
        pytest.skip(f"{ran} blocks ran; skipped: " + "; ".join(skipped))


# The checker itself: drift is caught, `...` is the only licence.

def test_split_session() -> None:
    assert split_session("$ a\nx\ny\n$ b\n") == [("a", "x\ny\n"), ("b", "")]
    with pytest.raises(ValueError, match="starts with output"):
        split_session("x\n$ a\n")


@pytest.mark.parametrize("want,got,ok", [
    ("would run with 51 emulated calls\n", "would run with 51 emulated calls\n", True),
    ("would run with 51 emulated calls\n", "would run with 52 emulated calls\n", False),
    ("would ...\n", "would break at t:1: syscall x\n", True),
    ("a\n...\nz\n", "a\nb\nc\nz\n", True),
    ("a\n...\nz\n", "a\nb\nc\n", False),
    ("a   \nb\n", "a\nb   \n", True),                 # trailing blanks only
    ("a b\n", "a  b\n", False),                       # inner spacing is output
    ("a\nb\n", "a\n", False),
])
def test_matches(want: str, got: str, ok: bool) -> None:
    assert matches(want, got) is ok


def test_a_drifted_page_fails(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    page = tmp_path / "page.md"
    page.write_text("intro\n\n```console\n$ shimsim replay examples/git-commit.strace --shim linuxulator -q\n"
                    "would run with 50 emulated calls\n...\n```\n")
    doc = SYBIL.parse(page)
    doc.namespace["work"] = tmp_path
    (example,) = list(doc)
    with pytest.raises(AssertionError, match=r"line 3.*\n(.*\n)*.*would run with 51 emulated calls"):
        example.evaluate()


def test_a_skipped_block_is_skipped_not_passed(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text('<!-- skip: next if(not NEVER, reason="needs a tool") -->\n```console\n$ false\nnot this\n```\n')
    doc = SYBIL.parse(page)
    doc.namespace.update(work=tmp_path, NEVER=False)
    skip, block = list(doc)
    skip.evaluate()
    with pytest.raises(unittest.SkipTest, match="needs a tool"):
        block.evaluate()
