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


_SIDE_COLUMNS = ("kind", "id", "vpc_id", "role", "sgs", "addrs", "label")


def _sides(frame: pl.DataFrame, prefix: str) -> list[EdgeSide]:
    """The ``prefix`` side of every row. Rows far outnumber the sides they name (an
    interface is a side of many edges): each distinct side is built once and shared."""
    distinct, index = index_distinct(frame, [f"{prefix}_{name}" for name in _SIDE_COLUMNS])
    built = [
        EdgeSide(
            kind=str(kind),
            id=str(id_),
            vpc_id=None if vpc_id is None else str(vpc_id),
            role=None if role is None else str(role),
            sgs=_strs(sgs),
            addrs=_strs(addrs),
            label=None if label is None else str(label),
        )
        for kind, id_, vpc_id, role, sgs, addrs, label in distinct.iter_rows()
    ]
    return [built[i] for i in index.to_list()]


# Rows per step of index_distinct: a grouping of all rows at once held about 400 bytes a
# row (830 MB for the 2M evidence rows of a 10M-record estate, against 200 MB in steps).
_DISTINCT_STEP = 1 << 18


def index_distinct(frame: pl.DataFrame, columns: list[str]) -> tuple[pl.DataFrame, pl.Series]:
    """The distinct values of ``columns`` in ``frame``, first seen first, and for each row
    of ``frame`` the index of its own among them (NULLs equal NULLs, as in a grouping).

    Step by step over the rows: each step's new values join the distinct ones found so far,
    and the step's rows are numbered by a join against them, so memory grows with the
    distinct values and one step, not with every row at once."""
    keys = frame.select(columns)
    distinct = keys.clear()
    indexes: list[pl.Series] = []
    for offset in range(0, keys.height, _DISTINCT_STEP):
        step = keys.slice(offset, _DISTINCT_STEP)
        fresh = step.unique(maintain_order=True).join(
            distinct, on=columns, how="anti", nulls_equal=True, maintain_order="left"
        )
        distinct = pl.concat([distinct, fresh])
        numbered = distinct.with_row_index("_index")
        found = step.join(numbered, on=columns, how="left", nulls_equal=True, maintain_order="left")
        indexes.append(found.get_column("_index").cast(pl.UInt32))
    if not indexes:
        return distinct, pl.Series("_index", [], dtype=pl.UInt32)
    return distinct, pl.concat(indexes).rename("_index")


def _int(value: object) -> int:
    return 0 if value is None else int(str(value))


def _ints(frame: pl.DataFrame, name: str) -> list[int]:
    column = frame.get_column(name)
    if column.dtype.is_integer():
        return list(column.fill_null(0).to_list())
    return [_int(value) for value in column.to_list()]


def _texts(frame: pl.DataFrame, name: str, default: str) -> list[str]:
    if name not in frame.columns:
        return [default] * frame.height
    return [str(value or default) for value in frame.get_column(name).to_list()]


def edges_from_frame(frame: pl.DataFrame) -> tuple[Edge, ...]:
    """The rows of an edge table as :class:`Edge` values, in the frame's order."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputError(
            f"edge table: expected the columns of the conversations stage, "
            f"found no column {missing[0]!r}"
        )
    counts = ("protocol", "server_port", "flows", "accepted", "rejected", "connections")
    # Column lists, zipped: far faster than polars' row iteration for wide rows.
    columns = zip(
        frame.get_column("day").to_list(),
        _sides(frame, "client"),
        _sides(frame, "server"),
        *(_ints(frame, name) for name in (*counts, "packets", "bytes")),
        frame.get_column("first_seen").to_list(),
        frame.get_column("last_seen").to_list(),
        _texts(frame, "initiator", "tcp_flags"),
        _texts(frame, "vantage", "server"),
        strict=True,
    )
    out = []
    for values in columns:
        day, client, server, protocol, port, flows, accepted, rejected, connections = values[:9]
        packets, bytes_, first, last, initiator, vantage = values[9:]
        assert isinstance(day, date)
        assert first is None or isinstance(first, datetime)
        assert last is None or isinstance(last, datetime)
        out.append(
            Edge(
                day=day,
                client=client,
                server=server,
                protocol=protocol,
                server_port=port,
                flows=flows,
                accepted=accepted,
                rejected=rejected,
                connections=connections,
                packets=packets,
                bytes=bytes_,
                first_seen=_utc(first),
                last_seen=_utc(last),
                initiator=initiator,
                vantage=vantage,
            )
        )
    return tuple(out)
