"""`ztflows reduce`: reduce each UTC day of flow logs once into partials kept in a state."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from zt_flows.cli.options import READ_OPTIONS, SourceArg, choice, text_format, with_settings
from zt_flows.errors import UsageError
from zt_flows.settings import Settings

HELP = "\n\n".join(
    [
        "Reduce each UTC day of flow logs once into a partial (Parquet) kept in a state"
        " location, with a manifest of the objects the day covers: what a scheduled job runs"
        " daily. Days already reduced from the same objects are skipped; a day whose objects"
        " changed (a late delivery) is reduced again. `ztflows analyze --state` reads the same"
        " partials.",
        "STATE is a folder or [bold]s3://bucket/prefix[/bold] (default: state/ under the cache"
        " directory). --engine spark runs the same reduce on Apache Spark (pip install"
        " 'ztflows[spark]'); see docs/scale-out.md for spark-submit.",
        "[bold]Examples[/bold]",
        "  ztflows reduce s3://my-flow-logs/AWSLogs/ --since 2d --state s3://my-state/ztflows/",
        "  ztflows reduce sample_data/flowlogs --state /tmp/state --engine spark",
    ]
)

StateOpt = Annotated[
    str,
    typer.Option(
        "--state",
        help="Daily partials: a folder or s3://bucket/prefix; 'auto' keeps them under the"
        " cache directory, 'off' reads every record of the window in one scan.",
        show_default=True,
    ),
]
EngineOpt = Annotated[
    str,
    choice(
        "--engine",
        ("duckdb", "spark"),
        help="duckdb (this machine) or spark (pyspark, local or a cluster).",
    ),
]
FormatOpt = Annotated[
    str, text_format("json", help="'text' (the summary, on stderr) or 'json' (on stdout).")
]


def register(app: typer.Typer) -> None:
    app.command("reduce", help=HELP, no_args_is_help=True)(reduce)


def with_state(settings: Settings, state: str) -> Settings:
    """``settings`` reading through daily partials at ``state`` ('auto', 'off', or a place)."""
    from zt_flows.reduce import default_state

    if state == "off":
        chosen = None
    elif state == "auto":
        chosen = str(default_state(settings))
    else:
        chosen = state
    return replace(settings, sources=replace(settings.sources, state=chosen))


@with_settings(*READ_OPTIONS)
def reduce(
    source: SourceArg,
    state: StateOpt = "auto",
    engine: EngineOpt = "duckdb",
    summary_format: FormatOpt = "text",
    *,
    settings: Settings,
) -> int:
    if state == "off":
        raise UsageError(
            "--state off: `reduce` keeps partials; name a folder or s3://bucket/prefix"
        )
    settings = with_state(settings, state)
    assert settings.sources.state is not None
    if engine == "spark":
        from zt_flows.reduce.spark import reduce_with_spark

        done = reduce_with_spark(str(source), settings)
        doc: dict[str, object] = {
            "state": done.state,
            "days": [d.isoformat() for d in done.days],
            "reduced": [d.isoformat() for d in done.reduced],
            "reused": [d.isoformat() for d in done.reused],
        }
    else:
        doc = _reduce_duckdb(str(source), settings)
    if summary_format == "json":
        typer.echo(json.dumps(doc, indent=2))
    else:
        from zt_flows.cli.console import stderr_console as console

        console.print(f"[bold]ztflows reduce[/bold] -> {doc['state']}")
        reduced = [str(d) for d in doc["reduced"]] if isinstance(doc["reduced"], list) else []
        reused = doc["reused"] if isinstance(doc["reused"], list) else []
        console.print(f"  reduced  {len(reduced)} day(s) {', '.join(reduced)}")
        console.print(f"  reused   {len(reused)} day(s)")
    return 0


def _reduce_duckdb(source: str, settings: Settings) -> dict[str, object]:
    import tempfile

    from zt_flows.cli.console import RichProgress
    from zt_flows.engine import connect_engine
    from zt_flows.reduce import open_state_for, reduce_flow_logs

    assert settings.sources.state is not None
    progress = RichProgress(enabled=settings.sources.progress)
    con = connect_engine(settings.engine)
    try:
        with tempfile.TemporaryDirectory(prefix="ztflows-partials-") as scratch:
            done = reduce_flow_logs(
                source,
                settings,
                con,
                state=open_state_for(settings.sources.state, settings),
                scratch=Path(scratch),
                progress=progress,
            )
    finally:
        con.close()
    return {
        "state": done.state,
        "days": [d.isoformat() for d in done.days],
        "reduced": [d.isoformat() for d in done.reduced],
        "reused": [d.isoformat() for d in done.reused],
        "records": done.summary.records,
    }
