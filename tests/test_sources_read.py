"""read_flow_logs over local folders and files: formats, schemas, windows, the output file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from support.sources import (
    ACCOUNT,
    DEFAULT_TEXT_FIELDS,
    V5_FIELDS,
    at,
    connect,
    default_key,
    epoch,
    hive_key,
    nodata,
    parquet_bytes,
    record,
    rows,
    settings_for,
    text_bytes,
    write,
)

from zt_flows.errors import SourceNotFoundError
from zt_flows.schema import FIELDS
from zt_flows.sources import FlowLogs, read_flow_logs, write_records


def _bucket_copy(root: Path) -> dict[str, list[dict[str, object]]]:
    """A local folder laid out like a bucket: Hive hourly Parquet, default daily text."""
    day16 = [
        record("2026-11-16T05:01:00Z", srcport=40001),
        record("2026-11-16T05:02:00Z", srcport=40002, action="REJECT"),
        nodata("2026-11-16T05:03:00Z"),
    ]
    day17 = [
        record("2026-11-17T10:00:00Z", srcport=40003),
        nodata("2026-11-17T10:01:00Z", "SKIPDATA"),
    ]
    day18 = [
        record("2026-11-18T00:01:00Z", version=2, srcport=40004),
        record("2026-11-18T23:58:00Z", srcport=40005, srcaddr="2600:1f18:4a2:5a00::10"),
    ]
    write(root, hive_key(at("2026-11-16T05:00:00Z")), parquet_bytes(day16))
    write(root, hive_key(at("2026-11-17T10:00:00Z")), parquet_bytes(day17, V5_FIELDS))
    write(root, default_key(at("2026-11-18T00:00:00Z")), text_bytes(day18[:1]))
    write(root, default_key(at("2026-11-18T23:55:00Z")), text_bytes(day18[1:]))
    # Not flow logs: ignored.
    write(root, "inventory/describe-vpcs.json", b"{}")
    write(root, "AWSLogs/aws-logs-write-test", b"test")
    return {"16": day16, "17": day17, "18": day18}


def test_folder_mirroring_a_bucket(tmp_path: Path) -> None:
    days = _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    flows = read_flow_logs(tmp_path / "flowlogs", settings_for(tmp_path / "cache"), con)
    assert [o.format for o in flows.objects] == ["text", "text", "parquet", "parquet"]
    assert {o.layout for o in flows.objects} == {"hive", "default"}
    assert {o.account_id for o in flows.objects} == {ACCOUNT}
    assert all(o.fetched == "local" for o in flows.objects)
    everything = [r for day in days.values() for r in day]
    assert rows(con, flows.all_view) == sorted(
        everything, key=lambda r: (r["start"], r["interface_id"], r["srcport"] or 0)
    )
    assert [r["srcport"] for r in rows(con, flows.view)] == [40001, 40002, 40003, 40004, 40005]
    summary = flows.summarize(con)
    assert (summary.objects, summary.records, summary.flows, summary.nodata, summary.skipdata) == (
        4,
        7,
        5,
        1,
        1,
    )
    assert [(v.version, v.records) for v in summary.versions] == [(2, 3), (5, 4)]
    assert summary.first_start == at("2026-11-16T05:01:00Z")
    assert summary.last_end == at("2026-11-18T23:59:00Z")
    assert (summary.local, summary.downloaded, summary.cached) == (4, 0, 0)


def test_view_columns_and_types_are_canonical(tmp_path: Path) -> None:
    _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    flows = read_flow_logs(tmp_path / "flowlogs", settings_for(tmp_path / "cache"), con)
    for view in (flows.view, flows.all_view):
        described = con.execute(f'DESCRIBE "{view}"').fetchall()
        assert [(d[0], d[1]) for d in described] == [(f.name, f.duckdb_type) for f in FIELDS]
    relation = flows.relation(con)
    assert isinstance(relation, duckdb.DuckDBPyRelation)
    assert relation.aggregate("count(*)").fetchall() == [(5,)]


@pytest.mark.parametrize(
    ("since", "until"),
    [
        ("2026-11-16T05:02:30Z", "2026-11-17T00:00:00Z"),
        ("2026-11-17T00:00:00Z", "2026-11-18T00:00:00Z"),
        ("2026-11-18T23:58:59Z", None),
        (None, "2026-11-16T05:02:00Z"),
    ],
)
def test_window_filters_rows_exactly(tmp_path: Path, since: str | None, until: str | None) -> None:
    days = _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    settings = settings_for(tmp_path / "cache", since=since, until=until)
    flows = read_flow_logs(tmp_path / "flowlogs", settings, con)
    lo = epoch(since) if since else -1
    hi = epoch(until) if until else 2**62
    expected = sorted(
        (r for day in days.values() for r in day if r["end"] >= lo and r["start"] < hi),
        key=lambda r: (r["start"], r["interface_id"], r["srcport"] or 0),
    )
    assert rows(con, flows.all_view) == expected


def test_window_prunes_objects_by_key(tmp_path: Path) -> None:
    _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    settings = settings_for(tmp_path / "cache", since="2026-11-18T00:00:00Z")
    flows = read_flow_logs(tmp_path / "flowlogs", settings, con)
    assert (flows.listed, flows.pruned) == (4, 2)
    assert [o.format for o in flows.objects] == ["text", "text"]


def test_output_is_canonical_deterministic_and_a_source(tmp_path: Path) -> None:
    _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    settings = settings_for(tmp_path / "cache")
    flows = read_flow_logs(tmp_path / "flowlogs", settings, con)
    first = write_records(flows, con, tmp_path / "out" / "records.parquet")
    assert first.records == 7
    assert first.output == tmp_path / "out" / "records.parquet"
    assert pq.read_schema(first.output).names == [f.name for f in FIELDS]
    digest = hashlib.sha256(first.output.read_bytes()).hexdigest()
    con_again = connect()
    again_flows = read_flow_logs(tmp_path / "flowlogs", settings, con_again)
    again = write_records(again_flows, con_again, tmp_path / "again.parquet")
    assert hashlib.sha256(again.output.read_bytes()).hexdigest() == digest  # type: ignore[union-attr]
    assert [p.name for p in (tmp_path / "out").iterdir()] == [
        "records.parquet"
    ]  # no temp file left
    # The output reads back as a source, NODATA/SKIPDATA included.
    con2 = connect()
    reread = read_flow_logs(first.output, settings, con2)  # type: ignore[arg-type]
    assert rows(con2, reread.all_view) == rows(con, flows.all_view)
    summary = reread.summarize(con2)
    assert (summary.records, summary.nodata, summary.skipdata) == (7, 1, 1)


def test_schemas_mixed_subsets_extras_and_hyphenated_names(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    base = record(
        "2026-11-16T01:00:00Z",
        srcport=50001,
        tcp_flags=None,
        vpc_id=None,
        subnet_id=None,
        type=None,
        flow_direction=None,
    )
    write(root, "a/only-default.log.parquet", parquet_bytes([base], DEFAULT_TEXT_FIELDS))
    write(
        root,
        "b/extras.log.parquet",
        parquet_bytes(
            [record("2026-11-16T01:01:00Z", srcport=50002)],
            V5_FIELDS,
            extra={"my_tag": ["x"], "aws-account-id": [12345678901]},
        ),
    )
    write(
        root,
        "c/hyphens.log.parquet",
        parquet_bytes(
            [record("2026-11-16T01:02:00Z", srcport=50003)],
            V5_FIELDS,
            rename={"log_status": "log-status"},
        ),
    )
    write(
        root,
        "d/custom-order.log.gz",
        text_bytes([record("2026-11-16T01:03:00Z", srcport=50004)], tuple(reversed(V5_FIELDS))),
    )
    con = connect()
    flows = read_flow_logs(root, settings_for(tmp_path / "cache"), con)
    got = rows(con, flows.all_view)
    assert [r["srcport"] for r in got] == [50001, 50002, 50003, 50004]
    assert got[0]["vpc_id"] is None
    assert got[1]["vpc_id"] == "vpc-0a1b2c3d"
    assert all(r["log_status"] == "OK" and r["account_id"] == ACCOUNT for r in got)
    assert "my_tag" not in got[1]
    assert flows.objects[0].fields == DEFAULT_TEXT_FIELDS
    assert flows.objects[3].fields == tuple(reversed(V5_FIELDS))


def test_single_files_of_each_format(tmp_path: Path) -> None:
    recs = [record("2026-11-16T02:00:00Z")]
    paths = {
        "gzip text": write(tmp_path, "one.log.gz", text_bytes(recs)),
        "plain text": write(tmp_path, "one.log", text_bytes(recs) and _plain(recs)),
        "parquet": write(tmp_path, "one.log.parquet", parquet_bytes(recs)),
        "sniffed": write(tmp_path, "one.download", parquet_bytes(recs)),
    }
    for path in paths.values():
        con = connect()
        flows = read_flow_logs(path, settings_for(tmp_path / "cache"), con)
        assert rows(con, flows.view) == recs


def _plain(recs: list[dict[str, object]]) -> bytes:
    import gzip

    return gzip.decompress(text_bytes(recs))


def test_text_conversion_is_cached(tmp_path: Path) -> None:
    write(tmp_path / "src", "x.log.gz", text_bytes([record()]))
    settings = settings_for(tmp_path / "cache")
    first = read_flow_logs(tmp_path / "src", settings, connect())
    second = read_flow_logs(tmp_path / "src", settings, connect())
    assert first.objects[0].converted
    assert not second.objects[0].converted
    assert first.objects[0].local_path == second.objects[0].local_path
    assert len(list((tmp_path / "cache" / "converted").rglob("*.parquet"))) == 1
    # A changed file is converted again (its size and mtime are part of the key).
    write(tmp_path / "src", "x.log.gz", text_bytes([record(), record(srcport=1)]))
    third = read_flow_logs(tmp_path / "src", settings, connect())
    assert third.objects[0].converted


def test_empty_window_gives_empty_views(tmp_path: Path) -> None:
    _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    settings = settings_for(tmp_path / "cache", since="2030-01-01T00:00:00Z")
    flows = read_flow_logs(tmp_path / "flowlogs", settings, con)
    assert flows.objects == ()
    assert flows.pruned == 4
    assert con.execute(f'SELECT count(*) FROM "{flows.view}"').fetchone() == (0,)
    assert [d[0] for d in con.execute(f'DESCRIBE "{flows.view}"').fetchall()] == [
        f.name for f in FIELDS
    ]
    assert flows.summarize(con).records == 0


def test_missing_and_empty_sources(tmp_path: Path) -> None:
    with pytest.raises(SourceNotFoundError, match="does not exist"):
        read_flow_logs(tmp_path / "nope", settings_for(tmp_path / "cache"), connect())
    (tmp_path / "empty").mkdir()
    write(tmp_path / "empty", "notes.txt.md", b"hello")
    with pytest.raises(SourceNotFoundError, match="no flow-log files"):
        read_flow_logs(tmp_path / "empty", settings_for(tmp_path / "cache"), connect())


def test_two_reads_on_one_connection_do_not_clash(tmp_path: Path) -> None:
    _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    a = read_flow_logs(tmp_path / "flowlogs", settings_for(tmp_path / "cache"), con)
    b = read_flow_logs(
        tmp_path / "flowlogs", settings_for(tmp_path / "cache", since="2026-11-18T00:00:00Z"), con
    )
    assert isinstance(a, FlowLogs)
    assert a.view != b.view
    assert con.execute(f'SELECT count(*) FROM "{a.view}"').fetchone() == (5,)
    assert con.execute(f'SELECT count(*) FROM "{b.view}"').fetchone() == (2,)


def test_output_path_that_is_a_folder(tmp_path: Path) -> None:
    from zt_flows.errors import OutputError

    _bucket_copy(tmp_path / "flowlogs")
    con = connect()
    flows = read_flow_logs(tmp_path / "flowlogs", settings_for(tmp_path / "cache"), con)
    (tmp_path / "taken").mkdir()
    with pytest.raises(OutputError, match="is a folder"):
        write_records(flows, con, tmp_path / "taken")
