"""Edge tables by hand: one ``edge()`` per row, ``frame()`` for the table (EDGE_SCHEMA).

    edges = frame([edge(api, db, 5432), edge("198.51.100.7", web, 443, flows=3)])

A side is an ENI (its groups, VPC, role and first address are written from it), the id
of an ENI (looked up in the inventory given to ``frame``; one it does not hold has role
``unknown``), an address (public:
``internet``, private: ``vpc_unknown``), or ``kind:address[|extra]``:
``peered_vpc:10.1.0.5|vpc-b`` and ``vpc_unknown:10.0.10.99|vpc-a`` (the VPC),
``onprem:192.168.1.5|192.168.0.0/16`` and ``partner:…|range`` (the range, as a label),
``aws_service:S3:52.216.8.29`` (the service and its address), ``private_other:172.16.0.9``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

import polars as pl
import pyarrow as pa

from zt_flows.addresses import NON_PUBLIC_BLOCKS
from zt_flows.conversations.build import EDGE_SCHEMA
from zt_flows.inventory.model import Inventory, NetworkInterface
from zt_flows.vocabulary import IP_PROTOCOL_NUMBERS

DAY0 = date(2026, 11, 16)
Side = NetworkInterface | str
KINDS = ("internet", "peered_vpc", "onprem", "partner", "vpc_unknown", "private_other")
UNKNOWN_ENI_ADDRESS = "10.0.99.99"


def _side(value: Side, prefix: str, address: str | None) -> dict[str, object]:
    if isinstance(value, NetworkInterface):
        return {
            f"{prefix}_kind": "eni",
            f"{prefix}_id": value.id,
            f"{prefix}_vpc_id": value.vpc_id,
            f"{prefix}_role": value.role.value,
            f"{prefix}_sgs": sorted(value.security_group_ids),
            f"{prefix}_addrs": [address or value.private_ipv4s[0]],
            f"{prefix}_label": None,
        }
    head, _, tail = value.partition(":")
    label = vpc = None
    if value.startswith("eni-"):
        return {
            f"{prefix}_kind": "eni",
            f"{prefix}_id": value,
            f"{prefix}_vpc_id": None,
            f"{prefix}_role": "unknown",
            f"{prefix}_sgs": [],
            f"{prefix}_addrs": [address or UNKNOWN_ENI_ADDRESS],
            f"{prefix}_label": None,
        }
    if head == "aws_service":
        ident, _, addr = tail.partition(":")
        kind, addr = head, addr or "52.216.0.1"
    elif head in KINDS:
        tail, _, extra = tail.partition("|")
        kind, ident, addr = head, tail, tail
        if extra and head in ("peered_vpc", "vpc_unknown"):
            vpc = extra
        elif extra:
            label = extra
    else:
        parsed = ipaddress.ip_address(value)
        private = any(parsed in n for n in NON_PUBLIC_BLOCKS if n.version == parsed.version)
        kind = "vpc_unknown" if private else "internet"
        ident = addr = value
    return {
        f"{prefix}_kind": kind,
        f"{prefix}_id": ident,
        f"{prefix}_vpc_id": vpc,
        f"{prefix}_role": None,
        f"{prefix}_sgs": [],
        f"{prefix}_addrs": [addr],
        f"{prefix}_label": label,
    }


def _known(row: dict[str, object], inventory: Inventory) -> dict[str, object]:
    out = dict(row)
    for prefix in ("client", "server"):
        eni = inventory.interfaces.get(str(row[f"{prefix}_id"]))
        if row[f"{prefix}_kind"] == "eni" and row[f"{prefix}_role"] == "unknown" and eni:
            out[f"{prefix}_vpc_id"] = eni.vpc_id
            out[f"{prefix}_role"] = eni.role.value
            out[f"{prefix}_sgs"] = sorted(eni.security_group_ids)
            out[f"{prefix}_addrs"] = list(eni.private_ipv4s)
    return out


def edge(
    client: Side,
    server: Side,
    port: int,
    protocol: str | int = "tcp",
    *,
    day: int = 0,
    flows: int = 10,
    accepted: int | None = None,
    rejected: int = 0,
    connections: int | None = None,
    packets: int | None = None,
    bytes_: int | None = None,
    seen: tuple[time, time] = (time(1), time(2)),
    vantage: str | None = None,
    client_address: str | None = None,
    server_address: str | None = None,
) -> dict[str, object]:
    """One row of the edge table, on ``day`` days after 2026-11-16 (see the module doc).

    Defaults: every flow accepted, one connection and 40 packets a flow, 500 bytes a packet,
    first and last seen at ``seen``; logged by the server when it is an ENI.
    """
    accepted = flows - rejected if accepted is None else accepted
    connections = flows if connections is None else connections
    packets = 40 * flows if packets is None else packets
    when = DAY0 + timedelta(days=day)
    row: dict[str, object] = {"day": when}
    row.update(_side(client, "client", client_address))
    row.update(_side(server, "server", server_address))
    server_is_eni = isinstance(server, NetworkInterface) or server.startswith("eni-")
    row.update(
        {
            "protocol": IP_PROTOCOL_NUMBERS.get(str(protocol)) or int(protocol),
            "server_port": port,
            "flows": flows,
            "accepted": accepted,
            "rejected": rejected,
            "connections": connections,
            "packets": packets,
            "bytes": 500 * packets if bytes_ is None else bytes_,
            "first_seen": datetime.combine(when, seen[0]),
            "last_seen": datetime.combine(when, seen[1]),
            "initiator": "tcp_flags",
            "flows_by_flags": flows,
            "flows_by_listener": 0,
            "flows_by_heuristic": 0,
            "vantage": vantage or ("server" if server_is_eni else "client"),
        }
    )
    return row


def frame(rows: Iterable[dict[str, object]], inventory: Inventory | None = None) -> pl.DataFrame:
    """An edges frame in EDGE_SCHEMA from :func:`edge` rows; a side given as the id of an
    ENI of ``inventory`` takes its VPC, role, groups and addresses from there."""
    rows = [_known(row, inventory) for row in rows] if inventory is not None else list(rows)
    columns = {name: [r.get(name) for r in rows] for name in EDGE_SCHEMA.names}
    table = pa.Table.from_pydict(columns, schema=EDGE_SCHEMA)
    out = pl.from_arrow(table)
    assert isinstance(out, pl.DataFrame)
    return out
