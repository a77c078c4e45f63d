#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the example multi-platform image that README's `shimsim image` example reads.

    python tools/make_example_image.py /tmp/example-image
    shimsim image /tmp/example-image --host linux --host freebsd --host illumos

An OCI layout with three platforms, all from this machine's busybox-static
(Debian package busybox-static) and binutils' objcopy:
  linux/amd64    busybox, a '#!/bin/sh' entrypoint, a second layer with whiteouts
  linux/arm64    the same x86-64 busybox under an arm64 tag (the "exec format error" image)
  freebsd/amd64  busybox branded FreeBSD (ABI note and EI_OSABI 9), as FreeBSD images ship
It uses the writer the tests use (tests/image/imagefix.py).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "image"))
import imagefix as fx  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[0] + "\nusage: make_example_image.py OUT_DIR", file=sys.stderr)
        return 2
    out = Path(argv[1])
    if out.exists():
        print(f"make_example_image.py: {out} exists; give a new directory", file=sys.stderr)
        return 2
    if not Path(fx.BUSYBOX).exists() or not fx.have("objcopy"):
        print("make_example_image.py: needs /bin/busybox (busybox-static) and objcopy (binutils)", file=sys.stderr)
        return 2
    bb = fx.read(fx.BUSYBOX)
    with tempfile.TemporaryDirectory() as tmp:
        fbsd = fx.freebsd_busybox(Path(tmp))
    lay = fx.Layout(out)
    base = fx.layer([("dir", "bin"), ("file", "bin/busybox", bb), ("symlink", "bin/sh", "busybox"),
                     ("dir", "etc"), ("file", "etc/motd", b"built by tools/make_example_image.py\n", 0o644),
                     ("file", "etc/debug.conf", b"removed by the next layer\n", 0o644),
                     ("dir", "usr"), ("dir", "usr/local"), ("dir", "usr/local/bin")])
    top = fx.layer([("whiteout", "etc/debug.conf"),
                    ("file", "usr/local/bin/start", b"#!/bin/sh\nexec busybox httpd -f -p 8080\n")])
    amd = lay.image([base, top], entrypoint=["start"], env=["PATH=/usr/local/bin:/bin"])
    arm = lay.image([base, top], arch="arm64", variant="v8", entrypoint=["start"], env=["PATH=/usr/local/bin:/bin"])
    freebsd = lay.image([fx.layer([("dir", "bin"), ("file", "bin/sh", fbsd)])], os_name="freebsd",
                        compression="xz", entrypoint=["/bin/sh"])
    lay.finish([(lay.index([amd, arm, freebsd]), "latest")])
    print(f"wrote {out}: linux/amd64, linux/arm64/v8 (x86-64 inside), freebsd/amd64")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
