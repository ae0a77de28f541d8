"""Findings about today's rules and traffic, each a registered kind with its evidence.

Rules of groups attached to nothing are not judged one by one (the group is the
finding); rules of groups whose members were not all logged are not called unused
(the traffic that would use them could not be seen).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from zt_flows.findings import Finding, make_finding
from zt_flows.inventory.coverage import has_flow_log_configuration
from zt_flows.inventory.model import InterfaceRole, Inventory
from zt_flows.rules.admin_sessions import admin_session_findings
from zt_flows.rules.analysis import RuleAnalysis, RuleUsage
from zt_flows.rules.data_egress import add_egress_evidence
from zt_flows.rules.describe import (
    conversation_label,
    endpoint_label,
    group_label,
    rule_label,
)
from zt_flows.rules.edges import Edge
from zt_flows.rules.evaluate import DIRECTIONS, sides
from zt_flows.rules.facts import NetworkFacts, network
from zt_flows.rules.nat_services import NatServiceTraffic, nat_service_findings
from zt_flows.rules.semantics import PROTO_TCP, RuleSpec
from zt_flows.settings import RecommendSettings

DATA_TIER_ROLES = frozenset({InterfaceRole.DATABASE.value, InterfaceRole.CACHE.value})
LOAD_BALANCER_ROLES = frozenset(
    {InterfaceRole.LOAD_BALANCER.value, InterfaceRole.NETWORK_LOAD_BALANCER.value}
)
INTERNAL_KINDS = frozenset({"eni", "vpc_unknown", "peered_vpc", "onprem", "private_other"})


def detect_findings(
    analysis: RuleAnalysis,
    facts: NetworkFacts,
    settings: RecommendSettings,
    *,
    nat_traffic: tuple[NatServiceTraffic, ...] = (),
) -> tuple[Finding, ...]:
    inv = facts.inventory
    found: list[Finding] = []
    served = _served_ports(analysis)
    peers = _matched_peers(analysis)
    by_key = {u.rule.key: u.rule for u in analysis.rules}
    for usage in analysis.rules:
        rule = usage.rule
        coverage = analysis.coverage.get(rule.group_id)
        status = coverage.status if coverage is not None else "observed"
        if status == "unattached":
            continue
        label = f"{group_label(inv, rule.group_id)}: {rule_label(inv, rule)}"
        why = analysis.unevaluable.get(rule.key)
        if why is not None:
            found.append(_rule_finding("unevaluable-rule", rule, f"{label}: {why}; kept"))
        elif status == "observed":
            found.extend(_usage_findings(usage, label, len(analysis.days), inv, by_key))
        if rule.direction == "ingress":
            found.extend(_ingress_findings(rule, label, facts, served, settings))
        if rule.peer.kind == "cidr" and usage.edges and peers.get(rule.key) == {True}:
            observed = _peer_ids(usage)
            found.append(
                _rule_finding(
                    "cidr-peers-are-groups",
                    rule,
                    f"{label}: all {len(observed)} observed peers are ENIs with security groups",
                    (("peers", _list(observed)),),
                )
            )
    found.extend(_group_findings(analysis, facts, served, settings))
    if inv.security_groups and not has_flow_log_configuration(inv):
        found.append(
            make_finding(
                "no-flow-log-configuration",
                "inventory",
                "the inventory holds no flow-log configuration (describe-flow-logs.json):"
                " groups are judged by which of their members wrote records",
            )
        )
    found.extend(_reject_findings(analysis.rejected, inv))
    found.extend(admin_session_findings(analysis, inv, settings))
    found.extend(nat_service_findings(nat_traffic, len(analysis.days), settings, inv))
    found = add_egress_evidence(found, analysis)
    return tuple(sorted(found, key=Finding.sort_key))


def _rule_finding(
    slug: str, rule: RuleSpec, message: str, details: Iterable[tuple[str, object]] = ()
) -> Finding:
    return make_finding(
        slug, rule.key, message, group_id=rule.group_id, rule_id=rule.rule_id, details=details
    )


def _list(items: Iterable[object]) -> str:
    return ", ".join(str(i) for i in items)


def _peer_ids(usage: RuleUsage) -> tuple[str, ...]:
    return usage.clients if usage.rule.direction == "ingress" else usage.servers


def _usage_findings(
    usage: RuleUsage, label: str, days: int, inv: Inventory, rules: dict[str, RuleSpec]
) -> list[Finding]:
    if usage.unused:
        message = f"{label}: no traffic in the window ({days} days)"
        return [_rule_finding("unused-rule", usage.rule, message)]
    if usage.overshadowed:
        named = [
            f"{group_label(inv, rules[k].group_id)}: {rule_label(inv, rules[k])}"
            if k in rules
            else k
            for k in usage.overshadowed_by
        ]
        shown = "; ".join(named[:3]) + (f" and {len(named) - 3} more" if len(named) > 3 else "")
        return [
            _rule_finding(
                "overshadowed-rule",
                usage.rule,
                f"{label}: everything it allowed was also allowed by {shown}",
                (("overshadowed_by", _list(usage.overshadowed_by)), ("flows", usage.flows)),
            )
        ]
    return []


def _served_ports(analysis: RuleAnalysis) -> dict[str, set[tuple[int, int]]]:
    """(protocol, port) each ENI accepted from internet clients."""
    out: dict[str, set[tuple[int, int]]] = defaultdict(set)
    for verdict in analysis.verdicts:
        edge = verdict.edge
        if edge.server.is_eni and edge.client.kind in ("internet", "aws_service"):
            out[edge.server.id].add((edge.protocol, edge.server_port))
    return out


def _matched_peers(analysis: RuleAnalysis) -> dict[str, set[bool]]:
    """Per rule: whether each matched peer was an ENI with security groups."""
    out: dict[str, set[bool]] = defaultdict(set)
    for verdict in analysis.verdicts:
        for direction in DIRECTIONS:
            _, peer = sides(verdict.edge, direction)
            for key in verdict.side(direction).matched:
                out[key].add(peer.is_eni and bool(peer.sgs))
    return out


def _public_lb_port(
    rule: RuleSpec, facts: NetworkFacts, served: dict[str, set[tuple[int, int]]]
) -> bool:
    """Every member is an internet-facing load balancer serving every port the rule opens."""
    members = facts.members.get(rule.group_id, ())
    if not members or rule.protocol is None or rule.all_ports:
        return False
    low, high = rule.port_range()
    if high - low > 64:
        return False
    for eni_id in members:
        eni = facts.current[eni_id]
        if eni.role.value not in LOAD_BALANCER_ROLES or not facts.inventory.is_internet_facing(eni):
            return False
        wanted = {(rule.protocol, port) for port in range(low, high + 1)}
        if not wanted & served.get(eni_id, set()):
            return False
    return True


def _ingress_findings(
    rule: RuleSpec,
    label: str,
    facts: NetworkFacts,
    served: dict[str, set[tuple[int, int]]],
    settings: RecommendSettings,
) -> list[Finding]:
    out = []
    if rule.peer.is_public_any and not _public_lb_port(rule, facts, served):
        out.append(_rule_finding("public-ingress", rule, f"{label}: open to every address"))
    if rule.peer.kind in ("cidr", "prefix_list"):
        admin = sorted(p for p in settings.admin_ports if rule.covers(PROTO_TCP, p))
        if admin:
            out.append(
                _rule_finding(
                    "admin-port-from-cidr",
                    rule,
                    f"{label}: admin port {_list(admin)} reachable from a range",
                    (("ports", _list(admin)),),
                )
            )
        databases = sorted(p for p in settings.database_ports if rule.covers(PROTO_TCP, p))
        if databases:
            shown = _list(databases) if len(databases) <= 4 else "every database port"
            out.append(
                _rule_finding(
                    "database-port-from-cidr",
                    rule,
                    f"{label}: {shown} reachable from a range",
                    (("ports", _list(databases)),),
                )
            )
    if rule.all_traffic:
        out.append(_rule_finding("all-protocols-rule", rule, f"{label}: every protocol and port"))
    elif rule.all_ports:
        out.append(_rule_finding("all-ports-rule", rule, f"{label}: every port"))
    return out


def _data_tier(
    group_id: str,
    facts: NetworkFacts,
    serving: dict[str, set[int]],
    settings: RecommendSettings,
) -> bool:
    """Database or cache members, or members that serve nothing but database ports."""
    members = facts.members.get(group_id, ())
    if not members:
        return False
    if any(facts.current[m].role.value in DATA_TIER_ROLES for m in members):
        return True
    served = {port for m in members for port in serving.get(m, ())}
    return bool(served) and served <= settings.database_ports


def _group_findings(
    analysis: RuleAnalysis,
    facts: NetworkFacts,
    served: dict[str, set[tuple[int, int]]],
    settings: RecommendSettings,
) -> list[Finding]:
    inv = facts.inventory
    serving: dict[str, set[int]] = defaultdict(set)
    for verdict in analysis.verdicts:
        serving[verdict.edge.server.id].add(verdict.edge.server_port)
    out = []
    for group_id, group in inv.security_groups.items():
        coverage = analysis.coverage[group_id]
        label = group_label(inv, group_id)
        if coverage.status == "unattached":
            if not group.is_default:  # a VPC's default group cannot be deleted
                out.append(
                    make_finding(
                        "unattached-group",
                        group_id,
                        f"{label} is attached to no ENI",
                        group_id=group_id,
                    )
                )
            continue
        if group.is_default:
            out.append(
                make_finding(
                    "default-group-in-use",
                    group_id,
                    f"{label} is attached to {len(coverage.members)} ENI(s)",
                    details=(("members", _list(coverage.members)),),
                    group_id=group_id,
                )
            )
        if coverage.status == "uncovered":
            out.append(
                make_finding(
                    "uncovered-members",
                    group_id,
                    f"{label}: {len(coverage.uncovered)} of {len(coverage.members)} members are "
                    "not covered by an ALL-traffic flow log for the whole window ("
                    + "; ".join(f"{m}: {why}" for m, why in coverage.gaps[:3])
                    + (f" and {len(coverage.gaps) - 3} more" if len(coverage.gaps) > 3 else "")
                    + "); its rules are kept as they are",
                    details=(("uncovered", _list(coverage.uncovered)),),
                    group_id=group_id,
                )
            )
        elif coverage.status == "unlogged":
            out.append(
                make_finding(
                    "unlogged-members",
                    group_id,
                    f"{label}: {len(coverage.unlogged)} of {len(coverage.members)} "
                    "members have no flow-log records; its rules are kept as they are",
                    details=(("unlogged", _list(coverage.unlogged)),),
                    group_id=group_id,
                )
            )
        if _data_tier(group_id, facts, serving, settings):
            open_rules = [
                u.rule
                for u in analysis.group_rules(group_id)
                if u.rule.direction == "egress"
                and u.rule.peer.kind == "cidr"
                and facts.reaches_internet(network(u.rule.peer.value))
            ]
            if open_rules:
                out.append(
                    make_finding(
                        "data-tier-internet-egress",
                        group_id,
                        f"{label}: a data tier with "
                        + _list(rule_label(inv, r) for r in open_rules),
                        details=(("rules", _list(r.key for r in open_rules)),),
                        group_id=group_id,
                    )
                )
    return out


def _reject_findings(rejected: tuple[Edge, ...], inventory: Inventory) -> list[Finding]:
    internal: dict[tuple[str, int, int], list[Edge]] = defaultdict(list)
    internet: dict[str, list[Edge]] = defaultdict(list)
    for edge in rejected:
        if edge.client.kind in INTERNAL_KINDS:
            internal[(edge.server.id, edge.protocol, edge.server_port)].append(edge)
        elif edge.client.kind == "internet":
            internet[edge.server.id].append(edge)
    out = []
    for (server, protocol, port), edges in sorted(internal.items()):
        clients = sorted({e.client.id for e in edges})
        groups = sorted({g for e in edges for g in e.client.sgs})
        flows = sum(e.rejected for e in edges)
        what = conversation_label(protocol, port)
        names = ", ".join(endpoint_label(inventory, c) for c in clients[:3])
        more = f" and {len(clients) - 3} more" if len(clients) > 3 else ""
        out.append(
            make_finding(
                "internal-rejects",
                server,
                f"{names}{more} tried {endpoint_label(inventory, server)} on {what} and "
                f"were rejected ({flows} flows on {len({e.day for e in edges})} days)",
                details=(
                    ("clients", _list(clients)),
                    ("client_groups", _list(groups)),
                    ("server_groups", _list(sorted({g for e in edges for g in e.server.sgs}))),
                    ("flows", flows),
                ),
            )
        )
    for server, edges in sorted(internet.items()):
        ports = sorted({conversation_label(e.protocol, e.server_port) for e in edges})
        sources = {e.client.id for e in edges}
        flows = sum(e.rejected for e in edges)
        out.append(
            make_finding(
                "internet-rejects",
                server,
                f"{len(sources)} internet address(es) were rejected on "
                f"{endpoint_label(inventory, server)}: "
                f"{_list(ports)} ({flows} flows)",
                details=(("ports", _list(ports)), ("sources", len(sources)), ("flows", flows)),
            )
        )
    return out
