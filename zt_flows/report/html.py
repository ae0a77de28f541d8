"""``report.html``: the report as one self-contained page.

Inline CSS (``templates/report.css``), the security-group picture inlined as SVG, no
scripts, no fonts or images from anywhere: it opens from a file, offline. A
Content-Security-Policy forbids scripts and every load but inline styles and ``data:``
images, so even a string that escaped escaping could not run or call out. Every string
from AWS or the plan goes through :func:`zt_flows.text.html_text`.
"""

from __future__ import annotations

from collections.abc import Sequence

from zt_flows.report.html_parts import (
    badge,
    coverage_section,
    graph_section,
    ref,
    refs,
    stylesheet,
    table,
    talkers_section,
)
from zt_flows.report.sections import EvidenceView, GroupView, RuleView
from zt_flows.report.view import (
    Blocked,
    Headline,
    KeptView,
    ReportView,
    SeverityBlock,
)
from zt_flows.text import COMBINATIONS_LABEL, INTERNET_LABEL, human_bytes, plural
from zt_flows.text import html_text as h

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


# --------------------------------------------------------------------------- sections


_STATUS_CLASS = {
    "newly reachable": "opened",
    "wider": "opened",
    "closed": "closed",
    "narrowed": "still",
    "unchanged": "still",
}


def _card(label: str, before: int, after: int, note: str, cls: str = "") -> str:
    return (
        f'<div class="{" ".join(("card", cls)).strip()}"><div class="label">{h(label)}</div>'
        f'<div class="figure"><span class="before">{before:,}</span>'
        f'<span class="arrow">→</span><span class="after">{after:,}</span></div>'
        f'<div class="note">{h(note)}</div></div>'
    )


def _blocked_table(rows: Sequence[Blocked]) -> str:
    return table(
        ("client", "server", "port", "flows", "group", "reason"),
        "lllrll",
        (
            (
                ref(b.client),
                ref(b.server),
                h(b.port),
                f"{b.flows:,}",
                ref(b.group) if b.group else "–",
                h(b.reason),
            )
            for b in rows
        ),
    )


def _headline(v: ReportView) -> str:
    hl: Headline = v.headline
    ok = hl.blocked == 0
    verdict = (
        f'<div class="card {"ok" if ok else "bad"}"><div class="label">verification</div>'
        f'<div class="figure">{hl.blocked:,}<span class="unit"> would be blocked</span></div>'
        f'<div class="note">{plural(hl.replayed, "observed conversation")} replayed;'
        f" {hl.intentionally_blocked:,} blocked on purpose</div></div>"
    )
    window = (
        f'<div class="card"><div class="label">observation window</div>'
        f'<div class="figure">{hl.window_days or "?"}<span class="unit"> days</span></div>'
        f'<div class="note">{h(hl.window)}</div></div>'
    )
    cards = (
        _card(COMBINATIONS_LABEL, hl.combinations_before, hl.combinations_after, hl.reduction or "")
        + _card(
            INTERNET_LABEL,
            hl.reachable_before,
            hl.reachable_after,
            hl.reach_change,
            "bad" if hl.opened else "",
        )
        + verdict
        + window
    )
    severities = " ".join(badge(s, n) for s, n in hl.severity_counts)
    out = [
        '<section id="exposure">',
        f'<div class="cards">{cards}</div>',
        f'<p class="summary">The plan changes {hl.groups_changed:,} of'
        f" {plural(hl.groups, 'security group')}: <b>{hl.added:,} rules added</b>,"
        f" {hl.kept:,} kept, <b>{hl.removed:,} removed</b>."
        f' Findings: <a href="#findings">{severities}</a></p>',
        "<h2>Exposure</h2>",
    ]
    if hl.reach:
        out.append("<h3>Reachable from the internet</h3>")
        if hl.weights:
            out.append(
                "<p>Weighted by the share of the public address space each admits (a range"
                f" open to all of it weighs 1): {h(hl.weights)}.</p>"
            )
        rows = []
        for r in hl.reach:
            before = f'<span class="yes">{h(r.before)}</span>' if r.before != "–" else "–"
            after = f'<span class="yes">{h(r.after)}</span>' if r.after != "–" else "–"
            change = f'<span class="{_STATUS_CLASS[r.status]}">{h(r.status)}</span>'
            rows.append((ref(r.eni, kind=True), h(r.port), before, after, change))
        out.append(table(("ENI", "port", "before", "after", "change"), "lllll", rows, "reach"))
    out.append("</section>")
    out += ['<section id="verification">', "<h2>Verification</h2>"]
    out.append(
        f"<p>Replayed {plural(hl.replayed, 'observed accepted conversation')} against the"
        f" proposed rules: <b>{hl.blocked:,} would be blocked</b>.</p>"
    )
    if hl.blocked_rows:
        out.append(
            '<p class="alert">Blocked by the proposal although observed (do not merge before'
            " this is understood):</p>"
        )
        out.append(_blocked_table(hl.blocked_rows))
    if hl.intentionally_blocked:
        out.append(
            f"<p>Blocked on purpose: {plural(hl.intentionally_blocked, 'conversation')}.</p>"
        )
        out.append(
            table(
                ("server", "port", "reason", "conversations", "clients", "flows"),
                "lllrrr",
                (
                    (
                        ref(s.server),
                        h(s.port),
                        h(s.reason),
                        f"{s.conversations:,}",
                        f"{s.clients:,}",
                        f"{s.flows:,}",
                    )
                    for s in hl.intentional_summary
                ),
            )
        )
        more = (
            f"<p>And {hl.intentional_more:,} more (see <code>plan.json</code>).</p>"
            if hl.intentional_more
            else ""
        )
        out.append(
            f"<details><summary>Every conversation blocked on purpose</summary>"
            f"{_blocked_table(hl.intentional_rows)}{more}</details>"
        )
    out.append("</section>")
    return "\n".join(out)


