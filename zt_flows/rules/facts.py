"""What the security-group model needs to know about the inventory, precomputed once.

Current group membership (the newest snapshot's view: an ENI deleted since an older
snapshot is no member any more), every address a member holds, prefix-list entries as
networks, which VPCs a group reference can span (same VPC, or an active same-Region
peering), and the sizes that rank rules from narrow to broad.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import cached_property

from zt_flows.addresses import (
    NON_PUBLIC_BLOCKS,
    IPAddress,
    IPNetwork,
    covered,
    network,
    parse_address,
)
from zt_flows.inventory.model import (
    NO_SECURITY_GROUP_ROLES,
    Inventory,
    NetworkInterface,
    PrefixList,
)

# Sizes of the address spaces, used for "everything" when a list is unknown.
ALL_V6 = 1 << 128


def current_interfaces(inventory: Inventory) -> dict[str, NetworkInterface]:
    """ENIs that exist now: present in the newest snapshot that covers their account.

    ``Inventory.interfaces`` keeps ENIs seen only in older snapshots (flows of those days
    name them); they are no longer members of anything.
    """
    if not inventory.snapshots:
        return dict(inventory.interfaces)
    newest: dict[str, int] = {}
    for index, snap in enumerate(inventory.snapshots):
        for account in snap.account_ids or ("",):
            newest[account] = index
    last_seen: dict[str, int] = {}
    for index, snap in enumerate(inventory.snapshots):
        for eni in snap.interfaces:
            last_seen[eni.id] = index
    latest = len(inventory.snapshots) - 1
    out = {}
    for eni_id, eni in inventory.interfaces.items():
        wanted = newest.get(eni.account_id, newest.get("", latest))
        if last_seen.get(eni_id, latest) >= wanted:
            out[eni_id] = eni
    return out


class NetworkFacts:
    """Inventory facts for rule evaluation; build once per inventory and reuse."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self.interfaces: Mapping[str, NetworkInterface] = inventory.interfaces
        self.current: Mapping[str, NetworkInterface] = current_interfaces(inventory)
        members: dict[str, list[str]] = {}
        for eni in self.current.values():
            for group_id in eni.security_group_ids:
                members.setdefault(group_id, []).append(eni.id)
        self.members: Mapping[str, tuple[str, ...]] = {
            g: tuple(sorted(ids)) for g, ids in sorted(members.items())
        }
        self.group_vpc: Mapping[str, str | None] = {
            g.id: g.vpc_id for g in inventory.security_groups.values()
        }
        self.default_groups = frozenset(
            g.id for g in inventory.security_groups.values() if g.is_default
        )
        self._joined = self._peerings()
        self._eni_addresses: dict[str, frozenset[IPAddress]] = {}
        self._eni_prefixes: dict[str, tuple[IPNetwork, ...]] = {}
        self._prefix_lists: dict[str, tuple[IPNetwork, ...] | None] = {}
        self._member_networks: dict[str, tuple[IPNetwork, ...]] = {}
        self._member_sets: dict[str, frozenset[str]] = {}
        # Answers of later stages' pure questions about this inventory (containment).
        self.memo: dict[tuple[object, ...], bool] = {}

    # ------------------------------------------------------------------ vpcs

    def _peerings(self) -> frozenset[frozenset[str]]:
        joined = set()
        for pcx in self.inventory.peerings:
            same_region = (
                pcx.requester_region is None
                or pcx.accepter_region is None
                or pcx.requester_region == pcx.accepter_region
            )
            if pcx.active and same_region:
                joined.add(frozenset((pcx.requester_vpc_id, pcx.accepter_vpc_id)))
        return frozenset(joined)

    def vpcs_joined(self, a: str | None, b: str | None) -> bool:
        """Whether a group reference spans VPCs ``a`` and ``b`` (same, or actively peered).

        AWS: https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-security-groups.html
        """
        if a is None or b is None:
            return True  # an interface without a known VPC: the edge's groups are trusted
        return a == b or frozenset((a, b)) in self._joined

    @cached_property
    def internal_blocks(self) -> tuple[IPNetwork, ...]:
        """Non-public space and every known VPC's CIDRs (IPv6 VPC blocks are public space)."""
        vpc_blocks = tuple(
            network(c)
            for vpc in self.inventory.vpcs.values()
            for c in vpc.cidrs_ipv4 + vpc.cidrs_ipv6
        )
        return NON_PUBLIC_BLOCKS + vpc_blocks

    def reaches_internet(self, net: IPNetwork) -> bool:
        """Whether a CIDR holds addresses outside private space and the known VPCs."""
        return not covered(net, self.internal_blocks)

    # ------------------------------------------------------------------ interfaces

    def eni_addresses(self, eni_id: str) -> frozenset[IPAddress]:
        cached = self._eni_addresses.get(eni_id)
        if cached is None:
            eni = self.interfaces.get(eni_id)
            cached = frozenset(parse_address(a) for a in (eni.addresses if eni is not None else ()))
            self._eni_addresses[eni_id] = cached
        return cached

    def eni_prefixes(self, eni_id: str) -> tuple[IPNetwork, ...]:
        cached = self._eni_prefixes.get(eni_id)
        if cached is None:
            eni = self.interfaces.get(eni_id)
            cached = tuple(
                network(p) for p in (eni.ipv4_prefixes + eni.ipv6_prefixes if eni else ())
            )
            self._eni_prefixes[eni_id] = cached
        return cached

    def eni_holds(self, eni_id: str, address: IPAddress) -> bool:
        """Whether ``address`` is a private IP of the ENI (an unknown ENI is trusted)."""
        if eni_id not in self.interfaces:
            return True
        if address in self.eni_addresses(eni_id):
            return True
        return any(address in p for p in self.eni_prefixes(eni_id))

    def has_no_groups_by_design(self, role: str | None) -> bool:
        return role in {r.value for r in NO_SECURITY_GROUP_ROLES}

    # ------------------------------------------------------------------ groups

    def member_set(self, group_id: str) -> frozenset[str]:
        cached = self._member_sets.get(group_id)
        if cached is None:
            cached = self._member_sets[group_id] = frozenset(self.members.get(group_id, ()))
        return cached

    def member_count(self, group_id: str) -> int:
        return len(self.members.get(group_id, ()))

    def member_networks(self, group_id: str) -> tuple[IPNetwork, ...]:
        """Every address (as a /32 or /128) and delegated prefix of the current members."""
        cached = self._member_networks.get(group_id)
        if cached is None:
            out: set[IPNetwork] = set()
            for eni_id in self.members.get(group_id, ()):
                out.update(ipaddress.ip_network(a) for a in self.eni_addresses(eni_id))
                out.update(self.eni_prefixes(eni_id))
            cached = self._member_networks[group_id] = tuple(sorted(out, key=_net_key))
        return cached

    def group_size(self, group_id: str) -> int:
        """How many addresses a reference to the group matches today."""
        return sum(n.num_addresses for n in self.member_networks(group_id))

    # ------------------------------------------------------------------ prefix lists

    def prefix_list(self, prefix_list_id: str) -> PrefixList | None:
        return self.inventory.prefix_lists.get(prefix_list_id)

    def prefix_list_networks(self, prefix_list_id: str) -> tuple[IPNetwork, ...] | None:
        """The entries as networks; None when the inventory does not know the list."""
        if prefix_list_id not in self._prefix_lists:
            pl = self.prefix_list(prefix_list_id)
            self._prefix_lists[prefix_list_id] = (
                None if pl is None else tuple(network(c) for c in pl.cidrs)
            )
        return self._prefix_lists[prefix_list_id]

    @cached_property
    def aws_prefix_lists(self) -> tuple[PrefixList, ...]:
        return tuple(pl for pl in self.inventory.prefix_lists.values() if pl.aws_managed)

    def prefix_list_size(self, prefix_list_id: str) -> int:
        nets = self.prefix_list_networks(prefix_list_id)
        if nets is None:
            return ALL_V6
        return sum(n.num_addresses for n in nets)


def _net_key(n: IPNetwork) -> tuple[int, int, int]:
    return n.version, int(n.network_address), n.prefixlen
