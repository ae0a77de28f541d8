"""An estate shaped like real ones, for benchmarks: ``python -m zt_flows.sample.estate``.

Where the sample VPC (``zt_flows.sample``) is small and hand-made, this writes the shape
that decides how the pipeline scales: thousands of ENIs, a few hundred security groups,
20 internet-facing ALBs seen by millions of distinct internet clients (a few percent over
IPv6), east-west fan-in and fan-out between services (popular services are called by
many, most call a few), databases, a DNS resolver, SaaS destinations behind a NAT gateway,
a bastion with SSH open to the world, and internet scanners knocking on every public
address. Deterministic: the same options write the same bytes.

Records are emulated the way VPC Flow Logs writes them: one-minute aggregates, one record
per direction on every logged interface on the path (four per interval between two ENIs
of the VPC), SYN / SYN-ACK in the first interval of a connection, none in the intervals of
a long-lived one after it. Files are written per hour in the Hive-compatible Parquet
layout (or gzip text), with the inventory snapshot beside them (``inventory/``).
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.sample.delivery import (
    COLUMNS,
    FLOW_LOG_BUCKET,
    FlowLogFile,
    Format,
    log_format,
    object_key,
)
from zt_flows.sample.ids import aws_id
from zt_flows.schema import ARROW_SCHEMA

ACCOUNT_ID = "012345678901"
REGION = "us-east-1"
START = datetime(2026, 11, 16, tzinfo=UTC)
VPC_CIDR = "10.0.0.0/16"
VPC_CIDR6 = "2600:1f18:4a2:5a00::/56"
AZS = (("us-east-1a", "use1-az1"), ("us-east-1b", "use1-az2"), ("us-east-1c", "use1-az4"))
ALBS = 20
SERVICES = 160
DATABASES = 60
SAAS = 300
SCANNERS = 5000
FLOW_LOG_ID = "fl-0e57a7e0000000001"
I64 = npt.NDArray[np.int64]
Arr = npt.NDArray[Any]  # integer or boolean columns


@dataclass
class Eni:
    id: str
    name: str
    address: str
    subnet: int
    groups: tuple[str, ...]
    role: str  # instance | alb | rds | nat
    public: str | None = None
    ipv6: str | None = None


@dataclass
class Group:
    id: str
    name: str
    ingress: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    egress: list[tuple[str, int, int, str, str]] = field(default_factory=list)


def _gid(name: str) -> str:
    return aws_id("sg", f"estate:{name}")


class Estate:
    """The inventory: subnets, groups, ENIs; and who calls whom."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.groups: dict[str, Group] = {}
        self.enis: list[Eni] = []
        self.subnets = [(f"10.0.{16 * i}.0/20", AZS[i % 3]) for i in range(12)]
        self._next = [10] * len(self.subnets)
        shared = self._group("node-exporter")
        shared.ingress.append(("tcp", 9100, 9100, "cidr", "10.0.0.0/8"))
        legacy = self._group("legacy-allow-vpc")
        legacy.ingress.append(("-1", -1, -1, "cidr", VPC_CIDR))
        monitoring = self._group("monitoring")
        self.monitoring = [self._eni(f"prometheus-{i}", 11, ("monitoring",)) for i in range(2)]
        dns = self._group("dns-resolver")
        dns.ingress.append(("udp", 53, 53, "cidr", VPC_CIDR))
        self.dns = [self._eni(f"dns-{i}", 11, ("dns-resolver",)) for i in range(2)]
        bastion = self._group("bastion")
        bastion.ingress.append(("tcp", 22, 22, "cidr", "0.0.0.0/0"))
        self.bastion = self._eni("bastion", 0, ("bastion",), public=True)
        self.nat = self._eni("nat-a", 0, (), role="nat", public=True)
        self.albs: list[list[Eni]] = []
        for a in range(ALBS):
            group = self._group(f"alb-{a}")
            group.ingress += [
                ("tcp", 443, 443, "cidr", "0.0.0.0/0"),
                ("tcp", 443, 443, "cidr6", "::/0"),
                ("tcp", 80, 80, "cidr", "0.0.0.0/0"),
            ]
            self.albs.append(
                [
                    self._eni(f"alb-{a}-{z}", z, (f"alb-{a}",), role="alb", public=True, v6=True)
                    for z in range(3)
                ]
            )
        # Service sizes and popularity: a few big ones, a long tail.
        sizes = np.clip((rng.pareto(1.2, SERVICES) + 1) * 8, 2, 400).astype(int)
        sizes = np.maximum(2, (sizes * (3700 / sizes.sum())).astype(int))
        self.ports = [8080 if s < ALBS else int(8000 + (s % 40) * 10) for s in range(SERVICES)]
        self.services: list[list[Eni]] = []
        for s in range(SERVICES):
            group = self._group(f"svc-{s}")
            extra = ("node-exporter",) + (("legacy-allow-vpc",) if s % 7 == 3 else ())
            self.services.append(
                [
                    self._eni(f"svc-{s}-{i}", 3 + (s + i) % 8, (f"svc-{s}", *extra))
                    for i in range(int(sizes[s]))
                ]
            )
        # Who calls whom: fan-out of 2-6 callees per service, callees by popularity.
        weight = 1.0 / np.arange(1, SERVICES + 1) ** 0.9
        self.calls: list[tuple[int, int]] = []
        for s in range(SERVICES):
            fanout = int(rng.integers(2, 7))
            picks = rng.choice(SERVICES, size=fanout, replace=False, p=weight / weight.sum())
            self.calls += [(s, int(t)) for t in picks if int(t) != s]
        callers: dict[int, set[int]] = {}
        for s, t in self.calls:
            callers.setdefault(t, set()).add(s)
        for s in range(SERVICES):
            group = self.groups[f"svc-{s}"]
            if s < ALBS:
                group.ingress.append(("tcp", 8080, 8080, "sg", f"alb-{s}"))
            port = self.ports[s]
            if s % 5 == 0:  # over-broad: the whole VPC, where a few groups call it
                group.ingress.append(("tcp", port, port, "cidr", VPC_CIDR))
            else:
                for caller in sorted(callers.get(s, ())):
                    group.ingress.append(("tcp", port, port, "sg", f"svc-{caller}"))
            if s % 11 == 4:  # a partner's range, public
                group.ingress.append(("tcp", port, port, "cidr", "145.40.96.0/24"))
        self.databases: list[tuple[Eni, list[int]]] = []
        for d in range(DATABASES):
            group = self._group(f"db-{d}")
            group.ingress.append(("tcp", 5432, 5432, "cidr", VPC_CIDR))
            eni = self._eni(f"db-{d}", 9 + d % 3, (f"db-{d}",), role="rds")
            users = sorted({int(x) for x in rng.choice(SERVICES, size=3, replace=False)})
            self.databases.append((eni, users))
        for group in self.groups.values():
            group.egress.append(("-1", -1, -1, "cidr", "0.0.0.0/0"))
        monitoring.egress.append(("tcp", 9100, 9100, "sg", "node-exporter"))

    def _group(self, name: str) -> Group:
        group = Group(_gid(name), name)
        self.groups[name] = group
        return group

    def _eni(
        self,
        name: str,
        subnet: int,
        groups: tuple[str, ...],
        *,
        role: str = "instance",
        public: bool = False,
        v6: bool = False,
    ) -> Eni:
        base = int(ipaddress.ip_network(self.subnets[subnet][0]).network_address)
        address = str(ipaddress.IPv4Address(base + self._next[subnet]))
        self._next[subnet] += 1
        index = len(self.enis)
        eni = Eni(
            aws_id("eni", f"estate:{name}"),
            name,
            address,
            subnet,
            tuple(_gid(g) for g in groups),
            role,
            public=f"3.{80 + index // 60000}.{(index // 250) % 240}.{index % 250 + 1}"
            if public
            else None,
            ipv6=f"2600:1f18:4a2:5a{subnet:02x}::{index + 16:x}" if v6 else None,
        )
        self.enis.append(eni)
        return eni


