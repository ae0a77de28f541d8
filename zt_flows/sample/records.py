"""Turn connections into flow-log records, one 60-second aggregation interval at a time.

For each interval a connection has packets in, every logged ENI on its path writes
a request and a response record (``legs``). tcp-flags are OR-ed over the interval
and only SYN, FIN, RST and SYN-ACK are reported: the client's first interval shows
SYN (2) and the server's answer SYN-ACK (18), the last one FIN (1), the intervals
between nothing. Long-lived connections skip intervals without traffic.
AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (tcp-flags)
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from zt_flows.sample.connections import Connections
from zt_flows.sample.legs import CLIENT, SERVER, LegTable
from zt_flows.sample.plan import I8, I32, I64, NODATA_EVERY_MINUTES, Plan
from zt_flows.sample.traffic import Mode
from zt_flows.schema import TCP_FIN, TCP_RST, TCP_SYN, TCP_SYN_ACK

OK, NODATA, SKIPDATA = 0, 1, 2
ACCEPT, REJECT = 0, 1
NULL = -1


@dataclass(eq=False)
class Records:
    """Records as integer columns; -1 is NULL. Addresses and ENIs are codes into the plan."""

    eni: I32
    src: I32
    dst: I32
    pkt_src: I32
    pkt_dst: I32
    srcport: I32
    dstport: I32
    protocol: I32
    packets: I64
    bytes: I64
    start: I64
    end: I64
    action: I8
    status: I8
    flags: I32
    v6: I8
    direction: I8
    traffic_path: I32

    def __len__(self) -> int:
        return len(self.eni)

    def take(self, index: np.ndarray) -> Records:
        return Records(*(getattr(self, f.name)[index] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Records]) -> Records:
        return Records(
            *(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Records))
        )


def _flags(mode: I8, first: np.ndarray, last: np.ndarray) -> tuple[I32, I32]:
    tcp = mode == Mode.TCP
    req = np.where(tcp, TCP_SYN * first + TCP_FIN * last, 0)
    resp = np.where(tcp, TCP_SYN_ACK * first + TCP_FIN * last, 0)
    req = np.where(mode == Mode.PROBE, TCP_SYN | TCP_RST, req)
    resp = np.where(mode == Mode.PROBE, TCP_SYN_ACK, resp)
    req = np.where(mode == Mode.REJECT, TCP_SYN, req)
    return req.astype(np.int32), resp.astype(np.int32)


def _volume(
    plan: Plan, cls: I32, first: np.ndarray, last: np.ndarray, rng: np.random.Generator
) -> tuple[I64, I64, I64, I64]:
    """Bytes and packets of request and response in one interval."""
    prof = plan.cls_profile[cls]
    mode = plan.cls_mode[cls]
    n = len(cls)
    mid_req = np.where(prof[:, 2] > 0, prof[:, 2], prof[:, 0] * 0.3)
    mid_resp = np.where(prof[:, 3] > 0, prof[:, 3], prof[:, 1] * 0.3)
    req_mean = np.where(first, prof[:, 0], np.where(last, mid_req * 0.5, mid_req))
    resp_mean = np.where(first, prof[:, 1], np.where(last, mid_resp * 0.5, mid_resp))
    # Log-normal around the mean (sigma 0.7), mean preserving.
    jitter = np.exp(0.7 * rng.standard_normal((2, n)) - 0.245)
    req_b = req_mean * jitter[0]
    resp_b = resp_mean * jitter[1]
    req_p = np.maximum(1, np.rint(req_b / prof[:, 4]))
    resp_p = np.maximum(1, np.rint(resp_b / prof[:, 5]))
    tcp = mode == Mode.TCP
    # Handshake and teardown packets: SYN, ACK / SYN-ACK; FIN, ACK.
    req_p += tcp * (2 * first + last)
    resp_p += tcp * (first + last)
    req_b = np.maximum(req_b, 52 * req_p)
    resp_b = np.maximum(resp_b, 52 * resp_p)
    probe = mode == Mode.PROBE
    req_p[probe], req_b[probe], resp_p[probe], resp_b[probe] = 2, 100, 1, 60
    rejected = mode == Mode.REJECT
    tries = rng.integers(1, 4, n)  # the SYN and its retransmissions
    req_p[rejected] = tries[rejected]
    req_b[rejected] = 60 * tries[rejected]
    icmp = mode == Mode.ICMP
    req_p[icmp] = 1
    req_b[icmp] = 28
    single = (mode == Mode.UDP) | icmp
    req_p[single] = 1
    resp_p[single] = 1
    return (
        req_b.astype(np.int64),
        req_p.astype(np.int64),
        resp_b.astype(np.int64),
        resp_p.astype(np.int64),
    )


def expand(
    plan: Plan,
    legs: LegTable,
    conns: Connections,
    lo: int,
    hi: int,
    rng: np.random.Generator,
) -> tuple[Records, np.ndarray]:
    """Records of the intervals in ``[lo, hi)`` (epoch seconds, whole minutes).

    Returns the records (unsorted) and the indices into ``conns`` of the connections
    that left at least one record.
    """
    sel = np.nonzero((conns.start < hi) & (conns.end >= lo))[0]
    start, end = conns.start[sel], conns.end[sel]
    first_iv, last_iv = start // 60, end // 60
    iv0 = np.maximum(first_iv, lo // 60)
    n = np.minimum(last_iv, hi // 60 - 1) - iv0 + 1
    row = np.repeat(np.arange(len(sel)), n)
    offsets = np.cumsum(n) - n
    iv = iv0[row] + (np.arange(len(row)) - offsets[row])
    first = iv == first_iv[row]
    last = iv == last_iv[row]
    pair = conns.pair[sel][row]
    cls = plan.pair_cls[pair]
    # Long-lived connections have packets in a minute with the flow's activity.
    shape = np.where(plan.cls_pooled[cls], plan.cls_curve[cls, (iv // 60) % 24], 1.0)
    active = rng.random(len(row)) < plan.pair_act[pair] * shape
    keep = first | last | active
    row, iv, first, last, pair, cls = (
        row[keep],
        iv[keep],
        first[keep],
        last[keep],
        pair[keep],
        cls[keep],
    )
    touched = sel[np.unique(row)]

    mode = plan.cls_mode[cls]
    req_flags, resp_flags = _flags(mode, first, last)
    req_b, req_p, resp_b, resp_p = _volume(plan, cls, first, last, rng)
    t0 = np.maximum(start[row], iv * 60)
    t1 = np.minimum(end[row], iv * 60 + 60)

    path = plan.cls_path[cls]
    count = legs.count[path]
    rec = np.repeat(np.arange(len(row)), count)
    j = np.arange(len(rec)) - np.repeat(np.cumsum(count) - count, count)
    p = path[rec]
    pr = pair[rec]
    c = sel[row[rec]]
    caddr, saddr = plan.pair_caddr[pr], conns.saddr[c]
    naddr = np.full(len(rec), plan.nat_addr, np.int32)
    cport, nport = conns.cport[c], conns.nport[c]
    sport = plan.cls_port[cls[rec]]

    # Roles are positions for np.choose: CLIENT, SERVER, NAT.
    def addr(role: np.ndarray) -> I32:
        return np.choose(role, (caddr, saddr, naddr)).astype(np.int32)

    def port(role: np.ndarray) -> I32:
        return np.choose(role, (cport, sport, nport)).astype(np.int32)

    logger = legs.logger[p, j]
    eni = np.where(
        logger == CLIENT,
        plan.pair_ceni[pr],
        np.where(logger == SERVER, plan.pair_seni[pr], plan.nat_eni),
    ).astype(np.int32)
    assert not (eni < 0).any(), "a leg is logged by an ENI outside the logged VPC"
    response = legs.response[p, j]
    records = Records(
        eni=eni,
        src=addr(legs.src[p, j]),
        dst=addr(legs.dst[p, j]),
        pkt_src=addr(legs.pkt_src[p, j]),
        pkt_dst=addr(legs.pkt_dst[p, j]),
        srcport=port(legs.srcport[p, j]),
        dstport=port(legs.dstport[p, j]),
        protocol=plan.cls_proto[cls[rec]],
        packets=np.where(response, resp_p[rec], req_p[rec]),
        bytes=np.where(response, resp_b[rec], req_b[rec]),
        start=t0[rec],
        end=t1[rec],
        action=np.where(legs.reject[p, j], REJECT, ACCEPT).astype(np.int8),
        status=np.zeros(len(rec), np.int8),
        flags=np.where(response, resp_flags[rec], req_flags[rec]),
        v6=plan.addr_v6[caddr].astype(np.int8),
        direction=legs.direction[p, j],
        traffic_path=legs.traffic_path[p, j],
    )
    return records, touched


def status_records(plan: Plan, records: Records, lo: int, hi: int) -> Records:
    """NODATA for the idle ENIs that report it, and the scenario's SKIPDATA, in ``[lo, hi)``."""
    minutes = np.arange(lo, hi, 60, dtype=np.int64)
    minutes = minutes[(minutes // 60) % NODATA_EVERY_MINUTES == 0]
    eni = np.repeat(plan.nodata_enis, len(minutes))
    when = np.tile(minutes, len(plan.nodata_enis))
    alive = (plan.eni_from[eni] <= when) & (when < plan.eni_until[eni])
    busy = np.isin(
        eni.astype(np.int64) << 32 | when // 60,
        records.eni.astype(np.int64) << 32 | records.start // 60,
    )
    eni, when = eni[alive & ~busy], when[alive & ~busy]
    status = np.full(len(eni), NODATA, np.int8)
    skips = [(e, t) for e, t in plan.skipdata if lo <= t < hi]
    if skips:
        eni = np.concatenate([eni, np.array([e for e, _ in skips], np.int32)])
        when = np.concatenate([when, np.array([t for _, t in skips], np.int64)])
        status = np.concatenate([status, np.full(len(skips), SKIPDATA, np.int8)])
    n = len(eni)
    null32 = np.full(n, NULL, np.int32)
    null64 = np.full(n, NULL, np.int64)
    null8 = np.full(n, NULL, np.int8)
    return Records(
        eni=eni.astype(np.int32),
        src=null32,
        dst=null32,
        pkt_src=null32,
        pkt_dst=null32,
        srcport=null32,
        dstport=null32,
        protocol=null32,
        packets=null64,
        bytes=null64,
        start=when,
        end=when + 60,
        action=null8,
        status=status,
        flags=null32,
        v6=null8,
        direction=null8,
        traffic_path=null32,
    )


def in_order(records: Records) -> Records:
    """Records by interval, then ENI (stable: the order they were made in breaks ties)."""
    return records.take(np.lexsort((records.eni, records.start // 60)))
