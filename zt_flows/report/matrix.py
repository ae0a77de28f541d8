"""Ingress reachability before and after the plan, as a matrix of security groups × ports.

A row is a security group, a column a port range that some group's ingress rule names
(today's or the plan's). A cell says whether the group's members admit that range today
and after the change: ``all`` when one rule admits the whole range, ``part`` when rules
admit some of it, ``none`` otherwise; the peers that are admitted travel with it, so a
range kept open but narrowed to one security group is told apart from one left as wide.
``all traffic`` rules admit every column. The columns are the ranges most groups name,
at most :data:`MATRIX_PORTS` of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule
from zt_flows.report.names import Names, Ref
from zt_flows.report.sections import anchor
from zt_flows.rules import RuleSpec
from zt_flows.vocabulary import RULE_PORTED, rule_ports_label

MATRIX_PORTS = 30  # columns before the rest are counted, not shown
Admits = Literal["all", "part", "none"]
_Column = tuple[int, int, int]  # protocol (-1: every protocol), from, to (-1: every)


@dataclass(frozen=True)
class MatrixCell:
    before: Admits
    after: Admits
    before_peers: tuple[str, ...]  # who is admitted today ("anywhere", "api", "10.0.0.0/8")
    after_peers: tuple[str, ...]

    @property
    def change(self) -> str:
        """``none`` / ``closed`` / ``opened`` / ``same`` / ``changed`` (the extent or the
        peers differ: the peers say how)."""
        if self.before == "none" and self.after == "none":
            return "none"
        if self.after == "none":
            return "closed"
        if self.before == "none":
            return "opened"
        if (self.before, self.before_peers) == (self.after, self.after_peers):
            return "same"
        return "changed"


@dataclass(frozen=True)
class MatrixRow:
    group: Ref
    anchor: str
    cells: tuple[MatrixCell, ...]


@dataclass(frozen=True)
class ReachMatrix:
    ports: tuple[str, ...]  # column labels: "tcp/443", "all traffic", "udp/all"
    rows: tuple[MatrixRow, ...]
    more_ports: int  # ranges named by some rule but not shown as a column


def _column(rule: RuleSpec) -> _Column:
    if rule.protocol is None:
        return (-1, -1, -1)
    low = -1 if rule.from_port is None else rule.from_port
    high = -1 if rule.to_port is None else rule.to_port
    return (rule.protocol, low, high)


def _label(column: _Column) -> str:
    protocol, low, high = column
    if protocol == -1:
        return rule_ports_label(None, None, None)
    return rule_ports_label(protocol, None if low == -1 else low, None if high == -1 else high)


def _admits(rule: RuleSpec, column: _Column) -> Admits:
    protocol, low, high = column
    if rule.protocol is None:
        return "all"
    if protocol == -1 or rule.protocol != protocol:
        # A narrower rule admits part of "all traffic", but that column is there to show
        # the all-traffic rules themselves: the narrower rule has a column of its own.
        return "none"
    if protocol not in RULE_PORTED:
        return _admits_typed(rule, low, high)
    if rule.from_port is None or rule.to_port is None:
        return "all"
    if low == -1:
        return "part"
    if rule.from_port <= low and high <= rule.to_port:
        return "all"
    return "part" if rule.from_port <= high and low <= rule.to_port else "none"


def _admits_typed(rule: RuleSpec, low: int, high: int) -> Admits:
    """ICMP and the like: ports are a type and a code (None: every type, or every code)."""
    if rule.from_port is None:
        return "all"
    if low == -1:
        return "part"  # one type of every type
    if rule.from_port != low:
        return "none"
    if rule.to_port is None or rule.to_port == high:
        return "all"
    return "part" if high == -1 else "none"


def _side(
    rules: list[PlannedRule], column: _Column, names: Names, group_id: str
) -> tuple[Admits, tuple[str, ...]]:
    admits: list[Admits] = []
    peers = set()
    for r in rules:
        a = _admits(r.rule, column)
        if a != "none":
            admits.append(a)
            ref = names.peer(r.peer, group_id)
            peers.add(ref.name or ref.id or "")
    if not admits:
        return "none", ()
    return ("all" if "all" in admits else "part"), tuple(sorted(peers))


def _cells(group: GroupPlan, columns: list[_Column], names: Names) -> tuple[MatrixCell, ...]:
    ingress = [r for r in group.rules if r.direction == "ingress"]
    today = [r for r in ingress if r.action in ("keep", "remove")]
    after = [r for r in ingress if r.action in ("keep", "add")]
    out = []
    for column in columns:
        before, before_peers = _side(today, column, names, group.group_id)
        then, after_peers = _side(after, column, names, group.group_id)
        out.append(MatrixCell(before, then, before_peers, after_peers))
    return tuple(out)


def reach_matrix(plan: Plan, names: Names) -> ReachMatrix:
    """Every group with an ingress rule today or after the change, by the ports named."""
    named: Counter[_Column] = Counter()
    for group in plan.security_groups:
        named.update({_column(r.rule) for r in group.rules if r.direction == "ingress"})
    # The ranges most groups name; ties by protocol and port, so the choice is stable.
    chosen = sorted(named, key=lambda c: (-named[c], c))[:MATRIX_PORTS]
    columns = sorted(chosen)
    rows = [
        MatrixRow(names.group(g.group_id), anchor(g.group_id), _cells(g, columns, names))
        for g in plan.security_groups
        if any(r.direction == "ingress" for r in g.rules)
    ]
    rows.sort(key=lambda r: r.group.sort_key)
    return ReachMatrix(
        ports=tuple(_label(c) for c in columns),
        rows=tuple(rows),
        more_ports=len(named) - len(columns),
    )
