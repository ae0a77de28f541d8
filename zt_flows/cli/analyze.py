"""`ztflows analyze`: every stage, from a flow-log bucket to a reviewable change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zt_flows.cli.common import observed
from zt_flows.cli.options import (
    OBSERVE_OPTIONS,
    PLAN_OPTIONS,
    InventoryOpt,
    SourceArg,
    fail_on,
    text_format,
    with_settings,
)
from zt_flows.cli.reduce import StateOpt, with_state
from zt_flows.errors import ExitCode
from zt_flows.settings import SEVERITIES, Settings

if TYPE_CHECKING:
    from zt_flows.pipeline import AnalysisOutputs, Recommendation

HELP = "\n\n".join(
    [
        "Run everything: read the flow logs, take the inventory, find the conversations, judge"
        " today's rules, propose least-privilege rules verified by replay, and write the"
        " Terraform and the report.",
        "SOURCE is [bold]s3://bucket/prefix[/bold] or a local folder. Without --inventory the"
        " EC2 inventory is collected first (read-only; see docs/iam-policy.json) and kept in"
        " the cache so the run can be repeated offline.",
        "OUT receives: records.json (which objects were read, where they are cached),"
        " edges.parquet, plan.json, findings.json, findings.sarif (SARIF 2.1.0, for GitHub"
        " code scanning), findings.asff.json (for AWS Security Hub), graph.graphml, graph.svg,"
        " terraform/ (with a README on rollout), report.md, report.html and summary.json.",
        "With --baseline OLD_OUT (an earlier run's folder) it also writes diff.json (what"
        " changed since: see `ztflows diff`), adds that section to the report, and --fail-on"
        " counts only the findings that are new since the baseline.",
        "Exit codes: 0 done; 1 findings at or above --fail-on; 2 bad input; 3 AWS error;"
        " 4 the plan failed its own replay (nothing is written then).",
        "[bold]Examples[/bold]",
        "  ztflows analyze s3://my-flow-logs/AWSLogs/ --since 14d --region us-east-1 --out out/",
        "  ztflows analyze sample_data/flowlogs --inventory sample_data/inventory --out out/sample",
        "  [dim]# in CI: fail on high or critical findings, the summary as JSON[/dim]\n"
        "  ztflows analyze s3://my-flow-logs/ --since 7d --out out/ --fail-on high --format json",
        "  [dim]# weekly: fail only on high or critical findings new since last week[/dim]\n"
        "  ztflows analyze s3://my-flow-logs/ --since 7d --out out/this-week"
        " --baseline out/last-week --fail-on high",
    ]
)

OutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Folder for every output.", file_okay=False)
]
FormatOpt = Annotated[
    str,
    text_format(
        "json",
        "sarif",
        help="On stdout: 'text' (the summary, on stderr), 'json' (the summary) or 'sarif'"
        " (the findings as SARIF 2.1.0, as in findings.sarif).",
    ),
]
FailOnOpt = Annotated[str | None, fail_on("Exit 1 when a finding is at or above this severity.")]


BaselineOpt = Annotated[
    Path | None,
    typer.Option(
        "--baseline",
        metavar="OLD_OUT",
        help="An earlier run's --out folder: write diff.json (what changed since), add the"
        " section to the report, and make --fail-on count new findings only.",
        file_okay=False,
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("analyze", help=HELP, no_args_is_help=True)(analyze)


@with_settings(*OBSERVE_OPTIONS, *PLAN_OPTIONS)
def analyze(
    source: SourceArg,
    out: OutOpt,
    inventory: InventoryOpt = None,
    fail_on: FailOnOpt = None,
    baseline: BaselineOpt = None,
    summary_format: FormatOpt = "text",
    state: StateOpt = "auto",
    *,
    settings: Settings,
) -> int:
    from zt_flows.pipeline import build_recommendation, check_analysis_out, write_analysis

    # Before the analysis: an --out that cannot take the outputs fails in a second, not
    # after the run; so does a wrong baseline.
    check_analysis_out(out)
    from zt_flows.diff import read_run

    earlier = read_run(baseline) if baseline is not None else None
    settings = with_state(settings, state)
    with observed(source, inventory, settings) as (con, observation, progress):
        result = build_recommendation(observation, settings)
        outputs = write_analysis(
            result,
            con,
            out,
            baseline=earlier,
            expected=settings.expected_peers,
            suppressions=settings.suppressions,
            progress=progress,
        )
    changes = outputs.changes
    if summary_format == "json":
        typer.echo(json.dumps({"out": str(out), **outputs.summary}, indent=2))
    elif summary_format == "sarif":
        typer.echo((out / "findings.sarif").read_text(encoding="utf-8"), nl=False)
    else:
        _print_summary(result, outputs)
        if changes is not None:
            from zt_flows.cli.console import stderr_console

            stderr_console.print(
                f"  since baseline {len(changes.new_findings)} new, "
                f"{len(changes.resolved_findings)} resolved findings; "
                f"{len(changes.appeared)} conversations appeared, {len(changes.vanished)} "
                f"vanished; see {out / 'diff.json'}",
                markup=False,
                highlight=False,
            )
    if fail_on is not None:
        counted = changes.new_findings if changes is not None else result.findings
        if any(SEVERITIES.index(f.severity) >= SEVERITIES.index(fail_on) for f in counted):
            return int(ExitCode.POLICY)
    return int(ExitCode.OK)


def _print_summary(result: Recommendation, outputs: AnalysisOutputs) -> None:
    from zt_flows.cli.console import print_warnings
    from zt_flows.cli.console import stderr_console as console
    from zt_flows.report.reach import weights_text
    from zt_flows.text import kept_text, verification_text

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
    if ingest.skipped:
        console.print(
            f"  skipped        {ingest.skipped_objects:,} objects, {ingest.skipped_lines:,} lines,"
            f" {ingest.skipped_records:,} records (--on-error skip): the evidence is incomplete,"
            " see records.json",
            style="yellow",
            markup=False,
            highlight=False,
        )
    if ingest.transit_gateway:
        console.print(
            f"  transit gw     {ingest.transit_gateway_records:,} Transit Gateway records not read",
            style="yellow",
            markup=False,
            highlight=False,
        )
    print_warnings(result.observation.warnings)
    console.print(
        f"  conversations  {report.edges:,} ({report.accepted_edges:,} accepted, "
        f"{report.rejected_only_edges:,} only rejected; "
        f"{report.heuristic_edges:,} oriented by port heuristics)"
    )
    suppressed = (
        f"; {len(result.suppressed)} suppressed by the configuration" if result.suppressed else ""
    )
    console.print(f"  findings       {', '.join(counts) or 'none'}{suppressed}")
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
