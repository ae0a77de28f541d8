"""Hour by hour: when the busiest conversations of the window talked.

The edge table keeps days; the hours come from the reduce's rows (``zt_reduced``: one row
per interface, addresses, kept ports and hour, whether it came from one scan of the
records or from daily partials, so an incremental run draws the same hours as a full one),
with one DuckDB query over the conversations with the most flows (at most
:data:`TIMELINE_CONVERSATIONS`). A conversation's request records are counted where one
interface logs them all: the server's, or the client's when the server is outside the
inventory (a record of a connection between two logged ENIs is written by both). Internet
clients folded into their class are counted under the class's representative address,
which is the address the conversation's edge carries.

    hours = hourly_timelines(con, REDUCED_TABLE, conversations.edges)
    ReportInput(..., timelines=hours)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import polars as pl
import pyarrow as pa

from zt_flows.report.names import Names, Ref
from zt_flows.sources.sql import identifier
from zt_flows.text import utc
from zt_flows.vocabulary import conversation_label

TIMELINE_CONVERSATIONS = 12
HOUR = 3600
_KEYS = ["client_kind", "client_id", "server_kind", "server_id", "protocol", "server_port"]
# One row per conversation and hour: request records (a client address to a server address
# and port) as the vantage interface logged them. A conversation's client addresses and its
# server addresses are two tables, so the keys grow with the addresses, not their product.
# The reduce keeps the destination port of every request row (decisions 1, 7 and 8) and
# counts hours as start // 3600.
HOURLY_RECORDS = """
SELECT
    s.conversation,
    r.hour * 3600 AS hour,
    sum(r.records) AS records,
    coalesce(sum(r.bytes), 0) AS bytes
FROM {reduced} AS r
JOIN zt_timeline_servers AS s
  ON r.dst_a = s.address
 AND r.dstport = s.server_port
 AND r.protocol = s.protocol
 AND (s.vantage IS NULL OR r.interface_id = s.vantage)
JOIN zt_timeline_clients AS c
  ON c.conversation = s.conversation AND r.src_a = c.address
GROUP BY ALL
ORDER BY ALL
"""
SERVER_KEYS = pa.schema(
    [  # type: ignore[arg-type]  # pyarrow-stubs type a list of mixed types loosely
        ("conversation", pa.int32()),
        ("address", pa.string()),
        ("protocol", pa.int32()),
        ("server_port", pa.int32()),
        ("vantage", pa.string()),
    ]
)
CLIENT_KEYS = pa.schema(
    [("conversation", pa.int32()), ("address", pa.string())]  # type: ignore[arg-type]
)


@dataclass(frozen=True)
class ConversationHours:
    """One conversation's request records and bytes per hour (hours without any left out)."""

    client_kind: str
    client_id: str
    client_label: str | None
    server_kind: str
    server_id: str
    server_label: str | None
    protocol: int
    server_port: int
    flows: int  # over the window, from the edge table
    hours: tuple[tuple[datetime, int, int], ...]  # (hour start, records, bytes), by hour


