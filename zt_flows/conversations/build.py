"""Build the edge table: who initiates what, to which port, from canonical flow records.

The heavy work is one DuckDB scan over the flow records (out of core), the reduce of
``zt_flows/reduce/sql/partial.sql`` (the text daily partials and the Spark engine run too):
it orients every record its own flags (SYN / SYN-ACK) or a strong port signal (a service
port against an ephemeral one) orient, and drops the client's ephemeral port before
grouping, so the aggregation has a few groups per conversation instead of one per
connection. The rest keep both ports (few: a long-lived connection keeps its ports), and
``orient.sql`` decides them on the small reduced table from listener evidence learnt
across the whole data set, then port heuristics, then fan-in.

Then the distinct addresses are resolved to endpoints through the inventory's
time-aware resolver (in Python, once per distinct address and hour), and
``edges.sql`` aggregates to one row per (day, client, server, protocol, server port).

Beside the edges, ``evidence.sql`` keeps what a plan is replayed against: every accepted
record group of the scan, read each way its own evidence allows, whatever the orientation
concluded (:data:`EVIDENCE_SCHEMA`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import duckdb
import polars as pl
import pyarrow as pa

from zt_flows.conversations.classes import register_segments
from zt_flows.conversations.endpoints import register_endpoints, register_forwarding
from zt_flows.conversations.queries import run_script
from zt_flows.inventory.model import Inventory
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.reduce.sql import render_partial, service_bits
from zt_flows.settings import ConversationSettings


class FlowSource(Protocol):
    """Anything that names a DuckDB view of canonical flow records (``sources.FlowLogs``)."""

    @property
    def view(self) -> str: ...


# The table of the reduce's rows (PARTIAL_SCHEMA, folded): what build_conversations leaves
# on the connection for measures that need the scan but not the edges (rules/nat_services).
REDUCED_TABLE = "zt_reduced"
COUNT_INPUT = "SELECT count(*) FROM zt_conv_input"
METHOD_COUNTS = """
WITH totals AS (
    SELECT
        sum(by_fan_in) FILTER (WHERE is_request) AS fan_in_requests,
        sum(by_fan_in) AS fan_in,
        sum(by_listener) FILTER (WHERE is_request) AS listener_requests,
        sum(by_listener) AS listener,
        sum(by_ports) FILTER (WHERE is_request) AS port_heuristic_requests,
        sum(by_ports) AS port_heuristic,
        sum(by_flags) FILTER (WHERE is_request) AS tcp_flags_requests,
        sum(by_flags) AS tcp_flags
    FROM zt_oriented
)
SELECT * FROM (
    SELECT 'fan_in' AS method, fan_in_requests AS requests, fan_in AS records FROM totals
    UNION ALL SELECT 'listener', listener_requests, listener FROM totals
    UNION ALL SELECT 'port_heuristic', port_heuristic_requests, port_heuristic FROM totals
    UNION ALL SELECT 'tcp_flags', tcp_flags_requests, tcp_flags FROM totals
)
WHERE records > 0
ORDER BY method
"""
EDGES_ORDERED = """
SELECT * FROM zt_edges
ORDER BY day, client_kind, client_id, server_kind, server_id, protocol, server_port
"""
# In a total order: with preserve_insertion_order off, a scan of a table returns its rows
# in no fixed order once it holds more than one row group, and outputs are deterministic.
EVIDENCE_ROWS = """
SELECT * FROM zt_evidence
ORDER BY row_id, reading, client_id, server_id, client_a, server_a, need, vantage,
    client_kind, client_vpc_id, client_role, client_sgs, client_label,
    server_kind, server_vpc_id, server_role, server_sgs, server_label,
    protocol, server_port, interface_id, records, first_seen, last_seen
