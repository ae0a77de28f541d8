"""``read_flow_logs``: from a source (S3 prefix, folder, file) to views of canonical records.

The steps, each reported through ``progress``:

1. List the source and prune objects whose keys put them outside the window.
2. S3: download what the cache lacks (text objects already converted need nothing).
3. Convert text objects that have no conversion yet into canonical Parquet (cached).
4. Check the footer and columns of every Parquet object.
5. Create the views: one ``read_parquet`` per distinct set of columns, cast to the
   canonical schema, ``UNION ALL``, filtered exactly to the window.

Nothing is read into Python: the views are DuckDB SQL over Parquet files on disk.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.errors import FlowLogFormatError, SourceNotFoundError
from zt_flows.parallel import run_parallel
from zt_flows.progress import NULL_PROGRESS, Progress, Task
from zt_flows.schema import FIELDS
from zt_flows.settings import OnError, Settings, TimeWindow
from zt_flows.sources.cache import cache_key, entry_path, remove_stale_parts
from zt_flows.sources.candidates import Candidate, list_local
from zt_flows.sources.flowlogs import FlowLogs
from zt_flows.sources.model import Fetch, FlowLogObject, SkippedInput
from zt_flows.sources.parquet import CANONICAL, ParquetColumns, inspect_parquet
from zt_flows.sources.sql import identifier, integer, string_list
from zt_flows.sources.text import CONVERTER_VERSION, Conversion, convert_text, load_conversion

if TYPE_CHECKING:
    import boto3

# Views cannot take bound parameters: names, file lists and bounds are rendered by
# zt_flows.sources.sql (quoted identifiers, quoted strings, integers) into these templates.
BRANCH_SQL = (
    "SELECT {columns} FROM read_parquet({files}, hive_partitioning = false, "
    "union_by_name = false, binary_as_string = true)"
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
    conversion_target: Path | None = None  # text objects
    conversion: Conversion | None = None
    download: bool = False
    object_error: SkippedInput | None = None  # --on-error skip: the whole object


def read_flow_logs(
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> FlowLogs:
    """Read flow logs from ``source`` into views on ``con``; see :class:`FlowLogs`.

    ``source`` is ``s3://bucket/prefix``, a local folder (walked recursively; the AWS key
    layouts are recognised in it as in a bucket) or a single file, in Parquet or gzip /
    plain text. ``session`` is used for S3 (built from ``settings.aws`` when None).
    Bad input raises :class:`~zt_flows.errors.FlowLogFormatError` naming the object and
    line, or with ``settings.sources.on_error == "skip"`` is skipped and reported in
    ``FlowLogs.skipped``. S3 failures raise :class:`~zt_flows.errors.AwsError`.
    """
    text = str(source)
    window = settings.window
    workers = max(1, settings.sources.download_workers)
    cache_root = Path(settings.sources.cache_dir).expanduser().absolute()
    if text.startswith("s3://"):
        from zt_flows.aws import make_session
        from zt_flows.sources import s3

        where = s3.parse_s3_uri(text)
        client = s3.s3_client(session or make_session(settings.aws), settings.aws, workers=workers)
        candidates = s3.list_s3(
            client,
            where,
            window,
            page_size=settings.sources.list_page_size,
            workers=workers,
            progress=progress,
        )
        if not candidates:
            raise SourceNotFoundError(
                f"no flow-log objects (.log.gz, .log.parquet) under {where.uri}",
                hint="check the bucket and prefix; AWS delivers under <prefix>/AWSLogs/",
            )
        selected = [c for c in candidates if c.info.may_overlap(window)]
        plans = [_s3_plan(c, where.bucket, cache_root) for c in selected]
        downloads = [(p.candidate, p.path) for p in plans if p.download]
        if downloads:
            remove_stale_parts(cache_root, "s3")
        s3.download_objects(client, where.bucket, downloads, workers=workers, progress=progress)
    else:
        candidates = list_local(Path(source), progress)
        selected = [c for c in candidates if c.info.may_overlap(window)]
        plans = [_local_plan(c, cache_root) for c in selected]
    plans.sort(key=lambda p: p.candidate.uri)
    prepared, skipped = _prepare(plans, settings.sources.on_error, workers, cache_root, progress)
    name = f"zt_flows_{uuid.uuid4().hex[:12]}"
    all_name = f"{name}_all"
    con.execute(_all_view_sql(all_name, prepared, window))
    con.execute(FLOW_VIEW_SQL.format(name=identifier(name), all_view=identifier(all_name)))
    return FlowLogs(
        view=name,
        all_view=all_name,
        objects=tuple(obj for obj, _ in prepared),
        skipped=tuple(skipped),
        source=text,
        listed=len(candidates),
        pruned=len(candidates) - len(selected),
        window=window,
    )


# --------------------------------------------------------------------------- planning


def _suffix(candidate: Candidate) -> str:
    if candidate.format == "parquet":
        return ".parquet"
    return ".log.gz" if candidate.compressed else ".log"


def _s3_plan(candidate: Candidate, bucket: str, root: Path) -> _Plan:
    identity = ("s3", bucket, candidate.key, candidate.etag or f"size={candidate.size}")
    raw = entry_path(root, "s3", cache_key(*identity), _suffix(candidate))
    plan = _Plan(candidate, raw, "cached")
    if candidate.format == "text":
        plan.conversion_target = entry_path(
            root, "converted", cache_key("text", CONVERTER_VERSION, *identity), ".parquet"
        )
        plan.conversion = load_conversion(plan.conversion_target)
        if plan.conversion is not None:
            return plan
    if not raw.is_file():
        plan.download, plan.fetched = True, "downloaded"
    return plan


def _local_plan(candidate: Candidate, root: Path) -> _Plan:
    assert candidate.path is not None
    plan = _Plan(candidate, candidate.path, "local")
    if candidate.format == "text":
        identity = ("local", str(candidate.path), str(candidate.size), str(candidate.mtime_ns))
        plan.conversion_target = entry_path(
            root, "converted", cache_key("text", CONVERTER_VERSION, *identity), ".parquet"
        )
        plan.conversion = load_conversion(plan.conversion_target)
    return plan


# --------------------------------------------------------------------------- preparing

_Prepared = tuple[FlowLogObject, ParquetColumns]
_PARALLEL_FOOTERS = 256


def _prepare(
    plans: list[_Plan], on_error: OnError, workers: int, cache_root: Path, progress: Progress
) -> tuple[list[_Prepared], list[SkippedInput]]:
    """Convert text objects and check Parquet ones; apply the error policy."""
    to_convert = [p for p in plans if p.candidate.format == "text" and p.conversion is None]
    if to_convert:
        remove_stale_parts(cache_root, "converted")
        label = f"converting {len(to_convert)} text objects"
        with progress.task(label, total=len(to_convert)) as task:
            run_parallel(to_convert, lambda p, _c: _convert(p, on_error, task), workers=workers)
    parquet = [p for p in plans if p.candidate.format == "parquet"]
    columns: dict[str, ParquetColumns | SkippedInput] = {}
    if parquet:
        # A footer read is a fraction of a millisecond: threads only pay off for many files.
        threads = workers if len(parquet) > _PARALLEL_FOOTERS else 1
        with progress.task(f"checking {len(parquet)} Parquet objects", total=len(parquet)) as task:
            results = run_parallel(
                parquet, lambda p, _c: _inspect(p, on_error, task), workers=threads
            )
        columns = {p.candidate.uri: r for p, r in zip(parquet, results, strict=True)}
    prepared: list[_Prepared] = []
    skipped: list[SkippedInput] = []
    for plan in plans:
        outcome = _outcome(plan, columns.get(plan.candidate.uri), on_error)
        if isinstance(outcome, SkippedInput):
            skipped.append(outcome)
            continue
        obj, cols, lines = outcome
        prepared.append((obj, cols))
        if lines is not None:
            skipped.append(lines)
    return prepared, skipped


def _convert(plan: _Plan, on_error: OnError, task: Task) -> None:
    candidate = plan.candidate
    assert plan.conversion_target is not None
    try:
        plan.conversion = convert_text(
            plan.path, candidate.uri, plan.conversion_target, compressed=candidate.compressed
        )
    except FlowLogFormatError as exc:
        if on_error == "stop":
            raise
        plan.object_error = SkippedInput.from_error(exc, "object")
        return
    finally:
        task.advance()
    if plan.fetched != "local":
        # The conversion is what later runs read; the downloaded text would only take space.
        with contextlib.suppress(OSError):
            plan.path.unlink()
    error = plan.conversion.line_error(candidate.uri)
    if error is not None and on_error == "stop":
        raise error


def _inspect(plan: _Plan, on_error: OnError, task: Task) -> ParquetColumns | SkippedInput:
    try:
        return inspect_parquet(plan.path, plan.candidate.uri)
    except FlowLogFormatError as exc:
        if on_error == "stop":
            raise
        return SkippedInput.from_error(exc, "object")
    finally:
        task.advance()


def _outcome(
    plan: _Plan, inspected: ParquetColumns | SkippedInput | None, on_error: OnError
) -> SkippedInput | tuple[FlowLogObject, ParquetColumns, SkippedInput | None]:
    candidate = plan.candidate
    if plan.object_error is not None:
        return plan.object_error
    lines: SkippedInput | None = None
    if candidate.format == "text":
        conversion = plan.conversion
        assert conversion is not None
        error = conversion.line_error(candidate.uri)
        if error is not None:
            if on_error == "stop":
                raise error
            lines = SkippedInput.from_error(error, "lines", conversion.bad_lines)
        local_path, columns, fields = conversion.path, CANONICAL, conversion.fields
    else:
        if isinstance(inspected, SkippedInput):
            return inspected
        assert inspected is not None
        local_path, columns, fields = plan.path, inspected, inspected.fields
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
    )
    return obj, columns, lines


# --------------------------------------------------------------------------- views


def _all_view_sql(name: str, prepared: list[_Prepared], window: TimeWindow) -> str:
    """One read_parquet per distinct column set, in the canonical schema, within the window."""
    groups: dict[tuple[tuple[str, str], ...], tuple[ParquetColumns, list[Path]]] = {}
    for obj, columns in prepared:
        groups.setdefault(columns.columns, (columns, []))[1].append(obj.local_path)
    branches = [
        BRANCH_SQL.format(columns=columns.select_list(), files=string_list(paths))
        for columns, paths in groups.values()
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
