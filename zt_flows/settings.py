"""Configuration: one frozen object, passed explicitly to every stage.

Nothing in the package reads environment variables or global state on its own
except the AWS session factory (which follows the standard AWS settings) and the
CLI, which builds a :class:`Settings` from its options. Stages receive the part
they need (``settings.sources``, ``settings.recommend``, ...).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Literal

from zt_flows.errors import UsageError

OnError = Literal["stop", "skip"]
Severity = Literal["info", "low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "low", "medium", "high", "critical")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/ztflows`` or ``~/.cache/ztflows``."""
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base) if base else Path.home() / ".cache") / "ztflows"


@dataclass(frozen=True)
class AwsSettings:
    """How to reach AWS. ``None`` means the standard boto3 resolution (env, config files)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    # Collect the inventory in these regions; empty means the session's region, and
    # ("all",) every region enabled in the account.
    regions: tuple[str, ...] = ()
    # Collect the inventory with each of these named profiles (one account each).
    profiles: tuple[str, ...] = ()
    # One role per account to assume for collecting (cross-account).
    assume_roles: tuple[str, ...] = ()
    # Collect every active account of the AWS Organization (organizations:ListAccounts),
    # through the role of this name in each.
    organization: bool = False
    role_name: str = "ztflows-read"  # inventory.organization.DEFAULT_ROLE_NAME
    max_attempts: int = 10


@dataclass(frozen=True)
class TimeWindow:
    """Half-open observation window ``[since, until)`` in UTC; ``None`` leaves a side open."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        for value in (self.since, self.until):
            if value is not None and value.tzinfo is None:
                raise UsageError(f"time window bound {value.isoformat()} has no time zone")
        if self.since and self.until and self.since >= self.until:
            raise UsageError(
                f"--since ({self.since.isoformat()}) must be before --until "
                f"({self.until.isoformat()})"
            )


@dataclass(frozen=True)
class SourceSettings:
    """Reading flow logs: S3 listing, cache, parallelism, error policy."""

    cache_dir: Path = field(default_factory=default_cache_dir)
    download_workers: int = 8
    on_error: OnError = "stop"
    # Show progress bars (the CLI turns this off for --quiet and non-terminals).
    progress: bool = True
    # Keys per S3 ListObjectsV2 page (S3's maximum is 1000).
    list_page_size: int = 1000
    # The fields of text without a header line (CloudWatch Logs messages and exports),
    # hyphenated, in order; None: the version-2 default format.
    text_fields: tuple[str, ...] | None = None
    # Events per CloudWatch Logs GetLogEvents page; None: the service's own (up to 10,000
    # events or 1 MB).
    log_events_page_size: int | None = None
    # Daily partials (zt_flows.reduce): a folder or s3://bucket/prefix; None reads every
    # record of the window in one scan and keeps nothing.
    state: str | None = None


@dataclass(frozen=True)
class EngineSettings:
    """The DuckDB engine: memory bound, threads, and where to spill."""

    memory_limit: str = "4GB"
    threads: int | None = None
    temp_dir: Path | None = None


@dataclass(frozen=True)
class ConversationSettings:
    """Initiator detection and endpoint classification."""

    # Client ports at or above this are ephemeral (Linux uses 32768-60999, Windows and
    # NAT gateways 1024/49152-65535); a port below it is a candidate server port.
    ephemeral_port_min: int = 32768
    # Ports that are servers whenever they appear, whichever side is lower.
    service_ports: frozenset[int] = frozenset(
        {
            20,
            21,
            22,
            23,
            25,
            53,
            67,
            68,
            80,
            88,
            110,
            123,
            135,
            137,
            138,
            139,
            143,
            161,
            389,
            443,
            445,
            465,
            514,
            587,
            636,
            873,
            993,
            995,
            1433,
            1521,
            2049,
            2181,
            2375,
            2376,
            2379,
            2380,
            3000,
            3306,
            3389,
            4222,
            5000,
            5432,
            5439,
            5671,
            5672,
            5900,
            5984,
            6379,
            6443,
            7000,
            7001,
            8000,
            8080,
            8081,
            8086,
            8200,
            8443,
            8500,
            8888,
            9000,
            9042,
            9090,
            9092,
            9093,
            9100,
            9200,
            9300,
            9418,
            10250,
            11211,
            15672,
            27017,
            50051,
        }
    )
    # Ranges that are reached over VPN / Direct Connect: classed "onprem", not "internet".
    onprem_cidrs: tuple[str, ...] = ()
    # Partners' ranges (public or private): classed "partner". A rule narrows to such a named
    # range at most, never to the partner's hosts seen in the window.
    partner_cidrs: tuple[str, ...] = ()
    # Internet peers fold into classes (the address ranges rules can tell apart) once a class
    # holds more than this many distinct addresses; None never folds.
    fold_threshold: int | None = 256
    # Accepted TCP from internet clients to these ports keeps each client's identity: the
    # recommender judges every one of them (a session or a probe). ``observe`` adds the
    # recommender's admin ports.
    identity_ports: frozenset[int] = frozenset({22, 3389})
    # More CIDR blocks the classes must not straddle (a plan's peers, when it is checked).
    fold_boundaries: tuple[str, ...] = ()
    # Known scanners (vulnerability scanners, probes the team runs): their traffic is
    # reported, but a target's ingress rule is never kept or shaped for it alone.
    scanner_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class ScopeSettings:
    """Which security groups a run judges and plans for; an empty field selects everything.

    Groups outside the scope keep their rules as they are and are left out of the plan and
    the findings; traffic to and from them is still resolved, so rules in scope can still
    name them.
    """

    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    vpc_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    # fnmatch patterns over group names (``web-*``); a group matching an id or a pattern is in.
    group_names: tuple[str, ...] = ()

    @property
    def everything(self) -> bool:
        return not (
            self.accounts or self.regions or self.vpc_ids or self.group_ids or self.group_names
        )


