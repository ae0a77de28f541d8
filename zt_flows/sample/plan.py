"""Compile the scenario (network + flows + scale) into the arrays the emulator works on.

A *pair* is one (flow, client endpoint, server endpoint): the unit of rates, pools and
of the ground truth. Addresses, ENIs and pairs are numbered once here; everything
downstream is integer codes into these tables.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
import numpy.typing as npt

from zt_flows.sample.network import (
    DAYS,
    OFFICE_ADDRESSES,
    PAYMENT_API_ADDRESS,
    S3_ADDRESSES,
    SQS_ADDRESS,
    WINDOW_END,
    WINDOW_START,
    EniDef,
    Network,
    build_network,
)
from zt_flows.sample.traffic import CURVES, FLOWS, Flow, PathKind

I8 = npt.NDArray[np.int8]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

W0 = int(WINDOW_START.timestamp())
W1 = int(WINDOW_END.timestamp())
# Endpoint kinds, as zt_flows.inventory.model.EndpointKind names them (the generator runs
# before, and apart from, the inventory stage, so it only shares the values).
Kind = Literal["eni", "internet", "aws_service"]
ENI: Kind = "eni"
INTERNET: Kind = "internet"
AWS_SERVICE: Kind = "aws_service"
NO_SERVICE, SERVICE_S3, SERVICE_AMAZON = 0, 1, 2
SERVICE_NAMES = ("", "S3", "AMAZON")

# Idle ENIs report NODATA; the sample shows it every 10 minutes for these.
NODATA_ENIS = ("batch", "lambda-a", "lambda-b")
NODATA_EVERY_MINUTES = 10
# (ENI name, minute) of the few SKIPDATA records: capacity trouble at evening peaks.
SKIPDATA = (
    ("alb-a", "2026-11-16T18:07"),
    ("alb-a", "2026-11-17T18:31"),
    ("nat-a", "2026-11-17T19:12"),
    ("alb-b", "2026-11-18T17:44"),
    ("web-1", "2026-11-18T20:03"),
)


@dataclass(frozen=True)
class Endpoint:
    """One side of a pair, as the ground truth names it."""

    kind: Kind
    id: str  # eni id, address, or AWS service name
    name: str
    address: str  # the address it uses (the server address it is reached at)
    eni: EniDef | None = None
    pool: tuple[str, ...] = ()  # AWS services: any of these addresses
    weight: float = 1.0


@dataclass(frozen=True)
class PairTruth:
    flow: Flow
    client: Endpoint
    server: Endpoint

    @property
    def action(self) -> str:
        rejected = self.flow.path in (PathKind.REJECT_IN, PathKind.REJECT_VPC)
        return "REJECT" if rejected else "ACCEPT"


@dataclass(frozen=True, eq=False)
class Plan:
    scale: float
    replicas: int
    network: Network
    enis: tuple[EniDef, ...]  # the logged ENIs; an ENI code indexes this
    addresses: tuple[str, ...]
    addr_service: I8
    addr_v6: Bool
    nat_eni: int
    nat_addr: int
    eni_from: I64
    eni_until: I64
    # per flow (class)
    flows: tuple[Flow, ...]
    cls_curve: F64  # [flow, hour of day], mean 1
    cls_days: Bool  # [flow, day]
    cls_duration: F64  # [flow, 4]
    cls_profile: F64  # [flow, 6]
    cls_mode: I8
    cls_path: I8
    cls_proto: I32
    cls_port: I32
    cls_pooled: Bool
    cls_lifetime: I64  # [flow, 2] seconds
    # per pair
    truth: tuple[PairTruth, ...]
    pair_cls: I32
    pair_caddr: I32
    pair_saddr: I32
    pair_ceni: I32
    pair_seni: I32
    pair_pool: I32  # -1, or a server address pool (offset into pool_addrs)
    pair_pool_len: I32
    pair_from: I64
    pair_until: I64
    pair_rate: F64  # new connections a day
    pair_act: F64  # middle-interval activity of one connection (inf: always)
    pair_k: I32  # pool size (pooled flows)
    pool_addrs: I32
    nodata_enis: I32
    skipdata: tuple[tuple[int, int], ...]  # (eni code, epoch minute start)


def replicas_for(scale: float) -> int:
    """web/api instances: 2 up to scale 20, then growing with the square root (at most 40)."""
    return 2 if scale <= 20 else min(40, 2 * math.ceil(math.sqrt(scale / 20)))


def _addresses(kind: str, count: int) -> tuple[str, ...]:
    """Stable public addresses for a pool of internet hosts (not AWS, not documentation ranges)."""
    prefixes = {
        "users4": ("24.48", "73.162", "98.207", "71.58", "108.26", "174.63", "81.2", "92.40"),
        "scanners": ("45.146", "89.248", "193.163", "194.26", "162.142", "167.94", "185.224"),
        "users6": ("2601:646", "2600:1700", "2a02:8109", "2a01:cb08"),
    }[kind]
    out: dict[str, None] = {}
    i = 0
    while len(out) < count:
        h = hashlib.sha256(f"{kind}:{i}".encode()).digest()
        prefix = prefixes[h[0] % len(prefixes)]
        if kind == "users6":
            groups = ":".join(f"{h[j] << 8 | h[j + 1]:x}" for j in range(2, 14, 2))
            text = str(ipaddress.IPv6Address(f"{prefix}:{groups}"))
        else:
            text = f"{prefix}.{h[1]}.{1 + h[2] % 254}"
        out.setdefault(text)
        i += 1
    return tuple(out)


def _resolve(network: Network, selector: str, scale: float, server_address: str) -> list[Endpoint]:
    kind, _, name = selector.partition(":")
    if kind in ("eni", "group"):
        enis = [network.eni(name)] if kind == "eni" else list(network.members(name))
        out = []
        for eni in enis:
            addr = {
                "primary": eni.private_ips[0],
                "secondary": eni.private_ips[-1],
                "ipv6": eni.ipv6[0] if eni.ipv6 else eni.private_ips[0],
            }[server_address]
            out.append(Endpoint(ENI, eni.id, eni.name, addr, eni))
        return out
    if kind == "pool":
        addrs: tuple[str, ...] = OFFICE_ADDRESSES
        if name != "office":
            base = {"users4": 48, "users6": 16, "scanners": 16}[name]
            grow = scale**0.25 if name == "scanners" else math.sqrt(scale)
            addrs = _addresses(name, round(base * max(1.0, grow)))
        label = {"users4": "user", "users6": "user", "scanners": "scanner", "office": "office"}
        # Users are heavy-tailed: a few addresses make most connections.
        return [
            Endpoint(INTERNET, a, label[name], a, weight=1 / (i + 1) ** 0.7)
            for i, a in enumerate(addrs)
        ]
    if kind == "host":
        return [Endpoint(INTERNET, PAYMENT_API_ADDRESS, "payment-api", PAYMENT_API_ADDRESS)]
    if name == "S3":
        return [Endpoint(AWS_SERVICE, "S3", "s3", S3_ADDRESSES[0], pool=S3_ADDRESSES)]
    return [Endpoint(AWS_SERVICE, "AMAZON", "sqs", SQS_ADDRESS)]


def _epoch(value: datetime | None, default: int) -> int:
    return default if value is None else int(value.timestamp())


def _window(end: Endpoint) -> tuple[int, int]:
    """When an endpoint can talk: an ENI from its attachment to its end; others always."""
    if end.eni is None:
        return W0, W1
    return max(_epoch(end.eni.active_from, W0), W0), min(_epoch(end.eni.active_until, W1), W1)


def build_plan(scale: float = 1.0) -> Plan:
    """Everything the emulator needs for the scenario at ``scale`` (1 = the committed sample)."""
    replicas = replicas_for(scale)
    network = build_network(replicas)
    enis = tuple(e for e in network.enis if network.logged(e))
    eni_code = {e.name: i for i, e in enumerate(enis)}
    addresses: dict[str, int] = {}

    def addr(text: str) -> int:
        return addresses.setdefault(text, len(addresses))

    pool_addrs: list[int] = []
    truth: list[PairTruth] = []
    # One row a pair: flow, client addr, server addr, client ENI, server ENI, address pool,
    # pool length, from, until (epoch).
    rows: list[tuple[int, int, int, int, int, int, int, int, int]] = []
    weights: list[tuple[float, float]] = []  # (weight, share of the window it can talk)
    for ci, flow in enumerate(FLOWS):
        clients = [c for s in flow.clients for c in _resolve(network, s, scale, "primary")]
        servers = [
            v for s in flow.servers for v in _resolve(network, s, scale, flow.server_address)
        ]
        for c in clients:
            for s in servers:
                if c.eni is not None and s.eni is not None and c.eni.name == s.eni.name:
                    continue  # a host talking to itself never leaves it
                start = max(_window(c)[0], _window(s)[0])
                until = min(_window(c)[1], _window(s)[1])
                if until <= start:
                    continue
                pool = len(pool_addrs) if s.pool else -1
                pool_addrs.extend(addr(a) for a in s.pool)
                truth.append(PairTruth(flow, c, s))
                rows.append(
                    (
                        ci,
                        addr(c.address),
                        addr(s.address),
                        eni_code.get(c.eni.name, -1) if c.eni else -1,
                        eni_code.get(s.eni.name, -1) if s.eni else -1,
                        pool,
                        len(s.pool),
                        start,
                        until,
                    )
                )
                weights.append((c.weight * s.weight, (until - start) / (W1 - W0)))
    table = np.array(rows, np.int64).T
    pair_cls = table[0].astype(np.int32)
    weight, frac = np.array(weights).T
    nat_addr = addr(network.eni("nat-a").private_ips[0])
    rate = np.zeros(len(pair_cls))
    act = np.full(len(pair_cls), np.inf)
    k = np.zeros(len(pair_cls), np.int32)
    for ci, flow in enumerate(FLOWS):
        sel = pair_cls == ci
        # Weights over the time each pair can talk: the flow's total stays what it says.
        total = (weight[sel] * frac[sel]).sum()
        f = scale if flow.scales else 1.0
        if flow.pool is not None:
            # Spread the flow's activity over its pairs; open more connections once one is busy.
            a_pair = flow.pool.activity * f * weight[sel] / total
            peak = max(CURVES[flow.curve]) / np.mean(CURVES[flow.curve])
            k[sel] = np.maximum(flow.pool.size, np.ceil(a_pair * peak)).astype(np.int32)
            act[sel] = a_pair / k[sel]
        else:
            rate[sel] = flow.per_day * f * weight[sel] / total
            if flow.activity is not None:
                act[sel] = flow.activity
    curves = np.array([CURVES[f.curve] for f in FLOWS], float)
    curves = curves / curves.mean(axis=1, keepdims=True)
    addr_list = tuple(addresses)
    service = np.zeros(len(addr_list), np.int8)
    for i, a in enumerate(addr_list):
        if a in S3_ADDRESSES:
            service[i] = SERVICE_S3
        elif a == SQS_ADDRESS:
            service[i] = SERVICE_AMAZON
    return Plan(
        scale=scale,
        replicas=replicas,
        network=network,
        enis=enis,
        addresses=addr_list,
        addr_service=service,
        addr_v6=np.array([":" in a for a in addr_list]),
        nat_eni=eni_code["nat-a"],
        nat_addr=nat_addr,
        eni_from=np.array([_epoch(e.active_from, W0) for e in enis], np.int64),
        eni_until=np.array([_epoch(e.active_until, W1) for e in enis], np.int64),
        flows=FLOWS,
        cls_curve=curves,
        cls_days=np.array([[d in f.days for d in range(DAYS)] for f in FLOWS]),
        cls_duration=np.array([f.duration for f in FLOWS], float),
        cls_profile=np.array(
            [
                (
                    p.request,
                    p.response,
                    p.mid_request,
                    p.mid_response,
                    p.request_packet,
                    p.response_packet,
                )
                for p in (f.profile for f in FLOWS)
            ],
            float,
        ),
        cls_mode=np.array([int(f.mode) for f in FLOWS], np.int8),
        cls_path=np.array([int(f.path) for f in FLOWS], np.int8),
        cls_proto=np.array([f.protocol for f in FLOWS], np.int32),
        cls_port=np.array([f.port for f in FLOWS], np.int32),
        cls_pooled=np.array([f.pool is not None for f in FLOWS]),
        cls_lifetime=np.array(
            [[m * 60 for m in (f.pool.lifetime_minutes if f.pool else (0, 0))] for f in FLOWS],
            np.int64,
        ),
        truth=tuple(truth),
        pair_cls=pair_cls,
        pair_caddr=table[1].astype(np.int32),
        pair_saddr=table[2].astype(np.int32),
        pair_ceni=table[3].astype(np.int32),
        pair_seni=table[4].astype(np.int32),
        pair_pool=table[5].astype(np.int32),
        pair_pool_len=table[6].astype(np.int32),
        pair_from=table[7],
        pair_until=table[8],
        pair_rate=rate,
        pair_act=act,
        pair_k=k,
        pool_addrs=np.array(pool_addrs, np.int32),
        nodata_enis=np.array([eni_code[n] for n in NODATA_ENIS], np.int32),
        skipdata=tuple(
            (eni_code[n], int(datetime.fromisoformat(t + ":00+00:00").timestamp()))
            for n, t in SKIPDATA
        ),
    )
