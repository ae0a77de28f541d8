"""The edge table as typed values: one :class:`Edge` per row of ``EDGE_SCHEMA``.

Rule analysis walks edges one by one (a few thousand to a few hundred thousand rows
after aggregation), so the polars frame is turned into frozen values once, with
list columns as tuples and times as UTC-aware datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from zt_flows.errors import InputError

# Columns the rule stage reads; the conversations stage writes them (EDGE_SCHEMA).
REQUIRED_COLUMNS = (
    "day",
    "client_kind",
    "client_id",
    "client_vpc_id",
    "client_role",
    "client_sgs",
    "client_addrs",
    "client_label",
    "server_kind",
    "server_id",
    "server_vpc_id",
    "server_role",
    "server_sgs",
    "server_addrs",
    "server_label",
    "protocol",
    "server_port",
    "flows",
    "accepted",
    "rejected",
    "connections",
    "packets",
    "bytes",
    "first_seen",
    "last_seen",
)


@dataclass(frozen=True)
class EdgeSide:
    """One end of a conversation, as the conversations stage resolved it."""

    kind: str  # an EndpointKind value: eni, internet, aws_service, peered_vpc, ...
    id: str  # eni-… for ENIs, the address for address classes, the service for AWS
    vpc_id: str | None
    role: str | None  # the ENI's InterfaceRole value ("unknown" when not in the inventory)
    sgs: tuple[str, ...]  # the ENI's security groups at the time (empty for externals)
    addrs: tuple[str, ...]  # the addresses this side used
    label: str | None = None

    @property
    def is_eni(self) -> bool:
        return self.kind == "eni"


@dataclass(frozen=True)
class Edge:
    """One row of the edge table: a (day, client, server, protocol, server port)."""

    day: date
    client: EdgeSide
    server: EdgeSide
    protocol: int
    server_port: int
    flows: int
    accepted: int
    rejected: int
    connections: int
    packets: int
    bytes: int
    first_seen: datetime | None
    last_seen: datetime | None
    initiator: str = "tcp_flags"
    vantage: str = "server"

    @property
    def conversation(self) -> tuple[str, str, str, str, int, int]:
        """The edge without its day: who talks to whom on which protocol and port."""
        return (
            self.client.kind,
            self.client.id,
            self.server.kind,
            self.server.id,
            self.protocol,
            self.server_port,
        )

    @property
    def was_accepted(self) -> bool:
        return self.accepted > 0

    @property
    def packets_per_connection(self) -> float:
        return self.packets / max(self.connections, 1)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _strs(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    assert isinstance(value, list | tuple)
    return tuple(str(v) for v in value)


def _side(row: dict[str, object], prefix: str) -> EdgeSide:
    def opt(name: str) -> str | None:
        value = row[f"{prefix}_{name}"]
        return None if value is None else str(value)

    return EdgeSide(
        kind=str(row[f"{prefix}_kind"]),
        id=str(row[f"{prefix}_id"]),
        vpc_id=opt("vpc_id"),
        role=opt("role"),
        sgs=_strs(row[f"{prefix}_sgs"]),
        addrs=_strs(row[f"{prefix}_addrs"]),
        label=opt("label"),
    )


def _int(value: object) -> int:
    return 0 if value is None else int(str(value))


def edges_from_frame(frame: pl.DataFrame) -> tuple[Edge, ...]:
    """The rows of an edge table as :class:`Edge` values, in the frame's order."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"edge table: expected the columns of the conversations stage, "
            f"found no column {missing[0]!r}"
        )
    names = [*REQUIRED_COLUMNS, *(c for c in ("initiator", "vantage") if c in frame.columns)]
    # Column lists, zipped: far faster than polars' row iteration for wide rows.
    columns = [frame.get_column(name).to_list() for name in names]
    out = []
    for values in zip(*columns, strict=True):
        row = dict(zip(names, values, strict=True))
        day, first, last = row["day"], row["first_seen"], row["last_seen"]
        assert isinstance(day, date)
        assert first is None or isinstance(first, datetime)
        assert last is None or isinstance(last, datetime)
        out.append(
            Edge(
                day=day,
                client=_side(row, "client"),
                server=_side(row, "server"),
                protocol=_int(row["protocol"]),
                server_port=_int(row["server_port"]),
                flows=_int(row["flows"]),
                accepted=_int(row["accepted"]),
                rejected=_int(row["rejected"]),
                connections=_int(row["connections"]),
                packets=_int(row["packets"]),
                bytes=_int(row["bytes"]),
                first_seen=_utc(first),
                last_seen=_utc(last),
                initiator=str(row.get("initiator") or "tcp_flags"),
                vantage=str(row.get("vantage") or "server"),
            )
        )
    return tuple(out)
