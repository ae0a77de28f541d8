"""The inventory's domain model: frozen dataclasses, snake_case, no AWS JSON shapes.

Everything a later stage needs to know about ENIs, security groups, rules, prefix
lists, VPCs, subnets, peerings and flow logs. CamelCase AWS responses are turned into these
objects by ``inventory.parse`` and never leave the inventory package.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, TypeVar

from zt_flows.errors import InventoryIncompleteError
from zt_flows.vocabulary import Direction

Tags = tuple[tuple[str, str], ...]
# What a flow log captures. AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html#flow-logs-basics
TrafficType = Literal["ACCEPT", "REJECT", "ALL"]
# What a flow log is attached to, read from its resource id's prefix. "unknown" is any other
# resource (a regional NAT gateway, a Cloud WAN core network): it covers no interface here.
FlowLogResourceType = Literal["vpc", "subnet", "eni", "tgw", "tgw-attach", "unknown"]


class EndpointKind(StrEnum):
    """What one side of a conversation is."""

    ENI = "eni"  # a network interface in the inventory (has security groups, maybe)
    INTERNET = "internet"  # a public address not known as an AWS service
    AWS_SERVICE = "aws_service"  # pkt-*-aws-service, or an AWS-managed prefix list's range
    PEERED_VPC = "peered_vpc"  # inside the CIDR of a VPC reached through a peering
    ONPREM = "onprem"  # inside a configured on-premises range (VPN / Direct Connect)
    PARTNER = "partner"  # inside a configured partner range (public or private)
    VPC_UNKNOWN = "vpc_unknown"  # inside a known VPC's CIDR, but held by no known ENI
    PRIVATE_OTHER = "private_other"  # RFC 1918 / ULA space outside every known range


class InterfaceRole(StrEnum):
    """Classification of an ENI from InterfaceType, RequesterManaged and Description.

    AWS: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html
    """

    INSTANCE = "instance"
    LOAD_BALANCER = "load_balancer"  # ALB / CLB (has security groups)
    NETWORK_LOAD_BALANCER = "network_load_balancer"
    GATEWAY_LOAD_BALANCER = "gateway_load_balancer"
    NAT_GATEWAY = "nat_gateway"  # no security groups; rewrites addresses
    TRANSIT_GATEWAY = "transit_gateway"  # no security groups; forwards
    VPC_ENDPOINT = "vpc_endpoint"
    LAMBDA = "lambda"
    DATABASE = "database"  # RDS / Aurora / Redshift / DocumentDB ...
    CACHE = "cache"  # ElastiCache / MemoryDB
    OTHER_MANAGED = "other_managed"
    UNATTACHED = "unattached"


# Interfaces whose flow-log records are forwarded traffic: their pkt-srcaddr / pkt-dstaddr
# name the real endpoints. AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
FORWARDING_ROLES = frozenset(
    {
        InterfaceRole.NAT_GATEWAY,
        InterfaceRole.TRANSIT_GATEWAY,
        InterfaceRole.NETWORK_LOAD_BALANCER,
        InterfaceRole.GATEWAY_LOAD_BALANCER,
    }
)
# Interfaces that cannot carry security groups at all.
NO_SECURITY_GROUP_ROLES = frozenset({InterfaceRole.NAT_GATEWAY, InterfaceRole.TRANSIT_GATEWAY})


@dataclass(frozen=True)
class NetworkInterface:
    id: str
    vpc_id: str
    subnet_id: str | None
    account_id: str
    region: str | None
    availability_zone: str | None
    interface_type: str  # AWS InterfaceType: interface, nat_gateway, lambda, ...
    requester_managed: bool
    requester_id: str | None
    description: str
    instance_id: str | None
    status: str
    primary_ipv4: str | None
    private_ipv4s: tuple[str, ...]  # every private IPv4, the primary first
    ipv6s: tuple[str, ...]
    ipv4_prefixes: tuple[str, ...]  # prefix delegation (e.g. 10.0.10.16/28)
    ipv6_prefixes: tuple[str, ...]
    public_ips: tuple[str, ...]  # Elastic / auto-assigned public IPv4 addresses
    security_group_ids: tuple[str, ...]
    attach_time: datetime | None
    role: InterfaceRole
    tags: Tags = ()

    @property
    def addresses(self) -> tuple[str, ...]:
        """Every single address this ENI holds (private v4, v6; not delegated prefixes)."""
        return self.private_ipv4s + self.ipv6s

    @property
    def name(self) -> str | None:
        return dict(self.tags).get("Name")


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    name: str
    vpc_id: str | None
    owner_id: str
    description: str
    tags: Tags = ()

    @property
    def is_default(self) -> bool:
        return self.name == "default"


@dataclass(frozen=True)
class SecurityGroupRule:
    """One rule with exactly one peer, as DescribeSecurityGroupRules returns them.

    ``protocol`` is AWS's IpProtocol: ``"-1"`` (all), ``"tcp"``, ``"udp"``, ``"icmp"``,
    ``"icmpv6"`` or a protocol number as a string. Ports are None when the rule covers
    all ports (AWS's -1); for ICMP, ``from_port`` is the type and ``to_port`` the code.
    ``id`` is None only when the rule came from DescribeSecurityGroups' IpPermissions
    (a hand-made snapshot without describe-security-group-rules.json).
    """

    id: str | None
    group_id: str
    group_owner_id: str | None
    direction: Direction
    protocol: str
    from_port: int | None
    to_port: int | None
    cidr_ipv4: str | None = None
    cidr_ipv6: str | None = None
    prefix_list_id: str | None = None
    referenced_group_id: str | None = None
    referenced_group_owner_id: str | None = None
    referenced_vpc_id: str | None = None
    referenced_peering_id: str | None = None
    description: str | None = None
    tags: Tags = ()

    def __post_init__(self) -> None:
        peers = [self.cidr_ipv4, self.cidr_ipv6, self.prefix_list_id, self.referenced_group_id]
        if sum(p is not None for p in peers) != 1:
            raise ValueError(f"rule {self.id or '?'} of {self.group_id} must have exactly one peer")

    @property
    def peer_kind(self) -> Literal["cidr_ipv4", "cidr_ipv6", "prefix_list", "security_group"]:
        if self.cidr_ipv4 is not None:
            return "cidr_ipv4"
        if self.cidr_ipv6 is not None:
            return "cidr_ipv6"
        if self.prefix_list_id is not None:
            return "prefix_list"
        return "security_group"

    @property
    def peer_value(self) -> str:
        value = self.cidr_ipv4 or self.cidr_ipv6 or self.prefix_list_id or self.referenced_group_id
        assert value is not None
        return value


# Quota weights of AWS-managed prefix lists, by service (IPv4 and IPv6 lists alike).
# AWS: https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights
AWS_PREFIX_LIST_WEIGHTS: Mapping[str, int] = {
    "cloudfront": 55,
    "dynamodb": 1,
    "ec2-instance-connect": 2,
    "groundstation": 5,
    "route53-healthchecks": 25,
    "s3": 1,
    "s3express": 6,
    "vpc-lattice": 10,
}


@dataclass(frozen=True)
class PrefixList:
    id: str
    name: str
    owner_id: str
    address_family: str  # IPv4 | IPv6
    max_entries: int | None  # None for AWS-managed lists (their documented weight counts)
    cidrs: tuple[str, ...]

    @property
    def aws_managed(self) -> bool:
        return self.owner_id == "AWS"

    @property
    def rule_weight(self) -> int:
        """How many rules a reference to this list counts as against the SG quota.

        A customer-managed list weighs its maximum entries; an AWS-managed list its
        documented weight (its entries change; the weight does not). An AWS-managed list
        the table does not know weighs its MaxEntries, else its current size.
        AWS: https://docs.aws.amazon.com/vpc/latest/userguide/working-with-aws-managed-prefix-lists.html#aws-managed-prefix-list-weights
        """
        service = self.service
        if self.aws_managed and service is not None and service in AWS_PREFIX_LIST_WEIGHTS:
            return AWS_PREFIX_LIST_WEIGHTS[service]
        return self.max_entries if self.max_entries is not None else len(self.cidrs)

    @property
    def service(self) -> str | None:
        """For AWS-managed lists, the service name: ``s3`` for ``com.amazonaws.us-east-1.s3``.

        Names carry a region or ``global`` and sometimes an ``ipv6`` marker before the
        service, and a qualifier after it: ``com.amazonaws.global.cloudfront.origin-facing``
        is ``cloudfront``, ``com.amazonaws.us-east-1.ipv6.vpc-lattice`` is ``vpc-lattice``.
        """
        if not (self.aws_managed and self.name.startswith("com.amazonaws.")):
            return None
        parts = self.name.split(".")[3:]  # drop "com", "amazonaws" and the region
        if parts[:1] == ["ipv6"]:
            parts = parts[1:]
        return parts[0] if parts else None

    @property
    def aws_service(self) -> str | None:
        """The service as flow logs name it in ``pkt-src-aws-service``: ``S3``, ``DYNAMODB``."""
        service = self.service
        return service.upper().replace("-", "_") if service else None


@dataclass(frozen=True)
class Vpc:
    id: str
    owner_id: str
    cidrs_ipv4: tuple[str, ...]
    cidrs_ipv6: tuple[str, ...]
    is_default: bool
    region: str | None = None
    tags: Tags = ()


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc_id: str
    cidr_ipv4: str | None
    cidrs_ipv6: tuple[str, ...]
    availability_zone: str | None
    az_id: str | None
    tags: Tags = ()


@dataclass(frozen=True)
class VpcPeering:
    id: str
    status: str  # active, pending-acceptance, deleted, ...
    requester_vpc_id: str
    requester_owner_id: str | None
    requester_region: str | None
    requester_cidrs: tuple[str, ...]
    accepter_vpc_id: str
    accepter_owner_id: str | None
    accepter_region: str | None
    accepter_cidrs: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class FlowLogConfig:
    """One flow log as DescribeFlowLogs describes it: what it captures, since when, where to.

    ``traffic_type`` is None for transit gateway flow logs, which take no traffic type
    (https://docs.aws.amazon.com/vpc/latest/tgw/flow-logs-api-cli.html). ``status`` is
    AWS's FlowLogStatus (``ACTIVE``) and ``deliver_status`` its DeliverLogsStatus
    (``SUCCESS`` | ``FAILED``); either is None when the document does not say.
    AWS: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_FlowLog.html
    """

    id: str
    resource_id: str
    resource_type: FlowLogResourceType
    traffic_type: TrafficType | None
    created_at: datetime
    log_format: str | None
    destination_type: str | None  # cloud-watch-logs | s3 | kinesis-data-firehose
    destination: str | None  # the bucket / log group / stream ARN
    status: str | None
    deliver_status: str | None
    max_aggregation_interval: int | None  # seconds: 60 or 600
    tags: Tags = ()

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    @property
    def delivery_failed(self) -> bool:
        return self.deliver_status == "FAILED"

    @property
    def name(self) -> str | None:
        return dict(self.tags).get("Name")


@dataclass(frozen=True)
class Snapshot:
    """One point-in-time collection: what AWS said at ``taken_at``."""

    taken_at: datetime
    source: str  # folder it was loaded from
    account_ids: tuple[str, ...]
    regions: tuple[str, ...]
    interfaces: tuple[NetworkInterface, ...]
    security_groups: tuple[SecurityGroup, ...]
    rules: tuple[SecurityGroupRule, ...]
    prefix_lists: tuple[PrefixList, ...]
    vpcs: tuple[Vpc, ...]
    subnets: tuple[Subnet, ...]
    peerings: tuple[VpcPeering, ...]
    flow_logs: tuple[FlowLogConfig, ...] = ()
    # describe-* documents this snapshot lacked; what they would have told is not guessed.
    missing: tuple[str, ...] = ()
    # A nested snapshot's per-account, per-region parts (each with its own folder, accounts
    # and missing documents), for checks that need to know where an object came from.
    parts: tuple[Snapshot, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Endpoint:
    """One side of a conversation, resolved."""

    kind: EndpointKind
    id: str  # eni-… for ENIs; the address for address-classed kinds; the service for AWS
    vpc_id: str | None = None
    security_group_ids: tuple[str, ...] = ()
    label: str | None = None  # e.g. the peering id, the prefix list id, the ENI's role
    interface_role: InterfaceRole | None = None  # for kind ENI: the ENI's role


@dataclass(frozen=True)
class Inventory:
    """Every snapshot, plus the merged, latest-wins view stages query.

    Build with ``inventory.load_inventory`` (from files) or ``Inventory.from_snapshots``.
    """

    snapshots: tuple[Snapshot, ...]  # oldest first
    interfaces: Mapping[str, NetworkInterface] = field(default_factory=dict)
    security_groups: Mapping[str, SecurityGroup] = field(default_factory=dict)
    rules: tuple[SecurityGroupRule, ...] = ()
    prefix_lists: Mapping[str, PrefixList] = field(default_factory=dict)
    vpcs: Mapping[str, Vpc] = field(default_factory=dict)
    subnets: Mapping[str, Subnet] = field(default_factory=dict)
    peerings: tuple[VpcPeering, ...] = ()
    flow_logs: tuple[FlowLogConfig, ...] = ()
    missing: tuple[str, ...] = ()

    @classmethod
    def from_snapshots(cls, snapshots: Sequence[Snapshot]) -> Inventory:
        """The merged view: every object as the latest snapshot that saw it describes it.

        Objects seen only in older snapshots stay (flows from those days name them). A
        group's rules come from the latest snapshot that knows the group, so a rule that
        was revoked between snapshots does not survive. ``missing`` is the union of what
        any snapshot lacked.
        """
        ordered = tuple(sorted(snapshots, key=lambda snap: snap.taken_at))
        interfaces: dict[str, NetworkInterface] = {}
        groups: dict[str, SecurityGroup] = {}
        prefix_lists: dict[str, PrefixList] = {}
        vpcs: dict[str, Vpc] = {}
        subnets: dict[str, Subnet] = {}
        peerings: dict[str, VpcPeering] = {}
        flow_logs: dict[str, FlowLogConfig] = {}
        rules_by_group: dict[str, list[SecurityGroupRule]] = {}
        missing: set[str] = set()
        for snap in ordered:
            interfaces.update((eni.id, eni) for eni in snap.interfaces)
            groups.update((sg.id, sg) for sg in snap.security_groups)
            prefix_lists.update((pl.id, pl) for pl in snap.prefix_lists)
            vpcs.update((vpc.id, vpc) for vpc in snap.vpcs)
            subnets.update((subnet.id, subnet) for subnet in snap.subnets)
            peerings.update((pcx.id, pcx) for pcx in snap.peerings)
            flow_logs.update((log.id, log) for log in snap.flow_logs)
            known = {sg.id for sg in snap.security_groups} | {r.group_id for r in snap.rules}
            for group_id in known:
                rules_by_group[group_id] = []
            for rule in snap.rules:
                rules_by_group[rule.group_id].append(rule)
            missing.update(snap.missing)
        return cls(
            snapshots=ordered,
            interfaces=_sorted_by_key(interfaces),
            security_groups=_sorted_by_key(groups),
            rules=tuple(rule for gid in sorted(rules_by_group) for rule in rules_by_group[gid]),
            prefix_lists=_sorted_by_key(prefix_lists),
            vpcs=_sorted_by_key(vpcs),
            subnets=_sorted_by_key(subnets),
            peerings=tuple(peerings[k] for k in sorted(peerings)),
            flow_logs=tuple(flow_logs[k] for k in sorted(flow_logs)),
            missing=tuple(sorted(missing)),
        )

    @property
    def taken_at(self) -> tuple[datetime, ...]:
        """When each snapshot was taken, oldest first."""
        return tuple(snap.taken_at for snap in self.snapshots)

    def group_addresses(self, group_id: str) -> tuple[str, ...]:
        """Every private IPv4 and IPv6 address of the ENIs in ``group_id`` (latest view).

        This is the set of addresses a rule referencing the group matches. Delegated
        prefixes are in :meth:`group_prefixes`. Like :meth:`members_of`, it includes
        ENIs seen only in older snapshots; ``IpResolver.interface_at`` answers for a moment.
        """
        found = {a for eni in self.members_of(group_id) for a in eni.addresses}
        return tuple(sorted(found, key=_address_sort_key))

    def group_prefixes(self, group_id: str) -> tuple[str, ...]:
        """The delegated IPv4 / IPv6 prefixes of the ENIs in ``group_id`` (latest view)."""
        found = {
            p for eni in self.members_of(group_id) for p in eni.ipv4_prefixes + eni.ipv6_prefixes
        }
        return tuple(sorted(found, key=_network_sort_key))

    def prefix_list_cidrs(self, prefix_list_id: str) -> tuple[str, ...]:
        """The CIDRs of a managed prefix list; raises if the inventory does not know it."""
        prefix_list = self.prefix_lists.get(prefix_list_id)
        if prefix_list is None:
            raise InventoryIncompleteError(
                f"prefix list {prefix_list_id} is not in the inventory",
                hint="collect describe-managed-prefix-lists.json and its "
                f"get-managed-prefix-list-entries.{prefix_list_id}.json",
            )
        return prefix_list.cidrs

    def rules_of(
        self, group_id: str, direction: Direction | None = None
    ) -> tuple[SecurityGroupRule, ...]:
        return tuple(
            r
            for r in self.rules
            if r.group_id == group_id and (direction is None or r.direction == direction)
        )

    def members_of(self, group_id: str) -> tuple[NetworkInterface, ...]:
        """ENIs (in the latest view) that carry ``group_id``, sorted by id."""
        return tuple(
            sorted(
                (eni for eni in self.interfaces.values() if group_id in eni.security_group_ids),
                key=lambda e: e.id,
            )
        )

    def is_internet_facing(self, eni: NetworkInterface) -> bool:
        """Has a public address (or is an internet-facing load balancer node)."""
        return bool(eni.public_ips) or any(
            not ipaddress.ip_address(a).is_private for a in eni.ipv6s
        )


_V = TypeVar("_V")


def _sorted_by_key(items: Mapping[str, _V]) -> dict[str, _V]:
    return {key: items[key] for key in sorted(items)}


def _address_sort_key(text: str) -> tuple[int, int]:
    address = ipaddress.ip_address(text)
    return address.version, int(address)


def _network_sort_key(text: str) -> tuple[int, int, int]:
    network = ipaddress.ip_network(text, strict=False)
    return network.version, int(network.network_address), network.prefixlen
