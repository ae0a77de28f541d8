"""Every format AWS writes flow logs in, as the project's own fixtures
(tests/fixtures/flowlogs/formats/, see its README): fields of versions 9 to 11, header
fields ztflows does not know, Transit Gateway flow logs, text without a header
(CloudWatch Logs messages, with --fields), CloudWatch Logs export files, objects
concatenated into one file, and what is refused with a message.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import FIXTURES
from support.sources import connect, settings_for

from zt_flows.cli import main
from zt_flows.cli.common import build_settings
from zt_flows.errors import FlowLogFormatError, InputError, UsageError
from zt_flows.schema import FIELDS, parse_field_list
from zt_flows.sources import read_flow_logs

FORMATS = FIXTURES / "flowlogs" / "formats"


def _read(path: Path, cache: Path, **kwargs: Any) -> tuple[Any, Any, list[dict[str, Any]]]:
    fields = kwargs.pop("fields", None)
    settings = settings_for(cache, **kwargs)
    if fields is not None:
        settings = replace(settings, sources=replace(settings.sources, text_fields=fields))
    con = connect()
    flows = read_flow_logs(path, settings, con)
    cursor = con.execute(f'SELECT * FROM "{flows.all_view}" ORDER BY start, srcport')
    names = [d[0] for d in cursor.description]
    records = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return flows, flows.summarize(con), records


def test_encryption_status_is_read_as_an_integer(tmp_path: Path) -> None:
    _, summary, records = _read(FORMATS / "v10-encryption-status.log", tmp_path / "c")
    got = sorted((r["srcport"], r["encryption_status"], r["traffic_path"]) for r in records)
    assert got == [(8080, 1, 1), (8080, 3, 1), (40112, 0, None), (51544, 1, None)]
    assert summary.unknown_fields == ()


def test_every_field_of_version_11(tmp_path: Path) -> None:
    _, _, records = _read(FORMATS / "v11-every-field.log", tmp_path / "c")
    first = next(r for r in records if r["action"] == "ACCEPT")
    assert first["resource_id"] == "nat-0dd00dd00dd00dd01"
    assert first["encryption_status"] == 1
    assert first["instance_tag"] == "team%3Dcart"
    assert first["asg_tag"] == "asg%3Dcart%2Dworkers"
    assert first["next_hop_interface_type"] == "nat_gateway"
    assert first["ecs_task_id"] == "77aa"
    rejected = next(r for r in records if r["action"] == "REJECT")
    assert (rejected["reject_reason"], rejected["encryption_status"]) == ("BPA", 0)
    # Every canonical field of the header landed in its column, none was left unknown.
    header = (FORMATS / "v11-every-field.log").read_text().split("\n", 1)[0].split()
    assert {h.replace("-", "_") for h in header} <= {f.name for f in FIELDS}


def test_an_unknown_header_field_is_carried_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows, summary, records = _read(FORMATS / "unknown-field.log", tmp_path / "c")
    assert len(records) == 2
    assert flows.objects[0].unknown_fields == ("flow-quality-score",)
    assert [(u.name, u.objects) for u in summary.unknown_fields] == [("flow-quality-score", 1)]
    assert "flow-quality-score" in summary.to_json()
    code = main(["ingest", str(FORMATS / "unknown-field.log"), "--cache-dir", str(tmp_path), "-q"])
    assert code == 0
    assert "fields carried but not read: flow-quality-score (1 objects)" in capsys.readouterr().err


def test_unknown_parquet_columns_are_reported(tmp_path: Path) -> None:
    table = pa.table(
        {
            "srcaddr": ["10.0.0.1"],
            "dstaddr": ["10.0.0.2"],
            "log_status": ["OK"],
            "flow_quality_score": [97],
        }
    )
    (tmp_path / "src").mkdir()
    pq.write_table(table, tmp_path / "src" / "x.log.parquet")
    _flows, summary, _ = _read(tmp_path / "src", tmp_path / "c")
    assert [(u.name, u.objects) for u in summary.unknown_fields] == [("flow_quality_score", 1)]


def test_a_transit_gateway_text_log_is_counted_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FORMATS / "transit-gateway-default.log", src)
    shutil.copy(FORMATS / "headerless-v2.log", src)
    flows, summary, records = _read(src, tmp_path / "c")
    assert [o.uri for o in flows.objects] == [str(src / "headerless-v2.log")]
    assert (summary.transit_gateway_objects, summary.transit_gateway_records) == (1, 2)
    assert summary.records == 3
    assert all(r["interface_id"] == "eni-0aa11bb22cc33dd44" for r in records)
    assert main(["ingest", str(src), "--cache-dir", str(tmp_path / "c"), "-q"]) == 0
    err = capsys.readouterr().err
    assert "2 Transit Gateway records (1 whole objects) not read" in err


def test_a_transit_gateway_log_alone_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(InputError, match="2 Transit Gateway records"):
        _read(FORMATS / "transit-gateway-default.log", tmp_path / "c")
    path = str(FORMATS / "transit-gateway-default.log")
    assert main(["ingest", path, "--cache-dir", str(tmp_path / "c"), "-q"]) == 2
    assert "nothing left to read" in capsys.readouterr().err


def test_a_transit_gateway_parquet_log_is_counted_not_read(tmp_path: Path) -> None:
    table = pa.table(
        {
            "version": pa.array([6], pa.int32()),
            "resource_type": ["TransitGateway"],
            "account_id": ["210987654321"],
            "tgw_id": ["tgw-0123abcd4567ef890"],
            "tgw_attachment_id": ["tgw-attach-0aa11bb22cc33dd44"],
            "srcaddr": ["10.2.1.15"],
            "dstaddr": ["10.4.7.8"],
            "srcport": pa.array([50514], pa.int32()),
            "dstport": pa.array([5432], pa.int32()),
            "log_status": ["OK"],
        }
    )
    src = tmp_path / "src"
    src.mkdir()
    pq.write_table(table, src / "tgw.log.parquet")
    shutil.copy(FORMATS / "headerless-v2.log", src)
    flows, summary, _ = _read(src, tmp_path / "c")
    assert [o.uri for o in flows.objects] == [str(src / "headerless-v2.log")]
    assert (summary.transit_gateway_objects, summary.transit_gateway_records) == (1, 1)


def test_a_transit_gateway_record_inside_a_vpc_stream_is_left_out(tmp_path: Path) -> None:
    _, summary, records = _read(FORMATS / "transit-gateway-in-v2-stream.log", tmp_path / "c")
    assert [r["account_id"] for r in records] == ["210987654321"]
    assert (summary.transit_gateway_objects, summary.transit_gateway_records) == (0, 1)
    assert summary.skipped == ()


def test_text_without_a_header_takes_the_default_format(tmp_path: Path) -> None:
    _, summary, records = _read(FORMATS / "headerless-v2.log", tmp_path / "c")
    assert (summary.records, summary.flows, summary.nodata) == (3, 2, 1)
    assert (records[0]["srcport"], records[0]["dstport"]) == (443, 49822)


def test_text_without_a_header_takes_fields(tmp_path: Path) -> None:
    fmt = (
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
        "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} "
        "${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-service-name} ${ecs-task-arn} ${ecs-task-id}"
    )
    _, _, records = _read(
        FORMATS / "ecs-headerless.log", tmp_path / "c", fields=parse_field_list(fmt)
    )
    assert [(r["version"], r["ecs_service_name"], r["ecs_task_id"]) for r in records] == [
        (7, "cart", "77aa")
    ]
    # Without --fields the same file is refused, and the message says where the fields
    # came from.
    with pytest.raises(FlowLogFormatError) as info:
        _read(FORMATS / "ecs-headerless.log", tmp_path / "c2")
    assert info.value.expected == (
        "14 space-separated fields, as the version-2 default format (no header line; see"
        " --fields) names"
    )
    assert info.value.found == "19 fields"


def test_the_field_list_forms() -> None:
    assert parse_field_list("${version} ${account-id}") == ("version", "account-id")
    assert parse_field_list("version account_id, srcaddr") == ("version", "account-id", "srcaddr")
    with pytest.raises(ValueError, match="twice"):
        parse_field_list("version version")
    with pytest.raises(ValueError, match="at least one"):
        parse_field_list("  ")


def test_a_bad_fields_option_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", str(FORMATS / "headerless-v2.log"), "--fields", "${a} ${a}"]) == 2
    assert capsys.readouterr().err.startswith("error: --fields: each field once, found 'a' twice")
    with pytest.raises(UsageError):
        build_settings(fields="src/addr")


def test_a_cloudwatch_logs_export_folder(tmp_path: Path) -> None:
    flows, _summary, records = _read(FORMATS / "export", tmp_path / "c")
    assert len(flows.objects) == 1
    assert flows.objects[0].uri.endswith("0f1e2d3c-task/eni-0aa11bb22cc33dd44-all/000000.gz")
    assert [(r["srcport"], r["bytes"]) for r in records] == [(443, 9100), (49822, 3400)]


def test_objects_concatenated_into_one_file(tmp_path: Path) -> None:
    _, summary, _records = _read(FORMATS / "concatenated.log", tmp_path / "c")
    assert summary.records == 2
    assert summary.skipped == ()


def test_a_json_document_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FlowLogFormatError) as info:
        _read(FORMATS / "json-message.log", tmp_path / "c")
    assert info.value.location.line == 1
    assert "JSON document" in info.value.found


def test_parquet_and_text_of_version_11_agree(tmp_path: Path) -> None:
    """The same records as Parquet, with AWS's types for the new fields, read the same."""
    _, _, from_text = _read(FORMATS / "v11-every-field.log", tmp_path / "c")
    header = (FORMATS / "v11-every-field.log").read_text().split("\n", 1)[0].split()
    names = [h.replace("-", "_") for h in header]
    schema = pa.schema([next(pa.field(f.name, f.arrow_type) for f in FIELDS if f.name == n)
                        for n in names])  # fmt: skip
    table = pa.Table.from_pylist([{n: r[n] for n in names} for r in from_text], schema=schema)
    sink = io.BytesIO()
    pq.write_table(table, sink)
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "x.log.parquet").write_bytes(sink.getvalue())
    _, _, from_parquet = _read(tmp_path / "p", tmp_path / "c")
    assert from_parquet == from_text
