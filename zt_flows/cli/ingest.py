"""`ztflows ingest`: registered on the application by :func:`register`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from zt_flows.cli.options import READ_OPTIONS, SourceArg, text_format, with_settings
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from zt_flows.sources import IngestSummary

INGEST_HELP = """\
Read flow logs and write them as one canonical Parquet file, with a summary.

SOURCE is one of:

  [bold]s3://bucket/prefix[/bold]  flow logs AWS delivered to S3. Both key layouts are recognised,
    AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/\\[{HH}/] and the Hive-compatible
    AWSLogs/aws-account-id=/aws-service=/aws-region=/year=/month=/day=/\\[hour=], and objects
    outside --since/--until are pruned by their keys before anything is downloaded.
  [bold]cwlogs://LOG-GROUP\\[/STREAM-PREFIX][/bold]  a CloudWatch Logs log group, read through the
    API (one log stream per interface; --since/--until bound the events fetched). A group
    name with slashes is written as it is: cwlogs:///aws/vpc/flow-logs/eni-0a1b.
  [bold]a local file or folder[/bold]  the same objects on disk (a folder laid out like the bucket,
    or any folder), and CloudWatch Logs export files (<task>/<stream>/000000.gz).

Parquet and text (gzip or plain) can be mixed, every field of versions 2 to 11 in any
custom order; a header field ztflows does not know is carried and reported. Text without a
header line (CloudWatch Logs) is read with --fields, by default the version-2 default
format. Transit Gateway flow logs are recognised, counted and not read as VPC flows.

The output holds every record in the window in the canonical schema (AWS's Parquet column
names and types), NODATA and SKIPDATA records included, and is itself a valid SOURCE. S3
objects are cached (--cache-dir) by bucket, key and ETag: a second run downloads nothing.

Bad values (a port above 65535, an address that is none, start after end, a flow without
addresses) stop the run with the object, line or row and column named; --on-error skip
leaves them out and counts them instead. A run that skipped everything exits 2.

[bold]Examples[/bold]

  [dim]# the last week of a bucket, with a summary[/dim]
  ztflows ingest s3://my-flow-logs/AWSLogs/ --since 7d --out records.parquet

  [dim]# one day, with another profile and region[/dim]
  ztflows ingest s3://central-logs/AWSLogs/ --since 2026-11-16 --until 2026-11-17 \\
      --profile audit --region eu-west-1 --out day.parquet

  [dim]# a local copy of a bucket; skip corrupt objects and bad lines, and report them[/dim]
  ztflows ingest ./flowlogs --on-error skip --out records.parquet

  [dim]# only the summary, as JSON[/dim]
  ztflows ingest sample_data/flowlogs --format json

  [dim]# a CloudWatch Logs group of a custom format, one day[/dim]
  ztflows ingest cwlogs:///vpc/flow-logs --since 2026-11-16 --until 2026-11-17 \\
      --fields '${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ...'
"""

FormatOpt = Annotated[
    str, text_format("json", help="Summary format: 'text' (on stderr) or 'json' (on stdout).")
]
OutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Write the canonical records here (Parquet). Without it, only the summary.",
        dir_okay=False,
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("ingest", help=INGEST_HELP, no_args_is_help=True)(ingest)


@with_settings(*READ_OPTIONS)
def ingest(
    source: SourceArg,
    out: OutOpt = None,
    summary_format: FormatOpt = "text",
    *,
    settings: Settings,
) -> None:
    # Imports here keep `ztflows --help` fast.
    from zt_flows.cli.console import RichProgress
    from zt_flows.engine import connect_engine
    from zt_flows.sources import read_flow_logs, write_records
    from zt_flows.writable import check_writable_file

    if out is not None:
        check_writable_file(out, option="--out")
    con = connect_engine(settings.engine)
    try:
        progress = RichProgress(enabled=settings.sources.progress)
        flows = read_flow_logs(source, settings, con, progress=progress)
        if out is not None:
            summary = write_records(flows, con, out, progress=progress)
        else:
            summary = flows.summarize(con)
    finally:
        con.close()
    if summary_format == "json":
        typer.echo(summary.to_json())
    else:
        print_summary(summary)


def print_summary(summary: IngestSummary) -> None:
    """The human summary, on stderr (stdout stays free for --format json)."""
    from zt_flows.cli.console import stderr_console

    s = summary
    head = s.source + (f" -> {s.output}" if s.output else "")
    lines = []
    if s.window_since or s.window_until:
        lines.append(f"  window     {_time(s.window_since)} .. {_time(s.window_until)}")
    formats = f"{s.parquet_objects} Parquet, {s.text_objects} text"
    lines.append(
        f"  objects    {s.objects:,} read ({formats}) of {s.listed:,} listed;"
        f" {s.pruned:,} outside the window"
    )
    fetched = (
        f"; {s.downloaded:,} objects downloaded ({_size(s.downloaded_bytes)}),"
        f" {s.cached:,} from the cache"
    )
    lines.append(f"  bytes      {_size(s.bytes)}" + ("" if s.local == s.objects else fetched))
    lines.append(
        f"  records    {s.records:,}: {s.flows:,} flows, {s.nodata:,} NODATA,"
        f" {s.skipdata:,} SKIPDATA"
    )
    if s.versions:
        parts = [
            f"v{v.version}: {v.records:,}"
            if v.version is not None
            else f"no version: {v.records:,}"
            for v in s.versions
        ]
        lines.append(f"  versions   {', '.join(parts)}")
    if s.first_start or s.last_end:
        lines.append(f"  time span  {_time(s.first_start)} .. {_time(s.last_end)}")
    if s.unknown_fields:
        names = ", ".join(f"{u.name} ({u.objects:,} objects)" for u in s.unknown_fields)
        lines.append(f"  unknown    fields carried but not read: {names}")
    stderr_console.print(head, style="bold", markup=False, highlight=False, soft_wrap=True)
    for line in lines:
        stderr_console.print(line, markup=False, highlight=False, soft_wrap=True)
    for line in notices(s):
        stderr_console.print(line, style="yellow", markup=False, highlight=False, soft_wrap=True)


def notices(s: IngestSummary) -> list[str]:
    """What was left out, for every command's summary: skipped input, Transit Gateway logs."""
    out: list[str] = []
    if s.transit_gateway:
        out.append(
            f"  transit gw {s.transit_gateway_records:,} Transit Gateway records"
            f" ({s.transit_gateway_objects:,} whole objects) not read: they are no VPC flows"
        )
        out.extend(f"    {t.uri} ({t.records:,} records)" for t in s.transit_gateway[:10])
        if len(s.transit_gateway) > 10:
            out.append(f"    ... and {len(s.transit_gateway) - 10:,} more")
    if s.skipped:
        out.append(
            f"  skipped    {s.skipped_objects:,} objects, {s.skipped_lines:,} lines,"
            f" {s.skipped_records:,} records (--on-error skip: the evidence is incomplete)"
        )
        out.extend(f"    {item}" for item in s.skipped)
    return out


def _time(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{count} B"
