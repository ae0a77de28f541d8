"""AWS CLI JSON documents → the inventory model. Pure: no files, no network, no clock.

``parse_snapshot`` takes the parsed ``describe-*.json`` documents of one snapshot, keyed
by file name, and returns a :class:`Snapshot`. Any subset of the documents is accepted;
what is absent is listed in ``Snapshot.missing`` and never guessed, with one exception:
without ``describe-security-group-rules.json`` the rules are derived from the
``IpPermissions`` of ``describe-security-groups.json`` (one rule per peer, without
``sgr-`` ids), and the rules file is still reported missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

from zt_flows.inventory import snapshot_files
from zt_flows.inventory._doc import Node
from zt_flows.inventory.flow_logs import parse_flow_log
from zt_flows.inventory.model import (
    NetworkInterface,
    PrefixList,
    SecurityGroup,
    SecurityGroupRule,
    Snapshot,
)
from zt_flows.inventory.network import parse_peering, parse_subnet, parse_vpc
from zt_flows.inventory.roles import classify_interface
from zt_flows.vocabulary import Direction, ip_protocol, protocol_number

# AWS answers protocol numbers with names for these; hand-made files may not.
_REGION_OF_AZ = re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)")


def parse_snapshot(
    documents: Mapping[str, object],
    *,
    source: str,
    taken_at: datetime,
    account_id: str | None = None,
    region: str | None = None,
) -> Snapshot:
    """One snapshot from its documents (file name → parsed JSON).

    ``source`` names the folder the documents came from; error messages name
    ``<source>/<file>``. ``account_id`` and ``region`` say where the documents were
    collected (from the manifest or the folder layout); without them the account is
    read from the owners of what was described and the region from availability zones.
    """
    docs = _Documents(documents, source)
    interfaces = tuple(
        _interface(node, region) for node in docs.items(snapshot_files.NETWORK_INTERFACES)
    )
    group_nodes = list(docs.items(snapshot_files.SECURITY_GROUPS))
    groups = tuple(_group(node) for node in group_nodes)
    if docs.has(snapshot_files.SECURITY_GROUP_RULES):
        rules = tuple(_rule(node) for node in docs.items(snapshot_files.SECURITY_GROUP_RULES))
    else:
        docs.missing.add(snapshot_files.SECURITY_GROUP_RULES.file)
        rules = tuple(rule for node in group_nodes for rule in _rules_of_group(node))
    prefix_lists = tuple(
        _prefix_list(node, docs) for node in docs.items(snapshot_files.PREFIX_LISTS)
    )
    vpcs = tuple(parse_vpc(node, region) for node in docs.items(snapshot_files.VPCS))
    subnets = tuple(parse_subnet(node) for node in docs.items(snapshot_files.SUBNETS))
    peerings = tuple(parse_peering(node) for node in docs.items(snapshot_files.PEERINGS))
    flow_logs = tuple(parse_flow_log(node) for node in docs.items(snapshot_files.FLOW_LOGS))

    if account_id is not None:
        accounts: tuple[str, ...] = (account_id,)
    else:
        owners = [eni.account_id for eni in interfaces]
        owners += [sg.owner_id for sg in groups] + [vpc.owner_id for vpc in vpcs]
        accounts = tuple(sorted(set(owners)))
    if region is not None:
        regions: tuple[str, ...] = (region,)
    else:
        zones = [eni.availability_zone for eni in interfaces]
        zones += [subnet.availability_zone for subnet in subnets]
        regions = tuple(sorted({r for r in map(region_of_zone, zones) if r is not None}))
    return Snapshot(
        taken_at=taken_at,
        source=source,
        account_ids=accounts,
        regions=regions,
        interfaces=interfaces,
        security_groups=groups,
        rules=rules,
        prefix_lists=prefix_lists,
        vpcs=vpcs,
        subnets=subnets,
        peerings=peerings,
        flow_logs=flow_logs,
        missing=tuple(sorted(docs.missing)),
    )


def combine_parts(
    parts: Sequence[tuple[str, Snapshot]],
    *,
    source: str,
    taken_at: datetime,
    account_ids: Iterable[str] = (),
    regions: Iterable[str] = (),
) -> Snapshot:
    """One snapshot from the per-account, per-region parts of a nested snapshot folder.

    Each part comes with its folder relative to the snapshot (``<account>/<region>``),
    which prefixes what that part lacked.
    """
    snaps = [snap for _, snap in parts]
    return Snapshot(
        taken_at=taken_at,
        source=source,
        account_ids=tuple(sorted(set(account_ids) | {a for s in snaps for a in s.account_ids})),
        regions=tuple(sorted(set(regions) | {r for s in snaps for r in s.regions})),
        interfaces=tuple(x for s in snaps for x in s.interfaces),
        security_groups=tuple(x for s in snaps for x in s.security_groups),
        rules=tuple(x for s in snaps for x in s.rules),
        prefix_lists=tuple(x for s in snaps for x in s.prefix_lists),
        vpcs=tuple(x for s in snaps for x in s.vpcs),
        subnets=tuple(x for s in snaps for x in s.subnets),
        peerings=tuple(x for s in snaps for x in s.peerings),
        flow_logs=tuple(x for s in snaps for x in s.flow_logs),
        missing=tuple(sorted(f"{where}/{name}" for where, s in parts for name in s.missing)),
        parts=tuple(snaps),
    )


def region_of_zone(zone: str | None) -> str | None:
    """``us-east-1`` for ``us-east-1a`` and for Local Zones such as ``us-west-2-lax-1a``."""
    if zone is None:
        return None
    match = _REGION_OF_AZ.match(zone)
    return match.group(1) if match else None


class _Documents:
    """The documents of one snapshot, and which of them were missing."""

    def __init__(self, documents: Mapping[str, object], source: str) -> None:
        self._docs = {
            name if name.endswith(".json") else name + ".json": v for name, v in documents.items()
        }
        self._source = source
        self.missing: set[str] = set()

    def has(self, command: snapshot_files.Command) -> bool:
        return command.file in self._docs

    def node(self, file_name: str) -> Node | None:
        if file_name not in self._docs:
            self.missing.add(file_name)
            return None
        return Node(self._docs[file_name], str(PurePath(self._source) / file_name))

    def items(
        self, command: snapshot_files.Command, file_name: str | None = None
    ) -> Iterator[Node]:
        node = self.node(file_name or command.file)
        return node.req_list(command.result_key) if node is not None else iter(())


# --------------------------------------------------------------------------- ENIs


def _interface(node: Node, region: str | None) -> NetworkInterface:
    primary = node.opt_address("PrivateIpAddress")
    private: list[str] = []
    public: list[str] = []
    for item in node.opt_list("PrivateIpAddresses"):
        address = item.child("PrivateIpAddress", "an IP address").address()
        if item.opt_bool("Primary") and primary is None:
            primary = address
        private.append(address)
        association = item.get("Association")
        if association is not None and (ip := association.opt_address("PublicIp")) is not None:
            public.append(ip)
    association = node.get("Association")
    if association is not None and (ip := association.opt_address("PublicIp")) is not None:
        public.insert(0, ip)
    if primary is not None:
        private.insert(0, primary)

    attachment = node.get("Attachment")
    instance_id = attachment.opt_str("InstanceId") if attachment is not None else None
    interface_type = node.opt_str("InterfaceType") or "interface"
    requester_managed = node.opt_bool("RequesterManaged")
    requester_id = node.opt_str("RequesterId")
    description = node.opt_str("Description") or ""
    zone = node.opt_str("AvailabilityZone")
    return NetworkInterface(
        id=node.req_str("NetworkInterfaceId"),
        vpc_id=node.req_str("VpcId"),
        subnet_id=node.opt_str("SubnetId"),
        account_id=node.req_str("OwnerId"),
        region=region or region_of_zone(zone),
        availability_zone=zone,
        interface_type=interface_type,
        requester_managed=requester_managed,
        requester_id=requester_id,
        description=description,
        instance_id=instance_id,
        status=node.opt_str("Status") or "",
        primary_ipv4=primary,
        private_ipv4s=_unique(private),
        ipv6s=_unique(
            i.child("Ipv6Address", "an IP address").address()
            for i in node.opt_list("Ipv6Addresses")
        ),
        ipv4_prefixes=_unique(
            i.child("Ipv4Prefix", "a CIDR block").network() for i in node.opt_list("Ipv4Prefixes")
        ),
        ipv6_prefixes=_unique(
            i.child("Ipv6Prefix", "a CIDR block").network() for i in node.opt_list("Ipv6Prefixes")
        ),
        public_ips=_unique(public),
        security_group_ids=_unique(g.req_str("GroupId") for g in node.opt_list("Groups")),
        attach_time=attachment.opt_time("AttachTime") if attachment is not None else None,
        role=classify_interface(
            interface_type=interface_type,
            requester_managed=requester_managed,
            requester_id=requester_id,
            description=description,
            instance_id=instance_id,
        ),
        tags=node.tags("TagSet"),
    )


# --------------------------------------------------------------------------- groups and rules


def _group(node: Node) -> SecurityGroup:
    return SecurityGroup(
        id=node.req_str("GroupId"),
        name=node.req_str("GroupName"),
        vpc_id=node.opt_str("VpcId"),
        owner_id=node.req_str("OwnerId"),
        description=node.opt_str("Description") or "",
        tags=node.tags("Tags"),
    )


def _protocol(node: Node) -> str:
    value = node.req_str("IpProtocol").strip().lower()
    try:
        return ip_protocol(protocol_number(value))  # "6" is written "tcp"
    except ValueError:
        return value


def _ports(node: Node, protocol: str) -> tuple[int | None, int | None]:
    """AWS's -1 (all ports, all ICMP types or codes) becomes None."""
    if protocol == "-1":
        return None, None
    low, high = node.opt_int("FromPort"), node.opt_int("ToPort")
    return (None if low in (None, -1) else low), (None if high in (None, -1) else high)


