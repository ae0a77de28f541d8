"""Evaluate conversations against a rule set: which rules admit each side, and the narrowest.

Security groups are allow-only and stateful: only the request direction is evaluated,
ingress at the server's ENI over the union of its groups, egress at the client's ENI
over the union of its groups. A response needs no rule. An external side (internet,
AWS service, peered or on-premises address) has no groups and is not evaluated. An
ENI without groups (NAT and transit gateways) or one the inventory does not know is
*not evaluable*: reported, never guessed.

AWS: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zt_flows.addresses import IPAddress, IPNetwork, network, parse_address
from zt_flows.rules.edges import Edge, EdgeSide
from zt_flows.rules.facts import NetworkFacts
from zt_flows.rules.semantics import RulePeer, RuleSet, RuleSpec
from zt_flows.vocabulary import Direction

Verdict = Literal["allowed", "denied", "external", "not_evaluable"]


@dataclass(frozen=True)
class SideMatch:
    """One side's decision: the verdict, every rule that matched, and the narrowest ones.

    ``homes`` pairs each admitted peer address with the narrowest rule admitting it: the
    rule the conversation is attributed to.
    """

    direction: Direction
    verdict: Verdict
    matched: tuple[str, ...] = ()
    homes: tuple[tuple[str, str], ...] = ()
    reason: str | None = None

    @property
    def allowed(self) -> bool:
        return self.verdict == "allowed"

    @property
    def attributed(self) -> tuple[str, ...]:
        return tuple(sorted({key for _, key in self.homes}))


@dataclass(frozen=True)
class EdgeVerdict:
    edge: Edge
    ingress: SideMatch
    egress: SideMatch

    def side(self, direction: Direction) -> SideMatch:
        return self.ingress if direction == "ingress" else self.egress

    @property
    def verdict(self) -> Verdict:
        verdicts = {self.ingress.verdict, self.egress.verdict}
        order: tuple[Verdict, ...] = ("denied", "not_evaluable", "allowed")
        return next((v for v in order if v in verdicts), "external")

    @property
    def allowed(self) -> bool:
        return self.verdict == "allowed"


def sides(edge: Edge, direction: Direction) -> tuple[EdgeSide, EdgeSide]:
    """(the side whose rules decide, the peer it talks to) for a direction."""
    return (edge.server, edge.client) if direction == "ingress" else (edge.client, edge.server)


class Evaluator:
    """Decides edges against one rule set; caches per distinct conversation shape.

    The rule set is fixed for the evaluator's life. The verdict for an ENI with groups
    depends on its groups and VPC, not on which ENI it is, so the members of a group share
    one cached verdict per peer; the rules a group set applies to a protocol and port are
    gathered once.
    """

    def __init__(self, facts: NetworkFacts, ruleset: RuleSet) -> None:
        self.facts = facts
        self.ruleset = ruleset
        self._cache: dict[tuple[object, ...], SideMatch] = {}
        self._rank: dict[RuleSpec, tuple[int, bool, int, str, str]] = {}
        self._nets: dict[str, IPNetwork] = {}
        self._applied: dict[tuple[object, ...], tuple[RuleSpec, ...]] = {}

    # ------------------------------------------------------------------ ranking

    def peer_size(self, peer: RulePeer) -> int:
        if peer.kind == "cidr":
            return self._net(peer.value).num_addresses
        if peer.kind == "prefix_list":
            return self.facts.prefix_list_size(peer.value)
        return max(self.facts.group_size(peer.value), 1)

    def narrowness(self, rule: RuleSpec) -> int:
        """Peer size times protocol/port size: smaller is narrower."""
        return self.peer_size(rule.peer) * rule.ports_size()

    def rank(self, rule: RuleSpec) -> tuple[int, bool, int, str, str]:
        """Order rules from narrowest: size, then a non-default group, fewer members, ids.

        Equal rules in two groups of one ENI (every group's "all to 0.0.0.0/0") are
        attributed to the group with fewer members: the one that names the workload.
        """
        cached = self._rank.get(rule)
        if cached is None:
            cached = (
                self.narrowness(rule),
                rule.group_id in self.facts.default_groups,
                self.facts.member_count(rule.group_id),
                rule.group_id,
                rule.key,
            )
            self._rank[rule] = cached
        return cached

    # ------------------------------------------------------------------ matching

    def _net(self, text: str) -> IPNetwork:
        net = self._nets.get(text)
        if net is None:
            net = self._nets[text] = network(text)
        return net

    def peer_matches(
        self, peer: RulePeer, side: EdgeSide, address: IPAddress, local_vpc: str | None
    ) -> bool:
        """Whether a rule's peer admits ``address`` used by ``side``."""
        if peer.kind == "cidr":
            net = self._net(peer.value)
            return address.version == net.version and address in net
        if peer.kind == "prefix_list":
            nets = self.facts.prefix_list_networks(peer.value)
            return nets is not None and any(
                address.version == n.version and address in n for n in nets
            )
        return (
            side.is_eni
            and peer.value in side.sgs
            and self.facts.vpcs_joined(side.vpc_id, local_vpc)
            and self.facts.eni_holds(side.id, address)
        )

    def side(self, edge: Edge, direction: Direction) -> SideMatch:
        local, peer = sides(edge, direction)
        return self.side_between(direction, local, peer, edge.protocol, edge.server_port)

    def side_between(
        self, direction: Direction, local: EdgeSide, peer: EdgeSide, protocol: int, port: int
    ) -> SideMatch:
        """:meth:`side` for ``local`` talking to ``peer``: no edge needed to ask."""
        key: tuple[object, ...]
        if local.sgs and local.is_eni:
            # _decide reads the local side's groups and VPC only: one key per group set.
            key = (
                direction,
                local.sgs,
                local.vpc_id,
                peer.kind,
                peer.id,
                peer.vpc_id,
                peer.sgs,
                peer.addrs,
                protocol,
                port,
            )
        else:
            # External, or an ENI without groups: the verdict does not depend on the peer.
            key = (direction, local.kind, local.id, local.role)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._decide(direction, local, peer, protocol, port)
            self._cache[key] = cached
        return cached

    def _decide(
        self, direction: Direction, local: EdgeSide, peer: EdgeSide, protocol: int, port: int
    ) -> SideMatch:
        if not local.is_eni:
            return SideMatch(direction, "external")
        if not local.sgs:
            if self.facts.has_no_groups_by_design(local.role):
                reason = f"{local.id} is a {local.role} interface: it has no security groups"
            elif local.id not in self.facts.interfaces:
                reason = f"{local.id} is not in the inventory"
            else:
                reason = f"{local.id} has no security groups"
            return SideMatch(direction, "not_evaluable", reason=reason)
        if not peer.addrs:
            return SideMatch(direction, "not_evaluable", reason=f"no address for {peer.id}")
        rules = self._rules_for(local.sgs, direction, protocol, port)
        matched: set[str] = set()
        homes: list[tuple[str, str]] = []
        complete = True
        for text in peer.addrs:
            try:
                address = parse_address(text)
            except ValueError:
                return SideMatch(direction, "not_evaluable", reason=f"bad address {text!r}")
            hits = [r for r in rules if self.peer_matches(r.peer, peer, address, local.vpc_id)]
            if hits:
                matched.update(r.key for r in hits)
                homes.append((text, min(hits, key=self.rank).key))
            else:
                complete = False
        found = tuple(sorted(matched))
        if complete:
            return SideMatch(direction, "allowed", found, tuple(homes))
        unknown = sorted(g for g in local.sgs if not self.ruleset.known(g))
        if unknown:
            reason = f"the rules of {', '.join(unknown)} are not in the inventory"
            return SideMatch(direction, "not_evaluable", found, tuple(homes), reason)
        return SideMatch(direction, "denied", found, tuple(homes))

    def _rules_for(
        self, groups: tuple[str, ...], direction: Direction, protocol: int, port: int
    ) -> tuple[RuleSpec, ...]:
        """The rules of ``groups`` in ``direction`` that admit ``protocol`` / ``port``."""
        key = (groups, direction, protocol, port)
        rules = self._applied.get(key)
        if rules is None:
            rules = self._applied[key] = tuple(
                r
                for group_id in groups
                for r in self.ruleset.of(group_id, direction)
                if r.covers(protocol, port)
            )
        return rules

    def evaluate(self, edge: Edge) -> EdgeVerdict:
        return EdgeVerdict(edge, self.side(edge, "ingress"), self.side(edge, "egress"))
