"""The pull request's title, body (Markdown) and commit message.

The body is what a reviewer reads before approving: what changes and why, how much
less is exposed, the evidence for every rule, the findings, whether the replay of
observed traffic passed, and how to roll out and back. Every string that came from
AWS is Markdown-escaped (:func:`zt_flows.text.md`).
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence

from zt_flows import __version__
from zt_flows.findings import Finding
from zt_flows.recommend.plan import BlockedConversation, GroupPlan, Plan
from zt_flows.report.reach import ALARMING, reach_rows, weight_text, weights_text
from zt_flows.terraform.attributes import RenderedRule
from zt_flows.terraform.module import TerraformModule
from zt_flows.terraform.readme import rollout_steps
from zt_flows.text import (
    CHANGE_MD,
    COMBINATIONS_LABEL,
    INTERNET_LABEL,
    INTERNET_WEIGHT_LABELS,
    day,
    days_seen,
    human_bytes,
    last_day,
    md,
    md_code,
    one_line,
    peer_text,
    plural,
    rule_words,
    skipped_text,
    utc,
    window_days,
    window_text,
)
from zt_flows.tfrepo.model import Placement
from zt_flows.vocabulary import conversation_label


def pr_title(plan: Plan) -> str:
    window = ""
    if plan.window_start is not None and plan.window_end is not None:
        window = f" ({day(plan.window_start)} to {last_day(plan.window_end)})"
    return f"Least-privilege security groups from VPC Flow Logs{window}"


def _counts(module: TerraformModule) -> Counter[str]:
    return Counter(r.action for r in module.rules)


def _exposure(plan: Plan) -> list[str]:
    before, after = plan.exposure.before, plan.exposure.after
    lines = [
        "### Exposure",
        "",
        "| | before | after |",
        "|---|---:|---:|",
        f"| {COMBINATIONS_LABEL} | {before.combinations:,} | {after.combinations:,} |",
        f"| {INTERNET_LABEL} | {before.internet_reachable_count:,}"
        f" | {after.internet_reachable_count:,} |",
    ]
    if before.measured and after.measured:
        lines += [
            f"| {INTERNET_WEIGHT_LABELS['IPv4']} | {weight_text(before.internet_weight_ipv4)}"
            f" | {weight_text(after.internet_weight_ipv4)} |",
            f"| {INTERNET_WEIGHT_LABELS['IPv6']} | {weight_text(before.internet_weight_ipv6)}"
            f" | {weight_text(after.internet_weight_ipv6)} |",
        ]
    lines.append("")
    rows = reach_rows(before, after)
    closed = [md_code(r.entry) for r in rows if r.status == "closed"]
    narrowed = [f"{md_code(r.entry)} ({md(r.after)})" for r in rows if r.status == "narrowed"]
    opened = [f"{md_code(r.entry)} ({md(r.after)})" for r in rows if r.status in ALARMING]
    if closed:
        lines += ["No longer reachable from the internet: " + ", ".join(closed), ""]
    if narrowed:
        lines += [
            "Still reachable from the internet, on fewer ports or from fewer addresses: "
            + ", ".join(narrowed),
            "",
        ]
    if opened:
        lines += [
            "**Newly reachable from the internet, or from more addresses** (check these): "
            + ", ".join(opened),
            "",
        ]
    return lines


def _rule_row(r: RenderedRule, days: int | None) -> str:
    spec, rule = r.spec, r.spec.rule
    what = rule_words(rule.rule)
    change = CHANGE_MD[rule.action]
    if rule.confidence == "low":
        change += " (low confidence)"
    ev = rule.evidence
    if ev is None:
        evidence = "– | – | – | – | – | –"
    else:
        seen = days_seen(ev.days_seen, days)
        evidence = (
            f"{ev.flows:,} | {human_bytes(ev.bytes)} | {utc(ev.first_seen)} |"
            f" {utc(ev.last_seen)} | {seen} | {len(ev.clients):,}"
        )
    rule_id = f" {md_code(rule.existing_rule_id)}" if rule.existing_rule_id else ""
    return (
        f"| {change}{rule_id} | {md(what)} {md(peer_text(rule.peer, spec.group.group_id))} |"
        f" {evidence} | {md(rule.reason)} |"
    )


def _group_section(group: GroupPlan, rules: Sequence[RenderedRule], days: int | None) -> list[str]:
    lines = [f"#### {md(group.name)} ({md_code(group.group_id)})", ""]
    if group.coverage != "observed":
        lines += [f"Coverage: {md(group.coverage)}.", ""]
    for note in group.notes:
        lines += [f"> {md(note)}", ""]
    lines += [
        "| change | rule | flows | bytes | first seen | last seen | days | clients | why |",
        "|---|---|---:|---:|---|---|---:|---:|---|",
        *[_rule_row(r, days) for r in rules],
        "",
    ]
    return lines


def _findings(findings: Sequence[Finding]) -> list[str]:
    lines = ["### Findings", ""]
    if not findings:
        return [*lines, "No findings were given (`ztflows pr --findings findings.json`).", ""]
    by_severity = Counter(f.severity for f in findings)
    summary = ", ".join(f"{n} {s}" for s, n in sorted(by_severity.items(), key=lambda x: x[0]))
    lines += [
        f"{plural(len(findings), 'finding')} ({summary}).",
        "",
        "| severity | code | finding | subject | detail |",
        "|---|---|---|---|---|",
    ]
    for f in sorted(findings, key=Finding.sort_key):
        lines.append(
            f"| {f.severity} | {f.code} | {md(f.kind.title)} | {md(f.subject)} | {md(f.message)} |"
        )
    return [*lines, ""]


def _blocked_rows(items: Sequence[BlockedConversation]) -> list[str]:
    rows = ["| client | server | port | flows | reason |", "|---|---|---|---:|---|"]
    for b in items:
        rows.append(
            f"| {md(b.client)} | {md(b.server)} | {conversation_label(b.protocol, b.server_port)}"
            f" | {b.flows:,} |"
            f" {md(b.reason)} |"
        )
    return rows


def _verification(plan: Plan) -> list[str]:
    v = plan.verification
    lines = [
        "### Verification",
        "",
        f"Replayed {plural(v.replayed, 'observed accepted conversation')} against the proposed"
        f" rules: **{v.blocked:,} would be blocked**. The replay ran when `ztflows recommend`"
        " made the plan (it needs the flow logs): re-run it on newer logs with"
        " `ztflows check`. The rules and the exposure above were verified against the"
        " inventory when this pull request was made.",
        "",
    ]
    if skipped := skipped_text(plan):
        lines += [
            f"**The evidence is incomplete**: {md(skipped)}. Traffic that only they showed was"
            " neither learnt nor replayed, so this change may block it: fix or remove the bad"
            " input and run again before merging.",
            "",
        ]
    if v.blocked_conversations:
        lines += [
            "**Blocked by the proposal although observed** (do not merge before this is"
            " understood):",
            "",
            *_blocked_rows(v.blocked_conversations),
            "",
        ]
    blocked_on_purpose = plan.intentionally_blocked
    count = max(v.intentionally_blocked, len(blocked_on_purpose))
    if count:
        lines += [f"Blocked on purpose: {plural(count, 'conversation')}.", ""]
        if blocked_on_purpose:
            lines += [*_blocked_rows(blocked_on_purpose), ""]
    return lines


def pr_body(
    plan: Plan,
    module: TerraformModule,
    findings: Sequence[Finding] = (),
    *,
    directory: str = "the Terraform directory",
    repository: Sequence[str] = (),
    standalone: TerraformModule | None = None,
) -> str:
    """The pull request body, Markdown (deterministic).

    ``module`` holds every rule of the plan (its tables); ``repository`` the sections on
    the team's own Terraform when groups are edited in place, and ``standalone`` the
    module written for the other groups (None when there are none).
    """
    counts = _counts(module)
    days = window_days(plan)
    groups = {r.spec.group.group_id: r.spec.group for r in module.rules}
    if not repository:
        where = (
            f" **{counts['remove']:,} removed** in phase 2 (`pending_removal.tf`)."
            f" The Terraform is in {directory}; every rule's evidence is also in a comment"
            " above it."
        )
    else:
        where = (
            f" **{counts['remove']:,} removed** in phase 2. Groups the repository's"
            " Terraform manages are edited where they are written, in their own style;"
            + (
                f" the others are in the standalone module in {directory}."
                if standalone is not None
                else " no other group needed a module of its own."
            )
        )
    lines = [
        "## Least-privilege security groups from VPC Flow Logs",
        "",
        f"ztflows read VPC Flow Logs observed {window_text(plan)} and proposes rules for"
        f" {plural(len(groups), 'security group')}: **{counts['add']:,} added**,"
        f" {counts['keep']:,} kept"
        + (" (adopted with `import` blocks, nothing recreated) and" if not repository else " and")
        + where,
        "",
        *_exposure(plan),
        *repository,
        "### Changes by security group",
        "",
    ]
    order = sorted(groups.values(), key=lambda g: (g.name, g.group_id))
    for group in order:
        rules = [r for r in module.rules if r.spec.group.group_id == group.group_id]
        lines += _group_section(group, rules, days)
    lines += _findings(findings)
    lines += _verification(plan)
    if standalone is not None or not repository:
        alone = standalone if standalone is not None else module
        title = "### Rollout and rollback" + (" of the standalone module" if repository else "")
        lines += [title, ""]
        lines += rollout_steps(alone.rules, days, directory)
    lines += ["", f"<sub>Generated by ztflows {__version__}.</sub>", ""]
    return "\n".join(lines)


def _wrap(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(
        textwrap.fill(p, 72, break_long_words=False, break_on_hyphens=False) for p in paragraphs
    )


def _edited_paragraph(placements: Sequence[Placement]) -> list[str]:
    edited = [p for p in placements if p.outcome == "edited"]
    by_hand = [p for p in placements if p.outcome == "manual"]
    out = []
    if edited:
        roots = sorted({p.root for p in edited if p.root})
        names = ", ".join(sorted(one_line(p.name) for p in edited))
        out.append(
            f"Edits the repository's own Terraform in place for"
            f" {plural(len(edited), 'security group')} ({names}), in {', '.join(roots)}, in"
            " the style each is written in."
        )
    if by_hand:
        out.append(
            f"Left to a person: {', '.join(sorted(one_line(p.name) for p in by_hand))} (the"
            " pull request says what to change)."
        )
    return out


def commit_message(
    plan: Plan,
    module: TerraformModule | None,
    directory: str,
    placements: Sequence[Placement] = (),
) -> str:
    """Subject, blank line, a body wrapped at 72 columns (phase 1)."""
    before, after = plan.exposure.before, plan.exposure.after
    weights = weights_text(before, after)
    v = plan.verification
    paragraphs = []
    if module is not None:
        counts = _counts(module)
        paragraphs.append(
            f"Phase 1 of the rollout: adopts {plural(counts['keep'], 'existing rule')} with"
            f" import blocks, adds {plural(counts['add'], 'rule')}, and holds the"
            f" {plural(counts['remove'], 'rule')} to remove in pending_removal.tf (deleting it"
            " and pending_removal_imports.tf is phase 2)."
        )
    else:
        paragraphs.append(
            "Phase 1 of the rollout: adds the narrow rules (and adopts rules the code"
            " lacks), takes nothing away; phase 2 removes the broad rules."
        )
    paragraphs += _edited_paragraph(placements)
    paragraphs += [
        f"Exposure: {before.combinations:,} -> {after.combinations:,} allowed (source, ENI,"
        f" protocol, port) combinations; {before.internet_reachable_count:,} ->"
        f" {after.internet_reachable_count:,} internet-reachable ENI:ports"
        + (f" (weighted by the public space they admit: {weights})" if weights else "")
        + ".",
        f"Verification: {plural(v.replayed, 'observed conversation')} replayed,"
        f" {v.blocked:,} blocked, {v.intentionally_blocked:,} blocked on purpose"
        + (
            f"; the evidence is incomplete ({skipped})." if (skipped := skipped_text(plan)) else "."
        ),
    ]
    if module is not None:
        names = sorted({one_line(r.spec.group.name) for r in module.rules})
        group_count = len({r.spec.group.group_id for r in module.rules})
        paragraphs += [
            f"Security groups ({group_count}): {', '.join(names)}.",
            f"Files: {directory}/ (PULL_REQUEST.md there explains the change).",
        ]
    subject = "ztflows: least-privilege security groups"
    if plan.window_start is not None and plan.window_end is not None:
        subject += f", {day(plan.window_start)} to {last_day(plan.window_end)}"
    return f"{subject}\n\n{_wrap(paragraphs)}\n"


def phase_two_message(plan: Plan, placements: Sequence[Placement], directory: str) -> str:
    """The phase 2 commit: the broad rules go."""
    paragraphs = [
        "Phase 2 of the rollout: removes the rules the plan replaces, now that phase 1's"
        " narrow rules carry the traffic (apply it only after observing phase 1 with"
        " ztflows check).",
        *_edited_paragraph(placements),
    ]
    if any(p.outcome == "standalone" for p in placements):
        paragraphs.append(
            f"Standalone module: deletes {directory}/pending_removal.tf and"
            f" {directory}/pending_removal_imports.tf."
        )
    subject = "ztflows: phase 2, remove the broad rules"
    if plan.window_start is not None and plan.window_end is not None:
        subject += f", {day(plan.window_start)} to {last_day(plan.window_end)}"
    return f"{subject}\n\n{_wrap(paragraphs)}\n"