@dataclass(frozen=True)
class ExpectedPeer:
    """A conversation the team declares expected: never reported as new.

    ``client`` and ``server`` are written as ``ztflows diff`` names a side: a security-group
    id, ``internet``, ``aws:SERVICE``, ``onprem:RANGE``, ``partner:RANGE``, or ``*``;
    ``port`` a conversation label (``tcp/443``) or None for any.
    """

    client: str
    server: str
    port: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Suppression:
    """A finding accepted on purpose: its code and subject, why, and until when."""

    code: str
    subject: str
    reason: str
    expires: date | None = None


@dataclass(frozen=True)
class RecommendSettings:
    """Thresholds and shapes for the least-privilege recommender."""

    # Below either threshold an observed conversation still gets a rule, flagged low-confidence.
    min_flows: int = 1
    min_days: int = 1
    # A rule seen on fewer than this share of the window's days is flagged low-confidence.
    low_confidence_days_ratio: float = 0.34
    # Merge observed ports into a range only when at least this share of it was observed.
    port_range_density: float = 0.5
    # AWS quota: inbound and outbound rules per security group (each direction).
    max_rules_per_direction: int = 60
    # Port ranges services use as ranges (Kubernetes NodePorts by default; add passive FTP
    # data ports, RTP, ...): when at least ``range_min_ports`` observed ports of one peer fall
    # in such a range, the rule keeps the range rather than the ports seen in the window.
    port_ranges: tuple[tuple[int, int], ...] = ((30000, 32767),)
    # An existing rule written as a port range keeps it when this many of its ports were seen.
    range_min_ports: int = 3
    # Remote administration: from the internet only peers with real sessions keep access.
    admin_ports: frozenset[int] = frozenset({22, 3389})
    # Database and cache ports (findings on CIDR access, data-tier detection).
    database_ports: frozenset[int] = frozenset(
        {1433, 1521, 2484, 3306, 5432, 5439, 5984, 6379, 6380, 8086, 9042, 9200, 9300}
        | {11211, 26257, 27017, 27018, 27019, 28015}
    )
    # An internet peer on an admin port had a real session when its connections averaged at
    # least this many packets, both directions (a handshake and a reset is 3 or 4) ...
    admin_session_min_packets: float = 10.0
    # ... or when it was seen on at least this many days of the window (0: days do not count).
    admin_session_min_days: int = 0
    # Keep a "-1" rule's all-traffic shape for a peer only if it used this many protocols.
    all_traffic_min_protocols: int = 3
    # NAT gateway data processing, US$ per GB, for the savings an endpoint would bring
    # (ZT026). The default is US East (N. Virginia)'s: https://aws.amazon.com/vpc/pricing/
    nat_price_per_gb: float = 0.045


@dataclass(frozen=True)
class Settings:
    """Everything configurable, in one immutable value."""

    window: TimeWindow = field(default_factory=TimeWindow)
    aws: AwsSettings = field(default_factory=AwsSettings)
    sources: SourceSettings = field(default_factory=SourceSettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    conversations: ConversationSettings = field(default_factory=ConversationSettings)
    recommend: RecommendSettings = field(default_factory=RecommendSettings)
    # Findings at or above this severity make `analyze` exit with ExitCode.POLICY.
    fail_on: Severity | None = None
    scope: ScopeSettings = field(default_factory=ScopeSettings)
    expected_peers: tuple[ExpectedPeer, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    # The configuration file these settings came from (None: defaults and flags only).
    config_file: Path | None = None


_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_time(text: str, *, now: datetime | None = None, option: str = "--since") -> datetime:
    """Parse ``7d`` / ``36h`` (before now) or an ISO date/time (UTC unless it says otherwise)."""
    now = now or datetime.now(UTC)
    match = _DURATION.match(text)
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        return now - timedelta(**{_UNITS[unit]: amount})
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option}: expected a duration like 7d, 36h, 90m or an ISO date like "
            f"2026-11-01 or 2026-11-01T12:00Z, found {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_window(
    since: str | None, until: str | None, *, now: datetime | None = None
) -> TimeWindow:
    """A :class:`TimeWindow` from the CLI's ``--since`` / ``--until`` strings."""
    return TimeWindow(
        since=parse_time(since, now=now, option="--since") if since else None,
        until=parse_time(until, now=now, option="--until") if until else None,
    )


def parse_port_range(text: str) -> tuple[int, int]:
    """``LOW-HIGH`` as two ports; a ValueError says what was expected."""
    low, sep, high = text.strip().partition("-")
    try:
        bounds = (int(low), int(high)) if sep else (-1, -1)
    except ValueError:
        bounds = (-1, -1)
    if not 0 <= bounds[0] < bounds[1] <= 65535:
        raise ValueError("LOW-HIGH with 0 <= LOW < HIGH <= 65535")
    return bounds


def normalize_cidrs(values: Iterable[str]) -> tuple[str, ...]:
    """CIDR blocks in network-address form, sorted (IPv4 first) and unique; a ValueError
    carries the first value that is not a CIDR block."""
    import ipaddress

    out = set()
    for value in values:
        try:
            out.add(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(value) from None
    return tuple(str(n) for n in sorted(out, key=lambda n: (n.version, n)))
