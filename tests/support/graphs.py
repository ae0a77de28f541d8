"""The sample VPC and a larger estate for the graph tests, built with the shared builders.

``flow(...)`` is :func:`support.edges.edge` with the graph tests' figures:
``flow("eni-web1", "eni-api1", 8443, flows=40)``; a side given by its ENI id takes its
groups, VPC and role from the inventory given to :func:`support.edges.frame`.
"""

from __future__ import annotations

import random
from datetime import time
from pathlib import Path

from support.edges import Side, edge
from support.inventory import eni, security_group, subnet, vpc
from support.inventory import inventory as inventory_of
from zt_flows.inventory.model import InterfaceRole, Inventory, NetworkInterface

SAMPLE_DATA = Path(__file__).resolve().parent.parent.parent / "sample_data"
PROD = "vpc-prod"
# The graph tests' traffic: ten packets a flow, 5,000 bytes an edge, seen 08:00 to 17:30.
GRAPH_DAY = (time(8), time(17, 30))


def flow(
    client: Side,
    server: Side,
    port: int,
    protocol: str = "tcp",
    *,
    day: int = 0,
    flows: int = 10,
    rejected: int = 0,
    accepted: int | None = None,
    bytes_: int = 5000,
) -> dict[str, object]:
    """:func:`edge` with the graph tests' figures, logged by the server."""
    return edge(
        client,
        server,
        port,
        protocol,
        day=day,
        flows=flows,
        rejected=rejected,
        accepted=accepted,
        packets=10 * flows,
        bytes_=bytes_,
        seen=GRAPH_DAY,
        vantage="server",
    )


# --------------------------------------------------------------------------- the sample VPC

ALB = InterfaceRole.LOAD_BALANCER
DB = InterfaceRole.DATABASE
CACHE = InterfaceRole.CACHE
LAMBDA = InterfaceRole.LAMBDA

