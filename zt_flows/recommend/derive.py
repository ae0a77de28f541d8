"""Carve proposed rules out of one existing rule and the units it was home to.

Shapes, from the narrowest to the broadest (the quota fitter moves a rule along them):

``exact``     observed ports (dense ranges only), peers as groups, prefix lists or at
              most ``max_cidrs_per_port`` covering prefixes per port;
``ranges``    each peer's ports as one range from the lowest to the highest observed,
              and the cap on covering prefixes counted per protocol, not per port;
``merged``    ``ranges`` and every address peer of a protocol as one covering prefix
              (still inside the existing rule);
``existing``  the existing rule itself.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from zt_flows.inventory.model import Direction
from zt_flows.recommend.peers import (
    EXTERNAL_KINDS,
    aws_prefix_list,
    choose_group,
    group_peer,
    rule_peer,
    serves_public,
)
from zt_flows.recommend.plan import Peer
from zt_flows.recommend.shapes import aggregate, peer_networks, port_ranges
from zt_flows.recommend.units import Unit
from zt_flows.rules.facts import NetworkFacts, network, subnet_of
from zt_flows.rules.semantics import ICMPS, PORTED, RulePeer, RuleSpec
from zt_flows.settings import RecommendSettings

Shape = Literal["exact", "ranges", "merged", "existing"]
SHAPES: tuple[Shape, ...] = ("exact", "ranges", "merged", "existing")
Slot = tuple[int, Direction, str]


@dataclass
class Proposal:
    """A rule the plan will hold, with the units it carries and the rules it came from."""

    group_id: str
    direction: Direction
    protocol: int | None
    from_port: int | None
    to_port: int | None
    peer: Peer
    sources: set[str] = field(default_factory=set)  # keys of the existing rules it narrows
    units: list[Unit] = field(default_factory=list)

    @property
    def identity(self) -> tuple[object, ...]:
        return (
            self.direction,
            -1 if self.protocol is None else self.protocol,
            -1 if self.from_port is None else self.from_port,
            -1 if self.to_port is None else self.to_port,
            self.peer.type,
            self.peer.value,
        )

    def spec(self) -> RuleSpec:
        return RuleSpec(
            self.group_id,
            self.direction,
            self.protocol,
            self.from_port,
            self.to_port,
            RulePeer(self.peer.type, self.peer.value),
        )

    def absorb(self, other: Proposal) -> None:
        self.sources |= other.sources
        seen = {u.slot for u in self.units}
        self.units.extend(u for u in other.units if u.slot not in seen)


class Deriver:
    """Derives proposals for homes of one plan; holds what peer choice needs to know."""

    def __init__(
        self,
        facts: NetworkFacts,
        settings: RecommendSettings,
        units: Iterable[Unit],
    ) -> None:
        self.facts = facts
        self.settings = settings
        observed: dict[tuple[str, Direction, int, int], set[str]] = defaultdict(set)
        peer_groups: dict[str, set[str]] = defaultdict(set)
        for unit in units:
            if unit.peer.is_eni:
                key = (
                    unit.home.group_id,
                    unit.direction,
                    unit.edge.protocol,
                    unit.edge.server_port,
                )
                observed[key].add(unit.peer.id)
                peer_groups[unit.peer.id].update(unit.peer.sgs)
        self.observed: Mapping[tuple[str, Direction, int, int], frozenset[str]] = {
            k: frozenset(v) for k, v in observed.items()
        }
        self.covers: dict[tuple[str, Direction, int, int], Counter[str]] = {
            k: Counter(g for p in v for g in peer_groups[p]) for k, v in observed.items()
        }
        self._chosen: dict[tuple[object, ...], str | None] = {}

    def target(self, unit: Unit) -> Peer | None:
        """The peer a unit's rule names, or None when only a CIDR of its address fits."""
        peer, local, home = unit.peer, unit.local, unit.home
        facts = self.facts
        private = peer.is_eni and facts.eni_holds(peer.id, ipaddress.ip_address(unit.address))
        if private and peer.sgs and facts.vpcs_joined(peer.vpc_id, local.vpc_id):
            key = (home.group_id, unit.direction, unit.edge.protocol, unit.edge.server_port)
            memo = (peer.id, peer.sgs, home.key, *key)
            if memo not in self._chosen:
                self._chosen[memo] = choose_group(
                    facts,
                    peer=peer,
                    home=home,
                    direction=unit.direction,
                    observed=self.observed.get(key, frozenset()),
                    covers=self.covers.get(key, Counter()),
                )
            chosen = self._chosen[memo]
            if chosen is not None:
                return group_peer(facts, chosen, home.group_id)
        if (
            unit.direction == "ingress"
            and home.peer.is_public_any
            and self.settings.keep_public_lb_ports
            and peer.kind in EXTERNAL_KINDS
            and serves_public(facts, local)
        ):
            return rule_peer(facts, home.peer, home.group_id)
        if not peer.is_eni:
            service = peer.id if peer.kind == "aws_service" else None
            pl = aws_prefix_list(facts, address=unit.address, service=service, home=home)
            if pl is not None:
                return rule_peer(facts, RulePeer("prefix_list", pl), home.group_id)
            if service is not None:
                # An AWS service's addresses change; without a prefix list that fits, its
                # existing range stays (narrowed to the observed ports only).
                return rule_peer(facts, home.peer, home.group_id)
        if home.peer.kind == "security_group":
            return rule_peer(facts, home.peer, home.group_id)  # nothing narrower to say
        return None

    def derive(self, home: RuleSpec, units: list[Unit], shape: Shape) -> list[Proposal]:
        if shape == "existing":
            itself = rule_peer(self.facts, home.peer, home.group_id)
            return [
                self._proposal(home, home.protocol, home.from_port, home.to_port, itself, units)
            ]
        peers: dict[Slot, Peer] = {}
        loose: dict[tuple[int, int], list[Unit]] = defaultdict(list)
        for unit in units:
            chosen = self.target(unit)
            if chosen is None:
                port = unit.edge.server_port if shape == "exact" else -1
                loose[(unit.edge.protocol, port)].append(unit)
            else:
                peers[unit.slot] = chosen
        allowance = peer_networks(home.peer, self.facts) or ()
        cap = 1 if shape == "merged" else self.settings.max_cidrs_per_port
        for _, group in sorted(loose.items()):
            nets = aggregate({u.address for u in group}, allowance, cap)
            for unit in group:
                host = network(unit.address)
                net = next(n for n in nets if subnet_of(host, n))
                peers[unit.slot] = Peer(type="cidr", value=str(net))
        by_peer: dict[Peer, list[Unit]] = defaultdict(list)
        for unit in units:
            by_peer[peers[unit.slot]].append(unit)
        out = []
        for peer, carried in sorted(by_peer.items()):
            out.extend(self._ports(home, peer, carried, shape))
        return out

    def _ports(self, home: RuleSpec, peer: Peer, units: list[Unit], shape: Shape) -> list[Proposal]:
        protocols = sorted({u.edge.protocol for u in units})
        if home.protocol is None and len(protocols) >= self.settings.all_traffic_min_protocols:
            return [self._proposal(home, None, None, None, peer, units)]
        out = []
        for protocol in protocols:
            carried = [u for u in units if u.edge.protocol == protocol]
            if protocol in PORTED:
                ports = {u.edge.server_port for u in carried}
                ranges = (
                    port_ranges(ports, self.settings.port_range_density)
                    if shape == "exact"
                    else ((min(ports), max(ports)),)
                )
                for low, high in ranges:
                    inside = [u for u in carried if low <= u.edge.server_port <= high]
                    out.append(self._proposal(home, protocol, low, high, peer, inside))
            elif protocol in ICMPS and home.protocol == protocol:
                # Flow logs cannot tell ICMP types apart: keep what the rule said.
                out.append(
                    self._proposal(home, protocol, home.from_port, home.to_port, peer, carried)
                )
            else:
                out.append(self._proposal(home, protocol, None, None, peer, carried))
        return out

    @staticmethod
    def _proposal(
        home: RuleSpec,
        protocol: int | None,
        low: int | None,
        high: int | None,
        peer: Peer,
        units: list[Unit],
    ) -> Proposal:
        return Proposal(
            home.group_id, home.direction, protocol, low, high, peer, {home.key}, list(units)
        )


def merge_proposals(proposals: Iterable[Proposal]) -> list[Proposal]:
    """One proposal per distinct rule, sorted; equal rules from several homes are one."""
    merged: dict[tuple[object, ...], Proposal] = {}
    for proposal in proposals:
        existing = merged.get(proposal.identity)
        if existing is None:
            merged[proposal.identity] = Proposal(
                proposal.group_id,
                proposal.direction,
                proposal.protocol,
                proposal.from_port,
                proposal.to_port,
                proposal.peer,
                set(proposal.sources),
                list(proposal.units),
            )
        else:
            existing.absorb(proposal)
    return [merged[k] for k in sorted(merged, key=repr)]
