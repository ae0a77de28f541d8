"""Replaying observed conversations against proposed rules: the plan's own verification.

Every accepted edge side that today's rules allow is evaluated again under the plan
with the same semantics. A side the plan no longer allows is either blocked on purpose
(a probe, listed with its reason) or a bug, and the plan is not written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from zt_flows.errors import VerificationError
from zt_flows.recommend.plan import BlockedConversation
from zt_flows.rules.analysis import RuleAnalysis
from zt_flows.rules.describe import conversation_label
from zt_flows.rules.edges import Edge
from zt_flows.rules.evaluate import DIRECTIONS, EdgeVerdict, Evaluator, sides
from zt_flows.rules.semantics import RuleSet


class ReplayError(VerificationError):
    """The plan would block observed accepted conversations it was not meant to block."""

    def __init__(self, blocked: tuple[BlockedConversation, ...]) -> None:
        self.blocked = blocked
        shown = "; ".join(describe_blocked(b) for b in blocked[:5])
        more = f" and {len(blocked) - 5} more" if len(blocked) > 5 else ""
        super().__init__(
            f"the plan would block {len(blocked)} observed conversation(s) that today's rules "
            f"allow: {shown}{more}",
            hint="this is a bug in ztflows; the plan was not written. Please report it.",
        )


def describe_blocked(b: BlockedConversation) -> str:
    """``eni-a -> eni-b tcp/5432 (sg-…)``; external addresses are named by kind only."""

    def name(text: str) -> str:
        return text if text.startswith("eni-") else "an external address"

    where = f" ({b.group_id})" if b.group_id else ""
    what = conversation_label(b.protocol, b.server_port)
    return f"{name(b.client)} -> {name(b.server)} {what}{where}"


@dataclass(frozen=True)
class Replay:
    replayed: int  # accepted edges with a side today's rules allow
    blocked: tuple[BlockedConversation, ...]  # not meant to be blocked
    intentional: tuple[BlockedConversation, ...]
    blocked_edges: int
    intentional_edges: int


def home_group(verdict: EdgeVerdict, direction: str, ruleset: RuleSet) -> str | None:
    side = verdict.ingress if direction == "ingress" else verdict.egress
    for _, key in side.homes:
        rule = ruleset.by_key.get(key)
        if rule is not None:
            return rule.group_id
    local = sides(verdict.edge, "ingress" if direction == "ingress" else "egress")[0]
    return local.sgs[0] if local.sgs else None


def aggregate_blocked(
    items: Iterable[tuple[Edge, str | None, str]],
) -> tuple[BlockedConversation, ...]:
    """One entry per conversation (days summed), sorted."""
    merged: dict[tuple[object, ...], BlockedConversation] = {}
    for edge, group_id, reason in items:
        key = (*edge.conversation, group_id, reason)
        known = merged.get(key)
        merged[key] = BlockedConversation(
            client=edge.client.id,
            server=edge.server.id,
            protocol=edge.protocol,
            server_port=edge.server_port,
            flows=edge.accepted + (known.flows if known else 0),
            reason=reason,
            group_id=group_id,
        )
    return tuple(
        sorted(
            merged.values(),
            key=lambda b: (b.group_id or "", b.protocol, b.server_port, b.server, b.client),
        )
    )


def replay(
    analysis: RuleAnalysis,
    today: RuleSet,
    evaluator: Evaluator,
    intended: Callable[[Edge], str | None],
) -> Replay:
    """Replay ``analysis``'s accepted edges under ``evaluator``'s (proposed) rule set.

    ``intended`` names the reason an edge is blocked on purpose, or None.
    """
    replayed = 0
    bad: list[tuple[Edge, str | None, str]] = []
    good: list[tuple[Edge, str | None, str]] = []
    for verdict in analysis.verdicts:
        allowed_today = [d for d in DIRECTIONS if verdict.side(d).allowed]
        if not allowed_today:
            continue
        replayed += 1
        proposed = evaluator.evaluate(verdict.edge)
        lost = [d for d in allowed_today if not proposed.side(d).allowed]
        if not lost:
            continue
        group_id = home_group(verdict, lost[0], today)
        reason = intended(verdict.edge)
        if reason is not None:
            good.append((verdict.edge, group_id, reason))
        else:
            local = sides(verdict.edge, lost[0])[0]
            bad.append((verdict.edge, group_id, f"{lost[0]} at {local.id} no longer allowed"))
    return Replay(
        replayed=replayed,
        blocked=aggregate_blocked(bad),
        intentional=aggregate_blocked(good),
        blocked_edges=len(bad),
        intentional_edges=len(good),
    )
