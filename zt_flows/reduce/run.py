"""``reduce_flow_logs``: each UTC day of flow logs reduced once into a partial, kept in a state.

1. List the source (no download) and give every object the UTC days its key says its
   records can start in (the window of the run, and an hour of slack, included).
2. A day lying wholly inside the window whose manifest in the state names exactly the
   objects that cover it now is reused. Every other day is reduced: the objects of those
   days are read once (``read_flow_logs``), and each day's partial is the reduce of the
   records that *start* in it, so that every record counts in exactly one day.
3. Days cut by the window (``--since 30d`` starts mid-day) are reduced for this run only
   and never stored: their partial depends on the window, not only on the objects.

The union of the days' partials is, row for row, the reduce of the whole window in one
scan (its rows are per hour, and an hour lies in one day): everything after it gives
byte-identical results whether the days were reused or not.
"""

from __future__ import annotations

import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.errors import UsageError
from zt_flows.inventory.consistency import FlowOrigin
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.reduce.sql import (
    PARTIAL_SCHEMA,
    reduce_digest,
    render_partial,
    render_summary,
    service_bits,
)
from zt_flows.reduce.state import (
    DayRecord,
    StateStore,
    day_record,
    read_day,
    source_digest,
    write_day,
)
from zt_flows.settings import Settings, TimeWindow
from zt_flows.sources import FlowLogObject, FlowLogs, IngestSummary, VersionCount, read_flow_logs
from zt_flows.sources.candidates import Candidate, list_local
from zt_flows.sources.flowlogs import flow_log_errors
from zt_flows.sources.model import epoch_to_datetime
from zt_flows.sources.sql import identifier, string_literal

if TYPE_CHECKING:
    import boto3

DAY = 86400
# Records end after the window starts; they may start this much before it.
SLACK = 3600
COPY_PARTIAL = "COPY ({select}) TO {path} (FORMAT parquet, COMPRESSION zstd)"
COUNT_PARTIAL = "SELECT count(*) FROM read_parquet({path})"
EMPTY_VIEW = "CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {view} WHERE false"


@dataclass(frozen=True)
class Reduction:
    """The days of a window, as partials; what was reduced now and what was reused."""

    days: tuple[date, ...]
    reduced: tuple[date, ...]
    reused: tuple[date, ...]
    partials: tuple[Path, ...]  # local Parquet files, one per day
    summary: IngestSummary
    # Every (interface, account, VPC) the records of the window name, with their count.
    origins: tuple[FlowOrigin, ...]
    flows: FlowLogs  # the objects of the window; views over those read in this run
    state: str


def _epoch(moment: datetime) -> int:
    return math.ceil(moment.timestamp())


def _day(epoch: int) -> date:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)).date()


def _day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _identity(candidate: Candidate) -> str:
    if candidate.etag:
        return f"etag={candidate.etag}"
    return f"size={candidate.size};mtime_ns={candidate.mtime_ns}"


def kept_in_partials(source: str | Path) -> bool:
    """Whether ``source``'s days can be kept as partials: objects with keys and ETags (S3)
    or files (local). A CloudWatch Logs stream grows while it is read, and its events are
    fetched for the window, not as objects a manifest could name."""
    return not str(source).startswith("cwlogs://")


