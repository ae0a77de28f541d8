"""The conversations stage: accuracy on the sample's ground truth, and the hard cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from conftest import SAMPLE_DATA
from support.flowlogs import DAY, DAY1, HOUR, VPC, Records, write_snapshot
from support.inventory import eni

from zt_flows.cli import main
from zt_flows.conversations import (
    EDGE_SCHEMA,
    REDUCED_TABLE,
    Conversations,
    build_conversations,
    read_edges,
    write_edges,
)
from zt_flows.engine import connect_engine
from zt_flows.errors import FlowLogFormatError
from zt_flows.inventory import load_inventory
from zt_flows.inventory.model import InterfaceRole, NetworkInterface
from zt_flows.sample import write_sample
from zt_flows.settings import Settings
from zt_flows.sources import read_flow_logs

KEY = ["day", "client_kind", "client", "server_kind", "server", "protocol", "server_port"]


def run(flowlogs: Path, inventory: Path | list[Path], tmp_path: Path) -> Conversations:
    settings = Settings()
    settings = Settings(sources=type(settings.sources)(cache_dir=tmp_path / "cache"))
    con = connect_engine(settings.engine)
    try:
        flows = read_flow_logs(flowlogs, settings, con)
        return build_conversations(flows, load_inventory(inventory), settings.conversations, con)
    finally:
        con.close()


def as_truth_frame(edges: pl.DataFrame) -> pl.DataFrame:
    """Edges in the ground truth's vocabulary: one row per key and action."""
    return edges.select(
        pl.col("day").cast(pl.Utf8),
        "client_kind",
        pl.col("client_id").alias("client"),
        "server_kind",
        pl.col("server_id").alias("server"),
        pl.col("protocol").cast(pl.Int64),
        pl.col("server_port").cast(pl.Int64),
        pl.when(pl.col("accepted") > 0)
        .then(pl.lit("ACCEPT"))
        .otherwise(pl.lit("REJECT"))
        .alias("action"),
    )


def read_truth(path: Path) -> pl.DataFrame:
    truth = pl.read_csv(
        path, schema_overrides={"client": pl.Utf8, "server": pl.Utf8, "day": pl.Utf8}
    )
    return truth.select([*KEY, "action", "note"])


# --------------------------------------------------------------------------- the sample


@pytest.fixture(scope="module")
def sample_edges(tmp_path_factory: pytest.TempPathFactory) -> Conversations:
    tmp = tmp_path_factory.mktemp("sample")
    return run(SAMPLE_DATA / "flowlogs", SAMPLE_DATA / "inventory", tmp)


def test_sample_matches_ground_truth_exactly(sample_edges: Conversations) -> None:
    truth = read_truth(SAMPLE_DATA / "ground_truth.csv")
    found = as_truth_frame(sample_edges.edges)
    missing = truth.join(found, on=[*KEY, "action"], how="anti")
    extra = found.join(truth, on=[*KEY, "action"], how="anti")
    assert missing.height == 0, f"conversations not recovered:\n{missing}"
    assert extra.height == 0, f"edges the ground truth lacks:\n{extra}"
    assert found.height == truth.height  # one edge per conversation and day, none twice


def test_sample_responses_and_scans_never_become_workload_edges(
    sample_edges: Conversations,
) -> None:
    edges = sample_edges.edges
    # A response oriented the wrong way would put an ephemeral port on the server side.
    assert edges.filter(pl.col("server_port") >= 32768).height == 0
    # Scans are REJECTed attempts: edges with nothing accepted, never accepted workload edges.
    scans = edges.filter(pl.col("server_port").is_in([23, 445, 3389]))
    assert scans.height > 0
    assert scans["accepted"].sum() == 0
    assert (scans["client_kind"] == "internet").all()


def test_sample_bytes_are_counted_once(sample_edges: Conversations) -> None:
    """An in-VPC connection is logged at both ENIs; the edge holds one vantage's bytes."""
    edge = sample_edges.edges.filter(
        (pl.col("server_port") == 5432) & (pl.col("day").cast(pl.Utf8) == "2026-11-16")
    ).row(0, named=True)
    server_eni, client_addr = edge["server_id"], edge["client_addrs"][0]
    con = duckdb.connect()
    files = str(SAMPLE_DATA / "flowlogs" / "**" / "*.parquet")
    at_server, total = con.execute(
        """
        SELECT sum(bytes) FILTER (WHERE interface_id = $eni), sum(bytes)
        FROM read_parquet($files, hive_partitioning = false)
        WHERE start >= $day AND start < $day + 86400
          AND ((srcaddr = $client AND dstport = 5432) OR (dstaddr = $client AND srcport = 5432))
        """,
        {"eni": server_eni, "files": files, "client": client_addr, "day": DAY1},
    ).fetchone() or (None, None)
    assert edge["bytes"] == at_server
    assert total == 2 * at_server  # both ENIs logged it; the edge did not double it