def _findings(blocks: Sequence[SeverityBlock], counts: Sequence[tuple[str, int]]) -> str:
    total = sum(n for _, n in counts)
    out = ['<section id="findings">', "<h2>Findings</h2>"]
    if not total:
        return "\n".join([*out, "<p>No findings.</p>", "</section>"])
    out.append(
        f'<p class="counts">{plural(total, "finding")}: '
        + " ".join(badge(s, n) for s, n in counts)
        + "</p>"
    )
    for block in blocks:
        out.append(
            f'<h3>{badge(block.severity)} <span class="count">{len(block.findings):,}</span></h3>'
        )
        rows = []
        explained: set[str] = set()
        for f in block.findings:
            subject = ref(f.subject)
            if f.group is not None:
                subject += f'<div class="in">in {ref(f.group)}</div>'
            detail = f"<div>{h(f.message)}</div>"
            if f.details:
                items = "".join(
                    f'<li><span class="dl">{h(d.label)}</span> {h(d.value)}</li>' for d in f.details
                )
                detail += f'<ul class="details">{items}</ul>'
            finding = f'<div class="title">{h(f.title)}</div>'
            if f.code not in explained:  # once per code and severity: the rows stay short
                finding += f'<div class="why">{h(f.why)}</div>'
                explained.add(f.code)
            rows.append((f'<code class="code">{h(f.code)}</code>', finding, subject, detail))
        out.append(
            table(
                ("code", "finding and why it matters", "subject", "detail"),
                "llll",
                rows,
                f"findings sev-{h(block.severity)}-rows",
            )
        )
    out.append("</section>")
    return "\n".join(out)


def _evidence_cells(ev: EvidenceView | None) -> str:
    if ev is None:
        dash = '<td class="num">–</td>'
        return f'{dash}{dash}<td colspan="4" class="none">no traffic observed</td>'
    seen = (
        f'<span class="when">{h(ev.first_seen)}</span><span class="when">{h(ev.last_seen)}</span>'
    )
    return (
        f'<td class="num">{ev.flows:,}</td><td class="num">{h(human_bytes(ev.bytes))}</td>'
        f'<td>{seen}</td><td class="num">{h(ev.days)}</td>'
        f"<td>{refs(ev.clients, ev.clients_more)}</td><td>{refs(ev.servers, ev.servers_more)}</td>"
    )


def _why(rule: RuleView) -> str:
    parts = [h(rule.reason)]
    parts += [f'<span class="related">{h(r)}</span>' for r in rule.related]
    if rule.description:
        label = "proposed description" if rule.action == "add" else "description today"
        parts.append(f'<span class="desc">{label}: <q>{h(rule.description)}</q></span>')
    return " · ".join(parts)


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


def _rules_table(rules: Sequence[RuleView]) -> str:
    """One ``tbody`` per rule: the rule and its evidence, then a full-width row saying why."""
    head = "".join(
        f'<th class="num">{c}</th>' if c in ("flows", "bytes", "days") else f"<th>{c}</th>"
        for c in RULE_COLUMNS
    )
    bodies = []
    for r in rules:
        change = f'<span class="act act-{h(r.action)}">{h(r.action)}</span>'
        if r.low_confidence:
            change += '<span class="lowconf">low confidence</span>'
        if r.rule_id:
            change += f'<code class="id">{h(r.rule_id)}</code>'
        rule = f'<span class="words">{h(r.words)}</span> {ref(r.peer)}'
        bodies.append(
            f'<tbody class="rule rule-{h(r.action)}"><tr><td rowspan="2">{change}</td>'
            f"<td>{rule}</td>{_evidence_cells(r.evidence)}</tr>"
            f'<tr class="why"><td colspan="{len(RULE_COLUMNS) - 1}">{_why(r)}</td></tr></tbody>'
        )
    return (
        f'<div class="scroll"><table class="rules"><thead><tr>{head}</tr></thead>'
        f"{''.join(bodies)}</table></div>"
    )


