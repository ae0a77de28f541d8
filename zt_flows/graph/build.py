"""The edge table as a directed graph: workloads and outside classes, client → server.

Three levels, one node per:

``security_group``  the identity group of each ENI (see ``graph.identity``); an ENI with
                    no group at all (a NAT gateway) stays its own ``eni`` node
``eni``             network interface
``subnet``          subnet of the ENI (an ENI the inventory does not place stays an ENI)

Addresses outside the inventory's ENIs are one node per class: ``internet``,
``aws_service:<SERVICE>``, ``peered_vpc:<vpc-id>``, ``onprem:<range>``,
``vpc_unknown:<vpc-id>`` (in a known VPC, held by no known ENI) and ``private_other``.

An edge aggregates every row between its two nodes over the window. ``ports`` are the
``tcp/443``-style server ports with accepted traffic; an edge whose every attempt was
rejected has ``rejected_only=True`` and its attempted ports in ``ports``, so a view can
hide or dash it. ``rejected_ports`` lists an edge's ports that were never accepted. The
counters and times cover every attempt, accepted or not.

Every attribute is a str, int, bool or a sorted list of str (no None), so each export
can carry it; nodes and edges are inserted in sorted order, so the same edge table
always gives the same graph.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import networkx as nx
import polars as pl

from zt_flows.graph.identity import GroupIndex
from zt_flows.graph.tiers import assign_tiers
from zt_flows.inventory.model import EndpointKind, Inventory
from zt_flows.rules.edges import index_distinct
from zt_flows.vocabulary import conversation_label, endpoint_kind_words, protocol_name

GraphLevel = Literal["security_group", "eni", "subnet"]
LEVELS: tuple[GraphLevel, ...] = ("security_group", "eni", "subnet")

_EXTERNAL_NAMES = {
    EndpointKind.INTERNET.value: "internet",
    EndpointKind.PRIVATE_OTHER.value: "other private",
}


@dataclass(frozen=True)
class _Side:
    """One side of an edge-table row."""

    kind: str
    id: str
    vpc_id: str | None
    role: str | None
    groups: frozenset[str]
    addresses: tuple[str, ...]
    label: str | None


@dataclass
class _NodeFacts:
    kind: str
    enis: set[str] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    roles: dict[str, str] = field(default_factory=dict)  # eni -> role
    vpcs: Counter[str] = field(default_factory=Counter)
    addresses: set[str] = field(default_factory=set)
    label: str | None = None


@dataclass
class _EdgeFacts:
    ports: dict[tuple[int, int], list[int]] = field(default_factory=dict)  # accepted, rejected
    flows: int = 0
    accepted: int = 0
    rejected: int = 0
    connections: int = 0
    packets: int = 0
    bytes: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    days: set[date] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)
    servers: set[str] = field(default_factory=set)


def build_graph(edges: pl.DataFrame, inventory: Inventory, *, level: GraphLevel) -> nx.DiGraph:
    """The communication graph of ``edges`` (the edge table) at ``level``.

    Node attributes: ``kind``, ``name``, ``vpc_id``, ``tier``, ``tier_name``, ``members``
    (ENIs carrying the group / in the subnet; 1 for an ENI; distinct addresses seen for
    an outside class), ``role`` (the most common interface role, ``external`` outside),
    ``roles``, ``groups`` (every group of the ENIs the node stands for), ``enis``,
    ``external``. Edge attributes: ``ports``, ``rejected_ports``, ``protocols``,
    ``flows``, ``accepted``, ``rejected``, ``connections``, ``packets``, ``bytes``,
    ``first_seen``, ``last_seen`` (ISO 8601, UTC), ``days_seen``, ``rejected_only``,
    ``clients`` and ``servers`` (the ENIs or outside classes underneath).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    rows = list(edges.select(_ROW_COLUMNS).iter_rows(named=True))
    sides = list(zip(_sides(edges, "client"), _sides(edges, "server"), strict=True))
    observed: dict[str, set[str]] = defaultdict(set)
    for pair in sides:
        for side in pair:
            if side.kind == EndpointKind.ENI:
                observed[side.id].update(side.groups)
    index = GroupIndex(inventory, observed)
    mapper = _Mapper(inventory, index, level)

    facts: dict[tuple[str, str], _EdgeFacts] = {}
    for row, (client, server) in zip(rows, sides, strict=True):
        u, v = mapper.node(client), mapper.node(server)
        _add_row(facts.setdefault((u, v), _EdgeFacts()), row, client, server)

    graph = nx.DiGraph(level=level)
    for key in sorted(mapper.nodes):
        graph.add_node(key, **mapper.attributes(key))
    for u, v in sorted(facts):
        graph.add_edge(u, v, **_edge_attributes(facts[u, v]))
    _window(graph, list(facts.values()))
    assign_tiers(graph)
    return graph


