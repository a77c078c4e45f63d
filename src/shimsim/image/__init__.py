# SPDX-License-Identifier: MIT
"""``shimsim image``: will this container image run on that host?  Answered from the image.

:func:`analyse_image` opens an OCI layout directory or an OCI / docker-save
archive (plain, gzip, xz or zstd), lists its platforms with a verdict per
host from the declared platform, merges the chosen platform's layers in
memory (whiteouts applied, nothing extracted to disk), finds the entrypoint
and inspects its ELF closure (or every ELF) with the image as the loader's
root.  The result is one JSON-ready dict (schemas/image.json).
"""
from __future__ import annotations

from shimsim.image.archive import ImageError, open_store
from shimsim.image.report import analyse_image, split_reference

__all__ = ["ImageError", "analyse_image", "open_store", "split_reference"]
