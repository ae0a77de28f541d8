"""Names for what the report mentions: ENIs, groups, rules, addresses, finding subjects.

A person reads ``web-1`` and ``bastion``, not ``eni-0a1b…`` and ``sg-0f3a…``; the id
stays beside the name so it can be searched for. Names come from the inventory (Name
tags, group names), the plan (group and peer names) and, for ENIs the inventory no
longer knows, the edge table. They are untrusted text: the renderers escape them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

import polars as pl

from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule
from zt_flows.rules import RulePeer
from zt_flows.text import ANYWHERE_V4, ANYWHERE_V6, peer_text, rule_words
from zt_flows.vocabulary import endpoint_kind_words

_AWS_ID = re.compile(r"\b(?:eni|sg|sgr)-[0-9a-zA-Z]+\b")


@dataclass(frozen=True)
class Ref:
    """Something the report names: what a person reads, and the id beside it.

    At least one of ``name`` and ``id`` is set. ``kind`` says what it is (an ENI's
    role, ``AWS service``, ``internet``); renderers show it where there is room.
    """

    name: str | None
    id: str | None = None
    kind: str | None = None

    @property
    def sort_key(self) -> tuple[str, str]:
        return ((self.name or self.id or "").lower(), self.id or "")


def role_text(role: str | None) -> str | None:
    """``load balancer`` for ``load_balancer``."""
    return role.replace("_", " ") if role else None


class Names:
    """Lookups from ids to :class:`Ref` values, built once per report."""

    def __init__(self, plan: Plan, inventory: Inventory, edges: pl.DataFrame) -> None:
        self.inventory = inventory
        self.groups: dict[str, str] = {
            gid: sg.name for gid, sg in inventory.security_groups.items()
        }
        for group in plan.security_groups:
            self.groups[group.group_id] = group.name
        self.plans = {g.group_id: g for g in plan.security_groups}
        self.rules: dict[str, tuple[GroupPlan, PlannedRule]] = {}
        for group in plan.security_groups:
            for rule in group.rules:
                if rule.existing_rule_id:
                    self.rules.setdefault(rule.existing_rule_id, (group, rule))
        self.edge_roles: dict[str, str] = {}
        if edges.height:
            for side in ("client", "server"):
                rows = (
                    edges.filter(pl.col(f"{side}_kind") == "eni")
                    .select(f"{side}_id", f"{side}_role")
                    .unique()
                    .sort(f"{side}_id", f"{side}_role", nulls_last=True)
                )
                for eni_id, role in rows.iter_rows():
                    if role and eni_id not in self.edge_roles:
                        self.edge_roles[str(eni_id)] = str(role)
        holders: dict[str, set[str]] = defaultdict(set)
        for eni in inventory.interfaces.values():
            for address in (*eni.addresses, *eni.public_ips):
                holders[address].add(eni.name or eni.id)
        self.addresses = {a: ", ".join(sorted(n)) for a, n in holders.items()}

    # ------------------------------------------------------------------ things

    def eni(self, eni_id: str) -> Ref:
        eni = self.inventory.interfaces.get(eni_id)
        if eni is None:
            return Ref(None, eni_id, role_text(self.edge_roles.get(eni_id)))
        return Ref(eni.name, eni_id, role_text(eni.role.value))

    def group(self, group_id: str) -> Ref:
        return Ref(self.groups.get(group_id), group_id, "security group")

    def address(self, address: str, kind: str | None = None) -> Ref:
        """An address; named after the ENI(s) that hold it, if the inventory knows them."""
        return Ref(self.addresses.get(address), address, kind)

    def endpoint(self, text: str) -> Ref:
        """An entry of a rule's evidence: an ENI id, an address, or a class (``S3``)."""
        if text.startswith("eni-"):
            return self.eni(text)
        if text in self.addresses:
            return self.address(text)
        if _looks_like_address(text):
            return Ref(None, text)
        return Ref(text)

    def side(self, kind: str, ident: str, label: str | None) -> Ref:
        """One side of an edge-table row."""
        if kind == "eni":
            return self.eni(ident)
        if kind == "aws_service":
            return Ref(ident, label, "AWS service")
        return self.address(ident, endpoint_kind_words(kind))

    def peer(self, peer: RulePeer, group_id: str) -> Ref:
        if peer.kind == "security_group":
            if peer.value == group_id:
                return Ref("itself", peer.value, "security group")
            return Ref(self.groups.get(peer.value, peer.name), peer.value, "security group")
        if peer.kind == "prefix_list":
            prefix_list = self.inventory.prefix_lists.get(peer.value)
            name = peer.name or (prefix_list.name if prefix_list else None)
            return Ref(f"prefix list {name}" if name else None, peer.value, "prefix list")
        if peer.value in (ANYWHERE_V4, ANYWHERE_V6):
            return Ref("anywhere", peer.value, "CIDR")
        return Ref(None, peer.value, "CIDR")

    def rule_text(self, group: GroupPlan, rule: PlannedRule) -> str:
        """``ingress tcp/22 from 0.0.0.0/0 (anywhere)``: a rule of ``group``, as plain text."""
        words = rule_words(rule.rule)
        peer = rule.peer
        if peer.kind == "security_group" and peer.value in self.groups:
            peer = replace(peer, name=self.groups[peer.value])
        return f"{words} {peer_text(peer, group.group_id)}"

    def rule_key(self, group_id: str, key: str) -> str:
        """A rule of the plan named by its key (``egress:tcp:8080-8080:…``), as text."""
        group = self.plans.get(group_id)
        if group is not None:
            for rule in group.rules:
                if rule.key == key:
                    return self.rule_text(group, rule)
        return key

    def subject(self, subject: str) -> Ref:
        """What a finding is about: a rule, a group, an ENI, or a rule of the plan."""
        if subject.startswith("sgr-"):
            found = self.rules.get(subject)
            if found is not None:
                return Ref(self.rule_text(*found), subject, "rule")
            for rule in self.inventory.rules:
                if rule.id == subject:
                    return Ref(
                        f"a rule of {self.groups.get(rule.group_id, rule.group_id)}", subject
                    )
            return Ref(None, subject, "rule")
        group_id, slash, key = subject.partition("/")
        if slash and group_id.startswith("sg-"):
            return Ref(self.rule_key(group_id, key), None, "planned rule")
        if subject.startswith("sg-"):
            return self.group(subject)
        if subject.startswith("eni-"):
            return self.eni(subject)
        return self.endpoint(subject)

    def expand(self, text: str) -> str:
        """``web-1 (eni-…), web-2 (eni-…)``: ids in free text named, the id kept beside."""

        def named(match: re.Match[str]) -> str:
            ident = match.group(0)
            name = self.name_of(ident)
            return f"{name} ({ident})" if name else ident

        return _AWS_ID.sub(named, text)

    def name_of(self, ident: str) -> str | None:
        if ident.startswith("eni-"):
            return self.eni(ident).name
        if ident.startswith("sgr-"):
            found = self.rules.get(ident)
            return f"{found[0].name}: {self.rule_text(*found)}" if found else None
        if ident.startswith("sg-"):
            return self.groups.get(ident)
        return None

    def refs(self, items: Iterable[str]) -> tuple[Ref, ...]:
        """Evidence entries as Refs, sorted by what a person reads."""
        return tuple(sorted((self.endpoint(i) for i in items), key=lambda r: r.sort_key))


def _looks_like_address(text: str) -> bool:
    return bool(re.fullmatch(r"[0-9a-fA-F.:]+(/\d+)?", text)) and any(c in text for c in ".:")
