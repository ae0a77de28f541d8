"""The sources stage: flow logs from S3 or a local folder, as canonical DuckDB views.

::

    flows = read_flow_logs("s3://bucket/AWSLogs/", settings, con)
    con.sql(f"SELECT count(*) FROM {flows.view}")
    summary = write_records(flows, con, Path("records.parquet"))

How it reads, and why:

- Parquet objects are read in place (locally) or from the download cache (S3), by
  DuckDB's own Parquet reader; their footers are checked first so that a corrupt
  object is named before any query runs.
- Text objects (gzip, custom field order) are converted once into canonical Parquet in
  the cache, which gives exact errors (object, line, column) and fast re-runs.
- S3 objects are downloaded into a cache keyed by bucket, key and ETag rather than read
  in place; see :mod:`zt_flows.sources.s3` for why.
- Objects are pruned by the dates in their keys before anything is downloaded, and
  rows are filtered exactly by ``start``/``end``.
"""

from zt_flows.sources.flowlogs import FlowLogs, flow_log_errors, write_records
from zt_flows.sources.model import (
    FlowLogObject,
    IngestSummary,
    SkippedInput,
    VersionCount,
)
from zt_flows.sources.read import read_flow_logs

__all__ = [
    "FlowLogObject",
    "FlowLogs",
    "IngestSummary",
    "SkippedInput",
    "VersionCount",
    "flow_log_errors",
    "read_flow_logs",
    "write_records",
]
