"""Building blocks of ``report.html``: escaping-aware pieces and the later sections.

Every AWS or plan string goes through :func:`zt_flows.render.text.html_text` (``h``);
the functions here return HTML that is safe to concatenate.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from importlib import resources

from zt_flows.render.report_coverage import CoverageView
from zt_flows.render.report_names import Ref
from zt_flows.render.report_sections import GraphLink, Talker
from zt_flows.render.text import html_text as h
from zt_flows.render.text import human_bytes, plural

# Anything in an SVG that could run, load or restyle the page: such a picture is shown
# as an image (where SVG can do neither), not inlined.
_SVG_UNSAFE = re.compile(
    r"<\s*/?\s*(script|style|foreignobject|iframe|object|embed|image|use|a|animate\w*|set)\b"
    r"|\bon[a-z]+\s*=|\b(href|src)\s*=|url\s*\(|<!|<\?|javascript:",
    re.IGNORECASE,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def stylesheet() -> str:
    return resources.files("zt_flows.render").joinpath("templates/report.css").read_text("utf-8")


def inline_svg(svg: str) -> str:
    """The picture inlined when it is plain drawing, else as a ``data:`` image."""
    body = _XML_DECLARATION.sub("", svg).strip()
    if body.startswith("<svg") and body.endswith("</svg>") and not _SVG_UNSAFE.search(body):
        return body
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="Security-group graph" src="data:image/svg+xml;base64,{data}">'


def ref(r: Ref, *, kind: bool = False) -> str:
    parts = []
    if r.name:
        parts.append(f'<span class="name">{h(r.name)}</span>')
    if r.id:
        parts.append(f'<code class="id">{h(r.id)}</code>')
    if kind and r.kind:
        parts.append(f'<span class="kind">{h(r.kind)}</span>')
    return f'<span class="ref">{" ".join(parts)}</span>'


def refs(items: Sequence[Ref], more: int = 0) -> str:
    text = "".join(f"<li>{ref(r)}</li>" for r in items)
    if more:
        text += f'<li class="more">+{more:,} more</li>'
    return f'<ul class="refs">{text}</ul>' if text else "–"


def table(header: Sequence[str], align: str, rows: Iterable[Sequence[str]], cls: str = "") -> str:
    """Cells are HTML already; ``align``: one letter per column, l(eft) or r(ight)."""
    klass = f' class="{cls}"' if cls else ""
    head = "".join(
        f'<th class="num">{c}</th>' if a == "r" else f"<th>{c}</th>"
        for c, a in zip(header, align, strict=True)
    )
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{c}</td>' if a == "r" else f"<td>{c}</td>"
            for c, a in zip(row, align, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return (
        f'<div class="scroll"><table{klass}><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def badge(severity: str, count: int | None = None) -> str:
    text = h(severity) if count is None else f"{h(severity)} <b>{count:,}</b>"
    return f'<span class="sev sev-{h(severity)}">{text}</span>'


# --------------------------------------------------------------------------- sections


def graph_section(svg: str | None, links: Sequence[GraphLink]) -> str:
    out = ['<section id="graph">', "<h2>Security-group graph</h2>"]
    if svg:
        out.append(f'<figure class="picture">{inline_svg(svg)}</figure>')
    if links:
        out.append("<h3>Arrows of the picture (accepted traffic)</h3>")
        out.append(
            table(
                ("from", "to", "ports", "flows", "bytes", "also rejected"),
                "lllrrl",
                (
                    (
                        ref(k.client),
                        ref(k.server),
                        h(k.ports),
                        f"{k.flows:,}",
                        h(human_bytes(k.bytes)),
                        h(k.rejected_ports) or "–",
                    )
                    for k in links
                ),
            )
        )
    elif not svg:
        out.append("<p>No traffic to draw.</p>")
    out.append("</section>")
    return "\n".join(out)


def talkers_section(title: str, rows: Sequence[Talker]) -> str:
    return f"<h3>{h(title)}</h3>" + table(
        ("#", "client", "server", "port", "bytes", "flows", "days", "rejected"),
        "rlllrrrr",
        (
            (
                str(i),
                ref(t.client, kind=True),
                ref(t.server, kind=True),
                h(t.port),
                h(human_bytes(t.bytes)),
                f"{t.flows:,}",
                str(t.days),
                f"{t.rejected:,}",
            )
            for i, t in enumerate(rows, 1)
        ),
        "talkers",
    )


def _facts(title: str, facts: Iterable[tuple[str, str]]) -> str:
    rows = "".join(f"<tr><th>{h(k)}</th><td>{h(v)}</td></tr>" for k, v in facts)
    return f'<table class="facts"><caption>{h(title)}</caption>{rows}</table>'


def coverage_section(c: CoverageView) -> str:
    out = ['<section id="coverage">', "<h2>Coverage</h2>", f"<p>Window: {h(c.window)}.</p>"]
    boxes = []
    if c.ingest:
        boxes.append(_facts("flow logs", ((f.label, f.value) for f in c.ingest)))
    if c.versions:
        boxes.append(
            _facts("records by flow-log version", ((f.label, f.value) for f in c.versions))
        )
    if c.conversations:
        boxes.append(_facts("conversations", ((f.label, f.value) for f in c.conversations)))
    if boxes:
        out.append(f'<div class="factgrid">{"".join(boxes)}</div>')
    if c.skipped:
        out.append(
            "<p>Skipped input:</p><ul>" + "".join(f"<li>{h(s)}</li>" for s in c.skipped) + "</ul>"
        )
    if c.heuristic:
        out.append(f"<p>{h(c.heuristic)}.</p>")
    if c.snapshots:
        out.append(f"<p>Inventory snapshots taken: {h(', '.join(c.snapshots))}.</p>")
    if c.warnings:
        out.append(
            "<p>Inventory warnings:</p><ul>"
            + "".join(f"<li>{h(w)}</li>" for w in c.warnings)
            + "</ul>"
        )
    out.append(
        f"<p>{c.logged_enis:,} of {plural(c.inventory_enis, 'ENI')} in the inventory wrote"
        f" flow-log records in the window; {plural(len(c.silent), 'ENI')} wrote none:</p>"
    )
    if c.silent:
        out.append(
            table(
                ("ENI", "role", "VPC", "security groups"),
                "llll",
                (
                    (
                        ref(s.eni),
                        h(s.eni.kind or "–"),
                        f'<code class="id">{h(s.vpc_id)}</code>',
                        " ".join(ref(g) for g in s.groups) or "–",
                    )
                    for s in c.silent
                ),
            )
        )
    out.append("</section>")
    return "\n".join(out)
