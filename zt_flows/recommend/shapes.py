"""Shaping proposed rules: dense port ranges, and containment.

Everything here is pure. Containment (:func:`rule_within`) is the never-widen test:
a proposed rule is acceptable only inside an existing rule of its group.
"""

from __future__ import annotations

from collections.abc import Iterable

from zt_flows.addresses import IPNetwork, covered, network
from zt_flows.rules import NetworkFacts, RulePeer, RuleSpec
from zt_flows.vocabulary import RULE_PORTED, RULE_TYPED


def port_ranges(ports: Iterable[int], density: float) -> tuple[tuple[int, int], ...]:
    """Observed ports as ranges; a range grows only while it stays ``density`` observed.

    ``[8080, 8081, 8083]`` at 0.5 is ``8080-8083`` (3 of 4 observed); ``[80, 443]`` stays
    two ranges. With density above 1 nothing merges, not even neighbours.
    """
    ordered = sorted(set(ports))
    if not ordered:
        return ()
    out = []
    start = prev = ordered[0]
    count = 1
    for port in ordered[1:]:
        if (count + 1) / (port - start + 1) >= density:
            prev, count = port, count + 1
        else:
            out.append((start, prev))
            start = prev = port
            count = 1
    out.append((start, prev))
    return tuple(out)


def peer_networks(peer: RulePeer, facts: NetworkFacts) -> tuple[IPNetwork, ...] | None:
    """The address space a CIDR or prefix-list peer admits (None: unknown list)."""
    if peer.kind == "cidr":
        return (network(peer.value),)
    if peer.kind == "prefix_list":
        return facts.prefix_list_networks(peer.value)
    return facts.member_networks(peer.value)


def peer_within(inner: RulePeer, outer: RulePeer, facts: NetworkFacts) -> bool:
    """Whether every address ``inner`` matches is matched by ``outer`` (now)."""
    key = ("peer_within", inner, outer)
    known = facts.memo.get(key)
    if known is None:
        known = facts.memo[key] = _peer_within(inner, outer, facts)
    return known


def _peer_within(inner: RulePeer, outer: RulePeer, facts: NetworkFacts) -> bool:
    if inner == outer:
        return True
    if outer.kind == "security_group":
        if inner.kind != "security_group":
            return False
        members = set(facts.members.get(outer.value, ()))
        return set(facts.members.get(inner.value, ())) <= members
    outer_nets = peer_networks(outer, facts)
    inner_nets = peer_networks(inner, facts)
    if outer_nets is None or inner_nets is None:
        return False
    return all(covered(n, outer_nets) for n in inner_nets)


def ports_within(inner: RuleSpec, outer: RuleSpec) -> bool:
    if outer.protocol is None:
        return True
    if inner.protocol != outer.protocol:
        return False
    if outer.protocol in RULE_PORTED:
        low, high = inner.port_range()
        outer_low, outer_high = outer.port_range()
        return outer_low <= low and high <= outer_high
    if outer.protocol in RULE_TYPED:
        if outer.from_port is None:
            return True
        if inner.from_port != outer.from_port:
            return False
        return outer.to_port is None or inner.to_port == outer.to_port
    return True


def rule_within(inner: RuleSpec, outer: RuleSpec, facts: NetworkFacts) -> bool:
    """Whether ``inner`` allows a subset of what ``outer`` allows (same direction)."""
    return (
        inner.direction == outer.direction
        and ports_within(inner, outer)
        and peer_within(inner.peer, outer.peer, facts)
    )
