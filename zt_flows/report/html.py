"""``report.html``: the report as one self-contained page (``templates/report.html.j2``).

Inline CSS (``templates/report.css``), inline scripts (``templates/report.js``: the filter,
the collapsible groups and the graph; the vendored cytoscape.js that draws the graph), the
graph's data as JSON in a ``<script type="application/json">`` element, the static
picture inlined as SVG; no fonts or images from anywhere: it opens from a file, offline.
The Content-Security-Policy admits exactly those scripts and styles, by the SHA-256 of
their text computed here (no ``unsafe-inline``, no ``eval``), ``data:`` images and
nothing else: a string that escaped escaping could neither run nor call out.

The template is rendered with autoescape: every value is escaped unless it is markup a
macro made. The escaping is the report's own (:func:`zt_flows.text.html_text`: one line,
quotes as entities), applied by the environment's ``finalize`` before autoescape sees
the value.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from importlib import resources

import jinja2
from markupsafe import Markup

from zt_flows.report.network import graph_json
from zt_flows.report.view import ReportView
from zt_flows.text import COMBINATIONS_LABEL, INTERNET_LABEL, html_text, human_bytes, plural

# cytoscape.js adds this stylesheet to the page unless an element with its id is there:
# it is given here, so that its hash is in the policy.
CYTOSCAPE_STYLE_ID = "__________cytoscape_stylesheet"
CYTOSCAPE_STYLE = ".__________cytoscape_container { position: relative; }"
VENDORED = ("cytoscape.min.js",)
ATTENTION_RULES = 8  # rules kept for safety listed at the top of the page
SECTIONS = (
    ("exposure", "Exposure"),
    ("verification", "Verification"),
    ("kept", "Kept, and why"),
    ("findings", "Findings"),
    ("groups", "Changes by security group"),
    ("graph", "Security-group graph"),
    ("matrix", "Reachability matrix"),
    ("timeline", "Hour by hour"),
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


@cache
def scripts() -> tuple[str, ...]:
    """The page's scripts, in order: the vendored libraries, then ``report.js``."""
    package = resources.files("zt_flows.report")
    texts = [package.joinpath("vendor", name).read_text("utf-8") for name in VENDORED]
    texts.append(package.joinpath("templates/report.js").read_text("utf-8"))
    for text in texts:
        # Inline, a script ends at the first "</script": none may contain one.
        if "</script" in text.lower():
            raise ValueError("an inline script contains '</script'")
    return tuple(texts)


def source_hash(text: str) -> str:
    """``'sha256-…'``: the CSP source that admits an inline script or style of this text."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(scripts: tuple[str, ...], styles: tuple[str, ...]) -> str:
    """Nothing but these inline scripts and styles (by hash) and ``data:`` images."""
    return (
        "default-src 'none'; "
        f"script-src {' '.join(source_hash(s) for s in scripts)}; "
        f"style-src {' '.join(source_hash(s) for s in styles)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


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
        CYTOSCAPE_STYLE_ID=CYTOSCAPE_STYLE_ID,
        ATTENTION_RULES=ATTENTION_RULES,
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
    css = stylesheet()
    code = scripts()
    graph = graph_json(view.graph_data) if view.graph_data is not None else None
    return template.render(
        view=view,
        # Markup: our own files, and JSON escaped for a script element (network.graph_json).
        stylesheet=Markup(css),  # noqa: S704
        cytoscape_style=Markup(CYTOSCAPE_STYLE),  # noqa: S704
        scripts=[Markup(c) for c in code],  # noqa: S704
        graph_json=None if graph is None else Markup(graph),  # noqa: S704
        csp=Markup(content_security_policy(code, (css, CYTOSCAPE_STYLE))),  # noqa: S704
    )
