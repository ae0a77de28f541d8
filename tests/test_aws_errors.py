"""Bad credentials say the credentials are invalid, never that a permission is missing.

AWS answers a bad access key with 403 (or 400, 401) and a code that names the fault; a
missing permission is 403 too, with ``AccessDenied``. The moto server checks keys once its
IAM checks are on, and answers like AWS for S3 (``InvalidAccessKeyId``,
``SignatureDoesNotMatch``), STS (``InvalidClientTokenId``) and EC2 (``AuthFailure``).
For CloudWatch Logs moto answers a JSON API with an XML error AWS never sends; there, and
for expired session tokens (moto has no clock on its keys), the harness answers as AWS
does: the error body and status AWS documents, sent over the real client's wire path
(botocore parses it as it would AWS's answer).
Codes and statuses: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html and
https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.awsrequest
import pytest
import requests
from conftest import REGION
from support.sources import at, connect, hive_key, parquet_bytes, record, settings_for

from zt_flows.aws import aws_call
from zt_flows.cli import main
from zt_flows.errors import AwsAccessDeniedError, AwsCredentialsError
from zt_flows.sources import read_flow_logs

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@contextlib.contextmanager
def _iam_enforced(endpoint: str) -> Iterator[None]:
    requests.post(f"{endpoint}/moto-api/reset-auth", data=b"0", timeout=10)
    try:
        yield
    finally:
        requests.post(f"{endpoint}/moto-api/reset-auth", data=b"inf", timeout=10)


def _real_key(session: boto3.session.Session, endpoint: str) -> dict[str, str]:
    iam = session.client("iam", endpoint_url=endpoint)
    iam.create_user(UserName="reader")
    return dict(iam.create_access_key(UserName="reader")["AccessKey"])


def _bucket_with_a_log(s3_client: Any, bucket: str) -> None:
    s3_client.put_object(
        Bucket=bucket, Key=hive_key(at("2026-11-16T05:05:00Z")), Body=parquet_bytes([record()])
    )


@pytest.mark.parametrize(
    ("key_id", "code", "words"),
    [
        ("AKIAIOSFODNN7EXAMPLE", "InvalidAccessKeyId", "AWS does not know the access key id"),
        (None, "SignatureDoesNotMatch", "the secret access key does not match"),
    ],
)
def test_a_bad_key_for_s3_is_invalid_credentials(
    key_id: str | None,
    code: str,
    words: str,
    s3_client: Any,
    bucket: str,
    aws_session: boto3.session.Session,
    aws_env: str,
    cache_dir: Path,
) -> None:
    _bucket_with_a_log(s3_client, bucket)
    real = _real_key(aws_session, aws_env)
    bad = boto3.session.Session(
        aws_access_key_id=key_id or real["AccessKeyId"],
        aws_secret_access_key=SECRET,
        region_name=REGION,
    )
    settings = settings_for(cache_dir, endpoint_url=aws_env)
    with _iam_enforced(aws_env), pytest.raises(AwsCredentialsError) as info:
        read_flow_logs(f"s3://{bucket}/", settings, connect(), session=bad)
    message = str(info.value)
    assert message.startswith("the AWS credentials are invalid for s3:ListBucket: ")
    assert words in message
    assert f"({code})" in message
    assert "no missing permission" in message
    assert not isinstance(info.value, AwsAccessDeniedError)
    assert info.value.exit_code == 3
    # Neither the key nor the secret is ever repeated.
    assert (key_id or real["AccessKeyId"]) not in message + str(info.value.hint)
    assert SECRET not in message + str(info.value.hint)


def test_a_bad_key_on_the_command_line_exits_3_with_the_credentials_named(
    monkeypatch: pytest.MonkeyPatch,
    s3_client: Any,
    bucket: str,
    aws_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _bucket_with_a_log(s3_client, bucket)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    with _iam_enforced(aws_env):
        code = main(
            [
                "ingest",
                f"s3://{bucket}/",
                "--endpoint-url",
                aws_env,
                "--cache-dir",
                str(tmp_path / "cache"),
                "-q",
            ]
        )
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith(
        "error: the AWS credentials are invalid for s3:ListBucket: AWS does not know the access"
        " key id (deleted, deactivated or mistyped) (InvalidAccessKeyId)"
    )
    assert "hint: check AWS_ACCESS_KEY_ID" in err
    assert "access denied" not in err
    assert "grant" not in err
    assert "AKIAIOSFODNN7EXAMPLE" not in err


def test_a_bad_key_for_sts_and_ec2_is_invalid_credentials(
    aws_session: boto3.session.Session, aws_env: str
) -> None:
    bad = boto3.session.Session(
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key=SECRET, region_name=REGION
    )
    sts = bad.client("sts", endpoint_url=aws_env)
    ec2 = bad.client("ec2", endpoint_url=aws_env)
    with _iam_enforced(aws_env):
        with pytest.raises(AwsCredentialsError) as sts_info, aws_call("sts:GetCallerIdentity", "x"):
            sts.get_caller_identity()
        with pytest.raises(AwsCredentialsError) as ec2_info, aws_call("ec2:DescribeVpcs", "y"):
            ec2.describe_vpcs()
    assert "(InvalidClientTokenId)" in str(sts_info.value)
    assert "AWS does not know the access key id" in str(sts_info.value)
    assert str(ec2_info.value) == (
        "the AWS credentials are invalid for ec2:DescribeVpcs: AWS could not validate the access"
        " key id and secret access key (AuthFailure); this is no missing permission"
    )


def test_inventory_collect_with_a_bad_key_exits_3(
    monkeypatch: pytest.MonkeyPatch,
    aws_env: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
    with _iam_enforced(aws_env):
        code = main(
            [
                "inventory",
                "collect",
                "--region",
                REGION,
                "--endpoint-url",
                aws_env,
                "--out",
                str(tmp_path / "inv"),
                "-q",
            ]
        )
    err = capsys.readouterr().err
    assert code == 3, err
    assert err.startswith("error: the AWS credentials are invalid for sts:GetCallerIdentity:")
    assert not (tmp_path / "inv").exists() or not any((tmp_path / "inv").iterdir())


class _Raw:
    """What botocore reads an HTTP body from."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.body