SAMPLE_GROUPS = [
    security_group("sg-alb", name="web-alb", vpc=PROD),
    security_group("sg-web", name="web", vpc=PROD),
    security_group("sg-api", name="api", vpc=PROD),
    security_group("sg-worker", name="worker", vpc=PROD),
    security_group("sg-pg", name="postgres", vpc=PROD),
    security_group("sg-redis", name="redis", vpc=PROD),
    security_group("sg-bastion", name="bastion", vpc=PROD),
    security_group("sg-nodeexp", name="node-exporter", vpc=PROD),
    security_group("sg-mon", name="monitoring", vpc=PROD),
    security_group("sg-dns", name="dns-resolver", vpc=PROD),
    security_group("sg-legacy", name="legacy-allow-vpc", vpc=PROD),
    security_group("sg-lambda", name="reports-lambda", vpc=PROD),
    security_group("sg-batch", name="weekly-batch", vpc=PROD),
    security_group("sg-default", name="default", vpc=PROD),
    security_group("sg-jenkins", name="jenkins-old", vpc=PROD),
    security_group("sg-ci", name="ci-runner", vpc="vpc-shared"),
]
SAMPLE_SUBNETS = [
    subnet("subnet-pub-a", "public-a", "10.0.0.0/24", PROD),
    subnet("subnet-pub-b", "public-b", "10.0.1.0/24", PROD),
    subnet("subnet-app-a", "app-a", "10.0.10.0/24", PROD),
    subnet("subnet-app-b", "app-b", "10.0.11.0/24", PROD),
    subnet("subnet-jobs-a", "jobs-a", "10.0.12.0/24", PROD),
    subnet("subnet-data-a", "data-a", "10.0.20.0/24", PROD),
    subnet("subnet-data-b", "data-b", "10.0.21.0/24", PROD),
    subnet("subnet-mgmt-a", "mgmt-a", "10.0.30.0/24", PROD),
    subnet("subnet-tools-a", "tools-a", "10.1.5.0/24", "vpc-shared"),
]
NE = "sg-nodeexp"
SAMPLE_INTERFACES = [
    eni(
        "alb-a",
        "10.0.0.10",
        ("sg-alb",),
        eni_id="eni-alb-a",
        subnet="subnet-pub-a",
        vpc=PROD,
        role=ALB,
    ),
    eni(
        "alb-b",
        "10.0.1.10",
        ("sg-alb",),
        eni_id="eni-alb-b",
        subnet="subnet-pub-b",
        vpc=PROD,
        role=ALB,
    ),
    eni(
        "nat-a",
        "10.0.0.20",
        (),
        eni_id="eni-nat-a",
        subnet="subnet-pub-a",
        vpc=PROD,
        role=InterfaceRole.NAT_GATEWAY,
    ),
    eni(
        "bastion",
        "10.0.0.30",
        ("sg-bastion", NE),
        eni_id="eni-bastion",
        subnet="subnet-pub-a",
        vpc=PROD,
    ),
    eni("web-1", "10.0.10.11", ("sg-web", NE), eni_id="eni-web1", subnet="subnet-app-a", vpc=PROD),
    eni("web-2", "10.0.11.11", ("sg-web", NE), eni_id="eni-web2", subnet="subnet-app-b", vpc=PROD),
    eni(
        "api-1",
        "10.0.10.21",
        ("sg-api", NE, "sg-legacy"),
        eni_id="eni-api1",
        subnet="subnet-app-a",
        vpc=PROD,
    ),
    eni(
        "api-2",
        "10.0.11.21",
        ("sg-api", NE, "sg-legacy"),
        eni_id="eni-api2",
        subnet="subnet-app-b",
        vpc=PROD,
    ),
    eni(
        "worker-1",
        "10.0.12.31",
        ("sg-worker", NE, "sg-legacy"),
        eni_id="eni-worker1",
        subnet="subnet-jobs-a",
        vpc=PROD,
    ),
    eni(
        "batch",
        "10.0.12.41",
        ("sg-batch", "sg-default"),
        eni_id="eni-batch",
        subnet="subnet-jobs-a",
        vpc=PROD,
    ),
    eni(
        "lambda-a",
        "10.0.10.100",
        ("sg-lambda",),
        eni_id="eni-lambda-a",
        subnet="subnet-app-a",
        vpc=PROD,
        role=LAMBDA,
    ),
    eni(
        "lambda-b",
        "10.0.11.100",
        ("sg-lambda",),
        eni_id="eni-lambda-b",
        subnet="subnet-app-b",
        vpc=PROD,
        role=LAMBDA,
    ),
    eni(
        "postgres",
        "10.0.20.5",
        ("sg-pg",),
        eni_id="eni-pg",
        subnet="subnet-data-a",
        vpc=PROD,
        role=DB,
    ),
    eni(
        "redis",
        "10.0.21.5",
        ("sg-redis",),
        eni_id="eni-redis",
        subnet="subnet-data-b",
        vpc=PROD,
        role=CACHE,
    ),
    eni(
        "prometheus",
        "10.0.30.10",
        (NE, "sg-mon"),
        eni_id="eni-prom",
        subnet="subnet-mgmt-a",
        vpc=PROD,
    ),
    eni("dns", "10.0.30.20", (NE, "sg-dns"), eni_id="eni-dns", subnet="subnet-mgmt-a", vpc=PROD),
    eni(
        "ci-runner",
        "10.1.5.20",
        ("sg-ci",),
        eni_id="eni-ci",
        subnet="subnet-tools-a",
        vpc="vpc-shared",
    ),
]
SAMPLE_VPCS = [
    vpc("vpc-prod", "10.0.0.0/16", name="prod"),
    vpc("vpc-shared", "10.1.0.0/16", name="shared"),
]


def sample_inventory() -> Inventory:
    return inventory_of(
        SAMPLE_INTERFACES, groups=SAMPLE_GROUPS, vpcs=SAMPLE_VPCS, subnets=SAMPLE_SUBNETS
    )


