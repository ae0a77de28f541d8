"""The report's coverage section as plain values: what the flow logs and the inventory
covered, in numbers, and which ENIs wrote no record at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from zt_flows.conversations.build import ConversationReport
from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import Plan
from zt_flows.report.names import Names, Ref
from zt_flows.sources.model import IngestSummary
from zt_flows.text import human_bytes, plural, utc, window_text


@dataclass(frozen=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True)
class SilentEni:
    eni: Ref
    vpc_id: str
    groups: tuple[Ref, ...]


@dataclass(frozen=True)
class CoverageView:
    window: str
    ingest: tuple[Fact, ...]
    versions: tuple[Fact, ...]
    skipped: tuple[str, ...]
    conversations: tuple[Fact, ...]
    heuristic: str | None  # how many conversations rest on port heuristics
    snapshots: tuple[str, ...]
    inventory_enis: int
    logged_enis: int
    silent: tuple[SilentEni, ...]
    warnings: tuple[str, ...] = ()  # the inventory's inconsistencies, and what they mean


def _time(moment: datetime | None) -> str:
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # times without a zone are UTC everywhere here
    return utc(moment)


def _ingest_facts(s: IngestSummary) -> tuple[tuple[Fact, ...], tuple[Fact, ...], tuple[str, ...]]:
    facts = (
        Fact("source", s.source),
        Fact(
            "objects read",
            f"{s.objects:,} ({s.parquet_objects:,} Parquet, {s.text_objects:,} text),"
            f" {human_bytes(s.bytes)}",
        ),
        Fact("objects listed", f"{s.listed:,} ({s.pruned:,} outside the window by their keys)"),
        Fact("records read", f"{s.records:,}"),
        Fact("flow records", f"{s.flows:,}"),
        Fact("NODATA records", f"{s.nodata:,} (an ENI with no traffic in an interval)"),
        Fact("SKIPDATA records", f"{s.skipdata:,} (records AWS could not capture)"),
        Fact("first record starts", _time(s.first_start)),
        Fact("last record ends", _time(s.last_end)),
    )
    versions = tuple(
        Fact("unknown" if v.version is None else f"version {v.version}", f"{v.records:,}")
        for v in sorted(s.versions, key=lambda v: (v.version is None, v.version or 0))
    )
    skipped = tuple(sorted(str(item) for item in s.skipped))
    return facts, versions, skipped


def _conversation_facts(c: ConversationReport) -> tuple[tuple[Fact, ...], str]:
    methods = ", ".join(f"{m.replace('_', ' ')} {n:,}" for m, n in sorted(c.requests_by_method))
    facts = (
        Fact(
            "flow records used",
            f"{c.used_records:,} of {c.input_records:,}"
            f" ({c.dropped_records:,} duplicate NAT legs or forwarded without pkt-* fields)",
        ),
        Fact(
            "conversations",
            f"{c.edges:,}: {c.accepted_edges:,} accepted, {c.rejected_only_edges:,} only rejected",
        ),
        Fact("requests decided by", methods or "–"),
        Fact("distinct addresses", f"{c.distinct_addresses:,}"),
    )
    heuristic = (
        f"{plural(c.heuristic_edges, 'conversation')} of {c.edges:,} rest on port heuristics"
        f" ({c.heuristic_flows:,} of {c.flows:,} flows)"
    )
    return facts, heuristic


def coverage_view(
    plan: Plan,
    inventory: Inventory,
    logged: frozenset[str],
    ingest: IngestSummary | None,
    conversations: ConversationReport | None,
    names: Names,
    *,
    warnings: tuple[str, ...] = (),
) -> CoverageView:
    facts: tuple[Fact, ...] = ()
    versions: tuple[Fact, ...] = ()
    skipped: tuple[str, ...] = ()
    if ingest is not None:
        facts, versions, skipped = _ingest_facts(ingest)
    conv: tuple[Fact, ...] = ()
    heuristic = None
    if conversations is not None:
        conv, heuristic = _conversation_facts(conversations)
    silent = tuple(
        sorted(
            (
                SilentEni(
                    names.eni(eni.id),
                    eni.vpc_id,
                    tuple(names.group(g) for g in sorted(eni.security_group_ids)),
                )
                for eni in inventory.interfaces.values()
                if eni.id not in logged
            ),
            key=lambda s: (s.eni.sort_key, s.vpc_id),
        )
    )
    return CoverageView(
        window=window_text(plan),
        ingest=facts,
        versions=versions,
        skipped=skipped,
        conversations=conv,
        heuristic=heuristic,
        snapshots=tuple(utc(t) for t in inventory.taken_at),
        inventory_enis=len(inventory.interfaces),
        logged_enis=sum(1 for e in inventory.interfaces if e in logged),
        silent=silent,
        warnings=warnings,
    )
