"""Connections: when they open, how long they last, which ports they use.

Short connections arrive as a Poisson process per pair, shaped by the flow's hourly
curve; pooled connections are open from the start (already established before the
window: their first records have no SYN) and are reopened with a fresh ephemeral
port when their lifetime ends. Everything is drawn one hour at a time from an RNG
seeded by (seed, hour), so the output does not depend on anything but the seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zt_flows.sample.plan import I8, I32, I64, W0, Bool, Plan
from zt_flows.sample.traffic import Mode
from zt_flows.vocabulary import PROTO_ICMP

HOUR = 3600
DAY = 86400
# Linux's ephemeral range (net.ipv4.ip_local_port_range); NAT gateways use 1024-65535.
EPHEMERAL = (32768, 61000)
NAT_PORTS = (1024, 65536)
SINGLE_SHOT = (int(Mode.PROBE), int(Mode.REJECT), int(Mode.UDP), int(Mode.ICMP))


@dataclass(eq=False)
class Connections:
    """Connections as columns; ``seen_day`` is the last day the ground truth counted one."""

    pair: I32
    start: I64
    end: I64  # the second of the last packet
    cport: I32
    nport: I32
    saddr: I32
    pooled: Bool
    seen_day: I8

    def __len__(self) -> int:
        return len(self.pair)

    def take(self, index: np.ndarray) -> Connections:
        return Connections(
            self.pair[index],
            self.start[index],
            self.end[index],
            self.cport[index],
            self.nport[index],
            self.saddr[index],
            self.pooled[index],
            self.seen_day[index],
        )

    @staticmethod
    def concat(parts: list[Connections]) -> Connections:
        return Connections(
            np.concatenate([p.pair for p in parts]),
            np.concatenate([p.start for p in parts]),
            np.concatenate([p.end for p in parts]),
            np.concatenate([p.cport for p in parts]),
            np.concatenate([p.nport for p in parts]),
            np.concatenate([p.saddr for p in parts]),
            np.concatenate([p.pooled for p in parts]),
            np.concatenate([p.seen_day for p in parts]),
        )


def _make(
    plan: Plan, rng: np.random.Generator, pair: I32, start: I64, end: I64, pooled: bool
) -> Connections:
    n = len(pair)
    cls = plan.pair_cls[pair]
    cport = rng.integers(*EPHEMERAL, size=n, dtype=np.int32)
    cport[plan.cls_proto[cls] == PROTO_ICMP] = 0
    saddr = plan.pair_saddr[pair].copy()
    pooled_addr = plan.pair_pool[pair] >= 0
    if pooled_addr.any():
        pick = rng.integers(0, 1 << 30, size=n) % np.maximum(plan.pair_pool_len[pair], 1)
        saddr[pooled_addr] = plan.pool_addrs[(plan.pair_pool[pair] + pick)[pooled_addr]]
    return Connections(
        pair=pair.astype(np.int32),
        start=start.astype(np.int64),
        end=np.minimum(end, plan.pair_until[pair] - 1).astype(np.int64),
        cport=cport,
        nport=rng.integers(*NAT_PORTS, size=n, dtype=np.int32),
        saddr=saddr,
        pooled=np.full(n, pooled),
        seen_day=np.full(n, -1, np.int8),
    )


def empty() -> Connections:
    z = np.zeros(0, np.int32)
    return Connections(
        z, z.astype(np.int64), z.astype(np.int64), z, z, z, z.astype(bool), z.astype(np.int8)
    )


def daily_minimum(plan: Plan, rng: np.random.Generator, days: int) -> I32:
    """For each pair and day, the hour of one guaranteed connection (-1: none).

    Rare conversations (admin hops, deploys, the rejected Lambda attempts) would
    otherwise miss a day by chance; the scenario says they happen every day.
    """
    out = np.full((len(plan.pair_cls), days), -1, np.int32)
    for p, truth in enumerate(plan.truth):
        cls = plan.pair_cls[p]
        if not truth.flow.daily_minimum or plan.cls_pooled[cls]:
            continue
        for day in range(days):
            if not plan.cls_days[cls, day]:
                continue
            hours = W0 + day * DAY + HOUR * np.arange(24)
            overlap = np.clip(
                np.minimum(hours + HOUR, plan.pair_until[p]) - np.maximum(hours, plan.pair_from[p]),
                0,
                HOUR,
            )
            weight = plan.cls_curve[cls] * overlap
            if weight.sum() > 0:
                out[p, day] = day * 24 + int(rng.choice(24, p=weight / weight.sum()))
    return out


def open_short(plan: Plan, hour: int, guaranteed: I32, rng: np.random.Generator) -> Connections:
    """New short connections starting within ``hour`` (hours since the window start)."""
    start_h = W0 + hour * HOUR
    day, hod = divmod(hour, 24)
    lo = np.maximum(plan.pair_from, start_h)
    span = np.clip(np.minimum(plan.pair_until, start_h + HOUR) - lo, 0, HOUR)
    cls = plan.pair_cls
    lam = plan.pair_rate / 24 * plan.cls_curve[cls, hod] * plan.cls_days[cls, day] * (span / HOUR)
    count = rng.poisson(lam) + (guaranteed[:, day] == hour)
    count[span <= 0] = 0
    pair = np.repeat(np.arange(len(cls), dtype=np.int32), count)
    start = lo[pair] + (rng.random(len(pair)) * span[pair]).astype(np.int64)
    c = cls[pair]
    median, sigma, dmin, dmax = (plan.cls_duration[c, i] for i in range(4))
    duration = np.clip(median * np.exp(sigma * rng.standard_normal(len(pair))), dmin, dmax)
    end = start + duration.astype(np.int64)
    # Probes, refused SYNs and DNS lookups are over within the minute they start in.
    single = np.isin(plan.cls_mode[c], SINGLE_SHOT)
    end[single] = np.minimum(end[single], start[single] - start[single] % 60 + 59)
    order = np.lexsort((start, pair))
    return _make(plan, rng, pair[order], start[order], end[order], pooled=False)


def _lifetimes(plan: Plan, pair: I32, rng: np.random.Generator) -> I64:
    lo, hi = plan.cls_lifetime[plan.pair_cls[pair]].T
    life: I64 = (lo + rng.random(len(pair)) * (hi - lo)).astype(np.int64)
    return life


def open_pools(plan: Plan, hour: int, live: Connections, rng: np.random.Generator) -> Connections:
    """Pooled connections opening in ``hour``: the initial pools, then every reopened one."""
    start_h = W0 + hour * HOUR
    end_h = start_h + HOUR
    pooled_pairs = np.nonzero(plan.pair_k > 0)[0].astype(np.int32)
    parts: list[Connections] = []
    first = pooled_pairs[
        (plan.pair_from[pooled_pairs] >= start_h) & (plan.pair_from[pooled_pairs] < end_h)
    ]
    if hour == 0:
        first = np.union1d(first, pooled_pairs[plan.pair_from[pooled_pairs] <= W0]).astype(np.int32)
    if len(first):
        pair = np.repeat(first, plan.pair_k[first])
        life = _lifetimes(plan, pair, rng)
        # Pools that exist before the window have been open for a while already.
        age = np.where(
            plan.pair_from[pair] <= W0, (rng.random(len(pair)) * life).astype(np.int64), 0
        )
        start = np.maximum(plan.pair_from[pair], W0) - age + rng.integers(0, 60, len(pair))
        parts.append(_make(plan, rng, pair, start, start + life, pooled=True))
    ending = [live.take(np.nonzero(live.pooled & (live.end >= start_h) & (live.end < end_h))[0])]
    ending += [p.take(np.nonzero(p.end < end_h)[0]) for p in parts]
    due = Connections.concat(ending) if ending else empty()
    while len(due):
        # The pool reopens a connection a few seconds after one closes.
        start = due.end + rng.integers(1, 6, len(due))
        again = start < plan.pair_until[due.pair] - 1
        pair, start = due.pair[again], start[again]
        new = _make(plan, rng, pair, start, start + _lifetimes(plan, pair, rng), pooled=True)
        parts.append(new)
        due = new.take(np.nonzero(new.end < end_h)[0])
    return Connections.concat(parts) if parts else empty()
