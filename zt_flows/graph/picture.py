"""The picture of a communication graph: boxes by tier, port tags, a legend.

Workloads are rounded boxes coloured by tier (entry blue, application green, data
orange); outside classes are pills (grey internet, violet AWS services, yellow for
peered VPCs, on-premises and unknown addresses). Every edge ends in a port tag on the
left of its server's box (``tcp/8443``), so a label sits at the server it describes
and edges with the same ports into one server share it. Rejected-only edges are red
and dashed (the CLI leaves them out unless asked). Line width grows with the log of
the flows.
"""

from __future__ import annotations

import math

import networkx as nx

from zt_flows.graph.labels import clean_text, node_subtitle, node_title
from zt_flows.graph.placement import (
    SUB_SIZE,
    TAG_GAP,
    TAG_H,
    TAG_SIZE,
    TITLE_SIZE,
    Item,
    Placement,
    Route,
    place_graph,
)
from zt_flows.graph.scene import Box, Curve, Point, Polygon, Scene, Shape, Text, text_width

MARGIN = 20.0
HEADER = 52.0
LEGEND_H = 46.0
EDGE = "#4b5563"
REJECTED = "#dc2626"
MUTED = "#6b7280"
ARROW = 6.5
LANE_GAP = 9.0  # between the lanes under the picture that edges going left follow
TURN = 28.0

TIER_STYLE = {
    "entry": ("#dbeafe", "#1d4ed8"),
    "app": ("#dcfce7", "#15803d"),
    "data": ("#ffedd5", "#c2410c"),
}
OUTSIDE_STYLE = {
    "internet": ("#f3f4f6", "#374151"),
    "aws_service": ("#ede9fe", "#6d28d9"),
}
OTHER_OUTSIDE = ("#fef9c3", "#a16207")
_LEVEL_TEXT = {
    "security_group": "Security groups",
    "eni": "Network interfaces",
    "subnet": "Subnets",
}
_UNITS = {"security_group": "groups", "eni": "ENIs", "subnet": "subnets"}


def draw_graph(graph: nx.DiGraph) -> Scene:
    """The scene of ``graph``: every node, edge, port tag, a title and a legend."""
    placement = place_graph(graph, top=HEADER + 8, margin=MARGIN)
    shapes: list[Shape] = []
    shapes.extend(_captions(graph, placement))
    lanes: dict[int, float] = {}
    for route in placement.routes:
        source, target = placement.items[route.source], placement.items[route.target]
        if route.source != route.target and source.column >= target.column:
            lanes[route.index] = placement.height + LANE_GAP * (len(lanes) + 1)
    for route in placement.routes:
        shapes.extend(_edge(placement, route, lanes.get(route.index)))
    shapes.extend(_tags(placement))
    for item in placement.items.values():
        if item.node is not None:
            shapes.extend(_node(graph, placement, item))
    title = _title(graph)
    legend_top = placement.height + LANE_GAP * len(lanes) + 26
    legend, legend_w = _legend(legend_top)
    shapes.extend(legend)
    shapes.insert(0, Text(MARGIN, 22, title, 11.0, bold=True))
    shapes.insert(1, Text(MARGIN, 37, _subtitle(graph), 8.0, color=MUTED))
    width = max(placement.width, legend_w + 2 * MARGIN, text_width(title, 11.0, True) + 2 * MARGIN)
    return Scene(
        width=math.ceil(width),
        height=math.ceil(legend_top + LEGEND_H),
        title=title,
        shapes=tuple(shapes),
    )


def _title(graph: nx.DiGraph) -> str:
    level = str(graph.graph.get("level", ""))
    return f"{_LEVEL_TEXT.get(level, 'Communication graph')}: who connects to whom, on which port"


def _subtitle(graph: nx.DiGraph) -> str:
    level = str(graph.graph.get("level", ""))
    inside = sum(1 for _, d in graph.nodes(data=True) if not d.get("external"))
    outside = graph.number_of_nodes() - inside
    rejected = sum(1 for *_, d in graph.edges(data=True) if d.get("rejected_only"))
    parts = [
        f"{inside} {_UNITS.get(level, 'nodes')}, {outside} outside",
        f"{graph.number_of_edges()} edges" + (f" ({rejected} rejected only)" if rejected else ""),
    ]
    first, last = str(graph.graph.get("first_seen", "")), str(graph.graph.get("last_seen", ""))
    if first and last:
        parts.append(f"{first[:16].replace('T', ' ')} to {last[:16].replace('T', ' ')} UTC")
    return clean_text(" · ".join(parts))


