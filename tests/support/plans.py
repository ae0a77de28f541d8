"""Plans by hand: a planned rule in one line, a group's plan, a whole plan.

    rule = planned("ingress", "add", "tcp", 443, 443, RulePeer("cidr", "10.0.0.0/8"))
    plan = small_plan(group_plan("sg-0a1", "app", rule))

A rule's group is the group it is put in (``group_plan`` rebinds it), so tests need not
repeat it; protocols are written as in plan.json (``tcp``, ``6``, ``-1``, ``50``).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from zt_flows.recommend.plan import (
    Evidence,
    Exposure,
    ExposureFigures,
    GroupPlan,
    Plan,
    PlannedRule,
    RuleAction,
    Verification,
)
from zt_flows.rules import RulePeer, RuleSpec
from zt_flows.vocabulary import Direction, protocol_number


def planned(
    direction: Direction,
    action: RuleAction,
    protocol: str,
    from_port: int | None,
    to_port: int | None,
    peer: RulePeer,
    reason: str = "seen",
    *,
    existing_rule_id: str | None = None,
    group_id: str = "sg-0a1",
    **fields: object,
) -> PlannedRule:
    """A planned rule; ``fields`` are PlannedRule's others (evidence, confidence, ...)."""
    rule = RuleSpec(
        group_id, direction, protocol_number(protocol), from_port, to_port, peer, existing_rule_id
    )
    return PlannedRule(rule=rule, action=action, reason=reason, **fields)  # type: ignore[arg-type]


def group_plan(
    group_id: str, name: str, *rules: PlannedRule, vpc_id: str | None = "vpc-0a", **fields: object
) -> GroupPlan:
    """A group's plan holding ``rules``, each rebound to ``group_id``."""
    bound = tuple(replace(r, rule=replace(r.rule, group_id=group_id)) for r in rules)
    return GroupPlan(group_id=group_id, name=name, vpc_id=vpc_id, rules=bound, **fields)  # type: ignore[arg-type]


def evidence(flows: int = 10, *, clients: tuple[str, ...] = ("eni-0aaaaaaaaaaaaaaa1",)) -> Evidence:
    t = datetime(2026, 11, 16, tzinfo=UTC)
    return Evidence(
        flows=flows,
        bytes=1000,
        packets=20,
        first_seen=t,
        last_seen=t,
        days_seen=1,
        clients=clients,
        servers=("eni-0b",),
    )


def small_plan(*groups: GroupPlan) -> Plan:
    """A three-day plan of ``groups``, with nothing reachable and nothing blocked."""
    figures = ExposureFigures(1, ())
    return Plan(
        window_start=datetime(2026, 11, 16, tzinfo=UTC),
        window_end=datetime(2026, 11, 19, tzinfo=UTC),
        security_groups=groups,
        exposure=Exposure(figures, figures),
        verification=Verification(replayed=1, blocked=0),
    )
