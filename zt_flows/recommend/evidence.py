"""Evidence and confidence of a proposed or kept rule, from the units it carries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from zt_flows.recommend.plan import Confidence, Evidence
from zt_flows.recommend.units import Unit
from zt_flows.rules import RuleUsage
from zt_flows.settings import RecommendSettings


def evidence_of(units: Iterable[Unit]) -> Evidence:
    """Figures over the distinct edges of ``units`` (an edge counts once per rule)."""
    seen: set[tuple[int, str]] = set()
    flows = bytes_ = packets = connections = 0
    first: datetime | None = None
    last: datetime | None = None
    days = set()
    clients: set[str] = set()
    servers: set[str] = set()
    ports: set[int] = set()
    for unit in units:
        edge = unit.edge
        if (unit.index, unit.direction) in seen:
            continue
        seen.add((unit.index, unit.direction))
        flows += edge.accepted
        bytes_ += edge.bytes
        packets += edge.packets
        connections += edge.connections
        if edge.first_seen is not None and (first is None or edge.first_seen < first):
            first = edge.first_seen
        if edge.last_seen is not None and (last is None or edge.last_seen > last):
            last = edge.last_seen
        days.add(edge.day)
        clients.add(edge.client.id)
        servers.add(edge.server.id)
        ports.add(edge.server_port)
    return Evidence(
        flows=flows,
        bytes=bytes_,
        packets=packets,
        first_seen=first,
        last_seen=last,
        days_seen=len(days),
        clients=tuple(sorted(clients)),
        servers=tuple(sorted(servers)),
        ports=tuple(sorted(ports)),
        connections=connections,
    )


def evidence_of_usage(usage: RuleUsage) -> Evidence | None:
    if usage.unused:
        return None
    return Evidence(
        flows=usage.flows,
        bytes=usage.bytes,
        packets=usage.packets,
        first_seen=usage.first_seen,
        last_seen=usage.last_seen,
        days_seen=usage.days_seen,
        clients=usage.clients,
        servers=usage.servers,
        ports=usage.ports,
        connections=usage.connections,
    )


def confidence_of(
    evidence: Evidence, window_days: int, settings: RecommendSettings
) -> tuple[Confidence, str | None]:
    """High, or low with why: seen on too few of the window's days, or too little traffic."""
    why = []
    if window_days and evidence.days_seen / window_days < settings.low_confidence_days_ratio:
        why.append(f"seen on {evidence.days_seen} of {window_days} days")
    elif evidence.days_seen < settings.min_days:
        why.append(f"seen on {evidence.days_seen} day(s), fewer than {settings.min_days}")
    if evidence.flows < settings.min_flows:
        why.append(f"{evidence.flows} flow(s), fewer than {settings.min_flows}")
    return ("low", "; ".join(why)) if why else ("high", None)
