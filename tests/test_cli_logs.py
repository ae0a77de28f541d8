"""`-v` / `--log-file`: what ztflows did, never flow data or credentials."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE_DATA

from zt_flows.cli import main
from zt_flows.cli.logs import logging_to

ACCESS_KEY = "AKIAZTFLOWSLOGCHECK7"
SECRET_KEY = "zt-flows-secret-that-must-never-be-logged"


def flow_addresses() -> set[str]:
    """Every address the sample's flow logs carry, in any address field."""
    files = str(SAMPLE_DATA / "flowlogs" / "**" / "*.parquet")
    query = f"""
        SELECT DISTINCT a FROM (
            SELECT unnest([srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr]) AS a
            FROM read_parquet('{files}', hive_partitioning = false)
        ) WHERE a IS NOT NULL AND a <> '-'
    """
    with duckdb.connect() as con:
        return {str(row[0]) for row in con.execute(query).fetchall()}


def mentions(text: str, address: str) -> bool:
    """``address`` as a whole token (10.0.0.2 is not in 10.0.0.20)."""
    return re.search(rf"(?<![\w.:]){re.escape(address)}(?![\w.:])", text) is not None


def test_a_verbose_run_from_s3_logs_no_flow_data_and_no_key(
    s3_client,  # type: ignore[no-untyped-def]
    bucket: str,
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The sample read from S3 (boto3 signs every request with the key) at -vv."""
    root = SAMPLE_DATA / "flowlogs"
    for path in sorted(root.rglob("*")):
        if path.is_file():
            s3_client.upload_file(str(path), bucket, str(path.relative_to(root)))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    log = tmp_path / "ztflows.log"
    code = main(
        [
            "analyze",
            f"s3://{bucket}/AWSLogs/",
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--endpoint-url",
            aws_env,
            "--region",
            "us-east-1",
            "--out",
            str(tmp_path / "out"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
            "-vv",
            "--log-file",
            str(log),
        ]
    )
    stderr = capsys.readouterr().err
    assert code == 0, stderr
    text = log.read_text(encoding="utf-8")
    # It says what it did: the stages, with counts.
    assert "configuration: none" in text
    assert "inventory: 18 interface(s), 17 security group(s)" in text
    assert "observed: 72 flow-log object(s)" in text
    assert re.search(r"findings: \d+ reported, 0 suppressed", text)
    assert " DEBUG " in text  # -vv
    # The same lines went to stderr.
    assert "observed: 72 flow-log object(s)" in stderr
    addresses = flow_addresses()
    assert len(addresses) > 50  # the check below is not vacuous
    assert mentions("to 10.0.0.2 on", "10.0.0.2")
    assert not mentions("to 10.0.0.20 on", "10.0.0.2")
    for where, content in (("log file", text), ("stderr", stderr)):
        leaked = sorted(a for a in addresses if mentions(content, a))
        assert not leaked, (where, leaked[:5])
        assert ACCESS_KEY not in content, where
        assert SECRET_KEY not in content, where
        assert "Authorization" not in content, where  # botocore's request headers


def test_without_v_the_log_file_still_says_what_was_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    code = main(
        [
            "inventory",
            "show",
            str(SAMPLE_DATA / "inventory"),
            "--log-file",
            str(log),
        ]
    )
    assert code == 0
    text = log.read_text()
    assert "INFO zt_flows.cli.common: configuration: none" in text
    assert " DEBUG " not in text
    assert "configuration:" not in capsys.readouterr().err  # stderr only with -v


def test_an_unwritable_log_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["diff", "a", "b", "--log-file", str(tmp_path / "no" / "such" / "dir.log")])
    assert code == 2
    assert "--log-file: cannot write" in capsys.readouterr().err


def test_the_logger_is_put_back_after_the_command(tmp_path: Path) -> None:
    logger = logging.getLogger("zt_flows")
    before = (list(logger.handlers), logger.level, logger.propagate)
    with logging_to(2, tmp_path / "x.log"):
        assert logger.level == logging.DEBUG
        assert len(logger.handlers) == len(before[0]) + 2
        logging.getLogger("botocore").debug("Authorization: secret")  # not ours: not logged
    assert (list(logger.handlers), logger.level, logger.propagate) == before
    assert "Authorization" not in (tmp_path / "x.log").read_text()
