"""The canonical flow record: one schema for every input format and version (2 to 11).

Column names are the ones AWS uses in Parquet delivery (underscores); the text
format's header uses the same names with hyphens. Types follow AWS's Parquet
field data types. Fields of the text format are all strings and are cast to
these types on reading; ``-`` and NULL both mean "missing".

AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html
(Available fields; Parquet data types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pyarrow as pa

LogicalType = Literal["int32", "int64", "string"]

_ARROW: dict[LogicalType, pa.DataType] = {
    "int32": pa.int32(),
    "int64": pa.int64(),
    "string": pa.string(),
}
_DUCKDB: dict[LogicalType, str] = {"int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR"}


@dataclass(frozen=True)
class FlowField:
    """One flow-log field: canonical (Parquet) name, type, and the version that introduced it."""

    name: str
    type: LogicalType
    version: int
    required: bool = False

    @property
    def text_name(self) -> str:
        """The name in a text log's header line (``log-status``)."""
        return self.name.replace("_", "-")

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW[self.type]

    @property
    def duckdb_type(self) -> str:
        return _DUCKDB[self.type]


def _f(name: str, type_: LogicalType, version: int, required: bool = False) -> FlowField:
    return FlowField(name, type_, version, required)


# In the order of the AWS "Available fields" table; the default format is the v2 fields.
FIELDS: tuple[FlowField, ...] = (
    _f("version", "int32", 2, True),
    _f("account_id", "string", 2, True),
    _f("interface_id", "string", 2, True),
    _f("srcaddr", "string", 2, True),
    _f("dstaddr", "string", 2, True),
    _f("srcport", "int32", 2, True),
    _f("dstport", "int32", 2, True),
    _f("protocol", "int32", 2, True),
    _f("packets", "int64", 2, True),
    _f("bytes", "int64", 2, True),
    _f("start", "int64", 2, True),
    _f("end", "int64", 2, True),
    _f("action", "string", 2, True),
    _f("log_status", "string", 2, True),
    _f("vpc_id", "string", 3),
    _f("subnet_id", "string", 3),
    _f("instance_id", "string", 3),
    _f("tcp_flags", "int32", 3),
    _f("type", "string", 3),
    _f("pkt_srcaddr", "string", 3),
    _f("pkt_dstaddr", "string", 3),
    _f("region", "string", 4),
    _f("az_id", "string", 4),
    _f("sublocation_type", "string", 4),
    _f("sublocation_id", "string", 4),
    _f("pkt_src_aws_service", "string", 5),
    _f("pkt_dst_aws_service", "string", 5),
    _f("flow_direction", "string", 5),
    _f("traffic_path", "int32", 5),
    _f("ecs_cluster_arn", "string", 7),
    _f("ecs_cluster_name", "string", 7),
    _f("ecs_container_instance_arn", "string", 7),
    _f("ecs_container_instance_id", "string", 7),
    _f("ecs_container_id", "string", 7),
    _f("ecs_second_container_id", "string", 7),
    _f("ecs_service_name", "string", 7),
    _f("ecs_task_definition_arn", "string", 7),
    _f("ecs_task_arn", "string", 7),
    _f("ecs_task_id", "string", 7),
    _f("reject_reason", "string", 8),
    # Version 9: the regional NAT gateway a record passed through.
    _f("resource_id", "string", 9),
    # Version 10 (VPC encryption controls): 0 cleartext, 1 encrypted by Nitro, 2 by the
    # application (TLS), 3 both; '-' when the VPC has no encryption controls.
    _f("encryption_status", "int32", 10),
    # Version 11: tags of the instance, interface and Auto Scaling group (percent-encoded),
    # the interface's type, and the next hop the traffic was sent to.
    _f("instance_tag", "string", 11),
    _f("instance_tag_2", "string", 11),
    _f("interface_tag", "string", 11),
    _f("interface_tag_2", "string", 11),
    _f("asg_tag", "string", 11),
    _f("asg_tag_2", "string", 11),
    _f("interface_type", "string", 11),
    _f("next_hop_interface_id", "string", 11),
    _f("next_hop_subnet_id", "string", 11),
    _f("next_hop_az_id", "string", 11),
    _f("next_hop_vpc_id", "string", 11),
    _f("next_hop_interface_type", "string", 11),
)

# Fields only Transit Gateway flow logs have: an object (or Parquet file) with any of them
# is a Transit Gateway flow log, not a VPC one. Its records have no interface or action.
# AWS: https://docs.aws.amazon.com/vpc/latest/tgw/tgw-flow-logs.html (Available fields).
TRANSIT_GATEWAY_ONLY: frozenset[str] = frozenset(
    {
        "resource-type",
        "tgw-id",
        "tgw-attachment-id",
        "tgw-src-vpc-account-id",
        "tgw-dst-vpc-account-id",
        "tgw-src-vpc-id",
        "tgw-dst-vpc-id",
        "tgw-src-subnet-id",
        "tgw-dst-subnet-id",
        "tgw-src-eni",
        "tgw-dst-eni",
        "tgw-src-az-id",
        "tgw-dst-az-id",
        "tgw-pair-attachment-id",
        "packets-lost-no-route",
        "packets-lost-blackhole",
        "packets-lost-mtu-exceeded",
        "packets-lost-ttl-expired",
    }
)

FIELD_BY_NAME: dict[str, FlowField] = {f.name: f for f in FIELDS}
FIELD_BY_TEXT_NAME: dict[str, FlowField] = {f.text_name: f for f in FIELDS}
DEFAULT_FORMAT: tuple[str, ...] = tuple(f.name for f in FIELDS if f.version == 2)

# The canonical record schema (every field, in table order). Readers always produce this.
ARROW_SCHEMA: pa.Schema = pa.schema([pa.field(f.name, f.arrow_type) for f in FIELDS])

# tcp-flags bits as flow logs report them (OR-ed over the interval). ACK is reported only
# together with SYN, so SYN-ACK is 18; SYN without ACK marks the initiator.
TCP_FIN = 1
TCP_SYN = 2
TCP_RST = 4
TCP_SYN_ACK = 18


def parse_field_list(text: str) -> tuple[str, ...]:
    """Field names from ``--fields``: ``version account-id ...`` or AWS's log format string
    ``${version} ${account-id} ...`` (as ``describe-flow-logs`` prints it). Names are
    returned hyphenated; unknown names are kept (their column is carried, not read).

    Raises ValueError with what is wrong.
    """
    names: list[str] = []
    for token in text.replace(",", " ").split():
        name = token
        if name.startswith("${") and name.endswith("}"):
            name = name[2:-1]
        name = name.strip().replace("_", "-").lower()
        if not name or not all(ch.isalnum() or ch == "-" for ch in name) or name[0] == "-":
            raise ValueError(
                f"expected field names such as version or ${{srcaddr}}, found {token!r}"
            )
        if name in names:
            raise ValueError(f"each field once, found {name!r} twice")
        names.append(name)
    if not names:
        raise ValueError("expected at least one field name, found none")
    return tuple(names)
