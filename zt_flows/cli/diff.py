"""`ztflows diff OLD_OUT NEW_OUT`: what changed between two runs of `analyze`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, cast

import typer

from zt_flows.cli.options import fail_on, text_format, with_settings
from zt_flows.errors import ExitCode
from zt_flows.settings import Settings, Severity

HELP = "\n\n".join(
    [
        "What changed between two runs of `ztflows analyze`: conversations that appeared or"
        " vanished, rules added or removed outside ztflows, findings new and resolved, and"
        " exposure then and now.",
        "OLD_OUT and NEW_OUT are --out folders of `analyze`. Rules are compared between the"
        " inventory snapshots the runs used (recorded in their summary.json); a change the"
        " earlier run's plan proposed counts as made through ztflows. A finding is the same"
        " finding in both runs when its code, subject and group are (docs/findings.md).",
        "Exit codes: 0 done; 1 a new finding at or above --fail-on; 2 bad input.",
        "[bold]Examples[/bold]",
        "  ztflows diff out/2026-11-16 out/2026-11-23",
        "  [dim]# in a weekly CI job: fail only on what is new[/dim]\n"
        "  ztflows diff out/last-week out/this-week --fail-on high --format json",
    ]
)

OldArg = Annotated[
    Path,
    typer.Argument(metavar="OLD_OUT", help="The earlier run's --out folder.", show_default=False),
]
NewArg = Annotated[
    Path,
    typer.Argument(metavar="NEW_OUT", help="The later run's --out folder.", show_default=False),
]
FailOnNewOpt = Annotated[
    str | None, fail_on("Exit 1 when a new finding is at or above this severity.")
]
InventoryOverride = Annotated[
    Path | None,
    typer.Option(
        help="Inventory snapshot folder to use instead of the one the run recorded.",
        file_okay=False,
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("diff", help=HELP, no_args_is_help=True)(diff)


@with_settings()
def diff(
    old: OldArg,
    new: NewArg,
    output_format: Annotated[
        str, text_format("json", "markdown", help="'text', 'json' or 'markdown', on stdout.")
    ] = "text",
    fail_on: FailOnNewOpt = None,
    old_inventory: InventoryOverride = None,
    new_inventory: InventoryOverride = None,
    *,
    settings: Settings,
) -> int:
    from zt_flows.diff import diff_runs, diff_section, diff_text, read_run
    from zt_flows.inventory.load import load_inventory

    result = diff_runs(
        read_run(old),
        read_run(new),
        old_inventory=load_inventory(old_inventory) if old_inventory else None,
        new_inventory=load_inventory(new_inventory) if new_inventory else None,
        expected=settings.expected_peers,
        suppressions=settings.suppressions,
    )
    if output_format == "json":
        typer.echo(json.dumps(result.to_json(), indent=2))
    elif output_format == "markdown":
        typer.echo(diff_section(result).markdown)
    else:
        typer.echo(diff_text(result), nl=False)
    if fail_on is not None and result.new_at_or_above(cast(Severity, fail_on)):
        return int(ExitCode.POLICY)
    return int(ExitCode.OK)
