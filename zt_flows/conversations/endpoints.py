"""Bridge between the inventory and the SQL: small tables the edge queries join against.

``zt_forwarding``  interfaces whose records carry forwarded traffic (pkt-* addresses)
``zt_res``         every distinct (address, hour) resolved to an endpoint
``zt_local``       every logging interface per hour: its VPC, groups and role at that time

Resolution runs once per distinct address and hour (thousands to a few million rows,
however many records there were), in the inventory's time-aware resolver.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from zt_flows.conversations.queries import query
from zt_flows.inventory.model import FORWARDING_ROLES, InterfaceRole, Inventory
from zt_flows.inventory.resolve import build_resolver
from zt_flows.settings import ConversationSettings

DISTINCT_ADDRESSES = """
SELECT client_a AS address, hour FROM zt_oriented
UNION
SELECT server_a AS address, hour FROM zt_oriented
"""
DISTINCT_INTERFACES = "SELECT DISTINCT interface_id, hour FROM zt_oriented"

# Resolve at the middle of the hour the rows were aggregated to.
_HALF_HOUR = 1800


def register_forwarding(con: duckdb.DuckDBPyConnection, inventory: Inventory) -> None:
    """``zt_forwarding(interface_id, translates)`` from every snapshot's interfaces."""
    rows: dict[str, bool] = {}
    for snapshot in inventory.snapshots:
        for eni in snapshot.interfaces:
            if eni.role in FORWARDING_ROLES:
                rows[eni.id] = eni.role is InterfaceRole.NAT_GATEWAY
    table = pa.table(
        {
            "interface_id": pa.array(sorted(rows), pa.string()),
            "translates": pa.array([rows[k] for k in sorted(rows)], pa.bool_()),
        }
    )
    con.register("zt_forwarding_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE zt_forwarding AS SELECT * FROM zt_forwarding_arrow")
    con.unregister("zt_forwarding_arrow")


def register_endpoints(
    con: duckdb.DuckDBPyConnection, inventory: Inventory, settings: ConversationSettings
) -> int:
    """Create ``zt_res`` and ``zt_local``; returns the number of distinct addresses."""
    resolver = build_resolver(inventory, onprem_cidrs=settings.onprem_cidrs)

    pairs = con.sql(DISTINCT_ADDRESSES).to_arrow_table()
    hours = pairs.column("hour")
    lookups = pa.table(
        {
            "address": pairs.column("address"),
            "at": pc.add(pc.multiply(hours, 3600), _HALF_HOUR),
        }
    )
    resolved = resolver.resolve_many(lookups).append_column("hour", hours)
    con.register("zt_res_arrow", resolved)
    con.execute("CREATE OR REPLACE TEMP TABLE zt_res AS SELECT * FROM zt_res_arrow")
    con.unregister("zt_res_arrow")
    con.execute(query("self_addresses.sql"))

    ids: list[str] = []
    hour_col: list[int] = []
    vpcs: list[str | None] = []
    groups: list[list[str]] = []
    roles: list[str] = []
    for interface_id, hour in con.execute(DISTINCT_INTERFACES).fetchall():
        eni = resolver.interface_at(interface_id, int(hour) * 3600 + _HALF_HOUR)
        ids.append(interface_id)
        hour_col.append(int(hour))
        vpcs.append(eni.vpc_id if eni else None)
        groups.append(sorted(eni.security_group_ids) if eni else [])
        roles.append(eni.role.value if eni else "unknown")
    local = pa.table(
        {
            "interface_id": pa.array(ids, pa.string()),
            "hour": pa.array(hour_col, pa.int64()),
            "vpc_id": pa.array(vpcs, pa.string()),
            "security_group_ids": pa.array(groups, pa.list_(pa.string())),
            "interface_role": pa.array(roles, pa.string()),
        }
    )
    con.register("zt_local_arrow", local)
    con.execute("CREATE OR REPLACE TEMP TABLE zt_local AS SELECT * FROM zt_local_arrow")
    con.unregister("zt_local_arrow")
    return int(pairs.num_rows)
