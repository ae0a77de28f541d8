"""``evaluate_rules``: today's rules against the observed conversations.

For every accepted edge, which rules allow each side (all matches) and the narrowest
one it is attributed to; for every rule, its usage counted over every match; which
rules are unused or overshadowed; accepted edges today's rules do not explain; the
flow-log coverage of every group; and the findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Literal

import polars as pl

from zt_flows.findings import Finding
from zt_flows.inventory.coverage import has_flow_log_configuration, interface_coverage
from zt_flows.inventory.model import Inventory
from zt_flows.rules.edges import Edge, edges_from_frame
from zt_flows.rules.evaluate import DIRECTIONS, EdgeVerdict, Evaluator, sides
from zt_flows.rules.facts import NetworkFacts
from zt_flows.rules.nat_services import NatServiceTraffic
from zt_flows.rules.semantics import RuleSet, RuleSpec
from zt_flows.settings import RecommendSettings, TimeWindow

Coverage = Literal["observed", "uncovered", "unlogged", "unattached"]


@dataclass(frozen=True)
class RuleUsage:
    """What one of today's rules matched in the window (every match counts)."""

    rule: RuleSpec
    edges: int  # distinct conversations (client, server, protocol, port)
    flows: int
    bytes: int
    packets: int
    connections: int
    first_seen: datetime | None
    last_seen: datetime | None
    days_seen: int
    clients: tuple[str, ...]
    servers: tuple[str, ...]
    ports: tuple[int, ...]
    # Conversations for which it was the narrowest matching rule.
    attributed_edges: int = 0
    attributed_flows: int = 0
    # When it matched traffic but was never the narrowest: the rules that were.
    overshadowed_by: tuple[str, ...] = ()

    @property
    def unused(self) -> bool:
        return self.edges == 0

    @property
    def overshadowed(self) -> bool:
        return self.edges > 0 and self.attributed_edges == 0


@dataclass(frozen=True)
class GroupCoverage:
    """Which of a group's current members the flow logs saw, completely.

    A member is observed when it wrote records in the window (NODATA counts: a logged
    interface writes one for each quiet interval) and, where the snapshot holds the
    flow-log configuration, an ALL-traffic flow log covered it for the whole window.
    ``gaps`` names each member the configuration does not cover, and why.
    """

    group_id: str
    members: tuple[str, ...]
    logged: tuple[str, ...]
    gaps: tuple[tuple[str, str], ...] = ()  # (member, why its traffic is not all logged)
    configured: bool = False  # whether the flow-log configuration was known for every member

    @property
    def unlogged(self) -> tuple[str, ...]:
        return tuple(m for m in self.members if m not in set(self.logged))

    @property
    def uncovered(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.gaps)

    @property
    def status(self) -> Coverage:
        if not self.members:
            return "unattached"
        if self.gaps:
            return "uncovered"
        return "unlogged" if self.unlogged else "observed"


@dataclass(frozen=True)
class RuleAnalysis:
    rules: tuple[RuleUsage, ...]  # every rule of every group, by group then rule key
    verdicts: tuple[EdgeVerdict, ...]  # every accepted edge, in input order
    unexplained: tuple[EdgeVerdict, ...]  # accepted, but today's rules deny a side
    not_evaluable: tuple[EdgeVerdict, ...]  # accepted, a side could not be decided
    rejected: tuple[Edge, ...]  # edges with rejected requests
    coverage: Mapping[str, GroupCoverage]
    days: tuple[date, ...]  # the days the edges cover
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    # Rules that cannot be evaluated here (rule key -> why): never "unused", always kept.
    unevaluable: Mapping[str, str] = field(default_factory=dict)
    _by_key: Mapping[str, RuleUsage] = field(default_factory=dict, repr=False, compare=False)

    def usage(self, rule_key: str) -> RuleUsage:
        return self._by_key[rule_key]

    def group_rules(self, group_id: str) -> tuple[RuleUsage, ...]:
        return tuple(u for u in self.rules if u.rule.group_id == group_id)


