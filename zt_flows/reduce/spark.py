"""The reduce on Apache Spark: the same partials, for an organisation's flow logs.

``ztflows reduce SOURCE --state STATE --engine spark`` runs it in-process (``local[*]``
unless ``SPARK_MASTER`` or ``spark.master`` says otherwise); on a cluster (EMR, EMR
Serverless, Glue, Databricks) submit this module::

    spark-submit --py-files ztflows.zip zt_flows/reduce/spark.py \\
        s3://flow-log-bucket/AWSLogs/ --state s3://state-bucket/ztflows/ --since 2d

It plans the days as :mod:`zt_flows.reduce.run` does (the listing, the manifests), reads
each day's objects with Spark (Parquet with AWS's column names; gzip text grouped by its
header line, for custom formats), casts them to the canonical schema
(``zt_flows.schema.FIELDS``), and runs the reduce rendered for Spark SQL from the one SQL
text both engines share (``sql/partial.sql``). Each day's partial is written as one Parquet
file through the driver's scratch folder and then copied into the state: that is what is
tested (local mode). On a cluster whose executors do not share the driver's disk, the
parts must go to the state directly instead (not done yet; see docs/scale-out.md).
"""

from __future__ import annotations

import gzip
import os
import shutil
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from zt_flows.reduce.run import (
    DAY,
    _day_start,
    _identity,
    _whole,
    list_candidates,
    plan_days,
)
from zt_flows.reduce.sql import (
    PARTIAL_SCHEMA,
    reduce_digest,
    render_partial,
    render_summary,
)
from zt_flows.reduce.state import DayRecord, day_record, read_day, source_digest, write_day
from zt_flows.schema import FIELDS
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from zt_flows.sources.candidates import Candidate

_SPARK_TYPES = {"int32": "INT", "int64": "BIGINT", "string": "STRING"}


@dataclass(frozen=True)
class SparkReduction:
    state: str
    days: tuple[date, ...]
    reduced: tuple[date, ...]
    reused: tuple[date, ...]


