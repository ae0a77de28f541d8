"""What changed between two runs of ``ztflows analyze``, as frozen values and plain JSON."""

from __future__ import annotations

from dataclasses import dataclass

from zt_flows.findings import Finding
from zt_flows.settings import SEVERITIES, Severity


@dataclass(frozen=True)
class Conversation:
    """A conversation over a whole run: who talks to whom on which port, and the outcome.

    An interface is named by its security groups (instances come and go, their groups
    stay), an internet peer by ``internet`` (addresses churn), an AWS service by its name,
    a named range by the range.
    """

    client: str
    server: str
    protocol: str  # tcp/443, udp/53, icmp
    outcome: str  # "accepted" (some flow accepted) or "rejected" (every flow rejected)
    flows: int
    bytes: int
    days: int

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.client, self.server, self.protocol, self.outcome)


@dataclass(frozen=True)
class RuleChange:
    """A security-group rule in one run's inventory and not in the other's."""

    group_id: str
    rule_id: str | None
    direction: str
    protocol: str  # tcp/443, all traffic, ...
    peer: str
    planned: bool  # the earlier run's plan proposed this change (applied through ztflows)

    @property
    def label(self) -> str:
        word = "from" if self.direction == "ingress" else "to"
        return f"{self.group_id} {self.direction} {self.protocol} {word} {self.peer}"


@dataclass(frozen=True)
class ExposureChange:
    """Today's rules' exposure as each run measured it, and what each plan would leave."""

    combinations: tuple[int, int]  # (old, new), before any change
    planned_combinations: tuple[int, int]  # what each run's plan would leave
    internet_reachable: tuple[int, int]
    reachable_appeared: tuple[str, ...]  # "eni-…:tcp/443" reachable now, not then
    reachable_vanished: tuple[str, ...]


@dataclass(frozen=True)
class RunDiff:
    """Everything ``ztflows diff OLD NEW`` reports."""

    old: str
    new: str
    old_window: tuple[str | None, str | None]
    new_window: tuple[str | None, str | None]
    appeared: tuple[Conversation, ...]
    vanished: tuple[Conversation, ...]
    new_findings: tuple[Finding, ...]
    resolved_findings: tuple[Finding, ...]
    persisting_findings: int
    rules_added: tuple[RuleChange, ...]
    rules_removed: tuple[RuleChange, ...]
    # Why rule changes could not be compared (a snapshot not found, a run that does not
    # record its inventory); None when they were.
    rules_unknown: str | None
    exposure: ExposureChange
    # Conversations that appeared and that the configuration declares expected
    # (``[[expected_peers]]``): not reported as new, only counted.
    expected: tuple[Conversation, ...] = ()

    @property
    def rules_added_outside(self) -> tuple[RuleChange, ...]:
        return tuple(r for r in self.rules_added if not r.planned)

    @property
    def rules_removed_outside(self) -> tuple[RuleChange, ...]:
        return tuple(r for r in self.rules_removed if not r.planned)

    def new_at_or_above(self, severity: Severity) -> tuple[Finding, ...]:
        level = SEVERITIES.index(severity)
        return tuple(f for f in self.new_findings if SEVERITIES.index(f.severity) >= level)

    def to_json(self) -> dict[str, object]:
        def conversation(c: Conversation) -> dict[str, object]:
            return {
                "client": c.client,
                "server": c.server,
                "protocol": c.protocol,
                "outcome": c.outcome,
                "flows": c.flows,
                "bytes": c.bytes,
                "days": c.days,
            }

        def finding(f: Finding) -> dict[str, object]:
            return {
                "code": f.code,
                "severity": f.severity,
                "subject": f.subject,
                "group_id": f.group_id,
                "rule_id": f.rule_id,
                "title": f.kind.title,
                "message": f.message,
            }

        def rule(r: RuleChange) -> dict[str, object]:
            return {
                "group_id": r.group_id,
                "rule_id": r.rule_id,
                "direction": r.direction,
                "protocol": r.protocol,
                "peer": r.peer,
                "planned": r.planned,
            }

        e = self.exposure
        return {
            "schema_version": 1,
            "old": {"out": self.old, "window": list(self.old_window)},
            "new": {"out": self.new, "window": list(self.new_window)},
            "conversations": {
                "appeared": [conversation(c) for c in self.appeared],
                "vanished": [conversation(c) for c in self.vanished],
                "appeared_expected": [conversation(c) for c in self.expected],
            },
            "findings": {
                "identity": ["code", "subject", "group_id"],
                "new": [finding(f) for f in self.new_findings],
                "resolved": [finding(f) for f in self.resolved_findings],
                "persisting": self.persisting_findings,
                "new_counts": {
                    s: sum(1 for f in self.new_findings if f.severity == s)
                    for s in reversed(SEVERITIES)
                },
            },
            "rules": {
                "compared": self.rules_unknown is None,
                "not_compared_because": self.rules_unknown,
                "added": [rule(r) for r in self.rules_added],
                "removed": [rule(r) for r in self.rules_removed],
                "added_outside_ztflows": len(self.rules_added_outside),
                "removed_outside_ztflows": len(self.rules_removed_outside),
            },
            "exposure": {
                "combinations": {"old": e.combinations[0], "new": e.combinations[1]},
                "planned_combinations": {
                    "old": e.planned_combinations[0],
                    "new": e.planned_combinations[1],
                },
                "internet_reachable": {
                    "old": e.internet_reachable[0],
                    "new": e.internet_reachable[1],
                    "appeared": list(e.reachable_appeared),
                    "vanished": list(e.reachable_vanished),
                },
            },
        }


__all__ = ["Conversation", "ExposureChange", "RuleChange", "RunDiff"]
