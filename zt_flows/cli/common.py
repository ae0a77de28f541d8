"""The one place that builds :class:`Settings` from the command line, and the observation
every command that reads flow logs starts from."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from zt_flows.inventory.model import Inventory
    from zt_flows.pipeline import Observation
    from zt_flows.progress import Progress
    from zt_flows.recommend import VerifiedPlan

from zt_flows.settings import OnError, RecommendSettings, Settings, parse_window

log = logging.getLogger(__name__)


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
    started = time.monotonic()
    inventory = obtain_inventory(inventory_dir, settings, progress=progress)
    log.info(
        "inventory: %d interface(s), %d security group(s), %d rule(s) in %.1fs",
        len(inventory.interfaces),
        len(inventory.security_groups),
        len(inventory.rules),
        time.monotonic() - started,
    )
    con = connect_engine(settings.engine)
    log.debug("engine: memory limit %s", settings.engine.memory_limit)
    try:
        started = time.monotonic()
        observation = observe(source, settings, con, inventory=inventory, progress=progress)
        log.info(
            "observed: %d flow-log object(s), %d edge(s), %d logged interface(s) in %.1fs",
            len(observation.flows.objects),
            observation.conversations.edges.height,
            len(observation.logged_interfaces),
            time.monotonic() - started,
        )
        yield con, observation, progress
    finally:
        con.close()


def read_configuration(config: Path | None) -> Settings:
    """The settings of ``config`` (or of ``ztflows.toml`` in the working directory), or the
    defaults when there is no configuration file; a bad one is an error (exit 2)."""
    from zt_flows.configuration import find_configuration, load_configuration

    path = find_configuration(config)
    if path is None:
        log.info("configuration: none (no --config, no ztflows.toml here)")
        return Settings()
    settings = load_configuration(path)
    log.info(
        "configuration: %s (%d suppression(s), %d expected peer(s), scope %s)",
        path,
        len(settings.suppressions),
        len(settings.expected_peers),
        "everything" if settings.scope.everything else "restricted",
    )
    return settings


def trusted_plan(
    plan_file: Path, inventory_dir: Path | None, settings: Settings
) -> tuple[VerifiedPlan, Inventory]:
    """Read a plan and verify it against the inventory (loaded, or collected from AWS when
    none is given) before anything acts on it: a plan that widens, names rules the inventory
    does not hold, or claims figures the inventory does not give is refused (exit 2)."""
    from zt_flows.cli.console import RichProgress, stderr_console
    from zt_flows.pipeline import obtain_inventory
    from zt_flows.recommend import read_plan, verify_plan

    plan = read_plan(plan_file)
    progress = RichProgress(enabled=settings.sources.progress)
    inventory = obtain_inventory(inventory_dir, settings, progress=progress)
    verified = verify_plan(plan, inventory)
    if settings.sources.progress:
        before, after = verified.before, verified.after
        stderr_console.print(
            f"Verified {plan_file.name} against the inventory: no rule allows more than its"
            f" group allows today; exposure {before.combinations:,} -> {after.combinations:,}"
            " combinations (measured here, not read from the file).",
            markup=False,
            soft_wrap=True,
        )
    return verified, inventory


def build_settings(
    *,
    since: str | None = None,
    until: str | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    cache_dir: Path | None = None,
    on_error: str | None = None,
    fields: str | None = None,
    memory_limit: str | None = None,
    temp_dir: Path | None = None,
    quiet: bool | None = None,
    onprem_cidr: list[str] | None = None,
    partner_cidr: list[str] | None = None,
    min_flows: int | None = None,
    min_days: int | None = None,
    port_range: list[str] | None = None,
    port_range_density: float | None = None,
    base: Settings | None = None,
) -> Settings:
    """The frozen settings for one run: ``base`` (the defaults) with what the command line
    gave. A keyword is named after its option (``--onprem-cidr``: ``onprem_cidr``); ``None``
    (the option not given) keeps ``base``'s value, so no setting is dropped on the way."""
    from zt_flows.errors import UsageError

    base = base or Settings()
    sources: dict[str, object] = {}
    if cache_dir is not None:
        sources["cache_dir"] = cache_dir
    if on_error is not None:
        if on_error not in ("stop", "skip"):
            raise UsageError(f"--on-error: expected 'stop' or 'skip', found {on_error!r}")
        policy: OnError = "skip" if on_error == "skip" else "stop"
        sources["on_error"] = policy
    if quiet is not None:
        sources["progress"] = not quiet
    if fields is not None:
        from zt_flows.schema import parse_field_list

        try:
            sources["text_fields"] = parse_field_list(fields)
        except ValueError as exc:
            raise UsageError(f"--fields: {exc}") from None
    engine: dict[str, object] = {}
    if memory_limit is not None:
        engine["memory_limit"] = memory_limit
    if temp_dir is not None:
        engine["temp_dir"] = temp_dir
    aws = {
        name: value
        for name, value in (
            ("profile", profile),
            ("region", region),
            ("endpoint_url", endpoint_url),
        )
        if value is not None
    }
    conversations: dict[str, object] = {}
    if onprem_cidr:
        conversations["onprem_cidrs"] = _cidrs("--onprem-cidr", onprem_cidr)
    if partner_cidr:
        conversations["partner_cidrs"] = _cidrs("--partner-cidr", partner_cidr)
    return replace(
        base,
        window=parse_window(since, until) if since or until else base.window,
        aws=replace(base.aws, **aws),  # type: ignore[arg-type]
        sources=replace(base.sources, **sources),  # type: ignore[arg-type]
        engine=replace(base.engine, **engine),  # type: ignore[arg-type]
        conversations=replace(base.conversations, **conversations),  # type: ignore[arg-type]
        recommend=_recommend(base.recommend, min_flows, min_days, port_range, port_range_density),
    )


def _recommend(
    base: RecommendSettings,
    min_flows: int | None,
    min_days: int | None,
    port_ranges: list[str] | None,
    density: float | None,
) -> RecommendSettings:
    from zt_flows.errors import UsageError

    changes: dict[str, object] = {}
    for name, value, low in (
        ("min_flows", min_flows, 1),
        ("min_days", min_days, 1),
    ):
        if value is not None:
            if value < low:
                option = "--" + name.replace("_", "-")
                raise UsageError(f"{option}: expected an integer of at least {low}, found {value}")
            changes[name] = value
    if port_ranges:
        changes["port_ranges"] = tuple(sorted({_port_range(text) for text in port_ranges}))
    if density is not None:
        if not 0 < density <= 1:
            raise UsageError(f"--port-range-density: expected a share in (0, 1], found {density}")
        changes["port_range_density"] = density
    return replace(base, **changes)  # type: ignore[arg-type]


def _port_range(text: str) -> tuple[int, int]:
    from zt_flows.errors import UsageError
    from zt_flows.settings import parse_port_range

    try:
        return parse_port_range(text)
    except ValueError as exc:
        raise UsageError(f"--port-range: expected {exc}, found {text!r}") from None


def _cidrs(option: str, values: list[str]) -> tuple[str, ...]:
    """CIDR blocks from repeated options, in network-address form, sorted and unique."""
    from zt_flows.errors import UsageError, excerpt
    from zt_flows.settings import normalize_cidrs

    try:
        return normalize_cidrs(values)
    except ValueError as exc:
        raise UsageError(f"{option}: expected a CIDR block, found {excerpt(exc)}") from None


__all__ = [
    "build_settings",
    "observed",
    "read_configuration",
]
