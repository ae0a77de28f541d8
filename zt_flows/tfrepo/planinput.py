"""The plan's groups and rules as the repository editor takes them.

Only public fields of the plan are read: per group ``group_id``, ``name``, ``vpc_id``,
``owner_id``; per rule ``direction``, ``action``, ``protocol``, ``from_port``,
``to_port``, ``peer`` (``kind``, ``value``, ``owner_id``, ``vpc_id``, ``name``),
``existing_rule_id``, ``description`` and ``kept_for``. The plan is checked before it
gets here (``ztflows pr`` renders it first, which refuses a plan Terraform would get wrong).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule
from zt_flows.terraform.attributes import rule_description
from zt_flows.tfrepo.model import (
    GroupChange,
    RuleChange,
    canonical_cidr,
    canonical_ports,
    canonical_protocol,
)


def rule_change(rule: PlannedRule) -> RuleChange:
    protocol = canonical_protocol(rule.ip_protocol)
    low, high = canonical_ports(protocol, rule.from_port, rule.to_port)
    peer = rule.peer
    value = canonical_cidr(peer.value) if peer.kind == "cidr" else peer.value
    # A kept or removed rule carries today's text, exactly: adopting it changes nothing.
    description = rule_description(rule) if rule.action == "add" else rule.description or ""
    return RuleChange(
        direction=rule.direction,
        action=rule.action,
        protocol=protocol,
        from_port=low,
        to_port=high,
        peer=replace(peer, value=value),
        existing_rule_id=rule.existing_rule_id,
        description=description,
        kept_for=rule.kept_for,
    )


def group_change(group: GroupPlan) -> GroupChange:
    return GroupChange(
        group_id=group.group_id,
        name=group.name,
        vpc_id=group.vpc_id,
        owner_id=group.owner_id,
        rules=tuple(rule_change(r) for r in group.rules),
    )


def group_changes(plan: Plan, group_ids: Sequence[str] | None = None) -> tuple[GroupChange, ...]:
    wanted = None if group_ids is None else set(group_ids)
    return tuple(
        group_change(g) for g in plan.security_groups if wanted is None or g.group_id in wanted
    )