def _answer_as_aws(session: boto3.session.Session, service: str, status: int, body: bytes) -> None:
    """Every request of ``service`` gets ``body`` with ``status``, as AWS would answer it."""
    kind = "application/xml" if body.startswith(b"<") else "application/x-amz-json-1.1"

    def send(request: Any, **_: Any) -> botocore.awsrequest.AWSResponse:
        headers = {"Content-Type": kind, "x-amzn-RequestId": "r-1"}
        return botocore.awsrequest.AWSResponse(request.url, status, headers, _Raw(body))

    session.events.register(f"before-send.{service}", send)


@pytest.mark.parametrize(
    ("status", "code", "message", "words"),
    [
        (
            400,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
            "AWS does not know the access key id",
        ),
        (
            400,
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
            "the secret access key does not match",
        ),
        (
            400,
            "ExpiredTokenException",
            "The security token included in the request is expired",
            "the session token has expired",
        ),
    ],
)
def test_cloudwatch_logs_bad_credentials_as_aws_answers_them(
    status: int, code: str, message: str, words: str, aws_env: str, cache_dir: Path
) -> None:
    session = boto3.session.Session(
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE", aws_secret_access_key=SECRET, region_name=REGION
    )
    body = json.dumps({"__type": code, "message": message}).encode()
    _answer_as_aws(session, "cloudwatch-logs", status, body)
    settings = settings_for(cache_dir, endpoint_url=aws_env)
    with pytest.raises(AwsCredentialsError) as info:
        read_flow_logs("cwlogs:///vpc/flow-logs", settings, connect(), session=session)
    assert f"({code})" in str(info.value)
    assert words in str(info.value)
    assert str(info.value).startswith("the AWS credentials are invalid for logs:")


def test_an_expired_session_token_for_s3_as_aws_answers_it(aws_env: str, cache_dir: Path) -> None:
    """S3 answers an expired token with 400 and an XML body."""
    session = boto3.session.Session(
        aws_access_key_id="ASIAIOSFODNN7EXAMPLE",
        aws_secret_access_key=SECRET,
        aws_session_token="expired-token",
        region_name=REGION,
    )
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ExpiredToken</Code>'
        b"<Message>The provided token has expired.</Message><RequestId>r-1</RequestId></Error>"
    )
    _answer_as_aws(session, "s3", 400, body)
    settings = settings_for(cache_dir, endpoint_url=aws_env)
    with pytest.raises(AwsCredentialsError) as info:
        read_flow_logs("s3://flow-logs/AWSLogs/", settings, connect(), session=session)
    assert str(info.value) == (
        "the AWS credentials are invalid for s3:ListBucket: the session token has expired"
        " (ExpiredToken); this is no missing permission"
    )
    assert info.value.hint is not None
    assert "refresh" in info.value.hint
    assert "expired-token" not in str(info.value) + info.value.hint


def test_a_missing_permission_is_still_access_denied() -> None:
    import botocore.exceptions

    error = botocore.exceptions.ClientError(
        {
            "Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        },
        "GetObject",
    )
    with pytest.raises(AwsAccessDeniedError) as info, aws_call("s3:GetObject", "s3://b/k"):
        raise error
    assert str(info.value) == "access denied: s3:GetObject on s3://b/k"
