"""Rendering values into SQL where DuckDB takes no bound parameters.

Views and ``COPY ... TO`` cannot be prepared (DuckDB: "this type of statement can't be
prepared"), and ``read_parquet`` needs its file list at bind time, so file names and
window bounds are rendered as literals. Only these helpers render them: strings are
single-quoted with quotes doubled, identifiers double-quoted, numbers are ``int``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def string_literal(value: str | Path) -> str:
    text = str(value)
    if "\x00" in text:
        raise ValueError("a NUL character cannot be rendered in SQL")
    return "'" + text.replace("'", "''") + "'"


def string_list(values: Iterable[str | Path]) -> str:
    return "[" + ", ".join(string_literal(v) for v in values) + "]"


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def integer(value: int) -> str:
    return str(int(value))
