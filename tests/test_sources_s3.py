"""read_flow_logs against S3: a moto server over HTTP, objects in the real key layouts.

Requests are counted with the boto3 session's own event hooks, so "downloads
nothing" and "lists in pages" are measured on the wire, not assumed.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from support.sources import (
    ACCOUNT,
    DEFAULT_TEXT_FIELDS,
    V5_FIELDS,
    at,
    connect,
    default_key,
    hive_key,
    nodata,
    parquet_bytes,
    record,
    rows,
    settings_for,
    text_bytes,
)

from zt_flows.errors import (
    AwsAccessDeniedError,
    AwsCredentialsError,
    AwsError,
    AwsResourceNotFoundError,
    SourceNotFoundError,
)
from zt_flows.sources import FlowLogs, read_flow_logs


def _count_calls(session: boto3.session.Session) -> Counter[str]:
    calls: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    session.events.register("before-call.s3", count)
    return calls


def _upload(s3_client: Any, bucket: str, objects: dict[str, bytes]) -> None:
    for key, data in objects.items():
        s3_client.put_object(Bucket=bucket, Key=key, Body=data)


def _three_days() -> dict[str, bytes]:
    """Hive hourly Parquet (16th), default hourly text (17th), default daily text (18th)."""
    objects: dict[str, bytes] = {}
    for hour in (0, 5, 23):
        stamp = at(f"2026-11-16T{hour:02d}:05:00Z")
        recs = [record(int(stamp.timestamp()) - 60, srcport=41000 + hour)]
        objects[hive_key(stamp)] = parquet_bytes(recs)
    for hour in (3, 12):
        stamp = at(f"2026-11-17T{hour:02d}:10:00Z")
        recs = [
            record(int(stamp.timestamp()) - 60, srcport=42000 + hour),
            nodata(f"2026-11-17T{hour:02d}:09:00Z"),
        ]
        objects[default_key(stamp, hourly=True)] = text_bytes(recs)
    stamp = at("2026-11-18T08:00:00Z")
    objects[default_key(stamp)] = text_bytes(
        [record(int(stamp.timestamp()) - 30, version=2, srcport=43000)], DEFAULT_TEXT_FIELDS
    )
    # Neighbours a bucket often has: another service, the delivery test object.
    objects[f"AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/11/16/trail.json.gz"] = b"{}"
    objects["AWSLogs/aws-logs-write-test"] = b"test"
    return objects


def _read(
    bucket: str,
    session: boto3.session.Session,
    endpoint: str,
    cache: Path,
    prefix: str = "",
    **kw: Any,
) -> tuple[FlowLogs, Any]:
    con = connect()
    settings = settings_for(cache, endpoint_url=endpoint, **kw)
    return read_flow_logs(f"s3://{bucket}/{prefix}", settings, con, session=session), con


def test_each_layout_and_format_reads_back(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    _upload(s3_client, bucket, _three_days())
    flows, con = _read(bucket, aws_session, aws_env, cache_dir)
    assert [o.layout for o in flows.objects].count("hive") == 3
    assert [o.layout for o in flows.objects].count("default") == 3
    assert all(o.uri.startswith(f"s3://{bucket}/AWSLogs/") for o in flows.objects)
    assert {o.account_id for o in flows.objects} == {ACCOUNT}
    assert all(o.fetched == "downloaded" and o.etag for o in flows.objects)
    ports = [r["srcport"] for r in rows(con, flows.view)]
    assert ports == [41000, 41005, 41023, 42003, 42012, 43000]
    summary = flows.summarize(con)
    assert (summary.records, summary.flows, summary.nodata, summary.downloaded) == (8, 6, 2, 6)
    assert [(v.version, v.records) for v in summary.versions] == [(2, 3), (5, 5)]


def test_listing_pages_beyond_one_page(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    objects = {}
    for minute in range(0, 60, 5):  # twelve objects in one hour folder
        stamp = at(f"2026-11-16T05:{minute:02d}:00Z")
        objects[hive_key(stamp, prefix="central/")] = parquet_bytes(
            [record(int(stamp.timestamp()) - 60, srcport=minute)]
        )
    _upload(s3_client, bucket, objects)
    calls = _count_calls(aws_session)
    flows, con = _read(bucket, aws_session, aws_env, cache_dir, page_size=5)
    assert calls["ListObjectsV2"] >= 3  # 12 keys at 5 a page
    assert [r["srcport"] for r in rows(con, flows.view)] == list(range(0, 60, 5))
    # The windowed walk pages too, at every level.
    calls.clear()
    flows, con = _read(
        bucket,
        aws_session,
        aws_env,
        cache_dir,
        page_size=5,
        since="2026-11-16T05:00:00Z",
        until="2026-11-16T06:00:00Z",
    )
    assert calls["ListObjectsV2"] >= 3 + 6  # the day (3 pages) and the levels above it
    assert len(flows.objects) == 12


def test_window_prunes_before_download_and_filters_exactly(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    _upload(s3_client, bucket, _three_days())
    calls = _count_calls(aws_session)
    flows, con = _read(
        bucket,
        aws_session,
        aws_env,
        cache_dir,
        since="2026-11-17T01:30:00Z",
        until="2026-11-17T10:00:00Z",
    )
    # Only the 17th was listed (the 16th and 18th are beyond the hour of slack), and of it
    # only the 03:10 object can hold records of the window: one download.
    assert flows.listed == 2
    assert flows.pruned == 1
    assert calls["GetObject"] == 1
    assert len([p for p in cache_dir.rglob("*") if p.is_file()]) == 1
    assert {(r["log_status"], r["srcport"]) for r in rows(con, flows.all_view)} == {
        ("NODATA", None),
        ("OK", 42003),
    }
    # Rows are cut exactly at the window's edges, inside a kept object.
    flows, con = _read(
        bucket,
        aws_session,
        aws_env,
        cache_dir,
        since="2026-11-17T03:09:58Z",
        until="2026-11-17T03:10:00Z",
    )
    assert {(r["log_status"], r["srcport"]) for r in rows(con, flows.all_view)} == {
        ("NODATA", None),
        ("OK", 42003),
    }
    flows, con = _read(
        bucket,
        aws_session,
        aws_env,
        cache_dir,
        since="2026-11-17T03:09:59Z",
        until="2026-11-17T03:10:00Z",
    )
    assert {(r["log_status"], r["srcport"]) for r in rows(con, flows.all_view)} == {("OK", 42003)}
    flows, con = _read(
        bucket,
        aws_session,
        aws_env,
        cache_dir,
        since="2026-11-17T03:10:01Z",
        until="2026-11-17T04:00:00Z",
    )
    assert rows(con, flows.all_view) == []
    assert calls["GetObject"] == 1  # the later reads found the object in the cache


def test_second_run_downloads_nothing(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    _upload(s3_client, bucket, _three_days())
    first, con = _read(bucket, aws_session, aws_env, cache_dir)
    expected = rows(con, first.all_view)
    # Text objects are kept as their canonical conversion only.
    assert len(list((cache_dir / "converted").rglob("*.parquet"))) == 3
    assert len(list((cache_dir / "s3").rglob("*.parquet"))) == 3
    assert not list((cache_dir / "s3").rglob("*.gz"))
    calls = _count_calls(aws_session)
    second, con = _read(bucket, aws_session, aws_env, cache_dir)
    assert calls["GetObject"] == 0
    assert calls["HeadObject"] == 0
    summary = second.summarize(con)
    assert (summary.downloaded, summary.cached, summary.downloaded_bytes) == (0, 6, 0)
    assert rows(con, second.all_view) == expected


class _InterruptDownloads:
    """Progress that presses Ctrl-C once the first bytes of a download have arrived."""

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Any]:
        parent = self

        class _Task:
            def advance(self, amount: float = 1) -> None:
                if description.startswith("downloading"):
                    parent.interrupted = True
                    raise KeyboardInterrupt

            def update(self, *, total: float | None = None, description: str | None = None) -> None:
                return None

        yield _Task()

    interrupted = False


def test_interrupted_download_leaves_no_partial_file(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    big = parquet_bytes([record(srcport=i) for i in range(3000)])
    _upload(
        s3_client,
        bucket,
        {hive_key(at("2026-11-16T05:05:00Z")): big, hive_key(at("2026-11-16T06:05:00Z")): big},
    )
    progress = _InterruptDownloads()
    with pytest.raises(KeyboardInterrupt):
        read_flow_logs(
            f"s3://{bucket}/",
            settings_for(cache_dir, endpoint_url=aws_env),
            connect(),
            session=aws_session,
            progress=progress,
        )
    assert progress.interrupted
    assert [p for p in cache_dir.rglob("*") if p.is_file()] == []  # neither .part nor a cut file
    flows, con = _read(bucket, aws_session, aws_env, cache_dir)
    assert flows.summarize(con).downloaded == 2


def test_object_changed_between_listing_and_download(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    key = hive_key(at("2026-11-16T05:05:00Z"))
    _upload(s3_client, bucket, {key: parquet_bytes([record()])})

    def overwrite(**_: Any) -> None:
        s3_client.put_object(Bucket=bucket, Key=key, Body=parquet_bytes([record(), record()]))

    aws_session.events.register("before-call.s3.GetObject", overwrite)
    with pytest.raises(AwsError, match="changed while it was being read"):
        _read(bucket, aws_session, aws_env, cache_dir)
    assert [p for p in cache_dir.rglob("*") if p.is_file()] == []


def test_several_schemas_in_one_bucket(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    stamp = at("2026-11-16T05:05:00Z")
    base = int(stamp.timestamp()) - 60
    _upload(
        s3_client,
        bucket,
        {
            hive_key(stamp): parquet_bytes(
                [record(base, version=8, reject_reason="BPA", srcport=1)]
            ),
            hive_key(stamp).replace("fe123456", "aa000001"): parquet_bytes(
                [record(base, srcport=2)], V5_FIELDS
            ),
            default_key(stamp): text_bytes(
                [record(base, version=2, srcport=3)], DEFAULT_TEXT_FIELDS
            ),
            default_key(stamp).replace("fe123456", "aa000002"): text_bytes(
                [record(base, srcport=4)], tuple(reversed(V5_FIELDS))
            ),
        },
    )
    flows, con = _read(bucket, aws_session, aws_env, cache_dir)
    got = {r["srcport"]: r for r in rows(con, flows.view)}
    assert (got[1]["version"], got[1]["reject_reason"]) == (8, "BPA")
    assert (got[2]["version"], got[2]["reject_reason"], got[2]["vpc_id"]) == (
        5,
        None,
        "vpc-0a1b2c3d",
    )
    assert (got[3]["version"], got[3]["vpc_id"]) == (2, None)
    assert got[4]["flow_direction"] == "ingress"


def test_empty_prefix_is_not_found(
    s3_client: Any, bucket: str, aws_session: boto3.session.Session, aws_env: str, cache_dir: Path
) -> None:
    _upload(s3_client, bucket, {"other/readme.txt.md": b"x"})
    with pytest.raises(SourceNotFoundError, match=f"s3://{bucket}/AWSLogs/"):
        _read(bucket, aws_session, aws_env, cache_dir, prefix="AWSLogs/")


def test_missing_bucket(aws_session: boto3.session.Session, aws_env: str, cache_dir: Path) -> None:
    with pytest.raises(AwsResourceNotFoundError) as info:
        _read("no-such-bucket-0000", aws_session, aws_env, cache_dir, prefix="AWSLogs/")
    assert str(info.value) == "s3://no-such-bucket-0000/AWSLogs/ does not exist (NoSuchBucket)"
    assert info.value.hint
    assert "--region" in info.value.hint


@contextlib.contextmanager
def _iam_enforced(endpoint: str) -> Iterator[None]:
    """moto checks IAM policies from now on (all requests need real moto IAM users)."""
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
    try:
        yield
    finally:
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"inf", timeout=10)


def _user(
    session: boto3.session.Session, endpoint: str, actions: list[str]
) -> boto3.session.Session:
    iam = session.client("iam", endpoint_url=endpoint)
    name = "reader-" + "-".join(a.split(":")[1] for a in actions)
    iam.create_user(UserName=name)
    # AWS authorises ListObjectsV2 as the IAM action s3:ListBucket; moto 5.2 checks the
    # operation's name instead, so the policy grants both spellings of that one right.
    granted = [*actions, *(["s3:ListObjectsV2"] if "s3:ListBucket" in actions else [])]
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": granted, "Resource": "*"}],
    }
    iam.put_user_policy(UserName=name, PolicyName="flowlogs", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return boto3.session.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name="us-east-1",
    )


@pytest.mark.parametrize(
    ("allowed", "denied"),
    [(["s3:GetObject"], "s3:ListBucket"), (["s3:ListBucket"], "s3:GetObject")],
)
def test_access_denied_names_the_missing_permission(
    allowed: list[str],
    denied: str,
    s3_client: Any,
    bucket: str,
    aws_session: boto3.session.Session,
    aws_env: str,
    cache_dir: Path,
) -> None:
    _upload(s3_client, bucket, _three_days())
    reader = _user(aws_session, aws_env, allowed)
    with _iam_enforced(aws_env), pytest.raises(AwsAccessDeniedError) as info:
        _read(bucket, reader, aws_env, cache_dir)
    assert info.value.action == denied
    assert str(info.value).startswith(f"access denied: {denied} on s3://{bucket}/")
    assert "testing" not in str(info.value)


def test_no_credentials(
    monkeypatch: pytest.MonkeyPatch, bucket: str, aws_env: str, cache_dir: Path
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AwsCredentialsError, match="no AWS credentials found"):
        _read(bucket, boto3.session.Session(region_name="us-east-1"), aws_env, cache_dir)
