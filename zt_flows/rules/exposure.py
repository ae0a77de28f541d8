"""Exposure: how many (source, destination ENI, protocol, port) combinations rules allow.

Sources are every ENI of the inventory plus the external classes (internet, on-premises,
peered or other private space); destinations are every ENI with security groups;
protocols are tcp and udp (65,536 ports each) and icmp and icmpv6 (one each, flow logs
cannot tell types apart). A combination is allowed when the destination's ingress rules
admit the source on that port and, for an ENI source, the source's egress rules admit
the destination too. An ENI is matched by a CIDR or prefix-list rule when one of its
addresses is; an external class when the rule's range holds some address of the class.
ENIs without security groups (NAT and transit gateways) are neither sources nor
destinations: nothing a security group says applies to them.

ENIs with the same groups, VPC and set of matching CIDR/prefix-list peers behave the
same on both ends, so the count runs over those equivalence classes, not ENI pairs.

Internet reach (:mod:`zt_flows.rules.reach`): on internet-facing ENIs, every port an
ingress rule opens to any public address, with how much of the public address space
each admits.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zt_flows.addresses import IPNetwork, bounds, collapse, network, overlaps, parse_address
from zt_flows.rules.facts import NetworkFacts
from zt_flows.rules.ports import PortSets, add_ports, intersect, ports_size, rule_ports
from zt_flows.rules.reach import ReachEntry, measure_internet_reach
from zt_flows.rules.semantics import RulePeer, RuleSet, RuleSpec

EXTERNAL_CLASSES = ("internet", "onprem", "private")


@dataclass(frozen=True)
class ExposureCount:
    combinations: int
    # Internet-facing ENI port ranges admitting any public address, sorted:
    # "eni-…:tcp/443", "eni-…:tcp/0-65535", "eni-…:icmp".
    internet_reachable: tuple[str, ...]
    # The same entries, measured: public addresses admitted, peers, path (same order).
    reach: tuple[ReachEntry, ...] = ()
    public_ipv4: int = 0  # the size of public IPv4 space (a share of 1.0)
    public_ipv6: int = 0


@dataclass(frozen=True)
class _Class:
    groups: tuple[str, ...]
    vpc_id: str | None
    signature: frozenset[RulePeer]  # CIDR / prefix-list peers matching one of its addresses


class _Space:
    """Which address classes a CIDR or prefix-list peer admits."""

    def __init__(self, facts: NetworkFacts, onprem: Sequence[str]) -> None:
        self.facts = facts
        self.onprem = tuple(network(c) for c in onprem)
        self.eni_addresses = [
            a for eni in facts.current.values() if eni.security_group_ids for a in eni.addresses
        ]
        # The same addresses as sorted integers per IP version, made on first use: how many
        # a CIDR holds is then two binary searches, not a walk over every ENI's addresses.
        self._held: dict[int, list[int]] | None = None

    def nets(self, peer: RulePeer) -> tuple[IPNetwork, ...]:
        if peer.kind == "cidr":
            return (network(peer.value),)
        return self.facts.prefix_list_networks(peer.value) or ()

    def admits(self, peer: RulePeer, klass: str) -> bool:
        nets = self.nets(peer)
        if klass == "internet":
            return any(self.facts.reaches_internet(n) for n in nets)
        if klass == "onprem":
            return any(overlaps(n, o) for n in nets for o in self.onprem)
        return any(self._private_spare(n) for n in nets)

    def _private_spare(self, net: IPNetwork) -> bool:
        """Whether the CIDR holds internal addresses other than known ENIs and on-premises."""
        internal = (_overlap(net, b) for b in self.facts.internal_blocks)
        onprem = (_overlap(net, o) for o in self.onprem)
        size = _size_of(internal) - _size_of(onprem)
        return size > self._held_in(net)

    def _held_in(self, net: IPNetwork) -> int:
        """How many of the ENI addresses ``net`` holds (an address held twice counts twice)."""
        if self._held is None:
            self._held = defaultdict(list)
            for text in self.eni_addresses:
                address = parse_address(text)
                self._held[address.version].append(int(address))
            for values in self._held.values():
                values.sort()
        version, first, last = bounds(net)
        values = self._held.get(version, [])
        return bisect_right(values, last) - bisect_left(values, first)


def _size_of(nets: Iterable[IPNetwork | None]) -> int:
    return sum(n.num_addresses for n in collapse(n for n in nets if n is not None))


def _overlap(a: IPNetwork, b: IPNetwork) -> IPNetwork | None:
    """The intersection of two CIDRs: the smaller one when they nest, else nothing."""
    if not overlaps(a, b):
        return None
    return a if a.prefixlen >= b.prefixlen else b


def measure_exposure(
    ruleset: RuleSet, facts: NetworkFacts, *, onprem_cidrs: Sequence[str] = ()
) -> ExposureCount:
    """The exposure of a rule set (today's, or a plan's) over the inventory's ENIs."""
    space = _Space(facts, onprem_cidrs)
    address_peers = sorted(
        {r.peer for r in ruleset.rules if r.peer.kind in ("cidr", "prefix_list")}
    )
    peer_nets = {p: space.nets(p) for p in address_peers}
    enis = [e for e in facts.current.values() if e.security_group_ids]
    classes: Counter[_Class] = Counter()
    for eni in enis:
        addresses = [parse_address(a) for a in eni.addresses]
        signature = frozenset(
            p
            for p in address_peers
            if any(a.version == n.version and a in n for a in addresses for n in peer_nets[p])
        )
        classes[_Class(tuple(sorted(eni.security_group_ids)), eni.vpc_id, signature)] += 1

    externals = [k for k in EXTERNAL_CLASSES if k != "onprem" or onprem_cidrs]
    total = 0
    for dest, dest_count in classes.items():
        ingress = [r for g in dest.groups for r in ruleset.of(g, "ingress")]
        for source, source_count in classes.items():
            pairs = dest_count * (dest_count - 1) if source == dest else dest_count * source_count
            if not pairs:
                continue
            admitted = _admitted(ingress, source, facts)
            if not admitted:
                continue
            egress = [r for g in source.groups for r in ruleset.of(g, "egress")]
            sent = _reaching(egress, dest, facts)
            allowed = {p: intersect(admitted[p], sent[p]) for p in admitted if p in sent}
            total += pairs * ports_size(allowed)
        for klass in externals:
            ports: PortSets = {}
            for rule in ingress:
                if rule.peer.kind != "security_group" and space.admits(rule.peer, klass):
                    add_ports(ports, rule_ports(rule))
            total += dest_count * ports_size(ports)
    reach = measure_internet_reach(ruleset, facts)
    return ExposureCount(
        combinations=total,
        internet_reachable=tuple(e.entry for e in reach.entries),
        reach=reach.entries,
        public_ipv4=reach.public_ipv4,
        public_ipv6=reach.public_ipv6,
    )


def _admitted(ingress: Iterable[RuleSpec], source: _Class, facts: NetworkFacts) -> PortSets:
    ports: PortSets = {}
    for rule in ingress:
        if rule.peer.kind == "security_group":
            hit = rule.peer.value in source.groups and facts.vpcs_joined(
                source.vpc_id, facts.group_vpc.get(rule.group_id)
            )
        else:
            hit = rule.peer in source.signature
        if hit:
            add_ports(ports, rule_ports(rule))
    return ports


def _reaching(egress: Iterable[RuleSpec], dest: _Class, facts: NetworkFacts) -> PortSets:
    ports: PortSets = {}
    for rule in egress:
        if rule.peer.kind == "security_group":
            hit = rule.peer.value in dest.groups and facts.vpcs_joined(
                dest.vpc_id, facts.group_vpc.get(rule.group_id)
            )
        else:
            hit = rule.peer in dest.signature
        if hit:
            add_ports(ports, rule_ports(rule))
    return ports
