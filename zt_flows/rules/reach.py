"""Internet reach: which ports of internet-facing ENIs admit public addresses, and how many.

An ingress rule makes a port internet-reachable when its peer holds *any* public address,
not only when it is ``0.0.0.0/0`` or ``::/0``: ``0.0.0.0/1`` still admits about half of
the IPv4 internet, an office's ``/32`` one host of it, a prefix list its public entries.
Public space is everything outside the non-public blocks (RFC 1918, shared, loopback,
link-local, unique-local) and the CIDRs of the inventory's VPCs
(:attr:`NetworkFacts.internal_blocks`): a VPC's IPv6 block is globally routable, but its
addresses are the VPC's own ENIs, so a rule for it admits no internet host, while a rule
for a block around it (``2600:1f18::/32``) admits everything else in that block.

Internet-facing, per address family:

- IPv4: the ENI holds a public IPv4 address (an Elastic or auto-assigned address; an
  internet-facing load balancer's nodes hold one each), or it may be the target of an
  internet-facing Network Load Balancer in its VPC. With client IP preservation
  (always on for instance targets and UDP, the default for IPv4 instance targets) the
  target sees the client's public address on its private one, so its own rules decide:
  https://docs.aws.amazon.com/elasticloadbalancing/latest/network/edit-target-group-attributes.html#client-ip-preservation
  The inventory holds no target groups, so every ENI of a VPC with an internet-facing
  NLB node counts as a possible target (Lambda ENIs excepted: they are never NLB
  targets), marked ``path="nlb"``; an NLB in another VPC reaching IP targets through a
  peering is not followed.
- IPv6: the ENI holds a global (not unique-local) IPv6 address. An IPv6 client reaches
  an IPv6 target with its own address, so a possible NLB target with a global address is
  internet-facing by that address already.

A port is measured per family the ENI faces: an IPv4-only ENI is not reachable through a
``::/0`` rule, ``icmp`` rules admit IPv4 peers only and ``icmpv6`` rules IPv6 peers only.

Each reachable ENI port range is one entry (``eni-…:tcp/443``): a maximal range of ports
over which the same rule peers admit public addresses. An entry carries how many public
IPv4 and IPv6 addresses those peers admit and the share of all public space that is, the
peers themselves, and when every such peer is an AWS-managed prefix list the services
they name (``cloudfront``: reachable from CloudFront only). A prefix list the inventory
does not hold may admit public addresses: the port counts as reachable, with the list in
``unmeasured`` and only the known peers measured.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from zt_flows.addresses import IPNetwork, network
from zt_flows.inventory.model import InterfaceRole, NetworkInterface
from zt_flows.rules.facts import NetworkFacts
from zt_flows.rules.ports import PROTOCOLS, Intervals, entry_text, rule_ports, size, subtract, union
from zt_flows.rules.semantics import RulePeer, RuleSet

ReachPath = Literal["address", "nlb"]
# Which address families a protocol's rules admit: ICMP travels over IPv4, ICMPv6 over IPv6.
_FAMILIES: Mapping[str, tuple[int, ...]] = {
    "tcp": (4, 6),
    "udp": (4, 6),
    "icmp": (4,),
    "icmpv6": (6,),
}
_SPACE = {4: 1 << 32, 6: 1 << 128}


@dataclass(frozen=True)
class ReachEntry:
    """One ENI port range reachable from public addresses, and how much of the internet."""

    entry: str  # "eni-…:tcp/443", "eni-…:udp/1000-1009", "eni-…:icmp"
    ipv4_addresses: int  # public IPv4 addresses admitted on these ports
    ipv6_addresses: int
    ipv4_share: float  # of all public IPv4 space (1.0: 0.0.0.0/0)
    ipv6_share: float
    peers: tuple[str, ...]  # CIDRs and prefix-list ids admitting public addresses, sorted
    services: tuple[str, ...]  # every peer an AWS-managed prefix list: their services
    unmeasured: tuple[str, ...]  # prefix lists the inventory does not hold
    path: ReachPath  # "address": the ENI holds a public address; "nlb": a possible NLB target


@dataclass(frozen=True)
class InternetReach:
    entries: tuple[ReachEntry, ...]  # sorted by entry
    public_ipv4: int  # the size of public IPv4 space: what a share of 1.0 means
    public_ipv6: int


@dataclass(frozen=True)
class _Opening:
    """What one ingress rule's peer admits from the public space, per family."""

    peer: RulePeer
    spans: Mapping[int, Intervals]  # family -> public addresses as integer intervals
    service: str | None  # for an AWS-managed prefix list
    unknown: bool  # a prefix list the inventory does not hold


def _span(nets: Iterable[IPNetwork], version: int) -> Intervals:
    return union(
        tuple(
            (int(n.network_address), int(n.broadcast_address)) for n in nets if n.version == version
        ),
        (),
    )


