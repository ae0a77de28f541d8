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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import polars as pl

from zt_flows.errors import VerificationError
from zt_flows.inventory.consistency import require_plannable
from zt_flows.recommend.derive import Deriver, Proposal
from zt_flows.recommend.evidence import confidence_of, evidence_of, evidence_of_usage
from zt_flows.recommend.peers import rule_peer
from zt_flows.recommend.plan import (
    Evidence,
    Exposure,
    GroupPlan,
    KeptFor,
    Plan,
    PlannedRule,
    Verification,
    exposure_figures,
)
from zt_flows.recommend.quota import fit_quota
from zt_flows.recommend.record import settings_record
from zt_flows.recommend.ruleset import groups_ruleset
from zt_flows.recommend.safety import (
    KEPT_SHORT,
    PMTUD_REASON,
    admits_pmtud,
    first_reason,
    pmtud_specs,
)
from zt_flows.recommend.shapes import peer_within, rule_within
from zt_flows.recommend.units import (
    PROBE_REASON,
    Unit,
    build_units,
    conversation_stats,
    is_probe,
)
from zt_flows.recommend.verify import (
    RecordReplay,
    ReplayError,
    SideCheck,
    aggregate_blocked,
    checks_blocked,
    record_groups_from_frame,
    replay,
    replay_records,
)
from zt_flows.rules import (
    Edge,
    Evaluator,
    GroupCoverage,
    NetworkFacts,
    RuleAnalysis,
    RulePeer,
    RuleSet,
    RuleSpec,
    measure_exposure,
    rule_label,
    sides,
)
from zt_flows.scanners import SCANNER_REASON, Scanners
from zt_flows.settings import RecommendSettings
from zt_flows.vocabulary import DIRECTIONS, Direction, rule_ports_label

Slot = tuple[int, Direction, str]
Carrier = tuple[str, str]  # (group id, planned rule key)