def list_candidates(
    source: str | Path,
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> list[Candidate]:
    """The flow-log objects under ``source`` that may hold records of the window (listed,
    never downloaded)."""
    text = str(source)
    if text.startswith("s3://"):
        from zt_flows.sources import s3

        workers = max(1, settings.sources.download_workers)
        _, _, found = s3.list_s3_source(
            text, settings, session=session, workers=workers, progress=progress
        )
    else:
        found = list_local(Path(source), progress)
    return found


def plan_days(
    candidates: list[Candidate], window: TimeWindow
) -> dict[date, list[Candidate]] | None:
    """The UTC days records of the window can start in, with the objects that may hold
    them; None when an object's key tells no time (then days cannot be planned)."""
    since = _epoch(window.since) - SLACK if window.since is not None else None
    until = _epoch(window.until) if window.until is not None else None
    days: dict[date, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        lo, hi = candidate.info.time_bounds()
        if lo is None or hi is None:
            return None
        start, stop = _epoch(lo), _epoch(hi)
        if since is not None:
            start = max(start, since)
        if until is not None:
            stop = min(stop, until)
        if start >= stop:
            continue
        day = _day(start)
        while _day_start(day) < stop:
            days[day].append(candidate)
            day += timedelta(days=1)
    return dict(sorted(days.items()))


def _whole(day: date, window: TimeWindow) -> bool:
    start = _day_start(day)
    if window.since is not None and _epoch(window.since) > start:
        return False
    return not (window.until is not None and _epoch(window.until) < start + DAY)


def reduce_flow_logs(
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    state: StateStore,
    scratch: Path,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Reduction:
    """Reduce the days of ``settings.window`` that ``state`` does not hold yet; see the
    module docstring. ``scratch`` receives partials that are not stored (and S3 copies)."""
    text = str(source)
    if not kept_in_partials(text):
        raise UsageError(
            f"{text}: daily partials are kept for flow logs in S3 or in local files;"
            " CloudWatch Logs streams are read in one scan (--state off)"
        )
    window = settings.window
    conv = settings.conversations
    candidates = list_candidates(source, settings, session=session, progress=progress)
    selected = [c for c in candidates if c.info.may_overlap(window)]
    prefix = f"{source_digest(text)}-{reduce_digest(conv.service_ports, conv.ephemeral_port_min)}"
    planned = plan_days(selected, window)
    scratch.mkdir(parents=True, exist_ok=True)
    records: dict[date, DayRecord] = {}
    partials: dict[date, Path] = {}
    todo: list[date] = []
    if planned is not None:
        for day, objects in planned.items():
            identity = tuple(sorted((c.uri, _identity(c)) for c in objects))
            stored = read_day(state, prefix, day) if _whole(day, window) else None
            if stored is not None and stored.objects == identity:
                records[day] = stored
                partials[day] = state.get_file(
                    f"{prefix}/day={day.isoformat()}/partial.parquet",
                    scratch / f"reused-{day.isoformat()}.parquet",
                )
            else:
                todo.append(day)
    flows: FlowLogs | None = None
    if todo or planned is None:
        narrowed = window
        if planned is not None:
            first, last = min(todo), max(todo)
            since = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(
                seconds=SLACK
            )
            until = datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
            since = max(since, window.since) if window.since else since
            until = min(until, window.until) if window.until else until
            # Only a day cut by --since left to reduce (the days after it reused): its
            # records start before the window and end in it. A read selects records with
            # end >= since and start < until, so a second past since reads them, and the
            # day's own bounds (_reduce_day) keep the records of the next second out.
            narrowed = TimeWindow(since=since, until=max(until, since + timedelta(seconds=1)))
        flows = read_flow_logs(
            source, replace(settings, window=narrowed), con, session=session, progress=progress
        )
        if planned is None:
            todo = _days_in(con, flows)
        with progress.task(f"reducing {len(todo)} day(s)", total=len(todo)) as task:
            for day in todo:
                objects = planned.get(day, []) if planned is not None else []
                identity = tuple(sorted((c.uri, _identity(c)) for c in objects))
                # A day with input --on-error skip left out is reduced for this run only: read
                # again next time, its incomplete evidence is reported again.
                incomplete = {s.source for s in flows.skipped} & {uri for uri, _ in identity}
                stored_here = planned is not None and _whole(day, window) and not incomplete
                path = scratch / f"partial-{day.isoformat()}.parquet"
                record = _reduce_day(con, flows, settings, day, identity, path)
                if stored_here:
                    write_day(state, prefix, record, path)
                records[day], partials[day] = record, path
                task.advance()
    days = tuple(sorted(records))
    summary = _summary(text, candidates, selected, flows, records, window)
    view = flows if flows is not None else _no_records(con, selected, text, window, candidates)
    return Reduction(
        days=days,
        reduced=tuple(sorted(todo)),
        reused=tuple(d for d in days if d not in todo),
        partials=tuple(partials[d] for d in days),
        summary=summary,
        origins=merge_origins(records.values()),
        flows=replace(view, objects=_objects(selected, view)),
        state=state.describe(),
    )


def _days_in(con: duckdb.DuckDBPyConnection, flows: FlowLogs) -> list[date]:
    query = f"SELECT DISTINCT start // {DAY} FROM {identifier(flows.all_view)} ORDER BY 1"  # noqa: S608
    with flow_log_errors(flows):
        rows = con.execute(query).fetchall()
    return [_day(int(r[0]) * DAY) for r in rows if r[0] is not None]


def _reduce_day(
    con: duckdb.DuckDBPyConnection,
    flows: FlowLogs,
    settings: Settings,
    day: date,
    identity: tuple[tuple[str, str], ...],
    path: Path,
) -> DayRecord:
    start = _day_start(day)
    where = f" AND start >= {int(start)} AND start < {int(start + DAY)}"
    conv = settings.conversations
    select = render_partial(
        "duckdb",
        identifier(flows.view),
        service_ports=conv.service_ports,
        ephemeral_min=conv.ephemeral_port_min,
        where=where,
    )
    tmp = path.with_name(f".{path.name}.tmp")
    with flow_log_errors(flows):
        con.execute(
            COPY_PARTIAL.format(select=select, path=string_literal(tmp)),
            {"service_bits": service_bits(conv.service_ports)},
        )
        summary = con.execute(
            render_summary("duckdb", identifier(flows.all_view), where)
        ).fetchall()
    tmp.replace(path)
    ((rows,),) = con.execute(COUNT_PARTIAL.format(path=string_literal(path))).fetchall()
    return day_record(day, identity, summary, int(rows))


def merge_origins(records: Iterable[DayRecord]) -> tuple[FlowOrigin, ...]:
    """The days' origins as one scan of the window would count them."""
    counts: dict[tuple[str | None, str | None, str | None], int] = defaultdict(int)
    for record in records:
        for interface, account, vpc, n in record.origins:
            counts[(interface, account, vpc)] += n
    return tuple(
        FlowOrigin(interface_id=i, account_id=a, vpc_id=v, records=n)
        for (i, a, v), n in sorted(
            counts.items(),
            key=lambda item: tuple((k is None, k or "") for k in item[0]),
        )
    )


def _summary(
    source: str,
    candidates: list[Candidate],
    selected: list[Candidate],
    flows: FlowLogs | None,
    records: dict[date, DayRecord],
    window: TimeWindow,
) -> IngestSummary:
    """The ingest summary of the window from the days' numbers: what one scan would say."""
    by_version: dict[int | None, int] = defaultdict(int)
    totals = [0, 0, 0, 0]
    starts: list[int] = []
    ends: list[int] = []
    for record in records.values():
        for version, total, flow, nodata, skipdata, first, last in record.versions:
            by_version[version] += total
            for i, n in enumerate((total, flow, nodata, skipdata)):
                totals[i] += n
            if first is not None:
                starts.append(first)
            if last is not None:
                ends.append(last)
    read = {o.uri: o for o in flows.objects} if flows is not None else {}
    return IngestSummary(
        source=source,
        listed=len(candidates),
        pruned=len(candidates) - len(selected),
        objects=len(selected),
        parquet_objects=sum(1 for c in selected if c.format == "parquet"),
        text_objects=sum(1 for c in selected if c.format == "text"),
        bytes=sum(c.size for c in selected),
        downloaded=sum(1 for o in read.values() if o.fetched == "downloaded"),
        downloaded_bytes=sum(o.size for o in read.values() if o.fetched == "downloaded"),
        cached=sum(1 for c in selected if c.uri not in read and c.path is None)
        + sum(1 for o in read.values() if o.fetched == "cached"),
        local=sum(1 for c in selected if c.path is not None),
        records=totals[0],
        flows=totals[1],
        nodata=totals[2],
        skipdata=totals[3],
        versions=tuple(
            VersionCount(v, by_version[v])
            for v in sorted(by_version, key=lambda v: (v is None, v or 0))
        ),
        first_start=epoch_to_datetime(min(starts)) if starts else None,
        last_end=epoch_to_datetime(max(ends)) if ends else None,
        skipped=flows.skipped if flows is not None else (),
        window_since=window.since,
        window_until=window.until,
        # Of the objects read in this run (those of reused days are not opened).
        transit_gateway=flows.transit_gateway if flows is not None else (),
        unknown_fields=flows.unknown_fields if flows is not None else (),
    )


def _objects(selected: list[Candidate], flows: FlowLogs) -> tuple[FlowLogObject, ...]:
    """Every object of the window: as read in this run, or as listed (reused days)."""
    read = {o.uri: o for o in flows.objects}
    out = []
    for candidate in selected:
        found = read.get(candidate.uri)
        if found is not None:
            out.append(found)
            continue
        info = candidate.info
        out.append(
            FlowLogObject(
                uri=candidate.uri,
                local_path=candidate.path or Path(candidate.key),
                format=candidate.format,
                size=candidate.size,
                layout=info.layout,
                key_time=info.key_time,
                fetched="local" if candidate.path is not None else "cached",
                fields=(),
                etag=candidate.etag,
                account_id=info.account_id,
                region=info.region,
                flow_log_id=info.flow_log_id,
            )
        )
    return tuple(sorted(out, key=lambda o: o.uri))


def _no_records(
    con: duckdb.DuckDBPyConnection,
    selected: list[Candidate],
    source: str,
    window: TimeWindow,
    candidates: list[Candidate],
) -> FlowLogs:
    """Views with the canonical columns and no rows: every day came from the state."""
    from zt_flows.schema import FIELDS

    columns = ", ".join(f"CAST(NULL AS {f.duckdb_type}) AS {identifier(f.name)}" for f in FIELDS)
    name = f"zt_state_{abs(hash((source, len(selected)))) % 10**12}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW {identifier(name)} AS SELECT {columns} WHERE false")
    with contextlib.suppress(duckdb.Error):
        con.execute(EMPTY_VIEW.format(name=identifier(name + "_all"), view=identifier(name)))
    return FlowLogs(
        view=name,
        all_view=name + "_all",
        objects=(),
        source=source,
        listed=len(candidates),
        pruned=len(candidates) - len(selected),
        window=window,
    )


def load_partials(con: duckdb.DuckDBPyConnection, partials: tuple[Path, ...]) -> None:
    """``zt_reduced`` from the days' partials (the columns and types of PARTIAL_SCHEMA)."""
    columns = ", ".join(
        f"CAST({identifier(f.name)} AS {_DUCK[str(f.type)]}) AS {identifier(f.name)}"
        for f in PARTIAL_SCHEMA
    )
    if partials:
        files = "[" + ", ".join(string_literal(p) for p in partials) + "]"
        relation = f"read_parquet({files})"
    else:
        relation = (
            "(SELECT "
            + ", ".join(
                f"CAST(NULL AS {_DUCK[str(f.type)]}) AS {identifier(f.name)}"
                for f in PARTIAL_SCHEMA
            )
            + " WHERE false)"
        )
    con.execute(f"CREATE OR REPLACE TEMP TABLE zt_reduced AS SELECT {columns} FROM {relation}")  # noqa: S608


_DUCK = {
    "string": "VARCHAR",
    "int32": "INTEGER",
    "int64": "BIGINT",
    "int8": "TINYINT",
    "bool": "BOOLEAN",
}
