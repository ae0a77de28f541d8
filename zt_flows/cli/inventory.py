"""`ztflows inventory collect|show`: registered on the application by :func:`register`."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer

from zt_flows.cli.console import RichProgress
from zt_flows.cli.options import AWS, ENDPOINT_OPTION, QUIET_OPTION, text_format, with_settings
from zt_flows.inventory import snapshot_files
from zt_flows.inventory.model import Inventory
from zt_flows.inventory.organization import DEFAULT_ROLE_NAME
from zt_flows.settings import Settings

# What a snapshot without describe-flow-logs.json means for the analysis.
NO_FLOW_LOGS = "flow-log coverage unknown: groups are judged by which ENIs wrote records"

inventory_app = typer.Typer(
    name="inventory",
    help="Collect and inspect EC2 inventory snapshots (ENIs, security groups, rules).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)

COLLECT_HELP = (
    "Collect an inventory snapshot from EC2 into DIR/<taken-at>/.\n\n"
    "Writes the answers of the EC2 Describe calls as describe-*.json files, exactly as "
    "`aws ec2 describe-... --output json` prints them, plus a manifest.json. One account "
    "and one region: the files sit in the snapshot folder; several: in <account>/<region>/ "
    "sub-folders. Read-only; the IAM actions it needs are in docs/iam-policy.json.\n\n"
    "[bold]Examples[/bold]\n\n"
    "  ztflows inventory collect --region us-east-1 --out inventory/\n\n"
    "  ztflows inventory collect --all-regions --profile prod --profile staging "
    "--out inventory/\n\n"
    "  ztflows inventory collect --region eu-west-1 --region us-east-1 "
    "--assume-role arn:aws:iam::111111111111:role/ztflows-read "
    "--assume-role arn:aws:iam::222222222222:role/ztflows-read --out inventory/\n\n"
    "  [dim]# every account of the organization (run in the management or a delegated"
    " administrator account), every enabled region[/dim]\n"
    "  ztflows inventory collect --organization --role-name ztflows-read --out inventory/\n"
)

SHOW_HELP = (
    "Summarise inventory snapshots: counts per kind, security groups with their members, "
    "the flow logs, and what is missing.\n\n"
    "DIR is a snapshot folder, a folder of snapshot folders, or a folder of hand-made "
    "`aws ec2 describe-... > describe-....json` files.\n\n"
    "[bold]Examples[/bold]\n\n"
    "  ztflows inventory show inventory/2026-11-16T00-00-00Z\n\n"
    "  ztflows inventory show inventory/\n\n"
    "  ztflows inventory show inventory/ --format json | jq '.security_groups[].id'\n"
)


@inventory_app.command("collect", help=COLLECT_HELP, no_args_is_help=True)
@with_settings(ENDPOINT_OPTION, QUIET_OPTION)
def collect(
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Folder to write the snapshot folder into."),
    ],
    region: Annotated[
        list[str] | None,
        typer.Option(
            "--region",
            metavar="REGION",
            help="Region to collect (repeat for several).",
            rich_help_panel=AWS,
        ),
    ] = None,
    all_regions: Annotated[
        bool,
        typer.Option(
            "--all-regions",
            help="Collect every region enabled in each account (ec2:DescribeRegions).",
            rich_help_panel=AWS,
        ),
    ] = False,
    profile: Annotated[
        list[str] | None,
        typer.Option(
            "--profile",
            metavar="PROFILE",
            help="AWS profile; repeat to collect several accounts, one profile each.",
            rich_help_panel=AWS,
        ),
    ] = None,
    assume_role: Annotated[
        list[str] | None,
        typer.Option(
            "--assume-role",
            metavar="ARN",
            help="Role to assume (sts:AssumeRole) in each account to collect; one per account.",
            rich_help_panel=AWS,
        ),
    ] = None,
    organization: Annotated[
        bool,
        typer.Option(
            "--organization",
            help="Collect every active account of the AWS Organization"
            " (organizations:ListAccounts, from the management or a delegated administrator"
            " account), through --role-name in each, in every enabled region unless --region"
            " names some. An account or region that fails is reported and left out.",
            rich_help_panel=AWS,
        ),
    ] = False,
    role_name: Annotated[
        str,
        typer.Option(
            "--role-name",
            metavar="NAME",
            help="With --organization: the role to assume in each member account.",
            rich_help_panel=AWS,
        ),
    ] = DEFAULT_ROLE_NAME,
    *,
    settings: Settings,
) -> None:
    from zt_flows.aws import make_session
    from zt_flows.errors import UsageError
    from zt_flows.inventory.collect import ALL_REGIONS, collect_snapshot
    from zt_flows.writable import check_writable_dir

    regions = list(region or [])
    profiles = list(profile or [])
    if all_regions and regions:
        raise UsageError("pass either --all-regions or --region, not both")
    check_writable_dir(out, option="--out")
    # One profile (or region) is the session's own; several are collected one by one.
    aws = replace(
        settings.aws,
        profile=profiles[0] if len(profiles) == 1 else None,
        region=regions[0] if regions else None,
        regions=(ALL_REGIONS,) if all_regions else tuple(regions),
        profiles=tuple(profiles) if len(profiles) > 1 else (),
        assume_roles=tuple(assume_role or []),
        organization=organization,
        role_name=_role_name(role_name),
    )
    collected = collect_snapshot(
        make_session(aws), aws, out, progress=RichProgress(enabled=settings.sources.progress)
    )
    folder = collected.folder
    for failure in collected.failures:
        where = f"account {failure.account_id}" + (
            f" in {failure.region}" if failure.region else ""
        )
        typer.echo(f"skipped {where}: {failure.message}", err=True)
    from zt_flows.inventory.load import load_inventory

    inventory = load_inventory(folder)
    typer.echo(
        f"collected {len(inventory.interfaces)} network interfaces, "
        f"{len(inventory.security_groups)} security groups, {len(inventory.rules)} rules, "
        f"{len(inventory.flow_logs)} flow logs",
        err=True,
    )
    typer.echo(str(folder))


def _role_name(name: str) -> str:
    """An IAM role name (path-less): 1-64 of letters, digits and +=,.@_- ."""
    import re

    from zt_flows.errors import UsageError, excerpt

    # https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html (RoleName)
    if not re.fullmatch(r"[\w+=,.@-]{1,64}", name, flags=re.ASCII):
        raise UsageError(
            f"--role-name: expected an IAM role name such as ztflows-read, found {excerpt(name)}"
        )
    return name


@inventory_app.command("show", help=SHOW_HELP, no_args_is_help=True)
def show(
    directory: Annotated[
        list[Path],
        typer.Argument(metavar="DIR...", help="Snapshot folder(s).", show_default=False),
    ],
    output_format: Annotated[
        str, text_format("json", help="'text' (human) or 'json', on stdout.")
    ] = "text",
) -> None:
    from zt_flows.inventory.load import load_inventory

    inventory = load_inventory(directory)
    if output_format == "json":
        typer.echo(json.dumps(describe(inventory), indent=2, sort_keys=True))
    else:
        typer.echo("\n".join(summarize(inventory)))


def describe(inventory: Inventory) -> dict[str, Any]:
    """What :func:`summarize` prints, as plain data for scripts (``--format json``)."""
    from zt_flows.inventory.consistency import check_inventory

    roles = Counter(eni.role.value for eni in inventory.interfaces.values())
    return {
        "snapshots": [
            {
                "taken_at": f"{snap.taken_at:%Y-%m-%dT%H:%M:%SZ}",
                "source": snap.source,
                "accounts": list(snap.account_ids),
                "regions": list(snap.regions),
            }
            for snap in inventory.snapshots
        ],
        "counts": {
            "network_interfaces": len(inventory.interfaces),
            "network_interfaces_by_role": dict(sorted(roles.items())),
            "security_groups": len(inventory.security_groups),
            "rules": len(inventory.rules),
            "rules_without_ids": sum(rule.id is None for rule in inventory.rules),
            "prefix_lists": len(inventory.prefix_lists),
            "vpcs": len(inventory.vpcs),
            "subnets": len(inventory.subnets),
            "peerings": len(inventory.peerings),
            "flow_logs": len(inventory.flow_logs),
        },
        "flow_logs": [
            {
                "id": log.id,
                "resource_id": log.resource_id,
                "resource_type": log.resource_type,
                "traffic_type": log.traffic_type,
                "created_at": f"{log.created_at:%Y-%m-%dT%H:%M:%SZ}",
                "status": log.status,
                "deliver_status": log.deliver_status,
                "destination_type": log.destination_type,
                "destination": log.destination,
            }
            for log in inventory.flow_logs
        ],
        "security_groups": [
            {
                "id": group.id,
                "name": group.name,
                "vpc_id": group.vpc_id,
                "ingress_rules": len(inventory.rules_of(group.id, "ingress")),
                "egress_rules": len(inventory.rules_of(group.id, "egress")),
                "members": [
                    {
                        "id": eni.id,
                        "name": eni.name,
                        "primary_ipv4": eni.primary_ipv4,
                        "role": eni.role.value,
                    }
                    for eni in inventory.members_of(group.id)
                ],
            }
            for group in inventory.security_groups.values()
        ],
        "missing": list(inventory.missing),
        "warnings": [str(w) for w in check_inventory(inventory)],
        "notes": [NO_FLOW_LOGS] if _lacks_flow_logs(inventory) else [],
    }


def summarize(inventory: Inventory) -> list[str]:
    """A readable summary of an inventory, one line per list entry (plain text)."""
    lines = [f"{len(inventory.snapshots)} snapshot(s):"]
    for snap in inventory.snapshots:
        lines.append(
            f"  {snap.taken_at:%Y-%m-%dT%H:%M:%SZ}  {snap.source}  "
            f"accounts {', '.join(snap.account_ids) or '?'}  "
            f"regions {', '.join(snap.regions) or '?'}"
        )
    roles = Counter(eni.role.value for eni in inventory.interfaces.values())
    aws_lists = sum(pl.aws_managed for pl in inventory.prefix_lists.values())
    active = sum(p.active for p in inventory.peerings)
    derived = sum(rule.id is None for rule in inventory.rules)
    logs = inventory.flow_logs
    all_traffic = sum(log.traffic_type == "ALL" for log in logs)
    lines += [
        "",
        "Latest view:",
        f"  network interfaces {len(inventory.interfaces):>5}  "
        + ", ".join(f"{role} {n}" for role, n in sorted(roles.items())),
        f"  security groups    {len(inventory.security_groups):>5}",
        f"  rules              {len(inventory.rules):>5}"
        + (f"  ({derived} derived from IpPermissions, without ids)" if derived else ""),
        f"  prefix lists       {len(inventory.prefix_lists):>5}  ({aws_lists} AWS-managed)",
        f"  VPCs               {len(inventory.vpcs):>5}",
        f"  subnets            {len(inventory.subnets):>5}",
        f"  peerings           {len(inventory.peerings):>5}  ({active} active)",
        f"  flow logs          {len(logs):>5}  ({all_traffic} ALL traffic, "
        f"{sum(log.active for log in logs)} ACTIVE)",
        "",
        "Security groups:",
    ]
    for group in inventory.security_groups.values():
        ingress = len(inventory.rules_of(group.id, "ingress"))
        egress = len(inventory.rules_of(group.id, "egress"))
        members = inventory.members_of(group.id)
        lines.append(
            f"  {group.id}  {_clean(group.name)}  {group.vpc_id or '-'}  "
            f"{ingress} in / {egress} out  {len(members)} member(s)"
        )
        for eni in members:
            lines.append(
                f"      {eni.id}  {_clean(eni.name or '-')}  "
                f"{eni.primary_ipv4 or (eni.ipv6s[:1] or ('-',))[0]}  {eni.role.value}"
            )
    if logs:
        lines += ["", "Flow logs:"]
        for log in logs:
            lines.append(
                f"  {log.id}  {log.traffic_type or '-'} on {log.resource_id}  "
                f"since {log.created_at:%Y-%m-%dT%H:%M:%SZ}  {log.status or '-'}  "
                f"{log.destination_type or '-'} {_clean(log.destination or '-')}"
            )
    lines += ["", "Missing:" if inventory.missing else "Missing: nothing"]
    lines += [
        f"  {name}  ({NO_FLOW_LOGS})" if _is_flow_logs(name) else f"  {name}"
        for name in inventory.missing
    ]
    from zt_flows.inventory.consistency import check_inventory

    if warnings := check_inventory(inventory):
        lines += ["", "Warnings:", *[f"  {warning}" for warning in warnings]]
    return lines


def _is_flow_logs(missing: str) -> bool:
    return missing.rpartition("/")[2] == snapshot_files.FLOW_LOGS.file


def _lacks_flow_logs(inventory: Inventory) -> bool:
    return any(_is_flow_logs(name) for name in inventory.missing)


def _clean(text: str) -> str:
    """Names and descriptions come from AWS users: keep them on one printable line."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.add_typer(inventory_app, name="inventory")