def recommend_rules(
    analysis: RuleAnalysis,
    settings: RecommendSettings,
    *,
    onprem_cidrs: Sequence[str] = (),
    evidence: pl.DataFrame | None = None,
    groups_in_scope: frozenset[str] | None = None,
    scanner_cidrs: Sequence[str] = (),
) -> Plan:
    """Propose each group's rules from ``analysis`` and verify them by replay.

    The analysis brings what it was judged on: the inventory, today's rules, the interfaces
    that wrote flow-log records (NODATA included), the window, each group's coverage.
    ``evidence``: the accepted record groups (``Conversations.evidence``); the plan is
    replayed against them, whatever the orientation concluded, and keeps what they need.
    Without it only the conversations are replayed (``verification.basis``). Raises
    :class:`VerificationError` if the proposal would block observed accepted traffic that
    today's rules allow (other than probes, blocked on purpose).

    ``groups_in_scope``: the groups to plan for (None: all); the others keep today's rules
    and stay out of the plan. ``scanner_cidrs``: known scanners, whose conversations never
    shape a target's ingress rule and are blocked on purpose in the replay.
    """
    require_plannable(analysis.inventory)
    facts = analysis.facts
    today = analysis.ruleset
    coverage = dict(analysis.coverage)
    stats = conversation_stats(v.edge for v in analysis.verdicts)
    units = build_units(analysis, today)
    probe_slots = {
        u.slot for u in units if u.direction == "ingress" and is_probe(u.edge, stats, settings)
    }
    scanners = Scanners(tuple(scanner_cidrs))
    scanner_slots = {
        u.slot
        for u in units
        if u.direction == "ingress" and u.slot not in probe_slots and scanners.initiated(u.edge)
    }
    changing = {g for g, c in coverage.items() if c.status == "observed"}
    planned_ids = sorted(g for g in coverage if groups_in_scope is None or g in groups_in_scope)
    kept_units = [u for u in units if u.slot not in probe_slots and u.slot not in scanner_slots]
    probe_conversations = {u.edge.conversation for u in units if u.slot in probe_slots}

    def intended(edge: Edge) -> str | None:
        if edge.conversation in probe_conversations:
            return PROBE_REASON
        return SCANNER_REASON if scanners.initiated(edge) else None

    readings = record_groups_from_frame(evidence) if evidence is not None else ()
    now = Evaluator(facts, today)
    extra: list[Unit] = []
    pinned: dict[str, KeptFor] = {}
    records: RecordReplay | None = None
    for _ in range(_REPAIRS + 1):
        builder = _Builder(
            facts, today, analysis, settings, coverage, [*kept_units, *extra], pinned
        )
        groups = [builder.group(group_id, group_id in changing) for group_id in planned_ids]
        groups = builder.link(groups, probe_slots, scanner_slots)
        proposed = _with_untouched(groups_ruleset(groups), today)
        evaluator = Evaluator(facts, proposed)
        result = replay(analysis, today, evaluator, intended)
        if result.blocked:
            raise ReplayError(result.blocked)
        if not readings:
            break
        records = replay_records(readings, now, evaluator, intended)
        more_units = repair_units(records.blocked, facts, today, start=len(extra))
        more_pins: dict[str, KeptFor] = {
            key: "unexplained"
            for key in pins_for(records.unexplained, today)
            if key not in pinned and key in today.by_key
        }
        if not more_units and not more_pins:
            break
        extra.extend(more_units)
        pinned.update(more_pins)
    if records is not None and records.blocked:
        raise ReplayError(checks_blocked(records.blocked, "no rule of the plan allows it"))
    before = measure_exposure(today, facts, onprem_cidrs=onprem_cidrs)
    after = measure_exposure(proposed, facts, onprem_cidrs=onprem_cidrs)
    start, end = analysis.observed_window()
    blocked_probes = {(b.client, b.server, b.protocol, b.server_port) for b in result.intentional}
    probed = aggregate_blocked(
        (u.edge, u.home.group_id, PROBED_REASON)
        for u in units
        if u.slot in probe_slots
        and (u.edge.client.id, u.edge.server.id, u.edge.protocol, u.edge.server_port)
        not in blocked_probes
    )
    return Plan(
        window_start=start,
        window_end=end,
        security_groups=tuple(groups),
        exposure=Exposure(before=exposure_figures(before), after=exposure_figures(after)),
        verification=Verification(
            replayed=result.replayed,
            blocked=0,
            intentionally_blocked=result.intentional_edges,
            records=records.records if records is not None else 0,
            readings=records.readings if records is not None else 0,
            unexplained=len({c.reading.row_id for c in records.unexplained}) if records else 0,
            basis="records" if records is not None else "edges",
        ),
        intentionally_blocked=result.intentional,
        probed=probed,
        unexplained=(
            checks_blocked(records.unexplained, "today's rules do not allow it either")
            if records is not None
            else ()
        ),
        ambiguous=records.ambiguous if records is not None else 0,
        settings=settings_record(settings, onprem_cidrs=onprem_cidrs),
    )


def _with_untouched(planned: RuleSet, today: RuleSet) -> RuleSet:
    """The plan's rules, plus today's rules of groups the plan cannot hold (no snapshot
    describes them): Terraform leaves those alone, so the replay must too."""
    untouched = [r for r in today.rules if r.group_id not in planned.groups]
    if not untouched:
        return planned
    return RuleSet((*planned.rules, *untouched), planned.groups | today.groups)


# How many times the record replay may send the recommender back for what it needs: one
# round adds every needed side; a second finding more would be a bug.
_REPAIRS = 2
PROBED_REASON = (
    "probe: only handshakes from the internet on an admin port; the rule stays open for the"
    " sessions that use it"
)


def repair_units(
    blocked: Iterable[SideCheck], facts: NetworkFacts, today: RuleSet, *, start: int
) -> list[Unit]:
    """Units for the sides the record replay needs and the plan lost, homed like any other.

    Their indexes are negative (they are no edge of the analysis). A side of a record group
    read both ways is kept for ``ambiguous_orientation``.
    """
    out: list[Unit] = []
    seen: set[tuple[object, ...]] = set()
    for check in blocked:
        for address, key in check.today.homes:
            identity = (check.reading.row_id, check.reading.reading, check.direction, address)
            if identity in seen or key not in today.by_key:
                continue
            seen.add(identity)
            kept: KeptFor | None = "ambiguous_orientation" if check.ambiguous else None
            out.append(
                Unit(
                    -(start + len(out) + 1),
                    check.reading.edge,
                    check.direction,
                    address,
                    today.by_key[key],
                    kept_for=kept,
                )
            )
    return out


