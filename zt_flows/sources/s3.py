"""The S3 adapter of the sources stage: listing flow-log objects and downloading them.

Listing: with no window, everything under the prefix is listed in pages. With a window,
the prefix is walked level by level (``Delimiter="/"``) through the AWS layouts, and
only the days that can hold records of the window are listed (each day whole, hours and
all, in parallel): a week of a bucket holding years costs a few dozen requests, not
hundreds of thousands of keys. Every key found is then pruned by its own folder and
file-name time.

Downloading: objects go into the cache (``zt_flows.sources.cache``) keyed by bucket, key
and ETag, or into the run's staging folder (text objects, converted next), on
``download_workers`` threads, through a ``.part`` file published when complete and checked
against the listed size. ``IfMatch`` pins the version that was listed.

Why download instead of reading in place through pyarrow's S3 filesystem (or DuckDB's
httpfs): later stages scan the records several times (summary, conversations, rule
replay) and in-place reads would fetch every object each time; DuckDB's own Parquet
reader on local files is its fastest path (parallel row groups, filter pushdown) where
an Arrow dataset over S3 is not; DuckDB's httpfs is an extension ztflows may not
download; and flow-log objects never change, so a cache keyed by ETag is always right
and makes every run after the first free of S3 traffic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
import botocore.exceptions

from zt_flows.aws import aws_call, client_config, make_session
from zt_flows.errors import AwsError, SourceNotFoundError, UsageError
from zt_flows.parallel import Cancelled, run_parallel
from zt_flows.progress import Progress, Task
from zt_flows.settings import AwsSettings, Settings, TimeWindow
from zt_flows.sources.cache import cache_entry
from zt_flows.sources.candidates import Candidate, format_of
from zt_flows.sources.layout import PrefixState, is_flow_log_name, parse_key, state_of_prefix, step

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectTypeDef, PaginatorConfigTypeDef

_CHUNK = 1 << 20


@dataclass(frozen=True)
class S3Source:
    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


def parse_s3_uri(uri: str) -> S3Source:
    rest = uri[len("s3://") :]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise UsageError(f"SOURCE: expected s3://bucket/prefix, found {uri!r}")
    return S3Source(bucket, prefix)


def s3_client(session: boto3.session.Session, aws: AwsSettings, *, workers: int) -> S3Client:
    """An S3 client for ``session`` honouring the region, endpoint and retry settings."""
    return session.client(
        "s3",
        region_name=aws.region or session.region_name,
        endpoint_url=aws.endpoint_url,
        config=client_config(aws, max_pool_connections=max(10, workers)),
    )


# --------------------------------------------------------------------------- listing


def list_s3_source(
    uri: str,
    settings: Settings,
    *,
    session: boto3.session.Session | None,
    workers: int,
    progress: Progress,
) -> tuple[S3Source, S3Client, list[Candidate]]:
    """The flow-log objects under the ``s3://`` source ``uri`` for the settings' window,
    with the parsed source and the client that listed them (to download with). What
    ``read_flow_logs`` and the daily reduce's planning both list; none is an error."""
    where = parse_s3_uri(uri)
    client = s3_client(session or make_session(settings.aws), settings.aws, workers=workers)
    found = list_s3(
        client,
        where,
        settings.window,
        page_size=settings.sources.list_page_size,
        workers=workers,
        progress=progress,
    )
    if not found:
        raise SourceNotFoundError(
            f"no flow-log objects (.log.gz, .log.parquet) under {where.uri}",
            hint="check the bucket and prefix; AWS delivers under <prefix>/AWSLogs/",
        )
    return where, client, found


def list_s3(
    client: S3Client,
    source: S3Source,
    window: TimeWindow,
    *,
    page_size: int,
    workers: int,
    progress: Progress,
) -> list[Candidate]:
    """Flow-log objects under ``source``, sorted by key.

    With a window, folders that cannot hold its records are not listed; the objects
    returned are still to be pruned one by one by their keys (the caller does).
    """
    bounded = window.since is not None or window.until is not None
    state = state_of_prefix(source.prefix, window) if bounded else None
    walkable = state is not None and (source.prefix == "" or source.prefix.endswith("/"))
    with progress.task(f"listing {source.uri}") as task:
        if not walkable or state is None:
            objects = list(_list_all(client, source, source.prefix, page_size, task))
        else:
            objects, whole = _walk(client, source, state, window, page_size, task)
            for batch in run_parallel(
                whole,
                lambda prefix, _cancel: list(_list_all(client, source, prefix, page_size, task)),
                workers=workers,
            ):
                objects.extend(batch)
    found = [_candidate(source, obj) for obj in objects if is_flow_log_name(obj["Key"])]
    return sorted(found, key=lambda c: c.key)


