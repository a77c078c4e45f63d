# SPDX-License-Identifier: MIT
"""The one CSV table reader: provenance metadata, strict shape, errors at file:line."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from shimsim import csvtable, resources
from shimsim.errors import InputError

HEAD = ("a", "b")
GOOD = """# SPDX-License-Identifier: MIT
# source: torvalds/linux@0123456789abcdef0123456789abcdef01234567:scripts/syscall.tbl
# source: strace/strace@0123456789abcdef0123456789abcdef01234567:src/linux/64/syscallent.h
# upstream-rows: 3
# excluded-rows: 1 (another ABI)
a,b
1, x
2,"y, z"
"""


def test_reads_rows_lines_and_provenance() -> None:
    t = csvtable.parse(GOOD, "t.csv", HEAD)
    assert [(r.line, r.cells) for r in t] == [(7, ("1", "x")), (8, ("2", "y, z"))]
    assert t.rows[1]["b"] == "y, z" and t.rows[0].as_dict() == {"a": "1", "b": "x"}
    assert len(t.check_sources()) == 2
    assert t.check_upstream_rows() == 3
    assert t.meta_int("excluded-rows") == 1


@pytest.mark.parametrize("text,line,fragment", [
    ("x,y\n", 1, "header must be a,b, got x,y"),
    ("a,b\n1,2,3\n", 2, "expected 2 columns (a,b), got 3"),
    ("# only a comment\n", None, "no header row"),
    ('a,b\n"1,2\n', 2, "bad CSV"),
])
def test_shape_errors_name_file_and_line(text: str, line: int | None, fragment: str) -> None:
    with pytest.raises(InputError) as ei:
        csvtable.parse(text, "t.csv", HEAD)
    assert ei.value.path == "t.csv" and ei.value.line == line and fragment in ei.value.message


@pytest.mark.parametrize("edit,line,fragment", [
    (("upstream-rows: 3", "upstream-rows: 4"), 4, "upstream-rows says 4 but the file has 2 rows + 1"),
    (("upstream-rows: 3", "upstream-rows: many"), 4, "must start with a row count"),
    (("0123456789abcdef0123456789abcdef01234567:scripts", "main:scripts"), 2, "40-hex commit"),
    (("# upstream-rows: 3\n", "# upstream-rows: 3\n# supplement-rows: 1\n"), 5, "supplement-source"),
])
def test_provenance_errors(edit: tuple[str, str], line: int, fragment: str) -> None:
    t = csvtable.parse(GOOD.replace(*edit), "t.csv", HEAD)
    with pytest.raises(InputError) as ei:
        t.check_sources()
        t.check_upstream_rows()
    assert ei.value.line == line and fragment in ei.value.message


def test_missing_provenance_and_unreadable_file(tmp_path: Path) -> None:
    t = csvtable.parse("a,b\n1,2\n", "t.csv", HEAD)
    with pytest.raises(InputError, match="missing '# source: repo@commit:path'"):
        t.check_sources()
    with pytest.raises(InputError, match="missing '# upstream-rows: N'"):
        t.check_upstream_rows()
    with pytest.raises(InputError, match="cannot read"):
        csvtable.read(tmp_path / "absent.csv", HEAD)
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff,1\n")
    with pytest.raises(InputError, match="not UTF-8"):
        csvtable.read(tmp_path / "bin.csv", HEAD)


def test_resources_finds_the_tables() -> None:
    root = resources.tables_root()
    assert (root / "abis.toml").is_file()
    assert resources.display(resources.table_path("abis.toml")) == "tables/abis.toml"


cell = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=12).map(str.strip)


@given(st.lists(st.tuples(cell, cell), max_size=8))
def test_round_trip_through_the_csv_module(rows: list[tuple[str, str]]) -> None:
    """What csv.writer writes, the reader gives back cell for cell (with quoting)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(HEAD)
    rows = [r for r in rows if not r[0].startswith("#") and any(r)]
    w.writerows(rows)
    t = csvtable.parse(buf.getvalue(), "t.csv", HEAD)
    assert [r.cells for r in t] == rows
