"""Shared fixtures: a real moto server on 127.0.0.1, AWS clients that reach it, paths.

moto runs in server mode in this process and is reached over HTTP exactly as AWS
would be: boto3 with ``endpoint_url``, pyarrow with ``endpoint_override``. Each test
gets fresh, uniquely named buckets; the server is reset between tests.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = REPO_ROOT / "sample_data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """The endpoint URL of a moto server bound to 127.0.0.1 on a free port, answering one
    request at a time as AWS answers concurrent ones (support/awslike.py)."""
    from support.awslike import serve_moto

    with serve_moto() as endpoint:
        yield endpoint


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, moto_server: str, tmp_path: Path) -> str:
    """Fake credentials and region, isolated from the user's ~/.aws; returns the endpoint."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    # moto keeps state per process; a reset gives every test an empty account.
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    return moto_server


@pytest.fixture
def aws_session(aws_env: str) -> boto3.session.Session:
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def s3_client(aws_session: boto3.session.Session, aws_env: str):  # type: ignore[no-untyped-def]
    return aws_session.client("s3", endpoint_url=aws_env)


@pytest.fixture
def ec2_client(aws_session: boto3.session.Session, aws_env: str):  # type: ignore[no-untyped-def]
    return aws_session.client("ec2", endpoint_url=aws_env)


@pytest.fixture
def bucket(s3_client) -> str:  # type: ignore[no-untyped-def]
    """A fresh, empty bucket."""
    name = f"flow-logs-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def cache_dir(tmp_path: Path) -> Path:
    path = tmp_path / "cache"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def sample_data_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """plan.json as ``ztflows recommend`` writes it for the sample (flow logs and inventory):
    the plan the commands that act on a plan verify against ``sample_data/inventory``."""
    from zt_flows.cli import main

    folder = tmp_path_factory.mktemp("sample-data-plan")
    code = main(
        [
            "recommend",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(folder / "plan.json"),
            "--cache-dir",
            str(folder / "cache"),
            "-q",
        ]
    )
    assert code == 0
    return folder / "plan.json"


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Real Terraform with the AWS provider from the local mirror (support/tfharness.py)."""
    from support.tfharness import Terraform, require_terraform

    return Terraform(require_terraform(), tmp_path_factory.mktemp("terraform"))


@pytest.fixture
def ec2_like_aws() -> Iterator[None]:
    """The moto server answering as EC2 does where Terraform notices (support/awslike.py)."""
    from support.awslike import ec2_as_aws

    with ec2_as_aws():
        yield
