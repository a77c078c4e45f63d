# SPDX-License-Identifier: MIT
"""Measure the models against the real layers on a corpus of ordinary commands.

    sudo PYTHONPATH=src python benchmarks/probe_real_corpus.py --layer runsc --out /tmp/real-runsc.jsonl
    PYTHONPATH=src python benchmarks/probe_real_corpus.py --layer qemu --sysroot /srv/arm64 --out /tmp/real-qemu.jsonl

Each command is probed with ``shimsim.probe.real`` (the real layer is the
judge); one JSON object per command goes to --out and a Markdown table to
stdout: per program, predicted and observed result, and per call how many
of the calls the layer answered the model judged right.  --seccomp also
runs the seccomp imitation of the same model on each runsc command
(``shimsim probe --shim``) and reports how often its observed result
matches the real runsc's.

The runsc corpus needs (Debian) coreutils git tar perl python3 golang-go fzf ripgrep jq curl
xz-utils bzip2 zstd openssl nodejs default-jre-headless, and cargo from rustup; the qemu
corpus runs Debian's arm64 builds: a sysroot made with
``dpkg --add-architecture arm64; apt-get update; apt-get download PKG:arm64 ...;
dpkg -x`` for each (SYSROOT_PACKAGES below).
"""
from __future__ import annotations

import argparse
import json
import sys
import traceback

PY = "/usr/bin/python3"
PIDFD = "import os; os.close(os.pidfd_open(os.getpid()))"
CFR = ("import os; r = os.open('/etc/passwd', os.O_RDONLY); "
       "w = os.open('/tmp/shimsim-cfr', os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600); "
       "print(os.copy_file_range(r, w, 64))")
RUNSC = [
    ["true"], ["echo", "hello"], ["cat", "/etc/hostname"], ["ls", "/"], ["ls", "-la", "/etc/hosts"],
    ["ls", "-l", "/usr/bin/env"], ["stat", "/etc/passwd"], ["wc", "-l", "/etc/passwd"], ["sort", "/etc/passwd"],
    ["head", "-n", "3", "/etc/passwd"], ["sha256sum", "/etc/passwd"], ["date", "+%Y"], ["uname", "-s"],
    ["id", "-u"], ["cp", "/etc/passwd", "/tmp/shimsim-cp"], ["tar", "-cf", "/dev/null", "/etc/hostname"],
    ["gzip", "-c", "/etc/hostname"], ["grep", "root", "/etc/passwd"], ["sed", "-n", "1p", "/etc/passwd"],
    ["find", "/etc", "-maxdepth", "1", "-name", "hostname"], ["sh", "-c", "echo a | tr a b"],
    ["git", "--version"], ["git", "init", "-q", "/tmp/shimsim-git"], ["perl", "-e", "print 1+1"],
    ["perl", "-MPOSIX", "-e", "print((POSIX::uname())[0])"], [PY, "-c", "print(1)"], [PY, "-c", PIDFD],
    [PY, "-c", CFR], [PY, "-c", "import shutil; shutil.copyfile('/etc/passwd', '/tmp/shimsim-cf')"],
    [PY, "-c", "import subprocess; subprocess.run(['true'], check=True)"],
    [PY, "-c", "import tempfile; tempfile.TemporaryFile().write(b'x')"],
    [PY, "-c", "import os; os.memfd_create('x')"], [PY, "-c", "import socket; socket.socketpair()"],
    [PY, "-c", "import os; os.getrandom(8)"], [PY, "-c", "import os; print(os.statvfs('/').f_bsize)"],
    # Go (Debian golang-go, fzf) and Rust (Debian ripgrep, rustup's cargo proxy) binaries
    ["go", "version"], ["go", "env", "GOOS"], ["fzf", "--version"], ["rg", "--version"], ["rg", "root", "/etc/passwd"],
    ["cargo", "--version"],
    ["jq", "-n", "1+1"], ["curl", "--version"], ["xz", "-c", "/etc/hostname"], ["bzip2", "-c", "/etc/hostname"],
    ["zstd", "-q", "-c", "/etc/hostname"], ["openssl", "version"], ["openssl", "sha256", "/etc/hostname"],
    ["node", "-e", "require('fs').copyFileSync('/etc/passwd', '/tmp/shimsim-node-cp')"],
    ["java", "-version"],
]
QEMU = [
    ["/bin/busybox", "echo", "hi"], ["/bin/busybox", "ls", "/"], ["/bin/busybox", "sh", "-c", "echo a | tr a b"],
    ["/bin/busybox", "wc", "-l", "/etc/passwd"], ["/bin/busybox", "sha256sum", "/etc/passwd"],
    ["/bin/busybox", "uname", "-m"], ["/bin/bash", "-c", "echo hi"],
    ["/bin/bash", "-c", "for i in 1 2 3; do :; done; echo $((1+2))"], ["/bin/ls", "-la", "/etc/hosts"],
    ["/bin/ls", "/"], ["/bin/cat", "/etc/passwd"], ["/usr/bin/sort", "/etc/passwd"],
    ["/usr/bin/head", "-n", "2", "/etc/passwd"], ["/usr/bin/sha256sum", "/etc/passwd"], ["/usr/bin/stat", "/etc/passwd"],
    ["/bin/date", "+%Y"], ["/usr/bin/id", "-u"], ["/usr/bin/env", "true"], ["/bin/cp", "/etc/passwd", "/tmp/shimsim-cp-a64"],
    ["/bin/tar", "-cf", "/dev/null", "/etc/hostname"], ["/bin/gzip", "-c", "/etc/hostname"],
    ["/bin/grep", "root", "/etc/passwd"], ["/bin/sed", "-n", "1p", "/etc/passwd"],
    ["/usr/bin/find", "/etc", "-maxdepth", "1", "-name", "hostname"], ["/usr/bin/diff", "/etc/passwd", "/etc/passwd"],
    ["/usr/bin/perl", "-e", "print 1+1"], ["/usr/bin/python3.11", "-c", "print(1)"],
    ["/usr/bin/python3.11", "-c", PIDFD], ["/usr/bin/python3.11", "-c", CFR],
    ["/usr/bin/python3.11", "-c", "import threading; t = threading.Thread(target=print, args=(1,)); t.start(); t.join()"],
    ["/usr/bin/python3.11", "-c", "import tempfile; tempfile.TemporaryFile().write(b'x')"],
    ["/usr/bin/python3.11", "-c", "import os; os.memfd_create('x')"],
    ["/usr/bin/python3.11", "-c", "import socket; socket.socketpair()"],
    ["/usr/bin/rg", "--version"], ["/usr/bin/rg", "root", "/etc/passwd"], ["/usr/bin/fzf", "--version"],
    ["/usr/bin/jq", "-n", "1+1"], ["/usr/bin/xz", "-c", "/etc/hostname"], ["/bin/bzip2", "-c", "/etc/hostname"],
    ["/usr/bin/zstd", "-q", "-c", "/etc/hostname"], ["/usr/bin/openssl", "version"],
    ["/usr/bin/openssl", "sha256", "/etc/hostname"],
]
SYSROOT_PACKAGES = ("busybox-static bash libc6 libgcc-s1 libtinfo6 coreutils libacl1 libattr1 libselinux1 "
                    "libpcre2-8-0 libgmp10 libcap2 tar grep sed gzip findutils perl-base libcrypt1 python3.11-minimal "
                    "libpython3.11-minimal libexpat1 zlib1g libssl3 diffutils libzstd1 liblzma5 libbz2-1.0 "
                    "ripgrep fzf jq libjq1 libonig5 xz-utils bzip2 zstd openssl liblz4-1")


