"""Bad input: every case names the object, the line and column, what was expected and found.

Each case is checked through the library (the exception's parts) and through the CLI
(exit code 2, one message on stderr, no traceback), and in ``--on-error skip`` mode
(counted and reported, the rest read).
"""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.sources import (
    DEFAULT_TEXT_FIELDS,
    at,
    connect,
    hive_key,
    parquet_bytes,
    raw_text_bytes,
    record,
    settings_for,
    text_bytes,
    write,
)

from zt_flows.cli import main
from zt_flows.errors import FlowLogFormatError
from zt_flows.sources import flow_log_errors, read_flow_logs, write_records

HEADER = (
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
    "start end action log-status"
)
GOOD = (
    "2 012345678901 eni-0a1b2c3d4e5f60001 10.0.10.11 10.0.20.5 43416 5432 6 10 840 "
    "1763251200 1763251260 ACCEPT OK"
)
SECRET_ADDRESS = "10.0.99.99"  # appears only in bad lines: it must never reach a message


def _text(*lines: str) -> bytes:
    return raw_text_bytes("\n".join(lines) + "\n")


def _truncated_gzip() -> bytes:
    data = _text(HEADER, *[GOOD] * 2000)
    return data[: len(data) // 2]


def _cut_line() -> int:
    """The line the truncated object breaks off in: one after its last complete line."""
    partial = zlib.decompressobj(wbits=31).decompress(_truncated_gzip())
    return partial.count(b"\n") + 1


def _bad_footer() -> bytes:
    data = bytearray(parquet_bytes([record()]))
    # Keep the magic at both ends; scramble the footer length and metadata before it.
    data[-40:-4] = b"\xff" * 36
    return bytes(data)


def _string_port() -> bytes:
    table = pa.table({"srcaddr": ["10.0.0.1"], "dstport": ["ssh"], "log_status": ["OK"]})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


# name, bytes, (line, column, expected fragment, found fragment)
CASES: dict[str, tuple[str, bytes, tuple[int | None, str | None, str, str]]] = {
    "truncated parquet": (
        "x.log.parquet",
        parquet_bytes([record()])[:-100],
        (
            None,
            None,
            "a Parquet file (magic bytes 'PAR1' at both ends)",
            "no magic bytes at the end",
        ),
    ),
    "bad parquet footer": (
        "x.log.parquet",
        _bad_footer(),
        (None, None, "a readable Parquet footer", ""),
    ),
    "not parquet at all": (
        "x.log.parquet",
        b"hello, world: not a parquet file\n",
        (None, None, "a Parquet file", "no magic bytes at the start"),
    ),
    "parquet with a string port": (
        "x.log.parquet",
        _string_port(),
        (None, "dstport", "an integer column", "'string'"),
    ),
    "truncated gzip": (
        "x.log.gz",
        _truncated_gzip(),
        (_cut_line(), None, "a complete gzip stream", "ends early"),
    ),
    "not gzip": (
        "x.log.gz",
        b"version srcaddr\n",
        (None, None, "gzip-compressed text", "not gzip-compressed"),
    ),
    "wrong number of fields": (
        "x.log.gz",
        _text(HEADER, GOOD, GOOD, GOOD.replace("10.0.10.11", SECRET_ADDRESS).rsplit(" ", 1)[0]),
        (4, None, "14 space-separated fields, as the header names", "13 fields"),
    ),
    "non-numeric port": (
        "x.log.gz",
        _text(
            HEADER, GOOD, GOOD.replace(" 5432 ", " postgres ").replace("10.0.10.11", SECRET_ADDRESS)
        ),
        (3, "dstport", "a port number 0-65535 or '-'", "'postgres'"),
    ),
    "port out of range": (
        "x.log.gz",
        _text(HEADER, GOOD.replace(" 43416 ", " 70000 ")),
        (2, "srcport", "a port number 0-65535 or '-'", "'70000'"),
    ),
    "unknown header field instead of srcaddr": (
        "x.log.gz",
        _text(HEADER.replace("srcaddr", "src-address"), GOOD),
        (2, "srcaddr", "an address (the record is a flow)", "no srcaddr field in the format"),
    ),
    "no header, not the default format": (
        "x.log.gz",
        _text(GOOD + " extra"),
        (1, None, "14 space-separated fields, as the version-2 default format", "15 fields"),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_stops_with_a_located_message(case: str, tmp_path: Path) -> None:
    name, data, (line, column, expected, found) = CASES[case]
    bad = write(tmp_path / "src", name, data)
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    error = info.value
    assert error.location.source == str(bad)
    assert error.location.line == line
    assert error.location.column == column
    assert expected in error.expected
    assert found in error.found
    assert len(error.found) <= 90
    message = str(error)
    assert message.startswith(f"{bad}")
    assert "expected" in message
    assert SECRET_ADDRESS not in message
    assert GOOD not in message
    # Nothing half-converted is left in the cache.
    assert not list((tmp_path / "cache").rglob("*.part"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_through_the_cli(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, data, (line, column, _, _) = CASES[case]
    bad = write(tmp_path / "src", name, data)
    out = tmp_path / "records.parquet"
    code = main(
        [
            "ingest",
            str(tmp_path / "src"),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 2
    first = captured.err.splitlines()[0]
    assert first.startswith(f"error: {bad}")
    if line is not None:
        assert f"line {line}" in first
    if column is not None:
        assert f"column {column!r}" in first
    assert "Traceback" not in captured.err
    assert captured.out == ""
    assert not out.exists()


def _mixed_folder(root: Path) -> dict[str, Path]:
    good = [record("2026-11-16T00:01:00Z", srcport=40001)]
    return {
        "good": write(root, hive_key(at("2026-11-16T00:05:00Z")), parquet_bytes(good)),
        "corrupt": write(root, "b/corrupt.log.parquet", parquet_bytes(good)[:-50]),
        "truncated": write(root, "c/truncated.log.gz", _truncated_gzip()),
        "lines": write(
            root,
            "d/lines.log.gz",
            _text(
                HEADER, GOOD, GOOD.replace(" 5432 ", " pg "), "", GOOD.replace(" 6 ", " 6 7 "), GOOD
            ),
        ),
    }


def test_skip_mode_counts_and_reports(tmp_path: Path) -> None:
    paths = _mixed_folder(tmp_path / "src")
    con = connect()
    flows = read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache", on_error="skip"), con)
    assert sorted(o.uri for o in flows.objects) == sorted([str(paths["good"]), str(paths["lines"])])
    by_source = {s.source: s for s in flows.skipped}
    assert by_source[str(paths["corrupt"])].kind == "object"
    assert by_source[str(paths["truncated"])].kind == "object"
    lines = by_source[str(paths["lines"])]
    assert (lines.kind, lines.count, lines.location.line, lines.location.column) == (
        "lines",
        2,
        3,
        "dstport",
    )
    summary = write_records(flows, con, tmp_path / "out.parquet")
    assert (summary.skipped_objects, summary.skipped_lines) == (2, 2)
    assert summary.records == 3  # one Parquet record, two good lines (the empty line is no record)
    # A later stop-mode run reports the bad line from the cached conversion.
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(paths["lines"], settings_for(tmp_path / "cache"), connect())
    assert (info.value.location.line, info.value.location.column) == (3, "dstport")


def test_skip_mode_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = _mixed_folder(tmp_path / "src")
    args = [
        "ingest",
        str(tmp_path / "src"),
        "--on-error",
        "skip",
        "--cache-dir",
        str(tmp_path / "cache"),
        "-q",
    ]
    assert main([*args, "--out", str(tmp_path / "out.parquet")]) == 0
    err = capsys.readouterr().err
    assert "skipped    2 objects, 2 lines" in err
    assert f"{paths['corrupt']}: expected a Parquet file" in err
    assert f"{paths['lines']}, line 3, column 'dstport'" in err
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["skipped"]["objects"] == 2
    assert doc["skipped"]["lines"] == 2
    assert {d["source"] for d in doc["skipped"]["details"]} == {
        str(paths[k]) for k in ("corrupt", "truncated", "lines")
    }


def _corrupt_data_page(path: Path) -> None:
    """Scramble the data of the srcaddr column chunk, leaving footer and magic intact."""
    meta = pq.read_metadata(path)
    column = next(
        meta.row_group(0).column(i)
        for i in range(meta.num_columns)
        if meta.row_group(0).column(i).path_in_schema == "srcaddr"
    )
    data = bytearray(path.read_bytes())
    start = column.data_page_offset + 30
    data[start : start + 200] = b"\x5a" * 200
    path.write_bytes(bytes(data))


def _page_object(root: Path) -> Path:
    recs = [record(srcaddr=f"10.0.{i % 250}.{i % 200}", srcport=i) for i in range(5000)]
    table = pa.Table.from_pylist(recs)
    path = root / "page.log.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="snappy", use_dictionary=False)
    return path


def test_corrupt_data_page_is_mapped_to_its_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _page_object(tmp_path / "src")
    _corrupt_data_page(bad)
    # The footer is fine; the value checks' scan meets the page and names the object.
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    assert info.value.location.source == str(bad)
    assert info.value.expected == "a readable Parquet object"
    code = main(
        [
            "ingest",
            str(tmp_path / "src"),
            "--out",
            str(tmp_path / "o.parquet"),
            "--cache-dir",
            str(tmp_path / "c"),
            "-q",
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.startswith(f"error: {bad}: expected a readable Parquet object")


def test_skip_mode_leaves_an_unreadable_object_out(tmp_path: Path) -> None:
    bad = _page_object(tmp_path / "src" / "a")
    _corrupt_data_page(bad)
    good = write(tmp_path / "src", "b/good.log.parquet", parquet_bytes([record()]))
    con = connect()
    flows = read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache", on_error="skip"), con)
    assert [o.uri for o in flows.objects] == [str(good)]
    assert [(s.kind, s.source) for s in flows.skipped] == [("object", str(bad))]


def test_a_later_scan_maps_errors_to_the_object(tmp_path: Path) -> None:
    """An object that breaks after it was checked (its verdict read from the cache) is
    still named by the scans that meet it: every scan maps errors the same way."""
    path = _page_object(tmp_path / "src")
    con = connect()
    flows = read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), con)
    _corrupt_data_page(path)
    with pytest.raises(FlowLogFormatError) as info, flow_log_errors(flows):
        con.execute(f'SELECT count(DISTINCT srcaddr) FROM "{flows.view}"').fetchall()
    assert info.value.location.source == str(path)
    with pytest.raises(FlowLogFormatError):
        write_records(flows, con, tmp_path / "out.parquet")
    assert not (tmp_path / "out.parquet").exists()
    # Errors that are not about the data pass through unchanged.
    with pytest.raises(Exception, match="no_such_column"), flow_log_errors(flows):
        con.execute(f'SELECT no_such_column FROM "{flows.view}"')


def test_first_bad_object_by_name_when_several(tmp_path: Path) -> None:
    write(tmp_path / "src", "a/ok.log.gz", text_bytes([record()], DEFAULT_TEXT_FIELDS))
    first = write(tmp_path / "src", "b/one.log.parquet", b"PAR1 nonsense")
    write(tmp_path / "src", "c/two.log.parquet", b"more nonsense")
    with pytest.raises(FlowLogFormatError) as info:
        read_flow_logs(tmp_path / "src", settings_for(tmp_path / "cache"), connect())
    assert info.value.location.source == str(first)
