"""`ztflows check`: shadow mode. Replay newer flow logs against a plan before applying it."""

from __future__ import annotations

import json
from dataclasses import replace
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
from zt_flows.errors import ExitCode
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from zt_flows.inventory.model import Inventory
    from zt_flows.recommend.check import CheckResult
    from zt_flows.recommend.plan import BlockedConversation

CHECK_HELP = """\
Replay flow logs against a plan: would applying it block anything that works today?

Builds the conversations in SOURCE (typically newer logs than the plan was made from) and
evaluates every accepted one under the plan's final rules, with the semantics the plan was
verified with. Lists every conversation the plan would block, grouped by security group
and port. Probes of the kind the plan blocks on purpose are listed apart and do not fail
the check; neither do conversations today's rules do not allow either.

Exit code 0 when nothing would be blocked, 1 when something would (for CI jobs).

[bold]Examples[/bold]

  ztflows check plan.json s3://my-flow-logs/AWSLogs/ --since 2d --inventory inv/

  ztflows check plan.json sample_data/flowlogs --inventory sample_data/inventory --format json
"""

PlanArg = Annotated[
    Path,
    typer.Argument(metavar="PLAN", help="A plan.json written by `ztflows recommend`."),
]
# `table` was this command's word for `text` before every command said `text`.
FormatOpt = Annotated[
    str,
    text_format("json", help="'text' (human) or 'json', on stdout.", aliases={"table": "text"}),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("check", help=CHECK_HELP, no_args_is_help=True)(check)


@with_settings(*OBSERVE_OPTIONS)
def check(
    plan: PlanArg,
    source: SourceArg,
    inventory: InventoryOpt = None,
    output_format: FormatOpt = "text",
    *,
    settings: Settings,
) -> None:
    from zt_flows.recommend import check_plan, read_plan, settings_from_record, verify_plan

    the_plan = read_plan(plan)
    # Internet peers fold into classes the plan's own ranges cannot split (zt_flows/
    # conversations/classes.py): its CIDRs are boundaries too.
    cidrs = sorted(
        {r.peer.value for g in the_plan.security_groups for r in g.rules if r.peer.kind == "cidr"}
    )
    settings = replace(
        settings,
        conversations=replace(settings.conversations, fold_boundaries=tuple(cidrs)),
    )
    with observed(source, inventory, settings) as (_, observation, _progress):
        found_inventory = observation.inventory
    # Refuse an edited plan before replaying against it: a plan that widens would pass a
    # replay (it blocks nothing), so the replay alone proves nothing about it.
    the_plan = verify_plan(the_plan, found_inventory).plan
    result = check_plan(
        the_plan,
        observation.conversations.edges,
        found_inventory,
        settings_from_record(the_plan.settings, settings.recommend),
        evidence=observation.conversations.evidence,
        scanner_cidrs=settings.conversations.scanner_cidrs,
    )
    if output_format == "json":
        typer.echo(result_json(result, plan))
    else:
        print_result(result, plan, found_inventory)
    if not result.ok:
        raise typer.Exit(code=int(ExitCode.POLICY))


def _blocked_json(b: BlockedConversation) -> dict[str, object]:
    return {
        "client": b.client,
        "server": b.server,
        "protocol": b.protocol,
        "server_port": b.server_port,
        "flows": b.flows,
        "reason": b.reason,
    }


def result_json(result: CheckResult, plan: Path) -> str:
    """The check as JSON: blocked conversations grouped by security group and port."""
    doc = {
        "schema_version": 1,
        "plan": str(plan),
        "ok": result.ok,
        "replayed": result.replayed,
        "basis": result.basis,
        "records": result.records,
        "blocked_count": len(result.blocked),
        "blocked": [
            {
                "group_id": group_id or None,
                "protocol": protocol,
                "server_port": port,
                "conversations": [_blocked_json(b) for b in items],
            }
            for (group_id, protocol, port), items in result.by_group_and_port()
        ],
        "expected": [_blocked_json(b) | {"group_id": b.group_id} for b in result.expected],
        "unexplained": [_blocked_json(b) | {"group_id": b.group_id} for b in result.unexplained],
        "not_evaluable": result.not_evaluable,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def print_result(result: CheckResult, plan: Path, inventory: Inventory) -> None:
    """Blocked conversations per security group and port on stdout; the verdict on stderr."""
    from zt_flows.cli.console import stderr_console, stdout_console
    from zt_flows.rules import endpoint_label, group_label
    from zt_flows.vocabulary import conversation_label

    def say(line: str, style: str | None = None) -> None:
        stdout_console.print(line, style=style, markup=False, highlight=False, soft_wrap=True)

    for (group_id, protocol, port), items in result.by_group_and_port():
        where = group_label(inventory, group_id) if group_id else "(no group)"
        flows = sum(b.flows for b in items)
        say(
            f"{where} {conversation_label(protocol, port)}: {len(items)} conversation(s), "
            f"{flows:,} flows would be blocked",
            "bold",
        )
        for b in items:
            client = endpoint_label(inventory, b.client)
            server = endpoint_label(inventory, b.server)
            say(f"    {client} -> {server}  {b.flows:,} flows  ({b.reason})")
    verdict = (
        f"{len(result.blocked)} conversation(s) would be blocked"
        if result.blocked
        else "nothing observed would be blocked"
    )
    notes = [f"{result.replayed:,} accepted conversations"]
    if result.basis == "records":
        notes.append(f"{result.records:,} accepted records replayed")
    if result.expected:
        notes.append(f"{len(result.expected)} blocked on purpose (probes)")
    if result.unexplained:
        notes.append(f"{len(result.unexplained)} not allowed by today's rules either")
    if result.not_evaluable:
        notes.append(f"{result.not_evaluable} not evaluable")
    style = "bold red" if result.blocked else "bold green"
    stderr_console.print(f"{plan}: {verdict}", style=style, markup=False, soft_wrap=True)
    stderr_console.print("  " + "; ".join(notes), markup=False, highlight=False, soft_wrap=True)
