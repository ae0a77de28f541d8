"""`ztflows ingest` in-process: exit codes, stdout/stderr, the output file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
from support.sources import (
    ACCOUNT,
    V5_FIELDS,
    at,
    default_key,
    hive_key,
    nodata,
    parquet_bytes,
    record,
    text_bytes,
)

from zt_flows.cli import main
from zt_flows.schema import FIELDS


def _objects() -> dict[str, bytes]:
    hive = at("2026-11-16T05:05:00Z")
    text = at("2026-11-18T00:05:00Z")
    return {
        hive_key(hive): parquet_bytes(
            [record(int(hive.timestamp()) - 60, srcport=1), nodata("2026-11-16T05:04:00Z")]
        ),
        default_key(text, hourly=True): text_bytes(
            [record(int(text.timestamp()) - 60, srcport=2)], V5_FIELDS
        ),
    }


def _ingest(*args: str) -> int:
    return main(["ingest", *args, "--quiet"])


def test_s3_to_parquet_with_a_summary(
    s3_client: Any, bucket: str, aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, data in _objects().items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)
    out = tmp_path / "records.parquet"
    cache = tmp_path / "cache"
    code = _ingest(
        f"s3://{bucket}/AWSLogs/",
        "--endpoint-url",
        aws_env,
        "--region",
        "us-east-1",
        "--cache-dir",
        str(cache),
        "--out",
        str(out),
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out == ""
    err = captured.err
    assert f"s3://{bucket}/AWSLogs/ -> {out}" in err
    assert "objects    2 read (1 Parquet, 1 text) of 2 listed; 0 outside the window" in err
    assert "2 objects downloaded" in err
    assert "0 from the cache" in err
    assert "records    3: 2 flows, 1 NODATA, 0 SKIPDATA" in err
    assert "versions   v2: 1, v5: 2" in err
    assert "time span  2026-11-16T05:04:00Z .. 2026-11-18T00:05:00Z" in err
    table = pq.read_table(out)
    assert table.schema.names == [f.name for f in FIELDS]
    assert table.num_rows == 3
    assert set(table.column("account_id").to_pylist()) == {ACCOUNT}
    # Again, as JSON: everything from the cache.
    code = _ingest(
        f"s3://{bucket}/AWSLogs/",
        "--endpoint-url",
        aws_env,
        "--cache-dir",
        str(cache),
        "--format",
        "json",
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err == ""
    doc = json.loads(captured.out)
    assert doc["objects"] == {
        "listed": 2,
        "pruned": 0,
        "read": 2,
        "parquet": 1,
        "text": 1,
        "downloaded": 0,
        "cached": 2,
        "local": 0,
    }
    assert doc["records"] == {"total": 3, "flows": 2, "nodata": 1, "skipdata": 0}
    assert doc["versions"] == {"2": 1, "5": 2}
    assert doc["time_span"] == {
        "first_start": "2026-11-16T05:04:00Z",
        "last_end": "2026-11-18T00:05:00Z",
    }


def test_window_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for key, data in _objects().items():
        (tmp_path / "src" / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / key).write_bytes(data)
    out = tmp_path / "day.parquet"
    code = _ingest(
        str(tmp_path / "src"),
        "--since",
        "2026-11-18",
        "--until",
        "2026-11-19",
        "--cache-dir",
        str(tmp_path / "c"),
        "-o",
        str(out),
        "--format",
        "json",
    )
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["window"] == {"since": "2026-11-18T00:00:00Z", "until": "2026-11-19T00:00:00Z"}
    assert (doc["objects"]["pruned"], doc["records"]["total"]) == (1, 1)
    assert duckdb.sql(f"SELECT srcport FROM '{out}'").fetchall() == [(2,)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--on-error", "maybe"], "--on-error: expected 'stop' or 'skip', found 'maybe'"),
        (["--format", "xml"], "--format: expected 'text' or 'json', found 'xml'"),
        (["--since", "last tuesday"], "--since: expected a duration like 7d"),
        (["--since", "2026-11-18", "--until", "2026-11-17"], "must be before --until"),
        (["--memory-limit", "lots"], "--memory-limit: expected a size like 4GB"),
    ],
)
def test_usage_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.log.gz").write_bytes(text_bytes([record()]))
    assert _ingest(str(tmp_path / "x.log.gz"), "--cache-dir", str(tmp_path / "c"), *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err
    assert "Traceback" not in err


def test_missing_local_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _ingest(str(tmp_path / "nowhere"), "--cache-dir", str(tmp_path / "c")) == 2
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'nowhere'} does not exist")


def test_missing_bucket_exit_code(
    aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _ingest(
        "s3://no-such-bucket-0000/AWSLogs/",
        "--endpoint-url",
        aws_env,
        "--cache-dir",
        str(tmp_path / "c"),
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 3
    assert err[0] == "error: s3://no-such-bucket-0000/AWSLogs/ does not exist (NoSuchBucket)"
    assert err[1].startswith("  hint: check the name, the account and the --region")
    assert len(err) == 2


def test_no_credentials_exit_code(
    monkeypatch: pytest.MonkeyPatch,
    aws_env: str,
    bucket: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    code = _ingest(f"s3://{bucket}/", "--endpoint-url", aws_env, "--cache-dir", str(tmp_path / "c"))
    err = capsys.readouterr().err.splitlines()
    assert code == 3
    assert err[0] == "error: no AWS credentials found"
    assert "--profile" in err[1]


def test_unknown_profile_exit_code(
    aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _ingest(
        "s3://any-bucket/",
        "--profile",
        "nobody",
        "--endpoint-url",
        aws_env,
        "--cache-dir",
        str(tmp_path / "c"),
    )
    assert code == 3
    assert capsys.readouterr().err.startswith("error: AWS profile 'nobody' is not configured")


def test_access_denied_exit_code(
    s3_client: Any,
    bucket: str,
    aws_session: Any,
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from test_sources_s3 import _iam_enforced, _user

    for key, data in _objects().items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)
    reader = _user(aws_session, aws_env, ["s3:GetObject"]).get_credentials()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", reader.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", reader.secret_key)
    with _iam_enforced(aws_env):
        code = _ingest(
            f"s3://{bucket}/AWSLogs/", "--endpoint-url", aws_env, "--cache-dir", str(tmp_path / "c")
        )
    err = capsys.readouterr().err.splitlines()
    assert code == 3
    assert err[0] == f"error: access denied: s3:ListBucket on s3://{bucket}/AWSLogs/"
    assert err[1] == "  hint: grant s3:ListBucket to the caller (see the IAM policy in the README)"


def test_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ingest", "--help"]) == 0
    text = capsys.readouterr().out
    for fragment in (
        "Examples",
        "--since 7d",
        "--on-error skip",
        "--format json",
        "[hour=]",
        "ETag",
    ):
        assert fragment in text


def test_bundled_sample_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The sample generator's mixed delivery (Parquet days, text day) ingests in full."""
    sample = pytest.importorskip("zt_flows.sample")
    written = sample.write_sample(tmp_path / "sample")
    out = tmp_path / "records.parquet"
    code = _ingest(
        str(tmp_path / "sample" / "flowlogs"),
        "--cache-dir",
        str(tmp_path / "c"),
        "--out",
        str(out),
        "--format",
        "json",
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    assert doc["records"]["total"] == written.records
    assert doc["records"]["nodata"] == written.nodata
    assert doc["records"]["skipdata"] == written.skipdata
    assert doc["objects"]["read"] == written.files
    assert doc["objects"]["text"] > 0
    assert doc["objects"]["parquet"] > 0
    assert doc["time_span"]["first_start"].startswith("2026-11-16")
    assert doc["time_span"]["last_end"].startswith("2026-11-18")
    accounts = duckdb.sql(f"SELECT DISTINCT account_id FROM '{out}'").fetchall()
    assert accounts == [("012345678901",)]  # the leading zero survives