def sample_rows() -> list[dict[str, object]]:
    """The traffic table of SCENARIO.md, one day (batch on the 17th), as edge rows."""
    rows: list[dict[str, object]] = []
    albs, webs, apis = (
        ("eni-alb-a", "eni-alb-b"),
        ("eni-web1", "eni-web2"),
        ("eni-api1", "eni-api2"),
    )
    for alb in albs:
        rows.append(flow("198.51.100.20", alb, 443, "tcp", flows=900, bytes_=9_000_000))
        rows.append(flow("192.0.2.66", alb, 23, "tcp", flows=3, rejected=3))
        rows.append(flow("192.0.2.66", alb, 3389, "tcp", flows=2, rejected=2))
        for web in webs:
            rows.append(flow(alb, web, 8080, "tcp", flows=400))
    for web in webs:
        rows.append(flow(web, "203.0.113.50", 443, "tcp", flows=30))
        rows.append(flow("eni-bastion", web, 22, "tcp", flows=2))
        for api in apis:
            rows.append(flow(web, api, 8443, "tcp", flows=50))
    for api in apis:
        rows.append(flow(api, "eni-pg", 5432, "tcp", flows=20))
        rows.append(flow(api, "eni-redis", 6379, "tcp", flows=60))
        rows.append(flow(api, "eni-worker1", 8081, "tcp", flows=12))
        rows.append(flow(api, "aws_service:S3", 443, "tcp", flows=8))
        for lam in ("eni-lambda-a", "eni-lambda-b"):
            rows.append(flow(lam, api, 8443, "tcp", flows=5))
        rows.append(flow("eni-batch", api, 8443, "tcp", day=1, flows=4))
    rows.append(flow("eni-worker1", "eni-redis", 6379, "tcp", flows=30))
    rows.append(flow("eni-worker1", "aws_service:AMAZON", 443, "tcp", flows=15))
    rows.append(flow("eni-worker1", "aws_service:S3", 443, "tcp", flows=25))
    for member in ("eni-bastion", *webs, *apis, "eni-worker1", "eni-prom", "eni-dns"):
        rows.append(flow("eni-prom", member, 9100, "tcp", flows=1440))
    for client in ("eni-bastion", *webs, *apis, "eni-worker1", "eni-prom"):
        rows.append(flow(client, "eni-dns", 53, "udp", flows=300))
    rows.append(flow("eni-batch", "eni-dns", 53, "udp", day=1, flows=20))
    rows.append(flow("198.51.100.7", "eni-bastion", 22, "tcp", flows=4))
    rows.append(flow("198.51.100.9", "eni-bastion", 22, "tcp", flows=2))
    rows.append(flow("eni-ci", "eni-bastion", 22, "tcp", flows=6))
    rows.append(flow("192.0.2.66", "eni-bastion", 445, "tcp", flows=2, rejected=2))
    for lam in ("eni-lambda-a", "eni-lambda-b"):
        rows.append(flow(lam, "eni-redis", 6379, "tcp", flows=3, rejected=3))
    return rows


# --------------------------------------------------------------------------- a larger estate


def estate() -> tuple[Inventory, list[dict[str, object]]]:
    """About 40 security groups in the shape of a web shop, a monitoring agent group on
    every instance, and traffic from a fixed pseudo-random seed."""
    rnd = random.Random(7)
    groups = [security_group("sg-agent", name="datadog-agent", vpc=PROD)]
    interfaces: list[NetworkInterface] = []

    def add(name: str, role: InterfaceRole = InterfaceRole.INSTANCE, count: int = 2) -> str:
        groups.append(security_group(f"sg-{name}", name=name, vpc=PROD))
        extra = ("sg-agent",) if role is InterfaceRole.INSTANCE else ()
        for i in range(count):
            n = len(interfaces) + 1
            interfaces.append(
                eni(
                    f"{name}-{i}",
                    f"10.0.{n // 200}.{n % 200 + 1}",
                    (f"sg-{name}", *extra),
                    eni_id=f"eni-{name}-{i}",
                    subnet="subnet-app-a",
                    vpc=PROD,
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
    rows: list[dict[str, object]] = []

    def link(client: str, server: str, port: str) -> None:
        protocol, _, number = port.partition("/")
        rows.append(flow(client, server, int(number), protocol, flows=rnd.randint(5, 5000)))

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
    rows.append(flow("192.0.2.66", lbs[1], 3389, "tcp", flows=4, rejected=4))
    rows.append(flow("peered_vpc:10.1.5.20|vpc-shared", bastion, 22, "tcp", flows=6))
    inventory = inventory_of(interfaces, groups=groups, vpcs=SAMPLE_VPCS, subnets=SAMPLE_SUBNETS)
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
