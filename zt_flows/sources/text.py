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

import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zt_flows.errors import FlowLogFormatError, Location
from zt_flows.schema import DEFAULT_FORMAT, FlowField
from zt_flows.sources.cache import atomic_path
from zt_flows.sources.textlines import (
    CONVERTER_VERSION,
    META_PREFIX,
    BadLine,
    CanonicalWriter,
    ConversionFacts,
    TextFormat,
    canonical_table,
    count_lines,
    exact_convert,
    read_format,
)
from zt_flows.sources.values import (
    ADDRESS_FIELDS,
    ADDRESS_PATTERN,
    NUL_CHECKED,
    TRANSIT_GATEWAY_ACCOUNT,
)

__all__ = [
    "CONVERTER_VERSION",
    "DEFAULT_TEXT_FIELDS",
    "Conversion",
    "TextFields",
    "convert_text",
    "load_conversion",
]

_BLOCK_SIZE = 8 << 20
# Value ranges beyond the column type: ports and protocol numbers, and nothing negative.
_MAXIMUM: dict[str, int] = {"srcport": 65535, "dstport": 65535, "protocol": 255}
DEFAULT_TEXT_FIELDS: tuple[str, ...] = tuple(n.replace("_", "-") for n in DEFAULT_FORMAT)


@dataclass(frozen=True)
class TextFields:
    """The fields of text objects without a header line (``--fields``; AWS's default)."""

    names: tuple[str, ...] = DEFAULT_TEXT_FIELDS

    @property
    def described(self) -> str:
        if self.names == DEFAULT_TEXT_FIELDS:
            return "the version-2 default format (no header line; see --fields)"
        return "--fields (no header line)"


@dataclass(frozen=True)
class Conversion:
    """A text object as canonical Parquet, with what the conversion found."""

    path: Path
    facts: ConversionFacts
    converted: bool  # False: reused from the cache

    @property
    def fields(self) -> tuple[str, ...]:
        return self.facts.fields

    @property
    def records(self) -> int:
        return self.facts.records

    @property
    def bad_lines(self) -> int:
        return self.facts.bad_lines

    @property
    def first_bad(self) -> BadLine | None:
        return self.facts.first_bad

    def line_error(self, uri: str) -> FlowLogFormatError | None:
        bad = self.first_bad
        if bad is None:
            return None
        return FlowLogFormatError(
            Location(uri, bad.line, bad.column),
            bad.expected,
            bad.found,
            hint="--on-error skip leaves bad lines out and counts them",
        )


def load_conversion(target: Path) -> Conversion | None:
    """A finished conversion at ``target`` from an earlier run, or None."""
    try:
        meta = pq.read_metadata(target).metadata or {}
    except (OSError, pa.ArrowException):
        return None
    info = {k.decode(): v.decode() for k, v in meta.items() if k.startswith(META_PREFIX.encode())}
    if info.get(META_PREFIX + "converter") != CONVERTER_VERSION:
        return None
    return Conversion(target, ConversionFacts.from_metadata(info), converted=False)


def convert_text(
    source: Path,
    uri: str,
    target: Path,
    *,
    compressed: bool,
    fields: TextFields | None = None,
) -> Conversion:
    """Convert the text object at ``source`` (named ``uri`` in messages) into ``target``.

    A Transit Gateway flow log is not converted: ``target`` then holds no records and its
    facts count the object's records as ``transit_gateway``.
    """
    given = fields or TextFields()
    fmt = read_format(
        source, uri, compressed=compressed, fields=given.names, fields_from=given.described
    )
    with atomic_path(target) as tmp:
        if fmt.transit_gateway:
            records = count_lines(source, uri, compressed=compressed) - (1 if fmt.header else 0)
            facts = ConversionFacts(
                tuple(f.name for f in fmt.known), fmt.unknown, 0, 0, None, records, True
            )
            with CanonicalWriter(tmp) as writer:
                writer.describe(facts)
        else:
            try:
                facts = _fast_convert(source, tmp, fmt, compressed=compressed)
            except _Irregular:
                facts = exact_convert(source, uri, tmp, fmt, compressed=compressed)
    return Conversion(target, facts, converted=True)


