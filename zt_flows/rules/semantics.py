"""One model of AWS security-group rules, for today's rules and for proposed ones.

A rule here (:class:`RuleSpec`) is one allow statement of one group in one direction:
a protocol (a number, or None for AWS's ``-1``: every protocol and port), a port range
(None: every port; for ICMP the type and code), and exactly one peer: a CIDR (v4 or
v6), a managed prefix list (matched by its entries) or a security group (matched by
every private address of its member ENIs). A :class:`RuleSet` is the rules of many
groups; inventory rules and plan rules both become one, so the same evaluator decides
today's traffic, the plan's verification and ``ztflows check``.

AWS: https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from zt_flows.addresses import canonical_cidr
from zt_flows.inventory.model import Inventory, SecurityGroupRule
from zt_flows.vocabulary import (
    PORTS,
    RULE_PORTED,
    RULE_TYPED,
    Direction,
    ip_protocol,
    protocol_number,
)

# "Every protocol and port" ranks as 256 protocols of 65536 ports each.
ALL_TRAFFIC_SIZE = 256 * PORTS

PeerKind = Literal["cidr", "prefix_list", "security_group"]


def _port(value: int | None) -> int | None:
    return None if value is None or value < 0 else value


@dataclass(frozen=True, order=True)
class RulePeer:
    """The other side of a rule: a CIDR (v4 or v6), a managed prefix list or a group.

    What a rule matches is ``kind`` and ``value``; ``name``, ``owner_id`` and ``vpc_id``
    say who the peer is (for people, and for Terraform's ``account/sg-…`` reference) and
    take no part in comparing peers.
    """

    kind: PeerKind
    value: str  # canonical CIDR | pl-… | sg-…
    name: str | None = field(default=None, compare=False)  # group or prefix list name
    owner_id: str | None = field(default=None, compare=False)  # a group of another account
    vpc_id: str | None = field(default=None, compare=False)  # a group reached by a peering

    @property
    def is_public_any(self) -> bool:
        """0.0.0.0/0 or ::/0."""
        return self.kind == "cidr" and self.value in ("0.0.0.0/0", "::/0")


@dataclass(frozen=True)
class RuleSpec:
    """One allow rule of one group in one direction, in evaluation form."""

    group_id: str
    direction: Direction
    protocol: int | None  # None: every protocol (AWS -1)
    from_port: int | None  # None: every port (tcp/udp) or every type (icmp)
    to_port: int | None  # None: every port, or every code (icmp)
    peer: RulePeer
    rule_id: str | None = None

    def __post_init__(self) -> None:
        if self.protocol is not None and self.protocol in RULE_PORTED:
            if (self.from_port is None) != (self.to_port is None):
                raise ValueError(f"rule {self.key}: a port range needs both ends")
            low, high = self.from_port, self.to_port
            if low is not None and high is not None and not 0 <= low <= high <= PORTS - 1:
                raise ValueError(f"rule {self.key}: bad port range")

    @property
    def key(self) -> str:
        """The rule id, or a stable name for rules without one."""
        if self.rule_id:
            return self.rule_id
        return f"{self.group_id}:{self.signature}"

    @property
    def signature(self) -> str:
        """Direction, protocol, ports and peer: equal signatures are the same rule."""
        return (
            f"{self.direction}:{ip_protocol(self.protocol)}:{self.ports_text}:"
            f"{self.peer.kind}:{self.peer.value}"
        )

    @property
    def ports_text(self) -> str:
        if self.from_port is None and self.to_port is None:
            return "all"
        low = "all" if self.from_port is None else str(self.from_port)
        high = "all" if self.to_port is None else str(self.to_port)
        return f"{low}-{high}"

    @property
    def ip_protocol(self) -> str:
        return ip_protocol(self.protocol)

    @property
    def all_traffic(self) -> bool:
        return self.protocol is None

    @property
    def all_ports(self) -> bool:
        """A tcp/udp rule over every port (0-65535 or AWS's -1)."""
        if self.protocol not in RULE_PORTED:
            return False
        return self.from_port is None or (self.from_port <= 1 and self.to_port == PORTS - 1)

    def port_range(self) -> tuple[int, int]:
        """The tcp/udp ports it covers (everything for other protocols)."""
        if self.protocol not in RULE_PORTED or self.from_port is None or self.to_port is None:
            return 0, PORTS - 1
        return self.from_port, self.to_port

    def covers(self, protocol: int, port: int) -> bool:
        """Whether the rule admits ``protocol`` / ``port`` (the peer aside).

        ICMP records carry port 0 (flow logs know no type or code), so an ICMP rule of
        any type admits every ICMP conversation; protocols without ports (GRE, ESP...)
        match on the number alone.
        """
        if self.protocol is None:
            return True
        if self.protocol != protocol:
            return False
        if protocol in RULE_PORTED:
            low, high = self.port_range()
            return low <= port <= high
        return True

    def ports_size(self) -> int:
        """How much of the protocol/port space the rule opens (for ranking narrowness)."""
        if self.protocol is None:
            return ALL_TRAFFIC_SIZE
        if self.protocol in RULE_PORTED:
            low, high = self.port_range()
            return high - low + 1
        if self.protocol in RULE_TYPED:
            if self.from_port is None:
                return PORTS  # every type and code
            return 256 if self.to_port is None else 1
        return PORTS

    # ------------------------------------------------------------------ builders

    @classmethod
    def normal(
        cls,
        group_id: str,
        direction: Direction,
        protocol: int | None,
        from_port: int | None,
        to_port: int | None,
        peer: RulePeer,
        rule_id: str | None = None,
    ) -> RuleSpec:
        """A rule as AWS states it, in evaluation form: AWS's ``-1`` (any negative port) is
        None, every port, type or code; a protocol without ports or types (GRE, ESP, AWS's
        ``-1``) has no ports at all, whatever was written."""
        low, high = _port(from_port), _port(to_port)
        if protocol is None or (protocol not in RULE_PORTED and protocol not in RULE_TYPED):
            low = high = None
        return cls(group_id, direction, protocol, low, high, peer, rule_id)

    @classmethod
    def from_inventory(cls, rule: SecurityGroupRule) -> RuleSpec:
        peer: RulePeer
        if rule.cidr_ipv4 is not None:
            peer = RulePeer("cidr", canonical_cidr(rule.cidr_ipv4))
        elif rule.cidr_ipv6 is not None:
            peer = RulePeer("cidr", canonical_cidr(rule.cidr_ipv6))
        elif rule.prefix_list_id is not None:
            peer = RulePeer("prefix_list", rule.prefix_list_id)
        else:
            assert rule.referenced_group_id is not None
            peer = RulePeer("security_group", rule.referenced_group_id)
        return cls.normal(
            rule.group_id,
            rule.direction,
            protocol_number(rule.protocol),
            rule.from_port,
            rule.to_port,
            peer,
            rule.id,
        )


class RuleSet:
    """The rules of a set of groups, indexed by (group, direction).

    ``groups`` are the groups whose rules are known: a known group without rules allows
    nothing, an unknown group makes a denial undecidable.
    """

    def __init__(self, rules: Iterable[RuleSpec], groups: Iterable[str] = ()) -> None:
        self.rules: tuple[RuleSpec, ...] = tuple(rules)
        self.groups = frozenset(groups) | {r.group_id for r in self.rules}
        index: dict[tuple[str, str], list[RuleSpec]] = {}
        for rule in self.rules:
            index.setdefault((rule.group_id, rule.direction), []).append(rule)
        self._index = {k: tuple(v) for k, v in index.items()}
        self.by_key: Mapping[str, RuleSpec] = {r.key: r for r in self.rules}

    def of(self, group_id: str, direction: Direction) -> tuple[RuleSpec, ...]:
        return self._index.get((group_id, direction), ())

    def known(self, group_id: str) -> bool:
        return group_id in self.groups

    @classmethod
    def from_inventory(cls, inventory: Inventory) -> RuleSet:
        """Today's rules: every rule of every group the inventory knows."""
        return cls(
            (RuleSpec.from_inventory(r) for r in inventory.rules),
            inventory.security_groups.keys(),
        )