def drop_rejected_only(graph: nx.DiGraph) -> nx.DiGraph:
    """A copy without rejected-only edges and without the nodes only they touched."""
    kept = nx.DiGraph(**graph.graph)
    touched = {n for u, v, d in graph.edges(data=True) if not d["rejected_only"] for n in (u, v)}
    rejected_nodes = {n for e in graph.edges for n in e}
    for node, data in graph.nodes(data=True):
        if node in touched or node not in rejected_nodes:
            kept.add_node(node, **data)
    for u, v, data in graph.edges(data=True):
        if not data["rejected_only"]:
            kept.add_edge(u, v, **data)
    return kept


# What _add_row reads of a row; the sides come apart (_sides).
_ROW_COLUMNS = (
    "day",
    "protocol",
    "server_port",
    "flows",
    "accepted",
    "rejected",
    "connections",
    "packets",
    "bytes",
    "first_seen",
    "last_seen",
)


def _sides(edges: pl.DataFrame, prefix: str) -> list[_Side]:
    """The ``prefix`` side of every row. An interface is a side of many rows: each distinct
    side is built once and shared (they are frozen)."""
    columns = [f"{prefix}_{name}" for name in ("kind", "id", "vpc_id", "role", "sgs", "addrs")]
    distinct, index = index_distinct(edges, [*columns, f"{prefix}_label"])
    built = [
        _Side(
            kind=str(kind),
            id=str(id_),
            vpc_id=vpc_id,
            role=role,
            groups=frozenset(sgs or ()),
            addresses=tuple(addrs or ()),
            label=label,
        )
        for kind, id_, vpc_id, role, sgs, addrs, label in distinct.iter_rows()
    ]
    return [built[i] for i in index.to_list()]


class _Mapper:
    """Maps each side of a row to its node at one level, and remembers what it saw."""

    def __init__(self, inventory: Inventory, index: GroupIndex, level: GraphLevel) -> None:
        self._inventory = inventory
        self._index = index
        self._level = level
        self.nodes: dict[str, _NodeFacts] = {}

    def node(self, side: _Side) -> str:
        if side.kind != EndpointKind.ENI:
            key = _external_key(side)
            facts = self.nodes.setdefault(key, _NodeFacts(kind=side.kind))
            facts.addresses.update(side.addresses)
            if side.vpc_id:
                facts.vpcs[side.vpc_id] += 1
            facts.label = facts.label or side.label
            return key
        eni = self._inventory.interfaces.get(side.id)
        groups = side.groups or frozenset(eni.security_group_ids if eni else ())
        key, kind = side.id, "eni"
        if self._level == "security_group":
            identity = self._index.identity(groups)
            if identity is not None:
                key, kind = identity, "security_group"
        elif self._level == "subnet" and eni is not None and eni.subnet_id:
            key, kind = eni.subnet_id, "subnet"
        facts = self.nodes.setdefault(key, _NodeFacts(kind=kind))
        facts.enis.add(side.id)
        facts.groups.update(groups)
        role = eni.role.value if eni is not None else (side.role or "unknown")
        facts.roles.setdefault(side.id, role)
        vpc = side.vpc_id or (eni.vpc_id if eni else None)
        if vpc:
            facts.vpcs[vpc] += 1
        return key

    def attributes(self, key: str) -> dict[str, Any]:
        facts = self.nodes[key]
        vpc_id = min(facts.vpcs, key=lambda v: (-facts.vpcs[v], v)) if facts.vpcs else ""
        external = facts.kind not in ("security_group", "eni", "subnet")
        if external:
            name = self._external_name(key, facts, vpc_id)
            members, role = len(facts.addresses), "external"
        else:
            name, members, vpc_id = self._workload(key, facts, vpc_id)
            counts = Counter(facts.roles.values())
            role = min(counts, key=lambda r: (-counts[r], r))
        return {
            "kind": facts.kind,
            "name": name,
            "vpc_id": vpc_id,
            "members": members,
            "role": role,
            "roles": sorted(set(facts.roles.values())),
            "groups": sorted(facts.groups),
            "enis": sorted(facts.enis),
            "external": external,
        }

    def _workload(self, key: str, facts: _NodeFacts, vpc_id: str) -> tuple[str, int, str]:
        inventory = self._inventory
        if facts.kind == "security_group":
            group = inventory.security_groups.get(key)
            vpc = group.vpc_id if group is not None and group.vpc_id else vpc_id
            return self._index.name(key), self._index.members(key), vpc
        if facts.kind == "subnet":
            subnet = inventory.subnets.get(key)
            known = {e.id for e in inventory.interfaces.values() if e.subnet_id == key}
            name = _tag(subnet.tags, "Name") if subnet is not None else None
            vpc = subnet.vpc_id if subnet is not None else vpc_id
            return name or key, len(known | facts.enis), vpc
        eni = inventory.interfaces.get(key)
        return (eni.name if eni else None) or key, 1, (eni.vpc_id if eni else vpc_id)

    def _external_name(self, key: str, facts: _NodeFacts, vpc_id: str) -> str:
        kind = facts.kind
        if kind == EndpointKind.AWS_SERVICE:
            return key.partition(":")[2]
        if kind in (EndpointKind.ONPREM, EndpointKind.PARTNER):
            words = endpoint_kind_words(kind)
            return f"{words} {facts.label}" if facts.label else words
        if kind in (EndpointKind.PEERED_VPC, EndpointKind.VPC_UNKNOWN):
            vpc = self._inventory.vpcs.get(vpc_id)
            vpc_name = (_tag(vpc.tags, "Name") if vpc is not None else None) or vpc_id or "?"
            prefix = endpoint_kind_words(kind) if kind == EndpointKind.PEERED_VPC else "unknown in"
            return f"{prefix} {vpc_name}"
        return _EXTERNAL_NAMES.get(kind, key)


