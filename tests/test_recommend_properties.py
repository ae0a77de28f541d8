"""Properties of the recommender over random estates and conversations (hypothesis).

1. Never wider: every rule a group ends up with (keep / add) allows a subset of what
   the group's existing rules allow. Checked by construction (containment in one
   existing rule) and by evaluation: at sampled (peer, protocol, port) points, whatever
   a proposed rule admits, one of today's rules of the group admits too.
2. The replay blocks nothing today's rules allowed, except probes blocked on purpose.
3. Never narrower than the evidence proves: an open population keeps its range. Wherever
   an internet peer (outside every AWS-managed list) or an address no ENI holds used a
   rule, a *new* address of that rule's range is admitted by the plan on the same port.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.edges import edge as row
from support.edges import frame
from support.inventory import eni, inventory, prefix_list, rule, security_group

from zt_flows.inventory.model import Inventory, NetworkInterface
from zt_flows.recommend import Plan, plan_ruleset, recommend_rules
from zt_flows.recommend.shapes import peer_networks, port_ranges, rule_within
from zt_flows.rules import (
    EdgeSide,
    Evaluator,
    NetworkFacts,
    RuleSet,
    edges_from_frame,
    evaluate_rules,
)
from zt_flows.settings import RecommendSettings
from zt_flows.vocabulary import DIRECTIONS

GROUPS = ("sg-a", "sg-b", "sg-c", "sg-d", "sg-default")
PORTS = (22, 53, 80, 443, 5432, 8080, 8081, 8443, 9100)
EXTERNAL = ("198.51.100.7", "198.51.100.9", "203.0.113.50", "52.216.8.29", "10.0.99.9")
S3 = ("52.216.0.0/15",)
PEERS = (
    "0.0.0.0/0",
    "10.0.0.0/8",
    "10.0.0.0/16",
    "10.0.1.0/24",
    "10.0.2.0/24",
    "198.51.100.0/24",
    "52.0.0.0/8",
    "::/0",
    "pl-s3",
    *GROUPS,
)


@dataclass(frozen=True)
class Estate:
    inventory: Inventory
    enis: tuple[NetworkInterface, ...]
    rows: tuple[dict[str, object], ...]


@st.composite
def rules_strategy(draw: st.DrawFn, group: str) -> list[object]:
    out = []
    for direction, most in (("ingress", 3), ("egress", 2)):
        for index in range(draw(st.integers(0, most))):
            protocol = draw(st.sampled_from(("tcp", "tcp", "udp", "icmp", "-1")))
            ports: int | tuple[int, int] | None
            if protocol in ("tcp", "udp"):
                low = draw(st.sampled_from(PORTS))
                ports = (low, low + draw(st.sampled_from((0, 0, 1, 100, 65535 - low))))
            elif protocol == "icmp":
                ports = draw(st.sampled_from((None, (8, 0))))
            else:
                ports = None
            peer = draw(st.sampled_from(PEERS))
            rule_id = f"{group}-{direction}-{index}"
            out.append(rule(group, direction, protocol, ports, peer, rule_id=rule_id))
    # AWS refuses duplicate rules in a group.
    seen: dict[tuple[object, ...], object] = {}
    for r in out:
        key = (r.direction, r.protocol, r.from_port, r.to_port, r.cidr_ipv4, r.cidr_ipv6,  # type: ignore[attr-defined]
               r.prefix_list_id, r.referenced_group_id)  # type: ignore[attr-defined]  # fmt: skip
        seen.setdefault(key, r)
    return list(seen.values())


@st.composite
def estates(draw: st.DrawFn) -> Estate:
    enis = []
    for i in range(draw(st.integers(2, 6))):
        groups = draw(st.lists(st.sampled_from(GROUPS), min_size=1, max_size=3, unique=True))
        subnet = draw(st.sampled_from((1, 2, 3)))
        ips = [f"10.0.{subnet}.{10 + i}"]
        if draw(st.booleans()):
            ips.append(f"10.0.{subnet}.{100 + i}")
        ipv6 = [f"2600:1f18::{i + 1:x}"] if draw(st.booleans()) else []
        enis.append(eni(f"e{i}", ips, groups, ipv6=ipv6))
    rules = [r for g in GROUPS for r in draw(rules_strategy(g))]
    inv = inventory(
        enis,
        groups=[security_group(g, name="default" if g == "sg-default" else None) for g in GROUPS],
        rules=rules,  # type: ignore[arg-type]
        prefix_lists=[prefix_list("pl-s3", "com.amazonaws.us-east-1.s3", S3)],
        vpcs=[("vpc-a", "10.0.0.0/16", "2600:1f18::/56")],
    )
    sides: list[NetworkInterface | str] = [*enis, *EXTERNAL, "2001:db8::5"]
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        client = draw(st.sampled_from(sides))
        server = draw(st.sampled_from(enis if isinstance(client, str) else sides))
        if client is server:
            continue
        protocol = draw(st.sampled_from(("tcp", "tcp", "udp", "icmp")))
        port = 0 if protocol == "icmp" else draw(st.sampled_from(PORTS))
        day = draw(st.integers(0, 2))
        probe = draw(st.booleans())
        rows.append(
            row(
                client,
                server,
                port,
                protocol,
                day=day,
                flows=3 if probe else 10,
                connections=3,
                packets=9 if probe else 300,
                server_address=_v6(server) if isinstance(client, str) and ":" in client else None,
            )
        )
    return Estate(inv, tuple(enis), tuple(rows))


def _v6(server: NetworkInterface | str) -> str | None:
    if isinstance(server, NetworkInterface) and server.ipv6s:
        return server.ipv6s[0]
    return None


def _plan(estate: Estate) -> tuple[Plan, object]:
    settings_ = RecommendSettings()
    edges = frame(estate.rows)
    logged = frozenset(e.id for e in estate.enis)
    analysis = evaluate_rules(edges, estate.inventory, settings_, logged_interfaces=logged)
    plan = recommend_rules(analysis, settings_)
    return plan, analysis


def _points(estate: Estate) -> list[tuple[EdgeSide, str, int, int]]:
    """Peers (every ENI address, some external ones), protocols and ports to probe rules at."""
    peers = []
    for e in estate.enis:
        for address in e.addresses:
            peers.append(
                (
                    EdgeSide("eni", e.id, e.vpc_id, "instance", e.security_group_ids, (address,)),
                    address,
                )
            )
    for address in (*EXTERNAL, "10.0.1.77", "52.217.1.1", "2001:db8::5", "8.8.8.8"):
        kind = "internet" if not address.startswith("10.") else "vpc_unknown"
        peers.append((EdgeSide(kind, address, None, None, (), (address,)), address))  # fmt: skip
    ports = sorted({p + d for p in PORTS for d in (-1, 0, 1)} | {0, 65535})
    out = []
    for side, address in peers:
        for protocol in (6, 17, 1, 58):
            for port in ports if protocol in (6, 17) else [0]:
                out.append((side, address, protocol, port))
    return out


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(estates())
def test_plan_never_widens(estate: Estate) -> None:
    plan, _ = _plan(estate)
    facts = NetworkFacts(estate.inventory)
    today = RuleSet.from_inventory(estate.inventory)
    evaluator = Evaluator(facts, today)
    points = _points(estate)
    for group in plan.security_groups:
        for planned in group.final_rules():
            spec = planned.rule
            existing = today.of(group.group_id, spec.direction)
            # By construction: inside one existing rule of its group and direction.
            assert any(rule_within(spec, r, facts) for r in existing), spec
            # By evaluation at sampled points.
            for side, address, protocol, port in points:
                if not spec.covers(protocol, port):
                    continue
                parsed = ipaddress.ip_address(address)
                if not evaluator.peer_matches(spec.peer, side, parsed, "vpc-a"):
                    continue
                assert any(
                    r.covers(protocol, port)
                    and evaluator.peer_matches(r.peer, side, parsed, "vpc-a")
                    for r in existing
                ), (spec, side.id, address, protocol, port)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(estates())
def test_replay_blocks_only_what_is_blocked_on_purpose(estate: Estate) -> None:
    plan, analysis = _plan(estate)
    assert plan.verification.blocked == 0
    proposed = Evaluator(NetworkFacts(estate.inventory), plan_ruleset(plan, estate.inventory))
    on_purpose = {
        (b.client, b.server, b.protocol, b.server_port) for b in plan.intentionally_blocked
    }
    for verdict in analysis.verdicts:  # type: ignore[attr-defined]
        again = proposed.evaluate(verdict.edge)
        for direction in DIRECTIONS:
            if verdict.side(direction).allowed and not again.side(direction).allowed:
                edge = verdict.edge
                key = (edge.client.id, edge.server.id, edge.protocol, edge.server_port)
                assert key in on_purpose
                assert edge.client.kind == "internet"
                assert edge.server_port == 22
    # Every edge of the input was either replayed or not allowed today.
    assert plan.verification.replayed <= len(edges_from_frame(frame(estate.rows)))


# Addresses no estate uses: the new peers of an open population.
NEWCOMERS = ("203.0.113.200", "192.0.2.55", "8.8.4.4", "1.1.1.1", "2001:db8::99", "10.0.1.200")
OPEN_KINDS = frozenset({"internet", "vpc_unknown"})


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(estates())
def test_plan_never_narrows_an_open_population(estate: Estate) -> None:
    plan, analysis = _plan(estate)
    facts = NetworkFacts(estate.inventory)
    today = RuleSet.from_inventory(estate.inventory)
    proposed = Evaluator(facts, plan_ruleset(plan, estate.inventory))
    aws_lists = [
        n for pl in facts.aws_prefix_lists for n in facts.prefix_list_networks(pl.id) or ()
    ]
    on_purpose = {
        (b.client, b.server, b.protocol, b.server_port) for b in plan.intentionally_blocked
    }

    def in_aws_list(address: str) -> bool:
        parsed = ipaddress.ip_address(address)
        return any(parsed.version == n.version and parsed in n for n in aws_lists)

    for verdict in analysis.verdicts:  # type: ignore[attr-defined]
        edge = verdict.edge
        if (edge.client.id, edge.server.id, edge.protocol, edge.server_port) in on_purpose:
            continue
        for direction in DIRECTIONS:
            local_is_server = direction == "ingress"
            peer = edge.client if local_is_server else edge.server
            if peer.kind not in OPEN_KINDS:
                continue
            for address, key in verdict.side(direction).homes:
                if in_aws_list(address):
                    continue
                home = today.by_key[key]
                nets = peer_networks(home.peer, facts) or ()
                for newcomer in NEWCOMERS:
                    parsed = ipaddress.ip_address(newcomer)
                    if parsed.version != ipaddress.ip_address(address).version:
                        continue
                    if not any(parsed.version == n.version and parsed in n for n in nets):
                        continue
                    if in_aws_list(newcomer):
                        continue
                    kind = "vpc_unknown" if newcomer.startswith("10.") else "internet"
                    if kind != peer.kind:
                        continue
                    other = EdgeSide(kind, newcomer, None, None, (), (newcomer,))
                    moved = replace(
                        edge,
                        client=other if local_is_server else edge.client,
                        server=edge.server if local_is_server else other,
                    )
                    assert proposed.side(moved, direction).allowed, (
                        home.key,
                        direction,
                        newcomer,
                        edge.protocol,
                        edge.server_port,
                    )


@settings(max_examples=300, deadline=None)
@given(
    ports=st.lists(st.integers(0, 65535), min_size=1, max_size=40, unique=True),
    density=st.floats(0.01, 1.0),
)
def test_port_ranges_hold_every_port_and_stay_dense(ports: list[int], density: float) -> None:
    ranges = port_ranges(ports, density)
    observed = set(ports)
    for port in ports:
        assert sum(low <= port <= high for low, high in ranges) == 1
    for low, high in ranges:
        assert low in observed
        assert high in observed
        inside = sum(1 for p in observed if low <= p <= high)
        assert inside == 1 or inside / (high - low + 1) >= density