def test_sample_ip_reuse_resolves_by_time(sample_edges: Conversations) -> None:
    """worker-1's address moved to worker-1b at 2026-11-17 12:00Z."""
    redis_clients = (
        sample_edges.edges.filter(pl.col("server_port") == 6379, pl.col("accepted") > 0)
        .select(pl.col("day").cast(pl.Utf8), "client_id", "client_addrs")
        .filter(pl.col("client_addrs").list.contains("10.0.12.31"))
    )
    by_day = {
        day: set(ids)
        for day, ids in redis_clients.group_by("day").agg(pl.col("client_id")).iter_rows()
    }
    assert len(by_day["2026-11-16"]) == 1
    assert len(by_day["2026-11-17"]) == 2  # both: before and after noon
    assert len(by_day["2026-11-18"]) == 1
    assert by_day["2026-11-16"] != by_day["2026-11-18"]
    assert by_day["2026-11-17"] == by_day["2026-11-16"] | by_day["2026-11-18"]


def test_sample_report_explains_decisions(sample_edges: Conversations) -> None:
    report = sample_edges.report
    methods = dict(report.requests_by_method)
    assert methods["tcp_flags"] > methods["listener"] > 0
    assert methods["port_heuristic"] > 0  # DNS over UDP has no flags
    assert report.dropped_records > 0  # the NAT gateway's translated legs
    assert report.edges == sample_edges.edges.height
    assert report.flows == sample_edges.edges["flows"].sum()


def test_version_2_logs_are_at_least_99_percent_right(tmp_path: Path) -> None:
    """Default-format logs: no tcp-flags, no pkt-* fields; heuristics must carry it."""
    write_sample(tmp_path / "v2", log_format="v2")
    conv = run(tmp_path / "v2" / "flowlogs", tmp_path / "v2" / "inventory", tmp_path)
    truth = read_truth(tmp_path / "v2" / "ground_truth.csv")
    found = as_truth_frame(conv.edges)
    # Without pkt-dst-aws-service nothing names SQS: it is an internet address in v2 logs.
    right = truth.join(found, on=[*KEY, "action"], how="semi").height
    assert right / truth.height >= 0.99, f"{right} of {truth.height}"
    # Orientation (who is client, who is server, which port) is right for every conversation.
    oriented = truth.select("day", "client", "protocol", "server_port").join(
        found.select("day", "client", "protocol", "server_port"),
        on=["day", "client", "protocol", "server_port"],
        how="anti",
    )
    assert oriented.height == 0
    # ... and the stage says it decided all of them by heuristics.
    assert conv.report.heuristic_edges == conv.report.edges
    assert dict(conv.report.requests_by_method).get("tcp_flags", 0) == 0


# --------------------------------------------------------------------------- hard cases


def ip(interface: NetworkInterface) -> str:
    assert interface.primary_ipv4 is not None
    return interface.primary_ipv4


def logged(name: str, ip: str, groups: tuple[str, ...] = (), **more: Any) -> NetworkInterface:
    """An ENI of the logs' VPC, ``eni-<name>``."""
    return eni(name, ip, groups, vpc=VPC, **{"attached": None, **more})


A = logged("0000000000000000a", "10.0.1.10", ("sg-0000000000000000a",))
B = logged("0000000000000000b", "10.0.2.20", ("sg-0000000000000000b",))
C = logged("0000000000000000c", "10.0.3.30", ("sg-0000000000000000c",))
NAT = logged(
    "000000000000000fa",
    "10.0.0.5",
    interface_type="nat_gateway",
    description="Interface for NAT Gateway nat-0123456789abcdef0",
    role=InterfaceRole.NAT_GATEWAY,
    public=("3.80.0.5",),
)


def snapshot(
    tmp_path: Path, *enis: NetworkInterface, taken_at: str = "2026-11-16T00:00:00Z"
) -> Path:
    return write_snapshot(tmp_path / "inventory" / taken_at.replace(":", "-"), enis, taken_at)


def edges_of(conv: Conversations) -> list[tuple[str, str, int, int]]:
    return sorted(
        (r["client_id"], r["server_id"], r["protocol"], r["server_port"])
        for r in conv.edges.iter_rows(named=True)
    )