def _captions(graph: nx.DiGraph, placement: Placement) -> list[Shape]:
    last = len(placement.columns) - 1
    captions: dict[int, str] = {}
    for item in sorted(placement.items.values(), key=lambda it: it.column):
        if item.node is None:
            continue
        attrs = graph.nodes[item.node]
        if attrs.get("external"):
            captions[item.column] = "outside: clients" if item.column == 0 else "outside: servers"
        elif attrs.get("tier_name") == "data" and item.column != last:
            captions[item.column] = "data stores"
        elif attrs.get("tier_name") == "entry" and "entry points" not in captions.values():
            captions.setdefault(item.column, "entry points")
    return [
        Text(placement.column_x[c], HEADER - 2, text, 7.5, color=MUTED, italic=True)
        for c, text in sorted(captions.items())
    ]


def _node(graph: nx.DiGraph, placement: Placement, item: Item) -> list[Shape]:
    attrs = graph.nodes[item.node]
    x, top = placement.column_x[item.column], item.y - item.h / 2
    external = bool(attrs.get("external"))
    if external:
        fill, stroke = OUTSIDE_STYLE.get(str(attrs.get("kind")), OTHER_OUTSIDE)
        radius = min(item.h / 2, 16.0)
    else:
        fill, stroke = TIER_STYLE.get(str(attrs.get("tier_name")), TIER_STYLE["app"])
        radius = 5.0
    dash: tuple[float, ...] = ()
    if graph.graph.get("level") != "eni" and attrs.get("kind") == "eni":
        fill, dash = "#ffffff", (3.0, 2.0)  # an ENI no group or subnet stands for
    lines = [str(attrs.get("name", "")), f"{attrs.get('kind')} {item.node}"]
    if external:
        lines.append(f"addresses seen: {attrs.get('members')}")
    else:
        lines.append("groups: " + ", ".join(map(str, attrs.get("groups", []))))
        lines.append("ENIs: " + ", ".join(map(str, attrs.get("enis", [])[:20])))
    tooltip = "\n".join(clean_text(line) for line in lines)
    middle = item.y
    return [
        Box(x, top, item.w, item.h, radius, fill, stroke, 1.2, dash, tooltip),
        Text(
            x + item.w / 2, middle - 1.5, node_title(attrs), TITLE_SIZE, bold=True, anchor="middle"
        ),
        Text(
            x + item.w / 2,
            middle + 9.5,
            node_subtitle(attrs),
            SUB_SIZE,
            color="#374151",
            anchor="middle",
        ),
    ]


def _edge(placement: Placement, route: Route, lane: float | None) -> list[Shape]:
    items = placement.items
    source, target = items[route.source], items[route.target]
    tag_x, tag_y, _ = placement.tags[route.tag]
    rejected = bool(route.attrs.get("rejected_only"))
    flows = route.attrs.get("flows", 0)
    width = min(1.6, 0.6 + 0.22 * math.log10(1 + (flows if isinstance(flows, int) else 0)))
    color = REJECTED if rejected else EDGE
    dash = (4.0, 3.0) if rejected else ()
    src_right = placement.column_x[source.column] + source.w
    out_x = placement.column_x[source.column] + placement.column_w[source.column]
    entry = placement.entry_x[target.column]
    start: Point = (src_right, source.y)
    segments: list[tuple[Point, Point, Point]] = []
    if route.source == route.target:
        # Up from the top of the box, over it, and down into its topmost tag.
        top = source.y - source.h / 2
        start = (src_right - 14, top)
        segments.append(((src_right - 14, top - 30), (entry - 30, top - 30), (entry, tag_y)))
    elif lane is not None:
        # Right to left: round the source's column, along a lane under every box, and
        # up the gap before the target into its tag.
        segments.append(_line(start, (out_x, source.y)))
        segments.append(((out_x + TURN, source.y), (out_x + TURN, lane), (out_x, lane)))
        segments.append(_line((out_x, lane), (entry, lane)))
        segments.append(((entry - TURN, lane), (entry - TURN, tag_y), (entry, tag_y)))
    else:
        segments.append(_line(start, (out_x, source.y)))
        here: Point = (out_x, source.y)
        for key in route.waypoints:
            way = items[key]
            left = placement.entry_x[way.column]
            right = placement.column_x[way.column] + placement.column_w[way.column]
            segments.append(_bend(here, (left, way.y)))
            segments.append(_line((left, way.y), (right, way.y)))
            here = (right, way.y)
        segments.append(_bend(here, (entry, tag_y)))
    segments.append(_line(segments[-1][2], (tag_x - ARROW, tag_y)))
    return [Curve(start, tuple(segments), color, round(width, 2), dash)]