# --------------------------------------------------------------------------- addresses


def _public_v4(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct public IPv4 addresses (never private, shared or documentation space)."""
    first = np.array([23, 24, 31, 37, 45, 46, 62, 66, 67, 68, 71, 73, 76, 81, 86, 92, 98, 99])
    values = rng.choice(first, n) * (1 << 24) + rng.integers(0, 1 << 24, n)
    values = np.unique(values)
    while values.size < n:
        short = n - values.size
        more = rng.choice(first, short) * (1 << 24) + rng.integers(0, 1 << 24, short)
        values = np.unique(np.concatenate([values, more]))
    rng.shuffle(values)
    return [str(ipaddress.IPv4Address(int(v))) for v in values[:n]]


def _public_v6(rng: np.random.Generator, n: int) -> list[str]:
    high = rng.integers(0, 1 << 40, n, dtype=np.int64)
    low = rng.integers(0, 1 << 62, n, dtype=np.int64)
    out = {
        str(ipaddress.IPv6Address((0x2600_1700 << 96) | (int(h) << 64) | int(lo)))
        for h, lo in zip(high, low, strict=True)
    }
    return sorted(out)


# --------------------------------------------------------------------------- traffic


@dataclass
class Batch:
    """Records as columns of codes into the address and ENI tables."""

    eni: list[I64] = field(default_factory=list)
    src: list[I64] = field(default_factory=list)
    dst: list[I64] = field(default_factory=list)
    sport: list[I64] = field(default_factory=list)
    dport: list[I64] = field(default_factory=list)
    proto: list[I64] = field(default_factory=list)
    packets: list[I64] = field(default_factory=list)
    bytes: list[I64] = field(default_factory=list)
    start: list[I64] = field(default_factory=list)
    action: list[I64] = field(default_factory=list)  # 0 ACCEPT, 1 REJECT
    flags: list[I64] = field(default_factory=list)
    egress: list[I64] = field(default_factory=list)  # 0 ingress, 1 egress

    def add(self, **columns: Arr | int) -> None:
        n = max(np.size(v) for v in columns.values())
        for name, value in columns.items():
            getattr(self, name).append(np.broadcast_to(np.asarray(value, np.int64), (n,)).copy())


def _legs(
    b: Batch,
    *,
    client_eni: Arr | None,
    server_eni: Arr | None,
    client: Arr,
    server: Arr,
    cport: Arr,
    sport: Arr | int,
    proto: int,
    start: Arr,
    first: Arr,
    packets: Arr,
    size: Arr,
    action: Arr | int = 0,
) -> None:
    """The records one connection-interval leaves: request and response on each logged ENI."""
    tcp = proto == 6
    req_flags = np.where(first, 2, 0) if tcp else 0
    resp_flags = np.where(first, 18, 0) if tcp else 0
    half = np.maximum(packets // 2, 1)
    for eni, egress_req in ((client_eni, 1), (server_eni, 0)):
        if eni is None:
            continue
        b.add(eni=eni, src=client, dst=server, sport=cport, dport=sport, proto=proto,
              packets=half, bytes=size // 3, start=start, action=action, flags=req_flags,
              egress=egress_req)  # fmt: skip
        b.add(eni=eni, src=server, dst=client, sport=sport, dport=cport, proto=proto,
              packets=half, bytes=size - size // 3, start=start, action=action,
              flags=resp_flags, egress=1 - egress_req)  # fmt: skip


class Traffic:
    """Draws the records of one hour."""

    def __init__(self, estate: Estate, records: int, clients: int, days: int, seed: int) -> None:
        self.estate = estate
        rng = np.random.default_rng([seed, 1])
        n6 = clients // 25
        self.addresses: list[str] = [e.address for e in estate.enis]
        self.eni_index = {e.id: i for i, e in enumerate(estate.enis)}
        self.base_clients = len(self.addresses)
        self.addresses += _public_v4(rng, clients - n6)
        self.addresses += _public_v6(rng, n6)
        self.clients = len(self.addresses) - self.base_clients
        self.base_saas = len(self.addresses)
        self.addresses += _public_v4(np.random.default_rng([seed, 2]), SAAS)
        self.base_scanners = len(self.addresses)
        self.addresses += _public_v4(np.random.default_rng([seed, 3]), SCANNERS)
        extra = {e.ipv6 for e in estate.enis if e.ipv6} | {
            e.public for e in estate.enis if e.public
        }
        self.address_code = {a: i for i, a in enumerate(self.addresses)}
        for value in sorted(a for a in extra if a is not None):
            self.address_code[value] = len(self.addresses)
            self.addresses.append(value)
        self.per_hour = records / (24 * days)
        self.seed = seed
        self.svc_first = np.array([self.code(pool[0]) for pool in estate.services])
        self.svc_size = np.array([len(pool) for pool in estate.services])
        self.db_users = np.array(
            [users[:3] + users[:1] * (3 - len(users)) for _, users in estate.databases]
        )
        self.db_codes = np.array([self.code(e) for e, _ in estate.databases])

    def code(self, eni: Eni) -> int:
        return self.eni_index[eni.id]

    def instances(self, k: int, rng: np.random.Generator) -> I64:
        """``k`` random service instances (codes)."""
        first = int(self.svc_first[0])
        return rng.integers(first, int(self.svc_first[-1] + self.svc_size[-1]), k)

    def pick(self, services: I64, rng: np.random.Generator) -> I64:
        """A random member (its code) of each service in ``services``."""
        first, size = self.svc_first[services], self.svc_size[services]
        return np.asarray(first + (rng.random(services.size) * size).astype(np.int64), np.int64)

    def hour(self, index: int) -> Batch:
        est = self.estate
        rng = np.random.default_rng([self.seed, 100 + index])
        b = Batch()
        t0 = int((START + timedelta(hours=index)).timestamp())
        n = self.per_hour

        def minute(k: int) -> I64:
            return t0 + 60 * rng.integers(0, 60, k)

        # Internet clients of the ALBs (44% of records): two records a connection at the ALB.
        k = int(n * 0.22)
        popularity = 1.0 / np.arange(1, self.clients + 1) ** 0.35
        who = rng.choice(self.clients, size=k, p=popularity / popularity.sum())
        alb = (who * 7 + who // 3) % ALBS
        zone = rng.integers(0, 3, k)
        alb_codes = np.array([[self.code(e) for e in nodes] for nodes in est.albs])
        v6 = who >= self.clients - self.clients // 25
        alb_v6 = np.array(
            [[self.address_code[e.ipv6 or e.address] for e in nodes] for nodes in est.albs]
        )
        server = np.where(v6, alb_v6[alb, zone], alb_codes[alb, zone])
        _legs(b, client_eni=None, server_eni=alb_codes[alb, zone], client=self.base_clients + who,
              server=server, cport=rng.integers(32768, 61000, k), sport=443, proto=6,
              start=minute(k), first=np.ones(k, bool), packets=rng.integers(8, 40, k),
              size=rng.integers(2_000, 60_000, k))  # fmt: skip

        # ALB nodes to their targets (12%): pooled connections, mostly without flags.
        k = int(n * 0.03)
        a = rng.integers(0, ALBS, k)
        node = alb_codes[a, rng.integers(0, 3, k)]
        target = self.pick(a, rng)
        _legs(b, client_eni=node, server_eni=target, client=node, server=target,
              cport=rng.integers(32768, 61000, k), sport=8080, proto=6, start=minute(k),
              first=rng.random(k) < 0.1, packets=rng.integers(20, 400, k),
              size=rng.integers(10_000, 900_000, k))  # fmt: skip

        # East-west calls (24%), fan-in to popular services.
        k = int(n * 0.06)
        pairs = np.array(est.calls)[rng.integers(0, len(est.calls), k)]
        caller = self.pick(pairs[:, 0], rng)
        callee = self.pick(pairs[:, 1], rng)
        ports = np.array(est.ports)[pairs[:, 1]]
        _legs(b, client_eni=caller, server_eni=callee, client=caller, server=callee,
              cport=rng.integers(32768, 61000, k), sport=ports, proto=6, start=minute(k),
              first=rng.random(k) < 0.4, packets=rng.integers(6, 200, k),
              size=rng.integers(1_000, 300_000, k))  # fmt: skip

        # Databases (8%).
        k = int(n * 0.02)
        dbs = rng.integers(0, DATABASES, k)
        user = self.pick(self.db_users[dbs, rng.integers(0, 3, k)], rng)
        db = self.db_codes[dbs]
        _legs(b, client_eni=user, server_eni=db, client=user, server=db,
              cport=rng.integers(32768, 61000, k), sport=5432, proto=6, start=minute(k),
              first=rng.random(k) < 0.05, packets=rng.integers(10, 500, k),
              size=rng.integers(1_000, 2_000_000, k))  # fmt: skip

        # DNS (4%): UDP, no flags.
        k = int(n * 0.01)
        asker = self.instances(k, rng)
        resolver = np.array([self.code(e) for e in est.dns])[rng.integers(0, 2, k)]
        _legs(b, client_eni=asker, server_eni=resolver, client=asker, server=resolver,
              cport=rng.integers(32768, 61000, k), sport=53, proto=17, start=minute(k),
              first=np.zeros(k, bool), packets=np.full(k, 2),
              size=rng.integers(120, 600, k))  # fmt: skip

        # Monitoring scrapes (4%).
        k = int(n * 0.01)
        scraped = self.instances(k, rng)
        prom = np.array([self.code(e) for e in est.monitoring])[rng.integers(0, 2, k)]
        _legs(b, client_eni=prom, server_eni=scraped, client=prom, server=scraped,
              cport=rng.integers(32768, 61000, k), sport=9100, proto=6, start=minute(k),
              first=np.ones(k, bool), packets=rng.integers(8, 30, k),
              size=rng.integers(5_000, 80_000, k))  # fmt: skip

        # SaaS behind the NAT gateway (2%): the instance's side.
        k = int(n * 0.01)
        inside = self.instances(k, rng)
        saas = self.base_saas + rng.integers(0, SAAS, k)
        _legs(b, client_eni=inside, server_eni=None, client=inside, server=saas,
              cport=rng.integers(32768, 61000, k), sport=443, proto=6, start=minute(k),
              first=np.ones(k, bool), packets=rng.integers(8, 60, k),
              size=rng.integers(2_000, 200_000, k))  # fmt: skip

        # Scanners: rejected everywhere public, SSH handshakes accepted at the bastion.
        k = max(1, int(n * 0.004))
        scanner = self.base_scanners + rng.integers(0, SCANNERS, k)
        publics = [e for e in est.enis if e.public and e.role != "nat"]
        target_eni = np.array([self.code(e) for e in publics])[rng.integers(0, len(publics), k)]
        port = np.array([22, 23, 3389, 445, 8080])[rng.integers(0, 5, k)]
        b.add(eni=target_eni, src=scanner, dst=target_eni, sport=rng.integers(1024, 65535, k),
              dport=port, proto=6, packets=1, bytes=44, start=minute(k), action=1, flags=2,
              egress=0)  # fmt: skip
        k = max(1, int(n * 0.002))
        scanner = self.base_scanners + rng.integers(0, SCANNERS, k)
        bastion = self.code(est.bastion)
        _legs(b, client_eni=None, server_eni=np.full(k, bastion), client=scanner,
              server=np.full(k, bastion), cport=rng.integers(1024, 65535, k), sport=22, proto=6,
              start=minute(k), first=np.ones(k, bool), packets=np.full(k, 4),
              size=np.full(k, 240))  # fmt: skip
        return b


def _table(traffic: Traffic, b: Batch, fmt: Format) -> pa.Table:
    cat = {name: np.concatenate(getattr(b, name)) for name in b.__dataclass_fields__}
    order = np.lexsort((cat["src"], cat["eni"], cat["start"]))
    cat = {k: v[order] for k, v in cat.items()}
    n = order.size
    enis = traffic.estate.enis

    def strings(codes: I64, values: list[str]) -> pa.DictionaryArray[Any, Any]:
        used, inverse = np.unique(codes, return_inverse=True)
        dictionary = pa.array([values[int(c)] for c in used], pa.string())
        return pa.DictionaryArray.from_arrays(inverse.astype(np.int32), dictionary)

    eni_ids = [e.id for e in enis]
    subnet_ids = [aws_id("subnet", f"estate:{e.subnet}") for e in enis]
    v6 = np.array([":" in a for a in traffic.addresses])[cat["src"]]
    columns = {
        "version": pa.array(np.full(n, 5, np.int32)),
        "account_id": pa.array([ACCOUNT_ID] * 1, pa.string()).take(np.zeros(n, np.int32)),
        "interface_id": strings(cat["eni"], eni_ids),
        "srcaddr": strings(cat["src"], traffic.addresses),
        "dstaddr": strings(cat["dst"], traffic.addresses),
        "srcport": pa.array(cat["sport"].astype(np.int32)),
        "dstport": pa.array(cat["dport"].astype(np.int32)),
        "protocol": pa.array(cat["proto"].astype(np.int32)),
        "packets": pa.array(cat["packets"]),
        "bytes": pa.array(cat["bytes"]),
        "start": pa.array(cat["start"]),
        "end": pa.array(cat["start"] + 59),
        "action": strings(cat["action"], ["ACCEPT", "REJECT"]),
        "log_status": strings(np.zeros(n, np.int64), ["OK"]),
        "vpc_id": strings(np.zeros(n, np.int64), [aws_id("vpc", "estate")]),
        "subnet_id": strings(cat["eni"], subnet_ids),
        "tcp_flags": pa.array(cat["flags"].astype(np.int32)),
        "type": strings(v6.astype(np.int64), ["IPv4", "IPv6"]),
        "pkt_srcaddr": strings(cat["src"], traffic.addresses),
        "pkt_dstaddr": strings(cat["dst"], traffic.addresses),
        "region": strings(np.zeros(n, np.int64), [REGION]),
        "flow_direction": strings(cat["egress"], ["ingress", "egress"]),
        "traffic_path": pa.nulls(n, pa.int32()),
    }
    names = COLUMNS[fmt]
    arrays = [
        columns[name] if name in columns else pa.nulls(n, ARROW_SCHEMA.field(name).type)
        for name in names
    ]
    return pa.Table.from_arrays(arrays, names=list(names))


# --------------------------------------------------------------------------- inventory


def _write_inventory(estate: Estate, folder: Path, fmt: Format) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    vpc_id = aws_id("vpc", "estate")
    names = {g.id: g.name for g in estate.groups.values()}

    def perm(rule: tuple[str, int, int, str, str]) -> dict[str, object]:
        proto, lo, hi, kind, peer = rule
        out: dict[str, object] = {"IpProtocol": proto}
        if proto != "-1":
            out |= {"FromPort": lo, "ToPort": hi}
        out["UserIdGroupPairs"] = (
            [{"GroupId": _gid(peer), "UserId": ACCOUNT_ID}] if kind == "sg" else []
        )
        out["IpRanges"] = [{"CidrIp": peer}] if kind == "cidr" else []
        out["Ipv6Ranges"] = [{"CidrIpv6": peer}] if kind == "cidr6" else []
        out["PrefixListIds"] = []
        return out

    groups, rules = [], []
    for group in sorted(estate.groups.values(), key=lambda g: g.id):
        groups.append(
            {
                "GroupId": group.id,
                "GroupName": group.name,
                "Description": f"{group.name} (estate)",
                "OwnerId": ACCOUNT_ID,
                "VpcId": vpc_id,
                "IpPermissions": [perm(r) for r in group.ingress],
                "IpPermissionsEgress": [perm(r) for r in group.egress],
                "Tags": [{"Key": "Name", "Value": group.name}],
            }
        )
        for direction, items in (("ingress", group.ingress), ("egress", group.egress)):
            for i, (proto, lo, hi, kind, peer) in enumerate(items):
                rule: dict[str, object] = {
                    "SecurityGroupRuleId": aws_id("sgr", f"{group.id}/{direction}/{i}"),
                    "GroupId": group.id,
                    "GroupOwnerId": ACCOUNT_ID,
                    "IsEgress": direction == "egress",
                    "IpProtocol": proto,
                    "FromPort": lo,
                    "ToPort": hi,
                }
                if kind == "sg":
                    rule["ReferencedGroupInfo"] = {"GroupId": _gid(peer), "UserId": ACCOUNT_ID}
                else:
                    rule["CidrIpv6" if kind == "cidr6" else "CidrIpv4"] = peer
                rules.append(rule)
    enis = []
    for eni in estate.enis:
        managed = eni.role != "instance"
        doc: dict[str, object] = {
            "Attachment": {
                "AttachTime": (START - timedelta(days=30)).isoformat(),
                "Status": "attached",
                **({} if managed else {"InstanceId": aws_id("i", f"estate:{eni.name}")}),
            },
            "AvailabilityZone": estate.subnets[eni.subnet][1][0],
            "Description": {
                "alb": f"ELB app/{eni.name.rsplit('-', 1)[0]}/{aws_id('x', eni.name)[3:19]}",
                "rds": "RDSNetworkInterface",
                "nat": f"Interface for NAT Gateway {aws_id('nat', eni.name)}",
            }.get(eni.role, ""),
            "Groups": [{"GroupId": g, "GroupName": names[g]} for g in eni.groups],
            "InterfaceType": "nat_gateway" if eni.role == "nat" else "interface",
            "Ipv6Addresses": [{"Ipv6Address": eni.ipv6}] if eni.ipv6 else [],
            "NetworkInterfaceId": eni.id,
            "OwnerId": ACCOUNT_ID,
            "PrivateIpAddress": eni.address,
            "PrivateIpAddresses": [
                {
                    "Primary": True,
                    "PrivateIpAddress": eni.address,
                    **({"Association": {"PublicIp": eni.public}} if eni.public else {}),
                }
            ],
            "RequesterManaged": managed,
            **(
                {
                    "RequesterId": {"alb": "amazon-elb", "rds": "amazon-rds"}.get(
                        eni.role, "amazon-aws"
                    )
                }
                if managed
                else {}
            ),
            "Status": "in-use",
            "SubnetId": aws_id("subnet", f"estate:{eni.subnet}"),
            "TagSet": [{"Key": "Name", "Value": eni.name}],
            "VpcId": vpc_id,
        }
        if eni.public:
            doc["Association"] = {"PublicIp": eni.public, "IpOwnerId": "amazon"}
        enis.append(doc)
    subnets = [
        {
            "SubnetId": aws_id("subnet", f"estate:{i}"),
            "VpcId": vpc_id,
            "CidrBlock": cidr,
            "AvailabilityZone": az,
            "AvailabilityZoneId": az_id,
            "OwnerId": ACCOUNT_ID,
            "Tags": [{"Key": "Name", "Value": f"subnet-{i}"}],
        }
        for i, (cidr, (az, az_id)) in enumerate(estate.subnets)
    ]
    docs: dict[str, object] = {
        "describe-network-interfaces.json": {"NetworkInterfaces": enis},
        "describe-security-groups.json": {"SecurityGroups": groups},
        "describe-security-group-rules.json": {"SecurityGroupRules": rules},
        "describe-vpcs.json": {
            "Vpcs": [
                {
                    "VpcId": vpc_id,
                    "CidrBlock": VPC_CIDR,
                    "CidrBlockAssociationSet": [{"CidrBlock": VPC_CIDR}],
                    "Ipv6CidrBlockAssociationSet": [{"Ipv6CidrBlock": VPC_CIDR6}],
                    "OwnerId": ACCOUNT_ID,
                    "State": "available",
                }
            ]
        },
        "describe-subnets.json": {"Subnets": subnets},
        "describe-managed-prefix-lists.json": {"PrefixLists": []},
        "describe-vpc-peering-connections.json": {"VpcPeeringConnections": []},
        "describe-flow-logs.json": {
            "FlowLogs": [
                {
                    "CreationTime": (START - timedelta(days=60)).isoformat(),
                    "DeliverLogsStatus": "SUCCESS",
                    "FlowLogId": FLOW_LOG_ID,
                    "FlowLogStatus": "ACTIVE",
                    "ResourceId": vpc_id,
                    "TrafficType": "ALL",
                    "LogDestinationType": "s3",
                    "LogDestination": f"arn:aws:s3:::{FLOW_LOG_BUCKET}",
                    "LogFormat": log_format(fmt),
                    "MaxAggregationInterval": 60,
                }
            ]
        },
        "manifest.json": {
            "schema_version": 1,
            "taken_at": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "account_ids": [ACCOUNT_ID],
            "regions": [REGION],
            "generator": "zt_flows.sample.estate",
        },
    }
    for name, document in docs.items():
        (folder / name).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- entry point


def _write(root: Path, fmt: Format, start: datetime, table: pa.Table) -> int:
    """One hour's object, as AWS delivers it; returns its size."""
    if fmt != "parquet":
        handle = FlowLogFile(root, fmt, start, timedelta(hours=1))
        handle.write(table)
        return handle.close()
    path = root / object_key(fmt, start, timedelta(hours=1))
    path.parent.mkdir(parents=True, exist_ok=True)
    # GZIP as AWS writes it; level 1, since the bytes are the same to every reader.
    pq.write_table(
        table, path, compression="gzip", compression_level=1, store_schema=False,
        row_group_size=1_000_000,
    )  # fmt: skip
    return path.stat().st_size


@dataclass(frozen=True)
class EstateSummary:
    records: int
    files: int
    bytes: int
    enis: int
    groups: int
    clients: int


def write_estate(
    out: Path,
    *,
    records: int = 1_000_000,
    clients: int | None = None,
    days: int = 1,
    delivery: Format = "parquet",
    seed: int = 0,
) -> EstateSummary:
    """Write ``inventory/`` and ``flowlogs/`` of an estate of about ``records`` records.

    ``clients``: distinct internet clients of the ALBs (default: one per five records).
    """
    estate = Estate(np.random.default_rng([seed, 0]))
    clients = clients if clients is not None else max(1000, records // 5)
    traffic = Traffic(estate, records, clients, days, seed)
    stamp = START.strftime("%Y-%m-%dT%H-%M-%SZ")
    _write_inventory(estate, out / "inventory" / stamp, delivery)
    written = size = files = 0
    pending: list[Future[int]] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for index in range(24 * days):
            table = _table(traffic, traffic.hour(index), delivery)
            start = START + timedelta(hours=index)
            pending.append(pool.submit(_write, out / "flowlogs", delivery, start, table))
            written += table.num_rows
            files += 1
            while len(pending) > 2:
                size += pending.pop(0).result()
        size += sum(f.result() for f in pending)
    digest = hashlib.sha256(f"{records}/{clients}/{days}/{seed}".encode()).hexdigest()[:12]
    (out / "estate.json").write_text(
        json.dumps({"records": written, "clients": clients, "days": days, "digest": digest}) + "\n"
    )
    return EstateSummary(written, files, size, len(estate.enis), len(estate.groups), clients)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m zt_flows.sample.estate", description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, help="distinct internet clients (default N/5)")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--delivery", choices=("parquet", "text-v5"), default="parquet")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.perf_counter()
    summary = write_estate(
        args.out,
        records=args.records,
        clients=args.clients,
        days=args.days,
        delivery=args.delivery,
        seed=args.seed,
    )
    print(
        f"wrote {summary.records:,} records in {summary.files} files ({summary.bytes / 1e6:,.1f} "
        f"MB): {summary.enis:,} ENIs, {summary.groups} groups, {summary.clients:,} internet "
        f"clients, to {args.out} in {time.perf_counter() - began:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
