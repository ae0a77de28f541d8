"""`ztflows terraform`: registered on the application by :func:`register`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from zt_flows.cli.console import stderr_console
from zt_flows.cli.options import AWS_OPTIONS, QUIET_OPTION, InventoryOpt, with_settings
from zt_flows.findings import read_findings
from zt_flows.settings import Settings

TERRAFORM_HELP = (
    "Write a plan as Terraform: least-privilege security-group rules, ready for review.\n\n"
    "One file per security group (sg_<name>.tf) holds the rules the group ends up with: "
    "aws_vpc_security_group_ingress_rule / _egress_rule resources, kept rules adopted with "
    "import blocks (Terraform 1.5+, nothing is recreated), added rules created, each with a "
    "description of the evidence it stands on. The rules to remove are held in "
    "pending_removal.tf and pending_removal_imports.tf.\n\n"
    "Rollout, in two steps (README.md in the --out directory has the details and the exact "
    "plans to expect): phase 1, apply as written: terraform plan shows imports, creates and "
    "metadata updates, no destroy; watch new flow logs with `ztflows check`. Phase 2, delete "
    "the two pending_removal files: terraform plan shows exactly the removals.\n\n"
    "The plan is verified first against the inventory (--inventory, or collected from AWS "
    "with your credentials): a plan.json edited to allow more than a group allows today, "
    "or whose exposure figures do not follow from the inventory, is refused (exit 2) with "
    "the rule named.\n\n"
    "The --out directory is a Terraform root module; files you add there (backend.tf, "
    "providers.tf) are kept when ztflows rewrites it. It must not be a non-empty directory "
    "ztflows did not write, unless --force.\n\n"
    "[bold]Examples[/bold]\n\n"
    "  ztflows terraform out/plan.json --inventory inventory/ --out out/terraform\n\n"
    "  ztflows terraform plan.json --findings findings.json --out infra/security-groups\n"
)


@with_settings(*AWS_OPTIONS, QUIET_OPTION)
def terraform(
    plan_file: Annotated[
        Path,
        typer.Argument(
            metavar="PLAN", help="plan.json written by `ztflows recommend`.", dir_okay=False
        ),
    ],
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory to write the Terraform into.", file_okay=False),
    ],
    inventory: InventoryOpt = None,
    findings: Annotated[
        Path | None,
        typer.Option(
            "--findings",
            help="findings.json: findings about a rule or group become comments beside it.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a non-empty directory ztflows did not write (files of the same"
            " names are replaced, others kept).",
        ),
    ] = False,
    *,
    settings: Settings,
) -> None:
    from zt_flows.cli.common import trusted_plan
    from zt_flows.terraform import render_terraform
    from zt_flows.writable import check_writable_dir

    check_writable_dir(out, option="--out")
    found = read_findings(findings) if findings is not None else ()
    verified, _ = trusted_plan(plan_file, inventory, settings)
    result = render_terraform(verified.plan, out, findings=found, force=force)
    stderr_console.print(
        f"Wrote {len(result.files)} files to {result.directory}: "
        f"{len(result.adopted)} rules kept (imported), {len(result.added)} added, "
        f"{len(result.pending_removal)} pending removal (phase 2). "
        "Next: read README.md there, then terraform plan.",
        markup=False,
        soft_wrap=True,
    )
    typer.echo(str(result.directory))


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("terraform", help=TERRAFORM_HELP, no_args_is_help=True)(terraform)
