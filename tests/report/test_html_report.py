# SPDX-License-Identifier: MIT
"""The HTML report: self-contained, escaped, and rendered by a real browser.

The browser checks run Debian's chromium headless (.ci/run installs it): the
DOM after scripts ran must show hostile trace strings as text (no injected
element, the title unchanged) and the screenshot must be a non-blank PNG.
"""
from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import jsonschema
import pytest

from shimsim.report.html import json_for_script

FIX = Path(__file__).parents[1] / "fixtures"
HOSTILE = FIX / "report" / "hostile.strace"
TAIL = FIX / "replay" / "tail_f_inotify.strace"
HOSTILE_NAME = "x\"><img src=x onerror=document.title='pwned'>.strace"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shimsim", *args], capture_output=True, text=True)


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is needed for the browser tests (apt-get install chromium; .ci/run does it)")
    return exe


def browser(*args: str) -> subprocess.CompletedProcess:
    # the sanitizer run preloads ASan into python; chromium must not inherit it (it hangs)
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=2000", *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("html")
    trace = d / HOSTILE_NAME
    shutil.copy(HOSTILE, trace)
    out = d / "report.html"
    r = cli("replay", str(trace), "--shim", "linuxulator@freebsd-14.3", "--html", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    return out


def test_json_for_script_escapes_everything_that_could_end_the_element() -> None:
    s = str(json_for_script({"p": "</script><!-- \u2028\u2029 & <b>"}))
    for bad in ("<", ">", "&", "\u2028", "\u2029"):
        assert bad not in s
    assert json.loads(s) == {"p": "</script><!-- \u2028\u2029 & <b>"}


def test_report_is_self_contained_and_escaped(hostile_report: Path) -> None:
    page = hostile_report.read_text(encoding="utf-8")
    # no network: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    # hostile strings are present, but only escaped
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in page
    assert "&lt;img src=x onerror" in page
    assert "<img" not in page
    # exactly the report's own two scripts; the JSON one has no raw '<'
    assert page.count("<script") == 2
    data = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and "\u2028" not in data
    embedded = json.loads(data)
    assert {r["name"] for r in embedded["report"]["syscalls"]} >= {"inotify_add_watch", "openat"}
    # the embedded report is the --json object, valid against the shipped schema
    from shimsim.report import schemas
    jsonschema.Draft202012Validator(schemas.load("replay")).validate(embedded["report"])
    assert embedded["timeline"]["events"] == embedded["report"]["events"]
    # Jinja-looking and rich-markup trace text stays literal
    assert "&amp;amp;" in page                                   # '&amp;' in the trace shown literally


def test_sections_present() -> None:
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "r.html"
        r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--html", str(out), "--quiet")
        assert r.returncode == 0, r.stderr
        assert "HTML report written to" in r.stdout
        page = out.read_text(encoding="utf-8")
    assert 'id="verdict"' in page and "would break at" in page and "tail_f_inotify.strace:267" in page
    assert 'id="outcome-chart"' in page and 'id="timeline"' in page and 'id="syscalls"' in page
    assert 'id="divergences"' in page
    # 140 columns of 2 events; the failed calls (inotify_init, inotify_add_watch, rseq twice) are marked in red
    assert page.count('class="mark"') == 4 and 'class="mark" x="' in page
    assert re.search(r'<rect class="mark" [^>]*fill="#c0392b"', page)
    # the recorded line of the fatal divergence is shown next to it
    assert "inotify_add_watch(" in page


def test_unwritable_html_path_is_bad_input() -> None:
    r = cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--html", "/nonexistent-dir/r.html")
    assert r.returncode == 2 and "cannot write /nonexistent-dir/r.html" in r.stderr
    assert "Traceback" not in r.stderr


def test_browser_dom_shows_hostile_strings_as_text(hostile_report: Path) -> None:
    r = browser("--dump-dom", hostile_report.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    dom = r.stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    # an onerror that ran would have set the title to 'pwned'
    assert html.unescape(title) == f"shimsim: linuxulator@freebsd-14.3 on {hostile_report.parent / HOSTILE_NAME}"
    assert "<img" not in dom                 # no injected element
    assert dom.count("<script") == 2         # no injected script element
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "&lt;img src=x onerror" in dom
    # the inline script ran (it rewrites the row count) and the data parsed
    assert re.search(r'id="shown">\d+ of \d+ syscalls<', dom)


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    w = h = 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    return w, h, zlib.decompress(idat)


def test_browser_screenshot_is_not_blank(hostile_report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    r = browser(f"--screenshot={shot}", "--window-size=1200,2000", hostile_report.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    w, h, raw = _png_pixels(shot)
    assert (w, h) == (1200, 2000)
    # a blank page decompresses to a handful of byte values; text and charts to many
    assert len(set(raw)) > 64


def _rows(dom: str) -> list[tuple[str, int, str, bool]]:
    """(syscall, calls, outcome, hidden) per row of the syscall table, in DOM order."""
    body = re.search(r'<table id="syscalls">.*?<tbody>(.*?)</tbody>', dom, re.S).group(1)
    out = []
    for tr in re.findall(r"<tr [^>]*>.*?</tr>", body, re.S):
        name = re.search(r"<code>(.*?)</code>", tr).group(1)
        calls = int(re.search(r'<td class="num">(\d+)</td>', tr).group(1))
        outcome = re.search(r'class="pill"[^>]*>(\w+)<', tr).group(1)
        out.append((name, calls, outcome, "display: none" in tr.split(">")[0]))
    return out


def test_browser_filter_and_sort_from_the_address(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    assert cli("replay", str(TAIL), "--shim", "linuxulator@freebsd-14.3", "--html", str(out), "-q").returncode == 0
    dom = browser("--dump-dom", out.as_uri() + "#outcome=failed").stdout
    rows = _rows(dom)
    shown = [r for r in rows if not r[3]]
    assert {r[2] for r in shown} == {"failed"} and len(shown) == 3 and len(rows) > 30
    assert re.search(r'id="shown">3 of \d+ syscalls<', dom)
    dom = browser("--dump-dom", out.as_uri() + "#sort=calls&dir=desc").stdout
    calls = [r[1] for r in _rows(dom)]
    assert calls == sorted(calls, reverse=True) and calls[0] == 61
    dom = browser("--dump-dom", out.as_uri() + "#q=inotify&sort=name&dir=asc").stdout
    shown = [r[0] for r in _rows(dom) if not r[3]]
    assert shown == ["inotify_add_watch", "inotify_init"]