def _rule(node: Node) -> SecurityGroupRule:
    """One entry of DescribeSecurityGroupRules."""
    egress = node.child("IsEgress", "true or false")
    if not isinstance(egress.value, bool):
        raise egress.error("true or false")
    protocol = _protocol(node)
    low, high = _ports(node, protocol)
    referenced = node.get("ReferencedGroupInfo")
    peers = {
        "CidrIpv4": node.opt_network("CidrIpv4"),
        "CidrIpv6": node.opt_network("CidrIpv6"),
        "PrefixListId": node.opt_str("PrefixListId"),
        "ReferencedGroupInfo.GroupId": referenced.opt_str("GroupId") if referenced else None,
    }
    present = [key for key, value in peers.items() if value is not None]
    if len(present) != 1:
        raise node.error(
            "exactly one of " + ", ".join(peers),
            ", ".join(present) if present else "none of them",
        )
    return SecurityGroupRule(
        id=node.req_str("SecurityGroupRuleId"),
        group_id=node.req_str("GroupId"),
        group_owner_id=node.opt_str("GroupOwnerId"),
        direction="egress" if egress.value else "ingress",
        protocol=protocol,
        from_port=low,
        to_port=high,
        cidr_ipv4=peers["CidrIpv4"],
        cidr_ipv6=peers["CidrIpv6"],
        prefix_list_id=peers["PrefixListId"],
        referenced_group_id=peers["ReferencedGroupInfo.GroupId"],
        referenced_group_owner_id=referenced.opt_str("UserId") if referenced else None,
        referenced_vpc_id=referenced.opt_str("VpcId") if referenced else None,
        referenced_peering_id=referenced.opt_str("VpcPeeringConnectionId") if referenced else None,
        description=node.opt_str("Description"),
        tags=node.tags("Tags"),
    )


