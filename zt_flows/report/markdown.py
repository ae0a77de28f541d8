"""``report.md``: the report in Markdown, for a repository, a wiki or a terminal
(``templates/report.md.j2``).

The same facts as ``report.html`` (both lay out :class:`ReportView`), in the same
vocabulary as the pull request body. Markdown has no autoescape: every string that came
from AWS or from the plan goes through the ``md`` filter (:func:`zt_flows.text.md`) or a
helper built on it; only ids that look like ids go into code spans.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import jinja2

from zt_flows.report.names import Ref
from zt_flows.report.view import ReportView, SeverityBlock
from zt_flows.text import (
    CHANGE_MD,
    COMBINATIONS_LABEL,
    INTERNET_LABEL,
    human_bytes,
    md,
    md_code,
    plural,
)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+-]*")
STATUS_MD = {
    "newly reachable": "**newly reachable**",
    "wider": "**wider**",
    "closed": "**closed**",
    "narrowed": "narrowed",
    "unchanged": "unchanged",
}


def md_id(text: str) -> str:
    """An id in a code span when it looks like one; anything else escaped as text."""
    return md_code(text) if _ID.fullmatch(text) else md(text)


def ref(r: Ref, *, kind: bool = False) -> str:
    """``web-1 (`eni-…`)``; with ``kind``: ``web-1 (`eni-…`, instance)``."""
    extra = [md_id(r.id)] if r.name and r.id else []
    if kind and r.kind:
        extra.append(md(r.kind))
    text = md(r.name) if r.name else md_id(r.id or "")
    return f"{text} ({', '.join(extra)})" if extra else text


def refs(items: Sequence[Ref], more: int = 0) -> str:
    text = ", ".join(ref(r) for r in items) or "–"
    return f"{text} (+{more:,} more)" if more else text


def finding_kinds(blocks: Sequence[SeverityBlock]) -> list[tuple[str, str, str]]:
    """(code, title, why it matters) of every finding code shown, by code."""
    kinds: dict[str, tuple[str, str]] = {}
    for block in blocks:
        for f in block.findings:
            kinds.setdefault(f.code, (f.title, f.why))
    return [(code, title, why) for code, (title, why) in sorted(kinds.items())]


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("zt_flows.report", "templates"),
        autoescape=False,  # noqa: S701 - Markdown: escaped explicitly, with the md filter
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(md=md, num=lambda n: f"{n:,}", ref=ref)
    env.globals.update(
        CHANGE_MD=CHANGE_MD,
        COMBINATIONS_LABEL=COMBINATIONS_LABEL,
        INTERNET_LABEL=INTERNET_LABEL,
        STATUS_MD=STATUS_MD,
        finding_kinds=finding_kinds,
        human_bytes=human_bytes,
        md_id=md_id,
        plural=plural,
        ref=ref,
        refs=refs,
    )
    return env


def render_markdown(view: ReportView) -> str:
    text = environment().get_template("report.md.j2").render(view=view)
    return text.rstrip("\n") + "\n"  # one newline at the end, however the last section ends
