"""Short human descriptions of rules, groups and ports for findings, reasons and notes."""

from __future__ import annotations

from zt_flows.inventory.model import Inventory
from zt_flows.rules.semantics import ICMPS, PORTED, RulePeer, RuleSpec, protocol_text


def group_label(inventory: Inventory, group_id: str) -> str:
    """``bastion (sg-…)``, or the id alone for a group the inventory does not know."""
    group = inventory.security_groups.get(group_id)
    return f"{group.name} ({group_id})" if group is not None else group_id


def endpoint_label(inventory: Inventory, endpoint_id: str) -> str:
    """``redis (eni-…)`` for an ENI with a Name tag; anything else as it is."""
    eni = inventory.interfaces.get(endpoint_id)
    name = eni.name if eni is not None else None
    return f"{name} ({endpoint_id})" if name else endpoint_id


def ports_label(protocol: int | None, from_port: int | None, to_port: int | None) -> str:
    """``tcp/22``, ``tcp/8000-8100``, ``udp/all``, ``icmp``, ``all traffic``."""
    if protocol is None:
        return "all traffic"
    name = protocol_text(protocol)
    if protocol in PORTED:
        if from_port is None or to_port is None:
            return f"{name}/all"
        return f"{name}/{from_port}" if from_port == to_port else f"{name}/{from_port}-{to_port}"
    if protocol in ICMPS:
        if from_port is None:
            return name
        return f"{name} type {from_port}" + ("" if to_port is None else f" code {to_port}")
    return f"protocol {name}"


def peer_label(inventory: Inventory, peer: RulePeer) -> str:
    if peer.kind == "security_group":
        return group_label(inventory, peer.value)
    if peer.kind == "prefix_list":
        pl = inventory.prefix_lists.get(peer.value)
        return f"{pl.name} ({peer.value})" if pl is not None else peer.value
    return peer.value


def rule_label(inventory: Inventory, rule: RuleSpec) -> str:
    """``ingress tcp/22 from 0.0.0.0/0`` / ``egress all traffic to web (sg-…)``."""
    word = "from" if rule.direction == "ingress" else "to"
    ports = ports_label(rule.protocol, rule.from_port, rule.to_port)
    return f"{rule.direction} {ports} {word} {peer_label(inventory, rule.peer)}"


def conversation_label(protocol: int, port: int) -> str:
    if protocol in PORTED:
        return f"{protocol_text(protocol)}/{port}"
    return protocol_text(protocol)
