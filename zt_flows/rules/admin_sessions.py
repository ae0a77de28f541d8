"""Interactive SSH and RDP sessions to instances: a finding per instance, the sessions as evidence.

A session is told from a probe the way the recommender tells them
(``recommend.units.is_probe``): a conversation whose connections averaged at least
``admin_session_min_packets`` packets, or that has records without a handshake (an
established session whose connection opened before the record's interval). Handshakes
that go nowhere are probes (ZT015), not sessions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from zt_flows.findings import Finding, make_finding
from zt_flows.inventory.model import InterfaceRole, Inventory
from zt_flows.rules.analysis import RuleAnalysis
from zt_flows.rules.describe import endpoint_label
from zt_flows.rules.edges import Edge
from zt_flows.rules.semantics import PROTO_TCP
from zt_flows.settings import RecommendSettings

PORT_NAMES = {22: "SSH", 3389: "RDP"}


@dataclass
class _Sessions:
    """One client's conversation with one instance on one admin port, over the window."""

    flows: int = 0
    connections: int = 0
    packets: int = 0
    bytes: int = 0
    days: set[date] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, edge: Edge) -> None:
        self.flows += edge.accepted
        self.connections += edge.connections
        self.packets += edge.packets
        self.bytes += edge.bytes
        self.days.add(edge.day)
        if edge.first_seen is not None and (self.first is None or edge.first_seen < self.first):
            self.first = edge.first_seen
        if edge.last_seen is not None and (self.last is None or edge.last_seen > self.last):
            self.last = edge.last_seen

    def interactive(self, settings: RecommendSettings) -> bool:
        if self.flows > self.connections:  # intervals of a session without its handshake
            return True
        return self.connections > 0 and self.packets / self.connections >= (
            settings.admin_session_min_packets
        )

    @property
    def sessions(self) -> int:
        # A long-lived session opened before the window shows no connection: still one.
        return max(self.connections, 1)


def admin_session_findings(
    analysis: RuleAnalysis, inventory: Inventory, settings: RecommendSettings
) -> list[Finding]:
    """One finding per instance interface that accepted interactive admin sessions."""
    conversations: dict[tuple[str, int], dict[str, _Sessions]] = defaultdict(
        lambda: defaultdict(_Sessions)
    )
    for verdict in analysis.verdicts:
        edge = verdict.edge
        if (
            edge.protocol == PROTO_TCP
            and edge.server_port in settings.admin_ports
            and edge.server.is_eni
            and edge.server.role == InterfaceRole.INSTANCE.value
        ):
            conversations[(edge.server.id, edge.server_port)][edge.client.id].add(edge)
    per_server: dict[str, list[tuple[int, str, _Sessions]]] = defaultdict(list)
    for (server, port), tallies in conversations.items():
        for client, tally in tallies.items():
            if tally.interactive(settings):
                per_server[server].append((port, client, tally))
    out = []
    for server in sorted(per_server):
        found = sorted(per_server[server], key=lambda item: (item[0], -item[2].sessions, item[1]))
        eni = inventory.interfaces.get(server)
        instance = eni.instance_id if eni is not None else None
        ports = sorted({port for port, _, _ in found})
        what = " and ".join(PORT_NAMES.get(p, f"tcp/{p}") for p in ports)
        sessions = sum(t.sessions for _, _, t in found)
        days = len({d for _, _, t in found for d in t.days})
        clients = [endpoint_label(inventory, client) for _, client, _ in found]
        shown = ", ".join(clients[:4]) + (
            f" and {len(clients) - 4} more" if len(clients) > 4 else ""
        )
        firsts = [t.first for _, _, t in found if t.first is not None]
        lasts = [t.last for _, _, t in found if t.last is not None]
        target = endpoint_label(inventory, server) + (f", {instance}" if instance else "")
        out.append(
            make_finding(
                "interactive-admin-sessions",
                server,
                f"{target}: {sessions} {what} session(s) on {days} day(s) from {shown};"
                " Session Manager needs no open port",
                details=(
                    ("instance", instance or "-"),
                    ("ports", ", ".join(str(p) for p in ports)),
                    (
                        "sessions",
                        "; ".join(
                            f"{client} tcp/{port}: {t.sessions} session(s), {t.packets} packets,"
                            f" {t.bytes} bytes on {len(t.days)} day(s)"
                            for port, client, t in found
                        ),
                    ),
                    ("clients", ", ".join(client for _, client, _ in found)),
                    ("first_seen", min(firsts).strftime("%Y-%m-%dT%H:%M:%SZ") if firsts else "-"),
                    ("last_seen", max(lasts).strftime("%Y-%m-%dT%H:%M:%SZ") if lasts else "-"),
                ),
            )
        )
    return out


__all__ = ["admin_session_findings"]
