# SPDX-License-Identifier: MIT
"""csrc/codes.def is the one list of shared codes: the generated C header and
Python module are what the generator makes of it, the compiled core has the
same values, and no other header defines them by hand."""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from shimsim import codes

ROOT = Path(__file__).resolve().parents[1]
GROUPS = ("EV", "REC", "EVF", "OUT", "DIV", "R", "NOTE", "TOK")


def _gen():
    spec = importlib.util.spec_from_file_location("gen_codes", ROOT / "tools" / "gen_codes.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_codes"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_regeneration_is_a_no_op() -> None:
    for path, text in _gen().outputs().items():
        assert path.read_text() == text, f"{path} is stale: run python tools/gen_codes.py"


def test_check_mode_names_a_stale_file(tmp_path, monkeypatch, capsys) -> None:
    gen = _gen()
    stale = tmp_path / "codes.py"
    stale.write_text("# edited by hand\n")
    monkeypatch.setattr(gen, "PYMOD", stale)
    monkeypatch.setattr(gen, "outputs", lambda: {stale: gen.pymodule(*gen.parse(gen.DEF.read_text()))})
    assert gen.main(["--check"]) == 1
    assert "codes.py is stale" in capsys.readouterr().err
    assert stale.read_text() == "# edited by hand\n"   # --check writes nothing


@pytest.mark.parametrize("bad, msg", [
    ('SS_CODE(EV, SYSCALL, 1, "syscall", "")\n', "before its SS_GROUP"),
    ('SS_GROUP(EV, "", KIND_NAMES, "k")\nSS_CODE(EV, A, 1, "a", "")\nSS_CODE(EV, B, 1, "b", "")\n', "used twice"),
    ('SS_GROUP(EV, "", KIND_NAMES, "k")\nSS_CODE(EV, A, one, "a", "")\n', "expected SS_GROUP"),
])
def test_bad_definitions_name_the_line(bad: str, msg: str) -> None:
    with pytest.raises(SystemExit, match=msg) as exc:
        _gen().parse(bad, "x.def")
    assert "x.def:" in str(exc.value)


def test_compiled_core_has_the_same_values() -> None:
    from shimsim.engine import c

    lib = c.core().lib
    groups, consts = _gen().parse((ROOT / "csrc" / "codes.def").read_text())
    n = 0
    for g in groups:
        for name, value, label, _ in g.codes:
            assert getattr(lib, f"SS_{g.prefix}_{name}") == value == getattr(codes, f"{g.pyprefix}{name}")
            n += 1
        if g.table:
            table = getattr(codes, g.table)
            assert [table[v] for _n, v, _l, _c in g.codes] == [label for _n, _v, label, _c in g.codes]
    for name, value, _ in consts:
        assert getattr(lib, f"SS_{name}") == value == getattr(codes, name)
    assert n > 50


def test_no_header_defines_a_code_by_hand() -> None:
    pat = re.compile(rf"#define\s+SS_(?:{'|'.join(GROUPS)})_\w+")
    for h in sorted((ROOT / "csrc").glob("*.h")):
        if h.name != "codes.h":
            assert not pat.search(h.read_text()), f"{h.name} defines a code that belongs in codes.def"


def test_python_names_are_the_codes() -> None:
    from shimsim import model, shim
    from shimsim.trace import strace

    assert strace.REASONS is codes.REASONS and strace.R_TOOLONG == codes.R_TOOLONG
    assert model.KIND_NAMES is codes.KIND_NAMES and model.UNKNOWN == codes.REC_UNKNOWN
    assert shim.OUTCOME_NAMES is codes.OUTCOME_NAMES and shim.UNKNOWN == codes.UNKNOWN == 0
    assert codes.OUTCOME_NAMES[codes.NONE] == "none" and codes.DIV_NAMES[codes.DIV_FALLBACK] == "survivable"