def test_long_lived_connection_without_flags_in_later_intervals(tmp_path: Path) -> None:
    recs = Records()
    # Opened with SYN, then five hours without flags, closed with FIN.
    recs.connection((A.id, ip(A)), (B.id, ip(B)), 40000, 5432, start=DAY1, intervals=300)
    # Opened before the window began: never a SYN, only flag-less intervals.
    recs.connection(
        (C.id, ip(C)),
        (B.id, ip(B)),
        40001,
        5432,
        start=DAY1 + HOUR,
        intervals=120,
        opened=False,
    )
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, A, B, C), tmp_path)
    assert edges_of(conv) == [(A.id, B.id, 6, 5432), (C.id, B.id, 6, 5432)]
    by_client = {r["client_id"]: r for r in conv.edges.iter_rows(named=True)}
    assert by_client[A.id]["initiator"] == "tcp_flags"
    assert by_client[A.id]["connections"] == 1
    assert by_client[A.id]["flows"] == 300  # one request record per interval, one vantage
    assert by_client[C.id]["initiator"] == "listener"  # B:5432 listens, learnt from A's SYN
    assert by_client[C.id]["connections"] == 0
    assert by_client[A.id]["vantage"] == "server"


def test_server_that_is_also_a_client_and_two_services_on_one_eni(tmp_path: Path) -> None:
    recs = Records()
    recs.connection((A.id, ip(A)), (B.id, ip(B)), 40000, 5432, start=DAY1)
    recs.connection((C.id, ip(C)), (B.id, ip(B)), 40001, 8080, start=DAY1 + 60)
    recs.connection((B.id, ip(B)), (C.id, ip(C)), 50000, 9000, start=DAY1 + 120)  # B calls out
    recs.connection((B.id, ip(B)), (None, "198.51.100.9"), 50001, 443, start=DAY1 + 180)
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, A, B, C), tmp_path)
    assert edges_of(conv) == [
        (A.id, B.id, 6, 5432),
        (B.id, "198.51.100.9", 6, 443),
        (B.id, C.id, 6, 9000),
        (C.id, B.id, 6, 8080),
    ]
    external = conv.edges.filter(pl.col("server_kind") == "internet").row(0, named=True)
    assert external["vantage"] == "client"
    assert external["client_sgs"] == ["sg-0000000000000000b"]


def nat_connection(recs: Records, *, at_instance: bool, pkt_fields: bool = True) -> None:
    """A (10.0.1.10:40000) -> 198.51.100.9:443 through the NAT gateway (10.0.0.5)."""
    public, nat_port = "198.51.100.9", 61000
    inside, nat = ip(A), ip(NAT)
    if at_instance:
        recs.record(A.id, inside, public, 40000, 443, start=DAY1, flags=2, direction="egress")
        recs.record(A.id, public, inside, 443, 40000, start=DAY1, flags=18, direction="ingress")
    version = 5 if pkt_fields else 2
    none = None if pkt_fields else ""

    def pkt(value: str) -> str | None:
        return value if pkt_fields else None

    legs = [
        (inside, nat, 40000, 443, 2, pkt(inside), pkt(public)),  # inside, request
        (nat, public, nat_port, 443, 2, pkt(nat), pkt(public)),  # translated, request
        (public, nat, 443, nat_port, 18, pkt(public), pkt(nat)),  # translated, response
        (nat, inside, 443, 40000, 18, pkt(public), pkt(inside)),  # inside, response
    ]
    del none
    for src, dst, sp, dp, flags, psrc, pdst in legs:
        recs.record(
            NAT.id,
            src,
            dst,
            sp,
            dp,
            start=DAY1,
            flags=flags if pkt_fields else None,
            pkt_src=psrc,
            pkt_dst=pdst,
            version=version,
        )
        if not pkt_fields:
            recs.rows[-1]["pkt_srcaddr"] = None
            recs.rows[-1]["pkt_dstaddr"] = None


@pytest.mark.parametrize(
    ("at_instance", "pkt_fields", "vantage"),
    [(True, True, "client"), (False, True, "middle"), (True, False, "client")],
)
def test_nat_gateway_traffic_is_one_edge_to_the_real_destination(
    tmp_path: Path, at_instance: bool, pkt_fields: bool, vantage: str
) -> None:
    recs = Records()
    nat_connection(recs, at_instance=at_instance, pkt_fields=pkt_fields)
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, A, NAT), tmp_path)
    assert edges_of(conv) == [(A.id, "198.51.100.9", 6, 443)]
    edge = conv.edges.row(0, named=True)
    assert edge["vantage"] == vantage
    assert edge["flows"] == 1
    assert edge["client_sgs"] == ["sg-0000000000000000a"]
    # The NAT gateway's translated legs are the same conversation again, never counted.
    assert conv.report.dropped_records == (2 if pkt_fields else 4)


