# SPDX-License-Identifier: MIT
"""The scores on hand-computed corpora, the weights files, and the exact merge."""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shimsim.corpus import score, weights
from shimsim.errors import InputError

U = weights.UNIT


def row(name: str, used: list[str], verdicts: dict[str, tuple[str, list[str]]], kind: str = "trace") -> dict:
    return {"input": f"/c/{name}", "name": name, "kind": kind, "digest": name, "abi": "linux-x86_64",
            "syscalls": sorted(used), "error": None, "skipped": None,
            "shims": {s: {"verdict": v, "reason": "", "blockers": sorted(b), "first_fatal": None,
                          "outcomes": {c: "failed" for c in b}} for s, (v, b) in verdicts.items()}}


CORPUS = [
    row("a", ["read", "write"], {"L": ("runs", [])}),
    row("b", ["read", "io_setup"], {"L": ("breaks", ["io_setup"])}),
    row("c", ["read", "io_setup", "mbind"], {"L": ("breaks", ["io_setup", "mbind"])}),
    row("d", ["read", "prctl"], {"L": ("emulated", [])}),
]


def test_uniform_scores_by_hand():
    s = score.summarise(CORPUS, weights.uniform())
    t = s.to_json(None)
    (L,) = t["shims"]
    assert (L["runs"], L["emulated"], L["breaks"]) == (1, 1, 2)
    assert L["completeness"] == 0.5                                # a and d run: 2 of 4
    b = {x["syscall"]: x for x in L["blockers"]}
    assert [x["syscall"] for x in L["blockers"]] == ["io_setup", "mbind"]   # 2 inputs broken before 1
    assert (b["io_setup"]["inputs"], b["io_setup"]["weight"], b["io_setup"]["unlocks_inputs"]) == (2, 2, 1)
    assert (b["mbind"]["inputs"], b["mbind"]["unlocks_inputs"]) == (1, 0)  # c also needs io_setup
    imp = {x["syscall"]: x["importance"] for x in t["syscalls"]}
    assert imp == {"read": 1.0, "io_setup": 0.5, "write": 0.25, "mbind": 0.25, "prctl": 0.25}
    assert [x["syscall"] for x in t["syscalls"]][:2] == ["read", "io_setup"]
    cells = {x["syscall"]: x["outcomes"]["L"] for x in t["syscalls"]}
    assert cells["io_setup"] == "failed" and cells["read"] == "translated"


def test_weighted_scores_and_tsai_importance_by_hand(tmp_path):
    f = tmp_path / "w.txt"
    f.write_text("# name weight\na 0.5\nb 3\nc 1.5   # trailing comment\n")
    w = weights.load(str(f))
    s = score.summarise(CORPUS, w)
    t = s.to_json(None, w.source)
    assert t["total_weight"] == 5.0 and t["unweighted"] == 1       # d is not named: weight 0
    (L,) = t["shims"]
    assert L["completeness"] == pytest.approx(0.5 / 5)
    b = {x["syscall"]: x for x in L["blockers"]}
    assert b["io_setup"]["weight"] == 4.5 and b["io_setup"]["unlocks_weight"] == 3.0
    assert b["io_setup"]["share"] == pytest.approx(0.9)
    imp = {x["syscall"]: x for x in t["syscalls"]}
    assert imp["io_setup"]["importance"] == pytest.approx(4.5 / 5)
    # Tsai: 1 - prod(1 - w_i / max w) over the users; b has the largest weight, so p_b = 1
    assert imp["io_setup"]["tsai_importance"] == 1.0
    assert imp["mbind"]["tsai_importance"] == pytest.approx(0.5)    # c alone: 1.5 / 3
    assert imp["write"]["tsai_importance"] == pytest.approx(0.5 / 3)
    assert imp["prctl"]["tsai_importance"] == 0.0


