# SPDX-License-Identifier: MIT
"""Table loading cost, paid at every CLI start, and flag decoding.

    PYTHONPATH=src python -m pytest benchmarks/test_bench_tables.py --benchmark-only

Group "tables": a cold load of one ABI (syscalls + signatures of its OS), a cold load of one
translatable constant family (reads that family's file on every OS to check the cross-OS rule),
and decoding open flags.
"""
from __future__ import annotations

import pytest

from shimsim.tables import Tables


@pytest.mark.benchmark(group="tables")
def test_cold_load_abi(benchmark) -> None:
    abi = benchmark(lambda: Tables().load_abi("linux-x86_64"))
    assert abi.syscall("openat").number == 257


@pytest.mark.benchmark(group="tables")
def test_cold_load_family(benchmark) -> None:
    def run() -> int:
        return Tables().load_abi("freebsd-amd64").family("open_flags").value("O_CLOEXEC")
    assert benchmark(run) == 0x100000


@pytest.mark.benchmark(group="tables")
def test_decode_open_flags(benchmark) -> None:
    fam = Tables().load_abi("linux-x86_64").family("open_flags")
    assert benchmark(fam.decode, 0x80241) == ["O_WRONLY", "O_CREAT", "O_TRUNC", "O_CLOEXEC"]
