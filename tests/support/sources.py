"""Building flow-log objects for the sources tests: records, text and Parquet bytes, keys.

Objects are built the way AWS writes them: gzip text with a header line of hyphenated
field names, or Parquet with AWS's column names and types (INT32 ports, protocol,
version, tcp_flags, traffic_path; INT64 packets, bytes, start, end), under the real key
layouts. No tests live here.
"""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.engine import connect_engine
from zt_flows.schema import ARROW_SCHEMA, DEFAULT_FORMAT, FIELD_BY_NAME, FIELDS
from zt_flows.settings import EngineSettings, Settings, SourceSettings, TimeWindow

ACCOUNT = "012345678901"
REGION = "us-east-1"
FLOW_LOG = "fl-0a1b2c3d4e5f60718"
V5_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.version <= 5)
ALL_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS)


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def record(start: str | int = "2026-11-16T00:10:00Z", **values: Any) -> dict[str, Any]:
    """A canonical record (every field), a flow of 60 s unless told otherwise."""
    begin = start if isinstance(start, int) else epoch(start)
    rec: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    rec.update(
        version=5,
        account_id=ACCOUNT,
        interface_id="eni-0a1b2c3d4e5f60001",
        srcaddr="10.0.10.11",
        dstaddr="10.0.10.21",
        srcport=43416,
        dstport=8443,
        protocol=6,
        packets=10,
        bytes=840,
        start=begin,
        end=begin + 60,
        action="ACCEPT",
        log_status="OK",
        vpc_id="vpc-0a1b2c3d",
        subnet_id="subnet-0a1b2c3d",
        tcp_flags=2,
        type="IPv4",
        flow_direction="ingress",
    )
    rec.update(values)
    return rec


def nodata(start: str = "2026-11-16T00:10:00Z", status: str = "NODATA") -> dict[str, Any]:
    begin = epoch(start)
    rec: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    rec.update(
        version=2,
        account_id=ACCOUNT,
        interface_id="eni-0a1b2c3d4e5f60009",
        start=begin,
        end=begin + 58,
        log_status=status,
    )
    return rec


def text_bytes(records: list[dict[str, Any]], fields: tuple[str, ...] = V5_FIELDS) -> bytes:
    """A gzip text object: header of hyphenated names, then one line a record, '-' for NULL."""
    lines = [" ".join(FIELD_BY_NAME[f].text_name for f in fields)]
    for rec in records:
        lines.append(" ".join("-" if rec.get(f) is None else str(rec[f]) for f in fields))
    return gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)


def raw_text_bytes(text: str) -> bytes:
    return gzip.compress(text.encode(), mtime=0)


def parquet_bytes(
    records: list[dict[str, Any]],
    fields: tuple[str, ...] = ALL_FIELDS,
    *,
    extra: dict[str, list[Any]] | None = None,
    rename: dict[str, str] | None = None,
) -> bytes:
    """A Parquet object with AWS's column names and types (GZIP inside, as AWS writes)."""
    schema = pa.schema([ARROW_SCHEMA.field(f) for f in fields])
    table = pa.Table.from_pylist([{f: r.get(f) for f in fields} for r in records], schema=schema)
    for name, values in (extra or {}).items():
        table = table.append_column(name, pa.array(values))
    if rename:
        table = table.rename_columns([rename.get(n, n) for n in table.column_names])
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="gzip")
    return sink.getvalue()


def file_name(stamp: datetime, ext: str, flow_log: str = FLOW_LOG, tag: str = "fe123456") -> str:
    return f"{ACCOUNT}_vpcflowlogs_{REGION}_{flow_log}_{stamp:%Y%m%dT%H%M}Z_{tag}.log.{ext}"


def hive_key(
    stamp: datetime, ext: str = "parquet", *, hourly: bool = True, prefix: str = ""
) -> str:
    folder = (
        f"{prefix}AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/"
        f"year={stamp:%Y}/month={stamp:%m}/day={stamp:%d}/"
    )
    if hourly:
        folder += f"hour={stamp:%H}/"
    return folder + file_name(stamp, ext)


def default_key(stamp: datetime, ext: str = "gz", *, hourly: bool = False, prefix: str = "") -> str:
    folder = f"{prefix}AWSLogs/{ACCOUNT}/vpcflowlogs/{REGION}/{stamp:%Y/%m/%d}/"
    if hourly:
        folder += f"{stamp:%H}/"
    return folder + file_name(stamp, ext)


def write(root: Path, key: str, data: bytes) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def settings_for(
    cache_dir: Path,
    *,
    since: str | None = None,
    until: str | None = None,
    on_error: str = "stop",
    endpoint_url: str | None = None,
    page_size: int = 1000,
    workers: int = 4,
) -> Settings:
    from zt_flows.settings import AwsSettings

    return Settings(
        window=TimeWindow(at(since) if since else None, at(until) if until else None),
        aws=AwsSettings(region=REGION, endpoint_url=endpoint_url, max_attempts=2),
        sources=SourceSettings(
            cache_dir=cache_dir,
            download_workers=workers,
            on_error="skip" if on_error == "skip" else "stop",
            progress=False,
            list_page_size=page_size,
        ),
        engine=EngineSettings(memory_limit="1GB", threads=2),
    )


def connect() -> Any:
    return connect_engine(EngineSettings(memory_limit="1GB", threads=2))


def rows(
    con: Any, relation: str, order: str = "start, interface_id, srcport"
) -> list[dict[str, Any]]:
    """Every row of a (small) view as dicts, in a stable order."""
    cursor = con.execute(f'SELECT * FROM "{relation}" ORDER BY {order}')
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


DEFAULT_TEXT_FIELDS = DEFAULT_FORMAT
