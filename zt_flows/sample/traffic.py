"""Who talks to whom in the sample VPC: the Traffic table of ``SCENARIO.md`` as data.

Each :class:`Flow` is one row of that table (split where a row mixes protocols or
address families): its clients and servers, port, the network path the packets
take, how connections behave (short, pooled, rejected, probe) and how often they
happen at scale 1. :mod:`zt_flows.sample.plan` compiles these into arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from zt_flows.vocabulary import PROTO_ICMP, PROTO_TCP, PROTO_UDP


class PathKind(IntEnum):
    """The route a connection takes, which decides which ENIs log it (see ``legs``)."""

    VPC = 0  # ENI to ENI inside the logged VPC: both log it
    IN_IGW = 1  # internet to an ENI through the internet gateway
    IN_PEER = 2  # peered VPC (not logged) to an ENI
    OUT_NAT = 3  # ENI to the internet through the NAT gateway
    OUT_GWE = 4  # ENI to S3 through the gateway endpoint
    REJECT_IN = 5  # internet to an ENI, refused by its security groups
    REJECT_VPC = 6  # ENI to ENI, refused by the receiver's security groups


class Mode(IntEnum):
    """How a connection shows in tcp-flags."""

    TCP = 0  # SYN / SYN-ACK first, FIN last, nothing between
    PROBE = 1  # a handshake answered and reset at once: SYN+RST (6) / SYN-ACK (18)
    REJECT = 2  # SYNs that get no answer (2)
    UDP = 3  # no flags
    ICMP = 4  # no flags, ports 0


@dataclass(frozen=True)
class Profile:
    """Mean bytes a direction carries in one 60-second interval, and bytes a packet."""

    request: float
    response: float
    mid_request: float = 0.0
    mid_response: float = 0.0
    request_packet: float = 300.0
    response_packet: float = 1200.0


@dataclass(frozen=True)
class Pool:
    """Connections kept open and reused: ``size`` a pair at scale 1, reopened after a lifetime."""

    size: int
    lifetime_minutes: tuple[int, int]
    # Share of minutes with traffic, summed over the flow's pairs, at scale 1.
    activity: float


@dataclass(frozen=True)
class Flow:
    row: int  # the row of SCENARIO.md's Traffic table
    key: str
    clients: tuple[str, ...]  # selectors: eni:NAME, group:KEY, pool:NAME, host:NAME, svc:NAME
    servers: tuple[str, ...]
    protocol: int
    port: int
    path: PathKind
    mode: Mode
    per_day: float  # new connections a day over all pairs, at scale 1 (0 for pools)
    duration: tuple[float, float, float, float]  # median s, log-sigma, min s, max s
    profile: Profile
    curve: str  # hourly shape, see CURVES
    note: str
    days: tuple[int, ...] = (0, 1, 2)
    pool: Pool | None = None
    activity: float | None = None  # interactive sessions: share of minutes with traffic
    server_address: str = "primary"  # primary | secondary | ipv6
    daily_minimum: bool = True  # every pair talks at least once a day it can
    scales: bool = True  # more connections at larger --records


# Hourly shapes (UTC). The estate serves North America: users peak 14-02 UTC.
CURVES: dict[str, tuple[float, ...]] = {
    "flat": (1.0,) * 24,
    "users": (
        1.5,
        1.3,
        1.0,
        0.7,
        0.5,
        0.35,
        0.3,
        0.3,
        0.35,
        0.45,
        0.6,
        0.8,
        1.0,
        1.2,
        1.4,
        1.5,
        1.6,
        1.6,
        1.6,
        1.55,
        1.5,
        1.5,
        1.5,
        1.55,
    ),
    # Admin work, US business hours (13-22 UTC).
    "business": (0,) * 13 + (1.0,) * 9 + (0, 0),
    # The reports Lambda runs 06-22 UTC; its ENIs sit idle at night.
    "lambda": (0,) * 6 + (1.0,) * 16 + (0, 0),
    # The weekly batch job: 02:00-04:00 UTC.
    "batch": (0, 0, 1.0, 1.0) + (0,) * 20,
}

_WEB = Profile(1400, 9000, 2500, 30000, 450, 1300)
_API = Profile(1100, 4200, 3000, 12000, 500, 1100)
_DB = Profile(900, 6000, 4000, 30000, 400, 1300)
_REDIS = Profile(300, 800, 1500, 5000, 120, 250)
_TLS_OUT = Profile(2200, 5600, 0, 0, 500, 1300)
_S3 = Profile(2600, 64000, 0, 0, 600, 1400)
_SCRAPE = Profile(380, 14000, 0, 0, 380, 1400)
_DNS = Profile(76, 160, 0, 0, 76, 160)
_SSH = Profile(3400, 4800, 1200, 2600, 120, 160)
_TINY = Profile(60, 60, 0, 0, 60, 60)

_API_CLIENTS = ("group:api",)
_WORKERS = ("group:worker",)
_SCAN_TARGETS = ("eni:alb-a", "eni:alb-b", "eni:bastion")


def _scans() -> tuple[Flow, ...]:
    out = []
    for port in (23, 445, 3389, 8080):
        out.append(
            Flow(20, f"scan-tcp-{port}", ("pool:scanners",), _SCAN_TARGETS, PROTO_TCP, port,
                 PathKind.REJECT_IN, Mode.REJECT, 40, (1, 0.5, 0, 3), _TINY, "flat", "scan",
                 daily_minimum=False)
        )  # fmt: skip
    out.append(
        Flow(20, "scan-icmp", ("pool:scanners",), _SCAN_TARGETS, PROTO_ICMP, 0,
             PathKind.REJECT_IN, Mode.ICMP, 40, (0.5, 0.5, 0, 2), _TINY, "flat", "scan",
             daily_minimum=False)
    )  # fmt: skip
    return tuple(out)


FLOWS: tuple[Flow, ...] = (
    Flow(1, "users-ipv4", ("pool:users4",), ("eni:alb-a", "eni:alb-b"), PROTO_TCP, 443,
         PathKind.IN_IGW, Mode.TCP, 2400, (6, 1.3, 0.3, 900), _WEB, "users", "users",
         daily_minimum=False),
    Flow(1, "users-ipv6", ("pool:users6",), ("eni:alb-a", "eni:alb-b"), PROTO_TCP, 443,
         PathKind.IN_IGW, Mode.TCP, 700, (6, 1.3, 0.3, 900), _WEB, "users", "users (IPv6)",
         server_address="ipv6", daily_minimum=False),
    Flow(2, "alb-web", ("eni:alb-a", "eni:alb-b"), ("group:web",), PROTO_TCP, 8080,
         PathKind.VPC, Mode.TCP, 0, (0, 0, 0, 0), _WEB, "users", "pooled",
         pool=Pool(1, (20, 90), 0.5)),
    Flow(3, "web-api", ("group:web",), ("group:api",), PROTO_TCP, 8443,
         PathKind.VPC, Mode.TCP, 0, (0, 0, 0, 0), _API, "users", "pooled",
         pool=Pool(1, (30, 120), 0.4)),
    Flow(4, "api-postgres", _API_CLIENTS, ("eni:postgres",), PROTO_TCP, 5432,
         PathKind.VPC, Mode.TCP, 0, (0, 0, 0, 0), _DB, "users", "connection pool",
         pool=Pool(2, (60, 360), 0.45)),
    Flow(5, "redis", (*_API_CLIENTS, *_WORKERS), ("eni:redis",), PROTO_TCP, 6379,
         PathKind.VPC, Mode.TCP, 0, (0, 0, 0, 0), _REDIS, "users", "pooled",
         pool=Pool(1, (60, 240), 0.25)),
    Flow(6, "api-worker", _API_CLIENTS, _WORKERS, PROTO_TCP, 8081,
         PathKind.VPC, Mode.TCP, 300, (2, 1.0, 0.2, 30), _API, "users",
         "job submission (allowed only by legacy-allow-vpc)"),
    Flow(7, "worker-sqs", _WORKERS, ("svc:SQS",), PROTO_TCP, 443,
         PathKind.OUT_NAT, Mode.TCP, 100, (21, 0.15, 15, 45), _TLS_OUT, "flat",
         "SQS long polling via nat-a"),
    Flow(8, "worker-s3", _WORKERS, ("svc:S3",), PROTO_TCP, 443,
         PathKind.OUT_GWE, Mode.TCP, 150, (3, 1.2, 0.2, 120), _S3, "flat",
         "S3 via the gateway endpoint"),
    Flow(9, "api-s3", _API_CLIENTS, ("svc:S3",), PROTO_TCP, 443,
         PathKind.OUT_NAT, Mode.TCP, 120, (2, 1.0, 0.2, 60), _S3, "users", "S3 via nat-a"),
    Flow(10, "web-payment", ("group:web",), ("host:payment",), PROTO_TCP, 443,
         PathKind.OUT_NAT, Mode.TCP, 160, (1.5, 0.8, 0.2, 30), _TLS_OUT, "users",
         "payment API via nat-a"),
    Flow(11, "scrapes", ("eni:prometheus",), ("group:node-exporter",), PROTO_TCP, 9100,
         PathKind.VPC, Mode.TCP, 700, (0.3, 0.6, 0.05, 5), _SCRAPE, "flat", "scrapes"),
    Flow(12, "dns", ("eni:bastion", "group:web", *_API_CLIENTS, *_WORKERS, "eni:prometheus"),
         ("eni:dns",), PROTO_UDP, 53, PathKind.VPC, Mode.UDP, 900, (0.01, 0.5, 0, 1), _DNS,
         "users", "DNS (no tcp flags)", server_address="secondary"),
    Flow(12, "dns-batch", ("eni:batch",), ("eni:dns",), PROTO_UDP, 53, PathKind.VPC, Mode.UDP,
         60, (0.01, 0.5, 0, 1), _DNS, "batch", "weekly; DNS", days=(1,),
         server_address="secondary"),
    Flow(13, "office-ssh", ("pool:office",), ("eni:bastion",), PROTO_TCP, 22,
         PathKind.IN_IGW, Mode.TCP, 6, (1500, 0.7, 120, 7200), _SSH, "business",
         "admin sessions", activity=0.35),
    Flow(14, "ci-deploy", ("eni:ci-runner",), ("eni:bastion",), PROTO_TCP, 22,
         PathKind.IN_PEER, Mode.TCP, 12, (150, 0.6, 20, 900), _SSH, "business",
         "deploys from the peered VPC", activity=1.0),
    Flow(15, "admin-hops", ("eni:bastion",), ("group:web",), PROTO_TCP, 22,
         PathKind.VPC, Mode.TCP, 4, (900, 0.8, 60, 3600), _SSH, "business", "admin hops",
         activity=0.3),
    Flow(16, "lambda-api", ("group:reports-lambda",), ("group:api",), PROTO_TCP, 8443,
         PathKind.VPC, Mode.TCP, 300, (1.5, 0.8, 0.1, 30), _API, "lambda", "reports"),
    Flow(17, "lambda-redis", ("group:reports-lambda",), ("eni:redis",), PROTO_TCP, 6379,
         PathKind.REJECT_VPC, Mode.REJECT, 24, (1, 0.5, 0, 3), _TINY, "lambda",
         "reject: redis allows only api and worker"),
    Flow(18, "batch-api", ("eni:batch",), ("group:api",), PROTO_TCP, 8443,
         PathKind.VPC, Mode.TCP, 400, (4, 1.0, 0.2, 120), _API, "batch", "weekly",
         days=(1,)),
    Flow(19, "probes", ("pool:scanners",), ("eni:bastion",), PROTO_TCP, 22,
         PathKind.IN_IGW, Mode.PROBE, 40, (0.2, 0.5, 0, 1), _TINY, "flat",
         "probe: handshake and reset", daily_minimum=False),
    *_scans(),
)  # fmt: skip