def _pages(
    client: S3Client, source: S3Source, prefix: str, page_size: int, delimiter: str | None
) -> Iterator[tuple[list[ObjectTypeDef], list[str]]]:
    paginator = client.get_paginator("list_objects_v2")
    config: PaginatorConfigTypeDef = {"PageSize": page_size}
    with aws_call("s3:ListBucket", f"s3://{source.bucket}/{prefix}"):
        if delimiter:
            pages = paginator.paginate(
                Bucket=source.bucket, Prefix=prefix, Delimiter=delimiter, PaginationConfig=config
            )
        else:
            pages = paginator.paginate(Bucket=source.bucket, Prefix=prefix, PaginationConfig=config)
        for page in pages:
            common = [p["Prefix"] for p in page.get("CommonPrefixes", []) if "Prefix" in p]
            yield list(page.get("Contents", [])), common


def _list_all(
    client: S3Client, source: S3Source, prefix: str, page_size: int, task: Task
) -> Iterator[ObjectTypeDef]:
    for contents, _ in _pages(client, source, prefix, page_size, None):
        task.advance(len(contents))
        yield from contents


def _walk(
    client: S3Client,
    source: S3Source,
    state: PrefixState,
    window: TimeWindow,
    page_size: int,
    task: Task,
) -> tuple[list[ObjectTypeDef], list[str]]:
    """Walk the layout from ``source.prefix``: objects met, and prefixes to list whole."""
    objects: list[ObjectTypeDef] = []
    whole: list[str] = []
    stack: list[tuple[str, PrefixState]] = [(source.prefix, state)]
    while stack:
        prefix, current = stack.pop()
        for contents, common in _pages(client, source, prefix, page_size, "/"):
            objects.extend(contents)
            task.advance(len(contents))
            for sub in common:
                action, nxt = step(current, sub[len(prefix) :].rstrip("/"), window)
                if action == "walk" and nxt is not None:
                    stack.append((sub, nxt))
                elif action == "list":
                    whole.append(sub)
    return objects, sorted(whole)


def _candidate(source: S3Source, obj: ObjectTypeDef) -> Candidate:
    key = obj["Key"]
    kind = format_of(key)
    return Candidate(
        uri=f"s3://{source.bucket}/{key}",
        key=key,
        size=int(obj.get("Size", 0)),
        info=parse_key(key),
        format=kind[0],
        compressed=kind[1],
        etag=str(obj.get("ETag", "")).strip('"') or None,
    )


# --------------------------------------------------------------------------- downloading


def download_objects(
    client: S3Client,
    bucket: str,
    items: list[tuple[Candidate, Path]],
    *,
    workers: int,
    progress: Progress,
    damaged: frozenset[Path] = frozenset(),
) -> None:
    """Download each candidate to its cache path (complete files only), in parallel.

    ``damaged``: paths holding a damaged entry (a size that is not the listing's), replaced
    by the download; any other entry another run publishes meanwhile is kept.
    """
    if not items:
        return
    total = sum(c.size for c, _ in items)
    with progress.task(f"downloading {len(items)} objects", total=total) as task:
        run_parallel(
            items,
            lambda item, cancel: _download(
                client, bucket, item[0], item[1], task, cancel, replace=item[1] in damaged
            ),
            workers=workers,
        )


def _download(
    client: S3Client,
    bucket: str,
    candidate: Candidate,
    target: Path,
    task: Task,
    cancel: threading.Event,
    *,
    replace: bool = False,
) -> None:
    if cancel.is_set():
        raise Cancelled
    with aws_call("s3:GetObject", candidate.uri):
        try:
            if candidate.etag:
                response = client.get_object(
                    Bucket=bucket, Key=candidate.key, IfMatch=candidate.etag
                )
            else:
                response = client.get_object(Bucket=bucket, Key=candidate.key)
        except botocore.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
                raise AwsError(
                    f"{candidate.uri} changed while it was being read",
                    hint="run the command again",
                ) from None
            raise
        body = response["Body"]
        written = 0
        with cache_entry(target, replace=replace) as tmp, tmp.open("wb") as out:
            for chunk in body.iter_chunks(_CHUNK):
                if cancel.is_set():
                    raise Cancelled
                out.write(chunk)
                written += len(chunk)
                task.advance(len(chunk))
            if written != candidate.size:
                raise AwsError(
                    f"the download of {candidate.uri} was incomplete "
                    f"({written} of {candidate.size} bytes)",
                    hint="run the command again",
                )
