"""The protocol/port space a rule opens, as merged intervals per counted protocol.

Exposure counts four protocols: tcp and udp (65,536 ports each), icmp and icmpv6 (one
"port" each: flow logs carry port 0 for ICMP and cannot tell types apart). An
all-traffic rule (AWS ``-1``) opens all four; a rule for another protocol number opens
none of them.
"""

from __future__ import annotations

from zt_flows.rules.semantics import RuleSpec
from zt_flows.vocabulary import (
    IP_PROTOCOL_NUMBERS,
    PORTS,
    RULE_PORTED,
    RULE_TYPED,
    ip_protocol,
    port_range_label,
)

Intervals = tuple[tuple[int, int], ...]  # sorted, disjoint, inclusive
PortSets = dict[str, Intervals]
PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6")


def all_ports() -> PortSets:
    return {
        "tcp": ((0, PORTS - 1),),
        "udp": ((0, PORTS - 1),),
        "icmp": ((0, 0),),
        "icmpv6": ((0, 0),),
    }


def union(a: Intervals, b: Intervals) -> Intervals:
    """Merged intervals: overlapping and adjacent ones become one."""
    merged: list[tuple[int, int]] = []
    for low, high in sorted(a + b):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return tuple(merged)


def intersect(a: Intervals, b: Intervals) -> Intervals:
    out = []
    for low_a, high_a in a:
        for low_b, high_b in b:
            low, high = max(low_a, low_b), min(high_a, high_b)
            if low <= high:
                out.append((low, high))
    return union(tuple(out), ())


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """What of ``a`` lies outside ``b`` (both merged)."""
    out: list[tuple[int, int]] = []
    for low, high in a:
        start = low
        for b_low, b_high in b:
            if b_high < start or b_low > high:
                continue
            if b_low > start:
                out.append((start, b_low - 1))
            start = max(start, b_high + 1)
            if start > high:
                break
        if start <= high:
            out.append((start, high))
    return tuple(out)


def size(intervals: Intervals) -> int:
    return sum(high - low + 1 for low, high in intervals)


def rule_ports(rule: RuleSpec) -> PortSets:
    """The protocol/port space a rule opens, in the four counted protocols."""
    if rule.protocol is None:
        return all_ports()
    if rule.protocol in RULE_PORTED:
        return {ip_protocol(rule.protocol): (rule.port_range(),)}
    if rule.protocol in RULE_TYPED:
        return {ip_protocol(rule.protocol): ((0, 0),)}
    return {}


def add_ports(into: PortSets, more: PortSets) -> None:
    for proto, intervals in more.items():
        into[proto] = union(into.get(proto, ()), intervals)


def ports_size(ports: PortSets) -> int:
    return sum(size(intervals) for intervals in ports.values())


def entry_text(eni_id: str, protocol: str, low: int, high: int) -> str:
    """``eni-…:tcp/443``, ``eni-…:udp/1000-1009``, ``eni-…:icmp``."""
    return f"{eni_id}:{port_range_label(IP_PROTOCOL_NUMBERS[protocol], low, high)}"
