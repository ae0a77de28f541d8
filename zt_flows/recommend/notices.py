"""Findings a plan carries: low-confidence rules, probes blocked on purpose, quota merges.

They are read from the plan itself, so ``findings.json`` and ``plan.json`` cannot
disagree about them.
"""

from __future__ import annotations

from collections import defaultdict

from zt_flows.findings import Finding, make_finding
from zt_flows.recommend.plan import BlockedConversation, Plan
from zt_flows.recommend.quota import QUOTA_NOTE
from zt_flows.rules.describe import conversation_label


def plan_findings(plan: Plan) -> tuple[Finding, ...]:
    """ZT013 for every low-confidence rule, ZT015 per admin port with probes, ZT016 per merge."""
    out = []
    for group in plan.security_groups:
        for rule in group.final_rules():
            if rule.confidence != "low":
                continue
            word = "from" if rule.direction == "ingress" else "to"
            days = rule.evidence.days_seen if rule.evidence else 0
            ports = (
                "all traffic"
                if rule.protocol == "-1"
                else _ports(rule.protocol, rule.from_port, rule.to_port)
            )
            out.append(
                make_finding(
                    "low-confidence-rule",
                    f"{group.group_id}/{rule.key}",
                    f"{group.name} ({group.group_id}): {rule.direction} {ports} {word} "
                    f"{rule.peer.name or rule.peer.value} rests on traffic of {days} day(s)",
                    group_id=group.group_id,
                    rule_id=rule.existing_rule_id,
                    details=(("reason", rule.reason),),
                )
            )
        for note in group.notes:
            if note.startswith(QUOTA_NOTE):
                out.append(
                    make_finding(
                        "quota-merge",
                        group.group_id,
                        f"{group.name} ({group.group_id}): {note.removeprefix(QUOTA_NOTE)}",
                        group_id=group.group_id,
                    )
                )
    names = {g.group_id: g.name for g in plan.security_groups}
    probes: dict[tuple[str, str, int, int], list[BlockedConversation]] = defaultdict(list)
    for blocked in plan.intentionally_blocked:
        key = (blocked.group_id or "", blocked.server, blocked.protocol, blocked.server_port)
        probes[key].append(blocked)
    for (group_id, server, protocol, port), items in sorted(probes.items()):
        flows = sum(b.flows for b in items)
        where = f"{server} (group {names[group_id]})" if group_id in names else server
        out.append(
            make_finding(
                "internet-probes",
                server,
                f"{len(items)} internet address(es) completed handshakes on {where} "
                f"{conversation_label(protocol, port)} without a session ({flows} flows); "
                "the plan blocks them",
                group_id=group_id or None,
                details=(("sources", len(items)), ("flows", flows)),
            )
        )
    return tuple(sorted(out, key=Finding.sort_key))


def _ports(protocol: str, low: int | None, high: int | None) -> str:
    if low is None:
        return protocol
    return f"{protocol}/{low}" if low == high else f"{protocol}/{low}-{high}"
