"""Where a flow-log object's records lie in time, read from its key alone.

VPC Flow Logs delivers to S3 under one of two key layouts, each optionally with hourly
partitions (https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html,
"Log file S3 bucket structure")::

    prefix/AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{HH}/]{name}
    prefix/AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/
        year={yyyy}/month={mm}/day={dd}/[hour={HH}/]{name}

and names files ``{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz``
(or ``.log.parquet``), where the timestamp starts the five minutes in which the file's
records *end*. Records start earlier (an aggregation interval is up to ten minutes, and
delivery runs late), so pruning keeps an hour of slack on both sides; rows are then
filtered exactly on ``start``/``end``. Some writers stamp a file with the *end* of the
hour it covers, so a file name's time allows records starting up to two hours before
it. Every part of a key is kept as a string: account
ids keep their leading zeros, and ``hour=05`` is just the hour 5.

Everything here is pure: no I/O, no AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from zt_flows.settings import TimeWindow

Layout = Literal["default", "hive", "unknown"]

# Records may start this long before (and end this long after) what the key says.
SLACK = timedelta(hours=1)
# A file holds the records that end in the five minutes its name's timestamp starts.
FILE_PERIOD = timedelta(minutes=5)
# How long before a file name's time its records may start: the slack, plus an hour for
# writers that name an hourly file by the end of its hour.
FILE_LOOKBACK = SLACK + timedelta(hours=1)

_DEFAULT = re.compile(
    r"(?:^|/)AWSLogs/(?P<account>[^/=]+)/vpcflowlogs/(?P<region>[^/=]+)/"
    r"(?P<year>\d{4})/(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?:(?P<hour>\d{1,2})/)?[^/]+$"
)
_HIVE = re.compile(
    r"(?:^|/)AWSLogs/aws-account-id=(?P<account>[^/]+)/aws-service=vpcflowlogs/"
    r"aws-region=(?P<region>[^/]+)/year=(?P<year>\d{4})/month=(?P<month>\d{1,2})/"
    r"day=(?P<day>\d{1,2})/(?:hour=(?P<hour>\d{1,2})/)?[^/]+$"
)
_NAME = re.compile(
    r"_vpcflowlogs_[^_/]+_(?P<flow_log>fl-[0-9A-Za-z]+)_"
    r"(?P<stamp>\d{8}T\d{4}Z)(?:_[^/]*)?$"
)

# File names that can hold flow logs; anything else under a prefix is ignored (a file named
# on the command line is read whatever its name).
FLOW_LOG_SUFFIXES: tuple[str, ...] = (".parquet", ".gz", ".log")
_OTHER_SUFFIXES: tuple[str, ...] = (".json.gz", ".csv.gz", ".tsv.gz", ".xml.gz")
# AWSLogs/ is shared by other services' logs (CloudTrail, ELB, ...) in many buckets.
_SERVICE = re.compile(r"(?:^|/)AWSLogs/(?:aws-account-id=)?\d{12}/(?:aws-service=)?([^/]+)/")


def is_flow_log_name(name: str) -> bool:
    """Whether a file name or key can be a flow-log object (by suffix, and by service)."""
    base = name.rsplit("/", 1)[-1]
    lower = base.lower()
    if not base or base.startswith(".") or not lower.endswith(FLOW_LOG_SUFFIXES):
        return False
    if lower.endswith(_OTHER_SUFFIXES):
        return False
    service = _SERVICE.search(name)
    return service is None or service.group(1) == "vpcflowlogs"


@dataclass(frozen=True)
class KeyInfo:
    """What a key says about its object: layout, account, region, and its time range."""

    layout: Layout
    account_id: str | None = None
    region: str | None = None
    flow_log_id: str | None = None
    # The folder's day or hour (start, length), and the file name's timestamp.
    folder_start: datetime | None = None
    folder_span: timedelta | None = None
    file_time: datetime | None = None

    @property
    def key_time(self) -> datetime | None:
        """The most precise time the key states (file name, else folder)."""
        return self.file_time or self.folder_start

    def time_bounds(self) -> tuple[datetime | None, datetime | None]:
        """``[lo, hi)`` that every record's start and end lie in, slack included."""
        lo: datetime | None = None
        hi: datetime | None = None
        if self.folder_start is not None and self.folder_span is not None:
            lo = self.folder_start - SLACK
            hi = self.folder_start + self.folder_span + SLACK
        if self.file_time is not None:
            file_lo = self.file_time - FILE_LOOKBACK
            file_hi = self.file_time + FILE_PERIOD + SLACK
            lo = file_lo if lo is None else max(lo, file_lo)
            hi = file_hi if hi is None else min(hi, file_hi)
        return lo, hi

    def may_overlap(self, window: TimeWindow) -> bool:
        """False only when no record of the object can overlap ``window``."""
        return span_may_overlap(*self.time_bounds(), window)


def span_may_overlap(lo: datetime | None, hi: datetime | None, window: TimeWindow) -> bool:
    """Whether records lying in ``[lo, hi)`` can overlap ``[since, until)``."""
    if window.since is not None and hi is not None and hi <= window.since:
        return False
    return not (window.until is not None and lo is not None and lo >= window.until)


