"""Objects found by listing a source, before anything is read; and finding them locally."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from zt_flows.errors import SourceNotFoundError
from zt_flows.progress import Progress
from zt_flows.sources.layout import KeyInfo, is_flow_log_name, parse_key
from zt_flows.sources.model import ObjectFormat


@dataclass(frozen=True)
class Candidate:
    """A flow-log object as a listing found it: name, size, version, and what its key says."""

    uri: str
    key: str  # the S3 key, or the local path with "/" separators
    size: int
    info: KeyInfo
    format: ObjectFormat
    compressed: bool  # text: gzip (True) or plain
    etag: str | None = None  # S3
    path: Path | None = None  # local
    mtime_ns: int | None = None  # local


def format_of(name: str) -> tuple[ObjectFormat, bool]:
    """The format a name's suffix says: ``.parquet``, gzip text, or plain text."""
    lower = name.lower()
    if lower.endswith(".parquet"):
        return "parquet", False
    if lower.endswith(".gz"):
        return "text", True
    return "text", False


def _sniff(path: Path) -> tuple[ObjectFormat, bool]:
    """The format of an explicitly named file whose suffix says nothing: its magic bytes."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet", False
    return "text", head[:2] == b"\x1f\x8b"


def list_local(source: Path, progress: Progress) -> list[Candidate]:
    """Flow-log files at ``source``: the file itself, or every one under the folder.

    A folder is walked recursively in a sorted, stable order; files whose names cannot be
    flow logs (``.json``, ``.csv``, hidden files) are ignored.
    """
    if not source.exists():
        raise SourceNotFoundError(
            f"{source} does not exist", hint="pass a local file or folder, or s3://bucket/prefix"
        )
    root = source.resolve()
    if root.is_file():
        kind = format_of(root.name) if is_flow_log_name(root.name) else _sniff(root)
        return [_candidate(root, kind)]
    found: list[Candidate] = []
    with progress.task(f"listing {source}") as task:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if is_flow_log_name(name):
                    found.append(_candidate(Path(folder) / name, format_of(name)))
                    task.advance()
    if not found:
        raise SourceNotFoundError(
            f"no flow-log files (.log.gz, .log.parquet) under {source}",
            hint="point SOURCE at the folder that holds AWSLogs/, or at a flow-log file",
        )
    return found


def _candidate(path: Path, kind: tuple[ObjectFormat, bool]) -> Candidate:
    stat = path.stat()
    key = path.as_posix()
    return Candidate(
        uri=str(path),
        key=key,
        size=stat.st_size,
        info=parse_key(key),
        format=kind[0],
        compressed=kind[1],
        path=path,
        mtime_ns=stat.st_mtime_ns,
    )
