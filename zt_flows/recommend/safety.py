"""The safety principle, in one place: narrow only what the evidence proves is a closed population.

A least-privilege change is applied once; if it blocks one legitimate connection, nobody
applies the next one. So a rule's peer is replaced by a narrower one only when the peers it
stood for form a *closed* population, one that has a name tomorrow as well as today:

- the ENIs of a security group (a group reference follows membership, not addresses);
- an AWS-managed prefix list (AWS keeps it complete);
- a network the user names (an on-premises or partner range), or a peered VPC's CIDR.

Every other population is *open*: the internet clients of a listener (tomorrow's customers
are not today's), internet destinations (a SaaS API moves), AWS services without a prefix
list, private ranges nobody named. For those the existing range stays and only what the
evidence does prove (ports and protocols) narrows. Addresses no known ENI holds (terminated
or replaced instances: the next one gets another address) are *unattributed*: the rule that
admitted them is kept as it is. Rules the tool cannot evaluate, groups whose members are not
covered by flow logs, traffic whose direction the evidence does not decide, and accepted
traffic today's rules do not explain keep their rules too. Every rule kept for one of these
reasons carries it (:data:`KeptFor`), in the plan and the report.

Path MTU Discovery is the one open population flow logs cannot show: ICMP "fragmentation
needed" (type 3 code 4) and ICMPv6 "packet too big" (type 2) come from any router on the
path, and flow logs do not record ICMP types. Where today's rules admit them from a range
that reaches beyond the group's own VPC (inside one VPC no router on the path sends them),
the plan keeps admitting them from that range.
AWS: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/network_mtu.html#path_mtu_discovery
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from zt_flows.addresses import IPNetwork, covered, network, subnet_of
from zt_flows.recommend.peers import aws_prefix_list, rule_peer
from zt_flows.recommend.plan import KEPT_FOR, KeptFor
from zt_flows.recommend.shapes import peer_networks, peer_within
from zt_flows.recommend.units import Unit
from zt_flows.rules import NetworkFacts, RulePeer, RuleSpec
from zt_flows.vocabulary import PROTO_ICMP, PROTO_ICMPV6

# What each reason means, for the plan's summary and the report's "kept, and why".
KEPT_WORDS: Mapping[KeptFor, str] = {
    "open_population": "open population: the peers seen are a sample of who may come, so the"
    " range stays and only ports and protocols narrow",
    "unevaluable": "cannot be evaluated: it names a group or prefix list the inventory does not"
    " describe",
    "not_covered": "the group's members are not all covered by flow logs for the whole window",
    "ambiguous_orientation": "the evidence does not decide who listens, so both readings of the"
    " traffic stay allowed",
    "unattributed": "traffic from addresses no known ENI holds (terminated or replaced"
    " instances): the rule that admitted it stays",
    "unexplained": "accepted traffic that today's rules do not explain stays allowed",
}
# The same, as the few words a rule's reason ends with.
KEPT_SHORT: Mapping[KeptFor, str] = {
    "open_population": "open population: its range stays",
    "unevaluable": "cannot be evaluated: kept as it is",
    "not_covered": "not covered by flow logs: kept as it is",
    "ambiguous_orientation": "direction in doubt: kept so both readings stay allowed",
    "unattributed": "traffic from addresses no known ENI holds: kept as it is",
    "unexplained": "accepted traffic today's rules do not explain: kept allowed",
}
# When one rule is kept for several reasons, the one a reviewer must read first.
_PRIORITY: Mapping[KeptFor, int] = {
    "unexplained": 0,
    "unattributed": 1,
    "ambiguous_orientation": 2,
    "unevaluable": 3,
    "not_covered": 4,
    "open_population": 5,
}

PopulationKind = Literal["group", "aws_list", "network", "open", "unattributed"]

# PMTUD: ICMP type 3 code 4 (IPv4) and ICMPv6 type 2 code 0 (IPv6, RFC 4443 4.2).
PMTUD_V4 = (PROTO_ICMP, 3, 4)
PMTUD_V6 = (PROTO_ICMPV6, 2, 0)
PMTUD_REASON = (
    "kept for Path MTU Discovery: any router on the path may send it, and flow logs do not"
    " record ICMP types"
)


def first_reason(reasons: set[KeptFor] | frozenset[KeptFor]) -> KeptFor | None:
    """The reason to show when a rule is kept for several."""
    return min(reasons, key=lambda r: _PRIORITY[r]) if reasons else None


@dataclass(frozen=True)
class Population:
    """Who a unit's peer stands for, and the peer a rule may name for it.

    ``peer`` is None for ``unattributed``: the unit's home rule is kept as it is.
    """

    kind: PopulationKind
    peer: RulePeer | None
    kept_for: KeptFor | None = None
    why: str = ""


class Populations:
    """Decides the population of each observed peer (see the module docstring)."""

    def __init__(self, facts: NetworkFacts) -> None:
        self.facts = facts

    def of(self, unit: Unit, *, group_id: str | None) -> Population:
        """The population of ``unit``'s peer; ``group_id`` is the group chosen for an ENI
        peer (None when no group of it fits inside the unit's home rule)."""
        facts, home, peer = self.facts, unit.home, unit.peer
        keep = rule_peer(facts, home.peer, home.group_id)
        if peer.is_eni:
            if group_id is not None:
                from zt_flows.recommend.peers import group_peer

                return Population("group", group_peer(facts, group_id, home.group_id))
            if peer.id not in facts.interfaces or not peer.sgs:
                return Population(
                    "unattributed",
                    None,
                    "unattributed",
                    f"{peer.id} is not in the inventory or has no security groups",
                )
            net = self._vpc_network(peer.vpc_id, unit.address, home)
            if net is not None and not facts.vpcs_joined(peer.vpc_id, unit.local.vpc_id):
                return Population("network", net, None, "the peer VPC's range")
            return Population(
                "open",
                keep,
                "open_population",
                "no group of the peer lies inside the existing rule, and a host address would"
                " not follow a replaced instance",
            )
        kind = peer.kind
        if kind in ("internet", "aws_service"):
            service = peer.id if kind == "aws_service" else None
            pl = aws_prefix_list(facts, address=unit.address, service=service, home=home)
            if pl is not None:
                return Population("aws_list", rule_peer(facts, RulePeer("prefix_list", pl), ""))
            if kind == "aws_service":
                why = f"{peer.id} has no AWS-managed prefix list inside the rule"
            elif unit.direction == "ingress":
                why = "internet clients of a listener are an open population"
            else:
                why = "internet destinations are an open population"
            return Population("open", keep, "open_population", why)
        if kind in ("onprem", "partner"):
            named = self._named(peer.label, home)
            if named is not None:
                return Population("network", named, None, f"the {kind} range {named.value}")
            return Population(
                "open", keep, "open_population", f"the {kind} range does not lie inside the rule"
            )
        if kind == "peered_vpc":
            net = self._vpc_network(peer.vpc_id, unit.address, home)
            if net is not None:
                return Population("network", net, None, "the peered VPC's range")
            return Population(
                "open", keep, "open_population", "the peered VPC's range is not inside the rule"
            )
        if kind == "vpc_unknown":
            return Population(
                "unattributed",
                None,
                "unattributed",
                "an address in the VPC that no ENI of the inventory holds",
            )
        return Population(
            "open",
            keep,
            "open_population",
            "a private range nobody named (name it with --onprem-cidr or --partner-cidr)",
        )

    # ------------------------------------------------------------------ networks

    def _named(self, label: str | None, home: RuleSpec) -> RulePeer | None:
        """The named range, if it lies inside the home rule's peer."""
        if not label:
            return None
        try:
            net = network(label)
        except ValueError:
            return None
        return self._inside(net, home)

    def _vpc_network(self, vpc_id: str | None, address: str, home: RuleSpec) -> RulePeer | None:
        """The CIDR block of ``vpc_id`` holding ``address``, if it lies inside the home rule."""
        blocks: list[str] = []
        vpc = self.facts.inventory.vpcs.get(vpc_id) if vpc_id else None
        if vpc is not None:
            blocks.extend(vpc.cidrs_ipv4 + vpc.cidrs_ipv6)
        for pcx in self.facts.inventory.peerings:
            if pcx.requester_vpc_id == vpc_id:
                blocks.extend(pcx.requester_cidrs)
            if pcx.accepter_vpc_id == vpc_id:
                blocks.extend(pcx.accepter_cidrs)
        try:
            host = network(address)
        except ValueError:
            return None
        for block in sorted(set(blocks)):
            net = network(block)
            if subnet_of(host, net):
                return self._inside(net, home)
        return None

    def _inside(self, net: IPNetwork, home: RuleSpec) -> RulePeer | None:
        candidate = RulePeer("cidr", str(net))
        if peer_within(candidate, home.peer, self.facts):
            return candidate
        return None


def pmtud_specs(rule: RuleSpec, facts: NetworkFacts) -> tuple[tuple[int, int, int], ...]:
    """The PMTUD messages (protocol, type, code) ``rule`` admits from a range, if any.

    Only ingress rules whose peer is a range (a CIDR or a prefix list) reaching beyond the
    group's VPC count: routers are not members of security groups.
    """
    if rule.direction != "ingress" or rule.peer.kind == "security_group":
        return ()
    nets = peer_networks(rule.peer, facts) or ()
    vpc = facts.inventory.vpcs.get(facts.group_vpc.get(rule.group_id) or "")
    own = tuple(network(c) for c in (vpc.cidrs_ipv4 + vpc.cidrs_ipv6 if vpc else ()))
    if nets and all(covered(n, own) for n in nets):
        return ()  # a path inside the VPC has no router that sends them
    versions = {n.version for n in nets}
    out = []
    for spec, version in ((PMTUD_V4, 4), (PMTUD_V6, 6)):
        if version in versions and admits_pmtud(rule, spec):
            out.append(spec)
    return tuple(out)


def admits_pmtud(rule: RuleSpec, spec: tuple[int, int, int]) -> bool:
    """Whether ``rule`` (any peer) admits the PMTUD message ``spec``."""
    protocol, icmp_type, code = spec
    if rule.protocol is None:
        return True
    if rule.protocol != protocol:
        return False
    if rule.from_port is None:
        return True
    return rule.from_port == icmp_type and (rule.to_port is None or rule.to_port == code)


__all__ = [
    "KEPT_FOR",
    "KEPT_SHORT",
    "KEPT_WORDS",
    "PMTUD_REASON",
    "KeptFor",
    "Population",
    "Populations",
    "admits_pmtud",
    "first_reason",
    "pmtud_specs",
]
