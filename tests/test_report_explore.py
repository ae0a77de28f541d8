"""The report's explorable parts as values: hourly timelines read from the reduce of real
records (real DuckDB), the reachability matrix of the sample plan, and the graph's data for
the page."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from support.edges import edge, frame
from support.inventory import eni
from test_report import sample_input

from zt_flows.conversations import REDUCED_TABLE
from zt_flows.conversations.build import reduce_records
from zt_flows.report import ReportInput, hourly_timelines
from zt_flows.report.matrix import MatrixCell, _admits, _column, reach_matrix
from zt_flows.report.names import Names
from zt_flows.report.network import graph_data, graph_json
from zt_flows.report.sections import security_group_graph
from zt_flows.report.timeline import timeline_views
from zt_flows.rules import RulePeer, RuleSpec
from zt_flows.settings import ConversationSettings

H0 = int(datetime(2026, 11, 16, tzinfo=UTC).timestamp())
HOUR = 3600
API = eni("api", "10.0.1.10", ["sg-api"], eni_id="eni-0a0000000000000a1")
DB = eni("db", "10.0.2.20", ["sg-db"], eni_id="eni-0a0000000000000d1")
CACHE = eni("cache", "10.0.2.30", ["sg-cache"], eni_id="eni-0a0000000000000c1")
COLUMNS = (
    "interface_id, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, start, action"
)
# The canonical columns the reduce reads that these records leave empty.
UNSET = (
    'pkt_srcaddr VARCHAR, pkt_dstaddr VARCHAR, "end" BIGINT, tcp_flags INTEGER,'
    " flow_direction VARCHAR, pkt_src_aws_service VARCHAR, pkt_dst_aws_service VARCHAR"
)


def record(
    interface: str, src: str, dst: str, sport: int, dport: int, hour: int, size: int = 1000
) -> tuple[object, ...]:
    return (interface, src, dst, sport, dport, 6, 10, size, H0 + hour * HOUR + 60, "ACCEPT")


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE flows (interface_id VARCHAR, srcaddr VARCHAR, dstaddr VARCHAR,"
        " srcport INTEGER, dstport INTEGER, protocol INTEGER, packets BIGINT, bytes BIGINT,"
        f' "start" BIGINT, action VARCHAR, {UNSET})'
    )
    api, db, cache = "10.0.1.10", "10.0.2.20", "10.0.2.30"
    rows = [
        # Hour 1: two connections to the database, each logged by both ENIs, and the
        # database's responses (never counted: they are not requests).
        record(API.id, api, db, 40001, 5432, 1),
        record(DB.id, api, db, 40001, 5432, 1),
        record(API.id, api, db, 40002, 5432, 1, 3000),
        record(DB.id, api, db, 40002, 5432, 1, 3000),
        record(DB.id, db, api, 5432, 40001, 1),
        record(API.id, db, api, 5432, 40001, 1),
        # Hour 3: one more; and a probe of another port (another conversation).
        record(DB.id, api, db, 40003, 5432, 3),
        record(DB.id, api, db, 40004, 22, 3),
        # The cache, once.
        record(CACHE.id, api, cache, 40005, 6379, 2),
    ]
    con.executemany(f"INSERT INTO flows ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    # The timelines read what the reduce made of the records, as analyze's report does.
    reduce_records(con, "flows", ConversationSettings())
    return con


def edges() -> pl.DataFrame:
    return frame(
        [
            edge(API, DB, 5432, flows=3),
            edge(API, DB, 22, flows=1),
            edge(API, CACHE, 6379, flows=1),
            edge(API, DB, 3306, flows=5, rejected=5),  # rejected only: no timeline
        ]
    )


def test_hours_count_each_request_once_on_the_server(con: duckdb.DuckDBPyConnection) -> None:
    timelines = hourly_timelines(con, REDUCED_TABLE, edges())
    assert [(t.server_id, t.server_port, t.flows) for t in timelines] == [
        (DB.id, 5432, 3),
        (CACHE.id, 6379, 1),
        (DB.id, 22, 1),
    ]
    db = timelines[0]
    at = datetime.fromtimestamp(H0, tz=UTC)
    assert db.hours == (
        (at + timedelta(hours=1), 2, 4000),
        (at + timedelta(hours=3), 1, 1000),
    )
    assert timelines[2].hours == ((at + timedelta(hours=3), 1, 1000),)
    # The keys it registered are gone: the connection is left as it was.
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    assert not {t for t in tables | views if t.startswith("zt_timeline")}


def test_hours_are_bounded_to_the_busiest_conversations(con: duckdb.DuckDBPyConnection) -> None:
    [only] = hourly_timelines(con, REDUCED_TABLE, edges(), limit=1)
    assert (only.server_id, only.server_port) == (DB.id, 5432)
    assert hourly_timelines(con, REDUCED_TABLE, edges().clear()) == ()


def test_sparkline_has_a_bar_per_active_hour_and_a_tick_per_midnight(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    data = sample_input(tmp_path)
    names = Names(data.plan, data.inventory, data.edges)
    timelines = hourly_timelines(con, REDUCED_TABLE, edges())
    start = datetime.fromtimestamp(H0, tz=UTC)
    [db, *_] = timeline_views(timelines, names, start, start + timedelta(days=3))
    assert db.hours == 72
    assert db.bars == "M1,32v-32h1v32zM3,32v-16h1v16z"  # the busiest hour full height
    assert db.days == "M24,0V32M48,0V32"
    assert (db.records, db.peak, db.active_hours) == (3, 2, 2)
    assert db.peak_hour == "2026-11-16 01:00 UTC"
    assert db.port == "tcp/5432"


# --------------------------------------------------------------------------- the matrix


def matrix_cells(data: ReportInput) -> dict[tuple[str, str], MatrixCell]:
    names = Names(data.plan, data.inventory, data.edges)
    matrix = reach_matrix(data.plan, names)
    return {
        (str(row.group.name), port): cell
        for row in matrix.rows
        for port, cell in zip(matrix.ports, row.cells, strict=True)
    }


def test_matrix_shows_ports_closed_kept_and_narrowed(tmp_path: Path) -> None:
    data = sample_input(tmp_path)
    cells = matrix_cells(data)
    # web-alb's plain HTTP from anywhere goes; HTTPS stays as it was.
    http = cells["web-alb", "tcp/80"]
    assert (http.before, http.after, http.change) == ("all", "none", "closed")
    https = cells["web-alb", "tcp/443"]
    assert https.change == "same"
    # The bastion's SSH stays open, from the office's range instead of anywhere.
    ssh = cells["bastion", "tcp/22"]
    assert (ssh.before, ssh.after, ssh.change) == ("all", "all", "changed")
    assert "anywhere" in ssh.before_peers
    assert "anywhere" not in ssh.after_peers
    # postgres is reached by api alone on 5432 afterwards.
    pg = cells["postgres", "tcp/5432"]
    assert pg.after_peers == ("api",)
    # A group with an all-traffic rule today admits every column; its plan admits none.
    legacy = [c for (g, _), c in cells.items() if g == "legacy-allow-vpc"]
    assert all(c.before == "all" for c in legacy)
    assert all(c.change == "closed" for c in legacy)


def test_matrix_rows_are_groups_with_ingress_rules(tmp_path: Path) -> None:
    data = sample_input(tmp_path)
    names = Names(data.plan, data.inventory, data.edges)
    matrix = reach_matrix(data.plan, names)
    with_ingress = {
        g.group_id
        for g in data.plan.security_groups
        if any(r.direction == "ingress" for r in g.rules)
    }
    assert {r.group.id for r in matrix.rows} == with_ingress
    assert [r.group.sort_key for r in matrix.rows] == sorted(r.group.sort_key for r in matrix.rows)
    assert len(set(matrix.ports)) == len(matrix.ports)


# --------------------------------------------------------------------------- the graph


def test_graph_data_is_deterministic_with_widths_by_bytes(tmp_path: Path) -> None:
    data = sample_input(tmp_path)
    names = Names(data.plan, data.inventory, data.edges)
    graph = security_group_graph(data.edges, data.inventory)
    first = graph_data(graph, names)
    again = graph_data(security_group_graph(data.edges.reverse(), data.inventory), names)
    assert first is not None
    assert again is not None
    assert graph_json(first) == graph_json(again)
    widths = {(e.source, e.target): e.width for e in first.edges}
    assert graph is not None
    ordered = sorted(graph.edges(data=True), key=lambda e: e[2]["bytes"])
    assert widths[ordered[0][0], ordered[0][1]] == min(widths.values())
    assert widths[ordered[-1][0], ordered[-1][1]] == max(widths.values())
    # Positions: no two groups in the same place.
    spots = {(n.x, n.y) for n in first.nodes}
    assert len(spots) == len(first.nodes)
    parsed = json.loads(graph_json(first))
    assert {n["label"] for n in parsed["nodes"]} >= {"web-alb", "postgres", "internet"}
    assert graph_data(None, names) is None


def test_graph_data_does_not_depend_on_the_hash_seed(tmp_path: Path) -> None:
    """Sets iterate in an order that changes with PYTHONHASHSEED: the layout must not."""
    script = (
        "import sys, tempfile\n"
        "from pathlib import Path\n"
        "from test_report import sample_input\n"
        "from zt_flows.report.names import Names\n"
        "from zt_flows.report.network import graph_data, graph_json\n"
        "from zt_flows.report.sections import security_group_graph\n"
        "d = sample_input(Path(tempfile.mkdtemp()))\n"
        "graph = security_group_graph(d.edges, d.inventory)\n"
        "sys.stdout.write(graph_json(graph_data(graph, Names(d.plan, d.inventory, d.edges))))\n"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=Path(__file__).parent,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert '"nodes"' in outputs.pop()


def test_matrix_reads_icmp_types_and_codes() -> None:
    def icmp(type_: int | None, code: int | None) -> RuleSpec:
        return RuleSpec("sg-1", "ingress", 1, type_, code, RulePeer("cidr", "10.0.0.0/8"))

    every, unreachable, echo = icmp(None, None), icmp(3, None), icmp(8, 0)
    assert _admits(every, _column(echo)) == "all"
    assert _admits(unreachable, _column(echo)) == "none"  # type 3 admits nothing of type 8
    assert _admits(echo, _column(echo)) == "all"
    assert _admits(icmp(3, 4), _column(unreachable)) == "part"  # one code of every code
    assert _admits(unreachable, _column(icmp(3, 4))) == "all"
    assert _admits(echo, _column(every)) == "part"
