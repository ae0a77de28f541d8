"""What the report shows, computed once for both formats.

:class:`ReportInput` is everything the analysis hands over; :func:`report_view` turns
it into plain values (numbers, sorted tuples, :class:`Ref` names) so the Markdown and
HTML renderers only lay out the same facts and cannot disagree about them. Nothing
here formats markup or escapes: the renderers do that.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import networkx as nx
import polars as pl

from zt_flows import __version__
from zt_flows.conversations.build import ConversationReport
from zt_flows.findings import Finding, SuppressedFinding
from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import KEPT_FOR, BlockedConversation, Plan
from zt_flows.recommend.safety import KEPT_WORDS
from zt_flows.report.coverage import CoverageView, coverage_view
from zt_flows.report.matrix import ReachMatrix, reach_matrix
from zt_flows.report.names import Names, Ref
from zt_flows.report.network import GraphData, graph_data
from zt_flows.report.reach import (
    ALARMING,
    ReachStatus,
    reach_rows,
    weight_text,
    weights_text,
)
from zt_flows.report.sections import (
    GraphLink,
    GroupView,
    Talker,
    graph_links,
    graph_svg,
    group_views,
    security_group_graph,
    top_talkers,
)
from zt_flows.report.timeline import ConversationHours, TimelineView, timeline_views
from zt_flows.settings import SEVERITIES
from zt_flows.sources.model import IngestSummary
from zt_flows.text import INTERNET_WEIGHT_LABELS, window_days, window_text
from zt_flows.vocabulary import conversation_label

LIST_LIMIT = 25  # rows of a long list shown before "and N more"


@dataclass(frozen=True)
class ReportInput:
    """Everything the report shows; built by the analyze command (or a notebook)."""

    plan: Plan
    findings: tuple[Finding, ...]
    edges: pl.DataFrame  # the edge table (EDGE_SCHEMA)
    inventory: Inventory
    logged_interfaces: frozenset[str]  # interface ids with any record (NODATA included)
    ingest: IngestSummary | None = None
    conversations: ConversationReport | None = None
    graph_svg: str | None = None  # the security-group graph picture (zt_flows.graph)
    # The security-group graph of the accepted traffic the picture draws (build_graph, then
    # drop_rejected_only): given by whoever drew the picture, built from the edges otherwise.
    graph: nx.DiGraph | None = None
    title: str = "Least-privilege security groups"
    # What the inventory and the flow logs say that cannot all be true (inventory.consistency).
    warnings: tuple[str, ...] = ()
    # Findings the configuration accepts on purpose (ztflows.toml [[suppressions]]).
    suppressed: tuple[SuppressedFinding, ...] = ()
    # The busiest conversations hour by hour (report.timeline.hourly_timelines).
    timelines: tuple[ConversationHours, ...] = ()


@dataclass(frozen=True)
class Reach:
    """An ENI port range reachable from the internet before and/or after the change."""

    eni: Ref
    port: str
    before: str  # what its ports admitted: "all IPv4, all IPv6", "2 IPv4 addresses", "–"
    after: str
    status: ReachStatus


@dataclass(frozen=True)
class Blocked:
    client: Ref
    server: Ref
    port: str
    flows: int
    reason: str
    group: Ref | None


@dataclass(frozen=True)
class BlockedSummary:
    """Conversations blocked on purpose that share a server, a port and a reason."""

    server: Ref
    port: str
    reason: str
    conversations: int
    clients: int
    flows: int


@dataclass(frozen=True)
class Headline:
    window: str  # "2026-11-16 to 2026-11-18 (3 days)"
    window_days: int | None
    combinations_before: int
    combinations_after: int
    reachable_before: int
    reachable_after: int
    closed: int  # ENI:ports reachable from the internet today and not after the change
    opened: int  # ... newly reachable, or from more addresses (a reviewer must look at these)
    reach: tuple[Reach, ...]
    replayed: int
    blocked: int
    intentionally_blocked: int
    blocked_rows: tuple[Blocked, ...]
    intentional_summary: tuple[BlockedSummary, ...]
    intentional_rows: tuple[Blocked, ...]
    intentional_more: int
    kept: int
    added: int
    removed: int
    groups: int
    groups_changed: int
    severity_counts: tuple[tuple[str, int], ...]  # most severe first, zeros included

    narrowed: int = 0  # ... still reachable, on fewer ports or from fewer addresses
    # "IPv4 5.00 -> 2.00, IPv6 2.00 -> 2.00": reachable entries weighted by the share of
    # public space each admits; empty for a plan written before reach was measured.
    weights: str = ""
    weight_rows: tuple[tuple[str, str, str], ...] = ()  # (label, before, after), per family

    @property
    def reach_change(self) -> str:
        """``3 closed`` / ``2 closed, 1 narrowed, 1 newly reachable``."""
        text = f"{self.closed:,} closed"
        if self.narrowed:
            text += f", {self.narrowed:,} narrowed"
        return f"{text}, {self.opened:,} newly reachable" if self.opened else text

    @property
    def reduction(self) -> str | None:
        """``99.1% fewer``: how much the allowed combinations shrink."""
        before, after = self.combinations_before, self.combinations_after
        if before <= 0 or after > before:
            return None
        share = (before - after) / before
        if after and share > 0.999:
            return "over 99.9% fewer"  # never round a remaining exposure away to 100%
        return f"{share:.1%} fewer"


@dataclass(frozen=True)
class KeptRule:
    """A rule the plan keeps (or keeps the range of) for one of the safety reasons."""

    group: Ref
    rule: str  # "ingress tcp/22 from 0.0.0.0/0"
    reason: str  # the KeptFor value
    why: str  # the rule's own reason


@dataclass(frozen=True)
class KeptView:
    """What the plan kept rather than narrowed, and why (recommend/safety.py)."""

    counts: tuple[tuple[str, str, int], ...]  # (reason, what it means, rules), nonzero
    rules: tuple[KeptRule, ...]
    more: int
    probed: tuple[BlockedSummary, ...]  # probes of ports that stay open for sessions
    unexplained: tuple[Blocked, ...]
    ambiguous: int  # record groups read both ways
    records: int  # accepted records replayed
    basis: str  # "records" or "edges"

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.counts)


@dataclass(frozen=True)
class Detail:
    label: str
    value: str


@dataclass(frozen=True)
class FindingView:
    severity: str
    code: str
    title: str
    subject: Ref
    group: Ref | None
    message: str
    why: str
    details: tuple[Detail, ...]


@dataclass(frozen=True)
class SuppressedView:
    code: str
    title: str
    severity: str
    subject: Ref
    group: Ref | None
    reason: str
    expires: str | None


@dataclass(frozen=True)
class SeverityBlock:
    severity: str
    findings: tuple[FindingView, ...]


@dataclass(frozen=True)
class ReportView:
    title: str
    version: str
    headline: Headline
    findings: tuple[SeverityBlock, ...]
    finding_count: int
    suppressed: tuple[SuppressedView, ...]
    groups: tuple[GroupView, ...]
    graph_svg: str | None
    graph_links: tuple[GraphLink, ...]
    by_bytes: tuple[Talker, ...]
    by_flows: tuple[Talker, ...]
    coverage: CoverageView
    kept: KeptView
    graph_data: GraphData | None = None  # the interactive graph (report.html)
    matrix: ReachMatrix | None = None  # ingress reachability, group × port
    timelines: tuple[TimelineView, ...] = ()


def _kept(data: ReportInput, names: Names) -> KeptView:
    plan = data.plan
    counts = plan.kept_counts()
    rows = [
        KeptRule(
            group=names.group(g.group_id),
            rule=names.rule_text(g, r),
            reason=str(r.kept_for),
            why=r.reason,
        )
        for g in plan.security_groups
        for r in g.final_rules()
        if r.kept_for is not None
    ]
    order: dict[str, int] = {reason: i for i, reason in enumerate(KEPT_FOR)}
    rows.sort(key=lambda k: (order.get(k.reason, 0), k.group.sort_key, k.rule))
    probed = _blocked(names, plan.probed)
    return KeptView(
        counts=tuple((r, KEPT_WORDS[r], counts[r]) for r in KEPT_FOR if counts[r]),
        rules=tuple(rows[:LIST_LIMIT]),
        more=max(0, len(rows) - LIST_LIMIT),
        probed=_summary(probed),
        unexplained=_blocked(names, plan.unexplained)[:LIST_LIMIT],
        ambiguous=plan.ambiguous,
        records=plan.verification.records,
        basis=plan.verification.basis,
    )


def _blocked(names: Names, items: tuple[BlockedConversation, ...]) -> tuple[Blocked, ...]:
    rows = [
        Blocked(
            client=names.endpoint(b.client),
            server=names.endpoint(b.server),
            port=conversation_label(b.protocol, b.server_port),
            flows=b.flows,
            reason=b.reason,
            group=names.group(b.group_id) if b.group_id else None,
        )
        for b in items
    ]
    return tuple(
        sorted(
            rows,
            key=lambda b: (
                -b.flows,
                b.server.sort_key,
                b.port,
                b.client.sort_key,
                b.reason,
                b.group.sort_key if b.group else ("", ""),
            ),
        )
    )


def _summary(rows: tuple[Blocked, ...]) -> tuple[BlockedSummary, ...]:
    groups: dict[tuple[object, ...], list[Blocked]] = {}
    for b in rows:
        groups.setdefault((b.server.sort_key, b.port, b.reason), []).append(b)
    out = [
        BlockedSummary(
            server=items[0].server,
            port=items[0].port,
            reason=items[0].reason,
            conversations=len(items),
            clients=len({b.client for b in items}),
            flows=sum(b.flows for b in items),
        )
        for items in groups.values()
    ]
    return tuple(sorted(out, key=lambda s: (-s.flows, s.server.sort_key, s.port, s.reason)))


_REACH_ORDER: dict[ReachStatus, int] = {
    # Alarming first (a reviewer must look at them), then closed, narrowed, unchanged.
    "newly reachable": 0,
    "wider": 1,
    "closed": 2,
    "narrowed": 3,
    "unchanged": 4,
}


def _reach(names: Names, plan: Plan) -> tuple[Reach, ...]:
    rows = [
        Reach(names.eni(r.eni_id), r.ports, r.before, r.after, r.status)
        for r in reach_rows(plan.exposure.before, plan.exposure.after)
    ]
    return tuple(sorted(rows, key=lambda r: (_REACH_ORDER[r.status], r.eni.sort_key, r.port)))


def _weight_rows(plan: Plan) -> tuple[tuple[str, str, str], ...]:
    before, after = plan.exposure.before, plan.exposure.after
    if not (before.measured and after.measured):
        return ()
    return (
        (
            INTERNET_WEIGHT_LABELS["IPv4"],
            weight_text(before.internet_weight_ipv4),
            weight_text(after.internet_weight_ipv4),
        ),
        (
            INTERNET_WEIGHT_LABELS["IPv6"],
            weight_text(before.internet_weight_ipv6),
            weight_text(after.internet_weight_ipv6),
        ),
    )


def _headline(data: ReportInput, names: Names) -> Headline:
    plan = data.plan
    actions = Counter(r.action for g in plan.security_groups for r in g.rules)
    changed = sum(1 for g in plan.security_groups if any(r.action != "keep" for r in g.rules))
    intentional = _blocked(names, plan.intentionally_blocked)
    severities = Counter(f.severity for f in data.findings)
    v = plan.verification
    reach = _reach(names, plan)
    statuses = Counter(r.status for r in reach)
    return Headline(
        window=window_text(plan),
        window_days=window_days(plan),
        combinations_before=plan.exposure.before.combinations,
        combinations_after=plan.exposure.after.combinations,
        reachable_before=plan.exposure.before.internet_reachable_count,
        reachable_after=plan.exposure.after.internet_reachable_count,
        closed=statuses["closed"],
        opened=sum(statuses[s] for s in ALARMING),
        narrowed=statuses["narrowed"],
        weights=weights_text(plan.exposure.before, plan.exposure.after, "→"),
        weight_rows=_weight_rows(plan),
        reach=reach,
        replayed=v.replayed,
        blocked=v.blocked,
        intentionally_blocked=max(v.intentionally_blocked, len(plan.intentionally_blocked)),
        blocked_rows=_blocked(names, v.blocked_conversations),
        intentional_summary=_summary(intentional),
        intentional_rows=intentional[:LIST_LIMIT],
        intentional_more=max(0, len(intentional) - LIST_LIMIT),
        kept=actions["keep"],
        added=actions["add"],
        removed=actions["remove"],
        groups=len(plan.security_groups),
        groups_changed=changed,
        severity_counts=tuple((s, severities[s]) for s in reversed(SEVERITIES)),
    )


def _findings(data: ReportInput, names: Names) -> tuple[SeverityBlock, ...]:
    views: dict[str, list[FindingView]] = {}

    def order(f: Finding) -> tuple[object, ...]:
        return (f.sort_key(), f.group_id or "", f.rule_id or "", f.details)

    for f in sorted(data.findings, key=order):
        subject = names.subject(f.subject)
        group = names.group(f.group_id) if f.group_id and f.group_id != subject.id else None
        views.setdefault(f.severity, []).append(
            FindingView(
                severity=f.severity,
                code=f.code,
                title=f.kind.title,
                subject=subject,
                group=group,
                message=f.message,
                why=f.kind.why,
                details=tuple(Detail(k, names.expand(v)) for k, v in sorted(f.details)),
            )
        )
    return tuple(SeverityBlock(s, tuple(views[s])) for s in reversed(SEVERITIES) if s in views)


def report_view(data: ReportInput) -> ReportView:
    """The report's facts. The picture is ``data.graph_svg``, or drawn from the edges."""
    names = Names(data.plan, data.inventory, data.edges)
    graph = (
        data.graph if data.graph is not None else security_group_graph(data.edges, data.inventory)
    )
    if graph is not None and not graph.number_of_nodes():
        graph = None
    by_bytes, by_flows = top_talkers(data.edges, names)
    # The most severe finding about each group, so the page can filter groups by severity.
    worst: dict[str, int] = {}
    for f in data.findings:
        for group_id in {f.group_id, f.subject} - {None}:
            rank = SEVERITIES.index(f.severity)
            worst[str(group_id)] = max(worst.get(str(group_id), -1), rank)
    groups = tuple(
        replace(g, severity=SEVERITIES[worst[g.group.id]]) if g.group.id in worst else g
        for g in group_views(data.plan, data.inventory, data.logged_interfaces, names)
    )
    return ReportView(
        title=data.title,
        version=__version__,
        headline=_headline(data, names),
        findings=_findings(data, names),
        finding_count=len(data.findings),
        suppressed=tuple(
            SuppressedView(
                code=s.finding.code,
                title=s.finding.kind.title,
                severity=s.finding.severity,
                subject=names.subject(s.finding.subject),
                group=names.group(s.finding.group_id) if s.finding.group_id else None,
                reason=s.suppression.reason,
                expires=s.suppression.expires.isoformat() if s.suppression.expires else None,
            )
            for s in data.suppressed
        ),
        groups=groups,
        graph_svg=data.graph_svg if data.graph_svg is not None else graph_svg(graph),
        graph_links=graph_links(graph),
        by_bytes=by_bytes,
        by_flows=by_flows,
        coverage=coverage_view(
            data.plan,
            data.inventory,
            data.logged_interfaces,
            data.ingest,
            data.conversations,
            names,
            warnings=data.warnings,
        ),
        kept=_kept(data, names),
        graph_data=graph_data(graph, names),
        matrix=reach_matrix(data.plan, names),
        timelines=timeline_views(
            data.timelines, names, data.plan.window_start, data.plan.window_end
        ),
    )
