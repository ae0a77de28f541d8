"""What ingestion reports: the objects it read, what it skipped, and the summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from zt_flows.errors import FlowLogFormatError, Location
from zt_flows.sources.layout import Layout

ObjectFormat = Literal["parquet", "text"]
# local: read where it lies; downloaded: fetched from S3 in this run; cached: found in
# the cache from an earlier run (nothing fetched).
Fetch = Literal["local", "downloaded", "cached"]


@dataclass(frozen=True)
class FlowLogObject:
    """One flow-log object that was read."""

    uri: str  # s3://bucket/key, or the absolute local path
    local_path: Path  # the Parquet file the views scan (the object, or its canonical conversion)
    format: ObjectFormat
    size: int  # bytes as delivered (compressed)
    layout: Layout
    key_time: datetime | None  # the time the key states (file name, else folder)
    fetched: Fetch
    # Canonical names of the fields the object holds: a text header's order, or the
    # Parquet columns. Fields it lacks are NULL in the views.
    fields: tuple[str, ...]
    etag: str | None = None
    account_id: str | None = None  # from the key, as a string (leading zeros kept)
    region: str | None = None
    flow_log_id: str | None = None
    converted: bool = False  # a text object converted to Parquet in this run


@dataclass(frozen=True)
class SkippedInput:
    """Something ``--on-error skip`` left out: a whole object, or bad lines of one."""

    kind: Literal["object", "lines"]
    location: Location  # the object, and for lines the first bad line and column
    expected: str
    found: str
    count: int = 1  # lines: how many lines of the object were skipped

    @property
    def source(self) -> str:
        return self.location.source

    def __str__(self) -> str:
        more = f" ({self.count} lines skipped)" if self.kind == "lines" else " (object skipped)"
        return f"{self.location}: expected {self.expected}, found {self.found}{more}"

    @classmethod
    def from_error(
        cls, error: FlowLogFormatError, kind: Literal["object", "lines"], count: int = 1
    ) -> SkippedInput:
        return cls(kind, error.location, error.expected, error.found, count)


@dataclass(frozen=True)
class VersionCount:
    """Records of one flow-log version (``None``: the log had no version field)."""

    version: int | None
    records: int


@dataclass(frozen=True)
class IngestSummary:
    """What was read, in numbers. Counts of records are for the window only."""

    source: str
    listed: int  # flow-log objects found under the source
    pruned: int  # of those, outside the window by their keys (never read)
    objects: int  # objects read
    parquet_objects: int
    text_objects: int
    bytes: int  # delivered bytes of the objects read
    downloaded: int
    downloaded_bytes: int
    cached: int
    local: int
    records: int  # every record in the window, NODATA and SKIPDATA included
    flows: int  # records that are flows (log_status OK or missing)
    nodata: int
    skipdata: int
    versions: tuple[VersionCount, ...]
    first_start: datetime | None
    last_end: datetime | None
    skipped: tuple[SkippedInput, ...]
    window_since: datetime | None = None
    window_until: datetime | None = None
    output: Path | None = None

    @property
    def skipped_objects(self) -> int:
        return sum(1 for s in self.skipped if s.kind == "object")

    @property
    def skipped_lines(self) -> int:
        return sum(s.count for s in self.skipped if s.kind == "lines")

    def to_json(self) -> str:
        """The summary as a JSON document (times in ISO 8601 UTC)."""
        doc = {
            "source": self.source,
            "output": str(self.output) if self.output else None,
            "window": {"since": _iso(self.window_since), "until": _iso(self.window_until)},
            "objects": {
                "listed": self.listed,
                "pruned": self.pruned,
                "read": self.objects,
                "parquet": self.parquet_objects,
                "text": self.text_objects,
                "downloaded": self.downloaded,
                "cached": self.cached,
                "local": self.local,
            },
            "bytes": {"read": self.bytes, "downloaded": self.downloaded_bytes},
            "records": {
                "total": self.records,
                "flows": self.flows,
                "nodata": self.nodata,
                "skipdata": self.skipdata,
            },
            "versions": {_version_key(v.version): v.records for v in self.versions},
            "time_span": {"first_start": _iso(self.first_start), "last_end": _iso(self.last_end)},
            "skipped": {
                "objects": self.skipped_objects,
                "lines": self.skipped_lines,
                "details": [
                    {
                        "kind": s.kind,
                        "source": s.location.source,
                        "line": s.location.line,
                        "column": s.location.column,
                        "expected": s.expected,
                        "found": s.found,
                        "count": s.count,
                    }
                    for s in self.skipped
                ],
            },
        }
        return json.dumps(doc, indent=2)


def epoch_to_datetime(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _version_key(version: int | None) -> str:
    return "unknown" if version is None else str(version)