def _rules_of_group(group: Node) -> Iterator[SecurityGroupRule]:
    """Rules from DescribeSecurityGroups' IpPermissions: one per peer, without ids."""
    group_id = group.req_str("GroupId")
    owner = group.req_str("OwnerId")
    directions: tuple[tuple[str, Direction], ...] = (
        ("IpPermissions", "ingress"),
        ("IpPermissionsEgress", "egress"),
    )
    for key, direction in directions:
        for perm in group.opt_list(key):
            protocol = _protocol(perm)
            low, high = _ports(perm, protocol)
            base = _RuleBase(group_id, owner, direction, protocol, low, high)
            for item in perm.opt_list("IpRanges"):
                yield base.rule(item, cidr_ipv4=item.child("CidrIp", "a CIDR block").network())
            for item in perm.opt_list("Ipv6Ranges"):
                yield base.rule(item, cidr_ipv6=item.child("CidrIpv6", "a CIDR block").network())
            for item in perm.opt_list("PrefixListIds"):
                yield base.rule(item, prefix_list_id=item.req_str("PrefixListId"))
            for item in perm.opt_list("UserIdGroupPairs"):
                yield base.rule(
                    item,
                    referenced_group_id=item.req_str("GroupId"),
                    referenced_group_owner_id=item.opt_str("UserId"),
                    referenced_vpc_id=item.opt_str("VpcId"),
                    referenced_peering_id=item.opt_str("VpcPeeringConnectionId"),
                )


@dataclass(frozen=True)
class _RuleBase:
    """What the peers of one IpPermissions entry share."""

    group_id: str
    owner_id: str
    direction: Direction
    protocol: str
    from_port: int | None
    to_port: int | None

    def rule(
        self,
        peer: Node,
        *,
        cidr_ipv4: str | None = None,
        cidr_ipv6: str | None = None,
        prefix_list_id: str | None = None,
        referenced_group_id: str | None = None,
        referenced_group_owner_id: str | None = None,
        referenced_vpc_id: str | None = None,
        referenced_peering_id: str | None = None,
    ) -> SecurityGroupRule:
        return SecurityGroupRule(
            id=None,
            group_id=self.group_id,
            group_owner_id=self.owner_id,
            direction=self.direction,
            protocol=self.protocol,
            from_port=self.from_port,
            to_port=self.to_port,
            cidr_ipv4=cidr_ipv4,
            cidr_ipv6=cidr_ipv6,
            prefix_list_id=prefix_list_id,
            referenced_group_id=referenced_group_id,
            referenced_group_owner_id=referenced_group_owner_id,
            referenced_vpc_id=referenced_vpc_id,
            referenced_peering_id=referenced_peering_id,
            description=peer.opt_str("Description"),
        )


# --------------------------------------------------------------------------- prefix lists


def _prefix_list(node: Node, docs: _Documents) -> PrefixList:
    list_id = node.req_str("PrefixListId")
    entries = docs.items(snapshot_files.PREFIX_LIST_ENTRIES, snapshot_files.entries_file(list_id))
    return PrefixList(
        id=list_id,
        name=node.req_str("PrefixListName"),
        owner_id=node.req_str("OwnerId"),
        address_family=node.req_str("AddressFamily"),
        max_entries=node.opt_int("MaxEntries"),
        cidrs=_unique(entry.child("Cidr", "a CIDR block").network() for entry in entries),
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
