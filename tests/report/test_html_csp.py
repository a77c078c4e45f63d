# SPDX-License-Identifier: MIT
"""Every HTML page shimsim writes carries a Content-Security-Policy that lets
only its own inline scripts run (by their sha256), and shows hostile strings
(markup, bidi controls, 1 MB values) inertly.

The browser checks load the pages in headless chromium (.ci/run installs it)
and read the DOM after scripts ran: the page's own script must have run
(it writes "N of M syscalls"), an injected one must not (it would set the
title or add an element).  One check plants raw script and event-handler
markup into a rendered page by hand, as if escaping had failed, so what
stops it is the policy alone."""
from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "image"))
import imagefix as fx  # noqa: E402

from shimsim import cli  # noqa: E402
from shimsim.report import html as rhtml  # noqa: E402

RLO = "\u202e"
PWN = "document.title='pwned';document.body.insertAdjacentHTML('beforeend','<p id=pwned>pwned</p>')"
HOSTILE_ARG = f"<script>{PWN}</script>"
HOSTILE_ATTR = f"\"><img src=x onerror=\"{PWN}\">"


def _policy(page: str) -> str:
    m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page)
    assert m, "no Content-Security-Policy meta"
    assert page.index(m.group(0)) < page.index("<title>")        # before anything from the input
    return m.group(1).replace("&#39;", "'")


def _check_policy(page: str) -> None:
    pol = _policy(page)
    assert "default-src 'none'" in pol and "base-uri 'none'" in pol and "form-action 'none'" in pol
    scripts = re.search(r"script-src ([^;]*)", pol).group(1).split()
    own = [b for b in re.findall(r"<script>(.*?)</script>", page, re.S)]
    want = [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in own]
    assert scripts == (want or ["'none'"])
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts


def _hostile_trace(d: Path) -> Path:
    p = d / f"evil{RLO}txt.exe\"><img src=x onerror=document.title=1>.strace"     # no '/' in a file name
    big = "A" * 1_000_000
    p.write_text(
        f'1234 openat(AT_FDCWD, "/tmp/{RLO}gnp.sh{HOSTILE_ARG}", O_RDONLY) = -1 ENOENT (No such file or directory)\n'
        f'1234 write(1, "{big}", 1000000) = 1000000\n'
        f'1234 inotify_init() = -1 ENOSYS (Function not implemented)\n'
        f'1234 execve("/bin/{HOSTILE_ATTR}", ["{HOSTILE_ARG}", "{RLO}x"], 0x7ffd /* 3 vars */) = 0\n'
        '1234 exit_group(0) = ?\n', encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def replay_page(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("csp")
    out = d / "r.html"
    assert cli.main(["replay", str(_hostile_trace(d)), "--shim", "linuxulator@freebsd-14.3",
                     "--html", str(out), "--quiet"]) in (0, 1)
    return out


def test_shown_values_are_inert() -> None:
    assert rhtml.shown(f"a{RLO}b\u2066c") == "a[U+202E]b[U+2066]c"
    cut = rhtml.shown("x" * (rhtml.SHOWN_MAX + 10))
    assert len(cut) < rhtml.SHOWN_MAX + 40 and cut.endswith("(10 more characters)")
    assert rhtml.shown(7) == 7


def test_replay_page_policy_and_escaping(replay_page: Path) -> None:
    page = replay_page.read_text(encoding="utf-8")
    _check_policy(page)
    body = page.split('<script type="application/json"', 1)[0]        # what the browser shows
    assert RLO not in body and "[U+202E]" in body
    assert "<img" not in page and "onerror=\"document" not in page
    assert "A" * (rhtml.SHOWN_MAX + 1) not in body                    # the 1 MB argument is not shown whole


def test_image_and_corpus_pages_have_the_policy(tmp_path: Path) -> None:
    lay = fx.Layout(tmp_path / "img")
    m = lay.image([fx.layer([("file", f"bin/{RLO}sh", b"#!/bin/" + HOSTILE_ARG.encode() + b"\n")])],
                  entrypoint=[f"/bin/{RLO}sh"], compression=None)
    root = lay.finish([(m, "latest")])
    out = tmp_path / "i.html"
    assert cli.main(["image", str(root), "--html", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    _check_policy(page)
    assert "script-src 'none'" in _policy(page)                       # the image page runs no script
    assert RLO not in page.split('<script type="application/json"', 1)[0]
    traces = tmp_path / "traces"
    traces.mkdir()
    _hostile_trace(traces)
    cout = tmp_path / "c.html"
    cli.main(["corpus", str(traces), "--shim", "gvisor", "--html", str(cout)])
    _check_policy(cout.read_text(encoding="utf-8"))


def browser(*args: str) -> subprocess.CompletedProcess:
    """Headless chromium, as tests/report/test_html_report.py runs it (without the sanitizer preload)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("chromium is needed for the browser tests (apt-get install chromium; .ci/run does it)")
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--virtual-time-budget=2000", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def _dom(path: Path) -> str:
    r = browser("--dump-dom", path.as_uri())
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_browser_runs_the_page_script_and_nothing_injected(replay_page: Path) -> None:
    dom = _dom(replay_page)
    assert re.search(r'id="shown">\d+ of \d+ syscalls<', dom)          # the page's own script ran
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert 'id="pwned"' not in dom


def test_browser_blocks_scripts_planted_past_the_escaping(replay_page: Path, tmp_path: Path) -> None:
    """Raw markup put into the page by hand: only the policy stands between it and the browser."""
    page = replay_page.read_text(encoding="utf-8")
    planted = page.replace("</h1>", f"</h1><script>{PWN}</script><img src=x onerror=\"{PWN}\">"
                                     f"<svg onload=\"{PWN}\"></svg>", 1)
    assert planted != page
    p = tmp_path / "planted.html"
    p.write_text(planted, encoding="utf-8")
    dom = _dom(p)
    assert re.search(r'id="shown">\d+ of \d+ syscalls<', dom)
    assert "pwned" not in re.search(r"<title>(.*?)</title>", dom, re.S).group(1)
    assert 'id="pwned"' not in dom
    # and without the policy the same page would run it: the check can see an injection
    bare = planted.replace(re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>', planted).group(0), "")
    q = tmp_path / "bare.html"
    q.write_text(bare, encoding="utf-8")
    assert 'id="pwned"' in _dom(q)
