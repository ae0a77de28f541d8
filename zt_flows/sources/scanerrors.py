"""The one mapping of errors raised while scanning flow records, whichever stage scans.

A DuckDB query over flow-log objects can fail because of the data: a corrupt page the
footer check could not see, a value that does not convert, a file that cannot be read.
Every scan of flow records (the value checks, the summary, ``ingest --out``, the
conversations, the logged interfaces) runs inside :func:`scan_errors`, which turns such
an error into a :class:`~zt_flows.errors.FlowLogFormatError` naming the object (exit 2).
An interrupted query (Ctrl-C) stays an interruption (exit 130): it is re-raised as
``KeyboardInterrupt`` (:func:`interrupted_query` knows both ways DuckDB reports one).
Other errors (a bad query: a bug) pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import duckdb

from zt_flows.errors import FlowLogFormatError, Location, excerpt
from zt_flows.sources.sql import string_literal

_QUOTED = re.compile(r"""["']([^"']+)["']""")
_ERROR_CLASS = re.compile(r"^[A-Za-z ]*Error: ")
# Errors that can come from bad data without naming the file; parser, binder, catalog and
# memory errors are not worth a probe (they are about the query or the machine).
_DATA_ERRORS = (
    duckdb.InvalidInputException,
    duckdb.InternalException,
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.IOException,
)
# Reading every column of an object forces every page to be decoded.
PROBE_SQL = "SELECT max(hash(COLUMNS(*))) FROM read_parquet({path}, binary_as_string = true)"


def interrupted_query(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB saying that Ctrl-C stopped a query.

    ``Connection.interrupt()`` raises :class:`duckdb.InterruptException`; a SIGINT that
    arrives while a query runs on the main thread surfaces as a plain
    ``RuntimeError("Query interrupted")`` (DuckDB 2.0), the KeyboardInterrupt consumed; one
    that arrives while DuckDB calls back into Python (reading an Arrow object's schema)
    surfaces as an ``InvalidInputException`` whose message ends with the KeyboardInterrupt
    that Python raised there.
    """
    if isinstance(exc, duckdb.InterruptException):
        return True
    if isinstance(exc, duckdb.InvalidInputException):
        return f"failed: {KEYBOARD_INTERRUPT}" in str(exc)
    return type(exc) is RuntimeError and str(exc) == INTERRUPTED_QUERY


INTERRUPTED_QUERY = "Query interrupted"
KEYBOARD_INTERRUPT = "KeyboardInterrupt"


@contextmanager
def scan_errors(files: Mapping[str, str]) -> Iterator[None]:
    """Map errors of a scan over ``files`` (local path -> the object's name, its URI)."""
    try:
        yield
    except (duckdb.InterruptException, RuntimeError) as exc:
        if interrupted_query(exc):
            raise KeyboardInterrupt from None
        raise
    except duckdb.Error as exc:
        if interrupted_query(exc):
            raise KeyboardInterrupt from None
        mapped = map_scan_error(files, exc)
        if mapped is None:
            raise
        raise mapped from None


def map_scan_error(files: Mapping[str, str], exc: duckdb.Error) -> FlowLogFormatError | None:
    """The format error for a DuckDB error raised while scanning ``files``, or None.

    DuckDB usually names the file; when it does not (a corrupt page header), the objects
    are read one by one until the bad one is found. That costs a scan, on the error path only.
    """
    message = str(exc)
    for quoted in _QUOTED.findall(message):
        uri = files.get(quoted)
        if uri is not None:
            return _format_error(uri, message.replace(quoted, "the file"))
    if not (isinstance(exc, _DATA_ERRORS) or type(exc) is duckdb.Error):
        return None
    probe = duckdb.connect(config={"autoload_known_extensions": False})
    try:
        for path, uri in files.items():
            try:
                probe.execute(PROBE_SQL.format(path=string_literal(path))).fetchall()
            except (duckdb.InterruptException, RuntimeError) as probe_exc:
                if interrupted_query(probe_exc):  # Ctrl-C during the probe: not the file's fault
                    raise KeyboardInterrupt from None
                raise
            except duckdb.Error as probe_exc:
                return _format_error(uri, str(probe_exc).replace(path, "the file"))
    finally:
        probe.close()
    return None


def _format_error(uri: str, detail: str) -> FlowLogFormatError:
    # A message may carry a value from the data; keep only a short excerpt of it.
    return FlowLogFormatError(
        Location(uri), "a readable Parquet object", excerpt(_ERROR_CLASS.sub("", detail), 80)
    )
