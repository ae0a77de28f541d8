"""The sample VPC generator and the committed ``sample_data/``.

Everything here reads the real files: Parquet with pyarrow, gzip text with the
standard library and pyarrow's CSV reader, the inventory as JSON. The flow-log
reader of ``zt_flows.sources`` is deliberately not used: these tests are what it is
checked against.
"""

from __future__ import annotations

import filecmp
import gzip
import io
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from zt_flows.sample import SampleSummary, write_sample
from zt_flows.sample.__main__ import main
from zt_flows.sample.delivery import COLUMNS, TEXT_V5_FIELDS
from zt_flows.schema import ARROW_SCHEMA as CANONICAL_SCHEMA
from zt_flows.schema import DEFAULT_FORMAT

# The sample's Parquet columns: every field of versions 2-8, as its flow log was created.
ARROW_SCHEMA = pa.schema([CANONICAL_SCHEMA.field(name) for name in COLUMNS["parquet"]])

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
FLOWLOGS = SAMPLE / "flowlogs"
ACCOUNT = "012345678901"
NAT_IP = "10.0.0.20"
HAND_WRITTEN = {"README.md", "SCENARIO.md"}
PARQUET_KEY = re.compile(
    r"AWSLogs/aws-account-id=012345678901/aws-service=vpcflowlogs/aws-region=us-east-1/"
    r"year=(\d{4})/month=(\d\d)/day=(\d\d)/hour=(\d\d)/"
    r"012345678901_vpcflowlogs_us-east-1_fl-0a1b2c3d4e5f60718_(\d{8}T\d{4}Z)_[0-9a-f]{8}"
    r"\.log\.parquet"
)
TEXT_KEY = re.compile(
    r"AWSLogs/012345678901/vpcflowlogs/us-east-1/(\d{4})/(\d\d)/(\d\d)/"
    r"012345678901_vpcflowlogs_us-east-1_fl-0f9e8d7c6b5a40321_(\d{8}T\d{4}Z)_[0-9a-f]{8}\.log\.gz"
)


# --------------------------------------------------------------------------- reading


def read_text_log(path: Path) -> pa.Table:
    """A gzip text flow log as canonical columns (absent fields NULL)."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    header = data.split(b"\n", 1)[0].decode().split(" ")
    names = [h.replace("-", "_") for h in header]
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pacsv.ParseOptions(delimiter=" "),
        convert_options=pacsv.ConvertOptions(
            column_types={n: ARROW_SCHEMA.field(n).type for n in names},
            null_values=["-"],
            strings_can_be_null=True,
        ),
    )
    columns = [
        table[f.name] if f.name in names else pa.nulls(table.num_rows, f.type) for f in ARROW_SCHEMA
    ]
    return pa.Table.from_arrays(columns, schema=ARROW_SCHEMA)


def read_flow_logs(root: Path) -> pa.Table:
    tables = [pq.read_table(p) for p in sorted(root.rglob("*.log.parquet"))]
    tables += [read_text_log(p) for p in sorted(root.rglob("*.log.gz"))]
    return pa.concat_tables(tables)


def load_snapshot(folder: Path, name: str) -> Any:
    """A describe-*.json document (JSON, so untyped)."""
    return json.loads((folder / name).read_text())


def snapshots() -> list[Path]:
    return sorted(p for p in (SAMPLE / "inventory").iterdir() if p.is_dir())


def eni_addresses() -> dict[str, list[str]]:
    """ENI id -> every address it holds, over both snapshots."""
    return {eni: [a for a, _, _ in held] for eni, held in eni_holdings().items()}


def eni_holdings() -> dict[str, list[tuple[str, int, int]]]:
    """ENI id -> (address, held from, held until) in epoch seconds: addresses get reused."""
    attached: dict[str, tuple[int, list[str]]] = {}
    for folder in snapshots():
        doc = load_snapshot(folder, "describe-network-interfaces.json")
        for eni in doc["NetworkInterfaces"]:
            addrs = [a["PrivateIpAddress"] for a in eni["PrivateIpAddresses"]]
            addrs += [a["Ipv6Address"] for a in eni["Ipv6Addresses"]]
            since = datetime.fromisoformat(eni["Attachment"]["AttachTime"]).timestamp()
            attached[eni["NetworkInterfaceId"]] = (int(since), addrs)
    out: dict[str, list[tuple[str, int, int]]] = {}
    for eni, (since, addrs) in attached.items():
        for addr in addrs:
            # Held until the next ENI that takes the same address is attached.
            later = [s for e, (s, a) in attached.items() if addr in a and s > since]
            out.setdefault(eni, []).append((addr, since, min(later, default=2**40)))
    return out


def eni_by_name() -> dict[str, str]:
    out = {}
    for folder in snapshots():
        doc = load_snapshot(folder, "describe-network-interfaces.json")
        for eni in doc["NetworkInterfaces"]:
            out[eni["TagSet"][0]["Value"]] = eni["NetworkInterfaceId"]
    return out


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB with ``recs`` (every committed record, plus ``day``) and ``gt``."""
    db = duckdb.connect()
    recs = read_flow_logs(FLOWLOGS)  # noqa: F841 - scanned by DuckDB below
    db.execute(
        "CREATE TABLE recs AS SELECT *, CAST(to_timestamp(start) AT TIME ZONE 'UTC' AS DATE)"
        " AS day FROM recs"
    )
    db.execute(
        "CREATE TABLE gt AS SELECT row_number() OVER () AS id, * FROM read_csv(?, header=true,"
        " all_varchar=true)",
        [str(SAMPLE / "ground_truth.csv")],
    )
    yield db
    db.close()


