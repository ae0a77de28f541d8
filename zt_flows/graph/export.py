"""Writing a communication graph: GraphML, JSON node-link, DOT, SVG and PNG.

* GraphML (networkx's writer): GraphML has no list type, so list attributes are
  joined with commas (``tcp/443,tcp/8080``); every string is made XML-safe.
* JSON: networkx's node-link form (``nodes`` and ``edges``), keys sorted, lists kept.
* DOT: written here rather than through pydot or pygraphviz (neither is a dependency).
  Every id and value is a quoted string with ``\\`` and ``"`` escaped and line breaks
  as ``\\n``, so a hostile AWS name cannot end a string or inject a statement. Nodes of
  one tier share a ``rank=same`` group, so Graphviz lays them out in the same columns
  as the picture.
* SVG and PNG: the picture of ``graph.picture``.

Files are written to a temporary file beside the target and renamed into place.
"""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import networkx as nx

from zt_flows.atomic import write_bytes
from zt_flows.errors import UsageError
from zt_flows.graph.drawing import scene_to_png, scene_to_svg, xml_safe
from zt_flows.graph.labels import clean_text, node_subtitle, node_title, ports_text
from zt_flows.graph.picture import OTHER_OUTSIDE, OUTSIDE_STYLE, TIER_STYLE, draw_graph

GraphFormat = Literal["graphml", "json", "dot", "svg", "png"]
GRAPH_FORMATS: tuple[GraphFormat, ...] = get_args(GraphFormat)
LIST_SEPARATOR = ","


def render_graph(graph: nx.DiGraph, fmt: GraphFormat) -> bytes:
    """The bytes of ``graph`` in ``fmt``; the same graph always gives the same bytes."""
    if fmt == "graphml":
        return _graphml(graph)
    # Lone surrogates (which JSON input can carry) cannot be UTF-8: they become "?".
    if fmt == "json":
        return _json(graph).encode("utf-8", errors="replace")
    if fmt == "dot":
        return graph_to_dot(graph).encode("utf-8", errors="replace")
    if fmt == "svg":
        return scene_to_svg(draw_graph(graph)).encode("utf-8", errors="replace")
    if fmt == "png":
        return scene_to_png(draw_graph(graph))
    raise UsageError(f"graph format: expected one of {', '.join(GRAPH_FORMATS)}, found {fmt!r}")


def export_graph(graph: nx.DiGraph, path: Path | str, fmt: GraphFormat) -> Path:
    """Write ``graph`` to ``path`` in ``fmt``, atomically (temporary file, then rename)."""
    target = Path(path)
    data = render_graph(graph, fmt)
    write_bytes(target, data)
    return target


def format_for(path: Path | str) -> GraphFormat | None:
    """The format a file name implies (``.graphml``, ``.json``, ``.dot``/``.gv``, ...)."""
    suffix = Path(path).suffix.lower().lstrip(".")
    suffix = "dot" if suffix == "gv" else suffix
    for fmt in GRAPH_FORMATS:
        if suffix == fmt:
            return fmt
    return None


# --------------------------------------------------------------------------- GraphML


def _flat(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(xml_safe(v) for v in value)
    if isinstance(value, str):
        return xml_safe(value)
    return value


def _graphml(graph: nx.DiGraph) -> bytes:
    flat = nx.DiGraph()
    flat.graph.update({k: _flat(v) for k, v in graph.graph.items()})
    for node, attrs in graph.nodes(data=True):
        flat.add_node(_flat(node), **{k: _flat(v) for k, v in attrs.items()})
    for u, v, attrs in graph.edges(data=True):
        flat.add_edge(_flat(u), _flat(v), **{k: _flat(val) for k, val in attrs.items()})
    buffer = io.BytesIO()
    nx.write_graphml(flat, buffer, encoding="utf-8", prettyprint=True)
    return buffer.getvalue()


# --------------------------------------------------------------------------- JSON


def _json(graph: nx.DiGraph) -> str:
    data = nx.node_link_data(graph, edges="edges")
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- DOT


def dot_string(value: object) -> str:
    """``value`` as a DOT quoted string: ``\\`` and ``"`` escaped, line breaks as ``\\n``.

    Backslashes are doubled so a name cannot form Graphviz escapes (``\\N``, ``\\G``) or
    swallow the closing quote; other control characters become spaces.
    """
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch < " " or ch == "\x7f":
            out.append(" ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _dot_attrs(attrs: Mapping[str, object]) -> str:
    return ", ".join(f"{key}={dot_string(value)}" for key, value in attrs.items())


def graph_to_dot(graph: nx.DiGraph) -> str:
    """The graph in the DOT language, left to right by tier, with port labels on edges."""
    level = clean_text(str(graph.graph.get("level", "graph")))
    lines = [
        f"digraph {dot_string('ztflows ' + level)} {{",
        '  graph [rankdir="LR", nodesep="0.3", ranksep="1.2", fontname="DejaVu Sans"];',
        '  node [shape="box", style="rounded,filled", fontname="DejaVu Sans", fontsize="10"];',
        '  edge [fontname="DejaVu Sans", fontsize="9", color="#4b5563"];',
    ]
    for node, attrs in graph.nodes(data=True):
        lines.append(f"  {dot_string(node)} [{_dot_attrs(_dot_node(attrs))}];")
    for u, v, attrs in graph.edges(data=True):
        lines.append(f"  {dot_string(u)} -> {dot_string(v)} [{_dot_attrs(_dot_edge(attrs))}];")
    ranks: dict[int, list[str]] = defaultdict(list)
    for node, attrs in graph.nodes(data=True):
        ranks[int(attrs.get("tier", 0))].append(node)
    for tier in sorted(ranks):
        members = " ".join(f"{dot_string(n)};" for n in ranks[tier])
        lines.append(f"  {{ rank=same; {members} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(attrs: Mapping[str, Any]) -> dict[str, object]:
    external = bool(attrs.get("external"))
    if external:
        fill, stroke = OUTSIDE_STYLE.get(str(attrs.get("kind")), OTHER_OUTSIDE)
    else:
        fill, stroke = TIER_STYLE.get(str(attrs.get("tier_name")), TIER_STYLE["app"])
    return {
        "label": f"{node_title(attrs)}\n{node_subtitle(attrs)}",
        "shape": "ellipse" if external else "box",
        "fillcolor": fill,
        "color": stroke,
        "kind": attrs.get("kind", ""),
        "tier": attrs.get("tier", 0),
        "tooltip": clean_text(str(attrs.get("name", ""))),
    }


def _dot_edge(attrs: Mapping[str, Any]) -> dict[str, object]:
    rejected = bool(attrs.get("rejected_only"))
    found: dict[str, object] = {"label": ports_text(list(attrs.get("ports", [])))}
    if rejected:
        found.update({"style": "dashed", "color": "#dc2626", "fontcolor": "#dc2626"})
    found.update({"flows": attrs.get("flows", 0), "rejected_only": str(rejected).lower()})
    return found
