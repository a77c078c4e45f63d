# SPDX-License-Identifier: MIT
"""The self-contained HTML report of ``shimsim image``.

Everything shown comes from the image (paths, commands, layer history) and is
untrusted: the page is rendered with Jinja2 autoescaping, and the --json
object is embedded with the same escaping as the replay report.
"""
from __future__ import annotations

import datetime as _dt

from shimsim import __version__, output
from shimsim.report.html import _env, content_security_policy, json_for_script, template_text


def render(rep: dict) -> str:
    text = template_text("image.html.j2")
    ref = f":{rep['reference']}" if rep["reference"] else ""
    return _env().from_string(text).render(
        csp=content_security_policy(text),
        title=f"shimsim image: {rep['image']}{ref}", rep=rep, data_json=json_for_script(rep),
        version=__version__, generated=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))


def write(path: str, rep: dict, inputs: list[str] = ()) -> None:
    """Write the page all-or-nothing (shimsim.output): a crash part-way leaves the old file."""
    output.write_text(path, render(rep), inputs=inputs)