def parse_key(key: str) -> KeyInfo:
    """Parse an S3 key or a local path (with ``/`` separators) in either AWS layout."""
    name_match = _NAME.search(key.rsplit("/", 1)[-1])
    file_time = _parse_stamp(name_match.group("stamp")) if name_match else None
    flow_log_id = name_match.group("flow_log") if name_match else None
    for layout, pattern in (("hive", _HIVE), ("default", _DEFAULT)):
        match = pattern.search(key)
        if match is None:
            continue
        start, span = _folder_time(match)
        if start is None:
            break
        return KeyInfo(
            layout="hive" if layout == "hive" else "default",
            account_id=match.group("account"),
            region=match.group("region"),
            flow_log_id=flow_log_id,
            folder_start=start,
            folder_span=span,
            file_time=file_time,
        )
    # Unknown layouts are read whole: a file name's timestamp alone does not prune.
    return KeyInfo(layout="unknown", flow_log_id=flow_log_id, file_time=None)


def _folder_time(match: re.Match[str]) -> tuple[datetime | None, timedelta | None]:
    hour = match.group("hour")
    try:
        start = datetime(
            int(match.group("year")),
            int(match.group("month")),
            int(match.group("day")),
            int(hour) if hour is not None else 0,
            tzinfo=UTC,
        )
    except ValueError:
        return None, None
    return start, timedelta(hours=1) if hour is not None else timedelta(days=1)


def _parse_stamp(stamp: str) -> datetime | None:
    try:
        return datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC)
    except ValueError:
        return None


# --------------------------------------------------------------------------- prefix walking


@dataclass(frozen=True)
class PrefixState:
    """Where a listing prefix stands in the AWS layout, for walking it level by level.

    ``level`` is the next segment expected: ``top`` (anything before ``AWSLogs``),
    ``account``, ``service``, ``region``, ``year``, ``month``, ``day``; ``hive`` says
    which layout the account segment chose; ``date`` holds the year/month parsed so far.
    """

    level: Literal["top", "account", "service", "region", "year", "month", "day"] = "top"
    hive: bool = False
    year: int | None = None
    month: int | None = None
    unknown_depth: int = 0


# What to do with a sub-prefix: walk it further, list everything under it, or skip it.
Step = tuple[Literal["walk", "list", "skip"], PrefixState | None]

# Unknown folders above AWSLogs are walked this deep before listing them whole.
_MAX_UNKNOWN_DEPTH = 3


def step(state: PrefixState, segment: str, window: TimeWindow) -> Step:
    """Decide what to do with the sub-prefix ``segment`` of a prefix in ``state``."""
    level = state.level
    if level == "top":
        if segment == "AWSLogs":
            return "walk", PrefixState(level="account")
        if state.unknown_depth + 1 >= _MAX_UNKNOWN_DEPTH:
            return "list", None
        return "walk", PrefixState(unknown_depth=state.unknown_depth + 1)
    if level == "account":
        if segment.startswith("aws-account-id="):
            return "walk", PrefixState(level="service", hive=True)
        return "walk", PrefixState(level="service", hive=False)
    if level == "service":
        # Other services (CloudTrail, ELB logs) share AWSLogs/ in many buckets.
        wanted = "aws-service=vpcflowlogs" if state.hive else "vpcflowlogs"
        return (
            ("walk", PrefixState(level="region", hive=state.hive))
            if segment == wanted
            else ("skip", None)
        )
    if level == "region":
        return "walk", PrefixState(level="year", hive=state.hive)
    value = _date_part(segment, level, state.hive)
    if value is None:
        return "list", None
    if level == "year":
        lo = _safe_datetime(value, 1, 1)
        hi = _safe_datetime(value + 1, 1, 1)
        nxt = PrefixState(level="month", hive=state.hive, year=value)
    elif level == "month":
        assert state.year is not None
        lo = _safe_datetime(state.year, value, 1)
        hi = _safe_datetime(state.year + (value == 12), value % 12 + 1, 1)
        nxt = PrefixState(level="day", hive=state.hive, year=state.year, month=value)
    else:
        assert state.year is not None
        assert state.month is not None
        lo = _safe_datetime(state.year, state.month, value)
        hi = lo + timedelta(days=1) if lo is not None else None
        nxt = None
    if lo is None or hi is None:
        return "list", None
    if not span_may_overlap(lo - SLACK, hi + SLACK, window):
        return "skip", None
    # A day is listed whole (its hours, or its files): one request instead of 24.
    return ("walk", nxt) if nxt is not None else ("list", None)


def state_of_prefix(prefix: str, window: TimeWindow) -> PrefixState | None:
    """The walking state at ``prefix`` (which ends in ``/``), or None to list it whole."""
    state = PrefixState()
    for segment in [s for s in prefix.split("/") if s]:
        action, nxt = step(state, segment, window)
        if action != "walk" or nxt is None:
            return None
        state = nxt
    return state


_HIVE_NAMES = {"year": "year=", "month": "month=", "day": "day="}


def _date_part(segment: str, level: str, hive: bool) -> int | None:
    text = segment
    if hive:
        label = _HIVE_NAMES.get(level, "")
        if not segment.startswith(label):
            return None
        text = segment[len(label) :]
    if not text.isdigit() or len(text) > 4:
        return None
    return int(text)


def _safe_datetime(year: int, month: int, day: int) -> datetime | None:
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None
