"""Text flow logs line by line: the object's format, and the exact conversion path.

This is the path that knows every line's number. :mod:`zt_flows.sources.text` tries a
fast columnar conversion first and falls back to :func:`exact_convert` when an object
is irregular; both write canonical Parquet through :class:`CanonicalWriter`.

What a text object's first line says (:func:`read_format`):

- a header of field names (objects AWS delivers to S3): the fields, in order. A name
  ztflows does not know is carried as an unknown column, reported, and not kept;
- an ISO time then a record (a CloudWatch Logs export: ``<time> <message>`` on every
  line, no header): the fields come from ``--fields``;
- a record (CloudWatch Logs messages saved to a file): the fields come from ``--fields``,
  by default the version-2 default format.

Transit Gateway flow logs (``resource-type``, ``tgw-*`` fields) are recognised and not
read as VPC flows.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.errors import FlowLogFormatError, Location, excerpt
from zt_flows.schema import (
    ARROW_SCHEMA,
    FIELD_BY_NAME,
    FIELD_BY_TEXT_NAME,
    FIELDS,
    TRANSIT_GATEWAY_ONLY,
    FlowField,
)
from zt_flows.sources.values import (
    ADDRESS_EXPECTED,
    ADDRESS_FIELDS,
    NUL_CHECKED,
    NUL_EXPECTED,
    TRANSIT_GATEWAY_ACCOUNT,
    is_address,
    value_check,
)

# Bump when the output of a conversion changes: older cache entries are then ignored.
CONVERTER_VERSION = "2"
META_PREFIX = "ztflows."
ROW_GROUP_ROWS = 256 * 1024
_MAX_HEADER_BYTES = 64 * 1024
# A CloudWatch Logs export line starts with the event's time: 2026-11-16T00:00:01.000Z.
_EXPORT_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")
# A header token: a lower-case field name with hyphens (or underscores).
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")


@dataclass(frozen=True)
class BadLine:
    line: int
    column: str | None
    expected: str
    found: str


@dataclass(frozen=True)
class TextColumn:
    """One space-separated column of a text object: its name, and the field if known."""

    name: str  # as the header (or --fields) names it, hyphenated
    field: FlowField | None


@dataclass(frozen=True)
class TextFormat:
    """How a text object's lines are laid out."""

    columns: tuple[TextColumn, ...]
    header: bool  # the first line names the fields
    time_prefix: bool  # every line starts with an ISO time (CloudWatch Logs export)
    fields_from: str  # where the field list came from, for messages

    @property
    def known(self) -> tuple[FlowField, ...]:
        return tuple(c.field for c in self.columns if c.field is not None)

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.field is None)

    @property
    def transit_gateway(self) -> bool:
        """Transit Gateway flow logs: fields only those have (``resource-type``, ``tgw-id``)."""
        return any(c.name in TRANSIT_GATEWAY_ONLY for c in self.columns)

    @property
    def width(self) -> int:
        """Tokens on a record line."""
        return len(self.columns) + (1 if self.time_prefix else 0)


def columns_of(names: tuple[str, ...]) -> tuple[TextColumn, ...]:
    """Text columns for hyphenated (or underscored) field names, known or not."""
    return tuple(TextColumn(n, FIELD_BY_TEXT_NAME.get(n) or FIELD_BY_NAME.get(n)) for n in names)


def read_format(
    source: Path, uri: str, *, compressed: bool, fields: tuple[str, ...], fields_from: str
) -> TextFormat:
    """The layout of a text object, from its first line; ``fields`` when it has no header."""
    with open_text(source, uri, compressed=compressed) as stream:
        first = read_first_line(stream, uri)
    tokens = first.split()
    if not tokens:
        raise FlowLogFormatError(
            Location(uri, 1),
            "a header line of field names (version account-id ...) or a record",
            "an empty line",
        )
    if first.lstrip().startswith(("{", "[")):
        raise FlowLogFormatError(
            Location(uri, 1),
            "flow-log records as lines of space-separated fields",
            "a JSON document (a log subscription's output?), not a flow log",
        )
    if _EXPORT_TIME.match(tokens[0]):
        return TextFormat(columns_of(fields), False, True, fields_from)
    if not _is_header(tokens):
        return TextFormat(columns_of(fields), False, False, fields_from)
    seen: set[str] = set()
    for token in tokens:
        name = token.replace("_", "-")
        if name in seen:
            raise FlowLogFormatError(
                Location(uri, 1, token), "each field once in the header", f"{token!r} twice"
            )
        seen.add(name)
    return TextFormat(columns_of(tuple(tokens)), True, False, "the header")


