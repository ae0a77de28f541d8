"""`ztflows conversations`: flow logs + inventory -> the edge table (edges.parquet)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zt_flows.cli.common import observed
from zt_flows.cli.options import (
    OBSERVE_OPTIONS,
    InventoryOpt,
    SourceArg,
    text_format,
    with_settings,
)
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from zt_flows.conversations import ConversationReport

HELP = "\n\n".join(
    [
        "Find who talks to whom: one row per (day, client, server, protocol, server port).",
        "Every flow record is oriented (which side opened the connection?) by, in order: TCP"
        " flags (SYN without ACK), listener evidence learnt from the whole data set, then port"
        " heuristics and fan-in for logs without flags (version 2, UDP, ICMP). Response records"
        " never become conversations. Both sides are resolved through the inventory"
        " (time-aware: an address belongs to the ENI that held it at that moment), behind NAT"
        " gateways through pkt-srcaddr/pkt-dstaddr, and a connection logged at both ends counts"
        " once.",
        "[bold]Examples[/bold]",
        "  ztflows conversations s3://my-flow-logs/AWSLogs/ --inventory snapshots/ --since 14d"
        " --out edges.parquet",
        "  ztflows conversations sample_data/flowlogs --inventory sample_data/inventory"
        " --out edges.parquet",
    ]
)

OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", help="Write the edge table here (Parquet).", dir_okay=False),
]
FormatOpt = Annotated[
    str, text_format("json", help="Report format: 'text' (on stderr) or 'json' (on stdout).")
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("conversations", help=HELP, no_args_is_help=True)(conversations)


@with_settings(*OBSERVE_OPTIONS)
def conversations(
    source: SourceArg,
    out: OutOpt,
    inventory: InventoryOpt = None,
    report_format: FormatOpt = "text",
    *,
    settings: Settings,
) -> None:
    from zt_flows.cli.console import print_warnings
    from zt_flows.conversations import write_edges
    from zt_flows.writable import check_writable_file

    check_writable_file(out, option="--out")
    with observed(source, inventory, settings) as (_, observation, _progress):
        write_edges(observation.conversations.edges, out)
    report = observation.conversations.report
    print_warnings(observation.warnings)
    if report_format == "json":
        typer.echo(json.dumps(report_dict(report, out), indent=2))
    else:
        _print_report(report, out)


def report_dict(report: ConversationReport, out: Path | None = None) -> dict[str, object]:
    return {
        "output": str(out) if out else None,
        "records": {"input": report.input_records, "used": report.used_records},
        "records_by_method": dict(report.records_by_method),
        "requests_by_method": dict(report.requests_by_method),
        "edges": {
            "total": report.edges,
            "accepted": report.accepted_edges,
            "rejected_only": report.rejected_only_edges,
            "decided_by_heuristics": report.heuristic_edges,
        },
        "flows": {"total": report.flows, "decided_by_heuristics": report.heuristic_flows},
        "distinct_addresses": report.distinct_addresses,
        "seconds": report.seconds,
    }


def _print_report(report: ConversationReport, out: Path) -> None:
    from zt_flows.cli.console import stderr_console as console

    methods = ", ".join(f"{m.replace('_', ' ')} {n:,}" for m, n in report.requests_by_method)
    console.print(f"[bold]conversations[/bold] -> {out}")
    console.print(
        f"  records   {report.input_records:,} read, {report.used_records:,} used"
        + (
            f" ({report.dropped_records:,} duplicate NAT legs or forwarded without pkt-* fields)"
            if report.dropped_records
            else ""
        )
    )
    console.print(f"  requests  decided by {methods}")
    console.print(
        f"  edges     {report.edges:,}: {report.accepted_edges:,} accepted, "
        f"{report.rejected_only_edges:,} only rejected; {report.heuristic_edges:,} rest on "
        f"port heuristics ({report.heuristic_flows:,} of {report.flows:,} flows)"
    )
