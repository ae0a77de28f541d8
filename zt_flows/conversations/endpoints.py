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
    """``zt_forwarding(interface_id)``: interfaces whose records are forwarded traffic, and
    ``zt_own(interface_id, address)``: the addresses of the address-translating ones (NAT
    gateways), whose legs with their own address are dropped as duplicates."""
    forwarding: set[str] = set()
    own: set[tuple[str, str]] = set()
    for snapshot in inventory.snapshots:
        for eni in snapshot.interfaces:
            if eni.role in FORWARDING_ROLES:
                forwarding.add(eni.id)
            if eni.role is InterfaceRole.NAT_GATEWAY:
                own.update((eni.id, address) for address in eni.addresses)
    _register(
        con, "zt_forwarding", pa.table({"interface_id": pa.array(sorted(forwarding), pa.string())})
    )
    pairs = sorted(own)
    _register(
        con,
        "zt_own",
        pa.table(
            {
                "interface_id": pa.array([p[0] for p in pairs], pa.string()),
                "address": pa.array([p[1] for p in pairs], pa.string()),
            }
        ),
    )


def _register(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """A temp table holding ``table`` (arrow registrations do not outlive the statement)."""
    con.register(f"{name}_arrow", table)
    # name is one of this module's own table names, never input.
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")  # noqa: S608
    con.unregister(f"{name}_arrow")


def register_endpoints(
    con: duckdb.DuckDBPyConnection, inventory: Inventory, settings: ConversationSettings
) -> int:
    """Create ``zt_res`` and ``zt_local``; returns the number of distinct addresses."""
    resolver = build_resolver(
        inventory, onprem_cidrs=settings.onprem_cidrs, partner_cidrs=settings.partner_cidrs
    )

    pairs = con.sql(DISTINCT_ADDRESSES).to_arrow_table()
    hours = pairs.column("hour")
    lookups = pa.table(
        {
            "address": pairs.column("address"),
            "at": pc.add(pc.multiply(hours, 3600), _HALF_HOUR),
        }
    )
    resolved = resolver.resolve_many(lookups).append_column("hour", hours)
    _register(con, "zt_res", resolved)
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
    _register(con, "zt_local", local)
    return int(pairs.num_rows)
