"""``edges.parquet``: the edge table on disk, written atomically and read back checked."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.atomic import atomic_path
from zt_flows.conversations.build import EDGE_SCHEMA
from zt_flows.errors import FlowLogFormatError, Location


def write_edges(edges: pl.DataFrame, path: Path) -> Path:
    """Write the edge table as Parquet (zstd), via a temporary file and a rename."""
    table = edges.to_arrow().select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def read_edges(path: Path) -> pl.DataFrame:
    """Read ``edges.parquet`` written by :func:`write_edges`; a wrong file is an input error."""
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise FlowLogFormatError(
            Location(str(path)), "an edges.parquet file", "no such file"
        ) from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise FlowLogFormatError(
            Location(str(path)), "a Parquet file written by `ztflows conversations`", str(exc)[:80]
        ) from None
    missing = [name for name in EDGE_SCHEMA.names if name not in table.column_names]
    if missing:
        raise FlowLogFormatError(
            Location(str(path), column=missing[0]),
            "the edge table's columns",
            f"no column {missing[0]!r} (is this an edges.parquet?)",
        )
    frame = pl.from_arrow(table.select(EDGE_SCHEMA.names).cast(EDGE_SCHEMA))
    assert isinstance(frame, pl.DataFrame)
    return frame
