"""The sample VPC's network, security groups and interfaces (``sample_data/SCENARIO.md``).

Plain frozen data: what exists, with which addresses and groups, from when to when.
AWS identifiers are derived from stable names (:func:`aws_id`), so every run and
every scale names the same resources the same way.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from zt_flows.sample.groups import GroupDef, security_groups
from zt_flows.sample.ids import aws_id, hex_of

ACCOUNT_ID = "012345678901"
REGION = "us-east-1"
WINDOW_START = datetime(2026, 11, 16, tzinfo=UTC)
DAYS = 3
WINDOW_END = WINDOW_START + timedelta(days=DAYS)
# worker-1 is terminated and worker-1b takes its address at this moment.
REPLACEMENT_AT = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
SNAPSHOT_TIMES = (
    datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
    datetime(2026, 11, 18, 23, 30, tzinfo=UTC),
)

S3_PREFIX_LIST_ID = "pl-63a5400a"
S3_PREFIX_LIST_NAME = f"com.amazonaws.{REGION}.s3"
S3_CIDRS = ("3.5.0.0/19", "16.15.176.0/20", "16.182.0.0/16", "52.216.0.0/15", "54.231.0.0/16")
# Addresses inside S3_CIDRS the workloads reach; flow logs name them "S3".
S3_ADDRESSES = (
    "52.217.1.1",
    "52.216.8.29",
    "52.217.96.70",
    "54.231.160.18",
    "3.5.9.144",
    "16.182.33.3",
    "16.15.184.227",
)
# An SQS endpoint address: in AWS's published ranges, named "AMAZON" in flow logs.
SQS_ADDRESS = "52.46.145.233"
PAYMENT_API_ADDRESS = "203.0.113.50"
OFFICE_ADDRESSES = ("198.51.100.7", "198.51.100.9")

Role = Literal["instance", "alb", "nat", "lambda", "rds", "elasticache"]


@dataclass(frozen=True)
class VpcDef:
    key: str
    cidr: str
    ipv6_cidr: str | None
    logged: bool

    @property
    def id(self) -> str:
        return aws_id("vpc", self.key)


@dataclass(frozen=True)
class SubnetDef:
    key: str
    vpc: str
    cidr: str
    ipv6_cidr: str | None
    az: str
    az_id: str
    public: bool = False

    @property
    def id(self) -> str:
        return aws_id("subnet", self.key)


@dataclass(frozen=True)
class EniDef:
    """One network interface and its owner; it carries traffic from attach to ``active_until``."""

    name: str
    subnet: str
    private_ips: tuple[str, ...]
    role: Role
    groups: tuple[str, ...]
    attached: datetime
    ipv6: tuple[str, ...] = ()
    public_ip: str | None = None
    elastic_ip: bool = False
    active_until: datetime | None = None
    description: str = ""

    @property
    def id(self) -> str:
        return aws_id("eni", self.name)

    @property
    def instance_id(self) -> str | None:
        return aws_id("i", self.name) if self.role == "instance" else None

    @property
    def active_from(self) -> datetime:
        return self.attached

    def exists_at(self, when: datetime) -> bool:
        return self.attached <= when and (self.active_until is None or when < self.active_until)


@dataclass(frozen=True)
class Network:
    vpcs: tuple[VpcDef, ...]
    subnets: tuple[SubnetDef, ...]
    groups: tuple[GroupDef, ...]
    enis: tuple[EniDef, ...]

    def vpc(self, key: str) -> VpcDef:
        return next(v for v in self.vpcs if v.key == key)

    def subnet(self, key: str) -> SubnetDef:
        return next(s for s in self.subnets if s.key == key)

    def group(self, key: str) -> GroupDef:
        return next(g for g in self.groups if g.key == key)

    def eni(self, name: str) -> EniDef:
        return next(e for e in self.enis if e.name == name)

    def members(self, group_key: str) -> tuple[EniDef, ...]:
        return tuple(e for e in self.enis if group_key in e.groups)

    def logged(self, eni: EniDef) -> bool:
        return self.vpc(self.subnet(eni.subnet).vpc).logged


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _replica_ip(subnet: SubnetDef, host: int) -> str:
    return str(ipaddress.ip_network(subnet.cidr)[host])


def build_network(replicas: int = 2) -> Network:
    """The scenario's network; ``replicas`` > 2 adds web/api/worker instances (large samples)."""
    vpcs = (
        VpcDef("prod", "10.0.0.0/16", "2600:1f18:4a2:5a00::/56", logged=True),
        VpcDef("shared-services", "10.1.0.0/16", None, logged=False),
    )
    # fmt: off
    subnets = (
        SubnetDef("public-a", "prod", "10.0.0.0/24", "2600:1f18:4a2:5a00::/64",
                  "us-east-1a", "use1-az1", public=True),
        SubnetDef("public-b", "prod", "10.0.1.0/24", "2600:1f18:4a2:5a01::/64",
                  "us-east-1b", "use1-az2", public=True),
        SubnetDef("app-a", "prod", "10.0.10.0/24", None, "us-east-1a", "use1-az1"),
        SubnetDef("app-b", "prod", "10.0.11.0/24", None, "us-east-1b", "use1-az2"),
        SubnetDef("jobs-a", "prod", "10.0.12.0/24", None, "us-east-1a", "use1-az1"),
        SubnetDef("data-a", "prod", "10.0.20.0/24", None, "us-east-1a", "use1-az1"),
        SubnetDef("data-b", "prod", "10.0.21.0/24", None, "us-east-1b", "use1-az2"),
        SubnetDef("mgmt-a", "prod", "10.0.30.0/24", None, "us-east-1a", "use1-az1"),
        SubnetDef("tools-a", "shared-services", "10.1.5.0/24", None, "us-east-1a", "use1-az1"),
    )
    # fmt: on
    nx = "node-exporter"
    legacy = "legacy-allow-vpc"
    alb_desc = f"ELB app/web-alb/{hex_of('alb:web-alb', 16)}"
    nat_desc = f"Interface for NAT Gateway {aws_id('nat', 'nat-a')}"
    uid = hex_of("lambda:reports", 32)
    lambda_desc = (
        f"AWS Lambda VPC ENI-reports-{uid[:8]}-{uid[8:12]}-{uid[12:16]}-{uid[16:20]}-{uid[20:]}"
    )
    # fmt: off
    enis: list[EniDef] = [
        EniDef("alb-a", "public-a", ("10.0.0.10",), "alb", ("web-alb",), _t("2025-03-04T09:12:44"),
               ipv6=("2600:1f18:4a2:5a00::10",), public_ip="3.80.10.10", description=alb_desc),
        EniDef("alb-b", "public-b", ("10.0.1.10",), "alb", ("web-alb",), _t("2025-03-04T09:12:47"),
               ipv6=("2600:1f18:4a2:5a01::10",), public_ip="3.80.10.11", description=alb_desc),
        EniDef("nat-a", "public-a", ("10.0.0.20",), "nat", (), _t("2025-03-04T09:02:10"),
               public_ip="3.80.10.20", elastic_ip=True, description=nat_desc),
        EniDef("bastion", "public-a", ("10.0.0.30",), "instance", ("bastion", nx),
               _t("2025-06-11T14:40:03"), public_ip="3.80.10.30", elastic_ip=True),
        EniDef("web-1", "app-a", ("10.0.10.11",), "instance", ("web", nx),
               _t("2026-08-19T07:31:26")),
        EniDef("web-2", "app-b", ("10.0.11.11",), "instance", ("web", nx),
               _t("2026-08-19T07:31:29")),
        EniDef("api-1", "app-a", ("10.0.10.21", "10.0.10.22"), "instance", ("api", nx, legacy),
               _t("2026-09-02T10:05:51")),
        EniDef("api-2", "app-b", ("10.0.11.21",), "instance", ("api", nx, legacy),
               _t("2026-09-02T10:05:55")),
        EniDef("worker-1", "jobs-a", ("10.0.12.31",), "instance", ("worker", nx, legacy),
               _t("2026-07-14T16:22:09"), active_until=REPLACEMENT_AT - timedelta(minutes=2)),
        EniDef("worker-1b", "jobs-a", ("10.0.12.31",), "instance", ("worker", nx, legacy),
               REPLACEMENT_AT),
        EniDef("batch", "jobs-a", ("10.0.12.41",), "instance", ("weekly-batch", "default-prod"),
               _t("2026-05-27T03:00:12")),
        EniDef("lambda-a", "app-a", ("10.0.10.100",), "lambda", ("reports-lambda",),
               _t("2026-10-08T12:44:30"), description=lambda_desc),
        EniDef("lambda-b", "app-b", ("10.0.11.100",), "lambda", ("reports-lambda",),
               _t("2026-10-08T12:44:31"), description=lambda_desc),
        EniDef("postgres", "data-a", ("10.0.20.5",), "rds", ("postgres",),
               _t("2025-03-04T10:41:17"), description="RDSNetworkInterface"),
        EniDef("redis", "data-b", ("10.0.21.5",), "elasticache", ("redis",),
               _t("2025-03-04T10:58:02"), description="ElastiCache prod-redis-0001-001"),
        EniDef("prometheus", "mgmt-a", ("10.0.30.10",), "instance", ("monitoring", nx),
               _t("2026-02-17T08:15:40")),
        EniDef("dns", "mgmt-a", ("10.0.30.20", "10.0.30.53"), "instance", ("dns-resolver", nx),
               _t("2025-03-05T11:20:33")),
        EniDef("ci-runner", "tools-a", ("10.1.5.20",), "instance", ("ci-runner",),
               _t("2026-10-30T18:02:55")),
    ]
    # fmt: on
    enis.extend(_replicas(subnets, replicas))
    return Network(vpcs, subnets, security_groups(), tuple(enis))


def _replicas(subnets: tuple[SubnetDef, ...], replicas: int) -> list[EniDef]:
    """Extra instances for large samples: web-3.., api-3.., worker-2.. (numbers and IPs stable)."""
    app = [s for s in subnets if s.key in ("app-a", "app-b")]
    jobs = next(s for s in subnets if s.key == "jobs-a")
    added = _t("2026-11-01T06:00:00")
    out: list[EniDef] = []
    web = ("web", "node-exporter")
    api = ("api", "node-exporter", "legacy-allow-vpc")
    worker = ("worker", "node-exporter", "legacy-allow-vpc")
    for k in range(3, replicas + 1):
        sub = app[(k - 1) % 2]
        out.append(
            EniDef(f"web-{k}", sub.key, (_replica_ip(sub, 110 + k),), "instance", web, added)
        )
        out.append(
            EniDef(f"api-{k}", sub.key, (_replica_ip(sub, 160 + k),), "instance", api, added)
        )
    for k in range(2, max(1, replicas // 2) + 1):
        ip = _replica_ip(jobs, 50 + k)
        out.append(EniDef(f"worker-{k}", "jobs-a", (ip,), "instance", worker, added))
    return out