class _PublicSpace:
    def __init__(self, facts: NetworkFacts) -> None:
        self.facts = facts
        self.internal = {v: _span(facts.internal_blocks, v) for v in (4, 6)}
        self.total = {v: _SPACE[v] - size(self.internal[v]) for v in (4, 6)}
        self._openings: dict[RulePeer, _Opening | None] = {}

    def opening(self, peer: RulePeer) -> _Opening | None:
        """The public addresses a CIDR or prefix-list peer admits; None for none at all."""
        if peer not in self._openings:
            self._openings[peer] = self._measure(peer)
        return self._openings[peer]

    def _measure(self, peer: RulePeer) -> _Opening | None:
        if peer.kind == "cidr":
            nets: tuple[IPNetwork, ...] | None = (network(peer.value),)
            service = None
        elif peer.kind == "prefix_list":
            nets = self.facts.prefix_list_networks(peer.value)
            pl = self.facts.prefix_list(peer.value)
            service = pl.service if pl is not None and pl.aws_managed else None
        else:
            return None
        if nets is None:
            return _Opening(peer, {4: (), 6: ()}, None, unknown=True)
        spans = {v: subtract(_span(nets, v), self.internal[v]) for v in (4, 6)}
        if not spans[4] and not spans[6]:
            return None
        return _Opening(peer, spans, service, unknown=False)


def _facing(eni: NetworkInterface, nlb_vpcs: frozenset[str]) -> tuple[set[int], ReachPath]:
    """The families from which the internet reaches the ENI, and how."""
    families: set[int] = set()
    if eni.public_ips:
        families.add(4)
    if any(not ipaddress.ip_address(a).is_private for a in eni.ipv6s):
        families.add(6)
    path: ReachPath = "address"
    if 4 not in families and eni.vpc_id in nlb_vpcs and eni.role is not InterfaceRole.LAMBDA:
        families.add(4)
        path = "nlb" if 6 not in families else "address"
    return families, path


def _nlb_vpcs(enis: Iterable[NetworkInterface]) -> frozenset[str]:
    """VPCs holding an internet-facing Network Load Balancer node (a public IPv4 address)."""
    return frozenset(
        e.vpc_id for e in enis if e.role is InterfaceRole.NETWORK_LOAD_BALANCER and e.public_ips
    )


def measure_internet_reach(ruleset: RuleSet, facts: NetworkFacts) -> InternetReach:
    """Every ENI port range that admits public addresses, measured (see the module doc)."""
    space = _PublicSpace(facts)
    nlb_vpcs = _nlb_vpcs(facts.current.values())
    entries: list[ReachEntry] = []
    for eni in facts.current.values():
        if not eni.security_group_ids:
            continue
        families, path = _facing(eni, nlb_vpcs)
        if families:
            entries += _entries(eni, families, path, ruleset, space)
    return InternetReach(
        entries=tuple(sorted(entries, key=lambda e: e.entry)),
        public_ipv4=space.total[4],
        public_ipv6=space.total[6],
    )


def _entries(
    eni: NetworkInterface,
    families: set[int],
    path: ReachPath,
    ruleset: RuleSet,
    space: _PublicSpace,
) -> list[ReachEntry]:
    openings: dict[str, list[tuple[Intervals, _Opening]]] = {}
    for group_id in eni.security_group_ids:
        for rule in ruleset.of(group_id, "ingress"):
            opening = space.opening(rule.peer)
            if opening is None:
                continue
            for proto, ports in rule_ports(rule).items():
                faced = [v for v in _FAMILIES[proto] if v in families]
                if faced and (opening.unknown or any(opening.spans[v] for v in faced)):
                    openings.setdefault(proto, []).append((ports, opening))
    out = []
    for proto in PROTOCOLS:
        wanted = tuple(v for v in _FAMILIES[proto] if v in families)
        for low, high, found in _segments(openings.get(proto, [])):
            out.append(_entry(entry_text(eni.id, proto, low, high), found, wanted, path, space))
    return out


def _segments(
    openings: list[tuple[Intervals, _Opening]],
) -> list[tuple[int, int, tuple[_Opening, ...]]]:
    """Maximal port ranges over which the same openings apply, ascending."""
    if not openings:
        return []
    cuts = sorted({p for ports, _ in openings for low, high in ports for p in (low, high + 1)})
    out: list[tuple[int, int, tuple[_Opening, ...]]] = []
    for low, nxt in pairwise(cuts):
        high = nxt - 1
        found = {
            o.peer: o for ports, o in openings if any(a <= low and high <= b for a, b in ports)
        }
        if not found:
            continue
        here = tuple(found[p] for p in sorted(found))
        if out and out[-1][1] + 1 == low and out[-1][2] == here:
            out[-1] = (out[-1][0], high, here)
        else:
            out.append((low, high, here))
    return out


def _entry(
    entry: str,
    found: tuple[_Opening, ...],
    families: tuple[int, ...],
    path: ReachPath,
    space: _PublicSpace,
) -> ReachEntry:
    count = dict.fromkeys((4, 6), 0)
    for v in families:
        merged: Intervals = ()
        for o in found:
            merged = union(merged, o.spans[v])
        count[v] = size(merged)
    services = tuple(sorted({o.service for o in found if o.service}))
    only_services = all(o.service for o in found)
    return ReachEntry(
        entry=entry,
        ipv4_addresses=count[4],
        ipv6_addresses=count[6],
        ipv4_share=count[4] / space.total[4] if space.total[4] else 0.0,
        ipv6_share=count[6] / space.total[6] if space.total[6] else 0.0,
        peers=tuple(o.peer.value for o in found),
        services=services if only_services else (),
        unmeasured=tuple(o.peer.value for o in found if o.unknown),
        path=path,
    )
