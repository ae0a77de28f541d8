"""The CloudWatch Logs adapter of the sources stage: flow logs read from a log group.

``cwlogs://GROUP[/STREAM-PREFIX]`` names a log group, and optionally a prefix of its log
streams. Group names may hold slashes (``/aws/vpc/flow-logs``), so the longest leading
part of the path that is an existing group is the group, and the rest the stream prefix.

VPC Flow Logs publishes one log stream per network interface (named after it), each
event one record as text in the flow log's format, without a header
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-cwl.html). So a stream is
read as one text object: its events of the window are fetched into the cache as lines,
then converted like any text object (with ``--fields``; by default the version-2 default
format), which names a bad record by stream and line (the event's rank in the window).

Why GetLogEvents per stream, not FilterLogEvents over the group: a stream is the unit a
flow log writes, so it maps onto an object (errors, cache entries, progress) one to one;
streams are fetched in parallel, each with its own token; GetLogEvents reads a stream in
order without the filter engine; and DescribeLogStreams tells each stream's first and
last event time and last ingestion, so streams outside the window are never read and a
stream that did not change is not fetched again (its identity includes the last
ingestion time). FilterLogEvents would interleave the streams in one token chain that
cannot be split across workers.

Paging follows the API: ``startFromHead`` with ``nextForwardToken``, until the service
returns the token it was given (GetLogEvents: "If you have reached the end of the
stream, it returns the same token you passed in",
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html).
``--since/--until`` become ``startTime``/``endTime`` widened by the same hour of slack the
S3 pruning uses: an event's time is when it was published, minutes after its record's
capture window; records are then filtered exactly on ``start``/``end``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from zt_flows.aws import aws_call, client_config
from zt_flows.errors import SourceNotFoundError, UsageError
from zt_flows.parallel import Cancelled, run_parallel
from zt_flows.progress import Progress, Task
from zt_flows.settings import AwsSettings, TimeWindow
from zt_flows.sources.cache import atomic_path
from zt_flows.sources.candidates import Candidate
from zt_flows.sources.layout import SLACK, KeyInfo

if TYPE_CHECKING:
    import boto3

SCHEME = "cwlogs://"
# DescribeLogStreams returns at most 50 streams a page.
_STREAMS_PAGE = 50


class LogsClient(Protocol):
    """The CloudWatch Logs calls this adapter makes (a boto3 ``logs`` client)."""

    def describe_log_groups(self, **kwargs: Any) -> dict[str, Any]: ...

    def describe_log_streams(self, **kwargs: Any) -> dict[str, Any]: ...

    def get_log_events(self, **kwargs: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class LogGroupSource:
    group: str
    stream_prefix: str

    @property
    def uri(self) -> str:
        return f"{SCHEME}{self.group}" + (f"/{self.stream_prefix}" if self.stream_prefix else "")


def logs_client(session: boto3.session.Session, aws: AwsSettings) -> LogsClient:
    """A CloudWatch Logs client for ``session`` honouring the region, endpoint and retries."""
    client: LogsClient = session.client(
        "logs",
        region_name=aws.region or session.region_name,
        endpoint_url=aws.endpoint_url,
        config=client_config(aws),
    )
    return client


def resolve_log_group(client: LogsClient, uri: str) -> LogGroupSource:
    """The log group and stream prefix ``cwlogs://...`` names: the longest existing group."""
    path = uri[len(SCHEME) :]
    if not path.strip("/"):
        raise UsageError(f"SOURCE: expected cwlogs://LOG-GROUP[/STREAM-PREFIX], found {uri!r}")
    segments = path.split("/")
    for cut in range(len(segments), 0, -1):
        group = "/".join(segments[:cut])
        if not group.strip("/") or group.endswith("/"):
            continue
        if _group_exists(client, group):
            return LogGroupSource(group, "/".join(segments[cut:]))
    raise SourceNotFoundError(
        f"no CloudWatch Logs log group named by {uri}",
        hint="check the group name (describe-log-groups), the account and the --region",
    )


def _group_exists(client: LogsClient, group: str) -> bool:
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"logGroupNamePrefix": group}
        if token:
            kwargs["nextToken"] = token
        with aws_call("logs:DescribeLogGroups", f"{SCHEME}{group}"):
            page = client.describe_log_groups(**kwargs)
        if any(g.get("logGroupName") == group for g in page.get("logGroups", [])):
            return True
        token = page.get("nextToken")
        if not token:
            return False


