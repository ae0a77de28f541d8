"""Parsing describe-*.json documents: roles, derived rules, subsets, and error messages.

``tests/fixtures/inventory/handmade/`` is a hand-made snapshot: two files as
``aws ec2 describe-network-interfaces`` and ``describe-security-groups`` print them,
with one interface of every kind AWS creates (NAT gateway, Transit Gateway, ALB, NLB,
GWLB, interface endpoint, Lambda, RDS, ElastiCache, EFS), shapes moto cannot produce.
"""

from __future__ import annotations

import codecs
import json
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES

from zt_flows.errors import InventoryFormatError
from zt_flows.inventory import InterfaceRole, Inventory, load_inventory, parse_snapshot
from zt_flows.inventory.model import FlowLogConfig, PrefixList

HANDMADE = FIXTURES / "inventory" / "handmade"
T0 = datetime(2026, 11, 16, tzinfo=UTC)


def _copy(tmp_path: Path, name: str = "snap") -> Path:
    target = tmp_path / name
    shutil.copytree(HANDMADE, target)
    return target


def _interfaces() -> dict[str, Any]:
    return json.loads((HANDMADE / "describe-network-interfaces.json").read_text())


def test_every_interface_kind_gets_its_role() -> None:
    inventory = load_inventory(HANDMADE)
    roles = {eni.id[-2:]: eni.role for eni in inventory.interfaces.values()}
    assert roles == {
        "01": InterfaceRole.NAT_GATEWAY,
        "02": InterfaceRole.TRANSIT_GATEWAY,
        "03": InterfaceRole.LOAD_BALANCER,
        "04": InterfaceRole.NETWORK_LOAD_BALANCER,
        "05": InterfaceRole.GATEWAY_LOAD_BALANCER,
        "06": InterfaceRole.VPC_ENDPOINT,
        "07": InterfaceRole.LAMBDA,
        "08": InterfaceRole.DATABASE,
        "09": InterfaceRole.CACHE,
        "10": InterfaceRole.INSTANCE,
        "11": InterfaceRole.UNATTACHED,
        "12": InterfaceRole.OTHER_MANAGED,
    }


def test_instance_interface_every_field() -> None:
    eni = load_inventory(HANDMADE).interfaces["eni-0f1e2d3c4b5a60010"]
    assert eni.vpc_id == "vpc-0f1e2d3c4b5a69780"
    assert eni.subnet_id == "subnet-0f1e2d3c4b5a69781"
    assert eni.account_id == "111122223333"
    assert eni.region == "us-east-1"  # no manifest: from the availability zone
    assert eni.availability_zone == "us-east-1a"
    assert eni.interface_type == "interface"
    assert eni.requester_managed is False
    assert eni.requester_id is None
    assert eni.description == "Primary network interface"
    assert eni.instance_id == "i-0f1e2d3c4b5a60010"
    assert eni.status == "in-use"
    assert eni.primary_ipv4 == "10.0.10.21"
    assert eni.private_ipv4s == ("10.0.10.21", "10.0.10.22")
    assert eni.ipv6s == ("2600:1f18:4a2:5a00::21",)  # written expanded in upper case
    assert eni.ipv4_prefixes == ("10.0.10.48/28",)
    assert eni.ipv6_prefixes == ("2600:1f18:4a2:5a00:1::/80",)
    assert eni.public_ips == ()
    assert eni.security_group_ids == ("sg-0f1e2d3c4b5a69001", "sg-0f1e2d3c4b5a69002")
    assert eni.attach_time == datetime(2026, 11, 2, 10, 15, 30, tzinfo=UTC)
    assert eni.tags == (("Name", "api-1"), ("Team", "payments"))
    assert eni.addresses == ("10.0.10.21", "10.0.10.22", "2600:1f18:4a2:5a00::21")


def test_nat_gateway_has_public_ip_and_no_groups() -> None:
    nat = load_inventory(HANDMADE).interfaces["eni-0f1e2d3c4b5a60001"]
    assert nat.public_ips == ("3.80.10.20",)
    assert nat.security_group_ids == ()
    assert nat.requester_id == "481730695273"
    assert nat.instance_id is None


