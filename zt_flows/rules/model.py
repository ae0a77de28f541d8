"""The values of rule analysis: how each of today's rules was used, each group's flow-log
coverage, and :class:`RuleAnalysis`, what :func:`~zt_flows.rules.evaluate_rules` returns and
the recommender and the findings read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from zt_flows.findings import Finding
from zt_flows.inventory.model import Inventory
from zt_flows.rules.edges import Edge
from zt_flows.rules.evaluate import EdgeVerdict
from zt_flows.rules.facts import NetworkFacts
from zt_flows.rules.semantics import RuleSet, RuleSpec
from zt_flows.settings import TimeWindow

Coverage = Literal["observed", "uncovered", "unlogged", "unattached"]


@dataclass(frozen=True)
class RuleUsage:
    """What one of today's rules matched in the window (every match counts)."""

    rule: RuleSpec
    edges: int  # distinct conversations (client, server, protocol, port)
    flows: int
    bytes: int
    packets: int
    connections: int
    first_seen: datetime | None
    last_seen: datetime | None
    days_seen: int
    clients: tuple[str, ...]
    servers: tuple[str, ...]
    ports: tuple[int, ...]
    # Conversations for which it was the narrowest matching rule.
    attributed_edges: int = 0
    attributed_flows: int = 0
    # When it matched traffic but was never the narrowest: the rules that were.
    overshadowed_by: tuple[str, ...] = ()

    @property
    def unused(self) -> bool:
        return self.edges == 0

    @property
    def overshadowed(self) -> bool:
        return self.edges > 0 and self.attributed_edges == 0


@dataclass(frozen=True)
class GroupCoverage:
    """Which of a group's current members the flow logs saw, completely.

    A member is observed when it wrote records in the window (NODATA counts: a logged
    interface writes one for each quiet interval) and, where the snapshot holds the
    flow-log configuration, an ALL-traffic flow log covered it for the whole window.
    ``gaps`` names each member the configuration does not cover, and why.
    """

    group_id: str
    members: tuple[str, ...]
    logged: tuple[str, ...]
    gaps: tuple[tuple[str, str], ...] = ()  # (member, why its traffic is not all logged)
    configured: bool = False  # whether the flow-log configuration was known for every member

    @property
    def unlogged(self) -> tuple[str, ...]:
        logged = set(self.logged)
        return tuple(m for m in self.members if m not in logged)

    @property
    def uncovered(self) -> tuple[str, ...]:
        return tuple(m for m, _ in self.gaps)

    @property
    def status(self) -> Coverage:
        if not self.members:
            return "unattached"
        if self.gaps:
            return "uncovered"
        return "unlogged" if self.unlogged else "observed"


@dataclass(frozen=True)
class RuleAnalysis:
    """Today's rules judged against the observed conversations, and what was judged.

    Besides the verdicts, usage and findings it carries what they were computed from (the
    inventory's facts, today's rule set, the interfaces that logged, the window asked for),
    so the recommender builds on the same ground instead of computing it again.
    """

    rules: tuple[RuleUsage, ...]  # every rule of every group, by group then rule key
    verdicts: tuple[EdgeVerdict, ...]  # every accepted edge, in input order
    unexplained: tuple[EdgeVerdict, ...]  # accepted, but today's rules deny a side
    not_evaluable: tuple[EdgeVerdict, ...]  # accepted, a side could not be decided
    rejected: tuple[Edge, ...]  # edges with rejected requests
    coverage: Mapping[str, GroupCoverage]
    days: tuple[date, ...]  # the days the edges cover
    facts: NetworkFacts  # the inventory, precomputed for the security-group model
    ruleset: RuleSet  # today's rules
    # ENIs that wrote any flow-log record (NODATA included): silence about them is no traffic.
    logged_interfaces: frozenset[str]
    window: TimeWindow | None = None  # the window asked for (None: the days observed)
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    # Rules that cannot be evaluated here (rule key -> why): never "unused", always kept.
    unevaluable: Mapping[str, str] = field(default_factory=dict)
    _by_key: Mapping[str, RuleUsage] = field(default_factory=dict, repr=False, compare=False)

    @property
    def inventory(self) -> Inventory:
        return self.facts.inventory

    def usage(self, rule_key: str) -> RuleUsage:
        return self._by_key[rule_key]

    def group_rules(self, group_id: str) -> tuple[RuleUsage, ...]:
        return tuple(u for u in self.rules if u.rule.group_id == group_id)

    def observed_window(self) -> tuple[datetime | None, datetime | None]:
        """The window asked for, its open sides filled in from the days observed."""
        return observed_window(self.days, self.window)


def observed_window(
    days: Iterable[date], window: TimeWindow | None
) -> tuple[datetime | None, datetime | None]:
    """``window`` with its open sides filled in from ``days`` (UTC midnights, the last day
    included); a side stays None without either."""
    ordered = sorted(days)
    start = window.since if window is not None else None
    end = window.until if window is not None else None
    if ordered:
        first, last = ordered[0], ordered[-1]
        start = start or datetime(first.year, first.month, first.day, tzinfo=UTC)
        end = end or datetime(last.year, last.month, last.day, tzinfo=UTC) + timedelta(days=1)
    return start, end
