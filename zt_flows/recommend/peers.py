"""Choosing what a proposed rule names as its peer: a group, a prefix list, or a CIDR.

In-VPC (and same-Region peered) ENIs become security-group references. Among the
peer ENI's groups, the one chosen leaves the fewest *unobserved* members: members
that were not seen as peers on this group, direction, protocol and port (the group's
own members do not count: an ENI's traffic to itself never meets a security group).
Ties go to the group with fewer members (a workload's own group rather than one
spanning tiers) for clients; for servers, to the group covering more of the observed
servers first (the group that names the service, such as every node exporter on 9100).
The default group is never chosen unless the existing rule already names it, and
every choice must lie inside the existing rule (its CIDR, prefix list or group).
"""

from __future__ import annotations

from collections.abc import Mapping, Set

from zt_flows.addresses import covered, network
from zt_flows.inventory.model import InterfaceRole
from zt_flows.recommend.shapes import peer_within
from zt_flows.rules import EdgeSide, NetworkFacts, RulePeer, RuleSpec
from zt_flows.vocabulary import Direction

LOAD_BALANCER_ROLES = frozenset({InterfaceRole.LOAD_BALANCER, InterfaceRole.NETWORK_LOAD_BALANCER})


def group_peer(facts: NetworkFacts, group_id: str, local_group: str) -> RulePeer:
    """A reference to ``group_id`` as seen from ``local_group`` (owner / VPC when they differ)."""
    group = facts.inventory.security_groups.get(group_id)
    local = facts.inventory.security_groups.get(local_group)
    owner = vpc = None
    if group is not None and local is not None:
        owner = group.owner_id if group.owner_id != local.owner_id else None
        vpc = group.vpc_id if group.vpc_id != local.vpc_id else None
    return RulePeer(
        "security_group",
        group_id,
        name=group.name if group is not None else None,
        owner_id=owner,
        vpc_id=vpc,
    )


def rule_peer(facts: NetworkFacts, peer: RulePeer, local_group: str) -> RulePeer:
    """``peer`` with who it is: a group's name (its owner and VPC where they differ from
    ``local_group``'s), a prefix list's name."""
    if peer.kind == "security_group":
        return group_peer(facts, peer.value, local_group)
    if peer.kind == "prefix_list":
        pl = facts.prefix_list(peer.value)
        return RulePeer("prefix_list", peer.value, name=pl.name if pl else None)
    return RulePeer("cidr", peer.value)


def choose_group(
    facts: NetworkFacts,
    *,
    peer: EdgeSide,
    home: RuleSpec,
    direction: Direction,
    observed: Set[str],
    covers: Mapping[str, int],
) -> str | None:
    """The group to reference for ``peer``, or None when no group fits inside ``home``.

    ``observed``: the peer ENIs seen on the home's group, direction, protocol and port;
    ``covers``: how many of them each group holds.
    """
    own = facts.member_set(home.group_id)
    best: tuple[tuple[int, ...], str] | None = None
    for candidate in peer.sgs:
        if candidate not in facts.group_vpc or not facts.members.get(candidate):
            continue
        names_it = home.peer == RulePeer("security_group", candidate)
        if candidate in facts.default_groups and not names_it:
            continue
        if not names_it and not peer_within(
            RulePeer("security_group", candidate), home.peer, facts
        ):
            continue
        members = facts.member_set(candidate)
        unobserved = len(members.difference(observed, own))
        if direction == "egress":
            key: tuple[int, ...] = (unobserved, -covers.get(candidate, 0), len(members))
        else:
            key = (unobserved, len(members))
        if best is None or (key, candidate) < best:
            best = (key, candidate)
    return None if best is None else best[1]


def aws_prefix_list(
    facts: NetworkFacts, *, address: str, service: str | None, home: RuleSpec
) -> str | None:
    """An AWS-managed prefix list holding ``address`` and lying wholly inside ``home``.

    A list of the service flow logs named (``S3``) wins, then the smallest list.
    """
    target = network(address)
    best: tuple[tuple[bool, int, str], str] | None = None
    for pl in facts.aws_prefix_lists:
        nets = facts.prefix_list_networks(pl.id) or ()
        if not covered(target, nets):
            continue
        if not peer_within(RulePeer("prefix_list", pl.id), home.peer, facts):
            continue
        key = (pl.aws_service != service, facts.prefix_list_size(pl.id), pl.id)
        if best is None or key < best[0]:
            best = (key, pl.id)
    return None if best is None else best[1]