def test_rules_derived_from_ip_permissions_one_per_peer() -> None:
    inventory = load_inventory(HANDMADE)
    web = inventory.rules_of("sg-0f1e2d3c4b5a69001")
    shapes = {
        (r.direction, r.protocol, r.from_port, r.to_port, r.peer_kind, r.peer_value, r.description)
        for r in web
    }
    assert shapes == {
        ("ingress", "tcp", 8080, 8080, "security_group", "sg-0f1e2d3c4b5a69002", "from the ALB"),
        ("ingress", "tcp", 8080, 8080, "cidr_ipv4", "10.0.0.0/16", "health checks"),
        ("ingress", "tcp", 22, 22, "security_group", "sg-0aaaabbbbccccdddd", None),
        ("ingress", "tcp", 22, 22, "prefix_list", "pl-0f1e2d3c4b5a69700", "office"),
        # Upper-case IPv6 normalised; ICMP -1 (all types) is None.
        ("ingress", "icmpv6", None, None, "cidr_ipv6", "2600:1f18:4a2:5a00::/56", None),
        # A protocol number AWS would have named: 17 is udp.
        ("ingress", "udp", 53, 53, "cidr_ipv4", "10.0.0.0/16", None),
        ("egress", "-1", None, None, "cidr_ipv4", "0.0.0.0/0", None),
        ("egress", "-1", None, None, "cidr_ipv6", "::/0", None),
    }
    for rule in web:
        assert rule.id is None
        assert rule.group_owner_id == "111122223333"
    (peered,) = [r for r in web if r.referenced_group_id == "sg-0aaaabbbbccccdddd"]
    assert peered.referenced_group_owner_id == "444455556666"
    assert peered.referenced_vpc_id == "vpc-0aaaabbbbccccdddd"
    assert peered.referenced_peering_id == "pcx-0aaaabbbbccccdddd"
    assert inventory.rules_of("sg-0f1e2d3c4b5a69002", "egress") == ()


def test_a_subset_reports_what_is_missing_and_guesses_nothing() -> None:
    inventory = load_inventory(HANDMADE)
    assert inventory.missing == (
        "describe-flow-logs.json",
        "describe-managed-prefix-lists.json",
        "describe-security-group-rules.json",
        "describe-subnets.json",
        "describe-vpc-peering-connections.json",
        "describe-vpcs.json",
    )
    assert inventory.vpcs == {}
    assert inventory.prefix_lists == {}
    assert inventory.flow_logs == ()
    (snapshot,) = inventory.snapshots
    assert snapshot.account_ids == ("111122223333",)
    assert snapshot.regions == ("us-east-1",)
    assert snapshot.taken_at.tzinfo is not None


def test_only_interfaces_is_a_snapshot_too(tmp_path: Path) -> None:
    folder = tmp_path / "2026-11-16T00-00-00Z"
    folder.mkdir()
    shutil.copy(HANDMADE / "describe-network-interfaces.json", folder)
    inventory = load_inventory(folder)
    assert len(inventory.interfaces) == 12
    assert inventory.security_groups == {}
    assert inventory.rules == ()
    assert "describe-security-groups.json" in inventory.missing
    assert inventory.snapshots[0].taken_at == T0  # from the folder's name


def test_prefix_list_without_its_entries_file_is_reported() -> None:
    documents = {
        "describe-managed-prefix-lists.json": {
            "PrefixLists": [
                {
                    "PrefixListId": "pl-63a5400a",
                    "AddressFamily": "IPv4",
                    "PrefixListName": "com.amazonaws.us-east-1.s3",
                    "OwnerId": "AWS",
                },
                {
                    "PrefixListId": "pl-0f1e2d3c4b5a69700",
                    "AddressFamily": "IPv4",
                    "PrefixListName": "office",
                    "MaxEntries": 10,
                    "OwnerId": "111122223333",
                },
            ]
        },
        "get-managed-prefix-list-entries.pl-63a5400a.json": {
            "Entries": [{"Cidr": "52.216.0.0/15"}, {"Cidr": "54.231.0.0/16"}]
        },
    }
    snapshot = parse_snapshot(documents, source="snap", taken_at=T0)
    s3, office = snapshot.prefix_lists
    assert (s3.cidrs, s3.max_entries, s3.service, s3.aws_service) == (
        ("52.216.0.0/15", "54.231.0.0/16"),
        None,
        "s3",
        "S3",
    )
    # An AWS-managed list weighs its documented weight (S3: 1), not its entries (2).
    assert s3.rule_weight == 1
    cloudfront = replace(s3, name="com.amazonaws.global.cloudfront.origin-facing")
    assert cloudfront.rule_weight == 55
    unknown = replace(s3, name="com.amazonaws.us-east-1.some-new-service")
    assert unknown.rule_weight == 2  # no documented weight: its size
    assert office.cidrs == ()
    assert "get-managed-prefix-list-entries.pl-0f1e2d3c4b5a69700.json" in snapshot.missing


