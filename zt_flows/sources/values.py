"""What a valid value of each field is: one definition for every reading path.

Text objects are checked while they are converted (whole columns with pyarrow compute on
the fast path, line by line on the exact path); Parquet objects by one DuckDB scan
(:mod:`zt_flows.sources.checks`). All three use the rules here, so an object is judged
the same whichever way it is read:

- ports 0-65535, protocol 0-255, every other integer non-negative and within its
  Parquet type (INT32 or INT64: an unsigned column holding more does not fit);
- addresses (``srcaddr``, ``dstaddr``, ``pkt-srcaddr``, ``pkt-dstaddr``) are IPv4 or
  IPv6 addresses, checked by :data:`ADDRESS_PATTERN` (RE2 and Python ``re`` alike);
- ``start`` is no later than ``end``;
- no NUL byte in the values later stages use (:data:`NUL_CHECKED`: ids, action, status,
  services; the addresses' pattern excludes it too);
- a flow (``log-status`` OK or missing) has both addresses: without them it could only
  become a conversation with no client or no server.

A record whose ``account-id`` is ``TransitGateway`` is a Transit Gateway record inside a
VPC stream; it is counted and left out, never an error.
"""

from __future__ import annotations

import re

from zt_flows.schema import FlowField

TRANSIT_GATEWAY_ACCOUNT = "TransitGateway"
ADDRESS_FIELDS: frozenset[str] = frozenset({"srcaddr", "dstaddr", "pkt_srcaddr", "pkt_dstaddr"})
ADDRESS_EXPECTED = "an IPv4 or IPv6 address or '-'"
NUL_EXPECTED = "text without NUL bytes"

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_PATTERN = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H = r"[0-9A-Fa-f]{1,4}"
# RFC 4291 section 2.2 text forms: full, compressed ("::"), and with an embedded IPv4.
IPV6_PATTERN = (
    rf"(?:(?:{_H}:){{7}}{_H}"
    rf"|(?:{_H}:){{1,7}}:"
    rf"|(?:{_H}:){{1,6}}:{_H}"
    rf"|(?:{_H}:){{1,5}}(?::{_H}){{1,2}}"
    rf"|(?:{_H}:){{1,4}}(?::{_H}){{1,3}}"
    rf"|(?:{_H}:){{1,3}}(?::{_H}){{1,4}}"
    rf"|(?:{_H}:){{1,2}}(?::{_H}){{1,5}}"
    rf"|{_H}:(?::{_H}){{1,6}}"
    rf"|:(?:(?::{_H}){{1,7}}|:)"
    rf"|(?:{_H}:){{6}}{IPV4_PATTERN}"
    rf"|::(?:[Ff]{{4}}(?::0{{1,4}})?:)?{IPV4_PATTERN}"
    rf"|(?:{_H}:){{1,5}}:{IPV4_PATTERN})"
)
ADDRESS_PATTERN = rf"^(?:{IPV4_PATTERN}|{IPV6_PATTERN})$"
_ADDRESS = re.compile(ADDRESS_PATTERN)

# String fields that reach the plan, the reports and the Terraform: a NUL byte in them
# would be cut or rendered wrongly there. Fields only carried to `ingest --out` (ECS
# metadata, tags, next hops) are not scanned for it: Parquet keeps a NUL as it is.
NUL_CHECKED: frozenset[str] = frozenset(
    {
        "account_id",
        "interface_id",
        "action",
        "log_status",
        "vpc_id",
        "subnet_id",
        "instance_id",
        "type",
        "region",
        "az_id",
        "pkt_src_aws_service",
        "pkt_dst_aws_service",
        "flow_direction",
    }
)

_TYPE_MAXIMUM = {"int32": 2**31 - 1, "int64": 2**63 - 1}


def is_address(text: str) -> bool:
    return _ADDRESS.match(text) is not None


def value_check(field: FlowField) -> tuple[int, str] | None:
    """For an integer field, (the largest valid value, what a valid value is); else None."""
    if field.type == "string":
        return None
    if field.name in ("srcport", "dstport"):
        return 65535, "a port number 0-65535 or '-'"
    if field.name == "protocol":
        return 255, "an IANA protocol number 0-255 or '-'"
    maximum = _TYPE_MAXIMUM[field.type]
    return maximum, f"a non-negative integer up to {maximum} or '-'"
