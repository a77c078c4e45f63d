# SPDX-License-Identifier: MIT
"""``shimsim image`` speed: reading one layer into the merged tree, and a whole image.

The layer is a tar of this machine's /usr/bin (real programs: most of it is ELF,
so its contents are kept in memory as an image's would be), plain and gzip.

    PYTHONPATH=src python -m pytest benchmarks/test_bench_image.py --benchmark-only
"""
from __future__ import annotations

import gzip
import io
import os
import sys
import tarfile
from pathlib import Path

import pytest

from shimsim.image.fs import ImageFS, read_layer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "image"))
import imagefix as fx  # noqa: E402


@pytest.fixture(scope="module")
def usr_bin() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name in sorted(os.listdir("/usr/bin")):
            p = os.path.join("/usr/bin", name)
            if os.path.isfile(p) or os.path.islink(p):
                tf.add(p, arcname=f"usr/bin/{name}", recursive=False)
    return buf.getvalue()


@pytest.mark.benchmark(group="image-layer")
@pytest.mark.parametrize("compression", [None, "gzip"])
def test_read_layer(benchmark, usr_bin, compression):
    blob = usr_bin if compression is None else gzip.compress(usr_bin, 6)

    def run():
        fs = ImageFS()
        ch = read_layer(0, io.BytesIO(blob), "bench", "usr-bin", [2 << 30])
        fs.apply(ch, "bench", "usr-bin")
        return ch
    ch = benchmark(run)
    benchmark.extra_info["tar_MB"] = round(len(usr_bin) / 1e6, 1)
    benchmark.extra_info["entries"] = len(ch.entries)
    benchmark.extra_info["MB_per_s"] = round(len(usr_bin) / 1e6 / benchmark.stats.stats.median, 1)


@pytest.mark.benchmark(group="image")
def test_example_image(benchmark, tmp_path):
    """tools/make_example_image.py's three platforms, three hosts, entrypoint closure only."""
    if not (os.path.exists(fx.BUSYBOX) and fx.have("objcopy")):
        pytest.skip("needs busybox-static and objcopy")
    import subprocess
    out = tmp_path / "example"
    subprocess.run([sys.executable, str(Path(__file__).resolve().parent.parent / "tools" / "make_example_image.py"),
                    str(out)], check=True, capture_output=True)
    from shimsim.image import analyse_image
    from shimsim.image.analyse import _STATIC
    def run():
        _STATIC.clear()
        return analyse_image(str(out), ["linux-x86_64", "freebsd-amd64", "illumos"], [])
    rep = benchmark(run)
    benchmark.extra_info["analyses"] = len(rep["analyses"])