def hourly_timelines(
    con: duckdb.DuckDBPyConnection,
    reduced: str,
    edges: pl.DataFrame,
    *,
    limit: int = TIMELINE_CONVERSATIONS,
) -> tuple[ConversationHours, ...]:
    """The hours of the ``limit`` accepted conversations with the most flows, from the
    reduce's rows in the table ``reduced``."""
    accepted = edges.filter(pl.col("accepted") > 0)
    if accepted.height == 0 or limit <= 0:
        return ()
    top = (
        accepted.group_by(_KEYS)
        .agg(
            pl.col("flows").sum(),
            pl.col("client_label").drop_nulls().min(),
            pl.col("server_label").drop_nulls().min(),
            pl.col("client_addrs")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
            pl.col("server_addrs")
            .list.explode(keep_nulls=False, empty_as_null=False)
            .unique()
            .sort(),
        )
        .sort(["flows", *_KEYS], descending=[True, *([False] * len(_KEYS))])
        .head(limit)
    )
    servers: dict[str, list[object]] = {name: [] for name in SERVER_KEYS.names}
    clients: dict[str, list[object]] = {name: [] for name in CLIENT_KEYS.names}
    for i, row in enumerate(top.iter_rows(named=True)):
        vantage = (
            row["server_id"]
            if row["server_kind"] == "eni"
            else row["client_id"]
            if row["client_kind"] == "eni"
            else None
        )
        for address in row["server_addrs"]:
            for name, value in zip(
                SERVER_KEYS.names,
                (i, address, row["protocol"], row["server_port"], vantage),
                strict=True,
            ):
                servers[name].append(value)
        clients["conversation"] += [i] * len(row["client_addrs"])
        clients["address"] += list(row["client_addrs"])
    con.register("zt_timeline_servers", pa.table(servers, schema=SERVER_KEYS))
    con.register("zt_timeline_clients", pa.table(clients, schema=CLIENT_KEYS))
    try:
        rows = con.execute(HOURLY_RECORDS.format(reduced=identifier(reduced))).fetchall()
    finally:
        con.unregister("zt_timeline_servers")
        con.unregister("zt_timeline_clients")
    by_conversation: dict[int, list[tuple[datetime, int, int]]] = {}
    for conversation, hour, records, size in rows:
        moment = datetime.fromtimestamp(int(hour), tz=UTC)
        by_conversation.setdefault(int(conversation), []).append((moment, int(records), int(size)))
    return tuple(
        ConversationHours(
            client_kind=row["client_kind"],
            client_id=row["client_id"],
            client_label=row["client_label"],
            server_kind=row["server_kind"],
            server_id=row["server_id"],
            server_label=row["server_label"],
            protocol=int(row["protocol"]),
            server_port=int(row["server_port"]),
            flows=int(row["flows"]),
            hours=tuple(by_conversation.get(i, ())),
        )
        for i, row in enumerate(top.iter_rows(named=True))
    )


# --------------------------------------------------------------------------- the view

BAR_HEIGHT = 32  # the sparkline's height in its own units (one unit wide per hour)


@dataclass(frozen=True)
class TimelineView:
    """One conversation's hours as a bar sparkline (SVG path data, numbers only)."""

    client: Ref
    server: Ref
    port: str
    flows: int
    records: int
    peak: int  # records in the busiest hour
    peak_hour: str
    active_hours: int
    hours: int  # the width: hours from the first to the last of the window
    bars: str  # SVG path: one bar per hour with records
    days: str  # SVG path: a tick at every midnight
    start: str  # "2026-11-16 00:00 UTC"
    end: str


def _window(
    timelines: tuple[ConversationHours, ...], start: datetime | None, end: datetime | None
) -> tuple[int, int]:
    moments = [h[0] for t in timelines for h in t.hours]
    first = start or min(moments)
    last = end or (max(moments) + timedelta(hours=1))
    low = int(first.timestamp()) // HOUR * HOUR
    high = -(-int(last.timestamp()) // HOUR) * HOUR
    return low, max(high, low + HOUR)


def timeline_views(
    timelines: tuple[ConversationHours, ...],
    names: Names,
    start: datetime | None,
    end: datetime | None,
) -> tuple[TimelineView, ...]:
    """Sparklines over the window (``start`` to ``end``, or the hours with records)."""
    if not any(t.hours for t in timelines):
        return ()
    low, high = _window(timelines, start, end)
    width = (high - low) // HOUR
    ticks = "".join(f"M{d},0V{BAR_HEIGHT}" for d in range(24 - (low // HOUR) % 24, width, 24))
    out = []
    for t in timelines:
        peak = max((records for _, records, _ in t.hours), default=0)
        bars = []
        for moment, records, _ in t.hours:
            x = (int(moment.timestamp()) - low) // HOUR
            if 0 <= x < width and peak:
                h = max(round(records / peak * BAR_HEIGHT, 1), 0.5)
                bars.append(f"M{x},{BAR_HEIGHT}v-{h:g}h1v{h:g}z")
        busiest = max(t.hours, key=lambda h: (h[1], -h[0].timestamp()), default=None)
        out.append(
            TimelineView(
                client=names.side(t.client_kind, t.client_id, t.client_label),
                server=names.side(t.server_kind, t.server_id, t.server_label),
                port=conversation_label(t.protocol, t.server_port),
                flows=t.flows,
                records=sum(records for _, records, _ in t.hours),
                peak=peak,
                peak_hour=utc(busiest[0]) if busiest else "",
                active_hours=len(t.hours),
                hours=width,
                bars="".join(bars),
                days=ticks,
                start=utc(datetime.fromtimestamp(low, tz=UTC)),
                end=utc(datetime.fromtimestamp(high, tz=UTC)),
            )
        )
    return tuple(out)