def pins_for(unexplained: Iterable[SideCheck], today: RuleSet) -> set[str]:
    """Today's rules of the groups on a side of unexplained traffic that cover its port.

    Today's rules do not allow that traffic, yet AWS accepted it: whatever did is not what
    the snapshot shows, so every rule that could be it stays as it is.
    """
    out: set[str] = set()
    for check in unexplained:
        local = sides(check.reading.edge, check.direction)[0]
        edge = check.reading.edge
        for group_id in local.sgs:
            for rule in today.of(group_id, check.direction):
                if rule.covers(edge.protocol, edge.server_port):
                    out.add(rule.key)
    return out


class _Builder:
    def __init__(
        self,
        facts: NetworkFacts,
        today: RuleSet,
        analysis: RuleAnalysis,
        settings: RecommendSettings,
        coverage: dict[str, GroupCoverage],
        units: list[Unit],
        pinned: Mapping[str, KeptFor],
    ) -> None:
        self.facts = facts
        # Today's rules that stay as they are, and why (beside the unevaluable ones).
        self.pinned = dict(pinned)
        for key in analysis.unevaluable:
            self.pinned.setdefault(key, "unevaluable")
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
        self.owners = {
            r.id: r.referenced_group_owner_id
            for r in self.inventory.rules
            if r.id and r.referenced_group_owner_id
        }
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
        if coverage.status == "uncovered":
            notes.append(
                "members not covered by an ALL-traffic flow log for the whole window: "
                + "; ".join(f"{member}: {why}" for member, why in coverage.gaps)
                + "; rules kept as they are"
            )
        elif coverage.status == "unlogged":
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
        elif coverage.status == "uncovered":
            why = (
                f"kept as it is: {len(coverage.uncovered)} of {len(coverage.members)} members "
                "are not covered by an ALL-traffic flow log for the whole window, so their "
                "traffic is not all known"
            )
        else:
            why = (
                f"kept as it is: {len(coverage.unlogged)} of {len(coverage.members)} members "
                "have no flow-log records, so their traffic is unknown"
            )
        kept_for: KeptFor | None = (
            "not_covered" if coverage.status in ("uncovered", "unlogged") else None
        )
        out = []
        for rule in existing:
            usage = evidence_of_usage(self.analysis.usage(rule.key))
            planned = self._keep(rule, usage, why, kept_for=kept_for)
            for unit in self.homes[(group_id, direction)].get(rule.key, ()):
                self.carriers[unit.slot].add((group_id, planned.key))
            out.append(planned)
        return out

    def _keep(
        self,
        rule: RuleSpec,
        evidence: Evidence | None,
        reason: str,
        kept_for: KeptFor | None = None,
    ) -> PlannedRule:
        return PlannedRule(
            rule=replace(rule, peer=self._peer(rule)),
            action="keep",
            reason=reason,
            evidence=evidence,
            description=self.descriptions.get(rule.rule_id) if rule.rule_id else None,
            kept_for=kept_for,
        )

    def _peer(self, rule: RuleSpec) -> RulePeer:
        """Today's peer of ``rule``, in the plan's form; a reference to a group of another
        account keeps that account even when the inventory does not describe the group."""
        peer = rule_peer(self.facts, rule.peer, rule.group_id)
        owner = self.owners.get(rule.rule_id) if rule.rule_id else None
        if peer.kind == "security_group" and peer.owner_id is None and owner is not None:
            group = self.inventory.security_groups.get(rule.group_id)
            if group is None or group.owner_id != owner:
                peer = replace(peer, owner_id=owner)
        return peer

    def _propose(
        self, group_id: str, direction: Direction, existing: tuple[RuleSpec, ...]
    ) -> tuple[list[PlannedRule], list[str]]:
        homes = {
            key: (self.today.by_key[key], units)
            for key, units in sorted(self.homes[(group_id, direction)].items())
        }
        fixed = {r.key for r in existing if r.key in self.pinned}
        unevaluable = [r for r in existing if r.key in fixed and r.key not in homes]
        extra = sum(self._weight(r) for r in unevaluable)
        proposals, notes = fit_quota(
            self.deriver,
            homes,
            self.settings.max_rules_per_direction,
            extra,
            self.facts,
            fixed=fixed,
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
        for spec in unevaluable:
            if spec.key not in kept:
                kept.add(spec.key)
                reason = self.pinned[spec.key]
                why = self.analysis.unevaluable.get(spec.key) or KEPT_SHORT[reason]
                usage = evidence_of_usage(self.analysis.usage(spec.key))
                planned.append(self._keep(spec, usage, f"kept as it is: {why}", kept_for=reason))
        final = [r.rule for r in planned]
        for rule, match in self._other_family(group_id, direction, planned, existing):
            if match is not None:
                kept.add(match.key)
            planned.append(rule)
            final.append(rule.rule)
        for spec in existing:
            for pmtud in pmtud_specs(spec, self.facts):
                if any(
                    admits_pmtud(f, pmtud) and peer_within(spec.peer, f.peer, self.facts)
                    for f in final
                ):
                    continue
                rule = self._pmtud(spec, pmtud, by_signature)
                if rule.existing_rule_id is not None:
                    kept.add(by_signature[rule.rule.signature].key)
                planned.append(rule)
                final.append(rule.rule)
        planned.extend(self._remove(spec) for spec in existing if spec.key not in kept)
        return planned, notes

    def _other_family(
        self,
        group_id: str,
        direction: Direction,
        planned: list[PlannedRule],
        existing: tuple[RuleSpec, ...],
    ) -> list[tuple[PlannedRule, RuleSpec | None]]:
        """A dual-stack listener's clients in the other address family, kept.

        The internet clients of a listener are one open population whichever family they
        use: where the plan keeps a port open to 0.0.0.0/0 (or ::/0) and today's rules also
        open it to the other family's whole internet, and a member holds an address of
        that family, the port stays open to that family too, even if no such client came
        in the window.
        """
        if direction != "ingress":
            return []
        members = [self.facts.current[m] for m in self.facts.members.get(group_id, ())]
        has_v6 = any(eni.ipv6s for eni in members)
        finals = [r.rule for r in planned if r.action != "remove"]
        out: list[tuple[PlannedRule, RuleSpec | None]] = []
        for rule in finals:
            if not rule.peer.is_public_any or rule.protocol is None:
                continue
            other = "::/0" if rule.peer.value == "0.0.0.0/0" else "0.0.0.0/0"
            if other == "::/0" and not has_v6:
                continue
            wanted = RuleSpec(
                group_id, "ingress", rule.protocol, rule.from_port, rule.to_port,
                RulePeer("cidr", other),
            )  # fmt: skip
            if any(rule_within(wanted, f, self.facts) for f in finals):
                continue
            homes = [r for r in existing if rule_within(wanted, r, self.facts)]
            if not homes:
                continue
            home = min(homes, key=lambda r: (r.ports_size(), r.key))
            ports = rule_ports_label(wanted.protocol, wanted.from_port, wanted.to_port)
            match = next((r for r in existing if r.signature == wanted.signature), None)
            why = (
                "dual-stack: the listener's clients over the other address family are the same"
                " open population"
            )
            if match is not None:
                usage = evidence_of_usage(self.analysis.usage(match.key))
                out.append((self._keep(match, usage, why, kept_for="open_population"), match))
                continue
            out.append(
                (
                    PlannedRule(
                        rule=wanted,
                        action="add",
                        reason=f"{why}; narrows {rule_label(self.inventory, home)}",
                        description=f"{ports} from {other} (dual-stack)",
                        replaces=tuple(self._ids([home.key])),
                        kept_for="open_population",
                    ),
                    None,
                )
            )
            finals.append(wanted)
        return out

    def _weight(self, rule: RuleSpec) -> int:
        if rule.peer.kind == "prefix_list":
            pl = self.facts.prefix_list(rule.peer.value)
            return pl.rule_weight if pl is not None else 1
        return 1

    def _pmtud(
        self,
        home: RuleSpec,
        pmtud: tuple[int, int, int],
        existing: Mapping[str, RuleSpec],
    ) -> PlannedRule:
        """Path MTU Discovery from ``home``'s range, carved out of ``home``."""
        protocol, icmp_type, code = pmtud
        spec = RuleSpec(home.group_id, "ingress", protocol, icmp_type, code, home.peer)
        match = existing.get(spec.signature)
        if match is not None:
            return self._keep(match, None, PMTUD_REASON, kept_for="open_population")
        return PlannedRule(
            rule=replace(spec, peer=self._peer(home)),
            action="add",
            reason=f"{PMTUD_REASON}; narrows {rule_label(self.inventory, home)}",
            description="Path MTU Discovery (ICMP too big)",
            replaces=tuple(self._ids([home.key])),
            kept_for="open_population",
        )

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
        kept_for = first_reason(
            proposal.kept | {self.pinned[k] for k in proposal.sources if k in self.pinned}
        )
        if kept_for is not None:
            why = "; ".join(sorted(proposal.why))
            reason += f"; {KEPT_SHORT[kept_for]}" + (f" ({why})" if why else "")
        word_to = "from" if proposal.direction == "ingress" else "to"
        description = (
            self.descriptions.get(match.rule_id)
            if match is not None and match.rule_id
            else f"{rule_ports_label(spec.protocol, spec.from_port, spec.to_port)} {word_to} "
            f"{proposal.peer.name or proposal.peer.value} (observed)"
        )
        return PlannedRule(
            rule=replace(spec, rule_id=match.rule_id) if match is not None else spec,
            action="keep" if match is not None else "add",
            reason=reason,
            evidence=evidence,
            confidence=confidence,
            description=description,
            replaces=() if match is not None else tuple(self._ids(sources)),
            kept_for=kept_for,
        )

    def _ids(self, keys: Iterable[str]) -> list[str]:
        return sorted(self.today.by_key[k].rule_id or k for k in keys)

    def _remove(self, rule: RuleSpec) -> PlannedRule:
        usage = self.analysis.usage(rule.key)
        planned = PlannedRule(
            rule=replace(rule, peer=self._peer(rule)),
            action="remove",
            reason="unused in the window" if usage.unused else "",
            evidence=evidence_of_usage(usage),
            description=self.descriptions.get(rule.rule_id) if rule.rule_id else None,
        )
        self.removed[(rule.group_id, planned.key)] = rule.key
        return planned

    # ------------------------------------------------------------------ covered_by

    def link(
        self, groups: list[GroupPlan], probe_slots: set[Slot], scanner_slots: set[Slot]
    ) -> list[GroupPlan]:
        """Fill ``covered_by`` and the reasons of removed rules that carried traffic."""
        # Only the keys of removed rules that carried traffic are looked up below: the
        # verdicts' matches are gathered for those alone, and each side's slots sorted when
        # asked for (the same order as sorting every slot first).
        wanted = {
            self.removed[(group.group_id, rule.key)]
            for group in groups
            for rule in group.rules
            if rule.action == "remove" and not rule.reason
        }
        sides: dict[tuple[int, str], list[Slot]] = defaultdict(list)
        for slot in set(self.carriers) | probe_slots | scanner_slots:
            sides[(slot[0], slot[1])].append(slot)
        matched: dict[str, set[tuple[int, str]]] = defaultdict(set)
        if wanted:
            for index, verdict in enumerate(self.analysis.verdicts):
                for direction in DIRECTIONS:
                    for key in verdict.side(direction).matched:
                        if key in wanted:
                            matched[key].add((index, direction))
        out = []
        for group in groups:
            rules = []
            for rule in group.rules:
                if rule.action != "remove" or rule.reason:
                    rules.append(rule)
                    continue
                key = self.removed[(group.group_id, rule.key)]
                slots = [s for side in sorted(matched[key]) for s in sorted(sides[side])]
                carriers = sorted({c for s in slots for c in self.carriers.get(s, ())})
                covered = [k if g == group.group_id else f"{g}/{k}" for g, k in carriers]
                probes = len({s[0] for s in slots if s in probe_slots})
                reason = f"its observed traffic is carried by {len(covered)} other rule(s)"
                if probes:
                    reason += f"; {probes} probe edge(s) are blocked on purpose"
                if scanned := len({s[0] for s in slots if s in scanner_slots}):
                    reason += f"; {scanned} known-scanner edge(s) are blocked on purpose"
                rules.append(replace(rule, reason=reason, covered_by=tuple(covered)))
            out.append(replace(group, rules=tuple(rules)))
        return out
