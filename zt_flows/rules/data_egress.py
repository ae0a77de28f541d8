"""Where a data tier that may reach the internet (ZT009) really went: destinations and ports.

The finding itself comes from the group's rules; this adds what the flow logs saw its
members initiate towards addresses outside the VPC: each destination with its ports and
flows, or that nothing went out, in which case the egress rules can go without breaking
anything observed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from zt_flows.findings import Finding, kind
from zt_flows.rules.model import RuleAnalysis
from zt_flows.vocabulary import conversation_label

OUTSIDE_KINDS = frozenset({"internet", "aws_service"})
SHOWN = 5


def data_tier_destinations(analysis: RuleAnalysis, group_id: str) -> list[tuple[str, str, int]]:
    """(destination, protocol/port, accepted flows) the group's members initiated outside,
    most flows first."""
    return _destinations(analysis, frozenset({group_id})).get(group_id, [])


def _destinations(
    analysis: RuleAnalysis, group_ids: frozenset[str]
) -> dict[str, list[tuple[str, str, int]]]:
    """:func:`data_tier_destinations` of each of ``group_ids`` (those with any), in one pass
    over the verdicts instead of one per group."""
    flows: dict[str, dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    for verdict in analysis.verdicts:
        edge = verdict.edge
        if not (edge.client.is_eni and edge.server.kind in OUTSIDE_KINDS):
            continue
        where = edge.server.id if edge.server.kind == "internet" else f"AWS {edge.server.id}"
        label = conversation_label(edge.protocol, edge.server_port)
        for group_id in group_ids.intersection(edge.client.sgs):
            flows[group_id][(where, label)] += edge.accepted
    return {
        group_id: sorted(
            ((dest, port, n) for (dest, port), n in seen.items()),
            key=lambda x: (-x[2], x[0], x[1]),
        )
        for group_id, seen in flows.items()
    }


def add_egress_evidence(findings: Iterable[Finding], analysis: RuleAnalysis) -> list[Finding]:
    """Every data-tier-egress finding with the destinations and ports its members used."""
    code = kind("data-tier-internet-egress").code
    findings = list(findings)
    wanted = frozenset(f.group_id for f in findings if f.code == code and f.group_id is not None)
    found = _destinations(analysis, wanted) if wanted else {}
    out = []
    for finding in findings:
        if finding.code != code or finding.group_id is None:
            out.append(finding)
            continue
        seen = found.get(finding.group_id, [])
        if seen:
            shown = ", ".join(f"{dest} {port} ({n} flows)" for dest, port, n in seen[:SHOWN])
            more = f" and {len(seen) - SHOWN} more" if len(seen) > SHOWN else ""
            text = f"; observed outside the VPC: {shown}{more}"
        else:
            text = "; no traffic to the internet observed in the window"
        out.append(
            replace(
                finding,
                message=finding.message + text,
                details=(
                    *finding.details,
                    (
                        "destinations",
                        "; ".join(f"{dest} {port}: {n} flows" for dest, port, n in seen) or "none",
                    ),
                ),
            )
        )
    return out


__all__ = ["add_egress_evidence", "data_tier_destinations"]
