"""The command line's options, declared once.

Options that become :class:`~zt_flows.settings.Settings` come in groups (the window, AWS,
reading flow logs, the engine, the networks you name, the plan's thresholds). A command
names the groups it takes with :func:`with_settings`: their options join its signature,
and so its ``--help``, and the command receives one ``settings`` built from them by
:func:`~zt_flows.cli.common.build_settings`. A new option is added to its group and to
``build_settings``, and every command of that group has it.

Options with a fixed set of values (``--format``, ``--on-error``, ``--fail-on``,
``--level``) are declared with :func:`choice`: ``--help`` lists the values, and a wrong one
is a usage error (exit 2) worded the same way by every command,
``--format: expected 'text' or 'json', found 'xml'``. The human-readable format is called
``text`` by every command.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from zt_flows.errors import UsageError
from zt_flows.settings import SEVERITIES, default_cache_dir

R = TypeVar("R")
log = logging.getLogger(__name__)

# --help panels
INPUT = "Input"
WINDOW = "Observation window"
AWS = "AWS"
ENGINE = "Engine"
NETWORKS = "Networks you name"
RECOMMEND = "Recommendation"
RUN = "Configuration and logs"


def choice(
    option: str,
    choices: Sequence[str],
    *,
    help: str,
    aliases: Mapping[str, str] | None = None,
    listed: bool = False,
    **kwargs: Any,
) -> Any:
    """A ``typer.Option`` that takes one of ``choices``.

    ``aliases`` are older names still accepted and not shown (``check --format table``).
    The error names the choices quoted (``'text' or 'json'``), or, with ``listed`` or more
    than three, as a list (``one of critical, high, ...``).
    """
    if listed or len(choices) > 3:
        expected = "one of " + ", ".join(choices)
    else:
        quoted = [repr(c) for c in choices]
        expected = ", ".join(quoted[:-1]) + " or " + quoted[-1]
    hidden = dict(aliases or {})

    def parse(value: str) -> str:
        value = hidden.get(value, value)
        if value not in choices:
            raise UsageError(f"{option}: expected {expected}, found {value!r}")
        return value

    return typer.Option(
        option, parser=parse, metavar="[" + "|".join(choices) + "]", help=help, **kwargs
    )


def text_format(*others: str, help: str, aliases: Mapping[str, str] | None = None) -> Any:
    """``--format``: ``text`` (for people) or one of ``others`` (for programs)."""
    return choice("--format", ("text", *others), help=help, aliases=aliases)


# --------------------------------------------------------------------------- arguments, options

SourceArg = Annotated[
    str,
    typer.Argument(
        metavar="SOURCE",
        help="Flow logs: s3://bucket/prefix, cwlogs://LOG-GROUP\\[/STREAM-PREFIX], or a local"
        " file or folder (Parquet, gzip or plain text, CloudWatch Logs export files).",
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


def fail_on(help: str) -> Any:
    """``--fail-on SEVERITY``; ``help`` says which findings count."""
    return choice("--fail-on", tuple(reversed(SEVERITIES)), help=help, show_default=False)


@dataclass(frozen=True)
class Shared:
    """One option of a group: its parameter name (``build_settings``'s keyword), its
    declaration, and its default."""

    name: str
    annotation: Any
    default: Any = None


WINDOW_OPTIONS = (
    Shared(
        "since",
        Annotated[
            str | None,
            typer.Option(
                "--since",
                help="Start of the window: a duration before now (7d, 36h) or an ISO time"
                " (2026-11-01).",
                rich_help_panel=WINDOW,
                show_default=False,
            ),
        ],
    ),
    Shared(
        "until",
        Annotated[
            str | None,
            typer.Option(
                "--until",
                help="End of the window (exclusive): a duration before now or an ISO time.",
                rich_help_panel=WINDOW,
                show_default=False,
            ),
        ],
    ),
)
ENDPOINT_OPTION = Shared(
    "endpoint_url",
    Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            envvar="AWS_ENDPOINT_URL",
            help="Custom AWS endpoint (S3-compatible store, local test server).",
            rich_help_panel=AWS,
            show_default=False,
        ),
    ],
)
AWS_OPTIONS = (
    Shared(
        "profile",
        Annotated[
            str | None,
            typer.Option(
                "--profile", help="AWS profile name.", rich_help_panel=AWS, show_default=False
            ),
        ],
    ),
    Shared(
        "region",
        Annotated[
            str | None,
            typer.Option("--region", help="AWS region.", rich_help_panel=AWS, show_default=False),
        ],
    ),
    ENDPOINT_OPTION,
)
INPUT_OPTIONS = (
    Shared(
        "on_error",
        Annotated[
            str,
            choice(
                "--on-error",
                ("stop", "skip"),
                help="On a corrupt object or bad record: 'stop' with a message, or 'skip' it"
                " and report.",
                rich_help_panel=INPUT,
            ),
        ],
        "stop",
    ),
    Shared(
        "fields",
        Annotated[
            str | None,
            typer.Option(
                "--fields",
                help="The fields of text without a header line (CloudWatch Logs, exports), in"
                " order: 'version account-id interface-id ...' or the log format as AWS"
                " prints it, '${version} ${account-id} ...'. Default: the version-2 default"
                " format.",
                rich_help_panel=INPUT,
                show_default=False,
            ),
        ],
    ),
    Shared(
        "cache_dir",
        Annotated[
            Path | None,
            typer.Option(
                "--cache-dir",
                envvar="ZTFLOWS_CACHE_DIR",
                help=f"Where downloaded S3 objects are kept (default {default_cache_dir()}).",
                rich_help_panel=INPUT,
                show_default=False,
            ),
        ],
    ),
)
ENGINE_OPTIONS = (
    Shared(
        "memory_limit",
        Annotated[
            str,
            typer.Option(
                "--memory-limit",
                help="DuckDB memory limit; beyond it, work spills to --temp-dir.",
                rich_help_panel=ENGINE,
            ),
        ],
        "4GB",
    ),
    Shared(
        "temp_dir",
        Annotated[
            Path | None,
            typer.Option(
                "--temp-dir",
                help="Spill directory for large aggregations (default: DuckDB's own).",
                rich_help_panel=ENGINE,
                show_default=False,
            ),
        ],
    ),
)
NETWORK_OPTIONS = (
    Shared(
        "onprem_cidr",
        Annotated[
            list[str] | None,
            typer.Option(
                "--onprem-cidr",
                help="An on-premises range reached over VPN or Direct Connect (repeat for"
                " several). Rules from such a range narrow to the range at most, never to the"
                " hosts seen.",
                rich_help_panel=NETWORKS,
                show_default=False,
            ),
        ],
    ),
    Shared(
        "partner_cidr",
        Annotated[
            list[str] | None,
            typer.Option(
                "--partner-cidr",
                help="A partner's range, public or private (repeat for several). Rules narrow"
                " to the range at most, never to the partner hosts seen in the window.",
                rich_help_panel=NETWORKS,
                show_default=False,
            ),
        ],
    ),
)
PLAN_OPTIONS = (
    Shared(
        "min_flows",
        Annotated[
            int | None,
            typer.Option(
                "--min-flows",
                help="Rules resting on fewer flows are flagged low-confidence.",
                rich_help_panel=RECOMMEND,
                show_default=False,
            ),
        ],
    ),
    Shared(
        "min_days",
        Annotated[
            int | None,
            typer.Option(
                "--min-days",
                help="Rules seen on fewer days are flagged low-confidence.",
                rich_help_panel=RECOMMEND,
                show_default=False,
            ),
        ],
    ),
    Shared(
        "port_range",
        Annotated[
            list[str] | None,
            typer.Option(
                "--port-range",
                help="A port range services use as a range, LOW-HIGH (repeat for several;"
                " default 30000-32767, Kubernetes NodePorts): observed ports spread across it"
                " keep the range.",
                rich_help_panel=RECOMMEND,
                show_default=False,
            ),
        ],
    ),
    Shared(
        "port_range_density",
        Annotated[
            float | None,
            typer.Option(
                "--port-range-density",
                help="Merge observed ports into a range only when this share of it was seen (0.5).",
                rich_help_panel=RECOMMEND,
                show_default=False,
            ),
        ],
    ),
)
QUIET_OPTION = Shared(
    "quiet", Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")], False
)
# Every command takes these (``with_settings`` adds them): where the settings come from,
# and how much the command says about its work.
CONFIG_OPTION = Shared(
    "config",
    Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="ZTFLOWS_CONFIG",
            help="The configuration file (docs/configuration.md). Default: ztflows.toml in"
            " the working directory, if there is one. Options given on the command line"
            " override it.",
            dir_okay=False,
            rich_help_panel=RUN,
            show_default=False,
        ),
    ],
)
VERBOSE_OPTION = Shared(
    "verbose",
    Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="Say what each stage did (-v), or everything (-vv), on stderr. Never flow"
            " data or credentials.",
            rich_help_panel=RUN,
            show_default=False,
        ),
    ],
    0,
)
LOG_FILE_OPTION = Shared(
    "log_file",
    Annotated[
        Path | None,
        typer.Option(
            "--log-file",
            help="Also append the log to this file (at least what -v says).",
            dir_okay=False,
            rich_help_panel=RUN,
            show_default=False,
        ),
    ],
)
RUN_OPTIONS = (CONFIG_OPTION, VERBOSE_OPTION, LOG_FILE_OPTION)

# What the commands take: reading flow logs (ingest), and observing conversations in them
# (conversations, check); recommend and analyze add the plan's thresholds.
READ_OPTIONS = (*WINDOW_OPTIONS, *INPUT_OPTIONS, *AWS_OPTIONS, *ENGINE_OPTIONS, QUIET_OPTION)
OBSERVE_OPTIONS = (*READ_OPTIONS, *NETWORK_OPTIONS)


def with_settings(
    *options: Shared,
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """Give a command ``options`` and the run options (``--config``, ``-v``,
    ``--log-file``), and call it with the ``settings`` they make.

    The command may declare a keyword parameter ``settings`` (commands that read no
    settings do not); its other parameters are its own options. typer reads the signature,
    so the shared options appear in the command's ``--help`` after its own. The command
    runs with the log set up, after the configuration file has been read and checked.
    """
    from zt_flows.cli.common import build_settings, read_configuration
    from zt_flows.cli.logs import logging_to

    def decorate(command: Callable[..., R]) -> Callable[..., R]:
        signature = inspect.signature(command, eval_str=True)
        wants_settings = "settings" in signature.parameters
        own = [p for p in signature.parameters.values() if p.name != "settings"]
        chosen_options = [*options, *(o for o in RUN_OPTIONS if o not in options)]
        shared = [
            inspect.Parameter(
                o.name, inspect.Parameter.KEYWORD_ONLY, default=o.default, annotation=o.annotation
            )
            for o in chosen_options
        ]
        names = [o.name for o in options]

        @functools.wraps(command)
        def run(**kwargs: Any) -> R:
            config, verbose, log_file = (kwargs.pop(o.name) for o in RUN_OPTIONS)
            chosen = {name: kwargs.pop(name) for name in names}
            with logging_to(verbose, log_file):
                log.debug("ztflows %s", command.__name__)
                base = read_configuration(config)
                settings = build_settings(base=base, **chosen)
                if wants_settings:
                    return command(settings=settings, **kwargs)
                return command(**kwargs)

        parameters = [*own, *shared]
        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        run.__ztflows_run_options__ = True  # type: ignore[attr-defined]
        del run.__wrapped__  # typer reads run's own signature
        return run

    return decorate


def with_run_options(command: Callable[..., R]) -> Callable[..., R]:
    """``command`` with the run options, unless :func:`with_settings` gave it them already."""
    if getattr(command, "__ztflows_run_options__", False):
        return command
    return with_settings()(command)


__all__ = [
    "AWS_OPTIONS",
    "CONFIG_OPTION",
    "ENDPOINT_OPTION",
    "ENGINE_OPTIONS",
    "INPUT_OPTIONS",
    "NETWORK_OPTIONS",
    "OBSERVE_OPTIONS",
    "PLAN_OPTIONS",
    "QUIET_OPTION",
    "READ_OPTIONS",
    "RUN_OPTIONS",
    "WINDOW_OPTIONS",
    "InventoryOpt",
    "Shared",
    "SourceArg",
    "choice",
    "fail_on",
    "text_format",
    "with_run_options",
    "with_settings",
]