def _group(g: GroupView) -> str:
    about = [h(g.description)] if g.description else []
    if g.vpc_id:
        about.append(f'VPC <code class="id">{h(g.vpc_id)}</code>')
    about.append(f'coverage <span class="cov cov-{h(g.coverage)}">{h(g.coverage)}</span>')
    members = " ".join(ref(m, kind=True) for m in g.members) or "none"
    out = [
        f'<section class="group" id="{g.anchor}">',
        f"<h3>{ref(g.group)}</h3>",
        f'<p class="meta">{" · ".join(about)}</p>',
        f'<p class="members"><span class="dl">members</span> {members}</p>',
        *[f'<p class="callout">{h(n)}</p>' for n in g.notes],
        _rules_table(g.rules),
        "</section>",
    ]
    return "\n".join(out)


def _groups(groups: Sequence[GroupView]) -> str:
    rows = (
        (
            f'<a href="#{g.anchor}">{ref(g.group)}</a>',
            f'<span class="cov cov-{h(g.coverage)}">{h(g.coverage)}</span>',
            f"{len(g.members):,}",
            f"{g.kept:,}",
            f"{g.added:,}",
            f"{g.removed:,}",
        )
        for g in groups
    )
    summary = table(
        ("security group", "coverage", "members", "kept", "added", "to remove"),
        "llrrrr",
        rows,
        "summary",
    )
    body = "\n".join(_group(g) for g in groups)
    return (
        f'<section id="groups">\n<h2>Changes by security group</h2>\n{summary}\n{body}\n</section>'
    )


def _kept(k: KeptView) -> str:
    out = ['<section id="kept">', "<h2>Kept, and why</h2>"]
    replayed = (
        f"The plan was replayed against {k.records:,} accepted flow records, read the ways"
        " their own evidence allows, whatever the orientation concluded."
        if k.basis == "records"
        else "The plan was replayed against the conversations only (no records at hand)."
    )
    out.append(
        "<p>The plan narrows only what the evidence proves is a closed population (a security"
        " group, an AWS-managed prefix list, a range you named). Where the peers are"
        " open-ended, or the evidence is incomplete or ambiguous, it keeps the range or the"
        f" rule, narrows only ports and protocols, and says why. {h(replayed)}</p>"
    )
    if not k.total and not k.probed and not k.unexplained:
        out += ["<p>Nothing was kept for safety.</p>", "</section>"]
        return "\n".join(out)
    if k.counts:
        out.append(
            table(
                ("kept because", "what it means", "rules"),
                "llr",
                ((f"<code>{h(r)}</code>", h(words), f"{n:,}") for r, words, n in k.counts),
            )
        )
        rows = ((ref(r.group), h(r.rule), f"<code>{h(r.reason)}</code>", h(r.why)) for r in k.rules)
        more = f"<p>And {k.more:,} more (see <code>plan.json</code>).</p>" if k.more else ""
        out.append(
            "<details><summary>Every rule kept for safety</summary>"
            + table(("group", "rule", "kept because", "why"), "llll", rows)
            + more
            + "</details>"
        )
    if k.ambiguous:
        out.append(
            f"<p>{plural(k.ambiguous, 'group')} of flow records could be read either way (no"
            " handshake, no telling port): both readings stay allowed.</p>"
        )
    if k.probed:
        out.append("<p>Probes of ports that stay open for the sessions that use them:</p>")
        out.append(
            table(
                ("server", "port", "conversations", "clients", "flows"),
                "llrrr",
                (
                    (
                        ref(s.server),
                        h(s.port),
                        f"{s.conversations:,}",
                        f"{s.clients:,}",
                        f"{s.flows:,}",
                    )
                    for s in k.probed
                ),
            )
        )
    if k.unexplained:
        out.append("<p>Accepted traffic today's rules do not explain (kept allowed):</p>")
        out.append(_blocked_table(k.unexplained))
    out.append("</section>")
    return "\n".join(out)


def render_html(view: ReportView) -> str:
    nav = " ".join(f'<a href="#{key}">{h(text)}</a>' for key, text in SECTIONS)
    body = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f'<meta name="generator" content="ztflows {h(view.version)}">',
        f"<title>{h(view.title)}</title>",
        f"<style>\n{stylesheet()}</style>",
        "</head>",
        "<body>",
        '<header class="top">',
        '<div class="brand">ztflows · security-group report</div>',
        f"<h1>{h(view.title)}</h1>",
        f'<p class="sub">From VPC Flow Logs observed {h(view.headline.window)}.</p>',
        f"<nav>{nav}</nav>",
        "</header>",
        "<main>",
        _headline(view),
        _kept(view.kept),
        _findings(view.findings, view.headline.severity_counts),
        _groups(view.groups),
        graph_section(view.graph_svg, view.graph_links),
        '<section id="talkers">',
        "<h2>Top talkers</h2>",
        talkers_section("By bytes", view.by_bytes),
        talkers_section("By flows", view.by_flows),
        "</section>",
        coverage_section(view.coverage),
        "</main>",
        f"<footer>Generated by ztflows {h(view.version)}.</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(body) + "\n"
