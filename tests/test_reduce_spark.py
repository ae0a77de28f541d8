"""The reduce on Apache Spark (local[2]) writes the partials DuckDB writes, row for row."""

from __future__ import annotations

import json
import signal
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_DATA

from zt_flows.engine import connect_engine
from zt_flows.reduce import open_state, reduce_flow_logs
from zt_flows.reduce.sql import PARTIAL_SCHEMA
from zt_flows.sample import write_sample
from zt_flows.sample.estate import write_estate
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("ztflows-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    yield session
    session.stop()
    # Spark's context takes SIGINT over (to cancel its jobs) and does not give it back on
    # stop(): Python's own handler is put back, as the tests after these in the same
    # process expect it.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def _settings(tmp: Path, state: Path) -> Settings:
    base = Settings()
    return replace(
        base,
        sources=replace(base.sources, cache_dir=tmp / "cache", state=str(state), progress=False),
    )


def _partials(state: Path) -> dict[str, tuple[pa.Table, object]]:
    """Each day's partial (sorted: row order is the engine's own) and its day.json (the
    numbers by version, and who logged records naming which account and VPC)."""
    out = {}
    for path in sorted(state.rglob("partial.parquet")):
        table = pq.read_table(path).select(PARTIAL_SCHEMA.names).cast(PARTIAL_SCHEMA)
        keys = [(name, "ascending") for name in PARTIAL_SCHEMA.names]
        numbers = json.loads((path.parent / "day.json").read_text("utf-8"))
        out[path.parent.name] = (table.sort_by(keys), numbers)
    return out


Days = dict[str, tuple[pa.Table, object]]


def _both(source: Path, tmp: Path, spark: SparkSession) -> tuple[Days, Days]:
    from zt_flows.reduce.spark import reduce_with_spark

    duck_state, spark_state = tmp / "duckdb", tmp / "spark"
    settings = _settings(tmp, duck_state)
    con = connect_engine(settings.engine)
    try:
        with tempfile.TemporaryDirectory() as scratch:
            reduce_flow_logs(
                source, settings, con, state=open_state(duck_state), scratch=Path(scratch)
            )
    finally:
        con.close()
    done = reduce_with_spark(str(source), _settings(tmp, spark_state), spark=spark)
    assert done.reduced
    return _partials(duck_state), _partials(spark_state)


def _equal(duck: Days, spark: Days) -> int:
    assert duck.keys() == spark.keys()
    rows = 0
    for day, (table, numbers) in duck.items():
        assert table.equals(spark[day][0]), day
        assert numbers == spark[day][1], day
        rows += table.num_rows
    assert rows > 0
    return rows


def test_sample_parquet_and_text(tmp_path: Path, spark: SparkSession) -> None:
    """The sample: Parquet on two days, gzip text (a custom v5 format) on the third."""
    _equal(*_both(SAMPLE_DATA / "flowlogs", tmp_path, spark))


def test_sample_version_2_text(tmp_path: Path, spark: SparkSession) -> None:
    write_sample(tmp_path / "v2", log_format="v2")
    _equal(*_both(tmp_path / "v2" / "flowlogs", tmp_path, spark))


def test_generated_estate_of_a_million_records(tmp_path: Path, spark: SparkSession) -> None:
    write_estate(tmp_path / "estate", records=1_000_000)
    rows = _equal(*_both(tmp_path / "estate" / "flowlogs", tmp_path, spark))
    assert rows > 100_000


def test_generated_estate_as_gzip_text(tmp_path: Path, spark: SparkSession) -> None:
    write_estate(tmp_path / "estate", records=100_000, delivery="text-v5")
    _equal(*_both(tmp_path / "estate" / "flowlogs", tmp_path, spark))
