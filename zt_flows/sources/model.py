"""What ingestion reports: the objects it read, what it skipped, and the summary."""

from __future__ import annotations

import json
from collections.abc import Iterable
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
SkipKind = Literal["object", "lines", "records"]


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
    # Header fields or Parquet columns ztflows does not know: carried, reported, not read.
    unknown_fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class TransitGatewayObject:
    """A Transit Gateway flow log (or the Transit Gateway records of a VPC one): its records
    have no interface or action, so they are counted and not read as VPC flows."""

    uri: str
    records: int
    whole_object: bool  # False: records inside a VPC flow log (account-id TransitGateway)


@dataclass(frozen=True)
class UnknownField:
    """A field name ztflows does not know, and how many objects have it."""

    name: str
    objects: int


@dataclass(frozen=True)
class SkippedInput:
    """Something ``--on-error skip`` left out: a whole object, bad lines of a text object, or
    records of a Parquet object whose values break a rule (``zt_flows.sources.values``)."""

    kind: SkipKind
    location: Location  # the object, and for lines/records the first bad one and its column
    expected: str
    found: str
    count: int = 1  # lines or records: how many of the object were skipped

    @property
    def source(self) -> str:
        return self.location.source

    def __str__(self) -> str:
        if self.kind == "object":
            more = " (object skipped)"
        else:
            more = f" ({self.count:,} {self.kind} skipped)"
        return f"{self.location}: expected {self.expected}, found {self.found}{more}"

    @classmethod
    def from_error(cls, error: FlowLogFormatError, kind: SkipKind, count: int = 1) -> SkippedInput:
        return cls(kind, error.location, error.expected, error.found, count)


def count_skipped(skipped: Iterable[SkippedInput], kind: SkipKind) -> int:
    """Objects skipped whole, or the lines or records skipped inside objects."""
    return sum(1 if kind == "object" else s.count for s in skipped if s.kind == kind)


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
    transit_gateway: tuple[TransitGatewayObject, ...] = ()
    unknown_fields: tuple[UnknownField, ...] = ()

    @property
    def skipped_objects(self) -> int:
        return count_skipped(self.skipped, "object")

    @property
    def skipped_lines(self) -> int:
        return count_skipped(self.skipped, "lines")

    @property
    def skipped_records(self) -> int:
        """Records of Parquet objects left out for values that break a rule."""
        return count_skipped(self.skipped, "records")

    @property
    def incomplete(self) -> bool:
        """Whether ``--on-error skip`` left anything out: the evidence is incomplete."""
        return bool(self.skipped)

    @property
    def transit_gateway_objects(self) -> int:
        return sum(1 for t in self.transit_gateway if t.whole_object)

    @property
    def transit_gateway_records(self) -> int:
        return sum(t.records for t in self.transit_gateway)

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
            "transit_gateway": {
                "objects": self.transit_gateway_objects,
                "records": self.transit_gateway_records,
                "details": [
                    {"source": t.uri, "records": t.records, "whole_object": t.whole_object}
                    for t in self.transit_gateway
                ],
            },
            "unknown_fields": {u.name: u.objects for u in self.unknown_fields},
            "skipped": {
                "objects": self.skipped_objects,
                "lines": self.skipped_lines,
                "records": self.skipped_records,
                "details": [
                    {
                        "kind": s.kind,
                        "source": s.location.source,
                        "line": s.location.line,
                        "row": s.location.row,
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
