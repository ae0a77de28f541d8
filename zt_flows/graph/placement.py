"""Layered placement of a communication graph: columns by tier, rows by barycentre.

Every node goes in the column of its tier (``graph.tiers``). An outside class that both
starts and answers conversations (the internet) is drawn twice, as a client on the left
and as a server on the right, so no edge runs back across the whole picture.

An edge that skips columns passes through each column between as a *waypoint*: a thin
item that takes a row like a node, so lines never cross a box. Rows are ordered by the
barycentre heuristic (alternating sweeps, keeping the order with the fewest crossings),
then each column's rows get the heights closest to their neighbours' that keep every
gap (an isotonic regression). Edge labels are *port tags*: one tag per target and port
set, just left of the target's box; every edge with those ports ends in that tag.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

import networkx as nx

from zt_flows.graph.labels import node_subtitle, node_title, ports_text
from zt_flows.graph.scene import text_width
from zt_flows.graph.tiers import TIER_NAMES, assign_tiers

Instance = tuple[str, str]  # (node, side): side "" for workloads, "out"/"in" for outside

TITLE_SIZE = 9.0
SUB_SIZE = 7.0
TAG_SIZE = 7.5
NODE_PAD = 8.0
NODE_H = 32.0
MIN_NODE_W = 72.0
TAG_H = 14.0
TAG_PITCH = 18.0
TAG_PAD = 4.0
TAG_GAP = 7.0  # between a tag and its box
NODE_GAP = 18.0
WAY_GAP = 7.0
WAY_H = 2.0
LOOP_ROOM = 24.0  # above a box with a self-loop
_SWEEPS = 12
_PLACEMENT_PASSES = 8


@dataclass
class Item:
    """A row in a column: a node instance or an edge's waypoint."""

    key: Instance | tuple[int, int]  # (edge index, column) for a waypoint
    column: int
    w: float = 0.0
    h: float = WAY_H
    room: float = 0.0  # extra space above
    y: float = 0.0  # centre
    node: str | None = None


@dataclass(frozen=True)
class Tag:
    target: Instance
    text: str
    rejected: bool


@dataclass
class Route:
    """One drawn edge."""

    index: int
    source: Instance
    target: Instance
    tag: Tag
    attrs: Mapping[str, object]
    waypoints: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Placement:
    items: dict[object, Item]
    columns: list[list[object]]
    column_x: list[float]
    column_w: list[float]
    entry_x: list[float]  # left edge of each column's tag strip
    routes: list[Route]
    tags: dict[Tag, tuple[float, float, float]]  # x (left), y (centre), width
    width: float
    height: float


def place_graph(graph: nx.DiGraph, *, top: float, margin: float) -> Placement:
    """Where every box, waypoint and tag goes (points, y down, content from ``top``)."""
    if any("tier" not in attrs for _, attrs in graph.nodes(data=True)):
        graph = graph.copy()
        assign_tiers(graph)
    columns_of = _columns(graph)
    routes = _routes(graph)
    items: dict[object, Item] = {}
    for inst, column in columns_of.items():
        attrs = graph.nodes[inst[0]]
        items[inst] = Item(key=inst, column=column, node=inst[0])
        items[inst].w = max(
            MIN_NODE_W,
            text_width(node_title(attrs), TITLE_SIZE, bold=True) + 2 * NODE_PAD,
            text_width(node_subtitle(attrs), SUB_SIZE) + 2 * NODE_PAD,
        )
    tags_of: dict[Instance, list[Tag]] = defaultdict(list)
    for route in routes:
        if route.tag not in tags_of[route.target]:
            tags_of[route.target].append(route.tag)
    loops = {r.source for r in routes if r.source == r.target}
    for inst, tags in tags_of.items():
        items[inst].h = max(NODE_H, len(tags) * TAG_PITCH + 4)
    for inst in columns_of:
        items[inst].h = max(items[inst].h, NODE_H)
        items[inst].room = LOOP_ROOM if inst in loops else 0.0
    for route in routes:
        first, last = columns_of[route.source], columns_of[route.target]
        for column in range(first + 1, last):
            key = (route.index, column)
            items[key] = Item(key=key, column=column)
            route.waypoints.append(key)

    count = max(columns_of.values(), default=0) + 1
    columns: list[list[object]] = [[] for _ in range(count)]
    for inst in sorted(columns_of, key=lambda i: _initial_key(graph, i)):
        columns[columns_of[inst]].append(inst)
    for route in routes:
        for key in route.waypoints:
            columns[key[1]].append(key)
    segments = _segments(routes, columns_of)
    columns = _order(columns, segments)
    _assign_y(items, columns, segments)

    tag_w = {
        tag: text_width(tag.text, TAG_SIZE) + 2 * TAG_PAD
        for tags in tags_of.values()
        for tag in tags
    }
    strip = [0.0] * count
    for tags in tags_of.values():
        for tag in tags:
            column = columns_of[tag.target]
            strip[column] = max(strip[column], tag_w[tag])
    zone_edges = [0] * count
    for _, b in segments:
        zone_edges[items[b].column] += 1
    column_x, column_w, entry_x = [], [], []
    x = margin
    for column in range(count):
        route_w = min(140.0, max(56.0, 36.0 + 5.0 * zone_edges[column])) if column else 0.0
        tag_zone = strip[column] + TAG_GAP if strip[column] else 0.0
        entry_x.append(x + route_w)
        x += route_w + tag_zone
        column_x.append(x)
        width = max((items[k].w for k in columns[column]), default=0.0)
        column_w.append(width or 16.0)
        x += column_w[-1]

    shift = top - min((it.y - it.h / 2 - it.room for it in items.values()), default=top)
    for item in items.values():
        item.y += shift
    placed = _place_tags(items, tags_of, routes, column_x, tag_w)
    bottom = max((it.y + it.h / 2 for it in items.values()), default=top)
    return Placement(
        items=items,
        columns=columns,
        column_x=column_x,
        column_w=column_w,
        entry_x=entry_x,
        routes=routes,
        tags=placed,
        width=x + margin,
        height=bottom,
    )


