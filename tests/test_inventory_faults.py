"""Collecting a snapshot under faults: a full disk, Ctrl-C. Never a half-written snapshot.

The moto server answers EC2 over HTTP; the disk fills for real (``faults.small_disk``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import REGION
from faults import small_disk

from zt_flows.inventory import collect_inventory
from zt_flows.settings import AwsSettings


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
    )
    return env


def _estate(ec2_client: Any) -> None:
    """Enough to describe: a VPC, groups with rules, interfaces."""
    vpc = ec2_client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2_client.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    for i in range(6):
        group = ec2_client.create_security_group(
            GroupName=f"app-{i}", Description="application tier " * 4, VpcId=vpc
        )["GroupId"]
        ec2_client.authorize_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
                }
            ],
        )
        ec2_client.create_network_interface(SubnetId=subnet, Groups=[group])


def test_a_full_disk_is_exit_2_and_leaves_no_snapshot(
    ec2_client: Any, aws_env: str, tmp_path: Path
) -> None:
    _estate(ec2_client)
    with small_disk(tmp_path / "disk", room=16 * 1024) as disk:
        out = disk.path / "inventory"
        result = disk.run(
            [
                "inventory",
                "collect",
                "--region",
                REGION,
                "--endpoint-url",
                aws_env,
                "--out",
                str(out),
                "-q",
            ],
            env=_env(aws_env),
        )
        assert result.returncode == 2, result.stderr
        reason = "No space left on device" if disk.mounted else "File too large"
        assert result.stderr.startswith(f"error: cannot write a snapshot into {out}: {reason}")
        assert "hint: free space there or pass another --out; nothing was written" in result.stderr
        assert list(out.iterdir()) == []  # neither a snapshot nor a hidden partial folder


class _InterruptAfterFirstCommand:
    """Progress that presses Ctrl-C once the first document of the snapshot is written."""

    @contextlib.contextmanager
    def task(self, description: str, total: float | None = None) -> Iterator[Any]:
        class _Task:
            def advance(self, amount: float = 1) -> None:
                raise KeyboardInterrupt

            def update(self, *, total: float | None = None, description: str | None = None) -> None:
                return None

        yield _Task()


def test_ctrl_c_while_collecting_leaves_no_snapshot(
    ec2_client: Any, aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    _estate(ec2_client)
    out = tmp_path / "inventory"
    settings = AwsSettings(region=REGION, endpoint_url=aws_env)
    with pytest.raises(KeyboardInterrupt):
        collect_inventory(aws_session, settings, out, progress=_InterruptAfterFirstCommand())
    assert list(out.iterdir()) == []
    # The next run collects a whole snapshot.
    folder = collect_inventory(aws_session, settings, out)
    assert sorted(p.name for p in out.iterdir()) == [folder.name]
    assert (folder / "manifest.json").is_file()