class _Tally:
    def __init__(self) -> None:
        self.conversations: set[tuple[object, ...]] = set()
        self.edges: set[int] = set()
        self.flows = self.bytes = self.packets = self.connections = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.days: set[date] = set()
        self.clients: set[str] = set()
        self.servers: set[str] = set()
        self.ports: set[int] = set()
        self.attributed: set[tuple[object, ...]] = set()
        self.attributed_flows = 0
        self.shadowing: set[str] = set()

    def add(self, index: int, edge: Edge) -> None:
        if index in self.edges:
            return
        self.edges.add(index)
        self.conversations.add(edge.conversation)
        self.flows += edge.accepted
        self.bytes += edge.bytes
        self.packets += edge.packets
        self.connections += edge.connections
        if edge.first_seen is not None and (self.first is None or edge.first_seen < self.first):
            self.first = edge.first_seen
        if edge.last_seen is not None and (self.last is None or edge.last_seen > self.last):
            self.last = edge.last_seen
        self.days.add(edge.day)
        self.clients.add(edge.client.id)
        self.servers.add(edge.server.id)
        self.ports.add(edge.server_port)

    def usage(self, rule: RuleSpec) -> RuleUsage:
        shadowed = bool(self.conversations) and not self.attributed
        return RuleUsage(
            rule=rule,
            edges=len(self.conversations),
            flows=self.flows,
            bytes=self.bytes,
            packets=self.packets,
            connections=self.connections,
            first_seen=self.first,
            last_seen=self.last,
            days_seen=len(self.days),
            clients=tuple(sorted(self.clients)),
            servers=tuple(sorted(self.servers)),
            ports=tuple(sorted(self.ports)),
            attributed_edges=len(self.attributed),
            attributed_flows=self.attributed_flows,
            overshadowed_by=tuple(sorted(self.shadowing)) if shadowed else (),
        )


def logged_from_edges(edges: Iterable[Edge]) -> frozenset[str]:
    """The ENIs that logged some edge (its vantage): a fallback when records are not at hand."""
    out = set()
    for edge in edges:
        if edge.vantage == "server" and edge.server.is_eni:
            out.add(edge.server.id)
        elif edge.vantage == "client" and edge.client.is_eni:
            out.add(edge.client.id)
    return frozenset(out)


def group_coverage(
    facts: NetworkFacts,
    logged: frozenset[str],
    window: tuple[datetime, datetime] | None = None,
) -> dict[str, GroupCoverage]:
    """Each group's members, which of them wrote records, and (with a ``window`` and the
    flow-log configuration in the snapshot) which of them no ALL-traffic flow log covered
    for the whole window. Without the configuration, writing records is all there is."""
    covered = (
        interface_coverage(facts.inventory, window[0], window[1])
        if window is not None and has_flow_log_configuration(facts.inventory)
        else {}
    )
    out = {}
    for group_id in facts.inventory.security_groups:
        members = facts.members.get(group_id, ())
        found = [covered.get(m) for m in members]
        gaps = tuple(
            (m, c.reason) for m, c in zip(members, found, strict=True) if c and not c.covered
        )
        out[group_id] = GroupCoverage(
            group_id,
            members,
            tuple(m for m in members if m in logged),
            gaps=gaps,
            configured=bool(members) and all(c is not None and c.configured for c in found),
        )
    return out


def analysis_window(
    days: Iterable[date], window: TimeWindow | None
) -> tuple[datetime, datetime] | None:
    """The window coverage is judged over: the one asked for, else the days observed."""
    ordered = sorted(days)
    start = window.since if window is not None else None
    end = window.until if window is not None else None
    if ordered:
        first, last = ordered[0], ordered[-1]
        start = start or datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = end or datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return (start, end) if start is not None and end is not None and start < end else None