def test_ip_reused_by_a_new_eni_resolves_by_time(tmp_path: Path) -> None:
    old = logged("00000000000000011", "10.0.5.50", ("sg-000000000000000aa",))
    new = logged(
        "00000000000000022",
        "10.0.5.50",
        ("sg-000000000000000bb",),
        attached=datetime(2026, 11, 17, 12, tzinfo=UTC),
    )
    first = snapshot(tmp_path, old, B, taken_at="2026-11-16T00:00:00Z")
    second = snapshot(tmp_path, new, B, taken_at="2026-11-18T23:00:00Z")
    recs = Records()
    # Only B (the server) is logged: the client must be resolved from its address.
    for day in range(3):
        recs.connection(
            (None, "10.0.5.50"), (B.id, ip(B)), 40000 + day, 5432, start=DAY1 + day * DAY
        )
    conv = run(recs.write(tmp_path / "logs"), [first, second], tmp_path)
    clients = {
        str(r["day"]): (r["client_id"], r["client_sgs"]) for r in conv.edges.iter_rows(named=True)
    }
    assert clients == {
        "2026-11-16": (old.id, ["sg-000000000000000aa"]),
        "2026-11-17": (old.id, ["sg-000000000000000aa"]),  # midnight: before the noon switch
        "2026-11-18": (new.id, ["sg-000000000000000bb"]),
    }


def test_ipv6_internet_client(tmp_path: Path) -> None:
    alb = logged(
        "000000000000000a1",
        "10.0.0.10",
        ("sg-00000000000000a1b",),
        ipv6=("2600:1f18:1:2300::10",),
        description="ELB app/web-alb/0123456789abcdef",
        role=InterfaceRole.LOAD_BALANCER,
        requester_id="amazon-elb",
    )
    recs = Records()
    client = "2001:db8:0:0:0:0:0:7"  # written long-hand, as some tools print it
    recs.connection((None, client), (alb.id, "2600:1f18:1:2300::10"), 50000, 443, start=DAY1)
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, alb), tmp_path)
    edge = conv.edges.row(0, named=True)
    assert (edge["client_kind"], edge["server_id"], edge["server_port"]) == (
        "internet",
        alb.id,
        443,
    )
    assert edge["client_id"] in {"2001:db8::7", client}
    assert edge["server_role"] == "load_balancer"


def test_rejects_are_counted_once_whichever_side_rejected(tmp_path: Path) -> None:
    recs = Records()
    # B's ingress rules reject A: A's ENI logs its SYN as ACCEPTed egress, B's as REJECT.
    for i in range(3):
        recs.record(
            A.id,
            ip(A),
            ip(B),
            41000 + i,
            6379,
            start=DAY1 + 60 * i,
            flags=2,
            direction="egress",
        )
        recs.record(
            B.id,
            ip(A),
            ip(B),
            41000 + i,
            6379,
            start=DAY1 + 60 * i,
            flags=2,
            action="REJECT",
            direction="ingress",
        )
    # A's own egress rules reject A -> C:25: only A logs it, as REJECT.
    recs.record(
        A.id,
        ip(A),
        ip(C),
        42000,
        25,
        start=DAY1,
        flags=2,
        action="REJECT",
        direction="egress",
    )
    # A scanner from the internet.
    recs.record(B.id, "203.0.113.66", ip(B), 55555, 3389, start=DAY1, flags=2, action="REJECT")
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, A, B, C), tmp_path)
    rows = {(r["client_id"], r["server_port"]): r for r in conv.edges.iter_rows(named=True)}
    assert set(rows) == {(A.id, 6379), (A.id, 25), ("203.0.113.66", 3389)}
    assert (rows[A.id, 6379]["accepted"], rows[A.id, 6379]["rejected"]) == (0, 3)
    assert (rows[A.id, 25]["accepted"], rows[A.id, 25]["rejected"]) == (0, 1)
    assert rows[A.id, 25]["vantage"] == "client"
    assert rows["203.0.113.66", 3389]["rejected"] == 1


