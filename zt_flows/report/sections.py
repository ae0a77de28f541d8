"""The report's longer sections as plain values: groups, the graph and top talkers.

Companion of ``view`` (which holds the input and the headline) and
``coverage``: every list is sorted here, so both renderers print the same rows
in the same order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx
import polars as pl

from zt_flows.graph import build_graph, drop_rejected_only, render_graph
from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import Evidence, GroupPlan, Plan, PlannedRule
from zt_flows.report.names import Names, Ref, role_text
from zt_flows.text import days_seen, plural, rule_words, utc, window_days
from zt_flows.vocabulary import conversation_label

EVIDENCE_LIMIT = 6  # clients or servers named in a rule's evidence before "+N more"
TOP_TALKERS = 10
GRAPH_PORTS = 8  # ports listed for one arrow of the graph before "+N"


def _ports(labels: Sequence[str]) -> str:
    shown = ", ".join(labels[:GRAPH_PORTS])
    return f"{shown} +{len(labels) - GRAPH_PORTS}" if len(labels) > GRAPH_PORTS else shown


@dataclass(frozen=True)
class EvidenceView:
    flows: int
    connections: int
    bytes: int
    first_seen: str
    last_seen: str
    days: str  # "2/3"
    clients: tuple[Ref, ...]
    clients_more: int
    servers: tuple[Ref, ...]
    servers_more: int


@dataclass(frozen=True)
class RuleView:
    action: str  # keep | add | remove
    words: str  # "ingress tcp/443 from"
    peer: Ref
    rule_id: str | None
    low_confidence: bool
    evidence: EvidenceView | None
    reason: str
    description: str | None
    related: tuple[str, ...]  # "replaces …", "carried by …"


@dataclass(frozen=True)
class GroupView:
    group: Ref
    anchor: str  # an HTML id made of [a-z0-9-] only
    vpc_id: str | None
    description: str | None
    coverage: str
    members: tuple[Ref, ...]
    notes: tuple[str, ...]  # the plan's notes, then coverage notes
    rules: tuple[RuleView, ...]
    kept: int
    added: int
    removed: int
    severity: str | None = None  # of its most severe finding


@dataclass(frozen=True)
class GraphLink:
    """One arrow of the security-group graph, for a table beside the picture."""

    client: Ref
    server: Ref
    ports: str
    flows: int
    bytes: int
    rejected_ports: str


@dataclass(frozen=True)
class Talker:
    client: Ref
    server: Ref
    port: str
    flows: int
    bytes: int
    days: int
    rejected: int


# --------------------------------------------------------------------------- groups


def anchor(group_id: str) -> str:
    return "group-" + re.sub(r"[^a-z0-9-]+", "-", group_id.lower()).strip("-")


def _evidence(ev: Evidence, names: Names, days: int | None) -> EvidenceView:
    clients, servers = names.refs(ev.clients), names.refs(ev.servers)
    return EvidenceView(
        flows=ev.flows,
        connections=ev.connections,
        bytes=ev.bytes,
        first_seen=utc(ev.first_seen),
        last_seen=utc(ev.last_seen),
        days=days_seen(ev.days_seen, days),
        clients=clients[:EVIDENCE_LIMIT],
        clients_more=max(0, len(clients) - EVIDENCE_LIMIT),
        servers=servers[:EVIDENCE_LIMIT],
        servers_more=max(0, len(servers) - EVIDENCE_LIMIT),
    )


def _related(group: GroupPlan, rule: PlannedRule, names: Names) -> tuple[str, ...]:
    out = []
    if rule.replaces:
        replaced = [
            f"{rule_id} ({names.name_of(rule_id)})" if names.name_of(rule_id) else rule_id
            for rule_id in rule.replaces
        ]
        out.append("replaces " + "; ".join(replaced))
    if rule.covered_by:
        carried = [names.rule_key(group.group_id, key) for key in rule.covered_by]
        out.append("carried by " + "; ".join(carried))
    return tuple(out)


def _rule_order(rule: PlannedRule) -> tuple[object, ...]:
    return (rule.direction != "ingress", *rule.sort_key()[1:], rule.reason)


def _coverage_notes(group: GroupPlan, members: Sequence[Ref], logged: frozenset[str]) -> list[str]:
    if group.coverage == "unlogged":
        return ["No flow-log records for its members: its rules are kept as they are."]
    if group.coverage == "uncovered":
        gaps = [n for n in group.notes if n.startswith("members not covered")]
        return [
            "Not every member is covered by an ALL-traffic flow log for the whole window:"
            " its rules are kept as they are.",
            *gaps,
        ]
    if group.coverage == "unattached":
        return ["Attached to no ENI: there was no traffic to observe."]
    silent = [m for m in members if m.id not in logged]
    if not silent:
        return []
    shown = ", ".join(f"{m.name} ({m.id})" if m.name else str(m.id) for m in silent)
    return [
        f"{len(silent)} of {plural(len(members), 'member')} wrote no flow-log record"
        f" in the window: {shown}."
    ]


def group_views(
    plan: Plan, inventory: Inventory, logged: frozenset[str], names: Names
) -> tuple[GroupView, ...]:
    days = window_days(plan)
    out = []
    for group in sorted(plan.security_groups, key=lambda g: (g.name, g.group_id)):
        members = tuple(
            sorted(
                (names.eni(e.id) for e in inventory.members_of(group.group_id)),
                key=lambda r: r.sort_key,
            )
        )
        rules = tuple(
            RuleView(
                action=r.action,
                words=rule_words(r.rule),
                peer=names.peer(r.peer, group.group_id),
                rule_id=r.existing_rule_id,
                low_confidence=r.confidence == "low",
                evidence=_evidence(r.evidence, names, days) if r.evidence else None,
                reason=r.reason,
                description=r.description,
                related=_related(group, r, names),
            )
            for r in sorted(group.rules, key=_rule_order)
        )
        out.append(
            GroupView(
                group=names.group(group.group_id),
                anchor=anchor(group.group_id),
                vpc_id=group.vpc_id,
                description=group.description,
                coverage=group.coverage,
                members=members,
                notes=(*group.notes, *_coverage_notes(group, members, logged)),
                rules=rules,
                kept=sum(1 for r in rules if r.action == "keep"),
                added=sum(1 for r in rules if r.action == "add"),
                removed=sum(1 for r in rules if r.action == "remove"),
            )
        )
    return tuple(out)


# --------------------------------------------------------------------------- traffic


def _node_ref(key: str, attrs: dict[str, object]) -> Ref:
    name = str(attrs.get("name") or key)
    if key.startswith("sg-"):
        return Ref(name, key, "security group")
    return Ref(name, None, role_text(str(attrs.get("kind") or "")))


def security_group_graph(edges: pl.DataFrame, inventory: Inventory) -> nx.DiGraph | None:
    """The security-group graph of the accepted traffic (None without any)."""
    if edges.height == 0:
        return None
    graph = drop_rejected_only(build_graph(edges, inventory, level="security_group"))
    return graph if graph.number_of_nodes() else None


def graph_svg(graph: nx.DiGraph | None) -> str | None:
    """The picture of ``graph`` (zt_flows.graph's SVG), or None without a graph."""
    return None if graph is None else render_graph(graph, "svg").decode("utf-8")


def graph_links(graph: nx.DiGraph | None) -> tuple[GraphLink, ...]:
    """The arrows of the security-group picture, as rows."""
    if graph is None:
        return ()
    rows = [
        GraphLink(
            client=_node_ref(u, graph.nodes[u]),
            server=_node_ref(v, graph.nodes[v]),
            ports=_ports(list(a.get("ports", []))),
            flows=int(a.get("flows", 0)),
            bytes=int(a.get("bytes", 0)),
            rejected_ports=_ports(list(a.get("rejected_ports", []))),
        )
        for u, v, a in graph.edges(data=True)
    ]
    return tuple(
        sorted(rows, key=lambda r: (r.client.sort_key, r.server.sort_key, r.ports, r.flows))
    )


_TALKER_KEYS = [
    "client_kind",
    "client_id",
    "server_kind",
    "server_id",
    "protocol",
    "server_port",
]


def top_talkers(edges: pl.DataFrame, names: Names) -> tuple[tuple[Talker, ...], tuple[Talker, ...]]:
    """The client -> server:port pairs with the most bytes, and with the most flows."""
    if edges.height == 0:
        return (), ()
    pairs = edges.group_by(_TALKER_KEYS).agg(
        pl.col("client_label").drop_nulls().min(),
        pl.col("server_label").drop_nulls().min(),
        pl.col("flows").sum(),
        pl.col("bytes").sum(),
        pl.col("rejected").sum(),
        pl.col("day").n_unique().alias("days"),
    )

    def top(first: str, second: str) -> tuple[Talker, ...]:
        ordered = pairs.sort(
            [first, second, *_TALKER_KEYS],
            descending=[True, True, *([False] * len(_TALKER_KEYS))],
        ).head(TOP_TALKERS)
        return tuple(
            Talker(
                client=names.side(r["client_kind"], r["client_id"], r["client_label"]),
                server=names.side(r["server_kind"], r["server_id"], r["server_label"]),
                port=conversation_label(int(r["protocol"]), int(r["server_port"])),
                flows=int(r["flows"]),
                bytes=int(r["bytes"]),
                days=int(r["days"]),
                rejected=int(r["rejected"]),
            )
            for r in ordered.iter_rows(named=True)
        )

    return top("bytes", "flows"), top("flows", "bytes")