# --------------------------------------------------------------------------- the files


def test_regenerating_gives_the_committed_bytes(tmp_path: Path) -> None:
    summary = write_sample(tmp_path)
    made = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    committed = {
        p.relative_to(SAMPLE)
        for p in SAMPLE.rglob("*")
        if p.is_file() and p.relative_to(SAMPLE).as_posix() not in HAND_WRITTEN
    }
    assert made == committed, (
        "sample_data/ is stale: run python -m zt_flows.sample --out sample_data"
    )
    differing = [
        p for p in sorted(made) if not filecmp.cmp(tmp_path / p, SAMPLE / p, shallow=False)
    ]
    assert differing == [], f"regenerate sample_data/: {differing[:3]}"
    assert summary.files == 72
    assert summary.days == 3
    assert summary.bytes == sum(
        (tmp_path / p).stat().st_size for p in made if "flowlogs" in p.parts
    )
    # The committed sample stays small enough to live in the repository.
    assert sum((SAMPLE / p).stat().st_size for p in committed) < 5_000_000


def test_parquet_files_have_the_aws_schema_and_gzip() -> None:
    files = sorted(FLOWLOGS.rglob("*.log.parquet"))
    assert len(files) == 48
    for path in files:
        meta = pq.ParquetFile(path).metadata
        assert pq.read_schema(path) == ARROW_SCHEMA
        assert {
            meta.row_group(g).column(c).compression
            for g in range(meta.num_row_groups)
            for c in range(meta.num_columns)
        } == {"GZIP"}
        assert set(pq.read_table(path, columns=["version"])["version"].to_pylist()) == {8}


def test_keys_and_file_names_follow_aws() -> None:
    keys = [p.relative_to(FLOWLOGS).as_posix() for p in FLOWLOGS.rglob("*") if p.is_file()]
    parquet = [PARQUET_KEY.fullmatch(k) for k in keys if k.endswith(".parquet")]
    text = [TEXT_KEY.fullmatch(k) for k in keys if k.endswith(".gz")]
    assert len(parquet) == 48
    assert all(parquet)
    assert len(text) == 24
    assert all(text)
    for m in parquet:
        assert m is not None
        year, month, day, hour, stamp = m.groups()
        start = datetime(int(year), int(month), int(day), int(hour), tzinfo=UTC)
        # The name carries the end of the file's window (the hour after its partition).
        assert datetime.strptime(stamp, "%Y%m%dT%H%MZ").replace(tzinfo=UTC).timestamp() == (
            start.timestamp() + 3600
        )
    assert {m.groups()[:3] for m in parquet if m} == {("2026", "11", "16"), ("2026", "11", "17")}
    assert {m.groups()[:3] for m in text if m} == {("2026", "11", "18")}
    assert any(m and m.group(4) == "20261119T0000Z" for m in text)