def _external_key(side: _Side) -> str:
    kind = side.kind
    if kind in (EndpointKind.INTERNET, EndpointKind.PRIVATE_OTHER):
        return kind
    if kind == EndpointKind.AWS_SERVICE:
        return f"{kind}:{side.id}"
    if kind in (EndpointKind.PEERED_VPC, EndpointKind.VPC_UNKNOWN):
        return f"{kind}:{side.vpc_id or side.label or 'unknown'}"
    if kind in (EndpointKind.ONPREM, EndpointKind.PARTNER):
        return f"{kind}:{side.label}" if side.label else kind
    return f"{kind}:{side.id}"


def _tag(tags: Iterable[tuple[str, str]], key: str) -> str | None:
    return dict(tags).get(key)


def _add_row(facts: _EdgeFacts, row: dict[str, Any], client: _Side, server: _Side) -> None:
    accepted, rejected = int(row["accepted"]), int(row["rejected"])
    counts = facts.ports.setdefault((int(row["protocol"]), int(row["server_port"])), [0, 0])
    counts[0] += accepted
    counts[1] += rejected
    facts.flows += int(row["flows"])
    facts.accepted += accepted
    facts.rejected += rejected
    facts.connections += int(row["connections"] or 0)
    facts.packets += int(row["packets"] or 0)
    facts.bytes += int(row["bytes"] or 0)
    first, last = row["first_seen"], row["last_seen"]
    if first is not None and (facts.first_seen is None or first < facts.first_seen):
        facts.first_seen = first
    if last is not None and (facts.last_seen is None or last > facts.last_seen):
        facts.last_seen = last
    facts.days.add(row["day"])
    facts.clients.add(client.id if client.kind == EndpointKind.ENI else _external_key(client))
    facts.servers.add(server.id if server.kind == EndpointKind.ENI else _external_key(server))


def _edge_attributes(facts: _EdgeFacts) -> dict[str, Any]:
    ordered = sorted(facts.ports)
    accepted = [p for p in ordered if facts.ports[p][0] > 0]
    never = [p for p in ordered if facts.ports[p][0] == 0]
    shown = accepted or never
    return {
        "ports": [conversation_label(*p) for p in shown],
        "rejected_ports": [conversation_label(*p) for p in never],
        "protocols": sorted({protocol_name(p[0]) for p in shown}),
        "flows": facts.flows,
        "accepted": facts.accepted,
        "rejected": facts.rejected,
        "connections": facts.connections,
        "packets": facts.packets,
        "bytes": facts.bytes,
        "first_seen": iso_time(facts.first_seen),
        "last_seen": iso_time(facts.last_seen),
        "days_seen": len(facts.days),
        "rejected_only": not accepted,
        "clients": sorted(facts.clients),
        "servers": sorted(facts.servers),
    }


def iso_time(moment: datetime | None) -> str:
    """``2026-11-16T08:00:00Z``; the edge table's times are naive UTC."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else ""


def _window(graph: nx.DiGraph, facts: list[_EdgeFacts]) -> None:
    firsts = [f.first_seen for f in facts if f.first_seen is not None]
    lasts = [f.last_seen for f in facts if f.last_seen is not None]
    graph.graph["first_seen"] = iso_time(min(firsts)) if firsts else ""
    graph.graph["last_seen"] = iso_time(max(lasts)) if lasts else ""
