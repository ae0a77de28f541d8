"""Short human descriptions of rules, groups and endpoints for findings, reasons and notes.

Protocols and ports are worded by :mod:`zt_flows.vocabulary`.
"""

from __future__ import annotations

from zt_flows.inventory.model import Inventory
from zt_flows.rules.semantics import RulePeer, RuleSpec
from zt_flows.vocabulary import direction_word, rule_ports_label


def group_label(inventory: Inventory, group_id: str) -> str:
    """``bastion (sg-…)``, or the id alone for a group the inventory does not know."""
    group = inventory.security_groups.get(group_id)
    return f"{group.name} ({group_id})" if group is not None else group_id


def endpoint_label(inventory: Inventory, endpoint_id: str) -> str:
    """``redis (eni-…)`` for an ENI with a Name tag; anything else as it is."""
    eni = inventory.interfaces.get(endpoint_id)
    name = eni.name if eni is not None else None
    return f"{name} ({endpoint_id})" if name else endpoint_id


def peer_label(inventory: Inventory, peer: RulePeer) -> str:
    if peer.kind == "security_group":
        return group_label(inventory, peer.value)
    if peer.kind == "prefix_list":
        pl = inventory.prefix_lists.get(peer.value)
        return f"{pl.name} ({peer.value})" if pl is not None else peer.value
    return peer.value


def rule_label(inventory: Inventory, rule: RuleSpec) -> str:
    """``ingress tcp/22 from 0.0.0.0/0`` / ``egress all traffic to web (sg-…)``."""
    ports = rule_ports_label(rule.protocol, rule.from_port, rule.to_port)
    word = direction_word(rule.direction)
    return f"{rule.direction} {ports} {word} {peer_label(inventory, rule.peer)}"
