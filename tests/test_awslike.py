"""The harness's moto patches behave as EC2 does (tests/support/awslike.py cites each behaviour)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


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
