"""`ztflows graph`: registered on the application by :func:`register`."""

from __future__ import annotations

import tempfile
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from zt_flows.cli.console import stderr_console
from zt_flows.cli.options import (
    AWS_OPTIONS,
    QUIET_OPTION,
    WINDOW_OPTIONS,
    InventoryOpt,
    choice,
    with_settings,
)
from zt_flows.errors import UsageError
from zt_flows.graph import GRAPH_FORMATS, LEVELS
from zt_flows.settings import Settings

if TYPE_CHECKING:
    import networkx as nx
    import polars as pl

    from zt_flows.graph import GraphLevel
    from zt_flows.inventory.model import Inventory
    from zt_flows.settings import TimeWindow

OUTPUT = "Output"
_UNITS = {"security_group": "security groups", "eni": "network interfaces", "subnet": "subnets"}

GRAPH_HELP = """\
Draw or export who talks to whom: the communication graph of an edge table.

EDGES is the edges.parquet written by `ztflows conversations`. Each node is a workload \
at the chosen level, or a class of addresses outside the inventory (the internet, an AWS \
service by name, a peered VPC, on-premises, an unknown address in a VPC); each edge is \
client → server, with the server ports, flows, bytes, and when it was first and last seen.

[bold]Levels[/bold] (--level)

[bold]security_group[/bold] (the default): one node per security group. An ENI with \
several groups is drawn once, as its [italic]identity[/italic] group: the non-default group \
with the fewest members, passing over groups attached across unrelated workloads (a \
monitoring-agent group on every instance) when a narrower one exists; ties go to the \
lower group name. Each node keeps every group of its ENIs in its `groups` attribute.

[bold]eni[/bold]: one node per network interface. [bold]subnet[/bold]: one node per subnet.

[bold]Formats[/bold] (--format, or the extension of --out)

[bold]svg[/bold], [bold]png[/bold]: a picture in columns by tier, the outside and the load \
balancers on the left, the data stores on the right; every edge ends in a port tag \
(tcp/443) beside its server. The SVG is self-contained and can be inlined in HTML.

[bold]graphml[/bold] for Gephi, yEd or Cytoscape (lists joined with commas); \
[bold]json[/bold], networkx node-link, for notebooks; [bold]dot[/bold] for Graphviz \
(dot -Tsvg graph.dot -o graph.svg).

Edges whose every attempt was rejected (scans, a denied client) are left out unless \
--include-rejected; then they are drawn red and dashed.

[bold]Examples[/bold]

  ztflows graph out/edges.parquet --inventory out/inventory --out sg.svg

  ztflows graph edges.parquet --inventory inv/ --level subnet --out subnets.graphml

  ztflows graph edges.parquet --inventory inv/ --include-rejected --since 2026-11-17 --out sg.png
"""


@with_settings(*WINDOW_OPTIONS, *AWS_OPTIONS, QUIET_OPTION)
def graph(
    edges: Annotated[
        Path,
        typer.Argument(
            metavar="EDGES",
            help="edges.parquet written by `ztflows conversations`.",
            dir_okay=False,
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="File to write (replaced atomically).",
            dir_okay=False,
            rich_help_panel=OUTPUT,
            show_default=False,
        ),
    ],
    inventory: InventoryOpt = None,
    level: Annotated[
        str,
        choice(
            "--level",
            LEVELS,
            listed=True,
            help="Node granularity: security_group, eni or subnet.",
            rich_help_panel=OUTPUT,
        ),
    ] = "security_group",
    fmt: Annotated[
        str | None,
        choice(
            "--format",
            GRAPH_FORMATS,
            help="graphml, json, dot, svg or png (default: from the extension of --out).",
            rich_help_panel=OUTPUT,
            show_default=False,
        ),
    ] = None,
    include_rejected: Annotated[
        bool,
        typer.Option(
            "--include-rejected",
            help="Keep edges whose every attempt was rejected (drawn red and dashed).",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    *,
    settings: Settings,
) -> None:
    from zt_flows.conversations.io import read_edges
    from zt_flows.graph import build_graph, drop_rejected_only, export_graph, format_for

    chosen_level = cast("GraphLevel", level)  # one of LEVELS: --level is a choice
    chosen = format_for(out) if fmt is None else format_for(f"x.{fmt}")
    if chosen is None:  # --format is a choice: only the file name can be unknown
        raise UsageError(
            f"--format: expected one of {', '.join(GRAPH_FORMATS)},"
            f" found the file name {out.name!r}",
        )
    from zt_flows.writable import check_writable_file

    check_writable_file(out, option="--out")
    table = _in_window(read_edges(edges), settings.window)
    found_inventory = _inventory(inventory, settings)
    result = build_graph(table, found_inventory, level=chosen_level)
    if not include_rejected:
        result = drop_rejected_only(result)
    export_graph(result, out, chosen)
    if settings.sources.progress:
        stderr_console.print(_summary(result, out), markup=False, soft_wrap=True)
    typer.echo(str(out))


def _in_window(edges: pl.DataFrame, window: TimeWindow) -> pl.DataFrame:
    """Rows whose [first_seen, last_seen] overlaps the window (the table's times are UTC)."""
    import polars as pl

    if window.since is not None:
        since = window.since.astimezone(UTC).replace(tzinfo=None)
        edges = edges.filter(pl.col("last_seen") >= since)
    if window.until is not None:
        until = window.until.astimezone(UTC).replace(tzinfo=None)
        edges = edges.filter(pl.col("first_seen") < until)
    return edges


def _inventory(folder: Path | None, settings: Settings) -> Inventory:
    from zt_flows.inventory.load import load_inventory

    if folder is not None:
        return load_inventory(folder)
    from zt_flows.aws import make_session
    from zt_flows.cli.console import RichProgress
    from zt_flows.inventory.collect import collect_inventory

    with tempfile.TemporaryDirectory(prefix="ztflows-inventory-") as scratch:
        snapshot = collect_inventory(
            make_session(settings.aws),
            settings.aws,
            Path(scratch),
            progress=RichProgress(enabled=settings.sources.progress),
        )
        return load_inventory(snapshot)


def _summary(graph: nx.DiGraph, out: Path) -> str:
    inside = sum(1 for _, d in graph.nodes(data=True) if not d["external"])
    outside = graph.number_of_nodes() - inside
    rejected = sum(1 for *_, d in graph.edges(data=True) if d["rejected_only"])
    return (
        f"Wrote {out}: {inside} {_UNITS[graph.graph['level']]}, {outside} outside, "
        f"{graph.number_of_edges()} edges"
        + (f" ({rejected} rejected only)" if rejected else "")
        + "."
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("graph", help=GRAPH_HELP, no_args_is_help=True)(graph)
