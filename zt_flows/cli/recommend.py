"""`ztflows recommend`: flow logs and an inventory in, a verified plan.json out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zt_flows.cli.common import observed
from zt_flows.cli.options import (
    OBSERVE_OPTIONS,
    PLAN_OPTIONS,
    InventoryOpt,
    SourceArg,
    with_settings,
)
from zt_flows.errors import OutputError
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from zt_flows.findings import Finding
    from zt_flows.recommend.plan import Plan
    from zt_flows.rules import RuleAnalysis

RECOMMEND_HELP = """\
Propose least-privilege security-group rules from observed traffic, verified by replay.

Reads the flow logs in SOURCE, builds the conversations, decides each one against today's
rules, and proposes for every security group the smallest rule set that still allows
everything observed: in-VPC peers as security-group references, public access only where
internet-facing load balancers serve, other ranges narrowed to the observed addresses, AWS
services through their prefix lists. A proposal is never wider than today's rule it comes
from. Groups whose members were not all logged, and groups attached to nothing, keep
their rules. Every observed accepted conversation is then replayed against the proposal;
if one would be blocked (other than internet probes on admin ports, blocked on purpose),
no plan is written and the exit code is 4.

Writes the plan (--out) and findings.json beside it (or --findings).

[bold]Examples[/bold]

  ztflows recommend sample_data/flowlogs --inventory sample_data/inventory --out plan.json

  ztflows recommend s3://my-flow-logs/AWSLogs/ --since 30d --inventory inv/ \\
      --min-days 3 --out out/plan.json
"""

OutOpt = Annotated[
    Path,
    typer.Option("--out", "-o", help="Where to write plan.json.", dir_okay=False),
]
FindingsOpt = Annotated[
    Path | None,
    typer.Option(
        "--findings",
        help="Where to write findings.json (default: beside --out).",
        dir_okay=False,
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("recommend", help=RECOMMEND_HELP, no_args_is_help=True)(recommend)


@with_settings(*OBSERVE_OPTIONS, *PLAN_OPTIONS)
def recommend(
    source: SourceArg,
    out: OutOpt,
    inventory: InventoryOpt = None,
    findings: FindingsOpt = None,
    *,
    settings: Settings,
) -> None:
    from zt_flows.atomic import write_text
    from zt_flows.cli.console import print_warnings
    from zt_flows.findings import findings_to_json
    from zt_flows.pipeline import build_recommendation
    from zt_flows.recommend import write_plan
    from zt_flows.writable import check_writable_file

    check_writable_file(out, option="--out")
    check_writable_file(findings or out.with_name("findings.json"), option="--findings")
    with observed(source, inventory, settings) as (_, observation, _progress):
        result = build_recommendation(observation, settings)
    plan, all_findings = result.plan, result.findings
    findings_path = findings or out.with_name("findings.json")
    try:
        write_plan(plan, out)
        write_text(findings_path, findings_to_json(all_findings, suppressed=result.suppressed))
    except OSError as exc:
        raise OutputError(
            f"cannot write {exc.filename or out}: {exc.strerror or exc}",
            hint="check the path, its permissions and the free space",
        ) from None
    print_plan_summary(plan, all_findings, out, findings_path, suppressed=len(result.suppressed))
    print_warnings(observation.warnings)
    if result.analysis.unexplained or result.analysis.not_evaluable or result.analysis.notes:
        print_undecided(result.analysis)


def print_undecided(analysis: RuleAnalysis) -> None:
    """Accepted edges the model could not account for: worth a look, never guessed."""
    from zt_flows.cli.console import stderr_console

    lines = []
    if analysis.unexplained:
        lines.append(
            f"  note       {len(analysis.unexplained)} accepted edge(s) today's rules do not "
            "allow (a response seen as a request, or rules changed since the inventory)"
        )
    if analysis.not_evaluable:
        reasons = sorted(
            {r for v in analysis.not_evaluable for r in (v.ingress.reason, v.egress.reason) if r}
        )
        lines.append(
            f"  note       {len(analysis.not_evaluable)} accepted edge(s) not evaluable: "
            + "; ".join(reasons[:3])
            + (f" and {len(reasons) - 3} more" if len(reasons) > 3 else "")
        )
    lines.extend(f"  note       {n}" for n in analysis.notes)
    for line in lines:
        stderr_console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)


def print_plan_summary(
    plan: Plan,
    findings: tuple[Finding, ...],
    out: Path,
    findings_path: Path,
    *,
    suppressed: int = 0,
) -> None:
    """What changed, exposure, verification and findings, on stderr."""
    from zt_flows.cli.console import stderr_console
    from zt_flows.report.reach import weights_text
    from zt_flows.settings import SEVERITIES
    from zt_flows.text import kept_text, skipped_text, verification_text

    actions = {"keep": 0, "add": 0, "remove": 0}
    changed = 0
    for group in plan.security_groups:
        for rule in group.rules:
            actions[rule.action] += 1
        changed += any(r.action != "keep" for r in group.rules)
    before, after = plan.exposure.before, plan.exposure.after
    weights = weights_text(before, after)
    counts = [
        f"{sum(1 for f in findings if f.severity == s)} {s}"
        for s in reversed(SEVERITIES)
        if any(f.severity == s for f in findings)
    ]
    lines = [
        f"  groups     {len(plan.security_groups)}, {changed} with changes",
        f"  rules      {actions['keep']} kept, {actions['add']} added, {actions['remove']} removed",
        f"  exposure   {before.combinations:,} -> {after.combinations:,} combinations; "
        f"internet-reachable ports {before.internet_reachable_count} -> "
        f"{after.internet_reachable_count}",
        *([f"  internet   weighted by the public space each admits: {weights}"] if weights else []),
        f"  kept       for safety: {kept_text(plan)}",
        f"  verified   {verification_text(plan)}",
        *([f"  evidence   incomplete: {skipped}"] if (skipped := skipped_text(plan)) else []),
        f"  findings   {len(findings)}"
        + (f" ({', '.join(counts)})" if counts else "")
        + (f"; {suppressed} suppressed by the configuration" if suppressed else ""),
    ]
    stderr_console.print(f"{out} (findings: {findings_path})", style="bold", markup=False)
    for line in lines:
        stderr_console.print(line, markup=False, highlight=False, soft_wrap=True)
