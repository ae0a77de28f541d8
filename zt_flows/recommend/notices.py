"""Findings a plan carries: low-confidence rules, probes, quota merges, and what the plan
kept for safety (unattributed or unexplained traffic, doubtful directions, an origin that
its CDN does not shield, AWS services over an internet path).

They are read from the plan itself, so ``findings.json`` and ``plan.json`` cannot
disagree about them.
"""

from __future__ import annotations

from collections import defaultdict

from zt_flows.findings import Finding, make_finding
from zt_flows.recommend.plan import BlockedConversation, GroupPlan, Plan, PlannedRule
from zt_flows.recommend.quota import QUOTA_NOTE
from zt_flows.recommend.verify import describe_blocked
from zt_flows.vocabulary import conversation_label, rule_ports_label


def plan_findings(plan: Plan) -> tuple[Finding, ...]:
    """ZT013 for every low-confidence rule, ZT015 per admin port with probes, ZT016 per merge,
    and ZT021-ZT025 for what the plan kept for safety."""
    out = []
    for group in plan.security_groups:
        for rule in group.final_rules():
            out.extend(_kept_findings(group, rule))
            if rule.confidence != "low":
                continue
            word = "from" if rule.direction == "ingress" else "to"
            days = rule.evidence.days_seen if rule.evidence else 0
            ports = _rule_ports(rule)
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
    for conversations, outcome in (
        (plan.intentionally_blocked, "the plan blocks them"),
        (
            plan.probed,
            "the rule stays open for the sessions from the internet that use it: name the"
            " administrators' range (--partner-cidr) to close it to everyone else, or use"
            " Session Manager",
        ),
    ):
        probes: dict[tuple[str, str, int, int], list[BlockedConversation]] = defaultdict(list)
        for blocked in conversations:
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
                    + outcome,
                    group_id=group_id or None,
                    details=(("sources", len(items)), ("flows", flows)),
                )
            )
    by_group: dict[str, list[BlockedConversation]] = defaultdict(list)
    for item in plan.unexplained:
        by_group[item.group_id or ""].append(item)
    for group_id, items in sorted(by_group.items()):
        flows = sum(b.flows for b in items)
        shown = "; ".join(describe_blocked(b) for b in items[:3])
        more = f" and {len(items) - 3} more" if len(items) > 3 else ""
        out.append(
            make_finding(
                "unexplained-traffic",
                group_id or "unknown",
                f"{len(items)} accepted conversation(s) that today's rules do not allow "
                f"({flows} records): {shown}{more}; every rule that could admit them is kept",
                group_id=group_id or None,
                details=(("conversations", len(items)), ("records", flows)),
            )
        )
    if plan.ambiguous:
        out.append(
            make_finding(
                "ambiguous-orientation",
                "plan",
                f"{plan.ambiguous} group(s) of flow records could be read either way (no"
                " handshake, no telling port); the plan keeps both readings allowed",
                details=(("record_groups", plan.ambiguous),),
            )
        )
    return tuple(sorted(out, key=Finding.sort_key))


def _kept_findings(group: GroupPlan, rule: PlannedRule) -> list[Finding]:
    """Findings about one rule the plan kept or added for safety."""
    label = f"{group.name} ({group.group_id}): {rule.direction} {_rule_ports(rule)}"
    evidence = rule.evidence
    peers: tuple[str, ...] = ()
    if evidence is not None:
        peers = evidence.clients if rule.direction == "ingress" else evidence.servers
    out = []
    if rule.kept_for == "unattributed":
        out.append(
            make_finding(
                "unattributed-traffic",
                f"{group.group_id}/{rule.key}",
                f"{label} {_word(rule)} {rule.peer.name or rule.peer.value} is kept as it is:"
                " some of its traffic came from addresses no known ENI holds",
                group_id=group.group_id,
                rule_id=rule.existing_rule_id,
                details=(("peers", ", ".join(peers[:20])), ("reason", rule.reason)),
            )
        )
    services = sorted(p for p in peers if _is_service(p))
    if rule.direction == "egress" and rule.kept_for == "open_population" and services:
        out.append(
            make_finding(
                "aws-service-over-internet",
                f"{group.group_id}/{rule.key}",
                f"{label} to {rule.peer.value} stays open for {', '.join(services)}: a VPC"
                " endpoint would let the rule name the service",
                group_id=group.group_id,
                rule_id=rule.existing_rule_id,
                details=(("services", ", ".join(services)),),
            )
        )
    if (
        rule.action == "add"
        and rule.direction == "ingress"
        and rule.peer.kind == "prefix_list"
        and "cloudfront" in (rule.peer.name or "")
        and rule.replaces
    ):
        out.append(
            make_finding(
                "origin-around-cdn",
                f"{group.group_id}/{rule.key}",
                f"{label}: every observed client came through CloudFront, yet today's rule "
                f"{', '.join(rule.replaces)} admits more; the plan admits only "
                f"{rule.peer.name}",
                group_id=group.group_id,
                details=(("replaces", ", ".join(rule.replaces)),),
            )
        )
    return out


def _word(rule: PlannedRule) -> str:
    return "from" if rule.direction == "ingress" else "to"


def _rule_ports(rule: PlannedRule) -> str:
    return rule_ports_label(rule.rule.protocol, rule.from_port, rule.to_port)


def _is_service(peer: str) -> bool:
    """An AWS service as flow logs name it (``S3``, ``AMAZON``), not an ENI or an address."""
    return bool(peer) and peer.replace("_", "").isalnum() and peer.isupper()
