"""The words every stage shares: protocols and ports, rule directions, endpoint kinds.

Protocols are IANA numbers in the data (flow-log records, the edge table, rules in
evaluation form); AWS's ``IpProtocol`` text (``tcp``, ``-1``, ``47``) is only how a rule is
written in the inventory, the plan and Terraform; people read names (``tcp/443``,
``icmp type 3 code 4``, ``protocol 47``). Every label of a protocol or a port is made here,
so the graph, the findings, the report, the pull request and the Terraform comments say
the same thing.

"Ported" means two different things, and both are named:

- :data:`FLOW_PORTED`: protocols whose flow-log records carry ports (TCP, UDP, SCTP); any
  other protocol is logged with port 0, ICMP included (flow logs know no ICMP type).
  AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
- :data:`RULE_PORTED`: protocols whose security-group rules take a port range (TCP, UDP).
  ICMP and ICMPv6 rules take a type and a code instead (:data:`RULE_TYPED`); a rule for
  any other protocol (SCTP, GRE, ESP...) admits the whole protocol.
  AWS: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpPermission.html
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Direction = Literal["ingress", "egress"]
DIRECTIONS: tuple[Direction, Direction] = ("ingress", "egress")

PROTO_ICMP, PROTO_TCP, PROTO_UDP, PROTO_ICMPV6, PROTO_SCTP = 1, 6, 17, 58, 132
PORTS = 65536  # port numbers 0-65535

# The names AWS's IpProtocol accepts; every other protocol is written as its number.
IP_PROTOCOL_NUMBERS: Mapping[str, int] = {
    "icmp": PROTO_ICMP,
    "tcp": PROTO_TCP,
    "udp": PROTO_UDP,
    "icmpv6": PROTO_ICMPV6,
}
_IP_PROTOCOL_NAMES = {number: name for name, number in IP_PROTOCOL_NUMBERS.items()}
# What people read; a protocol without a name here is "protocol 47".
PROTOCOL_NAMES: Mapping[int, str] = {
    **{number: name for name, number in IP_PROTOCOL_NUMBERS.items()},
    PROTO_SCTP: "sctp",
}
FLOW_PORTED = frozenset({PROTO_TCP, PROTO_UDP, PROTO_SCTP})
RULE_PORTED = frozenset({PROTO_TCP, PROTO_UDP})
RULE_TYPED = frozenset({PROTO_ICMP, PROTO_ICMPV6})


def protocol_number(text: str) -> int | None:
    """AWS's IpProtocol as a number; None for ``-1`` (all). Raises ValueError otherwise."""
    value = text.strip().lower()
    if value in IP_PROTOCOL_NUMBERS:
        return IP_PROTOCOL_NUMBERS[value]
    number = int(value)
    if number == -1:
        return None
    if not 0 <= number <= 255:
        raise ValueError(f"protocol {text!r} is not -1 or 0-255")
    return number


def ip_protocol(number: int | None) -> str:
    """The IpProtocol text of a number: ``tcp``, ``udp``, ``icmp``, ``icmpv6``, ``-1``, ``47``."""
    if number is None:
        return "-1"
    return _IP_PROTOCOL_NAMES.get(number) or str(number)


def protocol_name(number: int) -> str:
    """``tcp``, ``sctp``; ``protocol 47`` for a protocol without a name here (GRE)."""
    return PROTOCOL_NAMES.get(number, f"protocol {number}")


def conversation_label(protocol: int, port: int) -> str:
    """A conversation's protocol and server port as flow logs show them: ``tcp/443``,
    ``sctp/2905``, ``icmp`` (no type in flow logs), ``protocol 47``."""
    if protocol in FLOW_PORTED:
        return f"{protocol_name(protocol)}/{port}"
    return protocol_name(protocol)


def port_range_label(protocol: int, low: int, high: int) -> str:
    """A range of a ported protocol: ``tcp/443``, ``udp/1000-1009``; ``icmp`` alone."""
    if protocol not in FLOW_PORTED:
        return protocol_name(protocol)
    return f"{protocol_name(protocol)}/{low}" + ("" if low == high else f"-{high}")


def rule_ports_label(protocol: int | None, from_port: int | None, to_port: int | None) -> str:
    """What a rule admits, before its peer: ``all traffic``, ``tcp/22``, ``tcp/8000-8100``,
    ``udp/all``, ``icmp (all types)``, ``icmp type 3``, ``icmp type 3 code 4``, ``sctp``,
    ``protocol 47``. ``None`` ports are AWS's ``-1``: every port, type or code."""
    if protocol is None:
        return "all traffic"
    name = protocol_name(protocol)
    if protocol in RULE_PORTED:
        if from_port is None or to_port is None:
            return f"{name}/all"
        return f"{name}/{from_port}" if from_port == to_port else f"{name}/{from_port}-{to_port}"
    if protocol in RULE_TYPED:
        if from_port is None:
            return f"{name} (all types)"
        return f"{name} type {from_port}" + ("" if to_port is None else f" code {to_port}")
    return name


def direction_word(direction: Direction) -> str:
    """``from`` for ingress, ``to`` for egress: the word before a rule's peer."""
    return "from" if direction == "ingress" else "to"


# What an address of each endpoint kind is, in a few words (EndpointKind values). ENIs are
# named by their Name tag and role instead.
ENDPOINT_KIND_WORDS: Mapping[str, str] = {
    "internet": "internet",
    "aws_service": "AWS service",
    "peered_vpc": "peered VPC",
    "onprem": "on-premises",
    "partner": "partner",
    "vpc_unknown": "in the VPC, no known ENI",
    "private_other": "private address",
}


def endpoint_kind_words(kind: str) -> str:
    return ENDPOINT_KIND_WORDS.get(kind, kind)


__all__ = [
    "DIRECTIONS",
    "ENDPOINT_KIND_WORDS",
    "FLOW_PORTED",
    "IP_PROTOCOL_NUMBERS",
    "PORTS",
    "PROTOCOL_NAMES",
    "PROTO_ICMP",
    "PROTO_ICMPV6",
    "PROTO_SCTP",
    "PROTO_TCP",
    "PROTO_UDP",
    "RULE_PORTED",
    "RULE_TYPED",
    "Direction",
    "conversation_label",
    "direction_word",
    "endpoint_kind_words",
    "ip_protocol",
    "port_range_label",
    "protocol_name",
    "protocol_number",
    "rule_ports_label",
]
