"""Known scanners (``networks.scanners`` in ``ztflows.toml``): traffic reported, never a rule.

A vulnerability scanner the team runs reaches every port it is allowed to; were its traffic
evidence, every rule it touched would look used and stay. Its conversations are therefore
left out of what shapes a target's ingress rules, blocked on purpose in the plan's replay
(as probes are), and counted in one ``known-scanner-traffic`` finding per range. The
scanner's own egress rules are judged like any others: it keeps what it was seen to use.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zt_flows.addresses import IPNetwork, network
from zt_flows.findings import Finding, make_finding
from zt_flows.rules import Edge

SCANNER_REASON = "known scanner: its traffic is reported, never kept as a rule"


@dataclass(frozen=True)
class Scanners:
    """The configured scanner ranges, parsed once."""

    cidrs: tuple[str, ...] = ()

    @property
    def networks(self) -> tuple[IPNetwork, ...]:
        return tuple(network(c) for c in self.cidrs)

    def range_of(self, address: str) -> str | None:
        """The configured range ``address`` lies in, or None."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return None
        for cidr, net in zip(self.cidrs, self.networks, strict=True):
            if ip.version == net.version and ip in net:
                return cidr
        return None

    def initiated(self, edge: Edge) -> bool:
        """The conversation was opened by a scanner: every address its client used is one."""
        addrs = edge.client.addrs or (edge.client.id,)
        return bool(self.cidrs) and all(self.range_of(a) is not None for a in addrs)


def scanner_findings(edges: Iterable[Edge], cidrs: Sequence[str]) -> tuple[Finding, ...]:
    """One finding per scanner range that opened conversations in the window."""
    scanners = Scanners(tuple(cidrs))
    if not scanners.cidrs:
        return ()
    flows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    targets: dict[str, set[str]] = defaultdict(set)
    conversations: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    for edge in edges:
        if not scanners.initiated(edge):
            continue
        addrs = edge.client.addrs or (edge.client.id,)
        cidr = scanners.range_of(addrs[0]) or ""
        flows[cidr][0] += edge.accepted
        flows[cidr][1] += edge.rejected
        targets[cidr].add(edge.server.id)
        conversations[cidr].add(edge.conversation)
    return tuple(
        make_finding(
            "known-scanner-traffic",
            cidr,
            f"known scanner range {cidr} opened {len(conversations[cidr]):,} conversation(s)"
            f" to {len(targets[cidr]):,} endpoint(s): {accepted:,} flows accepted,"
            f" {rejected:,} rejected; none of it is evidence for a rule",
            details=(
                ("conversations", len(conversations[cidr])),
                ("targets", len(targets[cidr])),
                ("accepted_flows", accepted),
                ("rejected_flows", rejected),
            ),
        )
        for cidr, (accepted, rejected) in sorted(flows.items())
    )


__all__ = ["SCANNER_REASON", "Scanners", "scanner_findings"]
