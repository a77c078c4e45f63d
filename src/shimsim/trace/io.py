# SPDX-License-Identifier: MIT
"""Streaming input for traces: plain, .gz, .xz, .zst files and stdin ('-').

Everything is read in blocks of about 1 MiB that end at a newline, so memory
stays flat whatever the file size and both engines (the C tokeniser and the
Python reference) see the same bytes.  Binary input (NUL bytes), corrupt or
truncated compressed streams and lines longer than a cap are reported as
InputError or counted as unparsed, never as a traceback.
"""
from __future__ import annotations

import errno
import io
import os
import sys
from collections.abc import Callable, Iterator

from shimsim.errors import InputError

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import Any, BinaryIO

BLOCK = 1 << 19          # bytes read per block (below MAX_LINE, so blocks rarely need a long-line scan)
MAX_LINE = 1 << 20       # longer lines are replaced by an empty line and counted as unparsed
LONG_LINE_REASON = f"line longer than {MAX_LINE} bytes (cut off; corrupt or not a trace?)"

# A compressed stream that inflates beyond MAX_RATIO times the bytes read from
# the file, once past RATIO_FLOOR, is refused as a decompression bomb: real
# strace logs compress 10-50:1 (gzip at most ~1030:1, on a file of one byte
# repeated), so work stays bounded by MAX_RATIO x the file's size.
MAX_RATIO = 250
RATIO_FLOOR = 1 << 20

_GZ, _XZ, _ZST, _BZ2 = b"\x1f\x8b", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"BZh"


def jobs() -> int:
    """Cores one trace may use: $SHIMSIM_JOBS, else all of them; 1 = serial (no
    decompression thread, no tokeniser pipeline)."""
    v = os.environ.get("SHIMSIM_JOBS", "")
    if not v:
        return os.cpu_count() or 1
    try:
        n = int(v)
    except ValueError:
        n = 0
    if n < 1:
        from shimsim.errors import ShimsimError

        raise ShimsimError(f"SHIMSIM_JOBS={v!r}: expected a whole number of cores, at least 1 (1 = serial)")
    return n


class _Prefetch:
    """A decompressed stream read ahead by its own thread (zlib, lzma, bz2 and
    zstandard release the GIL while they inflate), so decompression overlaps the
    tokeniser.  read() hands over the thread's reads in order, and what a read
    raised (corrupt input, a decompression bomb) at the same point of the stream;
    at most DEPTH blocks wait, so memory stays flat."""

    DEPTH = 2

    def __init__(self, stream: BinaryIO, path: str, size: int) -> None:
        import queue
        import threading

        self._queue: Any = queue.Queue(self.DEPTH)
        self._full = queue.Full
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(stream, path, size), daemon=True,
                                        name="shimsim-inflate")
        self._thread.start()

    def _run(self, stream: BinaryIO, path: str, size: int) -> None:
        try:
            while not self._stop.is_set():
                data = _read(stream, path, size)
                self._put((True, data))
                if not data:
                    return
        except BaseException as exc:
            self._put((False, exc))

    def _put(self, item: tuple[bool, Any]) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
                return
            except self._full:
                continue

    def read(self, n: int = -1) -> bytes:
        if self._done:
            return b""
        ok, v = self._queue.get()
        if not ok:
            self._done = True
            raise v
        if not v:
            self._done = True
        return v

    def close(self) -> None:
        """Stop the thread (it finishes the read it is in) before the stream is closed."""
        self._stop.set()
        self._thread.join()


