"""Checking Parquet objects up front, and mapping their columns onto the canonical record.

Every Parquet object's magic bytes and footer are read before any query runs (a footer
is a few KB, so this is cheap even for thousands of objects). That turns a corrupt or
truncated object into an error that names it, and gives each object's exact columns:
objects with the same columns are scanned by one ``read_parquet`` whose select list
casts them to the canonical types and fills the fields they lack with NULL. Grouping by
schema does what ``union_by_name`` would, without DuckDB re-reading every footer at bind
time, and lets an object use hyphenated names (``log-status``) or integer widths other
than AWS's. Extra, unknown columns are never selected.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.errors import FlowLogFormatError, Location, excerpt
from zt_flows.schema import FIELD_BY_NAME, FIELDS, TRANSIT_GATEWAY_ONLY
from zt_flows.sources.sql import identifier

MAGIC = b"PAR1"


@dataclass(frozen=True)
class ParquetColumns:
    """The canonical fields an object holds: (canonical name, physical name) pairs."""

    columns: tuple[tuple[str, str], ...]
    rows: int
    unknown: tuple[str, ...] = ()  # columns that are no flow-log field ztflows knows
    transit_gateway: bool = False  # Transit Gateway flow-log columns (tgw_id, resource_type)
    # (canonical name, physical type) of the integer columns, for the value checks.
    integer_types: tuple[tuple[str, str], ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    def select_list(self) -> str:
        """Canonical columns in schema order, cast to their types; NULL where missing."""
        physical = dict(self.columns)
        parts = []
        for field in FIELDS:
            if field.name in physical:
                source = identifier(physical[field.name])
                parts.append(f"CAST({source} AS {field.duckdb_type}) AS {identifier(field.name)}")
            else:
                parts.append(f"CAST(NULL AS {field.duckdb_type}) AS {identifier(field.name)}")
        return ", ".join(parts)


# The canonical Parquet schema: what converted text objects and `ingest --out` hold.
CANONICAL = ParquetColumns(tuple((f.name, f.name) for f in FIELDS), rows=0)


def inspect_parquet(path: Path, uri: str) -> ParquetColumns:
    """Check ``path`` is a readable Parquet file of flow-log columns, and map its columns.

    Raises :class:`FlowLogFormatError` naming ``uri`` otherwise.
    """
    try:
        metadata = pq.read_metadata(path)
        schema = metadata.schema.to_arrow_schema()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _unreadable(path, uri, exc) from None
    known = _MAPPED.get(schema)
    if known is not None:
        return replace(known, rows=metadata.num_rows)
    mapped = map_columns(schema, uri, metadata.num_rows)
    if len(_MAPPED) > _MAPPED_MAX:
        _MAPPED.clear()
    _MAPPED[schema] = mapped
    return mapped


# Objects of one flow log share a schema: map each distinct schema once.
_MAPPED: dict[pa.Schema, ParquetColumns] = {}
_MAPPED_MAX = 1024


def _unreadable(path: Path, uri: str, exc: Exception) -> FlowLogFormatError:
    """Why a Parquet footer could not be read: missing magic bytes, or a broken footer."""
    where = Location(uri)
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(4)
        if size >= 8:
            handle.seek(size - 4)
        tail = handle.read(4) if size >= 8 else b""
    if size < 12:
        found = f"a file of {size} bytes"
    elif head != MAGIC:
        found = "no magic bytes at the start (not a Parquet file)"
    elif tail != MAGIC:
        found = "no magic bytes at the end (a truncated or corrupt object)"
    else:
        return FlowLogFormatError(where, "a readable Parquet footer", excerpt(exc, 80))
    return FlowLogFormatError(where, "a Parquet file (magic bytes 'PAR1' at both ends)", found)


def map_columns(schema: pa.Schema, uri: str, rows: int) -> ParquetColumns:
    """Match an object's columns to canonical fields by name (``_`` or ``-``, any case)."""
    found: dict[str, str] = {}
    unknown: list[str] = []
    integers: list[tuple[str, str]] = []
    transit_gateway = False
    for column in schema:
        name = column.name.lower().replace("-", "_")
        field = FIELD_BY_NAME.get(name)
        if name.replace("_", "-") in TRANSIT_GATEWAY_ONLY:
            transit_gateway = True
        if field is None:
            unknown.append(column.name)  # tolerated and reported, never selected
            continue
        if name in found:
            raise FlowLogFormatError(
                Location(uri, column=column.name),
                f"each flow-log field once (as {name})",
                f"both {found[name]!r} and {column.name!r}",
            )
        kind = _kind(column.type)
        wanted = "integer" if field.type in ("int32", "int64") else "string"
        if kind not in (wanted, "null"):
            raise FlowLogFormatError(
                Location(uri, column=column.name),
                f"an {wanted} column" if wanted == "integer" else "a string column",
                excerpt(column.type),
            )
        found[name] = column.name
        if kind == "integer":
            integers.append((name, _integer_type(column.type)))
    if not found and not transit_gateway:
        raise FlowLogFormatError(
            Location(uri),
            "flow-log columns (version, srcaddr, dstaddr, ... log_status)",
            "columns " + excerpt(", ".join(schema.names), 60),
        )
    ordered = tuple((f.name, found[f.name]) for f in FIELDS if f.name in found)
    return ParquetColumns(ordered, rows, tuple(unknown), transit_gateway, tuple(integers))


def _integer_type(data_type: pa.DataType) -> str:
    if pa.types.is_dictionary(data_type):
        return _integer_type(data_type.value_type)
    return str(data_type)


def _kind(data_type: pa.DataType) -> str:
    if pa.types.is_dictionary(data_type):
        return _kind(data_type.value_type)
    if pa.types.is_null(data_type):
        return "null"  # a column with no values at all: NULL in any type
    if pa.types.is_integer(data_type):
        return "integer"
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return "string"
    if pa.types.is_binary(data_type) or pa.types.is_large_binary(data_type):
        return "string"  # BYTE_ARRAY without a UTF8 annotation; read with binary_as_string
    if hasattr(pa.types, "is_string_view") and pa.types.is_string_view(data_type):
        return "string"
    return str(data_type)