def test_text_logs_have_the_custom_header_and_dashes() -> None:
    header = " ".join(f.replace("_", "-") for f in TEXT_V5_FIELDS)
    assert header.startswith("version vpc-id subnet-id instance-id interface-id account-id")
    for path in sorted(FLOWLOGS.rglob("*.log.gz")):
        raw = path.read_bytes()
        assert raw[:2] == b"\x1f\x8b"  # gzip
        assert raw[4:8] == b"\0\0\0\0"  # with mtime 0
        lines = gzip.decompress(raw).decode().splitlines()
        assert lines[0] == header
        for line in lines[1:]:
            fields = line.split(" ")
            assert len(fields) == len(TEXT_V5_FIELDS)
            assert fields[0] == "5"
            assert fields[5] == ACCOUNT
            assert "" not in fields
            if fields[20] == "NODATA":
                assert fields[7:16] == ["-"] * 9
                assert fields[18] == "-"


def test_every_parquet_field_is_typed_like_aws() -> None:
    table = pq.read_table(next(FLOWLOGS.rglob("*.log.parquet")))
    assert table.schema.field("account_id").type == pa.string()  # leading zero kept
    assert table.schema.field("traffic_path").type == pa.int32()
    assert table.schema.field("packets").type == pa.int64()
    assert set(table["account_id"].to_pylist()) == {ACCOUNT}


# --------------------------------------------------------------------------- the inventory


def test_inventory_has_the_aws_cli_shapes() -> None:
    first, second = snapshots()
    assert first.name == "2026-11-16T00-00-00Z"
    assert second.name == "2026-11-18T23-30-00Z"
    manifest = load_snapshot(first, "manifest.json")
    assert manifest == {
        "schema_version": 1,
        "taken_at": "2026-11-16T00:00:00Z",
        "account_ids": [ACCOUNT],
        "regions": ["us-east-1"],
        "generator": "zt_flows.sample",
    }
    enis = {
        e["TagSet"][0]["Value"]: e
        for e in load_snapshot(first, "describe-network-interfaces.json")["NetworkInterfaces"]
    }
    for eni in enis.values():
        assert re.fullmatch(r"eni-0[0-9a-f]{16}", eni["NetworkInterfaceId"])
        assert eni["TagSet"][0]["Key"] == "Name"
        assert eni["Status"] == "in-use"
        assert eni["PrivateIpAddresses"][0]["Primary"] is True
    alb = enis["alb-a"]
    assert (alb["InterfaceType"], alb["RequesterManaged"], alb["RequesterId"]) == (
        "interface",
        True,
        "amazon-elb",
    )
    assert re.fullmatch(r"ELB app/web-alb/[0-9a-f]{16}", alb["Description"])
    assert alb["Association"]["PublicIp"] == "3.80.10.10"
    nat = enis["nat-a"]
    assert nat["InterfaceType"] == "nat_gateway"
    assert nat["Groups"] == []
    assert re.fullmatch(r"Interface for NAT Gateway nat-[0-9a-f]{17}", nat["Description"])
    assert enis["lambda-a"]["InterfaceType"] == "lambda"
    assert enis["lambda-a"]["Description"].startswith("AWS Lambda VPC ENI-reports-")
    assert (enis["postgres"]["RequesterId"], enis["postgres"]["Description"]) == (
        "amazon-rds",
        "RDSNetworkInterface",
    )
    assert enis["redis"]["Description"] == "ElastiCache prod-redis-0001-001"
    assert re.fullmatch(r"i-0[0-9a-f]{16}", enis["web-1"]["Attachment"]["InstanceId"])
    assert [g["GroupName"] for g in enis["api-1"]["Groups"]] == [
        "api",
        "node-exporter",
        "legacy-allow-vpc",
    ]
    assert [a["PrivateIpAddress"] for a in enis["dns"]["PrivateIpAddresses"]] == [
        "10.0.30.20",
        "10.0.30.53",
    ]