class _Chain(io.RawIOBase):
    """The already-read head of stdin followed by the rest of stdin, so that
    sniffing can look at stdin before parsing reads it."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head, self._pos, self._rest = head, 0, rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        if self._pos < len(self._head):
            n = min(len(b), len(self._head) - self._pos)
            b[:n] = self._head[self._pos:self._pos + n]
            self._pos += n
            return n
        data = self._rest.read(len(b))
        b[:len(data)] = data
        return len(data)


_stdin_head: bytes | None = None


def stdin_head() -> bytes:
    """The first block of stdin, read once and replayed to the parser."""
    global _stdin_head
    if _stdin_head is None:
        _stdin_head = sys.stdin.buffer.read(BLOCK)
    return _stdin_head


def _open_raw(path: str) -> BinaryIO:
    if path == "-":
        return io.BufferedReader(_Chain(stdin_head(), sys.stdin.buffer))  # type: ignore[return-value]
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise InputError(path, None, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, None, "is a directory, expected a trace file") from None
    except OSError as exc:
        raise InputError(path, None, f"cannot open: {exc.strerror or exc}") from None


def open_binary(path: str) -> tuple[BinaryIO, BinaryIO]:
    """(decompressed stream, raw file): the compression is recognised by its
    magic bytes, not by the file name.  Close both when done."""
    raw = _open_raw(path)
    head = raw.peek(8)[:8] if hasattr(raw, "peek") else b""
    if not head:
        return raw, raw
    from shimsim.inflation import Counting, Inflation

    src = Counting(raw)
    if head.startswith(_GZ):
        import gzip         # the decompressors are imported when a file needs one (start-up, issue 17)

        stream = gzip.GzipFile(fileobj=src)
    elif head.startswith(_XZ):
        import lzma

        stream = lzma.LZMAFile(src)
    elif head.startswith(_BZ2) and path.endswith(".bz2"):
        import bz2

        stream = bz2.BZ2File(src)
    elif head.startswith(_ZST):
        import zstandard

        stream = zstandard.ZstdDecompressor().stream_reader(src, read_across_frames=True)
    else:
        return raw, raw
    def refuse(n: int, k: int) -> InputError:
        return InputError(path, None, f"decompression bomb: {n} bytes inflated from {k} (over {MAX_RATIO}:1); "
                                      "if it is a real trace, decompress it and pass that file")
    bounded = Inflation(stream, lambda: src.n, max_ratio=MAX_RATIO, floor=RATIO_FLOOR, refuse=refuse,
                        owns_stream=True)
    return bounded, raw  # type: ignore[return-value]


def _decompression_errors() -> tuple[type[Exception], ...]:
    """lzma's and zlib's errors (evaluated only when a read fails; importing them is cheap then)."""
    import lzma
    import zlib

    return lzma.LZMAError, zlib.error


def _read(stream: BinaryIO, path: str, n: int) -> bytes:
    try:
        return stream.read(n)
    except (EOFError, OSError, ValueError, *_decompression_errors()) as exc:
        raise InputError(path, None, f"corrupt or truncated compressed input: {exc}") from None
    except Exception as exc:  # zstandard.ZstdError has no common base with OSError
        if type(exc).__name__ == "ZstdError":
            raise InputError(path, None, f"corrupt or truncated zstd input: {exc}") from None
        raise


def _check_text(block: bytes | bytearray, path: str, first_line: int | Callable[[], int],
                start: int = 0, end: int | None = None) -> None:
    """No NUL byte in block[start:end], whose first line is first_line."""
    nul = block.find(b"\0", start, end)
    if nul >= 0:
        line = (first_line() if callable(first_line) else first_line) + block.count(b"\n", start, nul)
        raise InputError(path, line, "binary data (NUL byte): expected a text trace")


def blocks(path: str, on_long_line: Callable[[int], None] | None = None,
           block_size: int | None = None, max_line: int | None = None,
           lines_done: Callable[[], int] | None = None, prefetch: bool = False,
           reuse: bool = False) -> Iterator[tuple[bytes, int]]:
    """Yield (block, first_line_number) pairs.  Each block holds whole lines
    (the last one may lack its newline at end of input).  A line longer than
    max_line is replaced by an empty line and reported through on_long_line
    (or raised as InputError when no callback is given).

    With lines_done (how many lines of this file the consumer has taken so
    far; the C tokeniser counts them anyway) the blocks are not counted here
    and first_line_number is 0: counting newlines in Python costs a third of
    the C path's time.

    With prefetch, a compressed stream is decompressed by a thread of its own
    (_Prefetch) while the caller works on the previous block; the blocks are the
    same.

    With reuse (and lines_done), an uncompressed file's blocks are memoryviews
    of RING buffers read into again and again (_ring_blocks): the same bytes,
    without a fresh buffer, its page faults and a copy per block.  A block then
    stays valid only until the next one is taken and the one after is read:
    for a consumer done with a block (and what points into it) by then."""
    stream, raw = open_binary(path)
    size = block_size or BLOCK
    ahead = _Prefetch(stream, path, size) if prefetch and stream is not raw else None
    try:
        if reuse and lines_done is not None and stream is raw:
            yield from _ring_blocks(stream, path, on_long_line, size, max_line or MAX_LINE, lines_done)
            return
        yield from _blocks(ahead or stream, path, on_long_line, size, max_line or MAX_LINE,  # type: ignore[arg-type]
                           lines_done)
    finally:
        if ahead is not None:
            ahead.close()
        stream.close()
        raw.close()


def _blocks(stream: BinaryIO, path: str, on_long_line: Callable[[int], None] | None,
            block_size: int, max_line: int, lines_done: Callable[[], int] | None) -> Iterator[tuple[bytes, int]]:
    counted = lines_done is None
    line = 1  # first line of the next block (counted mode)

    def cur() -> int:
        return line if lines_done is None else lines_done() + 1

    carry = b""
    skipping = False  # inside an over-long line: drop bytes up to the next newline
    while True:
        data = _read(stream, path, block_size)
        if not data:
            break
        if skipping:
            nl = data.find(b"\n")
            _check_text(data[:nl] if nl >= 0 else data, path, cur())
            if nl < 0:
                continue
            data = data[nl + 1:]
            skipping = False
            if not data:
                continue
        cut = data.rfind(b"\n")
        if cut < 0:
            _check_text(data, path, cur())      # a line of NUL bytes (a sparse file) ends here, not after it
            buf = carry + data
            if len(buf) > max_line:
                _long(path, cur(), on_long_line)
                yield b"\n", (line if counted else 0)
                line += 1
                carry, skipping = b"", True
            else:
                carry = buf
            continue
        # one copy at most: the carried tail joined with this read up to its last newline
        if cut == len(data) - 1:
            block = carry + data if carry else data
            rest = b""
        else:
            block = b"".join((carry, memoryview(data)[: cut + 1]))
            rest = data[cut + 1:]
        carry = rest
        # with lines_done, the line number is asked for only when a message needs it
        first: Any = cur() if counted else cur
        _check_text(block, path, first)
        block = _cap_lines(block, first, path, on_long_line, max_line)
        yield block, (first if counted else 0)
        if counted:
            line += block.count(b"\n")
        if len(carry) > max_line:
            _long(path, cur(), on_long_line)
            yield b"\n", (line if counted else 0)
            line += 1
            carry, skipping = b"", True
    if carry:
        first = cur() if counted else cur
        _check_text(carry, path, first)
        yield _cap_lines(carry, first, path, on_long_line, max_line), (first if counted else 0)


RING = 3      # buffers _ring_blocks reads into in turn


def _readinto(stream: BinaryIO, path: str, view: memoryview) -> int:
    try:
        return stream.readinto(view)    # type: ignore[attr-defined]
    except OSError as exc:
        raise InputError(path, None, f"cannot read: {exc.strerror or exc}") from None


def _ring_blocks(stream: BinaryIO, path: str, on_long_line: Callable[[int], None] | None,
                 block_size: int, max_line: int, lines_done: Callable[[], int]) -> Iterator[tuple[bytes, int]]:
    """_blocks' blocks, as memoryviews of RING reused buffers.  Each read goes into a
    buffer that holds neither the block last yielded (the consumer may still be on
    it) nor the carried tail being copied in front of the read; the carried tail
    (the start of a line cut by the read) is the only copy."""
    def cur() -> int:
        return lines_done() + 1

    ring = [bytearray(0) for _ in range(RING)]
    last = prev = -1        # the slot last yielded; the slot the carried tail is in
    cstart = carry = 0      # the carried tail: ring[prev][cstart:cstart + carry]
    skipping = False        # inside an over-long line: drop bytes up to the next newline
    while True:
        slot = next(k for k in range(RING) if k != last and k != prev)
        buf = ring[slot]
        if len(buf) < carry + block_size:
            buf = ring[slot] = bytearray(carry + block_size)
        view = memoryview(buf)
        if carry:
            view[:carry] = memoryview(ring[prev])[cstart:cstart + carry]
        n = _readinto(stream, path, view[carry:carry + block_size])
        end = carry + n
        if not n:
            break
        start = 0
        if skipping:
            nl = buf.find(b"\n", 0, end)
            _check_text(buf, path, cur, 0, nl if nl >= 0 else end)
            if nl < 0:
                continue
            start, skipping = nl + 1, False
            if start == end:
                continue
        cut = buf.rfind(b"\n", start, end)
        if cut < 0:
            # a line of NUL bytes (a sparse file) ends here, not after it
            _check_text(buf, path, cur, max(start, carry), end)   # the bytes just read
            if end - start > max_line:
                _long(path, cur(), on_long_line)
                yield b"\n", 0
                prev, carry, skipping = -1, 0, True
            else:
                prev, cstart, carry = slot, start, end - start
            continue
        _check_text(buf, path, cur, start, cut + 1)
        block: Any = view[start:cut + 1]
        if cut + 1 - start > max_line:
            block = _cap_lines(bytes(block), cur, path, on_long_line, max_line)
        prev, cstart, carry = slot, cut + 1, end - cut - 1
        last = slot
        yield block, 0
        if carry > max_line:
            _long(path, cur(), on_long_line)
            yield b"\n", 0
            prev, carry, skipping = -1, 0, True
    if carry:
        block = view[:carry]
        _check_text(buf, path, cur, 0, carry)
        if carry > max_line:
            block = _cap_lines(bytes(block), cur, path, on_long_line, max_line)
        yield block, 0


def _cap_lines(block: bytes, first: int | Callable[[], int], path: str, on_long: Callable[[int], None] | None,
               max_line: int) -> bytes:
    """Replace lines longer than max_line inside a block by empty lines."""
    if len(block) <= max_line:
        return block
    if callable(first):
        first = first()
    parts = block.split(b"\n")
    changed = False
    for i, part in enumerate(parts):
        if len(part) > max_line:
            _long(path, first + i, on_long)
            parts[i] = b""
            changed = True
    return b"\n".join(parts) if changed else block


def _long(path: str, line: int, on_long: Callable[[int], None] | None) -> None:
    if on_long is None:
        raise InputError(path, line, LONG_LINE_REASON)
    on_long(line)


def decode(raw: bytes) -> str:
    """Bytes of one line to str; undecodable bytes survive as surrogates so
    that the C and Python engines agree byte for byte."""
    return raw.decode("utf-8", "surrogateescape")


def lines(path: str, on_long_line: Callable[[int], None] | None = None) -> Iterator[str]:
    """Every line of a trace, without its newline (and without a trailing CR)."""
    for block, _first in blocks(path, on_long_line):
        text = decode(block)
        parts = text.split("\n")
        if parts and parts[-1] == "":
            parts.pop()
        for p in parts:
            yield p[:-1] if p.endswith("\r") else p


def head_lines(path: str, n: int = 200) -> list[str]:
    """The first n lines, for format sniffing (reads at most one block)."""
    if path == "-":
        head = _inflate_head(stdin_head())
        got = decode(head).split("\n")
        if len(got) > 1:
            got.pop()  # possibly cut mid-line
        return [ln.rstrip("\r") for ln in got[:n]]
    stream, raw = open_binary(path)
    try:
        head = _read(stream, path, 1 << 16)
    finally:
        stream.close()
        raw.close()
    got = decode(head).split("\n")
    if len(head) == 1 << 16 and len(got) > 1:
        got.pop()  # cut mid-line
    return [ln.rstrip("\r") for ln in got[:n]]


def _inflate_head(head: bytes) -> bytes:
    """The start of a compressed stdin, decompressed as far as the head allows
    (stdin cannot be reopened, so sniffing works on this partial text)."""
    try:
        if head.startswith(_GZ):
            import zlib

            return zlib.decompressobj(wbits=31).decompress(head, 1 << 16)
        if head.startswith(_XZ):
            import lzma

            return lzma.LZMADecompressor().decompress(head, 1 << 16)
        if head.startswith(_ZST):
            import zstandard

            return zstandard.ZstdDecompressor().decompressobj().decompress(head)[: 1 << 16]
    except Exception:  # a corrupt stream: the parse itself reports it  # noqa: BLE001
        return b""
    return head


def is_stdin(path: str) -> bool:
    return path == "-"


def exists(path: str) -> bool:
    return path == "-" or os.path.exists(path)


def missing(path: str) -> str:
    """Why a path that does not exist cannot be opened, for the error line."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link loop (too many levels of symbolic links)"
        if os.path.lexists(path):
            return "a dangling symbolic link (its target does not exist)"
        if exc.errno not in (errno.ENOENT, None):
            return f"cannot open: {exc.strerror or exc}"
    return "no such file"


__all__ = ["blocks", "lines", "head_lines", "decode", "open_binary", "MAX_LINE", "BLOCK"]
