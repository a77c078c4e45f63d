# SPDX-License-Identifier: MIT
"""The sniffers' cheap checks (issue 17: start-up) rule out only lines their patterns cannot
match: for every line, a pattern's match implies the check's True, so a sniffer scores as it
did when it ran every pattern.  Lines: every fixture line of every format, the same lines cut,
joined and spliced, and text over the characters the patterns care about."""
from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from shimsim.trace import dtruss, kdump, publish, qemu_strace, runsc_strace, truss_freebsd, truss_illumos

FIXTURES = Path(__file__).parents[1] / "fixtures"
LINES = sorted({ln for d in ("strace", "truss_freebsd", "truss_illumos", "dtruss", "kdump", "qemu", "runsc",
                             "publish")
                for p in (FIXTURES / d).rglob("*") if p.is_file() and p.stat().st_size < 1 << 20
                for ln in p.read_text(errors="replace").splitlines()})
ALPHABET = "0123456789 \t()=-#/:.,[]{}'\"@xXaEeIWDrR_\u3000\u0663"
PIECES = ["Err#", "ERR#", " (0x", "0x1f", "= ", " = ", ") = ", "\t= ", "errno=", "Unknown syscall ",
          "Unsupported syscall: ", "Unsupported syscall ", "SYSCALL(args)", "CALL", "RET", "NAMI", "GIO",
          "I1207 ", "12:00:00.5 ", "strace.go:1] ", "[   1:   1] ", "argc = ", "process exit, rval = ",
          "SIGNAL ", "/2:", "1/2:", "1.0001\t", "read", "(", ")", " E", "main.go:3] ",
          "strace -f ", "s'tr'ace ", 'st"race" ', "str\\ace ", "sudo ", "qemu-aarch64 -strace ", "-strace ",
          "truss ", "perf trace ", "sh -c '", "--run_under=", "ktrace ", "\\", "'", '"', "/usr/bin/"]

line = st.one_of(
    st.sampled_from(LINES),
    st.builds(lambda a, i, j: a[i % (len(a) + 1):][: j], st.sampled_from(LINES), st.integers(0, 200),
              st.integers(0, 300)),
    st.builds(lambda a, b, i: a[: i % (len(a) + 1)] + b, st.sampled_from(LINES), st.sampled_from(LINES),
              st.integers(0, 200)),
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(ALPHABET, max_size=6)), max_size=12).map("".join),
)


def _check(s: str) -> None:
    s = s.rstrip("\r\n").strip()
    if not s:
        return
    # truss (FreeBSD): _STRONG after the prefix
    if truss_freebsd._STRONG.search(truss_freebsd._PREFIX.sub("", s, count=1)):
        assert truss_freebsd._may_be_strong(s), s
    # truss (illumos): strong, and _WEAK the same on the line as on its body
    pm = truss_illumos._PREFIX.match(s)
    body = truss_illumos._TIMES.sub("", s[pm.end():] if pm else s, count=1)
    if truss_illumos._STRONG.search(body) or (pm is not None and pm.group("lwp2") and truss_illumos._CALL.match(body)):
        assert truss_illumos._may_be_strong(s), s
    assert bool(truss_illumos._WEAK.search(body)) == bool(truss_illumos._WEAK.search(s)), s
    if truss_illumos._WEAK.search(s):
        assert "= " in s, s
    # dtruss
    if dtruss._LINE.match(s):
        assert dtruss._may_be_row(s), s
    if dtruss._HEADER.match(s):
        assert "SYSCALL(args)" in s, s


def _check_raw(raw: str) -> None:
    # a published trace's first line: a tracer command needs a tracer's name
    if publish.parse_command(raw.strip()) is not None:
        assert publish._may_name_tracer(raw), raw
    # kdump (the raw line: leading blanks matter)
    m = kdump._REC.match(raw.rstrip("\r\n"))
    if raw.strip() and m and m.group("type") in kdump._SNIFF_TYPES:
        assert raw.lstrip()[:1].isdigit() and any(t in raw for t in kdump._SNIFF_TYPES), raw
    if kdump._ARGITEM.match(raw.strip()):
        assert raw.strip().startswith("["), raw
    # qemu -strace (lines without their line end)
    ln = raw.rstrip("\r\n")
    if (re.match(r"^\d+ (?:Unknown syscall \d+|[a-z_]\w*\(.*\) = -1 errno=\d+ \()", ln)
            or qemu_strace._UNSUPPORTED.match(ln) or re.match(r"^\d+ [a-z_]\w*\([^ ]*\) = (?:-?\d+|0x[0-9a-f]+)$", ln)):
        assert qemu_strace._may_count(ln), ln
    # runsc: a glog line or a compat message
    if (runsc_strace._PREFIX.match(raw) or runsc_strace._UNSUP.search(raw)
            or re.match(r"^[IWED]\d{4} \d\d:\d\d:\d\d\.\d+\s+\d+ \S+:\d+\] ", raw)):
        assert raw[:1] in ("I", "W", "E", "D") and raw[1:2].isdigit() or "Unsupported syscall " in raw, raw


def test_every_fixture_line_passes_the_checks_its_patterns_match() -> None:
    assert len(LINES) > 1000
    for ln in LINES:
        _check(ln)
        _check_raw(ln)
        _check_raw("  " + ln)


@given(line)
def test_generated_lines_pass_the_checks_their_patterns_match(s: str) -> None:
    _check(s)
    _check_raw(s)
