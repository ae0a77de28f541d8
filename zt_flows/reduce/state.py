"""Where daily partials live: a local folder or ``s3://bucket/prefix``, one folder per day.

Layout under the state location, for one source and one version of the reduce::

    <source-digest>-<reduce-digest>/day=2026-11-16/partial.parquet
                                   /day=2026-11-16/day.json      (numbers, who logged)
                                   /day=2026-11-16/manifest.json (objects covered: keys, ETags)

``manifest.json`` is written last: a day without it is not there. A day is reused only
when its manifest names exactly the objects that now cover it (key and ETag, or path,
size and modification time); an object delivered late changes the list, and the day is
reduced again. The digests keep partials of another source, or of another version or
configuration of the reduce (service ports, ephemeral range), apart.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from zt_flows.atomic import atomic_path
from zt_flows.atomic import write_text as write_atomically


class StateStore(Protocol):
    """The few operations the state needs; a local folder or an S3 prefix."""

    def read_text(self, name: str) -> str | None: ...
    def write_text(self, name: str, text: str) -> None: ...
    def put_file(self, name: str, local: Path) -> None: ...
    def get_file(self, name: str, local: Path) -> Path: ...
    def describe(self) -> str: ...


class LocalState:
    """The state in a local folder; every write goes through a temporary file and a rename."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / name

    def read_text(self, name: str) -> str | None:
        try:
            return self._path(name).read_text("utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, name: str, text: str) -> None:
        path = self._path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, text)

    def put_file(self, name: str, local: Path) -> None:
        path = self._path(name)
        if path == local:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            shutil.copyfile(local, tmp)

    def get_file(self, name: str, local: Path) -> Path:
        del local  # read where it lies
        return self._path(name)

    def local_path(self, name: str) -> Path:
        """Where a partial may be written directly (then ``put_file`` is a no-op)."""
        return self._path(name)

    def describe(self) -> str:
        return str(self.root)


class S3State:
    """The state under ``s3://bucket/prefix``, through an injected S3 client."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def read_text(self, name: str) -> str | None:
        try:
            found = self.client.get_object(Bucket=self.bucket, Key=self._key(name))
        except self.client.exceptions.NoSuchKey:
            return None
        return str(found["Body"].read().decode("utf-8"))

    def write_text(self, name: str, text: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(name), Body=text.encode())

    def put_file(self, name: str, local: Path) -> None:
        self.client.upload_file(str(local), self.bucket, self._key(name))

    def get_file(self, name: str, local: Path) -> Path:
        local.parent.mkdir(parents=True, exist_ok=True)
        tmp = local.with_name(f".{local.name}.part")
        self.client.download_file(self.bucket, self._key(name), str(tmp))
        tmp.replace(local)
        return local

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def open_state(location: str | Path, *, client: Any = None) -> StateStore:
    """A local folder, or ``s3://bucket/prefix`` (``client``: an S3 client)."""
    text = str(location)
    if text.startswith("s3://"):
        if client is None:
            raise ValueError("an S3 state needs an S3 client")
        bucket, _, prefix = text.removeprefix("s3://").partition("/")
        return S3State(client, bucket, prefix)
    return LocalState(Path(location).expanduser().absolute())


def source_digest(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:12]


# Per version: (version, records, flows, nodata, skipdata, first start, last end).
VersionRow = tuple[int | None, int, int, int, int, int | None, int | None]
# Per (interface, account, VPC) the records name: the number of records.
OriginRow = tuple[str | None, str | None, str | None, int]


@dataclass(frozen=True)
class DayRecord:
    """What one day's partial covers and holds, from its ``manifest.json`` / ``day.json``."""

    day: date
    objects: tuple[tuple[str, str], ...]  # (uri, identity: ETag, or size/mtime)
    versions: tuple[VersionRow, ...]
    origins: tuple[OriginRow, ...]
    rows: int

    @property
    def interfaces(self) -> tuple[str, ...]:
        """Interfaces with any record of the day (flows, NODATA or SKIPDATA)."""
        return tuple(sorted({o[0] for o in self.origins if o[0] is not None}))


def _opt_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _null_last(value: object) -> tuple[bool, str]:
    return (value is None, "" if value is None else str(value))


def day_record(
    day: date,
    objects: tuple[tuple[str, str], ...],
    summary: Iterable[Sequence[object]],
    rows: int,
) -> DayRecord:
    """The day's record from the rows of ``reduce/sql.py``'s SUMMARY_SQL (either engine):
    (version, interface, account, VPC, records, flows, NODATA, SKIPDATA, first, last)."""
    versions: dict[int | None, list[int | None]] = {}
    origins: dict[tuple[str | None, str | None, str | None], int] = defaultdict(int)
    for row in summary:
        version = _opt_int(row[0])
        counts = [int(str(v)) for v in row[4:8]]
        first, last = _opt_int(row[8]), _opt_int(row[9])
        found = versions.setdefault(version, [0, 0, 0, 0, first, last])
        for i, n in enumerate(counts):
            found[i] = int(found[i] or 0) + n
        if first is not None:
            found[4] = first if found[4] is None else min(first, found[4])
        if last is not None:
            found[5] = last if found[5] is None else max(last, found[5])
        origins[(_opt_str(row[1]), _opt_str(row[2]), _opt_str(row[3]))] += counts[0]
    return DayRecord(
        day=day,
        objects=objects,
        versions=tuple(
            (v, int(n[0] or 0), int(n[1] or 0), int(n[2] or 0), int(n[3] or 0), n[4], n[5])
            for v, n in sorted(versions.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ),
        origins=tuple(
            (*key, n)
            for key, n in sorted(
                origins.items(), key=lambda item: tuple(_null_last(k) for k in item[0])
            )
        ),
        rows=rows,
    )


def day_folder(prefix: str, day: date) -> str:
    return f"{prefix}/day={day.isoformat()}"


def read_day(store: StateStore, prefix: str, day: date) -> DayRecord | None:
    """The day's record, or None when it is not (completely) in the state."""
    folder = day_folder(prefix, day)
    manifest = store.read_text(f"{folder}/manifest.json")
    numbers = store.read_text(f"{folder}/day.json")
    if manifest is None or numbers is None:
        return None
    with contextlib.suppress(ValueError, KeyError, TypeError):
        objects = json.loads(manifest)["objects"]
        doc = json.loads(numbers)
        return DayRecord(
            day=day,
            objects=tuple((str(o["uri"]), str(o["identity"])) for o in objects),
            versions=tuple(
                (v[0], int(v[1]), int(v[2]), int(v[3]), int(v[4]), v[5], v[6])
                for v in doc["versions"]
            ),
            origins=tuple(
                (_opt_str(o[0]), _opt_str(o[1]), _opt_str(o[2]), int(o[3])) for o in doc["origins"]
            ),
            rows=int(doc["rows"]),
        )
    return None


def write_day(store: StateStore, prefix: str, record: DayRecord, partial: Path) -> None:
    """The partial, its numbers, and last the manifest that makes the day count."""
    folder = day_folder(prefix, record.day)
    store.put_file(f"{folder}/partial.parquet", partial)
    numbers = {
        "rows": record.rows,
        "versions": [list(v) for v in record.versions],
        "origins": [list(o) for o in record.origins],
    }
    store.write_text(f"{folder}/day.json", json.dumps(numbers, indent=1) + "\n")
    manifest = {
        "schema_version": 1,
        "day": record.day.isoformat(),
        "objects": [{"uri": uri, "identity": ident} for uri, ident in record.objects],
    }
    store.write_text(f"{folder}/manifest.json", json.dumps(manifest, indent=1) + "\n")
