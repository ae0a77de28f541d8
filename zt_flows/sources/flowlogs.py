"""The result of reading flow logs: views on the caller's connection, and what they cost.

``FlowLogs`` holds the names of two TEMP VIEWs, never the records: every consumer
(``summarize``, ``write_records``, later stages) runs SQL over them, and DuckDB streams
the Parquet files underneath. Errors DuckDB raises while scanning (a corrupt data page
the footer check could not see) are mapped back to the object by :func:`flow_log_errors`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from zt_flows.atomic import atomic_path
from zt_flows.errors import OutputError, excerpt
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.settings import TimeWindow
from zt_flows.sources.model import (
    FlowLogObject,
    IngestSummary,
    SkippedInput,
    TransitGatewayObject,
    UnknownField,
    VersionCount,
    epoch_to_datetime,
)
from zt_flows.sources.scanerrors import scan_errors
from zt_flows.sources.sql import identifier, string_literal

# One scan gives every number of the summary; {relation} is a quoted view name or a
# read_parquet() call rendered by zt_flows.sources.sql.
SUMMARY_SQL = """
SELECT version,
       count(*) AS records,
       count(*) FILTER (WHERE log_status = 'OK' OR log_status IS NULL) AS flows,
       count(*) FILTER (WHERE log_status = 'NODATA') AS nodata,
       count(*) FILTER (WHERE log_status = 'SKIPDATA') AS skipdata,
       min("start") AS first_start,
       max("end") AS last_end
FROM {relation}
GROUP BY version
ORDER BY version NULLS LAST
"""

RELATION_SQL = "SELECT * FROM {view}"

# Row order is kept for the copy so that the same input gives a byte-identical file.
COPY_SQL = "COPY (SELECT * FROM {view}) TO {path} (FORMAT parquet, COMPRESSION zstd)"


@dataclass(frozen=True)
class FlowLogs:
    """Flow records read from a source, as views on a DuckDB connection.

    ``view``: the canonical columns (``zt_flows.schema.FIELDS`` order and types) of the
    records that are flows (``log_status`` OK or missing) and overlap the window.
    ``all_view``: the same with NODATA and SKIPDATA records (coverage).
    """

    view: str
    all_view: str
    objects: tuple[FlowLogObject, ...]
    skipped: tuple[SkippedInput, ...] = ()
    source: str = ""
    listed: int = 0  # flow-log objects found under the source
    pruned: int = 0  # of those, never read: their keys put them outside the window
    window: TimeWindow = field(default_factory=TimeWindow)
    # Transit Gateway flow logs (or records) found and not read as VPC flows.
    transit_gateway: tuple[TransitGatewayObject, ...] = ()
    # Header fields / Parquet columns ztflows does not know, and how many objects had each.
    unknown_fields: tuple[UnknownField, ...] = ()

    @property
    def incomplete(self) -> bool:
        """Whether ``--on-error skip`` left anything out (the evidence is incomplete)."""
        return bool(self.skipped)

    def scanning(self) -> AbstractContextManager[None]:
        """Map errors of a query over these records to the object that caused them
        (see :func:`flow_log_errors`)."""
        return flow_log_errors(self)

    def relation(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """The flow records as a relation (lazy; nothing is read until it is consumed)."""
        return con.sql(RELATION_SQL.format(view=identifier(self.view)))

    def summarize(self, con: duckdb.DuckDBPyConnection) -> IngestSummary:
        """Counts, versions and time span: one scan of ``all_view``."""
        with flow_log_errors(self):
            rows = con.execute(SUMMARY_SQL.format(relation=identifier(self.all_view))).fetchall()
        return self._summary(rows, None)

    def _summary(self, rows: list[tuple[object, ...]], output: Path | None) -> IngestSummary:
        versions = tuple(VersionCount(_opt_int(r[0]), _int(r[1])) for r in rows)
        starts = [_int(r[5]) for r in rows if r[5] is not None]
        ends = [_int(r[6]) for r in rows if r[6] is not None]
        objects = self.objects
        return IngestSummary(
            source=self.source,
            listed=self.listed,
            pruned=self.pruned,
            objects=len(objects),
            parquet_objects=sum(1 for o in objects if o.format == "parquet"),
            text_objects=sum(1 for o in objects if o.format == "text"),
            bytes=sum(o.size for o in objects),
            downloaded=sum(1 for o in objects if o.fetched == "downloaded"),
            downloaded_bytes=sum(o.size for o in objects if o.fetched == "downloaded"),
            cached=sum(1 for o in objects if o.fetched == "cached"),
            local=sum(1 for o in objects if o.fetched == "local"),
            records=sum(_int(r[1]) for r in rows),
            flows=sum(_int(r[2]) for r in rows),
            nodata=sum(_int(r[3]) for r in rows),
            skipdata=sum(_int(r[4]) for r in rows),
            versions=versions,
            first_start=epoch_to_datetime(min(starts)) if starts else None,
            last_end=epoch_to_datetime(max(ends)) if ends else None,
            skipped=self.skipped,
            window_since=self.window.since,
            window_until=self.window.until,
            output=output,
            transit_gateway=self.transit_gateway,
            unknown_fields=self.unknown_fields,
        )


def write_records(
    flow_logs: FlowLogs,
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    progress: Progress = NULL_PROGRESS,
) -> IngestSummary:
    """Write every record of ``all_view`` (NODATA/SKIPDATA included) to ``out`` as canonical
    Parquet, atomically, and summarize what was written.

    The file is itself a valid source for :func:`read_flow_logs`.
    """
    out = Path(out)
    if out.is_dir():
        raise OutputError(
            f"--out {out} is a folder", hint="pass a file name such as records.parquet"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out.parent}: {exc.strerror}") from None
    # fetchall: a result left half-read blocks the connection's con.sql() (DuckDB 2).
    (previous,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    con.execute("SET preserve_insertion_order = true")
    try:
        with (
            progress.task(f"writing {out.name}"),
            flow_log_errors(flow_logs),
            atomic_path(out) as tmp,
        ):
            con.execute(
                COPY_SQL.format(view=identifier(flow_logs.all_view), path=string_literal(tmp))
            )
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror}") from None
    except duckdb.IOException as exc:
        raise OutputError(f"cannot write {out}: {excerpt(exc, 120)}") from None
    finally:
        keep = bool(previous[0]) if previous else False
        con.execute(f"SET preserve_insertion_order = {'true' if keep else 'false'}")
    written = f"read_parquet({string_literal(out)}, hive_partitioning = false)"
    rows = con.execute(SUMMARY_SQL.format(relation=written)).fetchall()
    return flow_logs._summary(rows, out)


def flow_log_errors(flow_logs: FlowLogs) -> AbstractContextManager[None]:
    """Map DuckDB errors met while scanning ``flow_logs`` to the object that caused them.

    Wrap queries over ``flow_logs.view`` / ``all_view`` in it::

        with flow_log_errors(flows):
            con.execute("SELECT ... FROM " + flows.view)

    A DuckDB error that comes from one of the objects' files becomes a
    :class:`FlowLogFormatError` naming the object (``s3://bucket/key`` or its path); an
    interrupted query becomes ``KeyboardInterrupt``; other errors pass through unchanged.
    """
    return scan_errors({str(o.local_path): o.uri for o in flow_logs.objects})


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _opt_int(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) else None