@pytest.mark.parametrize(
    ("name", "service", "flow_log_name"),
    [
        ("com.amazonaws.us-east-1.s3", "s3", "S3"),
        ("com.amazonaws.eu-west-1.dynamodb", "dynamodb", "DYNAMODB"),
        ("com.amazonaws.global.cloudfront.origin-facing", "cloudfront", "CLOUDFRONT"),
        ("com.amazonaws.us-east-1.ipv6.vpc-lattice", "vpc-lattice", "VPC_LATTICE"),
        (
            "com.amazonaws.us-east-1.ec2-instance-connect",
            "ec2-instance-connect",
            "EC2_INSTANCE_CONNECT",
        ),
    ],
)
def test_aws_managed_prefix_list_service_names(name: str, service: str, flow_log_name: str) -> None:
    prefix_list = PrefixList("pl-1", name, "AWS", "IPv4", None, ())
    assert prefix_list.service == service
    assert prefix_list.aws_service == flow_log_name
    assert PrefixList("pl-2", name, "111122223333", "IPv4", 5, ()).service is None


def test_vpc_and_subnet_keep_only_associated_blocks_and_peering_sides() -> None:
    documents = {
        "describe-vpcs.json": {
            "Vpcs": [
                {
                    "OwnerId": "111122223333",
                    "Ipv6CidrBlockAssociationSet": [
                        {
                            "Ipv6CidrBlock": "2600:1f18:4a2:5a00::/56",
                            "Ipv6CidrBlockState": {"State": "associated"},
                        },
                        {
                            "Ipv6CidrBlock": "2600:1f18:4a2:7700::/56",
                            "Ipv6CidrBlockState": {"State": "disassociating"},
                        },
                    ],
                    "CidrBlockAssociationSet": [
                        {"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}},
                        {"CidrBlock": "10.2.0.0/16", "CidrBlockState": {"State": "associated"}},
                    ],
                    "IsDefault": False,
                    "VpcId": "vpc-0f1e2d3c4b5a69780",
                    "CidrBlock": "10.0.0.0/16",
                }
            ]
        },
        "describe-subnets.json": {
            "Subnets": [
                {
                    "AvailabilityZoneId": "use1-az1",
                    "Ipv6CidrBlockAssociationSet": [
                        {
                            "Ipv6CidrBlock": "2600:1f18:4a2:5a00::/64",
                            "Ipv6CidrBlockState": {"State": "associated"},
                        }
                    ],
                    "SubnetId": "subnet-0f1e2d3c4b5a69781",
                    "VpcId": "vpc-0f1e2d3c4b5a69780",
                    "CidrBlock": "10.0.0.0/24",
                    "AvailabilityZone": "us-east-1a",
                },
                {
                    "SubnetId": "subnet-0f1e2d3c4b5a69789",
                    "VpcId": "vpc-0f1e2d3c4b5a69780",
                    "Ipv6CidrBlockAssociationSet": [
                        {
                            "Ipv6CidrBlock": "2600:1f18:4a2:5a09::/64",
                            "Ipv6CidrBlockState": {"State": "associated"},
                        }
                    ],
                    "AvailabilityZone": "us-east-1b",
                },
            ]
        },
        "describe-vpc-peering-connections.json": {
            "VpcPeeringConnections": [
                {
                    "AccepterVpcInfo": {
                        "CidrBlock": "10.1.0.0/16",
                        "CidrBlockSet": [
                            {"CidrBlock": "10.1.0.0/16"},
                            {"CidrBlock": "10.3.0.0/16"},
                        ],
                        "OwnerId": "444455556666",
                        "VpcId": "vpc-0aaaabbbbccccdddd",
                        "Region": "us-east-1",
                    },
                    "RequesterVpcInfo": {
                        "CidrBlock": "10.0.0.0/16",
                        "Ipv6CidrBlockSet": [{"Ipv6CidrBlock": "2600:1f18:4a2:5a00::/56"}],
                        "OwnerId": "111122223333",
                        "VpcId": "vpc-0f1e2d3c4b5a69780",
                        "Region": "us-east-1",
                    },
                    "Status": {"Code": "pending-acceptance", "Message": "Pending"},
                    "VpcPeeringConnectionId": "pcx-0aaaabbbbccccdddd",
                }
            ]
        },
    }
    snapshot = parse_snapshot(documents, source="snap", taken_at=T0, region="us-east-1")
    (vpc,) = snapshot.vpcs
    assert vpc.cidrs_ipv4 == ("10.0.0.0/16", "10.2.0.0/16")
    assert vpc.cidrs_ipv6 == ("2600:1f18:4a2:5a00::/56",)
    assert vpc.region == "us-east-1"
    first, v6_only = snapshot.subnets
    assert (first.cidr_ipv4, first.cidrs_ipv6, first.az_id) == (
        "10.0.0.0/24",
        ("2600:1f18:4a2:5a00::/64",),
        "use1-az1",
    )
    assert (v6_only.cidr_ipv4, v6_only.cidrs_ipv6) == (None, ("2600:1f18:4a2:5a09::/64",))
    (pcx,) = snapshot.peerings
    assert not pcx.active
    assert pcx.accepter_cidrs == ("10.1.0.0/16", "10.3.0.0/16")
    assert pcx.requester_cidrs == ("10.0.0.0/16", "2600:1f18:4a2:5a00::/56")
    assert (pcx.accepter_owner_id, pcx.accepter_region) == ("444455556666", "us-east-1")


def test_rule_with_ports_and_referenced_group_from_describe_security_group_rules() -> None:
    documents = {
        "describe-security-group-rules.json": {
            "SecurityGroupRules": [
                {
                    "SecurityGroupRuleId": "sgr-0123456789abcdef0",
                    "GroupId": "sg-0f1e2d3c4b5a69001",
                    "GroupOwnerId": "111122223333",
                    "IsEgress": False,
                    "IpProtocol": "tcp",
                    "FromPort": 5432,
                    "ToPort": 5433,
                    "ReferencedGroupInfo": {
                        "GroupId": "sg-0aaaabbbbccccdddd",
                        "PeeringStatus": "active",
                        "UserId": "444455556666",
                        "VpcId": "vpc-0aaaabbbbccccdddd",
                        "VpcPeeringConnectionId": "pcx-0aaaabbbbccccdddd",
                    },
                    "Description": "replicas",
                    "Tags": [{"Key": "owner", "Value": "dba"}],
                }
            ]
        }
    }
    (rule,) = parse_snapshot(documents, source="snap", taken_at=T0).rules
    assert rule.id == "sgr-0123456789abcdef0"
    assert (rule.group_id, rule.group_owner_id, rule.direction) == (
        "sg-0f1e2d3c4b5a69001",
        "111122223333",
        "ingress",
    )
    assert (rule.protocol, rule.from_port, rule.to_port) == ("tcp", 5432, 5433)
    assert rule.referenced_group_id == "sg-0aaaabbbbccccdddd"
    assert rule.referenced_group_owner_id == "444455556666"
    assert rule.referenced_vpc_id == "vpc-0aaaabbbbccccdddd"
    assert rule.referenced_peering_id == "pcx-0aaaabbbbccccdddd"
    assert (rule.description, rule.tags) == ("replicas", (("owner", "dba"),))


# --------------------------------------------------------------------------- errors


def _error(tmp_path: Path, name: str, text: str | bytes) -> str:
    folder = _copy(tmp_path)
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(InventoryFormatError) as caught:
        load_inventory(folder)
    return str(caught.value)


def test_null_group_id_names_file_path_expected_and_found(tmp_path: Path) -> None:
    doc = _interfaces()
    doc["NetworkInterfaces"][3]["Groups"] = [{"GroupId": None, "GroupName": "x"}]
    message = _error(tmp_path, "describe-network-interfaces.json", json.dumps(doc))
    assert message == (
        f"{tmp_path / 'snap' / 'describe-network-interfaces.json'}, "
        "at NetworkInterfaces[3].Groups[0].GroupId: expected a string, found null"
    )


def test_missing_required_key(tmp_path: Path) -> None:
    doc = json.loads((HANDMADE / "describe-security-groups.json").read_text())
    del doc["SecurityGroups"][1]["GroupId"]
    message = _error(tmp_path, "describe-security-groups.json", json.dumps(doc))
    assert message.endswith(
        "describe-security-groups.json, at SecurityGroups[1].GroupId: "
        "expected a string, found nothing (the key is missing)"
    )


def test_malformed_json_names_line_and_column(tmp_path: Path) -> None:
    message = _error(
        tmp_path, "describe-vpcs.json", '{\n  "Vpcs": [\n    {"VpcId": "vpc-1"\n  ]\n}\n'
    )
    assert message.endswith(
        "describe-vpcs.json, line 4: expected valid JSON, found Expecting ',' delimiter at column 3"
    )


def test_wrong_types(tmp_path: Path) -> None:
    rules = {
        "SecurityGroupRules": [
            {
                "SecurityGroupRuleId": "sgr-1",
                "GroupId": "sg-1",
                "IsEgress": "yes",
                "IpProtocol": "tcp",
                "CidrIpv4": "10.0.0.0/8",
            }
        ]
    }
    message = _error(tmp_path, "describe-security-group-rules.json", json.dumps(rules))
    assert message.endswith(
        "at SecurityGroupRules[0].IsEgress: expected true or false, found the string 'yes'"
    )
    assert _error(tmp_path / "b", "describe-vpcs.json", "[]").endswith(
        "describe-vpcs.json: expected an object, found a list of 0"
    )
    doc = _interfaces()
    doc["NetworkInterfaces"][0]["PrivateIpAddresses"][0]["PrivateIpAddress"] = "10.0.0.300"
    message = _error(tmp_path / "c", "describe-network-interfaces.json", json.dumps(doc))
    assert message.endswith(
        "at NetworkInterfaces[0].PrivateIpAddresses[0].PrivateIpAddress: "
        "expected an IP address, found the string '10.0.0.300'"
    )
    doc = _interfaces()
    doc["NetworkInterfaces"][2]["Attachment"]["AttachTime"] = "yesterday"
    message = _error(tmp_path / "d", "describe-network-interfaces.json", json.dumps(doc))
    assert "at NetworkInterfaces[2].Attachment.AttachTime: expected an ISO-8601 time" in message


def test_rule_with_two_peers_or_none(tmp_path: Path) -> None:
    base = {
        "SecurityGroupRuleId": "sgr-1",
        "GroupId": "sg-1",
        "IsEgress": False,
        "IpProtocol": "-1",
    }
    two = {"SecurityGroupRules": [{**base, "CidrIpv4": "10.0.0.0/8", "PrefixListId": "pl-1"}]}
    message = _error(tmp_path, "describe-security-group-rules.json", json.dumps(two))
    assert message.endswith(
        "at SecurityGroupRules[0]: expected exactly one of CidrIpv4, CidrIpv6, PrefixListId, "
        "ReferencedGroupInfo.GroupId, found CidrIpv4, PrefixListId"
    )
    none = {"SecurityGroupRules": [base]}
    message = _error(tmp_path / "b", "describe-security-group-rules.json", json.dumps(none))
    assert message.endswith("found none of them")


def test_bad_manifest_and_bytes(tmp_path: Path) -> None:
    manifest = {
        "schema_version": 2,
        "taken_at": "2026-11-16T00:00:00Z",
        "account_ids": [],
        "regions": [],
    }
    message = _error(tmp_path, "manifest.json", json.dumps(manifest))
    assert message.endswith(
        "manifest.json, at schema_version: expected 1 (the manifest version this ztflows reads), "
        "found the number 2"
    )
    message = _error(tmp_path / "b", "describe-vpcs.json", b'{"Vpcs": ["\xff"]}')
    assert message.endswith(
        "describe-vpcs.json: expected UTF-8 text, found an undecodable byte at offset 11"
    )


def test_utf16_from_a_powershell_redirect_loads(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    text = (folder / "describe-security-groups.json").read_text()
    (folder / "describe-security-groups.json").write_bytes(
        codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    )
    group = load_inventory(folder).security_groups["sg-0f1e2d3c4b5a69001"]
    assert group.description == "web tier – managed by Terraform"


def test_not_a_snapshot(tmp_path: Path) -> None:
    with pytest.raises(InventoryFormatError, match="no such file or folder"):
        load_inventory(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InventoryFormatError, match=r"expected describe-\*\.json files"):
        load_inventory(tmp_path / "empty")
    (tmp_path / "file.json").write_text("{}")
    with pytest.raises(InventoryFormatError, match="found a file"):
        load_inventory(tmp_path / "file.json")


# --------------------------------------------------------------------------- flow logs

# As `aws ec2 describe-flow-logs --output json` prints them: one of each resource kind.
FLOW_LOGS: dict[str, Any] = {
    "FlowLogs": [
        {
            "CreationTime": "2026-10-05T09:14:27.512000+00:00",
            "DeliverLogsStatus": "SUCCESS",
            "FlowLogId": "fl-0000000000000vpc1",
            "FlowLogStatus": "ACTIVE",
            "ResourceId": "vpc-0f1e2d3c4b5a69780",
            "TrafficType": "ALL",
            "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::amzn-s3-demo-flow-log-bucket/prod",
            "LogFormat": "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr}",
            "Tags": [{"Key": "Name", "Value": "prod-all"}, {"Key": "team", "Value": "net"}],
            "MaxAggregationInterval": 60,
            "DestinationOptions": {
                "FileFormat": "parquet",
                "HiveCompatiblePartitions": True,
                "PerHourPartition": True,
            },
        },
        {
            # An older CloudWatch Logs flow log: the group's name, no LogDestination.
            "CreationTime": "2025-03-01T12:00:00Z",
            "DeliverLogsErrorMessage": "Access error",
            "DeliverLogsPermissionArn": "arn:aws:iam::111122223333:role/flow-logs",
            "DeliverLogsStatus": "FAILED",
            "FlowLogId": "fl-000000000subnet1",
            "FlowLogStatus": "ACTIVE",
            "LogGroupName": "/vpc/app-a",
            "ResourceId": "subnet-0f1e2d3c4b5a69781",
            "TrafficType": "REJECT",
            "LogDestinationType": "cloud-watch-logs",
            "MaxAggregationInterval": 600,
        },
        {
            "CreationTime": "2026-11-17T08:30:00+01:00",
            "FlowLogId": "fl-0000000000000eni1",
            "FlowLogStatus": "ACTIVE",
            "ResourceId": "eni-0f1e2d3c4b5a60010",
            "TrafficType": "ACCEPT",
            "LogDestinationType": "kinesis-data-firehose",
            "LogDestination": "arn:aws:firehose:us-east-1:111122223333:deliverystream/flows",
        },
        {
            "CreationTime": "2026-09-20T14:00:05+00:00",
            "FlowLogId": "fl-0000000000000tgw1",
            "FlowLogStatus": "ACTIVE",
            "ResourceId": "tgw-0f1e2d3c4b5a69001",
            "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
            "MaxAggregationInterval": 60,
        },
        {
            "CreationTime": "2026-09-20T14:00:06+00:00",
            "FlowLogId": "fl-000000000attach1",
            "FlowLogStatus": "ACTIVE",
            "ResourceId": "tgw-attach-0f1e2d3c4b5a69001",
            "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
        },
        {
            "CreationTime": "2026-09-21T10:00:00+00:00",
            "FlowLogId": "fl-00000000000nat01",
            "FlowLogStatus": "ACTIVE",
            "ResourceId": "nat-0f1e2d3c4b5a69001",
            "TrafficType": "ALL",
            "LogDestinationType": "s3",
            "LogDestination": "arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
        },
    ]
}


def test_flow_logs_every_field() -> None:
    snapshot = parse_snapshot({"describe-flow-logs.json": FLOW_LOGS}, source="snap", taken_at=T0)
    vpc, subnet, eni, tgw, attach, nat = snapshot.flow_logs
    assert vpc == FlowLogConfig(
        id="fl-0000000000000vpc1",
        resource_id="vpc-0f1e2d3c4b5a69780",
        resource_type="vpc",
        traffic_type="ALL",
        created_at=datetime(2026, 10, 5, 9, 14, 27, 512000, tzinfo=UTC),
        log_format="${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr}",
        destination_type="s3",
        destination="arn:aws:s3:::amzn-s3-demo-flow-log-bucket/prod",
        status="ACTIVE",
        deliver_status="SUCCESS",
        max_aggregation_interval=60,
        tags=(("Name", "prod-all"), ("team", "net")),
    )
    assert (vpc.active, vpc.delivery_failed, vpc.name) == (True, False, "prod-all")
    assert (subnet.resource_type, subnet.traffic_type) == ("subnet", "REJECT")
    assert (subnet.destination_type, subnet.destination) == ("cloud-watch-logs", "/vpc/app-a")
    assert (subnet.deliver_status, subnet.delivery_failed) == ("FAILED", True)
    assert subnet.created_at == datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert subnet.log_format is None
    assert (eni.resource_type, eni.traffic_type, eni.destination_type) == (
        "eni",
        "ACCEPT",
        "kinesis-data-firehose",
    )
    # Converted to UTC whatever offset the file states.
    assert eni.created_at == datetime(2026, 11, 17, 7, 30, tzinfo=UTC)
    assert (eni.deliver_status, eni.max_aggregation_interval, eni.tags) == (None, None, ())
    assert (tgw.resource_type, tgw.traffic_type) == ("tgw", None)
    assert (attach.resource_type, attach.traffic_type) == ("tgw-attach", None)
    # A regional NAT gateway's flow log: a resource this tool does not place.
    assert nat.resource_type == "unknown"
    assert "describe-flow-logs.json" not in snapshot.missing


def test_flow_logs_merge_latest_wins_and_their_absence_is_reported() -> None:
    first = parse_snapshot({"describe-flow-logs.json": FLOW_LOGS}, source="a", taken_at=T0)
    changed = json.loads(json.dumps(FLOW_LOGS["FlowLogs"][0]))
    changed["DeliverLogsStatus"] = "FAILED"
    later = parse_snapshot(
        {"describe-flow-logs.json": {"FlowLogs": [changed]}},
        source="b",
        taken_at=datetime(2026, 11, 18, tzinfo=UTC),
    )
    without = parse_snapshot(
        {"describe-vpcs.json": {"Vpcs": []}},
        source="c",
        taken_at=datetime(2026, 11, 19, tzinfo=UTC),
    )
    assert "describe-flow-logs.json" in without.missing
    assert without.flow_logs == ()

    inventory = Inventory.from_snapshots([later, without, first])
    by_id = {log.id: log for log in inventory.flow_logs}
    assert [log.id for log in inventory.flow_logs] == sorted(by_id)
    assert len(by_id) == 6  # logs only the first snapshot listed are kept
    assert by_id["fl-0000000000000vpc1"].deliver_status == "FAILED"  # the latest says so
    assert "describe-flow-logs.json" in inventory.missing


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"TrafficType": "EVERYTHING"},
            "at FlowLogs[0].TrafficType: expected ACCEPT, REJECT or ALL, "
            "found the string 'EVERYTHING'",
        ),
        (
            {"CreationTime": None},
            "at FlowLogs[0].CreationTime: expected an ISO-8601 time such as "
            "2026-11-17T12:00:00+00:00, found null",
        ),
        (
            {"CreationTime": "last Tuesday"},
            "at FlowLogs[0].CreationTime: expected an ISO-8601 time such as "
            "2026-11-17T12:00:00+00:00, found the string 'last Tuesday'",
        ),
        (
            {"MaxAggregationInterval": "60"},
            "at FlowLogs[0].MaxAggregationInterval: expected an integer, found the string '60'",
        ),
    ],
)
def test_flow_log_errors_name_file_path_expected_and_found(
    tmp_path: Path, change: dict[str, object], expected: str
) -> None:
    doc = json.loads(json.dumps(FLOW_LOGS))
    doc["FlowLogs"][0].update(change)
    message = _error(tmp_path, "describe-flow-logs.json", json.dumps(doc))
    assert message == f"{tmp_path / 'snap' / 'describe-flow-logs.json'}, {expected}"


def test_flow_log_without_its_id_or_resource(tmp_path: Path) -> None:
    doc = json.loads(json.dumps(FLOW_LOGS))
    del doc["FlowLogs"][2]["ResourceId"]
    message = _error(tmp_path, "describe-flow-logs.json", json.dumps(doc))
    assert message.endswith(
        "at FlowLogs[2].ResourceId: expected a string, found nothing (the key is missing)"
    )