def seccomp_observed(shim: str, cmd: list[str], timeout: float) -> str | None:
    from shimsim.probe import check
    try:
        return check.probe(shim, cmd, timeout).observed
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc}"


def main() -> int:
    from shimsim.probe import real
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", choices=("runsc", "qemu"), required=True)
    ap.add_argument("--sysroot", help="qemu: the arm64 root (qemu -L)")
    ap.add_argument("--out", required=True, help="JSON lines, one per command")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--seccomp", action="store_true", help="runsc: also run the seccomp imitation")
    ap.add_argument("--shim", help="judge this model instead of the installed release's (e.g. gvisor)")
    a = ap.parse_args()
    corpus = RUNSC if a.layer == "runsc" else QEMU
    rows = []
    with open(a.out, "w", encoding="utf-8") as out:
        for cmd in corpus:
            try:
                r = real.probe(a.layer, cmd, a.timeout, sysroot=a.sysroot, shim_name=a.shim)
                o = r.to_json()
                if a.seccomp and a.layer == "runsc":
                    o["seccomp_observed"] = seccomp_observed(r.shim, cmd, a.timeout)
            except Exception as exc:  # noqa: BLE001
                o = {"command": cmd, "error": str(exc), "trace": traceback.format_exc(limit=3)}
            out.write(json.dumps(o) + "\n")
            out.flush()
            rows.append(o)
            print(f"{'ERR' if 'error' in o else ('ok ' if o['agree'] else 'NO ')} {' '.join(cmd)[:70]}",
                  file=sys.stderr)
    print(table(rows, a.layer))
    return 0


def table(rows: list[dict], layer: str) -> str:
    ok = [r for r in rows if "error" not in r]
    lines = ["| command | predicted | observed | agree | calls judged right | layer changed (foreseen/all) | first divergence |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in ok:
        c = r["calls"]
        ch = c["changed_by_layer"]
        changed = ", ".join(f"{k} {v['predicted']}/{v['calls']}" for k, v in sorted(ch.items())) or "-"
        fd = c["first_divergence"]
        first = "-" if fd is None else f"{fd['syscall']} ({'foreseen' if fd['model'] == 'changes' else 'missed'})"
        cmd = " ".join(r["command"]).replace("|", "\\|")
        cmd = cmd if len(cmd) <= 60 else cmd[:57] + "..."
        lines.append(f"| `{cmd}` | {r['predicted']} | {r['observed']} | {'yes' if r['agree'] else 'NO'} | "
                     f"{c['agree']}/{c['compared']} | {changed} | {first} |")
    n = len(ok)
    agree = sum(r["agree"] for r in ok)
    breaks = [r for r in ok if r["observed"] == "breaks"]
    caught = sum(r["predicted"] == "breaks" for r in breaks)
    calls = sum(r["calls"]["compared"] for r in ok)
    calls_ok = sum(r["calls"]["agree"] for r in ok)
    changed = sum(v["calls"] for r in ok for v in r["calls"]["changed_by_layer"].values())
    foreseen = sum(v["predicted"] for r in ok for v in r["calls"]["changed_by_layer"].values())
    lines += ["", f"programs: {agree}/{n} agree; real breaks predicted: {caught}/{len(breaks)}; "
              f"calls judged right: {calls_ok}/{calls} ({100 * calls_ok / max(calls, 1):.2f}%); "
              f"calls the layer changed that the model foresaw: {foreseen}/{changed}; errors: {len(rows) - n}"]
    sec = [r for r in ok if "seccomp_observed" in r]
    if sec:
        same = sum(r["seccomp_observed"] == r["observed"] for r in sec)
        lines.append(f"seccomp imitation of {ok[0]['shim']}: observed result as under the real runsc in {same}/{len(sec)}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
