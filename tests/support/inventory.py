"""Hand-made inventories: one builder per thing, readable arguments, the real contracts.

    api = eni("api-1", "10.0.10.21", ["sg-api"])
    inv = inventory([api, db], groups=["sg-api", "sg-db"], rules=[
        rule("sg-db", "ingress", "tcp", 5432, "sg-api")])

Every inventory goes through ``Inventory.from_snapshots``. It has no flow-log
configuration (``describe-flow-logs.json`` is missing) unless ``flow_logs`` are given:
``inventory(..., flow_logs=[flow_log(VPC)])``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from zt_flows.inventory import snapshot_files
from zt_flows.inventory.flow_logs import resource_type_of
from zt_flows.inventory.model import (
    FlowLogConfig,
    InterfaceRole,
    Inventory,
    NetworkInterface,
    PrefixList,
    SecurityGroup,
    SecurityGroupRule,
    Snapshot,
    Subnet,
    Vpc,
    VpcPeering,
)

ACCOUNT = "111122223333"
VPC = "vpc-a"
ATTACHED = datetime(2026, 1, 1, tzinfo=UTC)


def eni(
    name: str,
    ip: str | Sequence[str] = (),
    groups: Sequence[str] = (),
    *,
    eni_id: str | None = None,
    vpc: str = VPC,
    role: InterfaceRole = InterfaceRole.INSTANCE,
    public: Sequence[str] = (),
    ipv6: Sequence[str] = (),
    prefixes: Sequence[str] = (),
    ipv6_prefixes: Sequence[str] = (),
    subnet: str | None = None,
    attached: datetime | None = ATTACHED,
    account: str = ACCOUNT,
    tagged: bool = True,
    interface_type: str = "interface",
    description: str | None = None,
    requester_id: str | None = None,
) -> NetworkInterface:
    """An ENI called ``name`` (its Name tag, unless not ``tagged``), ``eni-<name>`` unless
    ``eni_id`` says otherwise. ``subnet`` defaults to ``subnet-<vpc>``; ``attached`` is the
    attach time (None: none); IPv6 addresses are kept in AWS's compressed form. The
    interface type, description and requester are what AWS would describe (they decide
    the role when a snapshot is written and loaded again, see support.flowlogs)."""
    ips = (ip,) if isinstance(ip, str) else tuple(ip)
    return NetworkInterface(
        id=eni_id or f"eni-{name}",
        vpc_id=vpc,
        subnet_id=subnet or f"subnet-{vpc}",
        account_id=account,
        region="us-east-1",
        availability_zone="us-east-1a",
        interface_type=interface_type,
        requester_managed=role not in (InterfaceRole.INSTANCE, InterfaceRole.UNATTACHED),
        requester_id=requester_id,
        description=name if description is None else description,
        instance_id=f"i-{name}" if role is InterfaceRole.INSTANCE else None,
        status="in-use",
        primary_ipv4=ips[0] if ips else None,
        private_ipv4s=ips,
        ipv6s=tuple(str(ipaddress.ip_address(a)) for a in ipv6),
        ipv4_prefixes=tuple(prefixes),
        ipv6_prefixes=tuple(ipv6_prefixes),
        public_ips=tuple(public),
        security_group_ids=tuple(groups),
        attach_time=attached,
        role=role,
        tags=(("Name", name),) if tagged else (),
    )


def subnet(subnet_id: str, name: str, cidr: str, vpc: str = VPC) -> Subnet:
    return Subnet(subnet_id, vpc, cidr, (), "us-east-1a", "use1-az1", (("Name", name),))


def vpc(vpc_id: str, cidr: str, ipv6: str | None = None, *, name: str | None = None) -> Vpc:
    tags = (("Name", name),) if name else ()
    return Vpc(vpc_id, ACCOUNT, (cidr,), (ipv6,) if ipv6 else (), False, "us-east-1", tags)


def _peer_fields(peer: str) -> dict[str, str]:
    if peer.startswith("sg-"):
        return {"referenced_group_id": peer}
    if peer.startswith("pl-"):
        return {"prefix_list_id": peer}
    if ":" in peer:
        return {"cidr_ipv6": peer}
    return {"cidr_ipv4": peer}


def rule(
    group: str,
    direction: str,
    protocol: str,
    ports: int | tuple[int, int] | None,
    peer: str,
    *,
    rule_id: str | None = None,
    description: str | None = None,
) -> SecurityGroupRule:
    """``ports``: one port, a (from, to) range, or None for every port (or ICMP type)."""
    if ports is None:
        low = high = None
    elif isinstance(ports, int):
        low = high = ports
    else:
        low, high = ports
    shown = "all" if low is None else f"{low}-{high}"
    return SecurityGroupRule(
        id=rule_id
        or f"sgr-{group[3:]}-{direction[:2]}-{protocol}-{shown}-{peer}".replace("/", "_"),
        group_id=group,
        group_owner_id=ACCOUNT,
        direction=direction,  # type: ignore[arg-type]
        protocol=protocol,
        from_port=low,
        to_port=high,
        description=description,
        **_peer_fields(peer),  # type: ignore[arg-type]
    )


def security_group(
    group_id: str, *, vpc: str = VPC, name: str | None = None, description: str | None = None
) -> SecurityGroup:
    return SecurityGroup(
        id=group_id,
        name=name or group_id.removeprefix("sg-"),
        vpc_id=vpc,
        owner_id=ACCOUNT,
        description=description or f"{group_id} for tests",
    )


def prefix_list(pl_id: str, name: str, cidrs: Sequence[str], *, aws: bool = True) -> PrefixList:
    return PrefixList(
        id=pl_id,
        name=name,
        owner_id="AWS" if aws else ACCOUNT,
        address_family="IPv6" if ":" in cidrs[0] else "IPv4",
        max_entries=None if aws else len(cidrs),
        cidrs=tuple(cidrs),
    )


def peering(a: str, b: str, *, status: str = "active", region_b: str = "us-east-1") -> VpcPeering:
    return VpcPeering(
        id=f"pcx-{a}-{b}",
        status=status,
        requester_vpc_id=a,
        requester_owner_id=ACCOUNT,
        requester_region="us-east-1",
        requester_cidrs=(),
        accepter_vpc_id=b,
        accepter_owner_id=ACCOUNT,
        accepter_region=region_b,
        accepter_cidrs=(),
    )


def flow_log(
    resource_id: str,
    traffic: str | None = "ALL",
    *,
    created: datetime = datetime(2026, 10, 1, tzinfo=UTC),
    status: str | None = "ACTIVE",
    deliver: str | None = "SUCCESS",
    log_id: str | None = None,
) -> FlowLogConfig:
    """A flow log on a VPC, subnet or ENI id, as DescribeFlowLogs would describe it."""
    return FlowLogConfig(
        id=log_id or f"fl-{resource_id}-{(traffic or 'none').lower()}",
        resource_id=resource_id,
        resource_type=resource_type_of(resource_id),
        traffic_type=traffic,  # type: ignore[arg-type]
        created_at=created,
        log_format="${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr}",
        destination_type="s3",
        destination="arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
        status=status,
        deliver_status=deliver,
        max_aggregation_interval=60,
    )


def inventory(
    enis: Iterable[NetworkInterface],
    *,
    groups: Iterable[str | SecurityGroup],
    rules: Iterable[SecurityGroupRule] = (),
    prefix_lists: Iterable[PrefixList] = (),
    vpcs: Sequence[tuple[str, str] | tuple[str, str, str] | Vpc] = ((VPC, "10.0.0.0/16"),),
    subnets: Iterable[Subnet] = (),
    peerings: Iterable[VpcPeering] = (),
    flow_logs: Iterable[FlowLogConfig] | None = None,
    taken_at: datetime = datetime(2026, 11, 19, tzinfo=UTC),
) -> Inventory:
    """``vpcs``: (id, CIDR[, IPv6 CIDR]) or Vpc values; ``flow_logs`` None: the snapshot
    lacks describe-flow-logs.json (coverage unknown)."""
    sgs = tuple(g if isinstance(g, SecurityGroup) else security_group(g) for g in groups)
    snap = Snapshot(
        taken_at=taken_at,
        source="test",
        account_ids=(ACCOUNT,),
        regions=("us-east-1",),
        interfaces=tuple(enis),
        security_groups=sgs,
        rules=tuple(rules),
        prefix_lists=tuple(prefix_lists),
        vpcs=tuple(v if isinstance(v, Vpc) else vpc(*v) for v in vpcs),
        subnets=tuple(subnets),
        peerings=tuple(peerings),
        flow_logs=tuple(flow_logs or ()),
        missing=(snapshot_files.FLOW_LOGS.file,) if flow_logs is None else (),
    )
    return Inventory.from_snapshots([snap])
