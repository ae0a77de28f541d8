"""A plan's rules as one rule set, so plans are judged by the same semantics as today."""

from __future__ import annotations

from collections.abc import Iterable

from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import GroupPlan, Plan
from zt_flows.rules import RuleSet, RuleSpec


def groups_ruleset(groups: Iterable[GroupPlan]) -> RuleSet:
    """The rules the groups end up with (``keep`` and ``add``)."""
    groups = tuple(groups)
    return RuleSet(
        (r.rule for g in groups for r in g.final_rules()),
        (g.group_id for g in groups),
    )


def plan_ruleset(plan: Plan, inventory: Inventory) -> RuleSet:
    """The plan's final rules; groups the plan does not mention keep today's rules."""
    planned = groups_ruleset(plan.security_groups)
    named = {g.group_id for g in plan.security_groups}
    today = (RuleSpec.from_inventory(r) for r in inventory.rules if r.group_id not in named)
    return RuleSet((*planned.rules, *today), set(planned.groups) | set(inventory.security_groups))
