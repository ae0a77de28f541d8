"""Units of observed access: one per (accepted edge, direction, peer address).

Each unit is what one side's rules had to allow, and the narrowest of today's rules
that allowed it (its *home*). The recommender rebuilds every group's rules from the
units whose home is one of its rules, so a proposal is always carved out of an
existing rule. Internet peers that only completed handshakes on an admin port are
*probes*: their units are set aside and blocked on purpose.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from zt_flows.recommend.plan import KeptFor
from zt_flows.rules import Edge, EdgeSide, RuleAnalysis, RuleSet, RuleSpec, sides
from zt_flows.settings import RecommendSettings
from zt_flows.vocabulary import DIRECTIONS, PROTO_TCP, Direction

Conversation = tuple[str, str, str, str, int, int]


@dataclass(frozen=True)
class Unit:
    index: int  # position of the edge in analysis.verdicts
    edge: Edge
    direction: Direction
    address: str  # the peer's address this unit is about
    home: RuleSpec  # the narrowest of today's rules that admitted it
    # Set for units the record replay added: why their rule is kept (see recommend/safety).
    kept_for: KeptFor | None = None

    @property
    def local(self) -> EdgeSide:
        return sides(self.edge, self.direction)[0]

    @property
    def peer(self) -> EdgeSide:
        return sides(self.edge, self.direction)[1]

    @property
    def slot(self) -> tuple[int, Direction, str]:
        return self.index, self.direction, self.address


@dataclass(frozen=True)
class ConversationStats:
    """A conversation's figures summed over the window's days."""

    packets: int
    connections: int
    days: int
    flows: int = 0

    @property
    def packets_per_connection(self) -> float:
        """Packets (both directions) per connection; per flow record where no SYN was seen
        (logs without tcp-flags, or connections older than the window)."""
        return self.packets / (self.connections or max(self.flows, 1))


def conversation_stats(edges: Iterable[Edge]) -> dict[Conversation, ConversationStats]:
    packets: dict[Conversation, int] = defaultdict(int)
    connections: dict[Conversation, int] = defaultdict(int)
    flows: dict[Conversation, int] = defaultdict(int)
    days: dict[Conversation, set[object]] = defaultdict(set)
    for edge in edges:
        if not edge.was_accepted:
            continue
        key = edge.conversation
        packets[key] += edge.packets
        connections[key] += edge.connections
        flows[key] += edge.accepted
        days[key].add(edge.day)
    return {
        k: ConversationStats(packets[k], connections[k], len(days[k]), flows[k]) for k in packets
    }


def is_probe(
    edge: Edge, stats: dict[Conversation, ConversationStats], settings: RecommendSettings
) -> bool:
    """An internet peer that only ever completed handshakes on an admin port.

    Only handshakes without a session are probes: every request record of the conversation
    opened a connection (a record without a SYN is an interval of an established session),
    and the connections averaged fewer packets than a session needs. A long-lived session
    whose handshake lies before the window has no SYN at all: a session, never a probe.
    """
    if not (
        edge.client.kind == "internet"
        and edge.server.is_eni
        and edge.protocol == PROTO_TCP
        and edge.server_port in settings.admin_ports
    ):
        return False
    figures = stats.get(edge.conversation)
    if figures is None or figures.connections == 0 or figures.flows > figures.connections:
        return False
    if figures.packets_per_connection >= settings.admin_session_min_packets:
        return False
    return not (settings.admin_session_min_days and figures.days >= settings.admin_session_min_days)


PROBE_REASON = "probe: only handshakes from the internet on an admin port, never a session"


def build_units(analysis: RuleAnalysis, ruleset: RuleSet) -> tuple[Unit, ...]:
    """Every admitted (edge, direction, address) with its home rule, in a stable order.

    Addresses admitted on a side that is denied or undecided as a whole still count: the
    edge was accepted, and the rule that admitted them must keep doing so.
    """
    out = []
    for index, verdict in enumerate(analysis.verdicts):
        for direction in DIRECTIONS:
            for address, key in verdict.side(direction).homes:
                out.append(Unit(index, verdict.edge, direction, address, ruleset.by_key[key]))
    return tuple(out)
