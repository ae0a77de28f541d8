"""``check_plan``: shadow mode. Would the plan block anything newer flow logs show?

The test the recommender verified the plan with, on newer logs. With the records'
evidence (``Conversations.evidence``, always there when the logs are read), every
accepted record group is read the ways its own evidence allows and the sides it needs
are evaluated under the plan's final rules, whatever the orientation concluded; without
it, every accepted conversation of the edge table. A side the plan denies is *blocked*
when today's rules allow it; it is *expected* when the plan blocks it on purpose (probes
of the kind the plan listed); it is *unexplained* when today's rules deny it too (rules
that changed since the inventory was taken), which the plan cannot be blamed for.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Literal

import polars as pl

from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import BlockedConversation, Plan
from zt_flows.recommend.ruleset import plan_ruleset
from zt_flows.recommend.units import (
    PROBE_REASON,
    Conversation,
    ConversationStats,
    conversation_stats,
    is_probe,
)
from zt_flows.recommend.verify import (
    aggregate_blocked,
    checks_blocked,
    home_group,
    record_groups_from_frame,
    replay_records,
)
from zt_flows.rules import Edge, Evaluator, NetworkFacts, RuleSet, edges_from_frame, sides
from zt_flows.scanners import SCANNER_REASON, Scanners
from zt_flows.settings import RecommendSettings
from zt_flows.vocabulary import DIRECTIONS


@dataclass(frozen=True)
class CheckResult:
    replayed: int  # accepted edges evaluated
    blocked: tuple[BlockedConversation, ...]  # today's rules allow them, the plan does not
    expected: tuple[BlockedConversation, ...]  # blocked on purpose
    unexplained: tuple[BlockedConversation, ...]  # today's rules do not allow them either
    not_evaluable: int  # edges with a side that cannot be decided (no groups, unknown ENI)
    blocked_edges: int = 0
    records: int = 0  # accepted records replayed (basis "records")
    basis: Literal["records", "edges"] = "edges"

    @property
    def ok(self) -> bool:
        return not self.blocked

    def by_group_and_port(
        self,
    ) -> tuple[tuple[tuple[str, int, int], tuple[BlockedConversation, ...]], ...]:
        """``blocked`` grouped by (security group, protocol, port), in order."""

        def key(b: BlockedConversation) -> tuple[str, int, int]:
            return (b.group_id or "", b.protocol, b.server_port)

        ordered = sorted(self.blocked, key=lambda b: (*key(b), b.server, b.client))
        return tuple((k, tuple(items)) for k, items in groupby(ordered, key=key))


def check_plan(
    plan: Plan,
    edges: pl.DataFrame | Iterable[Edge],
    inventory: Inventory,
    settings: RecommendSettings | None = None,
    *,
    evidence: pl.DataFrame | None = None,
    scanner_cidrs: Sequence[str] = (),
) -> CheckResult:
    """Replay newer traffic against ``plan``'s final rules: the record groups of
    ``evidence`` when given, else the accepted conversations of ``edges``. Conversations
    opened by known scanners (``scanner_cidrs``) are blocked on purpose, as the recommender
    planned them, even when the plan has not seen that one yet."""
    settings = settings or RecommendSettings()
    scanners = Scanners(tuple(scanner_cidrs))
    edge_list = edges_from_frame(edges) if isinstance(edges, pl.DataFrame) else tuple(edges)
    facts = NetworkFacts(inventory)
    today = RuleSet.from_inventory(inventory)
    now = Evaluator(facts, today)
    planned = Evaluator(facts, plan_ruleset(plan, inventory))
    accepted = [e for e in edge_list if e.was_accepted]
    stats = conversation_stats(accepted)
    listed = {(b.client, b.server, b.protocol, b.server_port) for b in plan.intentionally_blocked}
    blocked: list[tuple[Edge, str | None, str]] = []
    expected: list[tuple[Edge, str | None, str]] = []
    unexplained: list[tuple[Edge, str | None, str]] = []
    not_evaluable = 0
    if evidence is not None:
        return _check_records(plan, accepted, evidence, now, planned, stats, settings, scanners)
    for edge in accepted:
        verdict = planned.evaluate(edge)
        if "not_evaluable" in (verdict.ingress.verdict, verdict.egress.verdict):
            not_evaluable += 1
        denied = [d for d in DIRECTIONS if verdict.side(d).verdict == "denied"]
        if not denied:
            continue
        direction = denied[0]
        local = sides(edge, direction)[0]
        current = now.evaluate(edge)
        group_id = (
            home_group(current, direction, today) if current.side(direction).allowed else None
        )
        group_id = group_id or (local.sgs[0] if local.sgs else None)
        short = (edge.client.id, edge.server.id, edge.protocol, edge.server_port)
        if scanners.initiated(edge):
            expected.append((edge, group_id, SCANNER_REASON))
        elif short in listed or is_probe(edge, stats, settings):
            expected.append((edge, group_id, PROBE_REASON))
        elif not current.side(direction).allowed:
            unexplained.append(
                (edge, group_id, f"{direction} at {local.id}: today's rules do not allow it either")
            )
        else:
            blocked.append(
                (edge, group_id, f"{direction} at {local.id}: no rule of the plan allows it")
            )
    return CheckResult(
        replayed=len(accepted),
        blocked=aggregate_blocked(blocked),
        expected=aggregate_blocked(expected),
        unexplained=aggregate_blocked(unexplained),
        not_evaluable=not_evaluable,
        blocked_edges=len(blocked),
    )


def _check_records(
    plan: Plan,
    accepted: list[Edge],
    evidence: pl.DataFrame,
    now: Evaluator,
    planned: Evaluator,
    stats: dict[Conversation, ConversationStats],
    settings: RecommendSettings,
    scanners: Scanners,
) -> CheckResult:
    listed = {(b.client, b.server, b.protocol, b.server_port) for b in plan.intentionally_blocked}
    probes = {e.conversation for e in accepted if is_probe(e, stats, settings)}

    def intended(edge: Edge) -> str | None:
        if scanners.initiated(edge):
            return SCANNER_REASON
        short = (edge.client.id, edge.server.id, edge.protocol, edge.server_port)
        return PROBE_REASON if short in listed or edge.conversation in probes else None

    records = replay_records(record_groups_from_frame(evidence), now, planned, intended)
    not_evaluable = sum(
        1
        for edge in accepted
        if "not_evaluable" in {planned.side(edge, d).verdict for d in DIRECTIONS}
    )
    return CheckResult(
        replayed=len(accepted),
        blocked=checks_blocked(records.blocked, "no rule of the plan allows it"),
        expected=(
            checks_blocked(
                [c for c in records.intentional if not scanners.initiated(c.reading.edge)],
                PROBE_REASON,
            )
            + checks_blocked(
                [c for c in records.intentional if scanners.initiated(c.reading.edge)],
                SCANNER_REASON,
            )
        ),
        unexplained=checks_blocked(records.unexplained, "today's rules do not allow it either"),
        not_evaluable=not_evaluable,
        blocked_edges=len({c.reading.row_id for c in records.blocked}),
        records=records.records,
        basis="records",
    )