def test_popcon_by_inst_file(tmp_path):
    f = tmp_path / "by_inst"
    f.write_text(
        "#Format\n#\n#<name> is the package name;\n"
        "#rank name                            inst  vote   old recent no-files (maintainer)\n"
        "1     libc6                          230512 210000 10000  5000   12 (GNU Libc Maintainers)\n"
        "2     coreutils                      230000 200000 20000  9000    1 (Michael Stone)\n"
        "----------------------------------------------------------------------------------\n"
        "Total      10 230512 ...\n")
    w = weights.load(str(f))
    assert w.table == {"libc6": 230512 * U, "coreutils": 230000 * U}
    assert w.of({"name": "coreutils", "input": "/x/coreutils", "kind": "trace"}) == (230000 * U, "coreutils")
    assert w.of({"name": "ls", "input": "/nowhere/ls", "kind": "trace"}) == (0, None)


@pytest.mark.parametrize("text,line,what", [
    ("a 1\nb\n", 2, "expected 'name weight'"),
    ("a 1\nb -2\n", 2, "non-negative"),
    ("a lots\n", 1, "non-negative number"),
    ("# nothing\n", None, "no weights"),
])
def test_bad_weights_files_name_file_and_line(tmp_path, text, line, what):
    f = tmp_path / "w"
    f.write_text(text)
    with pytest.raises(InputError) as e:
        weights.load(str(f))
    assert e.value.line == line and what in str(e.value) and str(f) in str(e.value)


def test_loupe_medians_and_errors_are_counted_not_scored():
    rows = [dict(row(n, ["read"] * 0 + [f"c{i}" for i in range(k)], {"L": ("runs", [])}, "loupe"),
                 loupe={"runs": ["r"], "used": k, "required": r}) for n, k, r in (("x", 3, 1), ("y", 10, 4), ("z", 6, 2), ("u", 8, 9))]
    bad = {"input": "/c/bad", "kind": "trace", "error": "/c/bad:3: expected something", "skipped": None}
    skip = {"input": "/c/README", "kind": "trace", "error": None, "skipped": "not a trace"}
    t = score.summarise([*rows, bad, skip], weights.uniform()).to_json()
    assert t["loupe"] == {"workloads": 4, "median_used": 7.0, "median_required": 3.0}
    assert (t["inputs"], t["errors"], t["skipped"]) == (4, 1, 1)
    assert t["error_list"] == [{"input": "/c/bad", "error": "/c/bad:3: expected something"}]


SHIMS = ("L", "G")
CALLS = ("read", "write", "io_setup", "mbind", "prctl")


@st.composite
def rows(draw):
    out = []
    for i in range(draw(st.integers(0, 30))):
        used = draw(st.lists(st.sampled_from(CALLS), min_size=1, unique=True))
        vs = {}
        for s in SHIMS:
            v = draw(st.sampled_from(("runs", "emulated", "breaks", "unknown")))
            bl = draw(st.lists(st.sampled_from(used), unique=True)) if v == "breaks" else []
            vs[s] = (v, bl)
        r = row(f"i{i}", used, vs)
        if draw(st.booleans()) and i % 7 == 0:
            r = {"input": f"/c/i{i}", "kind": "elf", "error": f"/c/i{i}: bad", "skipped": None}
        out.append(r)
    return out


@settings(max_examples=60)
@given(rows(), st.integers(0, 2**32 - 1), st.lists(st.decimals(0, 1000, places=3, allow_nan=False), min_size=1))
def test_any_partition_merged_in_any_order_equals_the_serial_fold(rs, seed, ws):
    w = weights.Weights("w", {f"i{i}": int(d * U) for i, d in enumerate(ws)}, default=0)
    serial = score.summarise(rs, w).to_json(None)
    rnd = random.Random(seed)
    parts: list[list[dict]] = [[] for _ in range(rnd.randint(1, 5))]
    for r in rnd.sample(rs, len(rs)):
        rnd.choice(parts).append(r)
    sums = [score.summarise(p, w) for p in parts]
    rnd.shuffle(sums)
    merged = score.Summary()
    while sums:                                   # an arbitrary tree of merges
        a = sums.pop(rnd.randrange(len(sums)))
        if sums:
            b = sums.pop(rnd.randrange(len(sums)))
            sums.append(a.merge(b))
        else:
            merged.merge(a)
    assert merged.to_json(None) == serial


def test_completeness_is_none_without_weight():
    assert score.Summary().completeness("L") is None
    assert math.isclose(score.summarise(CORPUS[:1], weights.uniform()).completeness("L"), 1.0)
