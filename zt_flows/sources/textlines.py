"""Text flow logs line by line: opening, the header, and the exact conversion path.

This is the path that knows every line's number. :mod:`zt_flows.sources.text` tries a
fast columnar conversion first and falls back to :func:`exact_convert` when an object
is irregular; both write canonical Parquet through :class:`CanonicalWriter`.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.errors import FlowLogFormatError, Location, excerpt
from zt_flows.schema import ARROW_SCHEMA, FIELD_BY_NAME, FIELD_BY_TEXT_NAME, FIELDS, FlowField

# Bump when the output of a conversion changes: older cache entries are then ignored.
CONVERTER_VERSION = "1"
META_PREFIX = "ztflows."
ROW_GROUP_ROWS = 256 * 1024
_MAX_HEADER_BYTES = 64 * 1024
_TYPE_MAXIMUM = {"int32": 2**31 - 1, "int64": 2**63 - 1}


@dataclass(frozen=True)
class BadLine:
    line: int
    column: str | None
    expected: str
    found: str


def read_header(source: Path, uri: str, *, compressed: bool) -> tuple[FlowField, ...]:
    """The fields a text object's header line names, in order."""
    with open_text(source, uri, compressed=compressed) as stream:
        first = read_first_line(stream, uri)
    tokens = first.split()
    if not tokens:
        raise FlowLogFormatError(
            Location(uri, 1),
            "a header line of field names (version account-id ...)",
            "an empty line",
        )
    if tokens[0][:1].isdigit():
        raise FlowLogFormatError(
            Location(uri, 1),
            "a header line of field names (version account-id ...)",
            "a record where the header line should be",
        )
    fields: list[FlowField] = []
    for token in tokens:
        field = FIELD_BY_TEXT_NAME.get(token) or FIELD_BY_NAME.get(token)
        if field is None:
            raise FlowLogFormatError(
                Location(uri, 1, token),
                "a field name of flow-log versions 2-8 (version, srcaddr, log-status, ...)",
                excerpt(token),
            )
        if field in fields:
            raise FlowLogFormatError(
                Location(uri, 1, token), "each field once in the header", f"{token!r} twice"
            )
        fields.append(field)
    return tuple(fields)


@contextmanager
def open_text(source: Path, uri: str, *, compressed: bool) -> Iterator[io.BufferedIOBase]:
    if not compressed:
        with source.open("rb") as handle:
            yield handle
        return
    with source.open("rb") as raw:
        magic = raw.read(2)
    if magic != b"\x1f\x8b":
        if not magic:
            found = "an empty file"
        elif magic == b"PA":
            found = "a Parquet file (name it .parquet)"
        else:
            found = "data that is not gzip-compressed"
        raise FlowLogFormatError(Location(uri), "gzip-compressed text", found)
    with gzip.open(source, "rb") as handle:
        yield handle


