"""The text of a new rule in the group's style, named the way its neighbours are named.

Every string goes through :func:`~zt_flows.terraform.hcl.hcl_string` (descriptions are
untrusted: ``${`` and ``%{`` are escaped); layout is ``terraform fmt``'s, at the depth of
the block it joins. A peer group the same module manages is written as a reference to
it, never as its id: the id of a group Terraform manages is Terraform's to know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from zt_flows.terraform.attributes import checkov_skips
from zt_flows.terraform.hcl import Attr, Block, Comment, block_lines, hcl_string
from zt_flows.terraform.naming import ports_words, slug
from zt_flows.tfrepo.model import RuleChange, Style
from zt_flows.tfrepo.state import SG_RULE, VPC_RULES
from zt_flows.vocabulary import protocol_number

_SEPARATORS = re.compile(r"[_-]")
ANYWHERE = {"0.0.0.0/0": "anywhere", "::/0": "anywhere_ipv6"}


def indent_of(text: str, offset: int) -> str:
    start = text.rfind("\n", 0, offset) + 1
    line = text[start:offset]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _ports(rule: RuleChange) -> tuple[int, int] | tuple[None, None]:
    if rule.protocol in ("tcp", "udp", "icmp", "icmpv6"):
        low = -1 if rule.from_port is None else rule.from_port
        high = -1 if rule.to_port is None else rule.to_port
        return low, high
    return None, None


def _peer_value(rule: RuleChange, group_owner: str | None) -> str:
    peer = rule.peer
    if peer.kind == "security_group" and peer.owner_id and peer.owner_id != group_owner:
        return f"{peer.owner_id}/{peer.value}"
    return peer.value


def inline_block(
    rule: RuleChange, *, reference: str | None, is_self: bool, group_owner: str | None, depth: int
) -> list[str]:
    """An ``ingress``/``egress`` block of ``aws_security_group``."""
    low, high = _ports(rule)
    body: list[Attr | None] = (
        [Attr("description", hcl_string(rule.description))] if rule.description else []
    )
    body += [
        Attr("from_port", str(0 if low is None else low)),
        Attr("to_port", str(0 if high is None else high)),
        Attr("protocol", hcl_string(rule.protocol)),
    ]
    peer = rule.peer
    if is_self:
        body.append(Attr("self", "true"))
    elif peer.kind == "security_group":
        body.append(
            Attr("security_groups", f"[{reference or hcl_string(_peer_value(rule, group_owner))}]")
        )
    elif peer.kind == "prefix_list":
        body.append(Attr("prefix_list_ids", f"[{hcl_string(peer.value)}]"))
    else:
        attribute = "ipv6_cidr_blocks" if ":" in peer.value else "cidr_blocks"
        body.append(Attr(attribute, f"[{hcl_string(peer.value)}]"))
    return block_lines(Block(rule.direction, (), tuple(body)), depth)


def rule_resource(
    rule: RuleChange,
    *,
    style: Style,
    name: str,
    group_expression: str,
    reference: str | None,
    is_self: bool,
    group_owner: str | None,
) -> list[str]:
    """An ``aws_security_group_rule`` or ``aws_vpc_security_group_*_rule`` resource."""
    low, high = _ports(rule)
    peer = rule.peer
    body: list[Attr | Comment | None]
    if style == "security_group_rule":
        body = [
            Attr("type", hcl_string(rule.direction)),
            Attr("security_group_id", group_expression),
            *([Attr("description", hcl_string(rule.description))] if rule.description else []),
            Attr("from_port", str(0 if low is None else low)),
            Attr("to_port", str(0 if high is None else high)),
            Attr("protocol", hcl_string(rule.protocol)),
        ]
        if is_self:
            body.append(Attr("self", "true"))
        elif peer.kind == "security_group":
            body.append(
                Attr(
                    "source_security_group_id",
                    reference or hcl_string(_peer_value(rule, group_owner)),
                )
            )
        elif peer.kind == "prefix_list":
            body.append(Attr("prefix_list_ids", f"[{hcl_string(peer.value)}]"))
        else:
            attribute = "ipv6_cidr_blocks" if ":" in peer.value else "cidr_blocks"
            body.append(Attr(attribute, f"[{hcl_string(peer.value)}]"))
        rtype = SG_RULE
    else:
        peer_attribute = {
            "security_group": "referenced_security_group_id",
            "prefix_list": "prefix_list_id",
        }.get(peer.kind, "cidr_ipv4")
        skips: list[Attr | Comment | None] = list(
            checkov_skips(rule.direction, rule.protocol, low, high, peer_attribute)
        )
        body = [
            *skips,
            Attr("security_group_id", group_expression),
            *([Attr("description", hcl_string(rule.description))] if rule.description else []),
            Attr("ip_protocol", hcl_string(rule.protocol)),
        ]
        if low is not None and high is not None:
            body += [Attr("from_port", str(low)), Attr("to_port", str(high))]
        if peer.kind == "security_group":
            body.append(
                Attr(
                    "referenced_security_group_id",
                    reference or hcl_string(_peer_value(rule, group_owner)),
                )
            )
        elif peer.kind == "prefix_list":
            body.append(Attr("prefix_list_id", hcl_string(peer.value)))
        else:
            attribute = "cidr_ipv6" if ":" in peer.value else "cidr_ipv4"
            body.append(Attr(attribute, hcl_string(peer.value)))
        rtype = VPC_RULES[0] if rule.direction == "ingress" else VPC_RULES[1]
    return block_lines(Block("resource", (rtype, name), tuple(body)))


def import_block(address: str, import_id: str) -> list[str]:
    return block_lines(
        Block("import", (), (Attr("to", address), Attr("id", hcl_string(import_id))))
    )


def sg_rule_import_id(group_id: str, rule: RuleChange, group_owner: str | None) -> str:
    """The id ``aws_security_group_rule`` imports by: group_type_protocol_from_to_source.

    The provider's format (SECURITYGROUPID_TYPE_PROTOCOL_FROMPORT_TOPORT_SOURCE); all
    traffic is ``all`` with the ports the configuration writes (0 and 0).
    """
    low, high = _ports(rule)
    protocol = "all" if rule.protocol == "-1" else rule.protocol
    if rule.peer.kind == "security_group" and rule.peer.value == group_id:
        source = "self"
    else:
        source = _peer_value(rule, group_owner)
    return (
        f"{group_id}_{rule.direction}_{protocol}_{0 if low is None else low}"
        f"_{0 if high is None else high}_{source}"
    )


# --------------------------------------------------------------------------- names


def rule_words(rule: RuleChange) -> str:
    """The ports in a resource name (``tcp_5432``, ``icmp_all``), as the standalone module
    names its rules; -1 is every ICMP type or code."""
    low = None if rule.from_port == -1 else rule.from_port
    high = None if rule.to_port == -1 else rule.to_port
    return ports_words(protocol_number(rule.protocol), low, high)


def peer_words(rule: RuleChange, group_id: str, labels: dict[str, str]) -> str:
    peer = rule.peer
    if peer.kind == "security_group":
        if peer.value == group_id:
            return "self"
        return labels.get(peer.value) or slug(peer.name or "") or slug(peer.value)
    if peer.kind == "prefix_list":
        return slug(peer.name or "") or slug(peer.value)
    return ANYWHERE.get(peer.value) or slug(peer.value, limit=60)


def _separator(names: Sequence[str]) -> str:
    dashes = sum(n.count("-") for n in names)
    underscores = sum(n.count("_") for n in names)
    return "-" if dashes > underscores else "_"


def _common_prefix(names: Sequence[str], sep: str) -> str:
    if len(names) < 2:
        return ""
    first, last = min(names), max(names)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    prefix = first[:n]
    cut = prefix.rfind(sep)
    return prefix[: cut + 1] if cut >= 0 else ""


def resource_name(
    rule: RuleChange,
    *,
    group_id: str,
    group_label: str,
    siblings: Sequence[str],
    taken: Iterable[str],
    labels: dict[str, str],
) -> str:
    """A new rule resource's name, in the pattern its siblings use.

    The siblings' common prefix (``api_`` in ``api_ingress_https``, ``api_egress_all``)
    is kept, or the group's own label when they start with it; what follows says what
    the rule is (``ingress_tcp_8443_from_web``), joined with the separator they use.
    The name depends only on the rule and its neighbours, so a later run names it the same.
    """
    sep = _separator(siblings) if siblings else "_"
    prefix = _common_prefix(siblings, sep)
    label = group_label.replace("_", sep).replace("-", sep)
    if not prefix and (not siblings or all(s.startswith(label + sep) for s in siblings)):
        prefix = label + sep
    word = "from" if rule.direction == "ingress" else "to"
    parts = [
        rule.direction,
        rule_words(rule),
        word,
        peer_words(rule, group_id, labels),
    ]
    body = sep.join(p.replace("_", sep) for p in parts)
    name = prefix + body
    if not (name[0].isalpha() or name[0] == "_"):
        name = f"sg{sep}{name}"
    used = set(taken)
    candidate, n = name, 2
    while candidate in used:
        candidate = f"{name}{sep}{n}"
        n += 1
    return candidate


def split_name(name: str) -> list[str]:
    return [p for p in _SEPARATORS.split(name) if p]
