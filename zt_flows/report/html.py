"""``report.html``: the report as one self-contained page (``templates/report.html.j2``).

Inline CSS (``templates/report.css``), the security-group picture inlined as SVG, no
scripts, no fonts or images from anywhere: it opens from a file, offline. A
Content-Security-Policy forbids scripts and every load but inline styles and ``data:``
images, so even a string that escaped escaping could not run or call out.

The template is rendered with autoescape: every value is escaped unless it is markup a
macro made. The escaping is the report's own (:func:`zt_flows.text.html_text`: one line,
quotes as entities), applied by the environment's ``finalize`` before autoescape sees
the value.
"""

from __future__ import annotations

import base64
import re
from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from zt_flows.report.view import ReportView
from zt_flows.text import COMBINATIONS_LABEL, INTERNET_LABEL, html_text, human_bytes, plural

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
SECTIONS = (
    ("exposure", "Exposure"),
    ("verification", "Verification"),
    ("kept", "Kept, and why"),
    ("findings", "Findings"),
    ("groups", "Changes by security group"),
    ("graph", "Security-group graph"),
    ("talkers", "Top talkers"),
    ("coverage", "Coverage"),
)
RULE_COLUMNS = (
    "change",
    "rule",
    "flows",
    "bytes",
    "first / last seen",
    "days",
    "clients",
    "servers",
)
STATUS_CLASS = {
    "newly reachable": "opened",
    "wider": "opened",
    "closed": "closed",
    "narrowed": "still",
    "unchanged": "still",
}

# Anything in an SVG that could run, load or restyle the page: such a picture is shown
# as an image (where SVG can do neither), not inlined.
_SVG_UNSAFE = re.compile(
    r"<\s*/?\s*(script|style|foreignobject|iframe|object|embed|image|use|a|animate\w*|set)\b"
    r"|\bon[a-z]+\s*=|\b(href|src)\s*=|url\s*\(|<!|<\?|javascript:",
    re.IGNORECASE,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def stylesheet() -> str:
    return resources.files("zt_flows.report").joinpath("templates/report.css").read_text("utf-8")


def inline_svg(svg: str) -> Markup:
    """The picture inlined when it is plain drawing, else as a ``data:`` image."""
    body = _XML_DECLARATION.sub("", svg).strip()
    if body.startswith("<svg") and body.endswith("</svg>") and not _SVG_UNSAFE.search(body):
        return Markup(body)  # noqa: S704 - checked above: drawing only
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return Markup(f'<img alt="Security-group graph" src="data:image/svg+xml;base64,{data}">')  # noqa: S704


def _escaped(value: object) -> object:
    """Every text value escaped the report's way; markup from the macros left as it is."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return Markup(html_text(value))  # noqa: S704 - html_text escapes
    return value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("zt_flows.report", "templates"),
        autoescape=True,
        finalize=_escaped,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = lambda n: f"{n:,}"
    env.filters["inline_svg"] = inline_svg
    env.globals.update(
        COMBINATIONS_LABEL=COMBINATIONS_LABEL,
        INTERNET_LABEL=INTERNET_LABEL,
        CSP=Markup(CSP),  # noqa: S704 - a constant
        SECTIONS=SECTIONS,
        RULE_COLUMNS=RULE_COLUMNS,
        STATUS_CLASS=STATUS_CLASS,
        human_bytes=human_bytes,
        plural=plural,
        zip=zip,
    )
    return env


def render_html(view: ReportView) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(view=view, stylesheet=Markup(stylesheet()))  # noqa: S704
