"""The pipeline's first half, shared by every command and by notebooks.

``observe`` reads flow logs, takes the inventory (from a snapshot folder, or by
collecting from AWS first) and builds the conversations; later stages (rules,
recommendation, rendering) start from the :class:`Observation` it returns.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.conversations import Conversations, build_conversations
from zt_flows.inventory import collect_inventory, load_inventory
from zt_flows.inventory.model import Inventory
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.settings import ConversationSettings, Settings
from zt_flows.sources import FlowLogs, IngestSummary, read_flow_logs

if TYPE_CHECKING:
    import boto3

LOGGED_INTERFACES = "SELECT DISTINCT interface_id FROM {view} WHERE interface_id IS NOT NULL"


@dataclass(frozen=True)
class Observation:
    """What the flow logs showed, resolved against the inventory."""

    flows: FlowLogs
    inventory: Inventory
    conversations: Conversations
    # Every interface that appears in any record (NODATA included): its traffic was logged,
    # so silence about it means no traffic, not no data.
    logged_interfaces: frozenset[str]
    # With daily partials, the window's numbers (the records of reused days are not read).
    ingest: IngestSummary | None = None


def obtain_inventory(
    inventory_dir: Path | None,
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    collect_into: Path | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Inventory:
    """Load a snapshot folder, or collect a new snapshot from AWS first when none is given.

    A collected snapshot is kept under ``collect_into`` (default: the cache directory),
    so the analysis can be repeated offline with ``--inventory``.
    """
    if inventory_dir is not None:
        return load_inventory(inventory_dir)
    from zt_flows.aws import make_session

    folder = collect_inventory(
        session or make_session(settings.aws),
        settings.aws,
        collect_into or settings.sources.cache_dir / "inventory",
        progress=progress,
    )
    return load_inventory(folder)


def logged_interfaces(flows: FlowLogs, con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Interfaces with any record in the window (flows, NODATA or SKIPDATA)."""
    query = LOGGED_INTERFACES.format(view=_quoted(flows.all_view))
    return frozenset(str(row[0]) for row in con.execute(query).fetchall())


def observe(
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    inventory: Inventory,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Observation:
    """Read ``source``, then build conversations against ``inventory``.

    With ``settings.sources.state``, each UTC day is reduced once into a partial kept
    there and later runs reduce only the days whose objects changed (``zt_flows.reduce``).
    """
    conv = replace(
        settings.conversations,
        identity_ports=settings.conversations.identity_ports | settings.recommend.admin_ports,
    )
    if settings.sources.state is not None:
        return _observe_partials(source, settings, conv, con, inventory, session, progress)
    flows = read_flow_logs(source, settings, con, session=session, progress=progress)
    conversations = build_conversations(flows, inventory, conv, con, progress=progress)
    return Observation(
        flows=flows,
        inventory=inventory,
        conversations=conversations,
        logged_interfaces=logged_interfaces(flows, con),
    )


def _observe_partials(
    source: str | Path,
    settings: Settings,
    conv: ConversationSettings,
    con: duckdb.DuckDBPyConnection,
    inventory: Inventory,
    session: boto3.session.Session | None,
    progress: Progress,
) -> Observation:
    from zt_flows.conversations.build import conversations_from_reduced
    from zt_flows.reduce import load_partials, open_state_for, reduce_flow_logs

    assert settings.sources.state is not None
    state = open_state_for(settings.sources.state, settings, session=session)
    with tempfile.TemporaryDirectory(prefix="ztflows-partials-") as scratch:
        reduction = reduce_flow_logs(
            source,
            settings,
            con,
            state=state,
            scratch=Path(scratch),
            session=session,
            progress=progress,
        )
        load_partials(con, reduction.partials)
    conversations = conversations_from_reduced(
        con, inventory, conv, input_records=reduction.summary.flows, progress=progress
    )
    return Observation(
        flows=reduction.flows,
        inventory=inventory,
        conversations=conversations,
        logged_interfaces=reduction.logged_interfaces,
        ingest=reduction.summary,
    )


def _quoted(identifier: str) -> str:
    """A view name we created ourselves, quoted as a SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'
