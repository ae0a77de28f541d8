"""Hand-made inventories and edge tables for the graph tests (no tests in here).

``edge(...)`` writes one edge-table row from a short, readable description:
``edge("2026-11-16", "eni-web1", "eni-api1", "tcp/8443", flows=40)``. A side is an ENI
id (its groups, VPC and role come from the inventory given to :func:`edges_frame`) or
an outside class: ``internet:203.0.113.50``, ``aws_service:S3@10.9.0.1``,
``peered_vpc:10.1.5.20@vpc-shared``, ``vpc_unknown:10.0.10.99@vpc-prod``,
``onprem:192.168.1.5@192.168.0.0/16``, ``private_other:172.16.0.9``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from zt_flows.conversations.build import EDGE_SCHEMA
from zt_flows.inventory.model import (
    InterfaceRole,
    Inventory,
    NetworkInterface,
    SecurityGroup,
    Snapshot,
    Subnet,
    Vpc,
)

ACCOUNT = "012345678901"
SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
PROTOCOLS = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def sg(group_id: str, name: str, vpc: str = "vpc-prod") -> SecurityGroup:
    return SecurityGroup(group_id, name, vpc, ACCOUNT, f"{name} group")


def eni(
    eni_id: str,
    name: str,
    subnet: str | None,
    groups: tuple[str, ...],
    address: str,
    *,
    role: InterfaceRole = InterfaceRole.INSTANCE,
    vpc: str = "vpc-prod",
) -> NetworkInterface:
    return NetworkInterface(
        id=eni_id,
        vpc_id=vpc,
        subnet_id=subnet,
        account_id=ACCOUNT,
        region="us-east-1",
        availability_zone="us-east-1a",
        interface_type="interface",
        requester_managed=role is not InterfaceRole.INSTANCE,
        requester_id=None,
        description=name,
        instance_id=f"i-{eni_id[4:]}" if role is InterfaceRole.INSTANCE else None,
        status="in-use",
        primary_ipv4=address,
        private_ipv4s=(address,),
        ipv6s=(),
        ipv4_prefixes=(),
        ipv6_prefixes=(),
        public_ips=(),
        security_group_ids=groups,
        attach_time=None,
        role=role,
        tags=(("Name", name),),
    )


def subnet(subnet_id: str, name: str, cidr: str, vpc: str = "vpc-prod") -> Subnet:
    return Subnet(subnet_id, vpc, cidr, (), "us-east-1a", "use1-az1", (("Name", name),))


def inventory_of(
    groups: list[SecurityGroup],
    interfaces: list[NetworkInterface],
    subnets: list[Subnet] | None = None,
    vpcs: list[Vpc] | None = None,
) -> Inventory:
    snapshot = Snapshot(
        taken_at=datetime(2026, 11, 16, tzinfo=UTC),
        source="hand-made",
        account_ids=(ACCOUNT,),
        regions=("us-east-1",),
        interfaces=tuple(interfaces),
        security_groups=tuple(groups),
        rules=(),
        prefix_lists=(),
        vpcs=tuple(vpcs or ()),
        subnets=tuple(subnets or ()),
        peerings=(),
    )
    return Inventory.from_snapshots([snapshot])


@dataclass(frozen=True)
class Edge:
    day: str
    client: str
    server: str
    port: str
    flows: int
    accepted: int | None
    rejected: int
    bytes: int


def edge(
    day: str,
    client: str,
    server: str,
    port: str,
    *,
    flows: int = 10,
    rejected: int = 0,
    accepted: int | None = None,
    bytes: int = 5000,
) -> Edge:
    return Edge(day, client, server, port, flows, accepted, rejected, bytes)


def _side(spec: str, inventory: Inventory, prefix: str) -> dict[str, Any]:
    if spec.startswith("eni-"):
        found = inventory.interfaces.get(spec)
        return {
            f"{prefix}_kind": "eni",
            f"{prefix}_id": spec,
            f"{prefix}_vpc_id": found.vpc_id if found else None,
            f"{prefix}_role": found.role.value if found else "unknown",
            f"{prefix}_sgs": sorted(found.security_group_ids) if found else [],
            f"{prefix}_addrs": list(found.private_ipv4s) if found else ["10.0.99.99"],
            f"{prefix}_label": None,
        }
    kind, _, rest = spec.partition(":")
    address, _, extra = rest.partition("@")
    endpoint_id = address
    vpc_id = label = None
    if kind == "aws_service":
        endpoint_id, address = address, extra or "52.216.0.1"
        label = "pl-63a5400a"
    elif kind in ("peered_vpc", "vpc_unknown"):
        vpc_id = extra or None
    elif kind == "onprem":
        label = extra or None
    return {
        f"{prefix}_kind": kind,
        f"{prefix}_id": endpoint_id,
        f"{prefix}_vpc_id": vpc_id,
        f"{prefix}_role": None,
        f"{prefix}_sgs": [],
        f"{prefix}_addrs": [address],
        f"{prefix}_label": label,
    }


def edges_frame(rows: list[Edge], inventory: Inventory) -> pl.DataFrame:
    """The edge table (EDGE_SCHEMA) for ``rows``."""
    records = []
    for row in rows:
        protocol_name, _, port = row.port.partition("/")
        accepted = row.flows - row.rejected if row.accepted is None else row.accepted
        day = date.fromisoformat(row.day)
        start = datetime(day.year, day.month, day.day, 8, 0)
        records.append(
            {
                "day": day,
                **_side(row.client, inventory, "client"),
                **_side(row.server, inventory, "server"),
                "protocol": PROTOCOLS[protocol_name],
                "server_port": int(port or 0),
                "flows": row.flows,
                "accepted": accepted,
                "rejected": row.rejected,
                "connections": row.flows,
                "packets": row.flows * 10,
                "bytes": row.bytes,
                "first_seen": start,
                "last_seen": start + timedelta(hours=9, minutes=30),
                "initiator": "tcp_flags",
                "flows_by_flags": row.flows,
                "flows_by_listener": 0,
                "flows_by_heuristic": 0,
                "vantage": "server",
            }
        )
    table = pa.Table.from_pylist(records, schema=EDGE_SCHEMA)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


# --------------------------------------------------------------------------- the sample VPC

ALB = InterfaceRole.LOAD_BALANCER
DB = InterfaceRole.DATABASE
CACHE = InterfaceRole.CACHE
LAMBDA = InterfaceRole.LAMBDA

SAMPLE_GROUPS = [
    sg("sg-alb", "web-alb"),
    sg("sg-web", "web"),
    sg("sg-api", "api"),
    sg("sg-worker", "worker"),
    sg("sg-pg", "postgres"),
    sg("sg-redis", "redis"),
    sg("sg-bastion", "bastion"),
    sg("sg-nodeexp", "node-exporter"),
    sg("sg-mon", "monitoring"),
    sg("sg-dns", "dns-resolver"),
    sg("sg-legacy", "legacy-allow-vpc"),
    sg("sg-lambda", "reports-lambda"),
    sg("sg-batch", "weekly-batch"),
    sg("sg-default", "default"),
    sg("sg-jenkins", "jenkins-old"),
    sg("sg-ci", "ci-runner", "vpc-shared"),
]
SAMPLE_SUBNETS = [
    subnet("subnet-pub-a", "public-a", "10.0.0.0/24"),
    subnet("subnet-pub-b", "public-b", "10.0.1.0/24"),
    subnet("subnet-app-a", "app-a", "10.0.10.0/24"),
    subnet("subnet-app-b", "app-b", "10.0.11.0/24"),
    subnet("subnet-jobs-a", "jobs-a", "10.0.12.0/24"),
    subnet("subnet-data-a", "data-a", "10.0.20.0/24"),
    subnet("subnet-data-b", "data-b", "10.0.21.0/24"),
    subnet("subnet-mgmt-a", "mgmt-a", "10.0.30.0/24"),
    subnet("subnet-tools-a", "tools-a", "10.1.5.0/24", "vpc-shared"),
]
NE = "sg-nodeexp"
SAMPLE_INTERFACES = [
    eni("eni-alb-a", "alb-a", "subnet-pub-a", ("sg-alb",), "10.0.0.10", role=ALB),
    eni("eni-alb-b", "alb-b", "subnet-pub-b", ("sg-alb",), "10.0.1.10", role=ALB),
    eni("eni-nat-a", "nat-a", "subnet-pub-a", (), "10.0.0.20", role=InterfaceRole.NAT_GATEWAY),
    eni("eni-bastion", "bastion", "subnet-pub-a", ("sg-bastion", NE), "10.0.0.30"),
    eni("eni-web1", "web-1", "subnet-app-a", ("sg-web", NE), "10.0.10.11"),
    eni("eni-web2", "web-2", "subnet-app-b", ("sg-web", NE), "10.0.11.11"),
    eni("eni-api1", "api-1", "subnet-app-a", ("sg-api", NE, "sg-legacy"), "10.0.10.21"),
    eni("eni-api2", "api-2", "subnet-app-b", ("sg-api", NE, "sg-legacy"), "10.0.11.21"),
    eni("eni-worker1", "worker-1", "subnet-jobs-a", ("sg-worker", NE, "sg-legacy"), "10.0.12.31"),
    eni("eni-batch", "batch", "subnet-jobs-a", ("sg-batch", "sg-default"), "10.0.12.41"),
    eni("eni-lambda-a", "lambda-a", "subnet-app-a", ("sg-lambda",), "10.0.10.100", role=LAMBDA),
    eni("eni-lambda-b", "lambda-b", "subnet-app-b", ("sg-lambda",), "10.0.11.100", role=LAMBDA),
    eni("eni-pg", "postgres", "subnet-data-a", ("sg-pg",), "10.0.20.5", role=DB),
    eni("eni-redis", "redis", "subnet-data-b", ("sg-redis",), "10.0.21.5", role=CACHE),
    eni("eni-prom", "prometheus", "subnet-mgmt-a", (NE, "sg-mon"), "10.0.30.10"),
    eni("eni-dns", "dns", "subnet-mgmt-a", (NE, "sg-dns"), "10.0.30.20"),
    eni("eni-ci", "ci-runner", "subnet-tools-a", ("sg-ci",), "10.1.5.20", vpc="vpc-shared"),
]
SAMPLE_VPCS = [
    Vpc("vpc-prod", ACCOUNT, ("10.0.0.0/16",), (), False, "us-east-1", (("Name", "prod"),)),
    Vpc("vpc-shared", ACCOUNT, ("10.1.0.0/16",), (), False, "us-east-1", (("Name", "shared"),)),
]


def sample_inventory() -> Inventory:
    return inventory_of(SAMPLE_GROUPS, SAMPLE_INTERFACES, SAMPLE_SUBNETS, SAMPLE_VPCS)


def sample_rows() -> list[Edge]:
    """The traffic table of SCENARIO.md, one day (batch on the 17th), as edge rows."""
    rows: list[Edge] = []
    d, d2 = "2026-11-16", "2026-11-17"
    albs, webs, apis = (
        ("eni-alb-a", "eni-alb-b"),
        ("eni-web1", "eni-web2"),
        ("eni-api1", "eni-api2"),
    )
    for alb in albs:
        rows.append(edge(d, "internet:198.51.100.20", alb, "tcp/443", flows=900, bytes=9_000_000))
        rows.append(edge(d, "internet:192.0.2.66", alb, "tcp/23", flows=3, rejected=3))
        rows.append(edge(d, "internet:192.0.2.66", alb, "tcp/3389", flows=2, rejected=2))
        for web in webs:
            rows.append(edge(d, alb, web, "tcp/8080", flows=400))
    for web in webs:
        rows.append(edge(d, web, "internet:203.0.113.50", "tcp/443", flows=30))
        rows.append(edge(d, "eni-bastion", web, "tcp/22", flows=2))
        for api in apis:
            rows.append(edge(d, web, api, "tcp/8443", flows=50))
    for api in apis:
        rows.append(edge(d, api, "eni-pg", "tcp/5432", flows=20))
        rows.append(edge(d, api, "eni-redis", "tcp/6379", flows=60))
        rows.append(edge(d, api, "eni-worker1", "tcp/8081", flows=12))
        rows.append(edge(d, api, "aws_service:S3", "tcp/443", flows=8))
        for lam in ("eni-lambda-a", "eni-lambda-b"):
            rows.append(edge(d, lam, api, "tcp/8443", flows=5))
        rows.append(edge(d2, "eni-batch", api, "tcp/8443", flows=4))
    rows.append(edge(d, "eni-worker1", "eni-redis", "tcp/6379", flows=30))
    rows.append(edge(d, "eni-worker1", "aws_service:AMAZON", "tcp/443", flows=15))
    rows.append(edge(d, "eni-worker1", "aws_service:S3", "tcp/443", flows=25))
    for member in ("eni-bastion", *webs, *apis, "eni-worker1", "eni-prom", "eni-dns"):
        rows.append(edge(d, "eni-prom", member, "tcp/9100", flows=1440))
    for client in ("eni-bastion", *webs, *apis, "eni-worker1", "eni-prom"):
        rows.append(edge(d, client, "eni-dns", "udp/53", flows=300))
    rows.append(edge(d2, "eni-batch", "eni-dns", "udp/53", flows=20))
    rows.append(edge(d, "internet:198.51.100.7", "eni-bastion", "tcp/22", flows=4))
    rows.append(edge(d, "internet:198.51.100.9", "eni-bastion", "tcp/22", flows=2))
    rows.append(edge(d, "eni-ci", "eni-bastion", "tcp/22", flows=6))
    rows.append(edge(d, "internet:192.0.2.66", "eni-bastion", "tcp/445", flows=2, rejected=2))
    for lam in ("eni-lambda-a", "eni-lambda-b"):
        rows.append(edge(d, lam, "eni-redis", "tcp/6379", flows=3, rejected=3))
    return rows


# --------------------------------------------------------------------------- a larger estate


def estate() -> tuple[Inventory, list[Edge]]:
    """About 40 security groups in the shape of a web shop, a monitoring agent group on
    every instance, and traffic from a fixed pseudo-random seed."""
    rnd = random.Random(7)
    groups = [sg("sg-agent", "datadog-agent")]
    interfaces: list[NetworkInterface] = []

    def add(name: str, role: InterfaceRole = InterfaceRole.INSTANCE, count: int = 2) -> str:
        groups.append(sg(f"sg-{name}", name))
        extra = ("sg-agent",) if role is InterfaceRole.INSTANCE else ()
        for i in range(count):
            n = len(interfaces) + 1
            interfaces.append(
                eni(
                    f"eni-{name}-{i}",
                    f"{name}-{i}",
                    "subnet-app-a",
                    (f"sg-{name}", *extra),
                    f"10.0.{n // 200}.{n % 200 + 1}",
                    role=role,
                )
            )
        return f"eni-{name}-0"

    lbs = [add(f"{n}-alb", ALB) for n in ("shop", "admin", "partner-api", "media")]
    front = [
        add(n) for n in ("storefront", "checkout-web", "admin-portal", "partner-gw", "media-proxy")
    ]
    mid = [
        add(n)
        for n in (
            "cart-svc",
            "orders-svc",
            "payments-svc",
            "inventory-svc",
            "pricing-svc",
            "catalog-svc",
            "users-svc",
            "auth-svc",
            "notifications",
            "recommendations",
            "search-svc",
            "shipping-svc",
        )
    ]
    back = [add(n) for n in ("ledger", "fraud-scoring", "email-sender", "thumbnailer", "etl")]
    stores = {
        add("orders-db", DB, 1): "tcp/5432",
        add("users-db", DB, 1): "tcp/5432",
        add("catalog-db", DB, 1): "tcp/5432",
        add("ledger-db", DB, 1): "tcp/5432",
        add("session-cache", CACHE, 1): "tcp/6379",
        add("cart-cache", CACHE, 1): "tcp/6379",
        add("search-es", InterfaceRole.OTHER_MANAGED, 3): "tcp/9200",
    }
    bastion, prometheus, dns = (
        add("bastion", count=1),
        add("prometheus", count=1),
        add("dns", count=1),
    )
    kafka, vault = add("kafka", count=3), add("vault", count=1)
    rows: list[Edge] = []
    d = "2026-11-16"

    def link(client: str, server: str, port: str) -> None:
        rows.append(edge(d, client, server, port, flows=rnd.randint(5, 5000)))

    for lb, target in zip(lbs, (front[0], front[2], front[3], front[4]), strict=True):
        link("internet:198.51.100.1", lb, "tcp/443")
        link(lb, target, "tcp/8080")
    link(lbs[0], front[1], "tcp/8080")
    for client in front:
        for server in rnd.sample(mid, 3):
            link(client, server, "tcp/8443")
    for client in mid:
        link(client, rnd.choice(back), "tcp/9000")
        for store in rnd.sample(sorted(stores), 2):
            link(client, store, stores[store])
        link(client, kafka, "tcp/9092")
        link(client, vault, "tcp/8200")
    for client in back:
        link(client, rnd.choice(sorted(stores)), "tcp/5432")
        link(client, "aws_service:S3", "tcp/443")
    link(back[2], "internet:203.0.113.25", "tcp/587")
    for member in front + mid + back:
        link(prometheus, member, "tcp/9100")
        link(member, dns, "udp/53")
    link("internet:198.51.100.7", bastion, "tcp/22")
    for member in front:
        link(bastion, member, "tcp/22")
    rows.append(edge(d, "internet:192.0.2.66", lbs[1], "tcp/3389", flows=4, rejected=4))
    rows.append(edge(d, "peered_vpc:10.1.5.20@vpc-shared", bastion, "tcp/22", flows=6))
    inventory = inventory_of(groups, interfaces, SAMPLE_SUBNETS, SAMPLE_VPCS)
    return inventory, rows


def sample_folder(scratch: Path) -> Path:
    """sample_data/ (inventory and flow logs), or the same generated into ``scratch``."""
    if any(SAMPLE_DATA.glob("inventory/*/describe-network-interfaces.json")) and any(
        (SAMPLE_DATA / "flowlogs").rglob("*.log.*")
    ):
        return SAMPLE_DATA
    from zt_flows.sample.generate import write_sample

    write_sample(scratch)
    return scratch
