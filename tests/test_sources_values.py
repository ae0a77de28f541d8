"""Bad values: each stops the run naming the object, row or line, column, expected and
found (exit 2), or under --on-error skip is left out and counted; never an exit 70, never a
record that becomes a conversation with no client.

Parquet objects are checked by one DuckDB scan (zt_flows.sources.checks), text objects
while they are converted; both follow zt_flows.sources.values.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.sources import (
    ALL_FIELDS,
    connect,
    parquet_bytes,
    raw_text_bytes,
    record,
    settings_for,
    write,
)

from zt_flows.cli import main
from zt_flows.errors import FlowLogFormatError, InputError
from zt_flows.schema import ARROW_SCHEMA
from zt_flows.sources import read_flow_logs, write_records
from zt_flows.sources.checks import proven_rules, rules_for
from zt_flows.sources.parquet import inspect_parquet

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
GOOD = (
    "2 012345678901 eni-0a1b2c3d4e5f60001 10.0.10.11 10.0.20.5 43416 5432 6 10 840 "
    "1763251200 1763251260 ACCEPT OK"
)


def _parquet(records: list[dict[str, Any]], schema: pa.Schema | None = None) -> bytes:
    schema = schema or pa.schema([ARROW_SCHEMA.field(f) for f in ALL_FIELDS])
    table = pa.Table.from_pylist(
        [{f.name: r.get(f.name) for f in schema} for r in records], schema=schema
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _with_type(name: str, data_type: pa.DataType) -> pa.Schema:
    return pa.schema(
        [pa.field(f, data_type) if f == name else ARROW_SCHEMA.field(f) for f in ALL_FIELDS]
    )


GOOD_RECORDS = [record(srcport=40000 + i) for i in range(5)]

# name: (the bad record's values, schema or None, column, expected fragment, found fragment)
PARQUET_CASES: dict[str, tuple[dict[str, Any], pa.Schema | None, str, str, str]] = {
    "port above 65535": ({"dstport": 70000}, None, "dstport", "0-65535", "'70000'"),
    "unsigned value that overflows": (
        {"bytes": 2**64 - 1},
        _with_type("bytes", pa.uint64()),
        "bytes",
        "a non-negative integer up to 9223372036854775807",
        "'18446744073709551615'",
    ),
    "an address that is none": (
        {"srcaddr": "999.1.1.1"},
        None,
        "srcaddr",
        "an IPv4 or IPv6 address",
        "'999.1.1.1'",
    ),
    "negative bytes": ({"bytes": -5}, None, "bytes", "a non-negative integer", "'-5'"),
    "negative packets": ({"packets": -1}, None, "packets", "a non-negative integer", "'-1'"),
    "start after end": (
        {"start": 1763251300, "end": 1763251200},
        None,
        "start",
        "a start no later than the end",
        "start 1763251300 after end 1763251200",
    ),
    "a NUL byte": (
        {"interface_id": "eni-0a1b\x002c3d"},
        None,
        "interface-id",
        "text without NUL bytes",
        "a NUL byte",
    ),
    "a flow without addresses": (
        {"srcaddr": None},
        None,
        "srcaddr",
        "an address (the record is a flow)",
        "no value",
    ),
}


@pytest.mark.parametrize("case", sorted(PARQUET_CASES))
def test_a_bad_parquet_value_stops_with_the_object_row_and_column(
    case: str, tmp_path: Path
) -> None:
    values, schema, column, expected, found = PARQUET_CASES[case]
    bad = record(srcport=41000, **values)
    path = write(tmp_path / "src", "x.log.parquet", _parquet([*GOOD_RECORDS, bad], schema))
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    error = info.value
    assert error.location.source == str(path)
    assert error.location.row == 6
    assert error.location.column == column
    assert expected in error.expected
    assert found in error.found
    assert str(error).startswith(f"{path}, row 6, column {column!r}: expected ")


@pytest.mark.parametrize("case", sorted(PARQUET_CASES))
def test_a_bad_parquet_value_is_skipped_and_counted(case: str, tmp_path: Path) -> None:
    values, schema, column, _, _ = PARQUET_CASES[case]
    bad = [record(srcport=41000 + i, **values) for i in range(2)]
    write(tmp_path / "src", "x.log.parquet", _parquet([*GOOD_RECORDS, *bad], schema))
    con = connect()
    settings = settings_for(tmp_path / "cache", on_error="skip")
    flows = read_flow_logs(tmp_path / "src", settings, con)
    summary = write_records(flows, con, tmp_path / "out.parquet")
    assert summary.records == 5
    assert (summary.skipped_records, summary.skipped_objects, summary.skipped_lines) == (2, 0, 0)
    assert summary.skipped[0].location.column == column
    ports = con.execute(f'SELECT srcport FROM "{flows.view}" ORDER BY 1').fetchall()
    assert [p[0] for p in ports] == [40000, 40001, 40002, 40003, 40004]
    # A second run reads the verdict from the cache, and skips the same records.
    con = connect()
    again = read_flow_logs(tmp_path / "src", settings, con).summarize(con)
    assert (again.records, again.skipped_records) == (5, 2)


@pytest.mark.parametrize("case", sorted(PARQUET_CASES))
def test_a_bad_parquet_value_through_the_cli(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values, schema, column, _, _ = PARQUET_CASES[case]
    path = write(
        tmp_path / "src", "x.log.parquet", _parquet([*GOOD_RECORDS, record(**values)], schema)
    )
    args = ["ingest", str(tmp_path / "src"), "--cache-dir", str(tmp_path / "c"), "-q"]
    assert main([*args, "--out", str(tmp_path / "o.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}, row 6, column {column!r}: expected ")
    assert "--on-error skip" in err
    assert not (tmp_path / "o.parquet").exists()
    assert main([*args, "--on-error", "skip", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped"]["records"] == 1
    assert doc["records"]["total"] == 5


def _range_rules(path: Path) -> tuple[dict[str, int], frozenset[int]]:
    """The index of each integer range rule of ``path`` by column, and those its footer
    proves."""
    columns = inspect_parquet(path, str(path))
    rules = rules_for(columns)
    ranged = {r.physical: i for i, r in enumerate(rules) if r.physical is not None}
    return ranged, proven_rules(connect(), rules, [path])


def test_footer_statistics_prove_the_range_rules_of_good_objects(tmp_path: Path) -> None:
    path = write(tmp_path / "src", "x.log.parquet", _parquet(GOOD_RECORDS))
    ranged, proven = _range_rules(path)
    assert {"srcport", "dstport", "protocol", "packets", "bytes", "start", "end"} <= set(ranged)
    assert proven == frozenset(ranged.values())


def test_a_row_group_out_of_range_proves_nothing_for_its_column(tmp_path: Path) -> None:
    """Two row groups: the second's dstport maximum is out of range, so dstport is scanned
    row by row (and found); the other columns stay proven."""
    bad = record(srcport=41000, dstport=70000)
    table = pa.Table.from_pylist(
        [*GOOD_RECORDS, bad], schema=pa.schema([ARROW_SCHEMA.field(f) for f in ALL_FIELDS])
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=3)
    path = write(tmp_path / "src", "x.log.parquet", sink.getvalue())
    assert pq.read_metadata(path).num_row_groups == 2
    ranged, proven = _range_rules(path)
    assert ranged["dstport"] not in proven
    assert proven == frozenset(ranged.values()) - {ranged["dstport"]}
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    assert (info.value.location.row, info.value.location.column) == (6, "dstport")


@pytest.mark.parametrize("case", ["negative bytes", "port above 65535"])
def test_objects_without_statistics_are_checked_row_by_row(case: str, tmp_path: Path) -> None:
    values, _, column, _, found = PARQUET_CASES[case]
    table = pa.Table.from_pylist(
        [*GOOD_RECORDS, record(srcport=41000, **values)],
        schema=pa.schema([ARROW_SCHEMA.field(f) for f in ALL_FIELDS]),
    )
    sink = io.BytesIO()
    pq.write_table(table, sink, write_statistics=False)
    path = write(tmp_path / "src", "x.log.parquet", sink.getvalue())
    assert _range_rules(path)[1] == frozenset()
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    assert (info.value.location.row, info.value.location.column) == (6, column)
    assert found in info.value.found


TEXT_CASES: dict[str, tuple[str, str, str, str]] = {
    "an address that is none": (
        GOOD.replace("10.0.10.11", "999.1.1.1"),
        "srcaddr",
        "an IPv4 or IPv6 address",
        "'999.1.1.1'",
    ),
    "start after end": (
        GOOD.replace("1763251200 1763251260", "1763251300 1763251260"),
        "start",
        "a start no later than the end",
        "start 1763251300 after end 1763251260",
    ),
    "a flow without addresses": (
        GOOD.replace("10.0.20.5", "-"),
        "dstaddr",
        "an address (the record is a flow)",
        "'-'",
    ),
    "a bytes value that overflows": (
        GOOD.replace(" 840 ", " 99999999999999999999 "),
        "bytes",
        "a non-negative integer",
        "'99999999999999999999'",
    ),
    "negative packets": (GOOD.replace(" 10 840 ", " -10 840 "), "packets", "non-negative", "'-10'"),
}


@pytest.mark.parametrize("case", sorted(TEXT_CASES))
def test_a_bad_text_value_stops_or_is_skipped(case: str, tmp_path: Path) -> None:
    line, column, expected, found = TEXT_CASES[case]
    path = write(tmp_path / "src", "x.log.gz", raw_text_bytes(f"{HEADER}\n{GOOD}\n{line}\n"))
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    error = info.value
    assert (error.location.source, error.location.line, error.location.column) == (
        str(path),
        3,
        column,
    )
    assert expected in error.expected
    assert found in error.found
    con = connect()
    settings = settings_for(tmp_path / "cache", on_error="skip")
    summary = read_flow_logs(tmp_path / "src", settings, con).summarize(con)
    assert (summary.records, summary.skipped_lines) == (1, 1)


def test_a_nul_byte_in_a_text_line(tmp_path: Path) -> None:
    line = GOOD.replace("eni-0a1b2c3d4e5f60001", "eni-0a1b\x002c3d4e5f60001")
    write(tmp_path / "src", "x.log.gz", raw_text_bytes(f"{HEADER}\n{line}\n{GOOD}\n"))
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    location = info.value.location
    assert (location.line, location.column) == (2, "interface-id")
    assert info.value.found == "a NUL byte in the value"


def test_ipv6_and_embedded_ipv4_addresses_are_valid(tmp_path: Path) -> None:
    addresses = ["2001:db8::1", "::ffff:10.0.0.1", "fe80::a:b:c:d", "2a02:cf40::", "::1"]
    recs = [record(srcaddr=a, srcport=40000 + i) for i, a in enumerate(addresses)]
    write(tmp_path / "src", "x.log.parquet", parquet_bytes(recs))
    con = connect()
    flows = read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), con)
    assert flows.summarize(con).records == 5


def test_a_run_that_skipped_everything_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path / "src",
        "x.log.parquet",
        _parquet([record(srcaddr="999.1.1.1", srcport=i) for i in range(3)]),
    )
    settings = settings_for(tmp_path / "cache", on_error="skip")
    with pytest.raises(InputError, match="every record was skipped \\(3 bad records\\)"):
        read_flow_logs(tmp_path / "src", settings, connect())
    args = ["ingest", str(tmp_path / "src"), "--on-error", "skip", "-q"]
    assert main([*args, "--cache-dir", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: nothing left to read: every record was skipped (3 bad records)")
