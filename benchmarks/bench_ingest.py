"""The ingest stage: ``read_flow_logs`` -> count and -> Parquet, beside bare DuckDB.

The bare baselines read the very same Parquet files with DuckDB alone, with the same
memory limit:

- ``bare count(*)`` answers from the footers' row counts (reference only);
- ``bare count flows`` counts the records that are flows (``log_status`` OK or NULL), the
  question ``read_flow_logs -> count`` answers;
- ``bare COPY to Parquet`` copies every column to one zstd Parquet file, in order, as
  ``write_records`` does.

The ztflows cases include everything a user waits for: listing the folder, checking
every object's footer, creating the views, the query; ``write_records`` also includes
its summary scan of the written file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from common import Case, Dataset

from zt_flows.engine import connect_engine
from zt_flows.settings import EngineSettings, Settings, SourceSettings
from zt_flows.sources import read_flow_logs, write_records

MEMORY_LIMIT = "4GB"


def _bare() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    return con


def bare_count(data: Dataset) -> int:
    con = _bare()
    files = data.files()
    row = con.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = false)", [files]
    ).fetchone()
    return int(row[0])


def bare_count_flows(data: Dataset) -> int:
    con = _bare()
    row = con.execute(
        "SELECT count(*) FROM read_parquet(?, hive_partitioning = false) "
        "WHERE log_status = 'OK' OR log_status IS NULL",
        [data.files()],
    ).fetchone()
    return int(row[0])


def bare_copy(data: Dataset) -> int:
    con = _bare()
    out = data.scratch("bare-copy") / "records.parquet"
    files = ", ".join("'" + f.replace("'", "''") + "'" for f in data.files())
    con.execute(
        f"COPY (SELECT * FROM read_parquet([{files}], hive_partitioning = false)) "
        f"TO '{out}' (FORMAT parquet, COMPRESSION zstd)"
    )
    row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(out)]).fetchone()
    return int(row[0])


def _settings(cache: Path) -> Settings:
    return Settings(
        sources=SourceSettings(cache_dir=cache, progress=False),
        engine=EngineSettings(memory_limit=MEMORY_LIMIT),
    )


def ztflows_count(data: Dataset) -> int:
    settings = _settings(data.scratch("ztflows-count"))
    con = connect_engine(settings.engine)
    flows = read_flow_logs(data.flowlogs, settings, con)
    row = con.execute(f'SELECT count(*) FROM "{flows.view}"').fetchone()
    return int(row[0]) if row else 0


def ztflows_write(data: Dataset) -> int:
    scratch = data.scratch("ztflows-write")
    settings = _settings(scratch / "cache")
    con = connect_engine(settings.engine)
    flows = read_flow_logs(data.flowlogs, settings, con)
    return write_records(flows, con, scratch / "records.parquet").records


CASES = [
    Case("ingest", "bare DuckDB count(*) [footers only]", bare_count),
    Case("ingest", "bare DuckDB count flows", bare_count_flows),
    Case(
        "ingest", "read_flow_logs -> count flows", ztflows_count, baseline="bare DuckDB count flows"
    ),
    Case("ingest", "bare DuckDB COPY to Parquet", bare_copy),
    Case(
        "ingest",
        "read_flow_logs -> write_records",
        ztflows_write,
        baseline="bare DuckDB COPY to Parquet",
    ),
]


# --------------------------------------------------------------------------- text delivery


def bare_text_count_flows(data: Dataset) -> int:
    con = _bare()
    row = con.execute(
        "SELECT count(*) FROM read_csv(?, delim = ' ', header = true, nullstr = '-', "
        'union_by_name = true) WHERE "log-status" = \'OK\' OR "log-status" IS NULL',
        [data.files()],
    ).fetchone()
    return int(row[0]) if row else 0


def _text_count(data: Dataset, cache: Path) -> int:
    settings = _settings(cache)
    con = connect_engine(settings.engine)
    flows = read_flow_logs(data.flowlogs, settings, con)
    row = con.execute(f'SELECT count(*) FROM "{flows.view}"').fetchone()
    return int(row[0]) if row else 0


def ztflows_text_first(data: Dataset) -> int:
    return _text_count(data, data.scratch("ztflows-text-first"))


def _text_cache(data: Dataset) -> Path:
    return data.scratch_root / "ztflows-text-cache"


def _fill_text_cache(data: Dataset) -> int:
    return _text_count(data, _text_cache(data))


def ztflows_text_cached(data: Dataset) -> int:
    return _text_count(data, _text_cache(data))


TEXT = "ingest-text"
CASES += [
    Case(TEXT, "bare DuckDB read_csv count flows", bare_text_count_flows, delivery="text"),
    Case(
        TEXT,
        "read_flow_logs -> count, converting",
        ztflows_text_first,
        baseline="bare DuckDB read_csv count flows",
        delivery="text",
    ),
    Case(
        TEXT,
        "read_flow_logs -> count, conversions cached",
        ztflows_text_cached,
        baseline="bare DuckDB read_csv count flows",
        delivery="text",
        setup=_fill_text_cache,
    ),
]
