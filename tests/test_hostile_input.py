# SPDX-License-Identifier: MIT
"""Hostile input ends in bounded time and memory with one error line naming
the file (exit 2), or a counted skip in lenient mode; never a traceback.

Every input is generated here in tmp_path.  "Bounded memory" is enforced, not
timed: the heavy cases run the CLI in a child whose address space is capped
(RLIMIT_AS, hostilekit.MEM_CAP), so an unbounded read would die with MemoryError instead
of passing.  The bounds are stated in docs/limits.md."""
from __future__ import annotations

import gzip
import lzma
import os
from pathlib import Path

import pytest

from hostilekit import cli_capped, one_line

from shimsim.cli import main
from shimsim.trace import io

ROOT = Path(__file__).resolve().parents[1]
FIRST = b'1234 openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3\n'


# --- a 100 MB line ---------------------------------------------------------------

@pytest.fixture(scope="module")
def huge_line(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("hostile") / "huge_line.strace"
    with open(p, "wb") as f:
        f.write(FIRST)
        f.write(b'1234 write(1, "')
        chunk = b"A" * (1 << 20)
        for _ in range(100):
            f.write(chunk)
        f.write(b'", 104857600) = 104857600\n1234 close(3) = 0\n')
    return p


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["c", "python"])
def test_100mb_line_is_a_counted_unparsed_line(huge_line: Path, engine: str) -> None:
    r = cli_capped("parse", str(huge_line), "--engine", engine, "--json")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    import json

    d = json.loads(r.stdout)
    assert d["unparsed"] == 1 and sum(d["events"].values()) == 2      # the lines around it still count


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["c", "python"])
def test_100mb_line_in_strict_mode_is_one_error(huge_line: Path, engine: str) -> None:
    r = cli_capped("parse", "--strict", str(huge_line), "--engine", engine)
    assert r.returncode == 2
    one_line(r.stderr, f"{huge_line}:2", "longer than")


# --- 10,000 nested braces -------------------------------------------------------------

@pytest.mark.parametrize("engine", ["c", "python"])
@pytest.mark.parametrize("open_, close", [("{", "}"), ("[", "]"), ("(", ")")])
def test_deeply_nested_arguments(tmp_path: Path, capsys, engine: str, open_: str, close: str) -> None:
    p = tmp_path / "nested.strace"
    p.write_text(f"1234 ioctl(3, TCGETS, {open_ * 10_000}{close * 10_000}) = 0\n"
                 f"1234 ioctl(3, TCGETS, {open_ * 10_000}) = 0\n"        # never closed
                 "1234 close(3) = 0\n")
    status = main(["parse", str(p), "--engine", engine, "--json"])
    out, err = capsys.readouterr()
    assert status == 0 and "Traceback" not in err
    import json

    d = json.loads(out)
    assert d["lines"] == 3          # every line accounted for: an event, unparsed, or a counted skip
    assert sum(d["events"].values()) + d["unparsed"] + sum(d["skipped"].values()) == 3
    assert d["events"]["syscall"] >= 1


# --- decompression bombs ----------------------------------------------------------------

def _bomb(path: Path, kind: str, mib: int) -> None:
    """FIRST, then MIB MiB of newlines, compressed: about 1000:1 for gzip, far more for xz and zstd."""
    if kind == "gz":
        f = gzip.open(path, "wb", compresslevel=9)
    elif kind == "xz":
        f = lzma.open(path, "wb", preset=0)
    else:
        zstandard = pytest.importorskip("zstandard")
        f = zstandard.ZstdCompressor(level=3).stream_writer(open(path, "wb"), closefd=True)
    with f:
        f.write(FIRST)
        chunk = b"\n" * (1 << 20)
        for _ in range(mib):
            f.write(chunk)


@pytest.mark.parametrize("kind", ["gz", "xz", "zst"])
@pytest.mark.parametrize("engine", ["c", pytest.param("python", marks=pytest.mark.slow)])  # ~1M blank lines first
def test_decompression_bomb_is_refused(tmp_path: Path, capsys, kind: str, engine: str) -> None:
    p = tmp_path / f"bomb.strace.{kind}"
    _bomb(p, kind, 2 * (io.RATIO_FLOOR >> 20))
    assert p.stat().st_size * io.MAX_RATIO < 2 * io.RATIO_FLOOR
    status = main(["parse", str(p), "--format", "strace", "--engine", engine])
    assert status == 2
    one_line(capsys.readouterr().err, str(p), "decompression bomb")


@pytest.mark.slow
def test_gigabyte_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    p = tmp_path / "bomb.strace.xz"
    _bomb(p, "xz", 1024)                              # 1 GiB inflated from ~150 KB
    r = cli_capped("parse", str(p), "--format", "strace")
    assert r.returncode == 2
    one_line(r.stderr, str(p), "decompression bomb")


