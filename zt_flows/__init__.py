"""ztflows: AWS VPC Flow Logs to least-privilege security groups.

The library API — one or two functions a stage — is what the CLI and notebooks use::

    from zt_flows import Settings, analyze, connect_engine, load_inventory

    settings = Settings()
    con = connect_engine(settings.engine)
    result = analyze("sample_data/flowlogs", settings, con,
                     inventory=load_inventory("sample_data/inventory"))
    result.observation.conversations.edges   # the edge table (polars)
    result.plan                              # the verified plan

Names are imported on first use, so ``import zt_flows`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_EXPORTS = {
    "Settings": "zt_flows.settings",
    "TimeWindow": "zt_flows.settings",
    "parse_window": "zt_flows.settings",
    "connect_engine": "zt_flows.engine",
    "read_flow_logs": "zt_flows.sources",
    "write_records": "zt_flows.sources",
    "collect_inventory": "zt_flows.inventory",
    "load_inventory": "zt_flows.inventory",
    "build_resolver": "zt_flows.inventory",
    "build_conversations": "zt_flows.conversations",
    "read_edges": "zt_flows.conversations",
    "write_edges": "zt_flows.conversations",
    "build_graph": "zt_flows.graph",
    "export_graph": "zt_flows.graph",
    "evaluate_rules": "zt_flows.rules",
    "recommend_rules": "zt_flows.recommend",
    "check_plan": "zt_flows.recommend",
    "read_plan": "zt_flows.recommend",
    "write_plan": "zt_flows.recommend",
    "render_terraform": "zt_flows.terraform",
    "render_report": "zt_flows.report",
    "observe": "zt_flows.pipeline",
    "obtain_inventory": "zt_flows.pipeline",
    "analyze": "zt_flows.pipeline",
    "build_recommendation": "zt_flows.pipeline",
    "write_analysis": "zt_flows.pipeline",
}

__all__ = [
    "Settings",
    "TimeWindow",
    "__version__",
    "analyze",
    "build_conversations",
    "build_graph",
    "build_recommendation",
    "build_resolver",
    "check_plan",
    "collect_inventory",
    "connect_engine",
    "evaluate_rules",
    "export_graph",
    "load_inventory",
    "observe",
    "obtain_inventory",
    "parse_window",
    "read_edges",
    "read_flow_logs",
    "read_plan",
    "recommend_rules",
    "render_report",
    "render_terraform",
    "write_analysis",
    "write_edges",
    "write_plan",
    "write_records",
]

if TYPE_CHECKING:
    from zt_flows.conversations import build_conversations, read_edges, write_edges
    from zt_flows.engine import connect_engine
    from zt_flows.graph import build_graph, export_graph
    from zt_flows.inventory import build_resolver, collect_inventory, load_inventory
    from zt_flows.pipeline import (
        analyze,
        build_recommendation,
        observe,
        obtain_inventory,
        write_analysis,
    )
    from zt_flows.recommend import check_plan, read_plan, recommend_rules, write_plan
    from zt_flows.report import render_report
    from zt_flows.rules import evaluate_rules
    from zt_flows.settings import Settings, TimeWindow, parse_window
    from zt_flows.sources import read_flow_logs, write_records
    from zt_flows.terraform import render_terraform


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'zt_flows' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    # Kept as a module attribute: later lookups do not come back here.
    globals()[name] = value
    return value
