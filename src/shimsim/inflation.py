# SPDX-License-Identifier: MIT
"""One guard against decompression bombs, for every compressed input shimsim reads.

A stream that has inflated beyond ``max_ratio`` times the compressed bytes taken
from its file, once past ``floor`` bytes, is refused: real inputs inflate far
less (traces 10-50:1, image layers 2-5:1), so the work a compressed input can
cause stays bounded by its size.  The limits are the caller's (each kind of
input has its own); so is the error, which names the input in the caller's
terms.
"""
from __future__ import annotations

import io

TYPE_CHECKING = False   # typing.TYPE_CHECKING's value, without importing typing (~2 ms)
if TYPE_CHECKING:
    from typing import BinaryIO, Callable


class Counting(io.RawIOBase):
    """The bytes a decompressor has taken from ``raw`` (``n``), passed through unchanged."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.n = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        k = self.raw.readinto(b)
        self.n += k or 0
        return k


class Inflation(io.RawIOBase):
    """The decompressed ``stream``, raising ``refuse(inflated, stored)`` once it inflates
    beyond ``max_ratio``:1 of ``stored()`` (the compressed bytes read so far) past ``floor``.
    With ``owns_stream``, closing this closes the decompressor too."""

    def __init__(self, stream: BinaryIO, stored: Callable[[], int], *, max_ratio: int, floor: int,
                 refuse: Callable[[int, int], Exception], owns_stream: bool = False) -> None:
        self.stream, self.stored, self.refuse, self.owns_stream = stream, stored, refuse, owns_stream
        self.max_ratio, self.floor = max_ratio, floor
        self.n = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        """The stream's own read (no copy through a buffer), counted."""
        data = self.stream.read(n)
        self._count(len(data))
        return data

    def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
        data = self.stream.read(len(b))
        n = len(data)
        b[:n] = data
        self._count(n)
        return n

    def _count(self, n: int) -> None:
        self.n += n
        if self.n > self.floor:
            stored = self.stored()
            if self.n > self.max_ratio * max(1, stored):
                raise self.refuse(self.n, stored)

    def close(self) -> None:
        if self.owns_stream and not self.closed:
            self.stream.close()
        super().close()


__all__ = ["Counting", "Inflation"]
