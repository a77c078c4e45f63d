# SPDX-License-Identifier: MIT
"""Start-up of parse (issue 17). Format modules compile their regular expressions on first use:
a lazy pattern answers as re.compile's would, and parsing a strace file
compiles, in the other formats' modules, only what their sniffers use."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shimsim._lazyre import LazyPattern, lazy_re

FIXTURE = Path(__file__).parents[1] / "fixtures" / "strace" / "gen" / "abort_killed.strace"


def test_lazy_pattern_answers_as_the_compiled_one() -> None:
    src = r"^(?P<name>[a-z_]+)\((?P<args>.*)\) = (?P<ret>-?\d+)$"
    lazy, real = lazy_re(src), re.compile(src)
    assert lazy.pattern == real.pattern and "_compiled" not in vars(lazy)   # known without compiling
    line = 'openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3'
    assert lazy.match(line).groupdict() == real.match(line).groupdict()
    assert lazy.compiled() is re.compile(src)          # re's own cache: the same object
    assert lazy.search("1" + line) is None and lazy.fullmatch(line) is not None
    assert lazy.groups == real.groups and lazy.groupindex == real.groupindex
    assert lazy_re("a|b").sub("-", "cab") == "c--" and lazy_re(",").split("a,b") == ["a", "b"]
    assert lazy_re("a", re.I).findall("aA") == ["a", "A"]
    assert [m.start() for m in lazy_re("a").finditer("aba")] == [0, 2]


def test_first_use_binds_the_methods() -> None:
    p = lazy_re(r"\d+")
    assert "match" not in vars(p)
    p.search("a1")
    assert vars(p)["match"] == p.compiled().match      # later calls skip __getattr__


def test_a_bad_pattern_fails_on_first_use_and_unknown_names_are_attribute_errors() -> None:
    p = lazy_re("(")
    with pytest.raises(re.error):
        p.match("x")
    with pytest.raises(AttributeError):
        lazy_re("a").no_such_method  # noqa: B018


_PROBE = """
import io, json, sys, contextlib
from shimsim import cli
from shimsim._lazyre import LazyPattern
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(["parse", sys.argv[1]])
mods = {m: sorted(k for k, v in vars(sys.modules[m]).items()
                  if isinstance(v, LazyPattern) and "_compiled" in vars(v))
        for m in sys.modules if m.startswith("shimsim.trace.")}
print(json.dumps(mods))
"""

_SNIFF = """
import json, sys
from shimsim.trace import formats, io
from shimsim._lazyre import LazyPattern
lines = io.head_lines(sys.argv[1])
mod = formats.module(sys.argv[2])
getattr(mod, formats.FORMATS[sys.argv[2]].sniff)(lines)
after = sorted(k for k, v in vars(mod).items() if isinstance(v, LazyPattern) and "_compiled" in vars(v))
print(json.dumps(after))
"""


def _run(code: str, *argv: str) -> object:
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_parsing_strace_compiles_only_the_other_formats_sniffing_patterns() -> None:
    from shimsim.trace import formats

    got = _run(_PROBE, str(FIXTURE))
    assert isinstance(got, dict)
    for name, f in formats.FORMATS.items():
        if f.module == "shimsim.trace.strace":
            continue
        mod = __import__(f.module, fromlist=["x"])
        every = [k for k, v in vars(mod).items() if isinstance(v, LazyPattern)]
        assert every, f"{f.module} has no lazy patterns"
        sniffed = _run(_SNIFF, str(FIXTURE), name)
        assert got[f.module] == sniffed, name             # nothing beyond what sniffing needs
        assert len(sniffed) < len(every), name           # and the parser's own patterns stay source text


_MODULES = """
import io, json, sys, contextlib
from shimsim import cli
with contextlib.redirect_stdout(io.StringIO()):
    cli.main(["parse", sys.argv[1]])
parse_modules = sorted(sys.modules)
import dataclasses
auto_doc = sorted(f"{m}.{k}" for m in list(sys.modules) if m.startswith("shimsim")
                  for k, v in vars(sys.modules[m]).items()
                  if isinstance(v, type) and v.__module__ == m and dataclasses.is_dataclass(v)
                  and (v.__doc__ or "").startswith(v.__name__ + "("))
print(json.dumps({"modules": parse_modules, "auto_doc": auto_doc}))
"""


def test_parse_of_a_small_strace_file_imports_little() -> None:
    """What start-up of ``parse`` leaves out (issue 17): argument value classes (rendering
    only), importlib.resources, tempfile (writing only), decimal (kdump times), csvtable
    (the tables come from the cross-run cache), glob (-ff sets); dataclasses and inspect (the
    records on the way are shimsim._record classes), shutil (argparse's terminal width), typing
    (annotations only), pickle (the cache is read with _pickle), shlex (published command lines); and no
    dataclass on the way lacks a docstring (dataclass() would call inspect.signature for one)."""
    got = _run(_MODULES, str(FIXTURE))
    assert isinstance(got, dict)
    mods = set(got["modules"])
    for name in ("shimsim.trace.args", "importlib.resources", "tempfile", "decimal", "gzip", "shimsim.replay",
                 "shimsim.csvtable", "csv", "glob", "dataclasses", "inspect", "shutil", "typing", "pickle", "shlex"):
        assert name not in mods, name
    assert got["auto_doc"] == []
