"""Which records one connection leaves in one aggregation interval, for each path.

Every logged ENI on the path writes one record per direction: the request
(client to server) and the response. Between two ENIs of the VPC that is four
records; at the NAT gateway the request arrives addressed to the NAT itself and
leaves with the NAT's address and port, so the NAT writes four records whose
pkt-srcaddr / pkt-dstaddr name the real endpoints. ``traffic-path`` is only set on
egress records.
AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
and https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html (traffic-path).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from zt_flows.sample.traffic import PathKind

# Roles: who logs, whose address, whose port.
CLIENT, SERVER, NAT = 0, 1, 2  # loggers and addresses
CPORT, SPORT, NPORT = 0, 1, 2  # client's ephemeral port, server port, NAT's translated port
INGRESS, EGRESS = 0, 1
NO_PATH = -1
# traffic-path values (egress only).
VIA_VPC, VIA_PEERING, VIA_GATEWAY_ENDPOINT, VIA_INTERNET_GATEWAY = 1, 4, 7, 8


@dataclass(frozen=True)
class Leg:
    logger: int
    response: bool
    src: int
    dst: int
    pkt_src: int
    pkt_dst: int
    srcport: int
    dstport: int
    direction: int
    traffic_path: int = NO_PATH
    reject: bool = False


def _req(logger: int, direction: int, path: int = NO_PATH, *, reject: bool = False) -> Leg:
    return Leg(logger, False, CLIENT, SERVER, CLIENT, SERVER, CPORT, SPORT, direction, path, reject)


def _resp(logger: int, direction: int, path: int = NO_PATH) -> Leg:
    return Leg(logger, True, SERVER, CLIENT, SERVER, CLIENT, SPORT, CPORT, direction, path)


LEGS: dict[PathKind, tuple[Leg, ...]] = {
    PathKind.VPC: (
        _req(CLIENT, EGRESS, VIA_VPC),
        _resp(CLIENT, INGRESS),
        _req(SERVER, INGRESS),
        _resp(SERVER, EGRESS, VIA_VPC),
    ),
    PathKind.IN_IGW: (_req(SERVER, INGRESS), _resp(SERVER, EGRESS, VIA_INTERNET_GATEWAY)),
    PathKind.IN_PEER: (_req(SERVER, INGRESS), _resp(SERVER, EGRESS, VIA_PEERING)),
    PathKind.OUT_NAT: (
        _req(CLIENT, EGRESS, VIA_VPC),
        _resp(CLIENT, INGRESS),
        # Arrives at the NAT addressed to it; pkt-dstaddr keeps the real destination.
        Leg(NAT, False, CLIENT, NAT, CLIENT, SERVER, CPORT, SPORT, INGRESS),
        # Leaves translated: the NAT's address and port.
        Leg(NAT, False, NAT, SERVER, NAT, SERVER, NPORT, SPORT, EGRESS, VIA_INTERNET_GATEWAY),
        Leg(NAT, True, SERVER, NAT, SERVER, NAT, SPORT, NPORT, INGRESS),
        # Back to the client from the NAT; pkt-srcaddr keeps the real source.
        Leg(NAT, True, NAT, CLIENT, SERVER, CLIENT, SPORT, CPORT, EGRESS, VIA_VPC),
    ),
    PathKind.OUT_GWE: (_req(CLIENT, EGRESS, VIA_GATEWAY_ENDPOINT), _resp(CLIENT, INGRESS)),
    PathKind.REJECT_IN: (_req(SERVER, INGRESS, reject=True),),
    # The sender's security groups let the SYN out; the receiver's drop it.
    PathKind.REJECT_VPC: (_req(CLIENT, EGRESS, VIA_VPC), _req(SERVER, INGRESS, reject=True)),
}


@dataclass(frozen=True, eq=False)
class LegTable:
    """LEGS as arrays indexed [path, leg]."""

    count: npt.NDArray[np.int64]
    logger: npt.NDArray[np.int8]
    response: npt.NDArray[np.bool_]
    src: npt.NDArray[np.int8]
    dst: npt.NDArray[np.int8]
    pkt_src: npt.NDArray[np.int8]
    pkt_dst: npt.NDArray[np.int8]
    srcport: npt.NDArray[np.int8]
    dstport: npt.NDArray[np.int8]
    direction: npt.NDArray[np.int8]
    traffic_path: npt.NDArray[np.int32]
    reject: npt.NDArray[np.bool_]


def leg_table() -> LegTable:
    paths = max(PathKind) + 1
    width = max(len(v) for v in LEGS.values())

    def grid(attr: str, dtype: type) -> npt.NDArray[Any]:
        out: npt.NDArray[Any] = np.zeros((paths, width), dtype)
        for path, legs in LEGS.items():
            for j, leg in enumerate(legs):
                out[path, j] = getattr(leg, attr)
        return out

    return LegTable(
        count=np.array([len(LEGS[PathKind(p)]) for p in range(paths)], np.int64),
        logger=grid("logger", np.int8),
        response=grid("response", np.bool_),
        src=grid("src", np.int8),
        dst=grid("dst", np.int8),
        pkt_src=grid("pkt_src", np.int8),
        pkt_dst=grid("pkt_dst", np.int8),
        srcport=grid("srcport", np.int8),
        dstport=grid("dstport", np.int8),
        direction=grid("direction", np.int8),
        traffic_path=grid("traffic_path", np.int32),
        reject=grid("reject", np.bool_),
    )