def _is_header(tokens: list[str]) -> bool:
    """Field names, at least one of them known: not a record (records hold numbers, ids)."""
    if not all(_NAME.match(t) for t in tokens):
        return False
    return any(
        t in FIELD_BY_TEXT_NAME or t in FIELD_BY_NAME or t in TRANSIT_GATEWAY_ONLY for t in tokens
    )


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
        raise FlowLogFormatError(
            Location(uri), "a header line of field names or records", "an empty object"
        )
    if not raw.endswith(b"\n") and len(raw) >= _MAX_HEADER_BYTES:
        raise FlowLogFormatError(
            Location(uri, 1),
            "a header line of field names or a record",
            f"a line over {_MAX_HEADER_BYTES} bytes",
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FlowLogFormatError(
            Location(uri, 1), "a header line of field names", "bytes that are not UTF-8 text"
        ) from None


def count_lines(source: Path, uri: str, *, compressed: bool) -> int:
    """Non-empty lines of an object (a Transit Gateway object is counted, not read)."""
    lines = 0
    with open_text(source, uri, compressed=compressed) as stream:
        try:
            for raw in stream:
                lines += 1 if raw.strip() else 0
        except (EOFError, OSError, zlib.error):
            raise truncated_error(uri, lines + 1) from None
    return lines


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


@dataclass(frozen=True)
class ConversionFacts:
    """What a conversion found, kept in the converted file's metadata."""

    fields: tuple[str, ...]  # canonical names of the known fields, in the object's order
    unknown: tuple[str, ...]  # header names ztflows does not know (not kept)
    records: int  # records written
    bad_lines: int
    first_bad: BadLine | None
    transit_gateway: int = 0  # Transit Gateway records (whole object, or lines) not read
    transit_gateway_format: bool = False  # the object is a Transit Gateway flow log

    def metadata(self) -> dict[str, str]:
        return {
            META_PREFIX + "converter": CONVERTER_VERSION,
            META_PREFIX + "fields": json.dumps(list(self.fields)),
            META_PREFIX + "unknown": json.dumps(list(self.unknown)),
            META_PREFIX + "records": str(self.records),
            META_PREFIX + "bad_lines": str(self.bad_lines),
            META_PREFIX + "first_bad": json.dumps(
                self.first_bad.__dict__ if self.first_bad else None
            ),
            META_PREFIX + "transit_gateway": str(self.transit_gateway),
            META_PREFIX + "transit_gateway_format": "1" if self.transit_gateway_format else "0",
        }

    @classmethod
    def from_metadata(cls, info: dict[str, str]) -> ConversionFacts:
        first = json.loads(info.get(META_PREFIX + "first_bad", "null"))
        return cls(
            fields=tuple(json.loads(info[META_PREFIX + "fields"])),
            unknown=tuple(json.loads(info.get(META_PREFIX + "unknown", "[]"))),
            records=int(info[META_PREFIX + "records"]),
            bad_lines=int(info[META_PREFIX + "bad_lines"]),
            first_bad=BadLine(**first) if first else None,
            transit_gateway=int(info.get(META_PREFIX + "transit_gateway", "0")),
            transit_gateway_format=info.get(META_PREFIX + "transit_gateway_format") == "1",
        )


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

    def describe(self, facts: ConversionFacts) -> None:
        self.metadata = facts.metadata()


# --------------------------------------------------------------------------- exact path


@dataclass
class _Lines:
    """The state of an exact conversion: values so far, and what was skipped."""

    fmt: TextFormat
    columns: list[list[object]]
    header_line: str | None
    bad_count: int = 0
    first_bad: BadLine | None = None
    transit_gateway: int = 0

    def bad(self, line: BadLine) -> None:
        self.bad_count += 1
        self.first_bad = self.first_bad or line


def exact_convert(
    source: Path, uri: str, tmp: Path, fmt: TextFormat, *, compressed: bool
) -> ConversionFacts:
    known = fmt.known
    state = _Lines(fmt, [[] for _ in known], None)
    with CanonicalWriter(tmp) as writer:

        def flush() -> None:
            arrays = {
                f.name: pa.array(values, type=f.arrow_type)
                for f, values in zip(known, state.columns, strict=True)
            }
            writer.add(canonical_table(arrays, len(state.columns[0]) if known else 0))
            for values in state.columns:
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
                if line == 1 and fmt.header:
                    state.header_line = raw.strip().decode("utf-8", "replace")
                    continue
                _parse_line(raw, line, state)
                if known and len(state.columns[0]) >= ROW_GROUP_ROWS:
                    flush()
        if known:
            flush()
        facts = ConversionFacts(
            fields=tuple(f.name for f in known),
            unknown=fmt.unknown,
            records=writer.rows,
            bad_lines=state.bad_count,
            first_bad=state.first_bad,
            transit_gateway=state.transit_gateway,
        )
        writer.describe(facts)
    return facts


def _parse_line(raw: bytes, line: int, state: _Lines) -> None:
    """Append the line's values to the state's columns, or record what is wrong with it."""
    fmt = state.fmt
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        state.bad(BadLine(line, None, "UTF-8 text", "bytes that are not UTF-8"))
        return
    tokens = text.split()
    if not tokens:
        return  # an empty line holds no record
    if state.header_line is not None and text.strip() == state.header_line:
        return  # the header again: objects concatenated into one file
    if fmt.time_prefix:
        if not _EXPORT_TIME.match(tokens[0]):
            state.bad(BadLine(line, None, "an ISO time before the record", excerpt(tokens[0])))
            return
        tokens = tokens[1:]
    if len(tokens) != len(fmt.columns):
        state.bad(
            BadLine(
                line,
                None,
                f"{len(fmt.columns)} space-separated fields, as {fmt.fields_from} names",
                f"{len(tokens)} fields",
            )
        )
        return
    values: list[object] = []
    found: dict[str, object] = {}
    for column, word in zip(fmt.columns, tokens, strict=True):
        field = column.field
        if field is None:
            continue
        if word == "-":
            values.append(None)
            found[field.name] = None
            continue
        check = value_check(field)
        if check is None:
            if field.name in NUL_CHECKED and "\x00" in word:
                state.bad(BadLine(line, column.name, NUL_EXPECTED, "a NUL byte in the value"))
                return
            if field.name in ADDRESS_FIELDS and not is_address(word):
                state.bad(BadLine(line, column.name, ADDRESS_EXPECTED, excerpt(word)))
                return
            value: object = word
        elif word.isascii() and word.isdigit() and int(word) <= check[0]:
            value = int(word)
        else:
            state.bad(BadLine(line, column.name, check[1], excerpt(word)))
            return
        values.append(value)
        found[field.name] = value
    if found.get("account_id") == TRANSIT_GATEWAY_ACCOUNT:
        state.transit_gateway += 1
        return
    problem = record_problem(found, fmt)
    if problem is not None:
        column_name, expected, what = problem
        state.bad(BadLine(line, column_name, expected, what))
        return
    for column_values, value in zip(state.columns, values, strict=True):
        column_values.append(value)


def record_problem(values: dict[str, object], fmt: TextFormat) -> tuple[str, str, str] | None:
    """Whole-record rules (a flow's addresses, start before end) for one parsed line."""
    names = {c.field.name for c in fmt.columns if c.field is not None}
    start, end = values.get("start"), values.get("end")
    if isinstance(start, int) and isinstance(end, int) and start > end:
        return "start", "a start no later than the end", f"start {start} after end {end}"
    status = values.get("log_status")
    if status is None or status == "OK":
        for name in ("srcaddr", "dstaddr"):
            if values.get(name) is None:
                found = "'-'" if name in names else f"no {name} field in the format"
                return name.replace("_", "-"), "an address (the record is a flow)", found
    return None
