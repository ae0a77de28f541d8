"""The reduce's SQL, one text for both engines, rendered per dialect.

``sql/partial.sql`` is written in the SQL DuckDB and Spark SQL share; the few places they
differ are placeholders filled here: how ``end`` (a reserved word) is quoted, integer
division, and whether a port is a configured service port (DuckDB: a bit of a 65,536-bit
string, one lookup per record; Spark: an ``IN`` list of literals). Nothing is copied by
hand between the engines, so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from typing import Literal

import pyarrow as pa

Dialect = Literal["duckdb", "spark"]

# The partial aggregate: one row per (interface, addresses, kept ports, protocol, hour,
# decision). Inventory-free: a new snapshot never invalidates it.
PARTIAL_SCHEMA = pa.schema(
    [  # type: ignore[arg-type]  # pyarrow-stubs type pa.field() loosely
        pa.field("interface_id", pa.string()),
        pa.field("src_a", pa.string()),
        pa.field("dst_a", pa.string()),
        pa.field("srcport", pa.int32()),
        pa.field("dstport", pa.int32()),
        pa.field("protocol", pa.int32()),
        pa.field("hour", pa.int64()),
        pa.field("decision", pa.int8()),
        pa.field("records", pa.int64()),
        pa.field("flagged", pa.int64()),
        pa.field("rejected_flagged", pa.int64()),
        pa.field("rejected_records", pa.int64()),
        pa.field("packets", pa.int64()),
        pa.field("bytes", pa.int64()),
        pa.field("first_start", pa.int64()),
        pa.field("last_end", pa.int64()),
        pa.field("src_service", pa.string()),
        pa.field("dst_service", pa.string()),
        pa.field("egress", pa.bool_()),
        pa.field("nat_service", pa.string()),
    ]
)
# Canonical record columns the reduce reads (zt_flows.schema names).
INPUT_COLUMNS = (
    "interface_id", "srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr", "srcport", "dstport",
    "protocol", "packets", "bytes", "start", "end", "action", "tcp_flags", "flow_direction",
    "pkt_src_aws_service", "pkt_dst_aws_service",
)  # fmt: skip
# The day's numbers beside its partial, in one scan of every record (NODATA and SKIPDATA
# included): counts by version and status, and which interface logged records naming which
# account and VPC (inventory.consistency checks those against the snapshot).
SUMMARY_SQL = """
SELECT
    CAST(version AS INTEGER) AS version,
    interface_id,
    account_id,
    vpc_id,
    CAST(count(*) AS BIGINT) AS records,
    CAST(count_if(log_status = 'OK' OR log_status IS NULL) AS BIGINT) AS flows,
    CAST(count_if(log_status = 'NODATA') AS BIGINT) AS nodata,
    CAST(count_if(log_status = 'SKIPDATA') AS BIGINT) AS skipdata,
    CAST(min(start) AS BIGINT) AS first_start,
    CAST(max({end}) AS BIGINT) AS last_end
FROM {input}
WHERE true{where}
GROUP BY version, interface_id, account_id, vpc_id
"""


@cache
def template() -> str:
    return resources.files("zt_flows.reduce").joinpath("sql", "partial.sql").read_text("utf-8")


def service_bits(ports: Iterable[int]) -> str:
    """The service ports as a 65 536-character bit string (bit p set for port p)."""
    chosen = set(ports)
    return "".join("1" if p in chosen else "0" for p in range(65536))


def _service(dialect: Dialect, column: str, ports: frozenset[int]) -> str:
    if dialect == "duckdb":
        return f"(get_bit(CAST($service_bits AS BIT), {column}) = 1)"
    listed = ", ".join(str(int(p)) for p in sorted(ports)) or "-1"
    return f"({column} IN ({listed}))"


def _fill(text: str, dialect: Dialect, relation: str, where: str, **more: str) -> str:
    end = '"end"' if dialect == "duckdb" else "`end`"
    hour = "start // 3600" if dialect == "duckdb" else "start DIV 3600"
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--"))
    return body.format(input=relation, end=end, hour=hour, where=where, **more)


def render_partial(
    dialect: Dialect,
    relation: str,
    *,
    service_ports: frozenset[int],
    ephemeral_min: int,
    where: str = "",
) -> str:
    """The reduce as one SELECT over ``relation`` in ``dialect``; ``where`` (``" AND ..."``)
    narrows the records. DuckDB binds ``$service_bits`` (:func:`service_bits`)."""
    return _fill(
        template(),
        dialect,
        relation,
        where,
        eph=str(int(ephemeral_min)),
        svc_src=_service(dialect, "srcport", service_ports),
        svc_dst=_service(dialect, "dstport", service_ports),
    )


def render_summary(dialect: Dialect, relation: str, where: str = "") -> str:
    return _fill(SUMMARY_SQL, dialect, relation, where)


def reduce_digest(service_ports: frozenset[int], ephemeral_min: int) -> str:
    """What a partial depends on besides the records: the reduce's text and parameters.
    Partials written under another digest are never mixed with these."""
    digest = hashlib.sha256(template().encode())
    digest.update(f"{sorted(service_ports)}/{ephemeral_min}".encode())
    return digest.hexdigest()[:16]