def read_first_line(stream: io.BufferedIOBase, uri: str) -> str:
    try:
        raw = stream.readline(_MAX_HEADER_BYTES)
    except (EOFError, OSError, zlib.error):
        raise truncated_error(uri, 1) from None
    if not raw:
        raise FlowLogFormatError(Location(uri), "a header line of field names", "an empty object")
    if not raw.endswith(b"\n") and len(raw) >= _MAX_HEADER_BYTES:
        raise FlowLogFormatError(
            Location(uri, 1),
            "a header line of field names",
            f"a line over {_MAX_HEADER_BYTES} bytes",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FlowLogFormatError(
            Location(uri, 1), "a header line of field names", "bytes that are not UTF-8 text"
        ) from None


def truncated_error(uri: str, line: int) -> FlowLogFormatError:
    return FlowLogFormatError(
        Location(uri, line),
        "a complete gzip stream",
        "compressed data that ends early (a truncated object)",
    )


def canonical_table(arrays: dict[str, pa.Array[Any]], rows: int) -> pa.Table:
    columns = [
        arrays[f.name] if f.name in arrays else pa.nulls(rows, cast(Any, f.arrow_type))
        for f in FIELDS
    ]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


class CanonicalWriter:
    """Canonical Parquet with row groups of a useful size, whatever the batch sizes."""

    def __init__(self, path: Path) -> None:
        self._writer = pq.ParquetWriter(str(path), ARROW_SCHEMA, compression="zstd")
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self.rows = 0
        self.metadata: dict[str, str] = {}

    def add(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self.rows += table.num_rows
        if self._pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=ROW_GROUP_ROWS)
            self._pending, self._pending_rows = [], 0

    def __enter__(self) -> CanonicalWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                self._flush()
                self._writer.add_key_value_metadata(self.metadata)
        finally:
            self._writer.close()

    def describe(
        self, header: tuple[FlowField, ...], bad_lines: int, first_bad: BadLine | None
    ) -> None:
        self.metadata = {
            META_PREFIX + "converter": CONVERTER_VERSION,
            META_PREFIX + "fields": json.dumps([f.name for f in header]),
            META_PREFIX + "records": str(self.rows),
            META_PREFIX + "bad_lines": str(bad_lines),
            META_PREFIX + "first_bad": json.dumps(first_bad.__dict__ if first_bad else None),
        }


# --------------------------------------------------------------------------- exact path

# Per field: None for strings, else (maximum, what a valid value is).
_Check = tuple[int, str] | None


def _value_check(field: FlowField) -> _Check:
    if field.type == "string":
        return None
    if field.name in ("srcport", "dstport"):
        return 65535, "a port number 0-65535 or '-'"
    if field.name == "protocol":
        return 255, "an IANA protocol number 0-255 or '-'"
    return _TYPE_MAXIMUM[field.type], "a non-negative integer or '-'"


def exact_convert(
    source: Path, uri: str, tmp: Path, header: tuple[FlowField, ...], *, compressed: bool
) -> tuple[int, int, BadLine | None]:
    columns: list[list[object]] = [[] for _ in header]
    checks = [_value_check(f) for f in header]
    bad_count = 0
    first_bad: BadLine | None = None
    with CanonicalWriter(tmp) as writer:

        def flush() -> None:
            arrays = {
                f.name: pa.array(values, type=f.arrow_type)
                for f, values in zip(header, columns, strict=True)
            }
            writer.add(canonical_table(arrays, len(columns[0])))
            for values in columns:
                values.clear()

        with open_text(source, uri, compressed=compressed) as stream:
            line = 0
            while True:
                try:
                    raw = stream.readline()
                except (EOFError, OSError, zlib.error):
                    # The lines before the cut are fine, but a cut object is skipped whole.
                    raise truncated_error(uri, line + 1) from None
                if not raw:
                    break
                line += 1
                if line == 1:
                    continue  # the header
                bad = _parse_line(raw, line, header, checks, columns)
                if bad is not None:
                    bad_count += 1
                    first_bad = first_bad or bad
                elif len(columns[0]) >= ROW_GROUP_ROWS:
                    flush()
        flush()
        writer.describe(header, bad_count, first_bad)
    return writer.rows, bad_count, first_bad


def _parse_line(
    raw: bytes,
    line: int,
    header: tuple[FlowField, ...],
    checks: list[_Check],
    columns: list[list[object]],
) -> BadLine | None:
    """Append the line's values to ``columns``, or say what is wrong with it."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadLine(line, None, "UTF-8 text", "bytes that are not UTF-8")
    tokens = text.split()
    if not tokens:
        return None  # an empty line holds no record
    if len(tokens) != len(header):
        return BadLine(
            line,
            None,
            f"{len(header)} space-separated fields, as the header names",
            f"{len(tokens)} fields",
        )
    values: list[object] = []
    for field, check, word in zip(header, checks, tokens, strict=True):
        if word == "-":
            values.append(None)
        elif check is None:
            values.append(word)
        elif word.isascii() and word.isdigit() and int(word) <= check[0]:
            values.append(int(word))
        else:
            return BadLine(line, field.text_name, check[1], excerpt(word))
    for column, value in zip(columns, values, strict=True):
        column.append(value)
    return None