def test_a_real_compressed_trace_is_not_a_bomb(tmp_path: Path, capsys) -> None:
    text = (ROOT / "examples" / "git-commit.strace").read_bytes()
    p = tmp_path / "t.strace.gz"
    p.write_bytes(gzip.compress(text * 40))          # repetitive, so compresses well, but far below the cap
    assert main(["parse", str(p)]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("kind", ["gz", "xz"])
def test_truncated_and_corrupt_compressed_input(tmp_path: Path, capsys, kind: str) -> None:
    text = (ROOT / "examples" / "git-commit.strace").read_bytes()
    data = gzip.compress(text) if kind == "gz" else lzma.compress(text)
    for name, bad in (("truncated", data[: len(data) // 2]),
                      ("corrupt", data[:200] + bytes(b ^ 0x55 for b in data[200:400]) + data[400:])):
        p = tmp_path / f"{name}.strace.{kind}"
        p.write_bytes(bad)
        assert main(["parse", str(p), "--format", "strace"]) == 2
        one_line(capsys.readouterr().err, str(p), "compressed input")


# --- links, directories ------------------------------------------------------------------

def test_symlink_loop_and_dangling_link(tmp_path: Path, capsys) -> None:
    loop = tmp_path / "loop.strace"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.strace"
    dangling.symlink_to(tmp_path / "nowhere")
    for cmd in (["parse", str(loop)], ["replay", str(loop), "--shim", "gvisor"]):
        assert main(cmd) == 2
        one_line(capsys.readouterr().err, str(loop), "symbolic link loop")
    assert main(["parse", str(dangling)]) == 2
    one_line(capsys.readouterr().err, str(dangling), "dangling symbolic link")
    assert main(["inspect", str(loop)]) == 2
    err = capsys.readouterr().err
    assert str(loop) in err and "Too many levels of symbolic links" in err and "Traceback" not in err


def test_a_directory_as_a_trace(tmp_path: Path, capsys) -> None:
    assert main(["parse", str(tmp_path)]) == 2
    one_line(capsys.readouterr().err, str(tmp_path), "is a directory")


@pytest.mark.slow
def test_directory_of_100000_tiny_files_is_a_counted_skip(tmp_path: Path, capsys) -> None:
    d = tmp_path / "many"
    d.mkdir()
    for i in range(100_000):
        (d / f"f{i:06d}").write_bytes(b"x")
    (d / "loop").symlink_to(d / "loop")
    (d / "self").symlink_to(d)                        # a directory link: not followed
    assert main(["inspect", str(d), "--json"]) == 2   # nothing to inspect is bad input
    import json

    out = json.loads(capsys.readouterr().out)
    assert out["summary"] == {"inspected": 0, "errors": 0, "skipped_not_elf": 100_000}


# --- a sparse multi-gigabyte file --------------------------------------------------------

SPARSE = 4 << 30


def _sparse(path: Path, head: bytes = b"") -> Path:
    """HEAD, then a hole up to 4 GiB: reads as NUL bytes, takes no disk."""
    path.write_bytes(head)
    os.truncate(path, SPARSE)
    if path.stat().st_blocks * 512 > 64 << 20:
        pytest.skip("this file system does not store sparse files")
    return path


@pytest.mark.parametrize("engine", ["c", "python"])
def test_sparse_file_of_zeros_is_not_a_trace(tmp_path: Path, capsys, engine: str) -> None:
    """NUL bytes are refused in the first block read, not after reading 4 GiB as one long line."""
    p = _sparse(tmp_path / "sparse.strace")
    assert main(["parse", str(p), "--format", "strace", "--engine", engine]) == 2
    one_line(capsys.readouterr().err, f"{p}:1", "binary data (NUL byte)")
    assert main(["parse", str(p), "--engine", engine]) == 2             # format detection says why too
    one_line(capsys.readouterr().err, str(p), "cannot recognise the trace format", "binary data (NUL bytes)")


def test_trace_followed_by_a_hole_is_refused_at_the_hole(tmp_path: Path) -> None:
    p = _sparse(tmp_path / "preallocated.strace", FIRST)
    r = cli_capped("replay", str(p), "--shim", "gvisor")
    assert r.returncode == 2
    one_line(r.stderr, f"{p}:2", "binary data (NUL byte)")


def test_sparse_files_as_inspect_inputs(tmp_path: Path) -> None:
    zeros = _sparse(tmp_path / "zeros")
    r = cli_capped("inspect", str(zeros))
    assert r.returncode == 2 and "not an ELF file" in r.stderr and "Traceback" not in r.stderr
    elf = _sparse(tmp_path / "busybox-with-a-hole", Path("/bin/busybox").read_bytes())
    r = cli_capped("inspect", str(elf), "--json")                     # headers read by offset, the hole never
    assert r.returncode == 0, r.stderr
    import json

    assert json.loads(r.stdout)["summary"]["inspected"] == 1