def test_flagless_high_ports_are_oriented_by_fan_in(tmp_path: Path) -> None:
    """Both ports ephemeral-looking and no flags: the socket with many peers serves."""
    recs = Records()
    for i, client in enumerate((A, C)):
        for j in range(3):
            recs.connection(
                (client.id, ip(client)),
                (B.id, ip(B)),
                40000 + 10 * i + j,
                44300,
                start=DAY1 + 60 * (3 * i + j),
                with_flags=False,
            )
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, A, B, C), tmp_path)
    assert edges_of(conv) == [(A.id, B.id, 6, 44300), (C.id, B.id, 6, 44300)]
    assert set(conv.edges["initiator"]) == {"fan_in"}
    assert conv.report.heuristic_edges == 2


def test_udp_without_flags_uses_the_service_port(tmp_path: Path) -> None:
    recs = Records()
    recs.connection((A.id, ip(A)), (B.id, ip(B)), 45000, 53, start=DAY1, protocol=17)
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, A, B), tmp_path)
    assert edges_of(conv) == [(A.id, B.id, 17, 53)]
    assert conv.edges["initiator"].to_list() == ["port_heuristic"]


def test_connection_stays_usable_after_the_stage(tmp_path: Path) -> None:
    """A notebook goes on querying the connection the stage ran on."""
    recs = Records()
    recs.connection((A.id, ip(A)), (B.id, ip(B)), 45000, 53, start=DAY1, protocol=17)
    settings = Settings(sources=type(Settings().sources)(cache_dir=tmp_path / "cache"))
    con = connect_engine(settings.engine)
    flows = read_flow_logs(recs.write(tmp_path / "logs"), settings, con)
    inventory = load_inventory(snapshot(tmp_path, A, B))
    conv = build_conversations(flows, inventory, settings.conversations, con)
    ((rows,),) = con.sql(f"SELECT count(*) FROM {REDUCED_TABLE}").fetchall()
    assert rows == 4  # the request and the response, each logged at A and at B
    assert conv.report.edges == 1
    # The stage's intermediate tables are gone (DuckDB would hold them until the end):
    # what stays is the reduce's rows and the small lookups (per address, interface, hour).
    tables = {name for (name,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert tables == {
        REDUCED_TABLE,
        "zt_forwarding",
        "zt_listeners",
        "zt_local",
        "zt_own",
        "zt_res",
        "zt_segments",
        "zt_self",
    }
    con.close()


def test_interface_missing_from_the_inventory_is_still_named(tmp_path: Path) -> None:
    """An ENI the snapshot lacks (deleted before it was taken) is learnt from its own records:
    both vantages then agree on the conversation, which is counted once."""
    ghost = logged("0000000000000ghost", "10.0.9.9")
    recs = Records()
    recs.connection((ghost.id, ip(ghost)), (B.id, ip(B)), 40000, 5432, start=DAY1)
    conv = run(recs.write(tmp_path / "logs"), snapshot(tmp_path, B), tmp_path)
    assert conv.edges.height == 1
    edge = conv.edges.row(0, named=True)
    assert (edge["client_id"], edge["server_id"], edge["vantage"]) == (ghost.id, B.id, "server")
    assert (edge["client_kind"], edge["client_role"], edge["client_sgs"]) == ("eni", "unknown", [])
    assert edge["client_label"] == "not in the inventory"


# --------------------------------------------------------------------------- I/O and CLI


def test_edges_round_trip_and_bad_file(tmp_path: Path, sample_edges: Conversations) -> None:
    path = write_edges(sample_edges.edges, tmp_path / "edges.parquet")
    back = read_edges(path)
    assert back.schema == pl.from_arrow(EDGE_SCHEMA.empty_table()).schema
    assert back.equals(sample_edges.edges.cast(back.schema))  # type: ignore[arg-type]
    assert not list(tmp_path.glob(".*tmp"))  # written through a temporary name
    other = tmp_path / "other.parquet"
    pl.DataFrame({"x": [1]}).write_parquet(other)
    with pytest.raises(FlowLogFormatError, match=r"other.parquet.*no column .day."):
        read_edges(other)


def test_cli_writes_edges_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "edges.parquet"
    code = main(
        [
            "conversations",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--out",
            str(out),
            "--format",
            "json",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["edges"]["total"] == read_edges(out).height == 948
    assert report["records"]["input"] > report["records"]["used"]


def test_cli_missing_inventory_folder_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "conversations",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(tmp_path / "nope"),
            "--out",
            str(tmp_path / "e.parquet"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "nope" in err
    assert "Traceback" not in err