def test_security_groups_and_rules_agree() -> None:
    folder = snapshots()[0]
    groups = load_snapshot(folder, "describe-security-groups.json")["SecurityGroups"]
    rules = load_snapshot(folder, "describe-security-group-rules.json")["SecurityGroupRules"]
    by_id = {g["GroupId"]: g for g in groups}
    assert all(g["Tags"][0]["Key"] == "Name" for g in groups)
    defaults = [g for g in groups if g["GroupName"] == "default"]
    assert len(defaults) == 2
    for g in defaults:
        (perm,) = g["IpPermissions"]
        assert perm["IpProtocol"] == "-1"
        assert "FromPort" not in perm
        assert perm["UserIdGroupPairs"] == [{"UserId": ACCOUNT, "GroupId": g["GroupId"]}]
        assert g["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    peers = ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupInfo")
    for rule in rules:
        assert re.fullmatch(r"sgr-0[0-9a-f]{16}", rule["SecurityGroupRuleId"])
        assert sum(p in rule for p in peers) == 1
        assert rule["GroupId"] in by_id
        if rule["IpProtocol"] == "-1":
            assert (rule["FromPort"], rule["ToPort"]) == (-1, -1)
    # Every rule shows up in the group's permissions, and nothing else does.
    for group_id, group in by_id.items():
        count = sum(
            len(p[k])
            for p in group["IpPermissions"] + group["IpPermissionsEgress"]
            for k in ("IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")
        )
        assert count == sum(r["GroupId"] == group_id for r in rules)
    web_alb = next(g for g in groups if g["GroupName"] == "web-alb")
    https = next(p for p in web_alb["IpPermissions"] if p.get("FromPort") == 443)
    assert https["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"
    assert https["Ipv6Ranges"][0]["CidrIpv6"] == "::/0"
    lists = load_snapshot(folder, "describe-managed-prefix-lists.json")["PrefixLists"]
    assert lists[0]["PrefixListName"] == "com.amazonaws.us-east-1.s3"
    assert "MaxEntries" not in lists[0]
    entries = load_snapshot(folder, "get-managed-prefix-list-entries.pl-63a5400a.json")
    assert [e["Cidr"] for e in entries["Entries"]] == [
        "3.5.0.0/19",
        "16.15.176.0/20",
        "16.182.0.0/16",
        "52.216.0.0/15",
        "54.231.0.0/16",
    ]


def test_ground_truth_kinds_are_endpoint_kinds(con: duckdb.DuckDBPyConnection) -> None:
    from zt_flows.inventory.model import EndpointKind

    kinds = con.execute(
        "SELECT DISTINCT client_kind FROM gt UNION SELECT DISTINCT server_kind FROM gt"
    ).fetchall()
    assert {k for (k,) in kinds} == {"eni", "internet", "aws_service"}
    assert {k for (k,) in kinds} <= {k.value for k in EndpointKind}
    names = con.execute(
        "SELECT DISTINCT server FROM gt WHERE server_kind = 'aws_service'"
    ).fetchall()
    assert sorted(n for (n,) in names) == ["AMAZON", "S3"]


def test_the_worker_address_moves_to_a_new_eni(con: duckdb.DuckDBPyConnection) -> None:
    holders = []
    for folder in snapshots():
        doc = load_snapshot(folder, "describe-network-interfaces.json")
        holders.append(
            [
                e["NetworkInterfaceId"]
                for e in doc["NetworkInterfaces"]
                if e["PrivateIpAddress"] == "10.0.12.31"
            ]
        )
    (old,), (new,) = holders
    assert old != new
    replaced = int(datetime(2026, 11, 17, 12, tzinfo=UTC).timestamp())
    old_last, new_first = con.execute(
        'SELECT max(CASE WHEN interface_id = ? THEN "end" END),'
        " min(CASE WHEN interface_id = ? THEN start END) FROM recs",
        [old, new],
    ).fetchone()  # type: ignore[misc]
    assert old_last < replaced <= new_first
    rows = con.execute(
        "SELECT client, min(day), max(day) FROM gt WHERE client IN (?, ?) GROUP BY 1", [old, new]
    ).fetchall()
    assert {r[0]: (str(r[1]), str(r[2])) for r in rows} == {
        old: ("2026-11-16", "2026-11-17"),
        new: ("2026-11-17", "2026-11-18"),
    }


# --------------------------------------------------------------------------- the traffic


def _gt_addresses(con: duckdb.DuckDBPyConnection) -> None:
    """gt_addr: each ground-truth row's client and server addresses, with when they held them."""
    held = eni_holdings()
    always = (0, 2**40)
    rows = []
    for gid, ck, client, sk, server in con.execute(
        "SELECT id, client_kind, client, server_kind, server FROM gt"
    ).fetchall():
        cs = held[client] if ck == "eni" else [(client, *always)]
        ss = held[server] if sk == "eni" else [(None if sk == "aws_service" else server, *always)]
        svc = server if sk == "aws_service" else None
        rows += [(gid, *c, *s, svc) for c in cs for s in ss]
    con.execute(
        "CREATE OR REPLACE TABLE gt_addr (id BIGINT, caddr TEXT, cfrom BIGINT, cuntil BIGINT,"
        " saddr TEXT, sfrom BIGINT, suntil BIGINT, svc TEXT)"
    )
    con.executemany("INSERT INTO gt_addr VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


MATCH = """
    CREATE OR REPLACE TABLE matched AS
    SELECT g.id, count(*) AS records,
           bool_or(r.tcp_flags & 18 = 2) AS syn,
           bool_or(r.interface_id = g.client) AS at_client,
           bool_or(r.interface_id = g.server) AS at_server,
           bool_and(r.action = g.action OR r.flow_direction = 'egress') AS action_ok,
           count(DISTINCT r.srcport) AS ports
    FROM gt g
    JOIN gt_addr a ON a.id = g.id
    JOIN recs r ON r.pkt_srcaddr = a.caddr
               AND (r.pkt_dstaddr = a.saddr OR r.pkt_dst_aws_service = a.svc)
               AND r.protocol = CAST(g.protocol AS INTEGER)
               AND r.dstport = CAST(g.server_port AS INTEGER)
               AND r.day = CAST(g.day AS DATE)
               AND r.start >= greatest(a.cfrom, a.sfrom) AND r.start < least(a.cuntil, a.suntil)
    WHERE r.log_status = 'OK'
    GROUP BY g.id
"""


@pytest.fixture(scope="module")
def matched(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    _gt_addresses(con)
    con.execute(MATCH)
    return con


def test_every_conversation_of_the_ground_truth_is_in_the_records(
    matched: duckdb.DuckDBPyConnection,
) -> None:
    missing = matched.execute("SELECT g.* FROM gt g ANTI JOIN matched m ON m.id = g.id").fetchall()
    assert missing == []
    logged = {eni for name, eni in eni_by_name().items() if name != "ci-runner"}
    rows = matched.execute(
        "SELECT g.client_kind, g.client, g.server_kind, g.server, g.protocol, g.note,"
        " m.syn, m.at_client, m.at_server, m.action_ok FROM gt g JOIN matched m USING (id)"
    ).fetchall()
    for ck, client, sk, server, proto, note, syn, at_client, at_server, action_ok in rows:
        assert action_ok, (client, server, note)
        if proto == "6":
            # The client's first packet: SYN without ACK (pooled ones reconnect every day).
            assert syn, (client, server, note)
        if ck == "eni" and client in logged:
            assert at_client, (client, server)
        if sk == "eni":
            assert at_server, (client, server)


def test_connection_counts_match_the_records(matched: duckdb.DuckDBPyConnection) -> None:
    # A connection keeps its ephemeral port; ports of one pair rarely repeat within a day.
    ports, connections, over = matched.execute(
        "SELECT sum(m.ports), sum(CAST(g.connections AS BIGINT)),"
        " count(*) FILTER (WHERE m.ports > CAST(g.connections AS BIGINT))"
        " FROM gt g JOIN matched m USING (id) WHERE g.protocol <> '1'"
    ).fetchone()  # type: ignore[misc]
    assert over == 0
    assert 0.99 * connections <= ports <= connections


def test_no_record_is_left_unexplained(matched: duckdb.DuckDBPyConnection) -> None:
    """Every OK record is a request or a response of a ground-truth conversation."""
    unexplained = matched.execute(
        """
        SELECT count(*) FROM recs r
        WHERE r.log_status = 'OK' AND NOT EXISTS (
            SELECT 1 FROM gt g JOIN gt_addr a USING (id)
            WHERE r.protocol = CAST(g.protocol AS INTEGER) AND (
                (r.pkt_srcaddr = a.caddr AND r.dstport = CAST(g.server_port AS INTEGER)
                 AND (r.pkt_dstaddr = a.saddr OR r.pkt_dst_aws_service = a.svc))
             OR (r.pkt_dstaddr = a.caddr AND r.srcport = CAST(g.server_port AS INTEGER)
                 AND (r.pkt_srcaddr = a.saddr OR r.pkt_src_aws_service = a.svc))
             OR (r.pkt_srcaddr = ? OR r.pkt_dstaddr = ?)))
        """,
        [NAT_IP, NAT_IP],
    ).fetchone()
    assert unexplained == (0,)


def test_responses_never_start_with_syn_only(con: duckdb.DuckDBPyConnection) -> None:
    server_ports = {
        int(p) for (p,) in con.execute("SELECT DISTINCT server_port FROM gt").fetchall()
    }
    rows = con.execute(
        "SELECT srcport, dstport, tcp_flags FROM recs WHERE tcp_flags & 18 IN (2, 18)"
    ).fetchall()
    for srcport, dstport, flags in rows:
        if flags & 18 == 2:
            assert dstport in server_ports
            assert srcport >= 1024
        else:
            assert srcport in server_ports
    assert set(
        con.execute("SELECT DISTINCT tcp_flags FROM recs WHERE protocol = 6").fetchall()
    ) == {
        (0,),
        (1,),
        (2,),
        (3,),
        (6,),
        (18,),
        (19,),
    }
    assert con.execute(
        "SELECT DISTINCT tcp_flags FROM recs WHERE protocol IN (1, 17)"
    ).fetchall() == [(0,)]


def test_first_intervals_open_with_syn_and_syn_ack(con: duckdb.DuckDBPyConnection) -> None:
    """A connection's first records: SYN (no ACK) from the client, SYN-ACK back."""
    server_ports = [
        int(p) for (p,) in con.execute("SELECT DISTINCT server_port FROM gt").fetchall()
    ]
    # Pooled connections open before the window live at most six hours.
    later = int(datetime(2026, 11, 16, 6, tzinfo=UTC).timestamp())
    firsts = con.execute(
        """
        SELECT list_contains(?, dstport) AS request, arg_min(tcp_flags, start) AS flags, count(*)
        FROM recs WHERE protocol = 6 AND log_status = 'OK'
        GROUP BY interface_id, srcaddr, srcport, dstaddr, dstport
        HAVING min(start) >= ?
        """,
        [server_ports, later],
    ).fetchall()
    assert len(firsts) > 10_000
    assert {flags & 18 for request, flags, _ in firsts if request} == {2}
    assert {flags & 18 for request, flags, _ in firsts if not request} == {18}


def test_four_records_per_interval_between_two_enis(con: duckdb.DuckDBPyConnection) -> None:
    vpc = [a for eni, addrs in eni_addresses().items() for a in addrs if a.startswith("10.0.")]
    vpc.remove(NAT_IP)
    sizes = con.execute(
        """
        SELECT n, bool_or(rejected), count(*) FROM (
            SELECT least(srcaddr || ':' || srcport, dstaddr || ':' || dstport) AS a,
                   greatest(srcaddr || ':' || srcport, dstaddr || ':' || dstport) AS b,
                   protocol, start // 60 AS minute, count(*) AS n,
                   bool_or(action = 'REJECT') AS rejected,
                   count(DISTINCT interface_id) AS enis
            FROM recs WHERE list_contains(?, srcaddr) AND list_contains(?, dstaddr)
            GROUP BY ALL)
        GROUP BY n ORDER BY n
        """,
        [vpc, vpc],
    ).fetchall()
    # Requests and responses on both ENIs; a refused SYN leaves one record on each side.
    assert [(n, rejected) for n, rejected, _ in sizes] == [(2, True), (4, False)]


def test_nat_records_carry_the_real_addresses(con: duckdb.DuckDBPyConnection) -> None:
    nat = eni_by_name()["nat-a"]
    rows = con.execute(
        "SELECT srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, flow_direction, traffic_path,"
        " pkt_src_aws_service, pkt_dst_aws_service FROM recs"
        " WHERE interface_id = ? AND log_status = 'OK'",
        [nat],
    ).fetchall()
    assert rows
    for src, dst, psrc, pdst, direction, path, _, _ in rows:
        assert NAT_IP in (src, dst)
        if src.startswith("10.0.") and dst == NAT_IP:  # from the instance, still untranslated
            assert (psrc, direction) == (src, "ingress")
            assert pdst != NAT_IP
        elif dst.startswith("10.0.") and src == NAT_IP:  # back to the instance
            assert (pdst, direction, path) == (dst, "egress", 1)
            assert psrc != NAT_IP
        else:
            assert (psrc, pdst) == (src, dst)
            assert path == (8 if direction == "egress" else None)
    assert ("10.0.10.21", NAT_IP, "10.0.10.21", "52.217.1.1", "ingress", None, None, "S3") in rows
    others = con.execute(
        "SELECT count(*) FROM recs WHERE interface_id <> ? AND log_status = 'OK'"
        " AND (pkt_srcaddr <> srcaddr OR pkt_dstaddr <> dstaddr)",
        [nat],
    ).fetchone()
    assert others == (0,)


def test_traffic_path_and_aws_services(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute(
        "SELECT count(*) FROM recs WHERE flow_direction = 'ingress' AND traffic_path IS NOT NULL"
    ).fetchone() == (0,)
    paths = dict(
        con.execute(
            "SELECT traffic_path, count(*) FROM recs WHERE flow_direction = 'egress' GROUP BY 1"
        ).fetchall()
    )
    assert set(paths) == {1, 4, 7, 8}
    endpoint = con.execute(
        "SELECT DISTINCT pkt_dst_aws_service, srcaddr FROM recs WHERE traffic_path = 7"
    ).fetchall()
    assert endpoint == [("S3", "10.0.12.31")]
    assert con.execute("SELECT DISTINCT dstaddr FROM recs WHERE traffic_path = 4").fetchall() == [
        ("10.1.5.20",)
    ]
    services = dict(
        con.execute(
            "SELECT pkt_dstaddr, any_value(pkt_dst_aws_service) FROM recs"
            " WHERE pkt_dst_aws_service IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    assert services["52.46.145.233"] == "AMAZON"
    assert {v for k, v in services.items() if k != "52.46.145.233"} == {"S3"}


def test_the_internet_gateway_translates_to_private_addresses(
    con: duckdb.DuckDBPyConnection,
) -> None:
    public = ["3.80.10.10", "3.80.10.11", "3.80.10.20", "3.80.10.30"]
    assert con.execute(
        "SELECT count(*) FROM recs WHERE list_contains(?, srcaddr) OR list_contains(?, dstaddr)",
        [public, public],
    ).fetchone() == (0,)
    v6 = con.execute(
        "SELECT DISTINCT CASE WHEN flow_direction = 'ingress' THEN dstaddr ELSE srcaddr END"
        " FROM recs WHERE type = 'IPv6'"
    ).fetchall()
    assert sorted(a for (a,) in v6) == ["2600:1f18:4a2:5a00::10", "2600:1f18:4a2:5a01::10"]


def test_scans_are_rejected_and_probes_reset(con: duckdb.DuckDBPyConnection) -> None:
    scans = con.execute(
        "SELECT DISTINCT protocol, dstport, action, tcp_flags FROM recs WHERE action = 'REJECT'"
        " AND NOT starts_with(srcaddr, '10.') ORDER BY ALL"
    ).fetchall()
    assert scans == [(1, 0, "REJECT", 0)] + [(6, p, "REJECT", 2) for p in (23, 445, 3389, 8080)]
    probes = con.execute(
        "SELECT tcp_flags, flow_direction, max(bytes) FROM recs r JOIN gt g"
        " ON g.client = r.pkt_srcaddr OR g.client = r.pkt_dstaddr"
        " WHERE g.note LIKE 'probe%' AND 22 IN (r.srcport, r.dstport) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert [(f, d) for f, d, _ in probes] == [(6, "ingress"), (18, "egress")]
    assert max(b for _, _, b in probes) < 200
    lambda_redis = con.execute(
        "SELECT DISTINCT interface_id, action, flow_direction FROM recs"
        " WHERE dstport = 6379 AND action = 'REJECT'"
    ).fetchall()
    assert lambda_redis == [(eni_by_name()["redis"], "REJECT", "ingress")]


def test_weekly_batch_and_idle_enis(con: duckdb.DuckDBPyConnection) -> None:
    names = eni_by_name()
    batch = names["batch"]
    days = con.execute(
        "SELECT DISTINCT day FROM recs WHERE interface_id = ? AND log_status = 'OK'", [batch]
    ).fetchall()
    assert [str(d) for (d,) in days] == ["2026-11-17"]
    nodata = con.execute(
        "SELECT interface_id, day, hour(to_timestamp(start) AT TIME ZONE 'UTC') AS h, srcaddr,"
        " action, packets FROM recs WHERE log_status = 'NODATA'"
    ).fetchall()
    assert {r[0] for r in nodata} == {batch, names["lambda-a"], names["lambda-b"]}
    assert all(r[3:] == (None, None, None) for r in nodata)
    assert {str(r[1]) for r in nodata if r[0] == batch} >= {"2026-11-16", "2026-11-18"}
    assert any(r[0] == names["lambda-a"] and r[2] < 6 for r in nodata)
    assert con.execute("SELECT count(*) FROM recs WHERE log_status = 'SKIPDATA'").fetchone() == (5,)


def test_records_group_like_real_logs(con: duckdb.DuckDBPyConnection) -> None:
    records, groups = con.execute(
        "SELECT count(*), count(DISTINCT (srcaddr, dstaddr, srcport, dstport, protocol))"
        " FROM recs WHERE log_status = 'OK'"
    ).fetchone()  # type: ignore[misc]
    assert 0.3 < groups / records < 0.55


# --------------------------------------------------------------------------- options


def test_v2_writes_the_default_format_as_text(tmp_path: Path) -> None:
    summary = write_sample(tmp_path, log_format="v2")
    committed = sum(1 for p in FLOWLOGS.rglob("*") if p.is_file())
    assert summary.files == committed
    files = sorted((tmp_path / "flowlogs").rglob("*"))
    files = [p for p in files if p.is_file()]
    assert all(p.name.endswith(".log.gz") for p in files)
    assert len(files) == 72
    header = " ".join(f.replace("_", "-") for f in DEFAULT_FORMAT)
    table = pa.concat_tables(read_text_log(p) for p in files)
    for path in files[:3]:
        assert gzip.decompress(path.read_bytes()).decode().splitlines()[0] == header
    assert table.num_rows == summary.records
    assert set(table["version"].to_pylist()) == {2}
    assert table["tcp_flags"].null_count == table.num_rows
    assert table["pkt_srcaddr"].null_count == table.num_rows
    # The same connections as the committed sample, in the default format.
    assert summary.records == read_flow_logs(FLOWLOGS).num_rows
    # One flow log wrote them, and it has the default format.
    for folder in sorted((tmp_path / "inventory").iterdir()):
        (log,) = json.loads((folder / "describe-flow-logs.json").read_text())["FlowLogs"]
        assert log["FlowLogId"] == "fl-0f9e8d7c6b5a40321"
        assert log["LogFormat"] == " ".join(
            "${" + f.replace("_", "-") + "}" for f in DEFAULT_FORMAT
        )
        assert log["DestinationOptions"]["FileFormat"] == "plain-text"


@pytest.mark.parametrize("target", [30_000, 250_000])
def test_records_scales_the_scenario(tmp_path: Path, target: int) -> None:
    summary = write_sample(tmp_path, records=target, delivery="parquet")
    assert isinstance(summary, SampleSummary)
    assert abs(summary.records - target) <= 0.1 * target
    files = sorted((tmp_path / "flowlogs").rglob("*.log.parquet"))
    assert len(files) == 72
    assert sum(pq.ParquetFile(p).metadata.num_rows for p in files) == summary.records
    flow_logs = tmp_path / "inventory" / "2026-11-18T23-30-00Z" / "describe-flow-logs.json"
    (log,) = json.loads(flow_logs.read_text())["FlowLogs"]
    assert (log["FlowLogId"], log["TrafficType"]) == ("fl-0a1b2c3d4e5f60718", "ALL")


def test_seed_changes_the_traffic_not_the_estate(tmp_path: Path) -> None:
    write_sample(tmp_path, seed=7)
    assert filecmp.cmp(
        tmp_path / "inventory/2026-11-16T00-00-00Z/describe-network-interfaces.json",
        SAMPLE / "inventory/2026-11-16T00-00-00Z/describe-network-interfaces.json",
        shallow=False,
    )
    assert not filecmp.cmp(
        tmp_path / "ground_truth.csv", SAMPLE / "ground_truth.csv", shallow=False
    )


def test_cli_help_and_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--records" in capsys.readouterr().out
    code = main(["--out", str(tmp_path / "x"), "--log-format", "v2", "--delivery", "parquet"])
    assert code == 2
    assert "cannot be delivered as Parquet" in capsys.readouterr().err
    (tmp_path / "theirs" / "flowlogs").mkdir(parents=True)
    assert main(["--out", str(tmp_path / "theirs")]) == 2
    assert (tmp_path / "theirs" / "flowlogs").is_dir()


def test_scaled_estates_give_every_replica_a_valid_address_in_its_subnet() -> None:
    import ipaddress

    from zt_flows.sample.network import build_network

    network = build_network(replicas=40)
    # worker-1b takes over worker-1's address on purpose; every other address is unique.
    addresses = [ip for eni in network.enis if eni.name != "worker-1b" for ip in eni.private_ips]
    assert len(addresses) == len(set(addresses))
    assert len(network.enis) > 60
    for eni in network.enis:
        subnet = ipaddress.ip_network(network.subnet(eni.subnet).cidr)
        for ip in eni.private_ips:
            assert ipaddress.ip_address(ip) in subnet, (eni.name, ip)