def _columns(graph: nx.DiGraph) -> dict[Instance, int]:
    """The column of every instance: 0 outside clients, workloads by tier, then outside."""
    workload_tiers = sorted(
        {int(d["tier"]) for _, d in graph.nodes(data=True) if not d["external"]}
    )
    compact = {tier: i + 1 for i, tier in enumerate(workload_tiers)}
    sink = len(workload_tiers) + 1
    found: dict[Instance, int] = {}
    for node, attrs in graph.nodes(data=True):
        if not attrs["external"]:
            found[(node, "")] = compact[int(attrs["tier"])]
            continue
        has_out = any(True for _ in graph.successors(node))
        has_in = any(True for _ in graph.predecessors(node))
        if has_out or (not has_in and int(attrs["tier"]) == 0):
            found[(node, "out")] = 0
        if has_in or (not has_out and int(attrs["tier"]) != 0):
            found[(node, "in")] = sink
    return found


def _instance(graph: nx.DiGraph, node: str, side: str) -> Instance:
    return (node, side) if graph.nodes[node]["external"] else (node, "")


def _routes(graph: nx.DiGraph) -> list[Route]:
    routes = []
    for index, (u, v, attrs) in enumerate(sorted(graph.edges(data=True), key=lambda e: e[:2])):
        target = _instance(graph, v, "in")
        tag = Tag(
            target, ports_text(list(attrs.get("ports", []))), bool(attrs.get("rejected_only"))
        )
        routes.append(Route(index, _instance(graph, u, "out"), target, tag, attrs))
    return routes


def _initial_key(graph: nx.DiGraph, inst: Instance) -> tuple[int, str, str]:
    attrs = graph.nodes[inst[0]]
    rank = TIER_NAMES.index(attrs["tier_name"]) if attrs["tier_name"] in TIER_NAMES else 9
    return rank, node_title(attrs).casefold(), inst[0]


def _segments(
    routes: Sequence[Route], columns_of: Mapping[Instance, int]
) -> list[tuple[object, object]]:
    """Adjacent-column pieces of every left-to-right edge (the rest do not order rows)."""
    found: list[tuple[object, object]] = []
    for route in routes:
        if columns_of[route.source] >= columns_of[route.target]:
            continue
        chain: list[object] = [route.source, *route.waypoints, route.target]
        found.extend(pairwise(chain))
    return found


def _order(
    columns: list[list[object]], segments: Sequence[tuple[object, object]]
) -> list[list[object]]:
    preds: dict[object, list[object]] = defaultdict(list)
    succs: dict[object, list[object]] = defaultdict(list)
    for a, b in segments:
        succs[a].append(b)
        preds[b].append(a)
    crossings_of = _Crossings(columns, segments)
    best = [list(c) for c in columns]
    best_crossings = crossings_of.count(best)
    current = [list(c) for c in columns]
    for sweep in range(_SWEEPS):
        down = sweep % 2 == 0
        span = range(1, len(current)) if down else range(len(current) - 2, -1, -1)
        for column in span:
            near = current[column - 1] if down else current[column + 1]
            links = preds if down else succs
            pos = {k: (i + 0.5) / len(near) for i, k in enumerate(near)}
            own = current[column]
            keys = {}
            for i, k in enumerate(own):
                linked = [pos[n] for n in links[k] if n in pos]
                keys[k] = (sum(linked) / len(linked) if linked else (i + 0.5) / len(own), i)
            current[column] = sorted(own, key=lambda k: keys[k])
        crossings = crossings_of.count(current)
        if crossings < best_crossings:
            best, best_crossings = [list(c) for c in current], crossings
    return best