def spark_session(app: str = "ztflows-reduce") -> SparkSession:
    """A session: the cluster's when submitted, else ``local[*]`` (``SPARK_MASTER``)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    master = os.environ.get("SPARK_MASTER")
    if master:
        builder = builder.master(master)
    return (
        builder.config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )


def _uri(candidate: Candidate) -> str:
    """How Spark names the object: a local file URI, or the S3 URI as the cluster reads it."""
    if candidate.path is not None:
        # A plain path: Spark does not undo the %-escapes of a file URI (hive's "=").
        return str(candidate.path.absolute())
    return candidate.uri


def _canonical(frame: DataFrame, fields: dict[str, str]) -> DataFrame:
    """``frame`` as the canonical columns (missing ones NULL), cast to their types."""
    from pyspark.sql import functions as F

    columns = []
    for field in FIELDS:
        kind = _SPARK_TYPES[field.type]
        if field.name in fields:
            source = F.col(f"`{fields[field.name]}`")
            if field.type == "string":
                value = F.when(source == "-", F.lit(None)).otherwise(source.cast(kind))
            else:
                value = source.cast(kind)
        else:
            value = F.lit(None).cast(kind)
        columns.append(value.alias(field.name))
    return frame.select(*columns)


def _text_header(candidate: Candidate) -> str:
    if candidate.path is None:
        raise ValueError(f"{candidate.uri}: text objects are read from local copies")
    opener = gzip.open if candidate.compressed else open
    with opener(candidate.path, "rt", encoding="utf-8") as handle:
        return handle.readline().strip()


def read_records(spark: SparkSession, objects: list[Candidate]) -> DataFrame:
    """The canonical records of ``objects``: Parquet as it is, text by header group."""
    frames: list[DataFrame] = []
    parquet = [_uri(c) for c in objects if c.format == "parquet"]
    if parquet:
        frame = spark.read.option("mergeSchema", "true").parquet(*parquet)
        frames.append(_canonical(frame, {c: c for c in frame.columns}))
    by_header: dict[str, list[str]] = defaultdict(list)
    for candidate in objects:
        if candidate.format == "text":
            by_header[_text_header(candidate)].append(_uri(candidate))
    for header, uris in sorted(by_header.items()):
        names = header.split(" ")
        frame = (
            spark.read.option("sep", " ")
            .option("header", "true")
            .option("nullValue", "-")
            .option("inferSchema", "false")
            .csv(uris)
        )
        frames.append(_canonical(frame, {n.replace("-", "_"): n for n in names}))
    if not frames:
        return _canonical(spark.createDataFrame([], "x INT"), {})
    out = frames[0]
    for more in frames[1:]:
        out = out.unionByName(more)
    return out


def reduce_with_spark(
    source: str,
    settings: Settings,
    *,
    spark: SparkSession | None = None,
    scratch: Path | None = None,
) -> SparkReduction:
    """Reduce the days of the window the state lacks, with Spark; see the module docstring."""
    assert settings.sources.state is not None
    from zt_flows.reduce import open_state_for

    state = open_state_for(settings.sources.state, settings)
    session = spark or spark_session()
    window = settings.window
    conv = settings.conversations
    candidates = list_candidates(source, settings)
    selected = [c for c in candidates if c.info.may_overlap(window)]
    planned = plan_days(selected, window)
    if planned is None:
        raise ValueError("the Spark reduce needs flow-log objects in an AWS key layout")
    prefix = f"{source_digest(source)}-{reduce_digest(conv.service_ports, conv.ephemeral_port_min)}"
    reduced: list[date] = []
    reused: list[date] = []
    work = Path(scratch) if scratch is not None else Path(tempfile.mkdtemp(prefix="ztflows-spark-"))
    try:
        todo: dict[date, tuple[tuple[str, str], ...]] = {}
        for day, objects in planned.items():
            identity = tuple(sorted((c.uri, _identity(c)) for c in objects))
            stored = read_day(state, prefix, day) if _whole(day, window) else None
            if stored is not None and stored.objects == identity:
                reused.append(day)
            else:
                todo[day] = identity
        if todo:
            # Read and parse the objects of every day to reduce once; each day's statements
            # then run over the cached records.
            needed = {c.uri: c for day in todo for c in planned[day]}
            records = read_records(session, [needed[u] for u in sorted(needed)]).cache()
            try:
                for day, identity in todo.items():
                    path = work / f"partial-{day.isoformat()}.parquet"
                    record = reduce_day(session, records, settings, day, identity, path)
                    if _whole(day, window):
                        write_day(state, prefix, record, path)
                    reduced.append(day)
            finally:
                records.unpersist()
    finally:
        if scratch is None:
            shutil.rmtree(work, ignore_errors=True)
    return SparkReduction(
        state=state.describe(),
        days=tuple(planned),
        reduced=tuple(reduced),
        reused=tuple(reused),
    )


def reduce_day(
    spark: SparkSession,
    records: DataFrame,
    settings: Settings,
    day: date,
    identity: tuple[tuple[str, str], ...],
    path: Path,
) -> DayRecord:
    """One day's partial from ``records`` (canonical), written as one Parquet file at
    ``path``; its numbers and logged interfaces."""
    window = settings.window
    conv = settings.conversations
    start = _day_start(day)
    where = f" AND start >= {int(start)} AND start < {int(start + DAY)}"
    if window.since is not None:
        where += f" AND `end` >= {int(window.since.timestamp() + 0.999999)}"
    if window.until is not None:
        where += f" AND start < {int(window.until.timestamp() + 0.999999)}"
    records.createOrReplaceTempView("zt_all_records")
    spark.sql(
        "SELECT * FROM zt_all_records WHERE log_status = 'OK' OR log_status IS NULL"
    ).createOrReplaceTempView("zt_records")
    select = render_partial(
        "spark",
        "zt_records",
        service_ports=conv.service_ports,
        ephemeral_min=conv.ephemeral_port_min,
        where=where,
    )
    partial = spark.sql(select)
    folder = path.with_name(f".{path.name}.parts")
    shutil.rmtree(folder, ignore_errors=True)
    partial.coalesce(1).write.mode("overwrite").parquet(folder.absolute().as_uri())
    (part,) = sorted(folder.glob("part-*.parquet"))
    _conform(part, path)
    shutil.rmtree(folder, ignore_errors=True)
    summary = spark.sql(render_summary("spark", "zt_all_records", where)).collect()
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    return day_record(day, identity, summary, int(rows))


def _conform(part: Path, path: Path) -> None:
    """Spark's part file with the partial's own schema (names, order, types)."""
    import pyarrow.parquet as pq

    table = pq.read_table(part).select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(path)


def main(argv: list[str] | None = None) -> int:
    """``spark-submit zt_flows/reduce/spark.py SOURCE --state STATE [--since ..]``."""
    import argparse
    from dataclasses import replace

    from zt_flows.settings import parse_window

    parser = argparse.ArgumentParser(prog="zt_flows.reduce.spark")
    parser.add_argument("source")
    parser.add_argument("--state", required=True)
    parser.add_argument("--since")
    parser.add_argument("--until")
    args = parser.parse_args(argv)
    base = Settings()
    settings = replace(
        base,
        window=parse_window(args.since, args.until),
        sources=replace(base.sources, state=args.state, progress=False),
    )
    done = reduce_with_spark(args.source, settings)
    print(f"reduced {len(done.reduced)} day(s), reused {len(done.reused)}, state {done.state}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["SparkReduction", "read_records", "reduce_day", "reduce_with_spark", "spark_session"]
