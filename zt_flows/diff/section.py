"""A run's changes as text (``ztflows diff``), and as a report section: its data, its
Markdown and its HTML (plain elements, no script or style: it fits under the report's
Content-Security-Policy)."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from zt_flows.diff.model import Conversation, RuleChange, RunDiff
from zt_flows.findings import Finding

SHOWN = 25
TITLE = "What changed since the baseline"


@dataclass(frozen=True)
class DiffSection:
    """The report section: the data (as ``diff.json`` holds it) and its renderings."""

    data: dict[str, object]
    markdown: str
    html: str


def _conversation(c: Conversation) -> str:
    return f"{c.client} -> {c.server} {c.protocol} ({c.outcome}, {c.flows:,} flows, {c.days} days)"


def _finding(f: Finding) -> str:
    return f"{f.code} {f.severity} {f.subject}: {f.message}"


def _rule(r: RuleChange) -> str:
    how = "through ztflows (the baseline's plan)" if r.planned else "outside ztflows"
    return f"{r.label} ({r.rule_id or 'no id'}), {how}"


def _blocks(diff: RunDiff) -> list[tuple[str, list[str]]]:
    """(heading, items) of every part, in the order they are shown."""
    e = diff.exposure
    exposure = [
        f"allowed combinations today {e.combinations[0]:,} -> {e.combinations[1]:,}"
        f" (after each plan: {e.planned_combinations[0]:,} -> {e.planned_combinations[1]:,})",
        f"internet-reachable ports {e.internet_reachable[0]} -> {e.internet_reachable[1]}",
        *(f"now reachable from the internet: {entry}" for entry in e.reachable_appeared),
        *(f"no longer reachable from the internet: {entry}" for entry in e.reachable_vanished),
    ]
    if diff.rules_unknown is not None:
        rules = [f"not compared: {diff.rules_unknown}"]
    else:
        rules = [
            *(f"added {_rule(r)}" for r in diff.rules_added),
            *(f"removed {_rule(r)}" for r in diff.rules_removed),
        ]
    return [
        (f"New findings ({len(diff.new_findings)})", [_finding(f) for f in diff.new_findings]),
        (
            f"Resolved findings ({len(diff.resolved_findings)})",
            [_finding(f) for f in diff.resolved_findings],
        ),
        (
            f"Rules changed ({len(diff.rules_added_outside) + len(diff.rules_removed_outside)}"
            " outside ztflows)",
            rules,
        ),
        (
            f"Conversations that appeared ({len(diff.appeared)})",
            [_conversation(c) for c in diff.appeared]
            + (
                [f"and {len(diff.expected)} declared expected in the configuration"]
                if diff.expected
                else []
            ),
        ),
        (
            f"Conversations that vanished ({len(diff.vanished)})",
            [_conversation(c) for c in diff.vanished],
        ),
        ("Exposure then and now", exposure),
    ]


def _summary(diff: RunDiff) -> str:
    return (
        f"{diff.old} ({diff.old_window[0]} to {diff.old_window[1]}) -> {diff.new}"
        f" ({diff.new_window[0]} to {diff.new_window[1]}); findings: {len(diff.new_findings)} new,"
        f" {len(diff.resolved_findings)} resolved, {diff.persisting_findings} persisting"
        " (a finding is the same when its code, subject and group are)"
    )


def diff_text(diff: RunDiff) -> str:
    """What ``ztflows diff`` prints: every part, the long lists cut at 25 items."""
    lines = [f"ztflows diff {_summary(diff)}"]
    for heading, items in _blocks(diff):
        lines.append("")
        lines.append(heading)
        lines += [f"  {item}" for item in items[:SHOWN]] or ["  none"]
        if len(items) > SHOWN:
            lines.append(f"  ... and {len(items) - SHOWN} more (--format json lists all)")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return "".join(f"\\{ch}" if ch in "\\`*_[]<>|#" else ch for ch in text)


def diff_section(diff: RunDiff) -> DiffSection:
    """The report section for ``diff``: data, Markdown and HTML."""
    md = [f"## {TITLE}", "", _md(_summary(diff)), ""]
    html = [
        '<section id="changes">',
        f"<h2>{escape(TITLE)}</h2>",
        f"<p>{escape(_summary(diff))}</p>",
    ]
    for heading, items in _blocks(diff):
        md += [f"### {_md(heading)}", ""]
        md += [f"- {_md(item)}" for item in items[:SHOWN]] or ["None."]
        if len(items) > SHOWN:
            md.append(f"- … and {len(items) - SHOWN} more (diff.json lists all)")
        md.append("")
        html.append(f"<h3>{escape(heading)}</h3>")
        if items:
            html.append("<ul>")
            html += [f"<li>{escape(item)}</li>" for item in items[:SHOWN]]
            if len(items) > SHOWN:
                html.append(f"<li>… and {len(items) - SHOWN} more (diff.json lists all)</li>")
            html.append("</ul>")
        else:
            html.append("<p>None.</p>")
    html.append("</section>")
    return DiffSection(data=diff.to_json(), markdown="\n".join(md), html="\n".join(html) + "\n")


__all__ = ["DiffSection", "diff_section", "diff_text"]