# --------------------------------------------------------------------------- fast path


class _Irregular(Exception):
    """The fast path met something it does not handle; the exact path takes over."""


def _fast_convert(source: Path, tmp: Path, fmt: TextFormat, *, compressed: bool) -> ConversionFacts:
    names = ["_time"] if fmt.time_prefix else []
    names += [c.field.name if c.field else f"_unknown_{i}" for i, c in enumerate(fmt.columns)]
    known = fmt.known

    def irregular(_row: pacsv.InvalidRow) -> Literal["skip", "error"]:
        return "error"  # raises ArrowInvalid: the exact path will say which line

    if compressed:
        stream = pa.input_stream(str(source), compression="gzip")
    else:
        stream = pa.input_stream(str(source))
    try:
        reader = pacsv.open_csv(
            cast(Any, stream),
            read_options=pacsv.ReadOptions(
                column_names=names, skip_rows=1 if fmt.header else 0, block_size=_BLOCK_SIZE
            ),
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
                include_columns=[f.name for f in known],
                null_values=["-"],
                strings_can_be_null=True,
                check_utf8=True,
            ),
        )
        with CanonicalWriter(tmp) as writer:
            for batch in reader:
                writer.add(_cast_batch(batch, known, fmt))
            facts = ConversionFacts(
                tuple(f.name for f in known), fmt.unknown, writer.rows, 0, None, 0
            )
            writer.describe(facts)
        return facts
    except (pa.ArrowException, OSError, ValueError, EOFError, zlib.error) as exc:
        raise _Irregular from exc
    finally:
        stream.close()


def _cast_batch(batch: pa.RecordBatch, known: tuple[FlowField, ...], fmt: TextFormat) -> pa.Table:
    """Cast whole columns, and give up (:class:`_Irregular`) on any value the rules reject."""
    rows = batch.num_rows
    arrays: dict[str, Any] = {}
    for field in known:
        column: Any = batch.column(field.name)
        if rows and column.null_count < rows:
            # An empty string comes only from an empty line or a run of spaces.
            if pc.min(pc.binary_length(column)).as_py() == 0:
                raise _Irregular
            nul = field.name in NUL_CHECKED
            if nul and pc.any(pc.match_substring(column, "\x00")).as_py():
                raise _Irregular
        if field.type == "string":
            addresses = field.name in ADDRESS_FIELDS and rows and column.null_count < rows
            if addresses and not pc.all(pc.match_substring_regex(column, ADDRESS_PATTERN)).as_py():
                raise _Irregular
            arrays[field.name] = column
            continue
        values = pc.cast(column, field.arrow_type)  # raises on a non-integer or overflow
        if rows and values.null_count < rows:
            bounds = pc.min_max(values)
            if bounds["min"].as_py() < 0 or bounds["max"].as_py() > _MAXIMUM.get(field.name, 2**63):
                raise _Irregular
        arrays[field.name] = values
    if rows:
        _check_records(arrays, fmt)
    return canonical_table(arrays, rows)


def _check_records(arrays: dict[str, Any], fmt: TextFormat) -> None:
    """Whole-record rules, vectorised; any violation sends the object to the exact path."""
    start, end = arrays.get("start"), arrays.get("end")
    if start is not None and end is not None and pc.any(pc.greater(start, end)).as_py():
        raise _Irregular
    account = arrays.get("account_id")
    if (
        account is not None
        and pc.any(pc.equal(account, pa.scalar(TRANSIT_GATEWAY_ACCOUNT))).as_py()
    ):
        raise _Irregular
    status = arrays.get("log_status")
    src, dst = arrays.get("srcaddr"), arrays.get("dstaddr")
    flows = (
        None
        if status is None
        else pc.or_kleene(pc.is_null(status), pc.equal(status, pa.scalar("OK")))
    )
    if src is None or dst is None:
        # The format has no address field: every flow in it lacks one.
        if flows is None or pc.any(flows).as_py():
            raise _Irregular
        return
    missing = pc.or_(pc.is_null(src), pc.is_null(dst))
    if flows is not None:
        missing = pc.and_(missing, flows)
    if pc.any(missing).as_py():
        raise _Irregular
