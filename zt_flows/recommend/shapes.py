"""Shaping proposed rules: dense port ranges, covering prefixes, and containment.

Everything here is pure. Containment (:func:`rule_within`) is the never-widen test:
a proposed rule is acceptable only inside an existing rule of its group.
"""

from __future__ import annotations

import heapq
import ipaddress
from collections.abc import Iterable, Sequence

from zt_flows.rules.facts import IPNetwork, NetworkFacts, collapse, covered, network, subnet_of
from zt_flows.rules.semantics import ICMPS, PORTED, RulePeer, RuleSpec


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


def _supernet(a: IPNetwork, b: IPNetwork) -> IPNetwork:
    """The smallest network holding both (same family)."""
    bits = a.max_prefixlen
    diff = int(a.network_address) ^ int(b.network_address)
    length = min(a.prefixlen, b.prefixlen, bits - diff.bit_length())
    base = (int(a.network_address) >> (bits - length)) << (bits - length) if length else 0
    return (
        ipaddress.ip_network((base, length))
        if a.version == 4
        else ipaddress.ip_network((ipaddress.IPv6Address(base), length))
    )


def _joins(a: IPNetwork, b: IPNetwork, allowance: Sequence[IPNetwork]) -> bool:
    """Whether ``a`` and ``b`` merge without admitting a single new address."""
    if a.version != b.version:
        return False
    merged = _supernet(a, b)
    if subnet_of(a, b) or subnet_of(b, a):
        return True
    return merged.num_addresses == a.num_addresses + b.num_addresses and covered(merged, allowance)


def aggregate(
    addresses: Iterable[str], allowance: Sequence[IPNetwork], cap: int
) -> tuple[IPNetwork, ...]:
    """Addresses as at most ``cap`` covering prefixes, each inside one ``allowance`` network.

    Starts from the exact hosts (/32, /128) and repeatedly merges the two neighbours whose
    common prefix is smallest (a heap over neighbouring pairs) until the cap is met; a
    merge that would leave the allowance is never made, so the result can stay above it.
    """
    items: list[IPNetwork] = collapse(ipaddress.ip_network(a) for a in addresses)
    count = len(items)
    if count <= max(cap, 1):
        return tuple(items)
    after = [*range(1, count), -1]
    before = list(range(-1, count - 1))
    alive = [True] * count
    version = [0] * count
    heap: list[tuple[int, int, int, int, int, int]] = []
    merges: dict[tuple[int, int, int, int], IPNetwork] = {}

    def push(i: int) -> None:
        j = after[i]
        if j < 0 or items[i].version != items[j].version:
            return
        merged = _supernet(items[i], items[j])
        if covered(merged, allowance):
            merges[(i, version[i], j, version[j])] = merged
            entry = (
                merged.num_addresses,
                int(merged.network_address),
                i,
                version[i],
                j,
                version[j],
            )
            heapq.heappush(heap, entry)

    def unlink(k: int) -> None:
        alive[k] = False
        if before[k] >= 0:
            after[before[k]] = after[k]
        if after[k] >= 0:
            before[after[k]] = before[k]

    for i in range(count - 1):
        push(i)
    while count > max(cap, 1) and heap:
        _, _, i, vi, j, vj = heapq.heappop(heap)
        if not (alive[i] and alive[j] and after[i] == j and version[i] == vi and version[j] == vj):
            continue  # stale: a neighbour changed since this pair was pushed
        merged = merges.pop((i, vi, j, vj))
        items[i] = merged
        version[i] += 1
        unlink(j)
        count -= 1
        while True:  # absorb neighbours inside it, and join exact siblings (no new address)
            k = next(
                (
                    n
                    for n in (after[i], before[i])
                    if n >= 0 and _joins(items[n], items[i], allowance)
                ),
                -1,
            )
            if k < 0:
                break
            items[i] = _supernet(items[i], items[k])
            unlink(k)
            count -= 1
        if before[i] >= 0:
            push(before[i])
        push(i)
    return tuple(items[k] for k in range(len(items)) if alive[k])


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
    if outer.protocol in PORTED:
        low, high = inner.port_range()
        outer_low, outer_high = outer.port_range()
        return outer_low <= low and high <= outer_high
    if outer.protocol in ICMPS:
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
