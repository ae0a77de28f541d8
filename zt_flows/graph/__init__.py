"""The communication graph: the edge table as networkx graphs, exports and pictures.

Public API: :func:`build_graph` (security-group, ENI or subnet level),
:func:`drop_rejected_only`, :func:`export_graph` / :func:`render_graph` (GraphML, JSON
node-link, DOT, SVG, PNG) and :func:`format_for`. How an ENI with several groups is
drawn is in ``graph.identity``; how columns are chosen, in ``graph.tiers``.
"""

from zt_flows.graph.build import LEVELS, GraphLevel, build_graph, drop_rejected_only
from zt_flows.graph.export import (
    GRAPH_FORMATS,
    GraphFormat,
    export_graph,
    format_for,
    graph_to_dot,
    render_graph,
)

__all__ = [
    "GRAPH_FORMATS",
    "LEVELS",
    "GraphFormat",
    "GraphLevel",
    "build_graph",
    "drop_rejected_only",
    "export_graph",
    "format_for",
    "graph_to_dot",
    "render_graph",
]
