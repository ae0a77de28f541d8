"""The pipeline's first half, shared by every command and by notebooks.

``observe`` reads flow logs, takes the inventory (from a snapshot folder, or by
collecting from AWS first) and builds the conversations; later stages (rules,
recommendation, rendering) start from the :class:`Observation` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.conversations import Conversations, build_conversations
from zt_flows.inventory import collect_inventory, load_inventory
from zt_flows.inventory.consistency import (
    FlowOrigin,
    InventoryWarning,
    check_flow_origins,
    check_inventory,
)
from zt_flows.inventory.model import Inventory
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.rules.nat_services import NatServiceTraffic, measure_nat_service_traffic
from zt_flows.settings import Settings
from zt_flows.sources import FlowLogs, read_flow_logs

if TYPE_CHECKING:
    import boto3

LOGGED_INTERFACES = "SELECT DISTINCT interface_id FROM {view} WHERE interface_id IS NOT NULL"
# One scan for both: which interfaces wrote records, and which account and VPC they name.
LOGGED_ORIGINS = (
    "SELECT interface_id, account_id, vpc_id, count(*) FROM {view} GROUP BY ALL ORDER BY ALL"
)


@dataclass(frozen=True)
class Observation:
    """What the flow logs showed, resolved against the inventory."""

    flows: FlowLogs
    inventory: Inventory
    conversations: Conversations
    # Every interface that appears in any record (NODATA included): its traffic was logged,
    # so silence about it means no traffic, not no data.
    logged_interfaces: frozenset[str]
    # What NAT gateways carried to AWS services (an endpoint could carry it instead).
    nat_traffic: tuple[NatServiceTraffic, ...] = ()
    # What the inventory and the flow logs say that cannot all be true (for the summary
    # and the report; the analysis has taken the safe side already).
    warnings: tuple[InventoryWarning, ...] = ()


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


def logged_origins(flows: FlowLogs, con: duckdb.DuckDBPyConnection) -> tuple[FlowOrigin, ...]:
    """Every (interface, account, VPC) the records of the window name, with their count."""
    query = LOGGED_ORIGINS.format(view=_quoted(flows.all_view))
    return tuple(
        FlowOrigin(
            interface_id=None if row[0] is None else str(row[0]),
            account_id=None if row[1] is None else str(row[1]),
            vpc_id=None if row[2] is None else str(row[2]),
            records=int(row[3]),
        )
        for row in con.execute(query).fetchall()
    )


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

    Every scan of the flow records maps its errors through ``flows.scanning()``: a corrupt
    object is named (exit 2) here as in ``ingest``.
    """
    flows = read_flow_logs(source, settings, con, session=session, progress=progress)
    with flows.scanning():
        conversations = build_conversations(
            flows, inventory, settings.conversations, con, progress=progress
        )
        origins = logged_origins(flows, con)
        nat_traffic = measure_nat_service_traffic(flows, inventory, con)
    interfaces = frozenset(o.interface_id for o in origins if o.interface_id is not None)
    return Observation(
        flows=flows,
        inventory=inventory,
        conversations=conversations,
        logged_interfaces=interfaces,
        nat_traffic=nat_traffic,
        warnings=(*check_inventory(inventory), *check_flow_origins(inventory, origins)),
    )


def _quoted(identifier: str) -> str:
    """A view name we created ourselves, quoted as a SQL identifier."""
    return '"' + identifier.replace('"', '""') + '"'
