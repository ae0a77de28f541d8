"""Which network interfaces a flow log captured completely over a window (pure).

A flow log on a VPC or a subnet monitors every network interface in it, including the
ones created after the flow log: "If you create a flow log for a subnet or VPC, each
network interface in that subnet or VPC is monitored", and an interface launched later
gets its log stream or log file as soon as it has traffic.
AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs.html#flow-logs-basics

So an interface's traffic is fully known for a window when, on the interface itself, its
subnet or its VPC, there is a flow log that

- captures ALL traffic, or an ACCEPT log and a REJECT log together do (every record is
  either accepted or rejected; the two may sit on different levels);
- is ACTIVE, and its deliveries do not fail (DeliverLogsStatus is not ``FAILED``);
- was created no later than the moment the interface needed it: the window's start, or
  the interface's attach time when it was attached after the window started (the time
  of its current attachment: what it carried before a re-attachment is not asked about);
- was not deleted before the window ended: a flow log listed by one snapshot and absent
  from a later snapshot of the same account and region stopped at some point in between.

Anything less is a gap, and each gap says exactly what is missing. A REJECT-only flow log
never makes an interface covered: it shows what was refused, not what is in use.

Whether the flow-log configuration is known at all depends on the snapshots: one without
``describe-flow-logs.json`` (for the interface's account and region) says nothing, and
:attr:`InterfaceCoverage.configured` is False there; callers then judge the interface by
whether it wrote records, as before. A flow log listed by the latest snapshot is taken
to have lasted to the window's end: nothing later says otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from zt_flows.inventory import snapshot_files
from zt_flows.inventory.model import FlowLogConfig, Inventory, NetworkInterface, Snapshot

CoverageVia = Literal["eni", "subnet", "vpc"]
GapKind = Literal[
    "no_configuration",  # no describe-flow-logs.json for the interface's account and region
    "no_flow_log",  # no flow log on the interface, its subnet or its VPC
    "reject_only",  # the usable flow logs capture only rejected traffic
    "accept_only",  # the usable flow logs capture only accepted traffic
    "created_late",  # created after the interface needed it (window start or attach time)
    "not_active",  # FlowLogStatus is not ACTIVE
    "delivery_failed",  # DeliverLogsStatus is FAILED
    "deleted",  # listed by one snapshot, gone from a later one, before the window ended
    "traffic_type_unknown",  # the flow log does not say which traffic it captures
]
_LEVELS: tuple[CoverageVia, ...] = ("eni", "subnet", "vpc")


@dataclass(frozen=True)
class CoverageGap:
    """One reason an interface is not covered, as a sentence a finding can carry."""

    kind: GapKind
    message: str
    flow_log_id: str | None = None
    at: datetime | None = None  # created_late: the creation time; deleted: when seen gone


@dataclass(frozen=True)
class InterfaceCoverage:
    """Whether one interface's traffic in the window was captured completely, and by what.

    ``covered_by`` are the flow logs that together capture all of its traffic (the ALL
    logs, or else the ACCEPT and REJECT logs), empty when it is not covered; ``via`` the
    levels they sit on (``("vpc",)``, ``("subnet", "vpc")``); ``gaps`` say why it is not
    covered, empty when it is.
    """

    interface_id: str
    configured: bool  # the flow-log configuration of its account and region is known
    covered: bool
    needed_from: datetime  # the window's start, or the attach time when later
    covered_by: tuple[FlowLogConfig, ...] = ()
    via: tuple[CoverageVia, ...] = ()
    gaps: tuple[CoverageGap, ...] = ()

    @property
    def reason(self) -> str:
        """Every gap in one line ("" when covered)."""
        return "; ".join(gap.message for gap in self.gaps)


def has_flow_log_configuration(inventory: Inventory) -> bool:
    """Whether any snapshot holds ``describe-flow-logs.json`` (for any account and region).

    Without it, which interfaces were logged is unknown, and callers fall back to judging
    interfaces by whether they wrote records.
    """
    return any(_holds_document(snap) for snap in inventory.snapshots)


def interface_coverage(
    inventory: Inventory, window_start: datetime, window_end: datetime
) -> Mapping[str, InterfaceCoverage]:
    """The coverage of every interface of ``inventory`` over ``[window_start, window_end)``.

    Keyed and ordered by interface id. Times must be timezone-aware.
    """
    start = _utc(window_start, "window_start")
    end = _utc(window_end, "window_end")
    if end <= start:
        raise ValueError(f"the window ends ({end}) before it starts ({start})")
    by_resource: dict[str, list[FlowLogConfig]] = {}
    for log in inventory.flow_logs:
        by_resource.setdefault(log.resource_id, []).append(log)
    histories: dict[tuple[str, str | None], _History] = {}
    out: dict[str, InterfaceCoverage] = {}
    for eni_id in sorted(inventory.interfaces):
        eni = inventory.interfaces[eni_id]
        scope = (eni.account_id, eni.region)
        if scope not in histories:
            histories[scope] = _History.of(inventory.snapshots, *scope)
        out[eni_id] = _judge(eni, by_resource, histories[scope], start, end)
    return out


# --------------------------------------------------------------------------- judging


def _judge(
    eni: NetworkInterface,
    by_resource: Mapping[str, list[FlowLogConfig]],
    history: _History,
    start: datetime,
    end: datetime,
) -> InterfaceCoverage:
    attached = eni.attach_time
    needed_from = max(start, attached) if attached is not None else start
    if not history.configured:
        account, region = history.scope
        gap = CoverageGap(
            "no_configuration",
            f"no flow-log configuration for account {account} in {region or 'its region'} "
            "(describe-flow-logs.json)",
        )
        return InterfaceCoverage(eni.id, False, False, needed_from, gaps=(gap,))
    candidates: list[tuple[CoverageVia, FlowLogConfig]] = [
        (level, log)
        for level, rid in zip(_LEVELS, (eni.id, eni.subnet_id, eni.vpc_id), strict=True)
        if rid is not None
        for log in by_resource.get(rid, ())
    ]
    if not candidates:
        where = f"{eni.id}, its subnet {eni.subnet_id} or" if eni.subnet_id else f"{eni.id} or"
        gap = CoverageGap("no_flow_log", f"no flow log on {where} its VPC {eni.vpc_id}")
        return InterfaceCoverage(eni.id, True, False, needed_from, gaps=(gap,))

    since = "the window started" if needed_from == start else f"{eni.id} was attached"
    gaps: list[CoverageGap] = []
    usable: list[tuple[CoverageVia, FlowLogConfig]] = []
    for level, log in candidates:
        found = _log_gaps(log, history, needed_from, since, end)
        gaps.extend(found)
        if not found:
            usable.append((level, log))
    complete = [(lv, log) for lv, log in usable if log.traffic_type == "ALL"]
    accept = [log for _, log in usable if log.traffic_type == "ACCEPT"]
    reject = [log for _, log in usable if log.traffic_type == "REJECT"]
    if not complete and accept and reject:
        complete = [(lv, log) for lv, log in usable if log.traffic_type in ("ACCEPT", "REJECT")]
    if complete:
        levels = {lv for lv, _ in complete}
        return InterfaceCoverage(
            eni.id,
            True,
            True,
            needed_from,
            covered_by=tuple(log for _, log in complete),
            via=tuple(lv for lv in _LEVELS if lv in levels),
        )
    if reject:
        gaps.append(
            CoverageGap(
                "reject_only",
                f"only REJECT traffic is logged ({_names(reject)}): the traffic "
                f"{eni.id} really uses is not seen",
            )
        )
    elif accept:
        gaps.append(
            CoverageGap(
                "accept_only",
                f"only ACCEPT traffic is logged ({_names(accept)}): the traffic "
                f"refused to or from {eni.id} is not seen",
            )
        )
    return InterfaceCoverage(eni.id, True, False, needed_from, gaps=tuple(gaps))


def _log_gaps(
    log: FlowLogConfig, history: _History, needed_from: datetime, since: str, end: datetime
) -> list[CoverageGap]:
    """Why ``log`` cannot vouch for an interface from ``needed_from`` to ``end``."""
    name = _name(log)
    gaps = []
    if log.traffic_type is None:
        gaps.append(
            CoverageGap(
                "traffic_type_unknown", f"{name} does not say which traffic it captures", log.id
            )
        )
    if not log.active:
        gaps.append(
            CoverageGap(
                "not_active", f"{name} is not ACTIVE (status: {log.status or 'none'})", log.id
            )
        )
    if log.delivery_failed:
        gaps.append(
            CoverageGap("delivery_failed", f"{name} fails to deliver its records (FAILED)", log.id)
        )
    if log.created_at > needed_from:
        gaps.append(
            CoverageGap(
                "created_late",
                f"{name} was created at {_time(log.created_at)}, after {since} "
                f"({_time(needed_from)})",
                log.id,
                log.created_at,
            )
        )
    gone = history.gone(log.id, end)
    if gone is not None:
        listed, missing_at = gone
        gaps.append(
            CoverageGap(
                "deleted",
                f"{name} was listed at {_time(listed)} and gone at {_time(missing_at)}, "
                "before the window ended",
                log.id,
                missing_at,
            )
        )
    return gaps


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class _History:
    """The snapshots that describe the flow logs of one account and region, oldest first."""

    scope: tuple[str, str | None]
    snapshots: tuple[tuple[datetime, frozenset[str]], ...]  # (taken at, flow log ids)

    @classmethod
    def of(cls, snapshots: Iterable[Snapshot], account: str, region: str | None) -> _History:
        knowing = [
            (snap.taken_at, frozenset(log.id for log in snap.flow_logs))
            for snap in sorted(snapshots, key=lambda s: s.taken_at)
            if _describes(snap, account, region)
        ]
        return cls((account, region), tuple(knowing))

    @property
    def configured(self) -> bool:
        return bool(self.snapshots)

    def gone(self, flow_log_id: str, end: datetime) -> tuple[datetime, datetime] | None:
        """(last listed, first seen gone) when the log vanished before ``end``, else None."""
        listed = [at for at, ids in self.snapshots if flow_log_id in ids]
        if not listed or listed[-1] >= end:
            return None
        later = [at for at, ids in self.snapshots if at > listed[-1] and flow_log_id not in ids]
        return (listed[-1], later[0]) if later else None


def _lacking(snap: Snapshot) -> set[str]:
    """Where ``snap`` lacked describe-flow-logs.json: "" (flat), "." or "<account>/<region>"."""
    out = set()
    for name in snap.missing:
        where, _, file = name.rpartition("/")
        if file == snapshot_files.FLOW_LOGS.file:
            out.add(where)
    return out


def _holds_document(snap: Snapshot) -> bool:
    lacking = _lacking(snap)
    if "" in lacking:
        return False
    parts = {f"{a}/{r}" for a in snap.account_ids for r in snap.regions}
    return not parts or bool(parts - lacking)


def _describes(snap: Snapshot, account: str, region: str | None) -> bool:
    """Whether ``snap`` holds the flow-log configuration of ``account`` in ``region``."""
    if snap.account_ids and account not in snap.account_ids:
        return False
    if region is not None and snap.regions and region not in snap.regions:
        return False
    lacking = _lacking(snap)
    # A flat part without the document ("." in a nested snapshot) cannot be told apart
    # from the others: the whole snapshot is taken to say nothing.
    return not ({"", ".", f"{account}/{region}"} & lacking)


# --------------------------------------------------------------------------- wording


def _name(log: FlowLogConfig) -> str:
    return f"{log.id} ({log.traffic_type or '?'} on {log.resource_id})"


def _names(logs: Iterable[FlowLogConfig]) -> str:
    return ", ".join(_name(log) for log in logs)


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware, found {value.isoformat()}")
    return value.astimezone(UTC)


__all__ = [
    "CoverageGap",
    "CoverageVia",
    "GapKind",
    "InterfaceCoverage",
    "has_flow_log_configuration",
    "interface_coverage",
]
