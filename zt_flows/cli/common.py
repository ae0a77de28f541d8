"""Options shared by several commands, and the one place that builds :class:`Settings`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    import duckdb

    from zt_flows.pipeline import Observation
    from zt_flows.progress import Progress

from zt_flows.settings import (
    AwsSettings,
    EngineSettings,
    OnError,
    Settings,
    SourceSettings,
    default_cache_dir,
    parse_window,
)

WINDOW = "Observation window"
AWS = "AWS"
ENGINE = "Engine"

SourceArg = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="Flow logs: s3://bucket/prefix, cwlogs://LOG-GROUP\\[/STREAM-PREFIX], or a local"
        " file or folder (Parquet, gzip or plain text, CloudWatch Logs export files).",
        show_default=False,
    ),
]
FieldsOpt = Annotated[
    str | None,
    typer.Option(
        "--fields",
        help="The fields of text without a header line (CloudWatch Logs, exports), in order:"
        " 'version account-id interface-id ...' or the log format as AWS prints it,"
        " '${version} ${account-id} ...'. Default: the version-2 default format.",
        rich_help_panel="Input",
        show_default=False,
    ),
]
InventoryOpt = Annotated[
    Path | None,
    typer.Option(
        "--inventory",
        help="Inventory snapshot folder (describe-*.json). Without it, collect from AWS first.",
        file_okay=False,
        show_default=False,
    ),
]
SinceOpt = Annotated[
    str | None,
    typer.Option(
        "--since",
        help="Start of the window: a duration before now (7d, 36h) or an ISO time (2026-11-01).",
        rich_help_panel=WINDOW,
        show_default=False,
    ),
]
UntilOpt = Annotated[
    str | None,
    typer.Option(
        "--until",
        help="End of the window (exclusive): a duration before now or an ISO time.",
        rich_help_panel=WINDOW,
        show_default=False,
    ),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", help="AWS profile name.", rich_help_panel=AWS, show_default=False),
]
RegionOpt = Annotated[
    str | None,
    typer.Option("--region", help="AWS region.", rich_help_panel=AWS, show_default=False),
]
EndpointOpt = Annotated[
    str | None,
    typer.Option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL",
        help="Custom AWS endpoint (S3-compatible store, local test server).",
        rich_help_panel=AWS,
        show_default=False,
    ),
]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        envvar="ZTFLOWS_CACHE_DIR",
        help=f"Where downloaded S3 objects are kept (default {default_cache_dir()}).",
        rich_help_panel=ENGINE,
        show_default=False,
    ),
]
OnErrorOpt = Annotated[
    str,
    typer.Option(
        "--on-error",
        help="On a corrupt object or bad record: 'stop' with a message, or 'skip' it and report.",
        rich_help_panel=ENGINE,
    ),
]
MemoryOpt = Annotated[
    str,
    typer.Option(
        "--memory-limit",
        help="DuckDB memory limit; beyond it, work spills to --temp-dir.",
        rich_help_panel=ENGINE,
    ),
]
TempDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--temp-dir",
        help="Spill directory for large aggregations (default: DuckDB's own).",
        rich_help_panel=ENGINE,
        show_default=False,
    ),
]
NETWORKS = "Networks you name"
OnpremOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--onprem-cidr",
        help="An on-premises range reached over VPN or Direct Connect (repeat for several)."
        " Rules from such a range narrow to the range at most, never to the hosts seen.",
        rich_help_panel=NETWORKS,
        show_default=False,
    ),
]
PartnerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--partner-cidr",
        help="A partner's range, public or private (repeat for several). Rules narrow to the"
        " range at most, never to the partner hosts seen in the window.",
        rich_help_panel=NETWORKS,
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="No progress bars."),
]


@contextmanager
def observed(
    source: str, inventory_dir: Path | None, settings: Settings
) -> Iterator[tuple[duckdb.DuckDBPyConnection, Observation, Progress]]:
    """Inventory (loaded, or collected first), an engine, and the observed conversations;
    the connection stays open for the block (outputs may still scan the records)."""
    from zt_flows.cli.console import RichProgress
    from zt_flows.engine import connect_engine
    from zt_flows.pipeline import observe, obtain_inventory
    from zt_flows.sources.cache import check_cache_dir

    check_cache_dir(settings.sources.cache_dir)  # before any work: exit 2 naming it
    progress = RichProgress(enabled=settings.sources.progress)
    inventory = obtain_inventory(inventory_dir, settings, progress=progress)
    con = connect_engine(settings.engine)
    try:
        yield con, observe(source, settings, con, inventory=inventory, progress=progress), progress
    finally:
        con.close()


def build_settings(
    *,
    since: str | None = None,
    until: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    cache_dir: Path | None = None,
    on_error: str = "stop",
    fields: str | None = None,
    memory_limit: str = "4GB",
    temp_dir: Path | None = None,
    quiet: bool = False,
    onprem_cidrs: list[str] | None = None,
    partner_cidrs: list[str] | None = None,
    base: Settings | None = None,
) -> Settings:
    """The frozen settings for one run, from the command line."""
    from zt_flows.errors import UsageError

    if on_error not in ("stop", "skip"):
        raise UsageError(f"--on-error: expected 'stop' or 'skip', found {on_error!r}")
    policy: OnError = "skip" if on_error == "skip" else "stop"
    text_fields: tuple[str, ...] | None = None
    if fields is not None:
        from zt_flows.schema import parse_field_list

        try:
            text_fields = parse_field_list(fields)
        except ValueError as exc:
            raise UsageError(f"--fields: {exc}") from None
    base = base or Settings()
    return replace(
        base,
        window=parse_window(since, until),
        aws=replace(base.aws, profile=profile, region=region, endpoint_url=endpoint_url),
        sources=SourceSettings(
            cache_dir=cache_dir or base.sources.cache_dir,
            download_workers=base.sources.download_workers,
            on_error=policy,
            progress=not quiet,
            list_page_size=base.sources.list_page_size,
            text_fields=text_fields or base.sources.text_fields,
            log_events_page_size=base.sources.log_events_page_size,
        ),
        engine=EngineSettings(
            memory_limit=memory_limit, threads=base.engine.threads, temp_dir=temp_dir
        ),
        conversations=replace(
            base.conversations,
            onprem_cidrs=_cidrs("--onprem-cidr", onprem_cidrs)
            if onprem_cidrs
            else base.conversations.onprem_cidrs,
            partner_cidrs=_cidrs("--partner-cidr", partner_cidrs)
            if partner_cidrs
            else base.conversations.partner_cidrs,
        ),
    )


def _cidrs(option: str, values: list[str]) -> tuple[str, ...]:
    """CIDR blocks from repeated options, in network-address form, sorted and unique."""
    import ipaddress

    from zt_flows.errors import UsageError, excerpt

    out = set()
    for value in values:
        try:
            out.add(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise UsageError(f"{option}: expected a CIDR block, found {excerpt(value)}") from None
    return tuple(str(n) for n in sorted(out, key=lambda n: (n.version, n)))


__all__ = [
    "AwsSettings",
    "CacheDirOpt",
    "EndpointOpt",
    "FieldsOpt",
    "InventoryOpt",
    "MemoryOpt",
    "OnErrorOpt",
    "OnpremOpt",
    "PartnerOpt",
    "ProfileOpt",
    "QuietOpt",
    "RegionOpt",
    "SinceOpt",
    "SourceArg",
    "TempDirOpt",
    "UntilOpt",
    "build_settings",
    "observed",
]