"""
EDGE_TOTALS = """
SELECT
    count(*) AS edges,
    count(*) FILTER (WHERE flows_by_heuristic > 0) AS heuristic_edges,
    coalesce(sum(flows_by_heuristic), 0) AS heuristic_flows,
    coalesce(sum(flows), 0) AS flows,
    count(*) FILTER (WHERE accepted > 0) AS accepted_edges,
    count(*) FILTER (WHERE accepted = 0) AS rejected_only_edges
FROM zt_edges
"""


@dataclass(frozen=True)
class ConversationReport:
    """How the stage decided what it decided; printed by the CLI and kept in reports."""

    input_records: int  # flow records (NODATA/SKIPDATA already excluded)
    used_records: int  # after dropping duplicate NAT legs and unusable forwarded records
    records_by_method: tuple[tuple[str, int], ...]  # all records (requests and responses)
    requests_by_method: tuple[tuple[str, int], ...]
    edges: int
    accepted_edges: int
    rejected_only_edges: int
    heuristic_edges: int  # edges with at least one flow oriented by ports or fan-in
    heuristic_flows: int
    flows: int
    distinct_addresses: int
    seconds: float

    @property
    def dropped_records(self) -> int:
        return self.input_records - self.used_records


@dataclass(frozen=True)
class Conversations:
    """The edge table (a polars frame; small after aggregation) and the stage report."""

    edges: pl.DataFrame
    report: ConversationReport
    notes: tuple[str, ...] = field(default=())
    # Accepted record groups and their readings (EVIDENCE_SCHEMA): what plans are replayed
    # against. None when the conversations came from an edge table, not from records.
    evidence: pl.DataFrame | None = None


def build_conversations(
    flows: FlowSource,
    inventory: Inventory,
    settings: ConversationSettings,
    con: duckdb.DuckDBPyConnection,
    *,
    progress: Progress = NULL_PROGRESS,
) -> Conversations:
    """Orient, resolve and aggregate flow records into conversation edges."""
    started = time.perf_counter()
    con.view(flows.view).create_view("zt_conv_input", replace=True)
    run_script(con, "macros.sql")
    with progress.task("reducing the records"):
        reduce_records(con, "zt_conv_input", settings)
    ((records,),) = con.execute(COUNT_INPUT).fetchall()
    return conversations_from_reduced(
        con, inventory, settings, input_records=int(records), started=started, progress=progress
    )


def conversations_from_reduced(
    con: duckdb.DuckDBPyConnection,
    inventory: Inventory,
    settings: ConversationSettings,
    *,
    input_records: int,
    started: float | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Conversations:
    """Everything after the scan, from ``zt_reduced`` (the scan's result, or the union of
    daily partials, ``zt_flows.reduce``): fold, orient, resolve, aggregate, evidence."""
    started = time.perf_counter() if started is None else started
    run_script(con, "macros.sql")
    register_forwarding(con, inventory)
    params = {
        "service_bits": service_bits(settings.service_ports),
        "ephemeral_min": settings.ephemeral_port_min,
    }
    with progress.task("conversations", total=4) as task:
        run_script(con, "listeners.sql")
        fold_classes(con, inventory, settings)
        run_script(con, "orient.sql", params)
        task.advance()
        addresses = register_endpoints(con, inventory, settings)
        task.advance()
        run_script(con, "edges.sql")
        # fetchall, not fetchone: DuckDB 2 keeps a result that was not fetched to its end
        # open, and the connection refuses con.sql() until it is closed.
        methods = con.execute(METHOD_COUNTS).fetchall()
        drop_tables(con, ORIENTED_TABLES)
        task.advance()
        run_script(con, "evidence.sql", params)
        drop_tables(con, READINGS_TABLES)
        task.advance()

    edges = pl.from_arrow(con.sql(EDGES_ORDERED).to_arrow_table())
    assert isinstance(edges, pl.DataFrame)
    evidence = fetch_evidence(con)
    (totals,) = con.execute(EDGE_TOTALS).fetchall()
    drop_tables(con, RESULT_TABLES)
    report = _report(methods, totals, input_records, addresses, time.perf_counter() - started)
    return Conversations(edges=edges, report=report, evidence=evidence)


# The stage's intermediate tables, dropped as soon as what reads them has run: at 10M estate
# records they hold millions of rows each, and DuckDB would keep them (or spill them) until
# the connection closes, beside everything the later stages build in Python. zt_reduced
# stays: later measures read it (REDUCED_TABLE).
FOLD_TABLES = ("zt_fold_candidates", "zt_fold")
UNFOLDED_TABLES = ("zt_folded",)  # nothing folded: it is a copy of zt_reduced
ORIENTED_TABLES = ("zt_localized", "zt_oriented")
READINGS_TABLES = ("zt_readings",)
RESULT_TABLES = ("zt_evidence", "zt_edges")


# Rows per batch of the evidence fetched from DuckDB.
_FETCH_ROWS = 1 << 20


def fetch_evidence(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The evidence table as a polars frame, fetched batch by batch: the whole table at
    once as Arrow, then cast, then converted held three copies of millions of rows (at
    50M estate records the stage peaked at 10.7 GB against DuckDB's 4 GB limit)."""
    reader = con.sql(EVIDENCE_ROWS).to_arrow_reader(_FETCH_ROWS)
    frames = []
    for batch in reader:
        frame = pl.from_arrow(batch.cast(EVIDENCE_SCHEMA))
        assert isinstance(frame, pl.DataFrame)
        frames.append(frame)
    if not frames:
        empty = pl.from_arrow(EVIDENCE_SCHEMA.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return empty
    return pl.concat(frames, rechunk=False)


def drop_tables(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    """Drop the stage's own temporary tables ``names`` (constants of this module)."""
    for name in names:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def reduce_records(
    con: duckdb.DuckDBPyConnection, relation: str, settings: ConversationSettings
) -> None:
    """``zt_reduced``: the one scan over the canonical records of ``relation``, the reduce
    that daily partials and the Spark engine run too (``zt_flows/reduce/sql/partial.sql``)."""
    select = render_partial(
        "duckdb",
        relation,
        service_ports=settings.service_ports,
        ephemeral_min=settings.ephemeral_port_min,
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE zt_reduced AS {select}",
        {"service_bits": service_bits(settings.service_ports)},
    )


FOLDED_ROWS = "SELECT count(*) FROM zt_fold"
NO_CLASSES = (
    "ALTER TABLE zt_reduced ADD COLUMN src_class VARCHAR",
    "ALTER TABLE zt_reduced ADD COLUMN dst_class VARCHAR",
)
SWAP_FOLDED = ("DROP TABLE zt_reduced", "ALTER TABLE zt_folded RENAME TO zt_reduced")


def fold_classes(
    con: duckdb.DuckDBPyConnection, inventory: Inventory, settings: ConversationSettings
) -> int:
    """Fold internet peers of ``zt_reduced`` into their classes (``fold.sql``); returns how
    many addresses folded. ``zt_reduced`` gains ``src_class`` / ``dst_class`` either way."""
    folded = 0
    if settings.fold_threshold is not None:
        register_segments(
            con,
            inventory,
            onprem_cidrs=settings.onprem_cidrs,
            partner_cidrs=settings.partner_cidrs,
            extra=settings.fold_boundaries,
        )
        params = {
            "fold_threshold": settings.fold_threshold,
            "identity_ports": sorted(settings.identity_ports),
        }
        run_script(con, "fold.sql", params)
        ((folded,),) = con.execute(FOLDED_ROWS).fetchall()
        drop_tables(con, FOLD_TABLES)
    if folded:
        for statement in SWAP_FOLDED:
            con.execute(statement)
    else:
        drop_tables(con, UNFOLDED_TABLES)
        for statement in NO_CLASSES:
            con.execute(statement)
    return int(folded)


def _report(
    methods: list[tuple[Any, ...]],
    totals: tuple[Any, ...],
    input_records: int,
    addresses: int,
    seconds: float,
) -> ConversationReport:
    """``methods``: the rows of METHOD_COUNTS; ``totals``: the row of EDGE_TOTALS."""
    used = sum(int(r[2] or 0) for r in methods)
    return ConversationReport(
        input_records=input_records,
        used_records=used,
        records_by_method=tuple((str(m), int(r or 0)) for m, _, r in methods),
        requests_by_method=tuple((str(m), int(q or 0)) for m, q, _ in methods),
        edges=int(totals[0]),
        heuristic_edges=int(totals[1]),
        heuristic_flows=int(totals[2]),
        flows=int(totals[3]),
        accepted_edges=int(totals[4]),
        rejected_only_edges=int(totals[5]),
        distinct_addresses=addresses,
        seconds=round(seconds, 3),
    )


# The edge table's columns, in order (edges.parquet and the frame through the API).
EDGE_SCHEMA = pa.schema(
    [  # type: ignore[arg-type]  # pyarrow-stubs type pa.field() of nested types loosely
        pa.field("day", pa.date32()),
        pa.field("client_kind", pa.string()),
        pa.field("client_id", pa.string()),
        pa.field("client_vpc_id", pa.string()),
        pa.field("client_role", pa.string()),
        pa.field("client_sgs", pa.list_(pa.string())),
        pa.field("client_addrs", pa.list_(pa.string())),
        pa.field("client_label", pa.string()),
        pa.field("server_kind", pa.string()),
        pa.field("server_id", pa.string()),
        pa.field("server_vpc_id", pa.string()),
        pa.field("server_role", pa.string()),
        pa.field("server_sgs", pa.list_(pa.string())),
        pa.field("server_addrs", pa.list_(pa.string())),
        pa.field("server_label", pa.string()),
        pa.field("protocol", pa.int32()),
        pa.field("server_port", pa.int32()),
        pa.field("flows", pa.int64()),
        pa.field("accepted", pa.int64()),
        pa.field("rejected", pa.int64()),
        pa.field("connections", pa.int64()),
        pa.field("packets", pa.int64()),
        pa.field("bytes", pa.int64()),
        pa.field("first_seen", pa.timestamp("us")),
        pa.field("last_seen", pa.timestamp("us")),
        pa.field("initiator", pa.string()),
        pa.field("flows_by_flags", pa.int64()),
        pa.field("flows_by_listener", pa.int64()),
        pa.field("flows_by_heuristic", pa.int64()),
        pa.field("vantage", pa.string()),
    ]
)

# The evidence table's columns (Conversations.evidence): one row per accepted record group,
# reading and resolution. ``need``: 'must' (this reading stays allowed), 'prefer' / 'fallback'
# (the first of the two that today's rules allow stays allowed).
EVIDENCE_SCHEMA = pa.schema(
    [  # type: ignore[arg-type]  # pyarrow-stubs type pa.field() of nested types loosely
        pa.field("row_id", pa.uint64()),
        pa.field("reading", pa.string()),
        pa.field("need", pa.string()),
        pa.field("vantage", pa.string()),
        pa.field("client_kind", pa.string()),
        pa.field("client_id", pa.string()),
        pa.field("client_vpc_id", pa.string()),
        pa.field("client_role", pa.string()),
        pa.field("client_sgs", pa.list_(pa.string())),
        pa.field("client_label", pa.string()),
        pa.field("client_a", pa.string()),
        pa.field("server_kind", pa.string()),
        pa.field("server_id", pa.string()),
        pa.field("server_vpc_id", pa.string()),
        pa.field("server_role", pa.string()),
        pa.field("server_sgs", pa.list_(pa.string())),
        pa.field("server_label", pa.string()),
        pa.field("server_a", pa.string()),
        pa.field("protocol", pa.int32()),
        pa.field("server_port", pa.int32()),
        pa.field("interface_id", pa.string()),
        pa.field("records", pa.int64()),
        pa.field("first_seen", pa.timestamp("us")),
        pa.field("last_seen", pa.timestamp("us")),
    ]
)
