"""``recommend_rules``: the least-privilege rule set per security group, verified by replay.

Every observed access unit (accepted edge side and peer address) lives in the group
whose rule allowed it today, the narrowest when several did. Each group's rules are
rebuilt from its units, carved out of the rule each unit came from, so nothing is ever
wider than today. Groups whose members were not all logged, and groups attached to
nothing, keep their rules unchanged: no one removes access for traffic that could not
have been seen. The result is replayed against every observed accepted conversation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import polars as pl

from zt_flows.errors import VerificationError
from zt_flows.inventory.model import Direction, Inventory
from zt_flows.recommend.derive import Deriver, Proposal
from zt_flows.recommend.evidence import confidence_of, evidence_of, evidence_of_usage
from zt_flows.recommend.peers import rule_peer
from zt_flows.recommend.plan import (
    Evidence,
    Exposure,
    ExposureFigures,
    GroupPlan,
    InternetReach,
    Plan,
    PlannedRule,
    Verification,
)
from zt_flows.recommend.quota import fit_quota
from zt_flows.recommend.record import settings_record
from zt_flows.recommend.ruleset import groups_ruleset
from zt_flows.recommend.shapes import rule_within
from zt_flows.recommend.units import (
    PROBE_REASON,
    Unit,
    build_units,
    conversation_stats,
    is_probe,
)
from zt_flows.recommend.verify import ReplayError, replay
from zt_flows.rules.analysis import GroupCoverage, RuleAnalysis, group_coverage
from zt_flows.rules.describe import ports_label, rule_label
from zt_flows.rules.edges import Edge
from zt_flows.rules.evaluate import DIRECTIONS, Evaluator
from zt_flows.rules.exposure import ExposureCount, measure_exposure
from zt_flows.rules.facts import NetworkFacts
from zt_flows.rules.semantics import RuleSet, RuleSpec
from zt_flows.settings import RecommendSettings, TimeWindow

Slot = tuple[int, Direction, str]
Carrier = tuple[str, str]  # (group id, planned rule key)


def recommend_rules(
    edges: pl.DataFrame | Iterable[Edge],
    inventory: Inventory,
    analysis: RuleAnalysis,
    settings: RecommendSettings,
    *,
    logged_interfaces: frozenset[str],
    window: TimeWindow | None = None,
    onprem_cidrs: Sequence[str] = (),
) -> Plan:
    """Propose each group's rules from ``analysis`` and verify them by replay.

    ``logged_interfaces``: every ENI that wrote a flow-log record in the window (NODATA
    included). Raises :class:`VerificationError` if the proposal would block observed
    accepted traffic that today's rules allow (other than probes, blocked on purpose).
    """
    facts = NetworkFacts(inventory)
    today = RuleSet.from_inventory(inventory)
    coverage = group_coverage(facts, logged_interfaces)
    stats = conversation_stats(v.edge for v in analysis.verdicts)
    units = build_units(analysis, today)
    probe_slots = {
        u.slot for u in units if u.direction == "ingress" and is_probe(u.edge, stats, settings)
    }
    changing = {g for g, c in coverage.items() if c.status == "observed"}
    kept_units = [u for u in units if u.slot not in probe_slots]
    builder = _Builder(facts, today, analysis, settings, coverage, kept_units)

    groups = [builder.group(group_id, group_id in changing) for group_id in sorted(coverage)]
    groups = builder.link(groups, probe_slots)

    proposed = groups_ruleset(groups)
    evaluator = Evaluator(facts, proposed)
    probe_conversations = {u.edge.conversation for u in units if u.slot in probe_slots}

    def intended(edge: Edge) -> str | None:
        return PROBE_REASON if edge.conversation in probe_conversations else None

    result = replay(analysis, today, evaluator, intended)
    if result.blocked:
        raise ReplayError(result.blocked)
    before = measure_exposure(today, facts, onprem_cidrs=onprem_cidrs)
    after = measure_exposure(proposed, facts, onprem_cidrs=onprem_cidrs)
    start, end = _window(_days(edges), window)
    return Plan(
        window_start=start,
        window_end=end,
        security_groups=tuple(groups),
        exposure=Exposure(before=_figures(before), after=_figures(after)),
        verification=Verification(
            replayed=result.replayed,
            blocked=0,
            intentionally_blocked=result.intentional_edges,
        ),
        intentionally_blocked=result.intentional,
        settings=settings_record(settings),
    )


def _figures(count: ExposureCount) -> ExposureFigures:
    return ExposureFigures(
        combinations=count.combinations,
        internet_reachable=count.internet_reachable,
        internet_reach=tuple(
            InternetReach(
                entry=r.entry,
                ipv4_addresses=r.ipv4_addresses,
                ipv6_addresses=r.ipv6_addresses,
                ipv4_share=r.ipv4_share,
                ipv6_share=r.ipv6_share,
                peers=r.peers,
                services=r.services,
                unmeasured=r.unmeasured,
                path=r.path,
            )
            for r in count.reach
        ),
        public_ipv4=count.public_ipv4,
        public_ipv6=count.public_ipv6,
    )


def _days(edges: pl.DataFrame | Iterable[Edge]) -> tuple[date, date] | None:
    """The first and last day of the edge table."""
    if isinstance(edges, pl.DataFrame):
        if edges.is_empty():
            return None
        first, last = edges.get_column("day").min(), edges.get_column("day").max()
        assert isinstance(first, date)
        assert isinstance(last, date)
        return first, last
    days = sorted({e.day for e in edges})
    return (days[0], days[-1]) if days else None


def _window(
    days: tuple[date, date] | None, window: TimeWindow | None
) -> tuple[datetime | None, datetime | None]:
    """The plan's window: the one asked for, else the days the edges cover."""
    start = window.since if window is not None else None
    end = window.until if window is not None else None
    if days is not None:
        first, last = days
        start = start or datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = end or datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return start, end


