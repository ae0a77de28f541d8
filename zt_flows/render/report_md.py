"""``report.md``: the report in Markdown, for a repository, a wiki or a terminal.

The same facts as ``report.html`` (both lay out :class:`ReportView`), in the same
vocabulary as the pull request body. Every string that came from AWS or from the
plan is escaped with :func:`zt_flows.render.text.md`; only ids that look like ids go
into code spans.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from zt_flows.render.report_coverage import CoverageView
from zt_flows.render.report_data import (
    Blocked,
    Headline,
    KeptView,
    ReportView,
    SeverityBlock,
)
from zt_flows.render.report_names import Ref
from zt_flows.render.report_sections import (
    EvidenceView,
    GraphLink,
    GroupView,
    RuleView,
    Talker,
)
from zt_flows.render.text import (
    CHANGE_MD,
    COMBINATIONS_LABEL,
    INTERNET_LABEL,
    human_bytes,
    md,
    md_code,
    plural,
)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/+-]*")
_STATUS_MD = {
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


def table(header: Sequence[str], align: str, rows: Iterable[Sequence[str]]) -> list[str]:
    """A GitHub table; ``align`` has one letter per column: l(eft) or r(ight)."""
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


# --------------------------------------------------------------------------- sections


def _blocked_table(rows: Sequence[Blocked]) -> list[str]:
    return table(
        ("client", "server", "port", "flows", "group", "reason"),
        "lllrll",
        (
            (
                ref(b.client),
                ref(b.server),
                b.port,
                f"{b.flows:,}",
                ref(b.group) if b.group else "–",
                md(b.reason),
            )
            for b in rows
        ),
    )


def _headline(h: Headline) -> list[str]:
    lines = ["## Exposure", ""]
    lines += table(
        ("", "before", "after"),
        "lrr",
        (
            (COMBINATIONS_LABEL, f"{h.combinations_before:,}", f"{h.combinations_after:,}"),
            (INTERNET_LABEL, f"{h.reachable_before:,}", f"{h.reachable_after:,}"),
            *h.weight_rows,
        ),
    )
    shrink = f" ({h.reduction})" if h.reduction else ""
    weights = f"; weighted by the public space they admit: {h.weights}" if h.weights else ""
    lines += [
        f"**{h.combinations_before:,} → {h.combinations_after:,}** allowed combinations{shrink};"
        f" **{h.reachable_before:,} → {h.reachable_after:,}** internet-reachable ENI:ports"
        f" ({h.reach_change}){weights}."
        f" The plan changes {h.groups_changed:,} of {plural(h.groups, 'security group')}:"
        f" {h.added:,} rules added, {h.kept:,} kept, {h.removed:,} removed.",
        "",
    ]
    if h.reach:
        lines += table(
            ("ENI", "port", "before", "after", "change"),
            "lllll",
            (
                (
                    ref(r.eni, kind=True),
                    md(r.port),
                    md(r.before),
                    md(r.after),
                    _STATUS_MD[r.status],
                )
                for r in h.reach
            ),
        )
    lines += ["## Verification", ""]
    lines += [
        f"Replayed {plural(h.replayed, 'observed accepted conversation')} against the proposed"
        f" rules: **{h.blocked:,} would be blocked**.",
        "",
    ]
    if h.blocked_rows:
        lines += [
            "**Blocked by the proposal although observed** (do not merge before this is"
            " understood):",
            "",
            *_blocked_table(h.blocked_rows),
        ]
    if h.intentionally_blocked:
        lines += [f"Blocked on purpose: {plural(h.intentionally_blocked, 'conversation')}.", ""]
        lines += table(
            ("server", "port", "reason", "conversations", "clients", "flows"),
            "lllrrr",
            (
                (
                    ref(s.server),
                    s.port,
                    md(s.reason),
                    f"{s.conversations:,}",
                    f"{s.clients:,}",
                    f"{s.flows:,}",
                )
                for s in h.intentional_summary
            ),
        )
        lines += ["Every conversation blocked on purpose:", ""]
        lines += _blocked_table(h.intentional_rows)
        if h.intentional_more:
            lines += [f"And {h.intentional_more:,} more (see `plan.json`).", ""]
    return lines


def _findings(blocks: Sequence[SeverityBlock], counts: Sequence[tuple[str, int]]) -> list[str]:
    total = sum(n for _, n in counts)
    lines = ["## Findings", ""]
    if not total:
        return [*lines, "No findings.", ""]
    lines += [f"{plural(total, 'finding')} by severity:", ""]
    lines += table([s for s, _ in counts], "r" * len(counts), [[f"{n:,}" for _, n in counts]])
    why: dict[str, tuple[str, str]] = {}
    for block in blocks:
        lines += [f"### {block.severity.capitalize()} ({len(block.findings):,})", ""]
        rows = []
        for f in block.findings:
            why.setdefault(f.code, (f.title, f.why))
            subject = ref(f.subject)
            if f.group is not None:
                subject += f" in {ref(f.group)}"
            detail = md(f.message)
            if f.details:
                detail += " (" + "; ".join(f"{md(d.label)}: {md(d.value)}" for d in f.details) + ")"
            rows.append((f.code, md(f.title), subject, detail))
        lines += table(("code", "finding", "subject", "detail"), "llll", rows)
    lines += ["### Why these matter", ""]
    lines += table(
        ("code", "finding", "why it matters"),
        "lll",
        ((code, md(title), md(text)) for code, (title, text) in sorted(why.items())),
    )
    return lines


def _evidence_cells(ev: EvidenceView | None) -> list[str]:
    if ev is None:
        return ["–"] * 7
    return [
        f"{ev.flows:,}",
        human_bytes(ev.bytes),
        ev.first_seen,
        ev.last_seen,
        ev.days,
        refs(ev.clients, ev.clients_more),
        refs(ev.servers, ev.servers_more),
    ]


def _why(rule: RuleView) -> str:
    parts = [md(rule.reason)]
    parts += [md(r) for r in rule.related]
    if rule.description:
        label = "proposed description" if rule.action == "add" else "description today"
        parts.append(f"{label}: “{md(rule.description)}”")
    return "; ".join(parts)


def _group(g: GroupView) -> list[str]:
    lines = [f"### {ref(g.group)}", ""]
    about = [md(g.description)] if g.description else []
    if g.vpc_id:
        about.append(f"VPC {md_id(g.vpc_id)}")
    about.append(f"coverage: {md(g.coverage)}")
    lines += [" · ".join(about), ""]
    members = ", ".join(ref(m, kind=True) for m in g.members) or "none"
    lines += [f"Members: {members}.", ""]
    for note in g.notes:
        lines += [f"> {md(note)}", ""]
    rows = []
    for r in g.rules:
        change = CHANGE_MD[r.action] + (" (low confidence)" if r.low_confidence else "")
        if r.rule_id:
            change += f" {md_id(r.rule_id)}"
        rows.append([change, f"{md(r.words)} {ref(r.peer)}", *_evidence_cells(r.evidence), _why(r)])
    header = (
        "change",
        "rule",
        "flows",
        "bytes",
        "first seen",
        "last seen",
        "days",
        "clients",
        "servers",
        "why",
    )
    lines += table(header, "llrrllrlll", rows)
    return lines


def _groups(groups: Sequence[GroupView]) -> list[str]:
    lines = ["## Changes by security group", ""]
    lines += table(
        ("security group", "coverage", "members", "kept", "added", "to remove"),
        "llrrrr",
        (
            (
                ref(g.group),
                md(g.coverage),
                f"{len(g.members):,}",
                f"{g.kept:,}",
                f"{g.added:,}",
                f"{g.removed:,}",
            )
            for g in groups
        ),
    )
    for g in groups:
        lines += _group(g)
    return lines


def _graph(links: Sequence[GraphLink], has_picture: bool) -> list[str]:
    lines = ["## Security-group graph", ""]
    if has_picture:
        lines += ["The picture is in `report.html`. Its arrows, accepted traffic only:", ""]
    if not links:
        return [*lines, "No traffic to draw.", ""]
    return lines + table(
        ("from", "to", "ports", "flows", "bytes", "also rejected"),
        "lllrrl",
        (
            (
                ref(k.client),
                ref(k.server),
                md(k.ports),
                f"{k.flows:,}",
                human_bytes(k.bytes),
                md(k.rejected_ports) or "–",
            )
            for k in links
        ),
    )


def _talkers(title: str, rows: Sequence[Talker]) -> list[str]:
    lines = [f"### {title}", ""]
    return lines + table(
        ("#", "client", "server", "port", "bytes", "flows", "days", "rejected"),
        "rlllrrrr",
        (
            (
                str(i),
                ref(t.client, kind=True),
                ref(t.server, kind=True),
                t.port,
                human_bytes(t.bytes),
                f"{t.flows:,}",
                str(t.days),
                f"{t.rejected:,}",
            )
            for i, t in enumerate(rows, 1)
        ),
    )


def _coverage(c: CoverageView) -> list[str]:
    lines = ["## Coverage", "", f"Window: {md(c.window)}.", ""]
    if c.ingest:
        lines += table(("flow logs", ""), "ll", ((md(f.label), md(f.value)) for f in c.ingest))
    if c.versions:
        lines += table(
            ("flow-log version", "records"), "lr", ((md(f.label), md(f.value)) for f in c.versions)
        )
    if c.skipped:
        lines += ["Skipped input:", "", *[f"- {md(s)}" for s in c.skipped], ""]
    if c.conversations:
        lines += table(
            ("conversations", ""), "ll", ((md(f.label), md(f.value)) for f in c.conversations)
        )
    if c.heuristic:
        lines += [f"{md(c.heuristic)}.", ""]
    if c.snapshots:
        lines += [f"Inventory snapshots taken: {', '.join(c.snapshots)}.", ""]
    if c.warnings:
        lines += ["Inventory warnings:", "", *[f"- {md(w)}" for w in c.warnings], ""]
    lines += [
        f"{c.logged_enis:,} of {plural(c.inventory_enis, 'ENI')} in the inventory wrote flow-log"
        f" records in the window; {plural(len(c.silent), 'ENI')} wrote none:",
        "",
    ]
    if c.silent:
        lines += table(
            ("ENI", "role", "VPC", "security groups"),
            "llll",
            (
                (
                    ref(s.eni),
                    md(s.eni.kind or "–"),
                    md_id(s.vpc_id),
                    ", ".join(ref(g) for g in s.groups) or "–",
                )
                for s in c.silent
            ),
        )
    return lines


def _kept(k: KeptView) -> list[str]:
    lines = ["## Kept, and why", ""]
    replayed = (
        f"The plan was replayed against {k.records:,} accepted flow records, read the ways their"
        " own evidence allows, whatever the orientation concluded."
        if k.basis == "records"
        else "The plan was replayed against the conversations only (no records at hand)."
    )
    lines += [
        "The plan narrows only what the evidence proves is a closed population (a security"
        " group, an AWS-managed prefix list, a range you named). Where the peers are open-ended,"
        " or the evidence is incomplete or ambiguous, it keeps the range or the rule, narrows"
        f" only ports and protocols, and says why. {replayed}",
        "",
    ]
    if not k.total and not k.probed and not k.unexplained:
        return [*lines, "Nothing was kept for safety.", ""]
    if k.counts:
        lines += table(
            ("kept because", "what it means", "rules"),
            "llr",
            ((f"`{reason}`", md(words), f"{n:,}") for reason, words, n in k.counts),
        )
        lines += table(
            ("group", "rule", "kept because", "why"),
            "llll",
            ((ref(r.group), md(r.rule), f"`{r.reason}`", md(r.why)) for r in k.rules),
        )
        if k.more:
            lines += [f"And {k.more:,} more (see `plan.json`).", ""]
    if k.ambiguous:
        lines += [
            f"{plural(k.ambiguous, 'group')} of flow records could be read either way (no"
            " handshake, no telling port): both readings stay allowed.",
            "",
        ]
    if k.probed:
        lines += ["Probes of ports that stay open for the sessions that use them:", ""]
        lines += table(
            ("server", "port", "conversations", "clients", "flows"),
            "llrrr",
            (
                (ref(s.server), s.port, f"{s.conversations:,}", f"{s.clients:,}", f"{s.flows:,}")
                for s in k.probed
            ),
        )
    if k.unexplained:
        lines += ["Accepted traffic today's rules do not explain (kept allowed):", ""]
        lines += _blocked_table(k.unexplained)
    return lines


def render_markdown(view: ReportView) -> str:
    h = view.headline
    lines = [
        f"# {md(view.title)}",
        "",
        f"From VPC Flow Logs observed {md(h.window)}. Generated by ztflows {md(view.version)}.",
        "",
        *_headline(h),
        *_kept(view.kept),
        *_findings(view.findings, h.severity_counts),
        *_groups(view.groups),
        *_graph(view.graph_links, view.graph_svg is not None),
        "## Top talkers",
        "",
        *_talkers("By bytes", view.by_bytes),
        *_talkers("By flows", view.by_flows),
        *_coverage(view.coverage),
    ]
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"
