"""The analysis report: ``report.md`` and ``report.html`` from one :class:`ReportInput`.

Both formats carry the same facts, computed once (``view``, with ``names``, ``sections``,
``coverage`` and ``reach``) and laid out by a template each (``html``, ``markdown``,
``templates/``): the exposure
before and after the change and the replay's verdict up top, then the findings by
severity, every group's rule changes with their evidence, the security-group graph,
the top talkers and what the flow logs covered. Names (Name tags, group names) are
shown wherever a person reads, with the ids beside them; every string from AWS is
escaped for its format. The output is deterministic: the same input gives the same
bytes (no time of the run, everything sorted).

    hours = hourly_timelines(con, REDUCED_TABLE, edges)  # the busiest conversations, hourly
    data = ReportInput(plan, findings, edges, inventory, logged_interfaces, ingest=summary,
                       timelines=hours)
    render_report(data, Path("out"))  # out/report.md, out/report.html

``report.html`` is also explored in a browser: a filter over findings and groups, the
groups folded, the security-group graph drawn by the vendored cytoscape.js, the
reachability matrix (``matrix``) and the hourly timelines (``timeline``).
"""

from __future__ import annotations

from pathlib import Path

from zt_flows.atomic import write_files
from zt_flows.report.html import render_html
from zt_flows.report.markdown import render_markdown
from zt_flows.report.timeline import ConversationHours, hourly_timelines
from zt_flows.report.view import ReportInput, report_view

__all__ = [
    "ConversationHours",
    "ReportInput",
    "hourly_timelines",
    "render_report",
    "report_html",
    "report_markdown",
]

REPORT_FILES = ("report.md", "report.html")


def report_markdown(data: ReportInput) -> str:
    """``report.md`` (pure, deterministic)."""
    return render_markdown(report_view(data))


def report_html(data: ReportInput) -> str:
    """``report.html``: one self-contained page (pure, deterministic)."""
    return render_html(report_view(data))


def render_report(data: ReportInput, out_dir: Path) -> tuple[Path, Path]:
    """Write ``report.md`` and ``report.html`` into ``out_dir``; returns their paths.

    Each file is written to a temporary file beside it and renamed into place, so an
    interruption never leaves a half-written report.
    """
    view = report_view(data)
    texts = (render_markdown(view), render_html(view))
    md_path, html_path = write_files(out_dir, dict(zip(REPORT_FILES, texts, strict=True)))
    return md_path, html_path