class _Builder:
    def __init__(
        self,
        facts: NetworkFacts,
        today: RuleSet,
        analysis: RuleAnalysis,
        settings: RecommendSettings,
        coverage: dict[str, GroupCoverage],
        units: list[Unit],
    ) -> None:
        self.facts = facts
        self.inventory = facts.inventory
        self.today = today
        self.analysis = analysis
        self.settings = settings
        self.coverage = coverage
        self.window_days = len(analysis.days)
        self.deriver = Deriver(facts, settings, units)
        self.homes: dict[tuple[str, Direction], dict[str, list[Unit]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for unit in units:
            self.homes[(unit.home.group_id, unit.direction)][unit.home.key].append(unit)
        self.carriers: dict[Slot, set[Carrier]] = defaultdict(set)
        self.descriptions = {r.id: r.description for r in self.inventory.rules if r.id}
        self.removed: dict[tuple[str, str], str] = {}  # (group, planned key) -> today's key

    # ------------------------------------------------------------------ groups

    def group(self, group_id: str, changing: bool) -> GroupPlan:
        sg = self.inventory.security_groups[group_id]
        coverage = self.coverage[group_id]
        notes: list[str] = []
        rules: list[PlannedRule] = []
        for direction in DIRECTIONS:
            existing = self.today.of(group_id, direction)
            if changing:
                planned, more = self._propose(group_id, direction, existing)
                rules.extend(planned)
                notes.extend(more)
            else:
                rules.extend(self._unchanged(group_id, direction, existing, coverage))
        if coverage.status == "unlogged":
            notes.append(
                "members without flow-log records: "
                + ", ".join(coverage.unlogged)
                + "; rules kept as they are"
            )
        elif coverage.status == "unattached":
            notes.append("attached to nothing; rules kept as they are")
        return GroupPlan(
            group_id=group_id,
            name=sg.name,
            vpc_id=sg.vpc_id,
            rules=tuple(sorted(rules, key=PlannedRule.sort_key)),
            description=sg.description,
            owner_id=sg.owner_id,
            notes=tuple(notes),
            coverage=coverage.status,
        )

    def _unchanged(
        self,
        group_id: str,
        direction: Direction,
        existing: tuple[RuleSpec, ...],
        coverage: GroupCoverage,
    ) -> list[PlannedRule]:
        if coverage.status == "unattached":
            why = "kept as it is: the group is attached to nothing"
        else:
            why = (
                f"kept as it is: {len(coverage.unlogged)} of {len(coverage.members)} members "
                "have no flow-log records, so their traffic is unknown"
            )
        out = []
        for rule in existing:
            planned = self._keep(rule, evidence_of_usage(self.analysis.usage(rule.key)), why)
            for unit in self.homes[(group_id, direction)].get(rule.key, ()):
                self.carriers[unit.slot].add((group_id, planned.key))
            out.append(planned)
        return out

    def _keep(self, rule: RuleSpec, evidence: Evidence | None, reason: str) -> PlannedRule:
        return PlannedRule(
            direction=rule.direction,
            action="keep",
            protocol=rule.protocol_text,
            from_port=rule.from_port,
            to_port=rule.to_port,
            peer=rule_peer(self.facts, rule.peer, rule.group_id),
            reason=reason,
            existing_rule_id=rule.rule_id,
            evidence=evidence,
            description=self.descriptions.get(rule.rule_id) if rule.rule_id else None,
        )

    def _propose(
        self, group_id: str, direction: Direction, existing: tuple[RuleSpec, ...]
    ) -> tuple[list[PlannedRule], list[str]]:
        homes = {
            key: (self.today.by_key[key], units)
            for key, units in sorted(self.homes[(group_id, direction)].items())
        }
        unknown = [
            r
            for r in existing
            if r.peer.kind == "prefix_list"
            and self.facts.prefix_list_networks(r.peer.value) is None
        ]
        extra = len(unknown)
        proposals, notes = fit_quota(
            self.deriver, homes, self.settings.max_rules_per_direction, extra, self.facts
        )
        self._never_wider(proposals)
        by_signature = {r.signature: r for r in existing}
        planned: list[PlannedRule] = []
        kept: set[str] = set()
        for proposal in proposals:
            spec = proposal.spec()
            match = by_signature.get(spec.signature)
            rule = self._planned(proposal, match)
            if match is not None:
                kept.add(match.key)
            planned.append(rule)
            for unit in proposal.units:
                self.carriers[unit.slot].add((group_id, rule.key))
        for spec in unknown:
            if spec.key not in kept:
                kept.add(spec.key)
                reason = f"kept as it is: prefix list {spec.peer.value} is not in the inventory"
                planned.append(self._keep(spec, None, reason))
        planned.extend(self._remove(spec) for spec in existing if spec.key not in kept)
        return planned, notes

    def _never_wider(self, proposals: list[Proposal]) -> None:
        for proposal in proposals:
            spec = proposal.spec()
            for key in sorted(proposal.sources):
                if not rule_within(spec, self.today.by_key[key], self.facts):
                    raise VerificationError(
                        f"the proposed rule {spec.key} is wider than {key}, which it replaces",
                        hint="a bug in ztflows; the plan was not written. Please report it.",
                    )

    def _planned(self, proposal: Proposal, match: RuleSpec | None) -> PlannedRule:
        spec = proposal.spec()
        evidence = evidence_of(proposal.units)
        confidence, doubt = confidence_of(evidence, self.window_days, self.settings)
        if proposal.direction == "ingress":
            whom = f"from {len(evidence.clients)} client(s)"
        else:
            whom = f"to {len(evidence.servers)} server(s)"
        seen = (
            f"observed {evidence.flows} flows {whom} on "
            f"{evidence.days_seen} of {self.window_days} day(s)"
        )
        sources = sorted(proposal.sources)
        if match is not None:
            reason = f"{seen}; unchanged"
        else:
            labels = ", ".join(rule_label(self.inventory, self.today.by_key[k]) for k in sources)
            reason = f"{seen}; narrows {labels}"
        if doubt:
            reason += f"; low confidence: {doubt}"
        word_to = "from" if proposal.direction == "ingress" else "to"
        description = (
            self.descriptions.get(match.rule_id)
            if match is not None and match.rule_id
            else f"{ports_label(spec.protocol, spec.from_port, spec.to_port)} {word_to} "
            f"{proposal.peer.name or proposal.peer.value} (observed)"
        )
        return PlannedRule(
            direction=proposal.direction,
            action="keep" if match is not None else "add",
            protocol=spec.protocol_text,
            from_port=spec.from_port,
            to_port=spec.to_port,
            peer=proposal.peer,
            reason=reason,
            existing_rule_id=match.rule_id if match is not None else None,
            evidence=evidence,
            confidence=confidence,
            description=description,
            replaces=() if match is not None else tuple(self._ids(sources)),
        )

    def _ids(self, keys: Iterable[str]) -> list[str]:
        return sorted(self.today.by_key[k].rule_id or k for k in keys)

    def _remove(self, rule: RuleSpec) -> PlannedRule:
        usage = self.analysis.usage(rule.key)
        planned = PlannedRule(
            direction=rule.direction,
            action="remove",
            protocol=rule.protocol_text,
            from_port=rule.from_port,
            to_port=rule.to_port,
            peer=rule_peer(self.facts, rule.peer, rule.group_id),
            reason="unused in the window" if usage.unused else "",
            existing_rule_id=rule.rule_id,
            evidence=evidence_of_usage(usage),
            description=self.descriptions.get(rule.rule_id) if rule.rule_id else None,
        )
        self.removed[(rule.group_id, planned.key)] = rule.key
        return planned

    # ------------------------------------------------------------------ covered_by

    def link(self, groups: list[GroupPlan], probe_slots: set[Slot]) -> list[GroupPlan]:
        """Fill ``covered_by`` and the reasons of removed rules that carried traffic."""
        sides: dict[tuple[int, str], list[Slot]] = defaultdict(list)
        for slot in sorted(set(self.carriers) | probe_slots):
            sides[(slot[0], slot[1])].append(slot)
        matched: dict[str, set[tuple[int, str]]] = defaultdict(set)
        for index, verdict in enumerate(self.analysis.verdicts):
            for direction in DIRECTIONS:
                for key in verdict.side(direction).matched:
                    matched[key].add((index, direction))
        out = []
        for group in groups:
            rules = []
            for rule in group.rules:
                if rule.action != "remove" or rule.reason:
                    rules.append(rule)
                    continue
                key = self.removed[(group.group_id, rule.key)]
                slots = [s for side in sorted(matched[key]) for s in sides[side]]
                carriers = sorted({c for s in slots for c in self.carriers.get(s, ())})
                covered = [k if g == group.group_id else f"{g}/{k}" for g, k in carriers]
                probes = len({s[0] for s in slots if s in probe_slots})
                reason = f"its observed traffic is carried by {len(covered)} other rule(s)"
                if probes:
                    reason += f"; {probes} probe edge(s) are blocked on purpose"
                rules.append(replace(rule, reason=reason, covered_by=tuple(covered)))
            out.append(replace(group, rules=tuple(rules)))
        return out
