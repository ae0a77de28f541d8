"""The security-group graph as data for the report's interactive view (cytoscape.js).

One JSON document, embedded in ``report.html`` as ``<script type="application/json">``
and drawn in the page by the vendored cytoscape.js: nodes are the graph's security groups
and outside classes, edges its accepted client → server links. Where each node goes is
decided here, by networkx's force-directed layout (``spring_layout``, seeded, so the same
graph is laid out the same way every time, and the page does not spend seconds on it at
300 groups), scaled so that neighbours sit a box apart; separate components sit side by
side. An edge's width grows with the
logarithm of its bytes; its ports, counts, times and the ENIs on both ends are what
hovering shows.

Every string comes from AWS (names, tags) or from flow logs and is untrusted: the page
only ever sets it as text, and the JSON is escaped so that nothing in it can end the
script element (:func:`graph_json`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import networkx as nx
import numpy as np

from zt_flows.report.names import Names, Ref
from zt_flows.text import human_bytes

EVIDENCE_NAMES = 6  # ENIs named on each side of an edge before "+N more"
EDGE_PORTS = 12  # ports listed for one edge before "+N more"
SPACING = 150.0  # px between a node and its nearest neighbour, typically
LAYOUT_SEED = 1
LAYOUT_ITERATIONS = 200
MIN_WIDTH, MAX_WIDTH = 1.0, 14.0  # edge widths, px, for the fewest and the most bytes
# What could end the script element or be read as markup, as JSON escapes: the JSON
# parses to the same values, and the HTML parser never sees "<", ">" or "&".
# Everything beyond ASCII is escaped by json.dumps (no bidirectional control reaches the file).
_JSON_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


@dataclass(frozen=True)
class GraphNode:
    id: str
    label: str
    detail: str  # the group id, or what the outside class is
    tier: str  # external | entry | app | data
    members: int
    x: float
    y: float


@dataclass(frozen=True)
class GraphEdge:
    id: str
    source: str
    target: str
    ports: str
    rejected_ports: str
    flows: int
    connections: int
    bytes: str
    width: float
    first_seen: str
    last_seen: str
    days: int
    clients: str
    servers: str


@dataclass(frozen=True)
class GraphData:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]


def _listed(items: Sequence[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return f"{shown} +{len(items) - limit} more" if len(items) > limit else shown


def _ref_text(ref: Ref) -> str:
    if ref.name and ref.id and ref.name != ref.id:
        return f"{ref.name} ({ref.id})"
    return ref.name or ref.id or ""


def _endpoints(items: Sequence[str], names: Names) -> str:
    texts = sorted(_ref_text(names.eni(i)) if i.startswith("eni-") else i for i in items)
    return _listed(texts, EVIDENCE_NAMES)


def _spring(component: nx.Graph) -> dict[str, tuple[float, float]]:
    """One connected component by the spring layout, scaled to the median gap, from 0,0."""
    if component.number_of_nodes() == 1:
        return {next(iter(component.nodes)): (0.0, 0.0)}
    layout = nx.spring_layout(component, seed=LAYOUT_SEED, iterations=LAYOUT_ITERATIONS)
    keys = sorted(layout)
    points = np.array([layout[k] for k in keys], dtype=float)
    gaps = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(gaps, np.inf)
    nearest = float(np.median(gaps.min(axis=1)))
    points = points * (SPACING / nearest if nearest > 0 else SPACING)
    points -= points.min(axis=0)
    return {k: (float(x), float(y)) for k, (x, y) in zip(keys, points, strict=True)}


def _component(graph: nx.Graph, nodes: list[str]) -> nx.Graph:
    """The component as a graph of its own, nodes and edges in sorted order: the spring
    layout's seeded start follows that order (a subgraph view's order follows set
    iteration, which changes with the interpreter's hash seed)."""
    members = set(nodes)
    component = nx.Graph()
    component.add_nodes_from(nodes)
    component.add_edges_from(
        sorted(
            (min(u, v), max(u, v)) for u, v in graph.edges(nodes) if u in members and v in members
        )
    )
    return component


def _positions(graph: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Where each node goes, in px: each connected component by the spring layout, the
    components side by side in rows, largest first (apart, they would be scaled away
    from each other)."""
    undirected = nx.Graph(graph.to_undirected())
    parts = sorted(
        (sorted(c) for c in nx.connected_components(undirected)), key=lambda c: (-len(c), c)
    )
    laid = [_spring(_component(undirected, c)) for c in parts]
    sizes = [
        (max(x for x, _ in p.values()) + SPACING, max(y for _, y in p.values()) + SPACING)
        for p in laid
    ]
    row_width = max(max(w for w, _ in sizes), 1.6 * math.sqrt(sum(w * h for w, h in sizes)))
    out: dict[str, tuple[float, float]] = {}
    x = y = row_height = 0.0
    for placed, (w, h) in zip(laid, sizes, strict=True):
        if x > 0 and x + w > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        for key, (px, py) in placed.items():
            out[key] = (round(x + px, 1), round(y + py, 1))
        x += w
        row_height = max(row_height, h)
    return out


def _node(key: str, attrs: dict[str, object], at: tuple[float, float]) -> GraphNode:
    name = str(attrs.get("name") or key)
    detail = key if key.startswith("sg-") else str(attrs.get("kind") or "").replace("_", " ")
    return GraphNode(
        id=key,
        label=name,
        detail=detail,
        tier=str(attrs.get("tier_name") or "app"),
        members=int(str(attrs.get("members") or 0)),
        x=at[0],
        y=at[1],
    )


def graph_data(graph: nx.DiGraph | None, names: Names) -> GraphData | None:
    """The nodes and edges the page draws (None without a graph)."""
    if graph is None or not graph.number_of_nodes():
        return None
    positions = _positions(graph)
    nodes = [_node(key, graph.nodes[key], positions[key]) for key in sorted(graph.nodes)]
    sizes = [int(a.get("bytes", 0)) for _, _, a in graph.edges(data=True)]
    low, high = math.log1p(min(sizes, default=0)), math.log1p(max(sizes, default=0))
    edges = []
    for i, (u, v) in enumerate(sorted(graph.edges)):
        a = graph.edges[u, v]
        size = int(a.get("bytes", 0))
        share = (math.log1p(size) - low) / (high - low) if high > low else 1.0
        edges.append(
            GraphEdge(
                id=f"e{i}",
                source=u,
                target=v,
                ports=_listed(list(a.get("ports", [])), EDGE_PORTS),
                rejected_ports=_listed(list(a.get("rejected_ports", [])), EDGE_PORTS),
                flows=int(a.get("flows", 0)),
                connections=int(a.get("connections", 0)),
                bytes=human_bytes(size),
                width=round(MIN_WIDTH + share * (MAX_WIDTH - MIN_WIDTH), 2),
                first_seen=str(a.get("first_seen", "")),
                last_seen=str(a.get("last_seen", "")),
                days=int(a.get("days_seen", 0)),
                clients=_endpoints(list(a.get("clients", [])), names),
                servers=_endpoints(list(a.get("servers", [])), names),
            )
        )
    return GraphData(nodes=tuple(nodes), edges=tuple(edges))


def graph_json(data: GraphData) -> str:
    """The graph as JSON that is safe inside ``<script type="application/json">``."""
    text = json.dumps(asdict(data), ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return text.translate(_JSON_ESCAPES)