def _millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _time(millis: object) -> datetime | None:
    if not isinstance(millis, int):
        return None
    return datetime.fromtimestamp(millis / 1000, tz=UTC)


def event_bounds(window: TimeWindow) -> tuple[int | None, int | None]:
    """``startTime``/``endTime`` (ms) for the window, widened by the publishing slack."""
    since = _millis(window.since - SLACK) if window.since is not None else None
    until = _millis(window.until + SLACK) if window.until is not None else None
    return since, until


def list_streams(
    client: LogsClient, source: LogGroupSource, window: TimeWindow, *, progress: Progress
) -> list[Candidate]:
    """The group's streams (with the prefix) as text candidates, sorted by name.

    Each candidate's time bounds are its first and last event (so the caller prunes
    streams outside the window); its ``etag`` is what identifies this read of it: the
    window's event bounds and the stream's last ingestion time.
    """
    since, until = event_bounds(window)
    found: list[Candidate] = []
    token: str | None = None
    with progress.task(f"listing {source.uri}") as task:
        while True:
            kwargs: dict[str, Any] = {"logGroupName": source.group, "limit": _STREAMS_PAGE}
            if source.stream_prefix:
                kwargs["logStreamNamePrefix"] = source.stream_prefix
            if token:
                kwargs["nextToken"] = token
            with aws_call("logs:DescribeLogStreams", source.uri):
                page = client.describe_log_streams(**kwargs)
            for stream in page.get("logStreams", []):
                found.append(_candidate(source, stream, since, until))
                task.advance()
            token = page.get("nextToken")
            if not token:
                break
    return sorted(found, key=lambda c: c.key)


def _candidate(
    source: LogGroupSource, stream: dict[str, Any], since: int | None, until: int | None
) -> Candidate:
    name = str(stream["logStreamName"])
    first = _time(stream.get("firstEventTimestamp"))
    last = _time(stream.get("lastEventTimestamp"))
    info = KeyInfo(layout="unknown")
    if first is not None and last is not None:
        # The stream's events lie in [first, last]; KeyInfo adds the slack on both sides.
        info = KeyInfo(layout="unknown", folder_start=first, folder_span=last - first)
    ingested = stream.get("lastIngestionTime", stream.get("lastEventTimestamp", ""))
    return Candidate(
        uri=f"{SCHEME}{source.group}/{name}",
        key=name,
        size=int(stream.get("storedBytes") or 0),
        info=info,
        format="text",
        compressed=False,
        etag=f"events={since}..{until};ingested={ingested}",
    )


def fetch_streams(
    client: LogsClient,
    source: LogGroupSource,
    items: list[tuple[Candidate, Path]],
    window: TimeWindow,
    *,
    page_size: int | None,
    workers: int,
    progress: Progress,
) -> None:
    """Write each stream's events of the window to its path, one message a line."""
    if not items:
        return
    since, until = event_bounds(window)
    with progress.task(f"reading {len(items)} log streams", total=len(items)) as task:
        run_parallel(
            items,
            lambda item, cancel: _fetch(
                client, source, item[0], item[1], since, until, page_size, task, cancel
            ),
            workers=workers,
        )


def _fetch(
    client: LogsClient,
    source: LogGroupSource,
    candidate: Candidate,
    target: Path,
    since: int | None,
    until: int | None,
    page_size: int | None,
    task: Task,
    cancel: threading.Event,
) -> None:
    kwargs: dict[str, Any] = {
        "logGroupName": source.group,
        "logStreamName": candidate.key,
        "startFromHead": True,
    }
    if since is not None:
        kwargs["startTime"] = since
    if until is not None:
        kwargs["endTime"] = until
    if page_size:
        kwargs["limit"] = page_size
    token: str | None = None
    with atomic_path(target) as tmp, tmp.open("wb") as out:
        while True:
            if cancel.is_set():
                raise Cancelled
            if token is not None:
                kwargs["nextToken"] = token
            with aws_call("logs:GetLogEvents", candidate.uri):
                page = client.get_log_events(**kwargs)
            for event in page.get("events", []):
                message = str(event.get("message", "")).rstrip("\r\n")
                out.write(message.encode("utf-8", "surrogateescape") + b"\n")
            following = page.get("nextForwardToken")
            if not following or following == token:
                break
            token = following
    task.advance()
