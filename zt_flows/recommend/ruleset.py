"""A plan's rules in evaluation form, so plans are judged by the same semantics as today."""

from __future__ import annotations

from collections.abc import Iterable

from zt_flows.addresses import canonical_cidr
from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule
from zt_flows.rules import RulePeer, RuleSet, RuleSpec
from zt_flows.vocabulary import RULE_PORTED, RULE_TYPED, protocol_number


def spec_of(group_id: str, rule: PlannedRule) -> RuleSpec:
    """A planned rule as an evaluation rule (-1 ports, like AWS, mean every port)."""
    protocol = protocol_number(rule.protocol)
    low = None if rule.from_port is None or rule.from_port < 0 else rule.from_port
    high = None if rule.to_port is None or rule.to_port < 0 else rule.to_port
    if protocol is None or (protocol not in RULE_PORTED and protocol not in RULE_TYPED):
        low = high = None
    value = canonical_cidr(rule.peer.value) if rule.peer.type == "cidr" else rule.peer.value
    return RuleSpec(
        group_id,
        rule.direction,
        protocol,
        low,
        high,
        RulePeer(rule.peer.type, value),
        rule.existing_rule_id,
    )


def groups_ruleset(groups: Iterable[GroupPlan]) -> RuleSet:
    """The rules the groups end up with (``keep`` and ``add``)."""
    groups = tuple(groups)
    return RuleSet(
        (spec_of(g.group_id, r) for g in groups for r in g.final_rules()),
        (g.group_id for g in groups),
    )


def plan_ruleset(plan: Plan, inventory: Inventory) -> RuleSet:
    """The plan's final rules; groups the plan does not mention keep today's rules."""
    planned = groups_ruleset(plan.security_groups)
    named = {g.group_id for g in plan.security_groups}
    today = (RuleSpec.from_inventory(r) for r in inventory.rules if r.group_id not in named)
    return RuleSet((*planned.rules, *today), set(planned.groups) | set(inventory.security_groups))