class _Crossings:
    """Counts the crossings of the segments for orders of the columns' rows.

    Sweeps reorder rows within their columns and never move one to another column: the
    segments are grouped by the gap they span once, and each count only looks up rows'
    positions.
    """

    def __init__(
        self, columns: Sequence[Sequence[object]], segments: Sequence[tuple[object, object]]
    ) -> None:
        column_of = {k: c for c, column in enumerate(columns) for k in column}
        by_gap: dict[int, list[tuple[object, object]]] = defaultdict(list)
        for a, b in segments:
            by_gap[column_of[a]].append((a, b))
        self.gaps = list(by_gap.values())

    def count(self, columns: Sequence[Sequence[object]]) -> int:
        position = {k: i for column in columns for i, k in enumerate(column)}
        total = 0
        for segments in self.gaps:
            pairs = sorted((position[a], position[b]) for a, b in segments)
            total += _inversions([b for _, b in pairs])
        return total


def _inversions(values: list[int]) -> int:
    """How many pairs of ``values`` are out of order (a later value smaller).

    Short lists by insertion into a sorted list (a few hundred rows per gap is the usual
    size); long ones split in halves first, so the insertions stay short.
    """
    if len(values) > _INSERTION_MAX:
        middle = len(values) // 2
        left, right = values[:middle], values[middle:]
        count = _inversions(left) + _inversions(right)
        left.sort()
        right.sort()
        j = 0
        for value in left:
            while j < len(right) and right[j] < value:
                j += 1
            count += j
        return count
    seen: list[int] = []
    count = 0
    for i, value in enumerate(values):
        count += i - bisect_right(seen, value)
        insort(seen, value)
    return count


_INSERTION_MAX = 1024


def _assign_y(
    items: dict[object, Item],
    columns: list[list[object]],
    segments: Sequence[tuple[object, object]],
) -> None:
    neighbours: dict[object, list[object]] = defaultdict(list)
    for a, b in segments:
        neighbours[a].append(b)
        neighbours[b].append(a)
    for column in columns:
        y = 0.0
        for i, key in enumerate(column):
            item = items[key]
            y += _separation(items[column[i - 1]], item) if i else 0.0
            item.y = y
        middle = y / 2
        for key in column:
            items[key].y -= middle
    # Passes move rows, never their sizes: each column's gaps and each row's neighbours
    # are looked up once.
    gaps = [[_separation(items[a], items[b]) for a, b in pairwise(c)] for c in columns]
    rows = [[(items[k], [items[n] for n in neighbours[k]]) for k in c] for c in columns]
    for sweep in range(_PLACEMENT_PASSES):
        order = range(len(columns)) if sweep % 2 == 0 else range(len(columns) - 1, -1, -1)
        for index in order:
            desired = []
            for item, linked in rows[index]:
                near = [n.y for n in linked]
                desired.append(sum(near) / len(near) if near else item.y)
            for (item, _), y in zip(rows[index], _isotonic(desired, gaps[index]), strict=True):
                item.y = y


def _separation(above: Item, below: Item) -> float:
    gap = WAY_GAP if above.node is None or below.node is None else NODE_GAP
    return above.h / 2 + gap + below.room + below.h / 2


def _isotonic(desired: Sequence[float], gaps: Sequence[float]) -> list[float]:
    """Centres closest to ``desired`` (least squares) with ``y[i+1] - y[i] >= gaps[i]``."""
    if not desired:
        return []
    offsets = [0.0]
    for gap in gaps:
        offsets.append(offsets[-1] + gap)
    blocks: list[list[float]] = []  # [sum, count]
    for target in (d - o for d, o in zip(desired, offsets, strict=True)):
        blocks.append([target, 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    values: list[float] = []
    for total, count in blocks:
        values.extend([total / count] * int(count))
    return [round(v + o, 3) for v, o in zip(values, offsets, strict=True)]


def _place_tags(
    items: Mapping[object, Item],
    tags_of: Mapping[Instance, list[Tag]],
    routes: Sequence[Route],
    column_x: Sequence[float],
    tag_w: Mapping[Tag, float],
) -> dict[Tag, tuple[float, float, float]]:
    """Tags stacked down the left side of their box, ordered by where their edges come from."""
    came_from: dict[Tag, list[float]] = defaultdict(list)
    loops = {route.tag for route in routes if route.source == route.target}
    for route in routes:
        before = route.waypoints[-1] if route.waypoints else route.source
        came_from[route.tag].append(items[before].y)
    placed: dict[Tag, tuple[float, float, float]] = {}
    for inst, tags in tags_of.items():
        box = items[inst]
        ordered = sorted(
            tags,
            key=lambda t: (
                t not in loops,  # a self-loop's tag on top, where the loop comes down
                sum(came_from[t]) / len(came_from[t]),
                t.rejected,
                t.text,
            ),
        )
        for slot, tag in enumerate(ordered):
            y = box.y - box.h / 2 + box.h * (slot + 0.5) / len(ordered)
            x = column_x[box.column] - TAG_GAP - tag_w[tag]
            placed[tag] = (round(x, 3), round(y, 3), round(tag_w[tag], 3))
    return placed