def _line(a: Point, b: Point) -> tuple[Point, Point, Point]:
    return (_mix(a, b, 1 / 3), _mix(a, b, 2 / 3), b)


def _bend(a: Point, b: Point) -> tuple[Point, Point, Point]:
    """A smooth S from ``a`` to ``b`` that leaves and arrives horizontally."""
    middle = (a[0] + b[0]) / 2
    return ((middle, a[1]), (middle, b[1]), b)


def _mix(a: Point, b: Point, t: float) -> Point:
    return (round(a[0] + (b[0] - a[0]) * t, 3), round(a[1] + (b[1] - a[1]) * t, 3))


def _tags(placement: Placement) -> list[Shape]:
    shapes: list[Shape] = []
    for tag, (x, y, w) in sorted(placement.tags.items(), key=lambda t: (t[1][0], t[1][1])):
        color = REJECTED if tag.rejected else "#111827"
        dash = (2.5, 1.5) if tag.rejected else ()
        shapes.append(Polygon(((x, y), (x - ARROW, y - 3.0), (x - ARROW, y + 3.0)), color))
        shapes.append(Box(x, y - TAG_H / 2, w, TAG_H, 3.0, "#ffffff", color, 0.9, dash))
        shapes.append(Text(x + w / 2, y + 2.7, tag.text, TAG_SIZE, color=color, anchor="middle"))
        connector = _line((x + w, y), (x + w + TAG_GAP, y))
        shapes.append(Curve((x + w, y), (connector,), color, 0.9, dash))
    return shapes


def _legend(top: float) -> tuple[list[Shape], float]:
    shapes: list[Shape] = [Text(MARGIN, top, "Legend", 8.0, bold=True)]
    x, y = MARGIN, top + 8
    samples: list[tuple[str, tuple[str, str], float]] = [
        ("entry", TIER_STYLE["entry"], 4.0),
        ("application", TIER_STYLE["app"], 4.0),
        ("data store", TIER_STYLE["data"], 4.0),
        ("internet", OUTSIDE_STYLE["internet"], 9.0),
        ("AWS service", OUTSIDE_STYLE["aws_service"], 9.0),
        ("other outside", OTHER_OUTSIDE, 9.0),
    ]
    for label, (fill, stroke), radius in samples:
        w = text_width(label, 7.5) + 14
        shapes.append(Box(x, y, w, 18, radius, fill, stroke, 1.0))
        shapes.append(Text(x + w / 2, y + 12.2, label, 7.5, anchor="middle"))
        x += w + 8
    x += 10
    tag_w = text_width("tcp/443", TAG_SIZE) + 8
    shapes.append(Curve((x, y + 9), (_line((x, y + 9), (x + 28, y + 9)),), EDGE, 1.2))
    shapes.append(Polygon(((x + 28 + ARROW, y + 9), (x + 28, y + 6), (x + 28, y + 12)), EDGE))
    shapes.append(Box(x + 28 + ARROW, y + 2, tag_w, TAG_H, 3.0, "#ffffff", "#111827", 0.9))
    shapes.append(Text(x + 28 + ARROW + tag_w / 2, y + 11.7, "tcp/443", TAG_SIZE, anchor="middle"))
    x += 28 + ARROW + tag_w + 5
    note = "client → server port"
    shapes.append(Text(x, y + 12, note, 7.5, color=MUTED))
    x += text_width(note, 7.5) + 16
    shapes.append(
        Curve((x, y + 9), (_line((x, y + 9), (x + 34, y + 9)),), REJECTED, 1.2, (4.0, 3.0))
    )
    x += 40
    shapes.append(Text(x, y + 12, "rejected attempts only", 7.5, color=REJECTED))
    x += text_width("rejected attempts only", 7.5)
    return shapes, x
