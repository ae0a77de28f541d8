"""``read_flow_logs``: from a source (S3 prefix, folder, file, log group) to views of records.

The steps, each reported through ``progress``:

1. List the source and prune objects whose keys put them outside the window.
2. S3: download what the cache lacks (text objects already converted need nothing; others
   go to the run's staging folder, not the cache); CloudWatch Logs: fetch each log
   stream's events of the window as a text object, into the staging folder too.
3. Convert text objects that have no conversion yet into canonical Parquet (cached).
4. Check the footer and columns of every Parquet object, then its values (one DuckDB
   scan per column set; the verdict is cached per object).
5. Create the views: one ``read_parquet`` per distinct set of columns, cast to the
   canonical schema, ``UNION ALL``, filtered exactly to the window; objects with records
   that break a value rule get a filter that leaves them out (``--on-error skip``).

Nothing is read into Python: the views are DuckDB SQL over Parquet files on disk.

Cache entries are shared with other runs and never change once complete
(``zt_flows.sources.cache``). An entry whose size is not the listing's is downloaded again;
a Parquet object read from the cache that turns out unreadable is downloaded again once
before it is reported: a damaged copy is the cache's fault, not the object's.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.errors import FlowLogFormatError, InputError, SourceNotFoundError
from zt_flows.parallel import run_parallel
from zt_flows.progress import NULL_PROGRESS, Progress, Task
from zt_flows.schema import FIELDS
from zt_flows.settings import OnError, Settings, TimeWindow
from zt_flows.sources.cache import (
    cache_key,
    check_cache_dir,
    disk_faults,
    entry_complete,
    entry_path,
    publish_entry,
    remove_stale_parts,
    remove_stale_staging,
    staging_dir,
)
from zt_flows.sources.candidates import Candidate, list_local
from zt_flows.sources.checks import (
    CHECKS_VERSION,
    Verdict,
    check_values,
    keep_condition,
    load_verdict,
    save_verdict,
)
from zt_flows.sources.flowlogs import FlowLogs
from zt_flows.sources.model import (
    Fetch,
    FlowLogObject,
    SkippedInput,
    TransitGatewayObject,
    UnknownField,
)
from zt_flows.sources.parquet import CANONICAL, ParquetColumns, inspect_parquet
from zt_flows.sources.scanerrors import scan_errors
from zt_flows.sources.sql import identifier, integer, string_list
from zt_flows.sources.text import (
    CONVERTER_VERSION,
    Conversion,
    TextFields,
    convert_text,
    load_conversion,
)

if TYPE_CHECKING:
    import boto3

# Views cannot take bound parameters: names, file lists and bounds are rendered by
# zt_flows.sources.sql (quoted identifiers, quoted strings, integers) into these templates.
BRANCH_SQL = (
    "SELECT {columns} FROM read_parquet({files}, hive_partitioning = false, "
    "union_by_name = false, binary_as_string = true){where}"
)
EMPTY_SQL = "SELECT {columns} WHERE false"
ALL_VIEW_SQL = "CREATE TEMP VIEW {name} AS SELECT * FROM ({union}) AS records{where}"
FLOW_VIEW_SQL = (
    "CREATE TEMP VIEW {name} AS SELECT * FROM {all_view} "
    "WHERE log_status = 'OK' OR log_status IS NULL"
)


@dataclass
class _Plan:
    """One selected object on its way to being read."""

    candidate: Candidate
    path: Path  # where its bytes are (or will be) locally
    fetched: Fetch
    staging: Path  # the run's private folder (text downloads, conversions on their way)
    identity: tuple[str, ...] = ()  # what makes the object's cache entries its own
    conversion_target: Path | None = None  # text objects
    conversion: Conversion | None = None
    download: bool = False
    damaged: bool = False  # a cached copy to replace (its size is not the listing's)
    object_error: SkippedInput | None = None  # --on-error skip: the whole object
    fields: TextFields | None = None  # text objects without a header: --fields
    columns: ParquetColumns | None = None  # Parquet objects, once their footer is read
    verdict: Verdict | None = None  # Parquet objects, once their values are checked


@dataclass(frozen=True)
class _Read:
    """An object the views will read, and whether its bad records must be filtered out."""

    obj: FlowLogObject
    columns: ParquetColumns
    filtered: bool
    kept: int  # records it holds that pass every rule (before the window)


def read_flow_logs(
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> FlowLogs:
    """Read flow logs from ``source`` into views on ``con``; see :class:`FlowLogs`.

    ``source`` is ``s3://bucket/prefix``, ``cwlogs://GROUP[/STREAM-PREFIX]`` (a CloudWatch
    Logs log group), a local folder (walked recursively; the AWS key layouts are
    recognised in it as in a bucket) or a single file, in Parquet or gzip / plain text.
    ``session`` is used for AWS (built from ``settings.aws`` when None).
    Bad input raises :class:`~zt_flows.errors.FlowLogFormatError` naming the object and
    line (or row) and column, or with ``settings.sources.on_error == "skip"`` is skipped
    and reported in ``FlowLogs.skipped``. When nothing is left to read because everything
    was skipped, raises :class:`~zt_flows.errors.InputError`. AWS failures raise
    :class:`~zt_flows.errors.AwsError`.
    """
    text = str(source)
    cache_root = Path(settings.sources.cache_dir).expanduser().absolute()
    check_cache_dir(cache_root)
    with disk_faults(cache_root), staging_dir(cache_root) as staging:
        return _read(text, source, settings, con, cache_root, staging, session, progress)


def _read(
    text: str,
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    cache_root: Path,
    staging: Path,
    session: boto3.session.Session | None,
    progress: Progress,
) -> FlowLogs:
    window = settings.window
    workers = max(1, settings.sources.download_workers)
    fields = TextFields(settings.sources.text_fields) if settings.sources.text_fields else None
    remove_stale_staging(cache_root)
    refetch: _Refetch | None = None
    if text.startswith("s3://"):
        from zt_flows.sources import s3

        where, client, candidates = s3.list_s3_source(
            text, settings, session=session, workers=workers, progress=progress
        )
        selected = [c for c in candidates if c.info.may_overlap(window)]
        plans = [_s3_plan(c, where.bucket, cache_root, staging, fields) for c in selected]

        def download(todo: list[_Plan]) -> None:
            if todo:
                remove_stale_parts(cache_root, "s3")
            s3.download_objects(
                client,
                where.bucket,
                [(p.candidate, p.path) for p in todo],
                workers=workers,
                progress=progress,
                damaged=frozenset(p.path for p in todo if p.damaged),
            )

        download([p for p in plans if p.download])
        refetch = download
    elif text.startswith("cwlogs://"):
        from zt_flows.aws import make_session
        from zt_flows.sources import cwlogs

        logs = cwlogs.logs_client(session or make_session(settings.aws), settings.aws)
        group = cwlogs.resolve_log_group(logs, text)
        candidates = cwlogs.list_streams(logs, group, window, progress=progress)
        if not candidates:
            raise SourceNotFoundError(
                f"no log streams in {group.uri}",
                hint="check the stream prefix; VPC Flow Logs names streams after interfaces",
            )
        selected = [c for c in candidates if c.info.may_overlap(window)]
        plans = [_stream_plan(c, group.group, cache_root, staging, fields) for c in selected]
        cwlogs.fetch_streams(
            logs,
            group,
            [(p.candidate, p.path) for p in plans if p.download],
            window,
            page_size=settings.sources.log_events_page_size,
            workers=workers,
            progress=progress,
        )
    else:
        candidates = list_local(Path(source), progress)
        selected = [c for c in candidates if c.info.may_overlap(window)]
        plans = [_local_plan(c, cache_root, staging, fields) for c in selected]
    plans.sort(key=lambda p: p.candidate.uri)
    on_error = settings.sources.on_error
    reads, skipped, transit = _prepare_fetching_again(
        plans, on_error, workers, cache_root, con, progress, refetch
    )
    if (skipped or transit) and not any(r.kept for r in reads):
        raise _nothing_left(skipped, transit)
    name = f"zt_flows_{uuid.uuid4().hex[:12]}"
    all_name = f"{name}_all"
    con.execute(_all_view_sql(all_name, reads, window))
    con.execute(FLOW_VIEW_SQL.format(name=identifier(name), all_view=identifier(all_name)))
    return FlowLogs(
        view=name,
        all_view=all_name,
        objects=tuple(r.obj for r in reads),
        skipped=tuple(skipped),
        source=text,
        listed=len(candidates),
        pruned=len(candidates) - len(selected),
        window=window,
        transit_gateway=tuple(transit),
        unknown_fields=_unknown_fields([r.obj for r in reads]),
    )


_Refetch = Callable[[list["_Plan"]], None]
_Prepared = tuple[list["_Read"], list[SkippedInput], list[TransitGatewayObject]]


def _prepare_fetching_again(
    plans: list[_Plan],
    on_error: OnError,
    workers: int,
    cache_root: Path,
    con: duckdb.DuckDBPyConnection,
    progress: Progress,
    refetch: _Refetch | None,
) -> _Prepared:
    """:func:`_prepare`; an unreadable Parquet object that came from the cache (not from
    this run's download) is downloaded again once, and only then reported."""
    if refetch is None:
        return _prepare(plans, on_error, workers, cache_root, con, progress)
    failure: FlowLogFormatError | None = None
    prepared: _Prepared | None = None
    try:
        prepared = _prepare(plans, on_error, workers, cache_root, con, progress)
        blamed = {s.source for s in prepared[1] if s.kind == "object"}
    except FlowLogFormatError as exc:
        failure, blamed = exc, {exc.location.source}
    again = [
        p
        for p in plans
        if p.candidate.uri in blamed and p.fetched == "cached" and p.candidate.format == "parquet"
    ]
    if not again:
        if failure is not None:
            raise failure
        assert prepared is not None
        return prepared
    for plan in again:
        plan.download, plan.damaged, plan.fetched = True, True, "downloaded"
        plan.object_error, plan.columns, plan.verdict = None, None, None
    refetch(again)
    return _prepare(plans, on_error, workers, cache_root, con, progress)


def _nothing_left(skipped: list[SkippedInput], transit: list[TransitGatewayObject]) -> InputError:
    """Everything was skipped: exit 2 (bad input), never an analysis of nothing."""
    parts = []
    objects = sum(1 for s in skipped if s.kind == "object")
    lines = sum(s.count for s in skipped if s.kind == "lines")
    records = sum(s.count for s in skipped if s.kind == "records")
    if objects:
        parts.append(f"{objects:,} objects")
    if lines:
        parts.append(f"{lines:,} bad lines")
    if records:
        parts.append(f"{records:,} bad records")
    tgw = sum(t.records for t in transit)
    if tgw:
        parts.append(f"{tgw:,} Transit Gateway records (not VPC flows; ztflows does not read them)")
    first = f"; the first: {skipped[0]}" if skipped else ""
    return InputError(
        f"nothing left to read: every record was skipped ({', '.join(parts)}){first}",
        hint="fix or remove the bad objects; Transit Gateway flow logs need a VPC flow log",
    )


def _unknown_fields(objects: list[FlowLogObject]) -> tuple[UnknownField, ...]:
    counts = Counter(name for o in objects for name in set(o.unknown_fields))
    return tuple(UnknownField(n, c) for n, c in sorted(counts.items()))


# --------------------------------------------------------------------------- planning


def _suffix(candidate: Candidate) -> str:
    if candidate.format == "parquet":
        return ".parquet"
    return ".log.gz" if candidate.compressed else ".log"


def _conversion_target(root: Path, identity: tuple[str, ...], fields: TextFields | None) -> Path:
    # Headerless text is read with --fields: another field list is another conversion.
    given = " ".join(fields.names) if fields else ""
    key = cache_key("text", CONVERTER_VERSION, given, *identity)
    return entry_path(root, "converted", key, ".parquet")


def _s3_plan(
    candidate: Candidate, bucket: str, root: Path, staging: Path, fields: TextFields | None
) -> _Plan:
    identity = ("s3", bucket, candidate.key, candidate.etag or f"size={candidate.size}")
    key = cache_key(*identity)
    if candidate.format == "text":
        # Only the conversion enters the cache; the text goes to this run's staging folder.
        raw = staging / f"{key}{_suffix(candidate)}"
        plan = _Plan(candidate, raw, "cached", staging, identity, fields=fields)
        plan.conversion_target = _conversion_target(root, identity, fields)
        plan.conversion = load_conversion(plan.conversion_target)
        if plan.conversion is None:
            plan.download, plan.fetched = True, "downloaded"
        return plan
    raw = entry_path(root, "s3", key, _suffix(candidate))
    plan = _Plan(candidate, raw, "cached", staging, identity, fields=fields)
    if not entry_complete(raw, candidate.size):
        plan.download, plan.fetched = True, "downloaded"
        plan.damaged = raw.exists()
    return plan


def _stream_plan(
    candidate: Candidate, group: str, root: Path, staging: Path, fields: TextFields | None
) -> _Plan:
    """A CloudWatch Logs stream: fetched unless this read of it was converted before."""
    identity = ("cwlogs", group, candidate.key, candidate.etag or "")
    raw = staging / f"{cache_key(*identity)}.log"
    plan = _Plan(candidate, raw, "cached", staging, identity, fields=fields)
    plan.conversion_target = _conversion_target(root, identity, fields)
    plan.conversion = load_conversion(plan.conversion_target)
    if plan.conversion is None:
        plan.download, plan.fetched = True, "downloaded"
    return plan


def _local_plan(
    candidate: Candidate, root: Path, staging: Path, fields: TextFields | None
) -> _Plan:
    assert candidate.path is not None
    identity = ("local", str(candidate.path), str(candidate.size), str(candidate.mtime_ns))
    plan = _Plan(candidate, candidate.path, "local", staging, identity, fields=fields)
    if candidate.format == "text":
        plan.conversion_target = _conversion_target(root, identity, fields)
        plan.conversion = load_conversion(plan.conversion_target)
    return plan


# --------------------------------------------------------------------------- preparing

_PARALLEL_FOOTERS = 256


def _prepare(
    plans: list[_Plan],
    on_error: OnError,
    workers: int,
    cache_root: Path,
    con: duckdb.DuckDBPyConnection,
    progress: Progress,
) -> tuple[list[_Read], list[SkippedInput], list[TransitGatewayObject]]:
    """Convert text objects, check Parquet ones (footers, then values); apply the policy."""
    to_convert = [
        p
        for p in plans
        if p.candidate.format == "text" and p.conversion is None and p.object_error is None
    ]
    if to_convert:
        remove_stale_parts(cache_root, "converted")
        label = f"converting {len(to_convert)} text objects"
        with progress.task(label, total=len(to_convert)) as task:
            run_parallel(to_convert, lambda p, _c: _convert(p, on_error, task), workers=workers)
    parquet = [p for p in plans if p.candidate.format == "parquet"]
    if parquet:
        # A footer read is a fraction of a millisecond: threads only pay off for many files.
        threads = workers if len(parquet) > _PARALLEL_FOOTERS else 1
        with progress.task(f"checking {len(parquet)} Parquet objects", total=len(parquet)) as task:
            run_parallel(parquet, lambda p, _c: _inspect(p, on_error, task), workers=threads)
        _check_values(parquet, cache_root, con, on_error, progress)
    reads: list[_Read] = []
    skipped: list[SkippedInput] = []
    transit: list[TransitGatewayObject] = []
    for plan in plans:
        outcome = _outcome(plan, on_error)
        if isinstance(outcome, SkippedInput):
            skipped.append(outcome)
            continue
        if isinstance(outcome, TransitGatewayObject):
            transit.append(outcome)
            continue
        read, lines, tgw = outcome
        reads.append(read)
        if lines is not None:
            skipped.append(lines)
        if tgw is not None:
            transit.append(tgw)
    return reads, skipped, transit


def _convert(plan: _Plan, on_error: OnError, task: Task) -> None:
    candidate = plan.candidate
    target = plan.conversion_target
    assert target is not None
    # Converted in the run's staging folder, then published: a conversion another run
    # published first is kept (same input, same converter: the same records).
    staged = plan.staging / target.name
    try:
        conversion = convert_text(
            plan.path,
            candidate.uri,
            staged,
            compressed=candidate.compressed,
            fields=plan.fields,
        )
        publish_entry(staged, target)
        plan.conversion = replace(conversion, path=target)
    except FlowLogFormatError as exc:
        if on_error == "stop":
            raise
        plan.object_error = SkippedInput.from_error(exc, "object")
        return
    finally:
        task.advance()
        if plan.fetched != "local":
            # The text was this run's own copy: the conversion is what later runs read.
            with contextlib.suppress(OSError):
                plan.path.unlink()
    error = plan.conversion.line_error(candidate.uri)
    if error is not None and on_error == "stop":
        raise error


def _inspect(plan: _Plan, on_error: OnError, task: Task) -> None:
    try:
        plan.columns = inspect_parquet(plan.path, plan.candidate.uri)
    except FlowLogFormatError as exc:
        if on_error == "stop":
            raise
        plan.object_error = SkippedInput.from_error(exc, "object")
    finally:
        task.advance()


def _verdict_path(root: Path, plan: _Plan) -> Path:
    return entry_path(root, "checked", cache_key("values", CHECKS_VERSION, *plan.identity), ".json")


def _check_values(
    plans: list[_Plan],
    root: Path,
    con: duckdb.DuckDBPyConnection,
    on_error: OnError,
    progress: Progress,
) -> None:
    """Every Parquet object's values, from the cache or one scan per column set."""
    todo: dict[ParquetColumns, list[_Plan]] = {}
    for plan in plans:
        if plan.columns is None or plan.columns.transit_gateway:
            continue
        plan.verdict = load_verdict(_verdict_path(root, plan))
        if plan.verdict is None or plan.verdict.records != plan.columns.rows:
            plan.verdict = None
            key = ParquetColumns(plan.columns.columns, 0, (), False, plan.columns.integer_types)
            todo.setdefault(key, []).append(plan)
    if not todo:
        return
    total = sum(len(group) for group in todo.values())
    with progress.task(f"checking the values of {total} Parquet objects", total=total) as task:
        for columns, group in todo.items():
            try:
                with scan_errors({str(p.path): p.candidate.uri for p in group}):
                    verdicts = check_values(con, columns, [p.path for p in group])
            except FlowLogFormatError:
                if on_error == "stop":
                    raise
                verdicts = _check_one_by_one(con, columns, group)
            for plan in group:
                verdict = verdicts.get(str(plan.path))
                if verdict is not None:
                    plan.verdict = verdict
                    save_verdict(_verdict_path(root, plan), verdict)
                task.advance()


def _check_one_by_one(
    con: duckdb.DuckDBPyConnection, columns: ParquetColumns, group: list[_Plan]
) -> dict[str, Verdict]:
    """--on-error skip after an unreadable object: check each alone, skip those that fail."""
    verdicts: dict[str, Verdict] = {}
    for plan in group:
        try:
            with scan_errors({str(plan.path): plan.candidate.uri}):
                verdicts.update(check_values(con, columns, [plan.path]))
        except FlowLogFormatError as exc:
            plan.object_error = SkippedInput.from_error(exc, "object")
    return verdicts


def _outcome(
    plan: _Plan, on_error: OnError
) -> (
    SkippedInput
    | TransitGatewayObject
    | tuple[_Read, SkippedInput | None, TransitGatewayObject | None]
):
    candidate = plan.candidate
    if plan.object_error is not None:
        return plan.object_error
    lines: SkippedInput | None = None
    tgw: TransitGatewayObject | None = None
    filtered = False
    if candidate.format == "text":
        conversion = plan.conversion
        assert conversion is not None
        facts = conversion.facts
        if facts.transit_gateway_format:
            return TransitGatewayObject(candidate.uri, facts.transit_gateway, True)
        error = conversion.line_error(candidate.uri)
        if error is not None:
            if on_error == "stop":
                raise error
            lines = SkippedInput.from_error(error, "lines", conversion.bad_lines)
        if facts.transit_gateway:
            tgw = TransitGatewayObject(candidate.uri, facts.transit_gateway, False)
        local_path, columns, fields = conversion.path, CANONICAL, conversion.fields
        unknown, kept = facts.unknown, facts.records
    else:
        columns_found = plan.columns
        assert columns_found is not None
        if columns_found.transit_gateway:
            return TransitGatewayObject(candidate.uri, columns_found.rows, True)
        verdict = plan.verdict
        assert verdict is not None
        if verdict.bad:
            if on_error == "stop":
                raise verdict.error(candidate.uri)
            lines = SkippedInput.from_error(verdict.error(candidate.uri), "records", verdict.bad)
            filtered = True
        if verdict.transit_gateway:
            tgw = TransitGatewayObject(candidate.uri, verdict.transit_gateway, False)
            filtered = True
        local_path, columns, fields = plan.path, columns_found, columns_found.fields
        unknown, kept = columns_found.unknown, verdict.kept
    info = candidate.info
    obj = FlowLogObject(
        uri=candidate.uri,
        local_path=local_path,
        format=candidate.format,
        size=candidate.size,
        layout=info.layout,
        key_time=info.key_time,
        fetched=plan.fetched,
        fields=fields,
        etag=candidate.etag,
        account_id=info.account_id,
        region=info.region,
        flow_log_id=info.flow_log_id,
        converted=plan.conversion.converted if plan.conversion is not None else False,
        unknown_fields=unknown,
    )
    return _Read(obj, columns, filtered, kept), lines, tgw


# --------------------------------------------------------------------------- views


def _all_view_sql(name: str, reads: list[_Read], window: TimeWindow) -> str:
    """One read_parquet per distinct column set, in the canonical schema, within the window."""
    groups: dict[tuple[ParquetColumns, bool], list[Path]] = {}
    for read in reads:
        key = (
            ParquetColumns(read.columns.columns, 0, (), False, read.columns.integer_types),
            read.filtered,
        )
        groups.setdefault(key, []).append(read.obj.local_path)
    branches = [
        BRANCH_SQL.format(
            columns=columns.select_list(),
            files=string_list(paths),
            where=f" WHERE {keep_condition(columns)}" if filtered else "",
        )
        for (columns, filtered), paths in groups.items()
    ]
    if not branches:
        nulls = ", ".join(f"CAST(NULL AS {f.duckdb_type}) AS {identifier(f.name)}" for f in FIELDS)
        branches = [EMPTY_SQL.format(columns=nulls)]
    conditions = []
    # Records are whole seconds: end >= since and start < until, with ceil() for both.
    if window.since is not None:
        conditions.append(f'"end" >= {integer(math.ceil(window.since.timestamp()))}')
    if window.until is not None:
        conditions.append(f'"start" < {integer(math.ceil(window.until.timestamp()))}')
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    union = " UNION ALL ".join(branches)
    return ALL_VIEW_SQL.format(name=identifier(name), union=union, where=where)