def evaluate_rules(
    edges: pl.DataFrame | Iterable[Edge],
    inventory: Inventory,
    settings: RecommendSettings,
    *,
    logged_interfaces: frozenset[str] | None = None,
    window: TimeWindow | None = None,
    nat_traffic: tuple[NatServiceTraffic, ...] = (),
) -> RuleAnalysis:
    """Decide every accepted edge against today's rules and measure every rule's use.

    ``logged_interfaces`` are the ENIs that wrote any flow-log record (NODATA included);
    without it, the ENIs that logged some edge stand in. ``window`` (default: the days of
    the edges) is what flow-log coverage is judged over. ``nat_traffic`` is what NAT
    gateways carried to AWS services (``rules.nat_services``), for its finding.
    """
    from zt_flows.rules.detect import detect_findings

    edge_list = edges_from_frame(edges) if isinstance(edges, pl.DataFrame) else tuple(edges)
    facts = NetworkFacts(inventory)
    ruleset = RuleSet.from_inventory(inventory)
    evaluator = Evaluator(facts, ruleset)
    logged = logged_from_edges(edge_list) if logged_interfaces is None else logged_interfaces

    tallies = {rule.key: _Tally() for rule in ruleset.rules}
    verdicts = []
    for index, edge in enumerate(edge_list):
        if not edge.was_accepted:
            continue
        verdict = evaluator.evaluate(edge)
        verdicts.append(verdict)
        for direction in DIRECTIONS:
            side = verdict.side(direction)
            for key in side.matched:
                tallies[key].add(index, edge)
            attributed = set(side.attributed)
            for key in attributed:
                tallies[key].attributed.add(edge.conversation)
                tallies[key].attributed_flows += edge.accepted
            for key in side.matched:
                if key not in attributed:
                    tallies[key].shadowing.update(attributed)

    usages = tuple(
        tallies[rule.key].usage(rule)
        for rule in sorted(ruleset.rules, key=lambda r: (r.group_id, r.direction, r.key))
    )
    days = tuple(sorted({e.day for e in edge_list}))
    analysis = RuleAnalysis(
        rules=usages,
        verdicts=tuple(verdicts),
        unexplained=tuple(v for v in verdicts if v.verdict == "denied"),
        not_evaluable=tuple(v for v in verdicts if v.verdict == "not_evaluable"),
        rejected=tuple(e for e in edge_list if e.rejected > 0),
        coverage=group_coverage(facts, logged, analysis_window(days, window)),
        days=days,
        notes=_notes(facts, ruleset),
        unevaluable=unevaluable_rules(facts, ruleset),
        _by_key={u.rule.key: u for u in usages},
    )
    findings = detect_findings(analysis, facts, settings, nat_traffic=nat_traffic)
    return replace(analysis, findings=findings)


def unevaluable_rules(facts: NetworkFacts, ruleset: RuleSet) -> dict[str, str]:
    """Rules whose peer the inventory cannot resolve, by key, with why.

    A reference to a group the inventory does not describe (another account's, or one
    deleted since) and a prefix list it does not hold or holds empty match nothing here,
    though AWS may match plenty: such a rule is never judged unused, and it is kept.
    """
    out: dict[str, str] = {}
    owners = {r.id: r.referenced_group_owner_id for r in facts.inventory.rules if r.id is not None}
    for rule in ruleset.rules:
        peer = rule.peer
        if peer.kind == "security_group" and peer.value not in facts.inventory.security_groups:
            owner = owners.get(rule.rule_id) if rule.rule_id else None
            where = f" of account {owner}" if owner else ""
            out[rule.key] = f"it names {peer.value}{where}, a group the inventory does not describe"
        elif peer.kind == "prefix_list":
            nets = facts.prefix_list_networks(peer.value)
            if nets is None:
                out[rule.key] = f"it names prefix list {peer.value}, which the inventory lacks"
            elif not nets:
                out[rule.key] = f"it names prefix list {peer.value}, which has no entries"
    return out


def _notes(facts: NetworkFacts, ruleset: RuleSet) -> tuple[str, ...]:
    missing = sorted(
        {
            r.peer.value
            for r in ruleset.rules
            if r.peer.kind == "prefix_list" and facts.prefix_list_networks(r.peer.value) is None
        }
    )
    return tuple(
        f"prefix list {pl_id} is not in the inventory: rules referencing it match nothing"
        " here and are kept as they are"
        for pl_id in missing
    )


__all__ = [
    "Coverage",
    "GroupCoverage",
    "RuleAnalysis",
    "RuleUsage",
    "evaluate_rules",
    "logged_from_edges",
    "sides",
    "unevaluable_rules",
]
