"""Carve proposed rules out of one existing rule and the units it was home to.

Which peer a proposal names is the safety principle's decision (:mod:`.safety`): a group,
an AWS-managed prefix list or a named network where the peers form a closed population;
the existing rule's own range where they do not; the existing rule as it is for traffic
from addresses no known ENI holds. Ports narrow to what was observed.

Shapes, from the narrowest to the broadest (the quota fitter moves a rule along them):

``exact``     observed ports (dense ranges only; ranges in use as ranges stay ranges);
``ranges``    each peer's ports as one range from the lowest to the highest observed;
``existing``  the existing rule itself.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from zt_flows.addresses import parse_address
from zt_flows.recommend.peers import choose_group, rule_peer
from zt_flows.recommend.safety import KeptFor, Population, Populations
from zt_flows.recommend.shapes import port_ranges
from zt_flows.recommend.units import Unit
from zt_flows.rules import NetworkFacts, RulePeer, RuleSpec
from zt_flows.settings import RecommendSettings
from zt_flows.vocabulary import PORTS, RULE_PORTED, RULE_TYPED, Direction

Shape = Literal["exact", "ranges", "existing"]
SHAPES: tuple[Shape, ...] = ("exact", "ranges", "existing")
Slot = tuple[int, Direction, str]


@dataclass
class Proposal:
    """A rule the plan will hold, with the units it carries and the rules it came from."""

    group_id: str
    direction: Direction
    protocol: int | None
    from_port: int | None
    to_port: int | None
    peer: RulePeer
    sources: set[str] = field(default_factory=set)  # keys of the existing rules it narrows
    units: list[Unit] = field(default_factory=list)
    # Why the peer range was not narrowed further (empty: a closed population).
    kept: set[KeptFor] = field(default_factory=set)
    why: set[str] = field(default_factory=set)

    @property
    def identity(self) -> tuple[object, ...]:
        return (
            self.direction,
            -1 if self.protocol is None else self.protocol,
            -1 if self.from_port is None else self.from_port,
            -1 if self.to_port is None else self.to_port,
            self.peer.kind,
            self.peer.value,
        )

    def spec(self) -> RuleSpec:
        return RuleSpec(
            self.group_id,
            self.direction,
            self.protocol,
            self.from_port,
            self.to_port,
            self.peer,
        )

    def absorb(self, other: Proposal, *, sources: bool = True) -> None:
        """Carry ``other``'s units (and, unless told not to, the rules it narrows)."""
        if sources:
            self.sources |= other.sources
        self.kept |= other.kept
        self.why |= other.why
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
        units = list(units)
        # The server side's rule of each edge (by the edge's index): where a client's
        # egress mirrors a server's ingress range.
        self.ingress_homes: dict[int, RuleSpec] = {
            u.index: u.home for u in units if u.direction == "ingress"
        }
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
        self._targets: dict[tuple[object, ...], Population] = {}
        self.populations = Populations(facts)

    def target(self, unit: Unit) -> Population:
        """Who ``unit``'s peer stands for, and the peer its rule may name."""
        # What the answer reads of a unit: its peer, the local side's VPC (not which ENI
        # it is), the home rule, the direction, the peer's address, protocol and port. The
        # members of a group meeting one peer share it.
        memo = (
            unit.peer,
            unit.local.vpc_id,
            unit.home,
            unit.direction,
            unit.address,
            unit.edge.protocol,
            unit.edge.server_port,
        )
        found = self._targets.get(memo)
        if found is None:
            found = self._targets[memo] = self._target(unit)
        return found

    def _target(self, unit: Unit) -> Population:
        peer, local, home = unit.peer, unit.local, unit.home
        facts = self.facts
        private = peer.is_eni and facts.eni_holds(peer.id, parse_address(unit.address))
        if peer.is_eni and not private:
            # Reached through its public address: a group reference matches private
            # addresses only, and a public address of an instance changes with it.
            return Population(
                "open",
                rule_peer(facts, home.peer, home.group_id),
                "open_population",
                f"{peer.id} was reached through a public address",
            )
        chosen = None
        if private and peer.sgs and facts.vpcs_joined(peer.vpc_id, local.vpc_id):
            key = (home.group_id, unit.direction, unit.edge.protocol, unit.edge.server_port)
            # choose_group reads the peer's groups, not which ENI it is: one choice per
            # group set, however many members of it were seen.
            memo = (peer.sgs, home.key, *key)
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
        return self.populations.of(unit, group_id=chosen)

    def derive(self, home: RuleSpec, units: list[Unit], shape: Shape) -> list[Proposal]:
        itself = rule_peer(self.facts, home.peer, home.group_id)
        if shape == "existing":
            proposal = self._proposal(
                home, home.protocol, home.from_port, home.to_port, itself, units
            )
            for unit in units:
                population = self.target(unit)
                if population.kept_for is not None:
                    proposal.kept.add(population.kept_for)
                    proposal.why.add(population.why)
                if unit.kept_for is not None:
                    proposal.kept.add(unit.kept_for)
            return [proposal]
        whole: list[Unit] = []
        by_peer: dict[RulePeer, list[Unit]] = defaultdict(list)
        reasons: dict[RulePeer, Population] = {}
        for unit in units:
            population = self.target(unit)
            if population.peer is None:
                whole.append(unit)
                reasons[itself] = population
                continue
            by_peer[population.peer].append(unit)
            if population.kept_for is not None:
                reasons.setdefault(population.peer, population)
        out = []
        if whole:
            # Traffic from addresses no known ENI holds: the rule that admitted it stays.
            proposal = self._proposal(
                home, home.protocol, home.from_port, home.to_port, itself, whole
            )
            out.append(proposal)
        for peer, carried in sorted(by_peer.items()):
            out.extend(self._ports(home, peer, carried, shape))
        for proposal in out:
            reason = reasons.get(proposal.peer)
            if reason is not None and reason.kept_for is not None:
                proposal.kept.add(reason.kept_for)
                proposal.why.add(reason.why)
            proposal.kept.update(u.kept_for for u in proposal.units if u.kept_for is not None)
        return out

    def _ports(
        self, home: RuleSpec, peer: RulePeer, units: list[Unit], shape: Shape
    ) -> list[Proposal]:
        protocols = sorted({u.edge.protocol for u in units})
        if home.protocol is None and len(protocols) >= self.settings.all_traffic_min_protocols:
            return [self._proposal(home, None, None, None, peer, units)]
        out = []
        for protocol in protocols:
            carried = [u for u in units if u.edge.protocol == protocol]
            if protocol in RULE_PORTED:
                ports = {u.edge.server_port for u in carried}
                ranges = (
                    self._port_ranges(home, ports, self._mirrored(carried))
                    if shape == "exact"
                    else ((min(ports), max(ports)),)
                )
                for low, high in ranges:
                    inside = [u for u in carried if low <= u.edge.server_port <= high]
                    out.append(self._proposal(home, protocol, low, high, peer, inside))
            elif protocol in RULE_TYPED and home.protocol == protocol:
                # Flow logs cannot tell ICMP types apart: keep what the rule said.
                out.append(
                    self._proposal(home, protocol, home.from_port, home.to_port, peer, carried)
                )
            else:
                out.append(self._proposal(home, protocol, None, None, peer, carried))
        return out

    def _mirrored(self, units: list[Unit]) -> tuple[tuple[int, int], ...]:
        """For egress units, the port ranges of the servers' ingress rules that admitted the
        same traffic: the client side keeps a range the server side uses as a range."""
        out = set()
        for unit in units:
            if unit.direction != "egress":
                continue
            server_home = self.ingress_homes.get(unit.index)
            if server_home is not None and server_home.protocol == unit.edge.protocol:
                out.add(server_home.port_range())
        return tuple(sorted(out))

    def _port_ranges(
        self, home: RuleSpec, ports: set[int], mirrored: tuple[tuple[int, int], ...] = ()
    ) -> tuple[tuple[int, int], ...]:
        """Observed ports as rule ranges: ranges in use as ranges stay whole.

        A rule written as a port range (passive FTP data ports, RTP) whose ports were seen
        spread across it keeps its range; so does a configured range (NodePorts) within the
        rule, and on the client's side the range the server's rule uses; the rest merge only
        where dense (``port_range_density``).
        """
        low, high = home.port_range()
        minimum = self.settings.range_min_ports
        bounded = home.protocol is not None and not home.all_ports and low < high
        if bounded and len(ports) >= minimum:
            return ((low, high),)
        out: list[tuple[int, int]] = []
        rest = set(ports)
        candidates = [
            r for r in mirrored if r != (0, PORTS - 1) and r[0] < r[1] and low <= r[0] <= high
        ]
        for range_low, range_high in [*candidates, *sorted(self.settings.port_ranges)]:
            inside = {p for p in rest if range_low <= p <= range_high}
            if len(inside) >= minimum:
                out.append((max(range_low, low), min(range_high, high)))
                rest -= inside
        out.extend(port_ranges(rest, self.settings.port_range_density))
        return tuple(sorted(out))

    @staticmethod
    def _proposal(
        home: RuleSpec,
        protocol: int | None,
        low: int | None,
        high: int | None,
        peer: RulePeer,
        units: list[Unit],
    ) -> Proposal:
        return Proposal(
            home.group_id, home.direction, protocol, low, high, peer, {home.key}, list(units)
        )


def drop_contained(proposals: list[Proposal], facts: NetworkFacts) -> list[Proposal]:
    """Proposals that another proposal of the list contains give it their traffic and go.

    (An AWS-managed list beside 0.0.0.0/0 on the same port, a group beside the range that
    holds it: the narrower rule adds nothing the wider one does not allow.) The wider
    proposal does not take over the narrower one's sources: it already lies inside its own.
    """
    from zt_flows.recommend.shapes import rule_within

    ordered = sorted(proposals, key=lambda p: repr(p.identity))
    specs = [p.spec() for p in ordered]
    gone: set[int] = set()
    for i, inner in enumerate(ordered):
        for j, outer in enumerate(ordered):
            if i == j or j in gone or inner.direction != outer.direction:
                continue
            if rule_within(specs[i], specs[j], facts):
                outer.absorb(inner, sources=False)
                gone.add(i)
                break
    return [p for i, p in enumerate(ordered) if i not in gone]


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
                set(proposal.kept),
                set(proposal.why),
            )
        else:
            existing.absorb(proposal)
    return [merged[k] for k in sorted(merged, key=repr)]
