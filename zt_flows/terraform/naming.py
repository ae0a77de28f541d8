"""Readable, stable Terraform names for groups and rules.

A rule's resource name says what it is: ``postgres_ingress_tcp_5432_from_api``.
Names are derived only from the rule itself (never from its position in the plan),
so adding one rule does not rename the others; where two rules would share a name,
each gets a suffix hashed from its own identity, which is just as stable.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from zt_flows.recommend.plan import GroupPlan, PlannedRule
from zt_flows.rules import RulePeer
from zt_flows.text import ANYWHERE_V4, ANYWHERE_V6
from zt_flows.vocabulary import RULE_PORTED, RULE_TYPED, ip_protocol

MAX_PART = 40
_NON_WORD = re.compile(r"[^a-z0-9]+")


def slug(text: str, *, limit: int = MAX_PART) -> str:
    """Lower-case ASCII words joined by ``_`` (accents dropped, other characters split)."""
    ascii_text = (
        unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    )
    words = _NON_WORD.sub("_", ascii_text).strip("_")
    return words[:limit].rstrip("_")


def _digest(*parts: str, length: int = 6) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def group_labels(groups: Sequence[GroupPlan]) -> dict[str, str]:
    """group_id -> a unique identifier-safe label (``web_alb``; ``default_0a1b2c3d`` on a clash)."""
    base: dict[str, str] = {}
    for g in groups:
        label = slug(g.name) or slug(g.group_id)
        if not label[0].isalpha():
            label = f"sg_{label}"
        base[g.group_id] = label
    counts = Counter(base.values())
    labels: dict[str, str] = {}
    for g in groups:
        label = base[g.group_id]
        if counts[label] > 1:
            label = f"{label}_{slug(g.group_id.removeprefix('sg-'))}"
        labels[g.group_id] = label
    if len(set(labels.values())) != len(labels):  # two ids with the same hex: not from AWS
        labels = {gid: f"{label}_{_digest(gid)}" for gid, label in labels.items()}
    return labels


def peer_words(peer: RulePeer, group_id: str, names: Mapping[str, str]) -> str:
    """The peer as it reads in a resource name: a group's label, ``anywhere``, a CIDR."""
    if peer.kind == "security_group":
        if peer.value == group_id:
            return "self"
        if peer.value in names:
            return names[peer.value]
        return slug(peer.name or "") or slug(peer.value)
    if peer.kind == "prefix_list":
        return slug(peer.name or "") or slug(peer.value)
    if peer.value == ANYWHERE_V4:
        return "anywhere"
    if peer.value == ANYWHERE_V6:
        return "anywhere_ipv6"
    return slug(peer.value, limit=60)


def ports_words(protocol: int | None, from_port: int | None, to_port: int | None) -> str:
    """``tcp_5432``, ``tcp_8000_8100``, ``icmp_8_0``, ``icmp_all``, ``all``, ``proto_50``."""
    if protocol is None:
        return "all"
    name = ip_protocol(protocol)
    if protocol in RULE_TYPED:
        if from_port is None:
            return f"{name}_all"
        if to_port is None:
            return f"{name}_{from_port}"
        return f"{name}_{from_port}_{to_port}"
    if protocol in RULE_PORTED:
        if from_port == to_port:
            return f"{name}_{from_port}"
        return f"{name}_{from_port}_{to_port}"
    return f"proto_{name}"


def rule_identity(group_id: str, rule: PlannedRule) -> tuple[str, ...]:
    return (group_id, rule.action, rule.key, rule.existing_rule_id or "")


def rule_names(
    rules: Iterable[tuple[GroupPlan, PlannedRule]], labels: Mapping[str, str]
) -> dict[tuple[str, ...], str]:
    """rule identity -> a unique resource name, for every (group, rule) given."""
    items = list(rules)
    base: dict[tuple[str, ...], str] = {}
    for group, rule in items:
        word = "from" if rule.direction == "ingress" else "to"
        name = "_".join(
            [
                labels[group.group_id],
                rule.direction,
                ports_words(rule.rule.protocol, rule.from_port, rule.to_port),
                word,
                peer_words(rule.peer, group.group_id, labels),
            ]
        )
        base[rule_identity(group.group_id, rule)] = name
    counts = Counter(base.values())
    names = {
        ident: f"{name}_{_digest(*ident)}" if counts[name] > 1 else name
        for ident, name in base.items()
    }
    seen: Counter[str] = Counter()
    for ident in sorted(names):
        name = names[ident]
        seen[name] += 1
        if seen[name] > 1:  # a hash collision: astronomically rare, still handled
            names[ident] = f"{name}_{seen[name]}"
    return names
