"""Converting a text flow-log object (gzip or plain) into one canonical Parquet file.

Why convert, once, into the cache: a text object's header says which fields it holds
and in which order (custom formats), and every value is a string to be checked and
cast. Doing that once per object gives exact error attribution (object, line, column)
that a multi-file SQL scan cannot, and every later scan (ingest, conversations, rules,
re-runs) reads fast, typed, columnar Parquet instead of re-parsing gzip text.

Two paths produce the same output. The fast path streams the object through Arrow's
CSV reader (space-delimited, ``-`` as NULL, every column a string) and casts whole
columns. Anything irregular — a line with the wrong number of fields, a value that does
not cast, an empty line, bytes that are not UTF-8, a truncated gzip stream — makes it
give up, and the exact path re-reads the object line by line: it knows every line's
number, tolerates runs of spaces, and records each bad line instead of stopping. Clean
objects (all AWS delivers) never take the slow path.

The bad lines of an object are stored in the converted file's metadata, so a later run
reports them again (``--on-error stop``) or skips them (``skip``) without converting
again. Whole-object problems (truncated gzip, unknown header field) raise at once and
leave nothing in the cache.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zt_flows.errors import FlowLogFormatError, Location
from zt_flows.schema import FlowField
from zt_flows.sources.cache import atomic_path
from zt_flows.sources.textlines import (
    CONVERTER_VERSION,
    META_PREFIX,
    BadLine,
    CanonicalWriter,
    canonical_table,
    exact_convert,
    read_header,
)

__all__ = ["CONVERTER_VERSION", "Conversion", "convert_text", "load_conversion"]

_BLOCK_SIZE = 8 << 20
# Value ranges beyond the column type: ports and protocol numbers, and nothing negative.
_MAXIMUM: dict[str, int] = {"srcport": 65535, "dstport": 65535, "protocol": 255}


@dataclass(frozen=True)
class Conversion:
    """A text object as canonical Parquet, with what the conversion found."""

    path: Path
    fields: tuple[str, ...]  # canonical names, in the header's order
    records: int
    bad_lines: int
    first_bad: BadLine | None
    converted: bool  # False: reused from the cache

    def line_error(self, uri: str) -> FlowLogFormatError | None:
        bad = self.first_bad
        if bad is None:
            return None
        return FlowLogFormatError(Location(uri, bad.line, bad.column), bad.expected, bad.found)


def load_conversion(target: Path) -> Conversion | None:
    """A finished conversion at ``target`` from an earlier run, or None."""
    try:
        meta = pq.read_metadata(target).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    info = {k.decode(): v.decode() for k, v in meta.items() if k.startswith(META_PREFIX.encode())}
    if info.get(META_PREFIX + "converter") != CONVERTER_VERSION:
        return None
    first = json.loads(info.get(META_PREFIX + "first_bad", "null"))
    return Conversion(
        path=target,
        fields=tuple(json.loads(info[META_PREFIX + "fields"])),
        records=int(info[META_PREFIX + "records"]),
        bad_lines=int(info[META_PREFIX + "bad_lines"]),
        first_bad=BadLine(**first) if first else None,
        converted=False,
    )


def convert_text(source: Path, uri: str, target: Path, *, compressed: bool) -> Conversion:
    """Convert the text object at ``source`` (named ``uri`` in messages) into ``target``."""
    header = read_header(source, uri, compressed=compressed)
    with atomic_path(target) as tmp:
        try:
            records = _fast_convert(source, tmp, header, compressed=compressed)
            bad_count, first_bad = 0, None
        except _Irregular:
            records, bad_count, first_bad = exact_convert(
                source, uri, tmp, header, compressed=compressed
            )
    return Conversion(target, tuple(f.name for f in header), records, bad_count, first_bad, True)


# --------------------------------------------------------------------------- fast path


class _Irregular(Exception):
    """The fast path met something it does not handle; the exact path takes over."""


def _fast_convert(
    source: Path, tmp: Path, header: tuple[FlowField, ...], *, compressed: bool
) -> int:
    names = [f.name for f in header]

    def irregular(_row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        return "error"  # raises ArrowInvalid: the exact path will say which line

    if compressed:
        stream = pa.input_stream(str(source), compression="gzip")
    else:
        stream = pa.input_stream(str(source))
    try:
        reader = pacsv.open_csv(
            cast(Any, stream),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=_BLOCK_SIZE),
            parse_options=pacsv.ParseOptions(
                delimiter=" ",
                quote_char=False,
                escape_char=False,
                double_quote=False,
                newlines_in_values=False,
                ignore_empty_lines=False,
                invalid_row_handler=irregular,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=["-"],
                strings_can_be_null=True,
                check_utf8=True,
            ),
        )
        with CanonicalWriter(tmp) as writer:
            for batch in reader:
                writer.add(_cast_batch(batch, header))
            writer.describe(header, 0, None)
        return writer.rows
    except (pa.ArrowException, OSError, ValueError, EOFError, zlib.error) as exc:
        raise _Irregular from exc
    finally:
        stream.close()


def _cast_batch(batch: pa.RecordBatch, header: tuple[FlowField, ...]) -> pa.Table:
    rows = batch.num_rows
    arrays: dict[str, pa.Array[Any]] = {}
    for index, field in enumerate(header):
        column: Any = batch.column(index)
        # An empty string comes only from an empty line or a run of spaces.
        if rows and column.null_count < rows and pc.min(pc.binary_length(column)).as_py() == 0:
            raise _Irregular
        if field.type == "string":
            arrays[field.name] = column
            continue
        values = pc.cast(column, field.arrow_type)  # raises on a non-integer or overflow
        if rows and values.null_count < rows:
            bounds = pc.min_max(values)
            if bounds["min"].as_py() < 0 or bounds["max"].as_py() > _MAXIMUM.get(field.name, 2**63):
                raise _Irregular
        arrays[field.name] = values
    return canonical_table(arrays, rows)
