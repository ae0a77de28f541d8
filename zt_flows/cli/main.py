"""The ``ztflows`` application: command registration and the entry point."""

from __future__ import annotations

import inspect
import signal
import sys

import typer

from zt_flows import __version__
from zt_flows.cli import (
    analyze,
    check,
    conversations,
    diff,
    graph,
    ingest,
    inventory,
    pr,
    recommend,
    reduce,
    terraform,
)
from zt_flows.cli.errors import run_guarded
from zt_flows.cli.helptext import reflow
from zt_flows.cli.options import with_run_options

HELP = "\n\n".join(
    [
        "Turn AWS VPC Flow Logs into least-privilege security groups.",
        "Read flow logs from S3 or a local folder, learn which workloads talk to which on"
        " which ports, and propose security-group rules that reference other security groups"
        " instead of CIDR ranges, as a Terraform change with evidence for every rule.",
        "Start with: [bold]ztflows analyze s3://my-flow-log-bucket/AWSLogs/ --since 14d"
        " --out out/[/bold]",
        "Every command reads ztflows.toml from the working directory, or the file --config"
        " names (docs/configuration.md): the scope, the networks you name, known scanners,"
        " expected peers, thresholds and suppressions; options override it.",
        "Exit codes: 0 ok; 1 findings at or above --fail-on, or `check` found flows the plan"
        " would block; 2 bad input or usage; 3 AWS error; 4 the plan failed its own replay;"
        " 70 internal error.",
    ]
)

app = typer.Typer(
    name="ztflows",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ztflows {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show a traceback on internal errors (may include flow data)."
    ),
) -> None:
    """Global options."""


# In pipeline order, which is the order `ztflows --help` lists them in.
ingest.register(app)
inventory.register(app)
conversations.register(app)
graph.register(app)
recommend.register(app)
check.register(app)
terraform.register(app)
pr.register(app)
analyze.register(app)
diff.register(app)
reduce.register(app)


def _finish(typer_app: typer.Typer) -> None:
    """Every command gets the run options (``--config``, ``-v``, ``--log-file``) and help
    text that reflows at the terminal's width, whichever module registered it."""
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = with_run_options(info.callback)
            info.help = reflow(info.help or inspect.getdoc(info.callback) or "")
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            instance = group.typer_instance
            if isinstance(instance.info.help, str):
                instance.info.help = reflow(instance.info.help)
            _finish(instance)


_finish(app)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns (and exits with) the documented exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    code = run_guarded(
        lambda: app(args=args, prog_name="ztflows", standalone_mode=False),
        debug="--debug" in args,
    )
    if argv is None:
        # The command has finished (or failed) and said so: a Ctrl-C from here on would only
        # turn its exit code into death by signal while the interpreter shuts down.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        sys.exit(code)
    return code
