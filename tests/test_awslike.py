"""The harness's moto server and patches behave as AWS does (tests/support/awslike.py cites
each behaviour)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from support.awslike import one_request_at_a_time


def test_the_server_runs_one_request_at_a_time() -> None:
    running, most = 0, 0
    count = threading.Lock()

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        nonlocal running, most
        with count:
            running += 1
            most = max(most, running)
        time.sleep(0.02)
        with count:
            running -= 1
        start_response("200 OK", [])
        return [environ["PATH_INFO"].encode()]

    served = one_request_at_a_time(app)
    with ThreadPoolExecutor(max_workers=6) as pool:
        bodies = list(
            pool.map(lambda i: served({"PATH_INFO": f"/{i}"}, lambda *a: None), range(24))
        )
    assert bodies == [[f"/{i}".encode()] for i in range(24)]
    assert most == 1


def test_concurrent_requests_get_answers_not_server_errors(aws_env: str) -> None:
    """Groups created while other threads list rules: moto alone answered some of these
    with HTTP 500 (a dictionary changed size during iteration); retries are off, so any
    such answer fails the test."""
    vpc = _client(aws_env).create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def work(worker: int) -> int:
        ec2 = _client(aws_env)
        for n in range(20):
            group = ec2.create_security_group(
                GroupName=f"w{worker}-{n}", Description="d", VpcId=vpc
            )["GroupId"]
            assert _rules(ec2, group)
            ec2.describe_security_group_rules()
        return n + 1

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(work, range(4))) == [20] * 4


def _client(endpoint: str) -> Any:
    return boto3.session.Session(region_name="us-east-1").client(
        "ec2",
        endpoint_url=endpoint,
        config=Config(retries={"max_attempts": 1, "mode": "standard"}),
    )


@pytest.fixture
def groups(ec2_client: Any, ec2_like_aws: None) -> tuple[str, str]:
    vpc = ec2_client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    a = ec2_client.create_security_group(GroupName="a", Description="a", VpcId=vpc)["GroupId"]
    b = ec2_client.create_security_group(GroupName="b", Description="b", VpcId=vpc)["GroupId"]
    return a, b


def _rules(ec2: Any, group: str) -> list[dict[str, Any]]:
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [group]}])
    return rules["SecurityGroupRules"]


def test_a_group_reference_keeps_its_description(ec2_client: Any, groups: tuple[str, str]) -> None:
    a, b = groups
    ec2_client.authorize_security_group_ingress(
        GroupId=a,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "UserIdGroupPairs": [{"GroupId": b, "Description": "from b"}],
            }
        ],
    )
    (rule,) = [r for r in _rules(ec2_client, a) if not r["IsEgress"]]
    assert rule["Description"] == "from b"


def test_the_same_rule_with_another_description_is_a_duplicate(
    ec2_client: Any, groups: tuple[str, str]
) -> None:
    a, b = groups
    permission = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443}
    ec2_client.authorize_security_group_ingress(
        GroupId=a, IpPermissions=[{**permission, "UserIdGroupPairs": [{"GroupId": b}]}]
    )
    with pytest.raises(ClientError) as info:
        ec2_client.authorize_security_group_ingress(
            GroupId=a,
            IpPermissions=[
                {**permission, "UserIdGroupPairs": [{"GroupId": b, "Description": "other"}]}
            ],
        )
    assert info.value.response["Error"]["Code"] == "InvalidPermission.Duplicate"


def test_modify_changes_an_all_traffic_rule_and_a_peer(
    ec2_client: Any, groups: tuple[str, str]
) -> None:
    a, b = groups
    (egress,) = [r for r in _rules(ec2_client, a) if r["IsEgress"]]  # the default rule
    ec2_client.modify_security_group_rules(
        GroupId=a,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": egress["SecurityGroupRuleId"],
                "SecurityGroupRule": {
                    "IpProtocol": "-1",
                    "CidrIpv4": "0.0.0.0/0",
                    "Description": "all out",
                },
            }
        ],
    )
    ec2_client.modify_security_group_rules(
        GroupId=a,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": egress["SecurityGroupRuleId"],
                "SecurityGroupRule": {
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5432,
                    "ReferencedGroupId": b,
                },
            }
        ],
    )
    (after,) = [r for r in _rules(ec2_client, a) if r["IsEgress"]]
    assert after["ReferencedGroupInfo"]["GroupId"] == b
    assert "CidrIpv4" not in after
    assert (after["IpProtocol"], after["FromPort"], after["ToPort"]) == ("tcp", 5432, 5432)
    assert after["Description"] == "all out"  # kept when the request does not change it
