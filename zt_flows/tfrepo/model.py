"""What the repository editor is asked to do, and what it found.

Inputs are the plan's groups and rules, reduced to the fields an edit needs
(:class:`GroupChange`, :class:`RuleChange`); :mod:`zt_flows.tfrepo.planinput` builds them
from a plan. Rules are compared by :class:`RuleKey`, what AWS itself considers the same
rule of a group (direction, protocol, ports, peer: two rules alike are a duplicate,
whatever their descriptions).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from zt_flows.rules import PeerKind, RulePeer
from zt_flows.vocabulary import Direction, ip_protocol, protocol_number, rule_ports_label

Action = Literal["keep", "add", "remove"]
Phase = Literal[1, 2]


def canonical_protocol(text: str | int) -> str:
    """``tcp``, ``udp``, ``icmp``, ``icmpv6``, ``-1`` or a protocol number, as AWS names them.

    The repository's Terraform keeps AWS's text form (the provider's ``protocol`` and
    ``ip_protocol`` attributes); ``all`` is the community module's word for ``-1``.
    """
    raw = str(text).strip().lower()
    if raw == "all":
        return "-1"
    try:
        return ip_protocol(protocol_number(raw))
    except ValueError:
        return raw  # not a protocol: left for the caller to report as written


def ports_label(protocol: str, from_port: int | None, to_port: int | None) -> str:
    """What a rule in AWS's text form admits, in the words of :mod:`zt_flows.vocabulary`
    (``tcp/5432``, ``icmp type 8``, ``all traffic``); -1 is every type or code."""
    number = protocol_number(protocol)
    low = None if from_port == -1 else from_port
    high = None if to_port == -1 else to_port
    return rule_ports_label(number, low, high)


def canonical_ports(
    protocol: str, from_port: int | None, to_port: int | None
) -> tuple[int | None, int | None]:
    """Ports as AWS compares them: ICMP type/code with -1 for all; none without ports."""
    if protocol in ("tcp", "udp"):
        return from_port, to_port
    if protocol in ("icmp", "icmpv6"):
        return (-1 if from_port is None else from_port), (-1 if to_port is None else to_port)
    return None, None


def canonical_cidr(text: str) -> str:
    return ipaddress.ip_network(text.strip(), strict=False).compressed


@dataclass(frozen=True, order=True)
class RuleKey:
    """One AWS rule of a group, as AWS tells two rules apart."""

    direction: Direction
    protocol: str
    from_port: int | None
    to_port: int | None
    peer_type: PeerKind
    peer_value: str  # sg-… (without owner), a canonical CIDR, pl-…

    @classmethod
    def of(
        cls,
        direction: Direction,
        protocol: str | int,
        from_port: int | None,
        to_port: int | None,
        peer_type: PeerKind,
        peer_value: str,
    ) -> RuleKey:
        proto = canonical_protocol(protocol)
        low, high = canonical_ports(proto, from_port, to_port)
        if peer_type == "cidr":
            peer_value = canonical_cidr(peer_value)
        elif peer_type == "security_group":
            peer_value = peer_value.rsplit("/", 1)[-1]
        return cls(direction, proto, low, high, peer_type, peer_value)

    @property
    def is_ipv6(self) -> bool:
        return self.peer_type == "cidr" and ":" in self.peer_value


@dataclass(frozen=True)
class RuleChange:
    direction: Direction
    action: Action
    protocol: str
    from_port: int | None
    to_port: int | None
    peer: RulePeer
    existing_rule_id: str | None
    # The description the rule carries when ztflows writes it: today's for a kept or
    # removed rule (so that adopting it changes nothing), a stable one for an added rule.
    description: str
    kept_for: str | None = None

    @property
    def key(self) -> RuleKey:
        return RuleKey.of(
            self.direction,
            self.protocol,
            self.from_port,
            self.to_port,
            self.peer.kind,
            self.peer.value,
        )


@dataclass(frozen=True)
class GroupChange:
    group_id: str
    name: str
    vpc_id: str | None
    owner_id: str | None
    rules: tuple[RuleChange, ...]


# --------------------------------------------------------------------------- results

Style = Literal["inline", "security_group_rule", "vpc_rule", "community_module"]
STYLE_TEXT: dict[Style, str] = {
    "inline": "inline ingress/egress blocks of aws_security_group",
    "security_group_rule": "aws_security_group_rule resources",
    "vpc_rule": "aws_vpc_security_group_ingress_rule / _egress_rule resources",
    "community_module": "the terraform-aws-modules/security-group module's inputs",
}


@dataclass(frozen=True)
class ManualStep:
    """A change ztflows could not make exactly; the pull request tells a person what to do."""

    group_id: str
    phase: Phase
    where: str  # file:line or an address
    what: str


@dataclass(frozen=True)
class Placement:
    """Where one planned group lives, and how the change reaches it."""

    group_id: str
    name: str
    # "edited": the team's Terraform edits in place; "standalone": no Terraform in the
    # repository manages it, so the standalone module adopts its rules with import blocks;
    # "manual": managed, but not in a way ztflows can edit exactly (see the steps);
    # "unchanged": managed, and the plan changes nothing there.
    outcome: Literal["edited", "standalone", "manual", "unchanged"]
    why: str
    root: str | None = None  # repository path of the root module
    address: str | None = None  # the group's resource address
    style: Style | None = None
    files: tuple[str, ...] = ()  # repository paths edited


@dataclass(frozen=True)
class RepositoryEdit:
    """The files a phase changes (repository path -> new text) and what it means."""

    phase: Phase
    files: dict[str, str]
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class TerraformRoot:
    path: Path  # absolute
    rel: str  # POSIX path inside the repository ("." for the top)
