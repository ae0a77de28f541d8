"""The conversations stage: flow records + inventory -> edges, beside a bare DuckDB GROUP BY.

The baseline is the aggregation a bare DuckDB would do over the same Parquet files: a
default ``duckdb.connect()`` (no settings at all) grouping every record by the literal
5-tuple, materialised in a temporary table so that it does the whole work (a query whose
result is not kept can be answered in pieces). Its number of groups is what drives its
time and memory: response records put the client's ephemeral port in ``dstport``, so
the literal 5-tuple has almost one group per connection.

The ztflows cases include everything a user waits for after the imports: connecting the
engine, ``read_flow_logs`` (listing, footers, views), ``load_inventory``, and
``build_conversations`` down to the polars edge table and its report; with the default
engine settings (4 GB memory limit), and again with a 1 GB limit and a temporary
directory, where the stage must spill rather than fail. The bare GROUP BY runs under
the same bound too, to show what spilling costs a plain aggregation. Every case is
compared with the unbounded bare GROUP BY.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
from common import Case, Dataset, Outcome

from zt_flows.conversations import build_conversations
from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.settings import EngineSettings, Settings, SourceSettings
from zt_flows.sources import read_flow_logs

STAGE = "conversations"
BARE = "bare DuckDB GROUP BY 5-tuple"
MEMORY_LIMIT = "4GB"  # the engine's default, spelled out
SMALL_MEMORY_LIMIT = "1GB"

BARE_GROUP_BY = """
CREATE TEMP TABLE five_tuples AS
SELECT srcaddr, dstaddr, srcport, dstport, protocol,
       count(*) AS records, sum(packets), sum(bytes), min(start), max("end")
FROM read_parquet(?, hive_partitioning = false)
GROUP BY ALL
"""
BARE_TOTALS = "SELECT count(*), sum(records) FROM five_tuples"
# The stage's one aggregation over every record (reduce.sql): its groups, beside the
# baseline's, say how much work dropping the client's ephemeral port saved.
REDUCED_ROWS = "SELECT count(*) FROM zt_reduced"


def bare_group_by(data: Dataset) -> Outcome:
    con = duckdb.connect()
    return _group_by(con, data.files())


def bare_group_by_small(data: Dataset) -> Outcome:
    spill = data.scratch("bare-small") / "spill"
    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{SMALL_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory = '{spill}'")
    with _watch_size(spill) as largest:
        outcome = _group_by(con, data.files())
    return Outcome(outcome.records, f"{outcome.note}; {_spilled(largest[0])}")


def _group_by(con: duckdb.DuckDBPyConnection, files: list[str]) -> Outcome:
    con.execute(BARE_GROUP_BY, [files])
    row = con.execute(BARE_TOTALS).fetchone()
    assert row is not None
    return Outcome(int(row[1]), f"{int(row[0]):,} groups")


def _conversations(data: Dataset, engine: EngineSettings, cache: Path) -> Outcome:
    settings = Settings(sources=SourceSettings(cache_dir=cache, progress=False), engine=engine)
    con = connect_engine(settings.engine)
    flows = read_flow_logs(data.flowlogs, settings, con)
    inventory = load_inventory(data.inventory)
    built = build_conversations(flows, inventory, settings.conversations, con)
    report = built.report
    row = con.execute(REDUCED_ROWS).fetchone()
    reduced = f"{int(row[0]):,} reduced rows, " if row else ""
    note = f"{reduced}{report.edges:,} edges, build_conversations {report.seconds:.2f} s of it"
    return Outcome(report.input_records, note)


def ztflows_conversations(data: Dataset) -> Outcome:
    cache = data.scratch("conversations")
    return _conversations(data, EngineSettings(memory_limit=MEMORY_LIMIT), cache)


def ztflows_conversations_small(data: Dataset) -> Outcome:
    scratch = data.scratch("conversations-small")
    spill = scratch / "spill"
    engine = EngineSettings(memory_limit=SMALL_MEMORY_LIMIT, temp_dir=spill)
    with _watch_size(spill) as largest:
        outcome = _conversations(data, engine, scratch / "cache")
    return Outcome(outcome.records, f"{outcome.note}; {_spilled(largest[0])}")


def _spilled(largest: int) -> str:
    return f"spilled up to {largest / 1e6:,.0f} MB" if largest else "did not spill"


@contextmanager
def _watch_size(folder: Path, every: float = 0.05) -> Iterator[list[int]]:
    """The largest disk use (allocated blocks) of the files in ``folder`` while the block
    runs, sampled every ``every`` seconds: DuckDB deletes its spill files when done."""
    largest = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(every):
            with suppress(FileNotFoundError):  # DuckDB removes spill files as it goes
                total = sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())
                largest[0] = max(largest[0], total)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    try:
        yield largest
    finally:
        stop.set()
        watcher.join()


SMALL = f", {SMALL_MEMORY_LIMIT} + temp_dir"
CASES = [
    Case(STAGE, BARE, bare_group_by),
    Case(STAGE, "read_flow_logs -> build_conversations", ztflows_conversations, baseline=BARE),
    # Bounded memory: the bare GROUP BY with the same bound shows what spilling costs there.
    Case(STAGE, BARE + SMALL, bare_group_by_small, baseline=BARE),
    Case(STAGE, "build_conversations" + SMALL, ztflows_conversations_small, baseline=BARE),
]
