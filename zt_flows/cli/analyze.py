"""`ztflows analyze`: every stage, from a flow-log bucket to a reviewable change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zt_flows.cli.common import (
    CacheDirOpt,
    EndpointOpt,
    InventoryOpt,
    MemoryOpt,
    OnErrorOpt,
    OnpremOpt,
    PartnerOpt,
    ProfileOpt,
    QuietOpt,
    RegionOpt,
    SinceOpt,
    SourceArg,
    TempDirOpt,
    UntilOpt,
    build_settings,
    observed,
)
from zt_flows.cli.reduce import StateOpt, with_state
from zt_flows.errors import ExitCode, UsageError
from zt_flows.settings import SEVERITIES

if TYPE_CHECKING:
    from zt_flows.analysis import AnalysisOutputs, Recommendation

HELP = "\n\n".join(
    [
        "Run everything: read the flow logs, take the inventory, find the conversations, judge"
        " today's rules, propose least-privilege rules verified by replay, and write the"
        " Terraform and the report.",
        "SOURCE is [bold]s3://bucket/prefix[/bold] or a local folder. Without --inventory the"
        " EC2 inventory is collected first (read-only; see docs/iam-policy.json) and kept in"
        " the cache so the run can be repeated offline.",
        "OUT receives: records.json (which objects were read, where they are cached),"
        " edges.parquet, plan.json, findings.json, graph.graphml, graph.svg, terraform/ (with"
        " a README on rollout), report.md, report.html and summary.json.",
        "Exit codes: 0 done; 1 findings at or above --fail-on; 2 bad input; 3 AWS error;"
        " 4 the plan failed its own replay (nothing is written then).",
        "[bold]Examples[/bold]",
        "  ztflows analyze s3://my-flow-logs/AWSLogs/ --since 14d --region us-east-1 --out out/",
        "  ztflows analyze sample_data/flowlogs --inventory sample_data/inventory --out out/sample",
        "  [dim]# in CI: fail on high or critical findings, the summary as JSON[/dim]\n"
        "  ztflows analyze s3://my-flow-logs/ --since 7d --out out/ --fail-on high --format json",
    ]
)

OutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Folder for every output.", file_okay=False)
]
FormatOpt = Annotated[
    str, typer.Option("--format", help="Summary: 'text' (on stderr) or 'json' (on stdout).")
]
FailOnOpt = Annotated[
    str | None,
    typer.Option(
        "--fail-on",
        help="Exit 1 when a finding is at or above this severity: "
        + ", ".join(reversed(SEVERITIES))
        + ".",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("analyze", help=HELP, no_args_is_help=True)(analyze)


def analyze(
    source: SourceArg,
    out: OutOpt,
    inventory: InventoryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    fail_on: FailOnOpt = None,
    summary_format: FormatOpt = "text",
    on_error: OnErrorOpt = "stop",
    profile: ProfileOpt = None,
    region: RegionOpt = None,
    endpoint_url: EndpointOpt = None,
    cache_dir: CacheDirOpt = None,
    memory_limit: MemoryOpt = "4GB",
    temp_dir: TempDirOpt = None,
    onprem_cidr: OnpremOpt = None,
    partner_cidr: PartnerOpt = None,
    quiet: QuietOpt = False,
    state: StateOpt = "auto",
) -> int:
    from zt_flows.analysis import build_recommendation, write_analysis

    if summary_format not in ("text", "json"):
        raise UsageError(f"--format: expected 'text' or 'json', found {summary_format!r}")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise UsageError(
            f"--fail-on: expected one of {', '.join(reversed(SEVERITIES))}, found {fail_on!r}"
        )
    settings = build_settings(
        since=since,
        until=until,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        cache_dir=cache_dir,
        on_error=on_error,
        memory_limit=memory_limit,
        temp_dir=temp_dir,
        quiet=quiet,
        onprem_cidrs=onprem_cidr,
        partner_cidrs=partner_cidr,
    )
    settings = with_state(settings, state)
    with observed(source, inventory, settings) as (con, observation, progress):
        result = build_recommendation(observation, settings)
        outputs = write_analysis(result, con, out, progress=progress)
    if summary_format == "json":
        typer.echo(json.dumps({"out": str(out), **outputs.summary}, indent=2))
    else:
        _print_summary(result, outputs)
    if fail_on is not None and result.findings_at_or_above(fail_on):
        return int(ExitCode.POLICY)
    return int(ExitCode.OK)


def _print_summary(result: Recommendation, outputs: AnalysisOutputs) -> None:
    from zt_flows.cli.console import stderr_console as console
    from zt_flows.render.reach import weights_text
    from zt_flows.render.text import kept_text, verification_text

    ingest, report, plan = outputs.ingest, result.observation.conversations.report, result.plan
    before, after = plan.exposure.before, plan.exposure.after
    counts = [
        f"{n} {severity}"
        for severity in reversed(SEVERITIES)
        if (n := sum(1 for f in result.findings if f.severity == severity))
    ]
    console.print(f"[bold]ztflows analyze[/bold] -> {outputs.out}")
    console.print(
        f"  records        {ingest.records:,} from {ingest.objects:,} objects "
        f"({ingest.nodata:,} NODATA, {ingest.skipdata:,} SKIPDATA)"
    )
    console.print(
        f"  conversations  {report.edges:,} ({report.accepted_edges:,} accepted, "
        f"{report.rejected_only_edges:,} only rejected; "
        f"{report.heuristic_edges:,} oriented by port heuristics)"
    )
    console.print(f"  findings       {', '.join(counts) or 'none'}")
    console.print(
        f"  exposure       {before.combinations:,} -> {after.combinations:,} allowed "
        f"combinations; internet-reachable ports {before.internet_reachable_count} -> "
        f"{after.internet_reachable_count}"
    )
    if weights := weights_text(before, after):
        console.print(f"  internet       weighted by the public space each admits: {weights}")
    console.print(f"  kept (safety)  {kept_text(plan)}")
    console.print(f"  verification   {verification_text(plan)}")
    console.print(f"  report         {outputs.out / 'report.html'}")
