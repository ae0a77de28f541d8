"""Collecting from a moto EC2 server over HTTP, loading the snapshot, and every field.

Known moto gaps, worked around here and covered elsewhere with AWS's real shapes
(``test_inventory_parse.py``, ``test_inventory_wire.py``):

* one page per call whatever MaxResults says (paging: ``test_inventory_wire.py``);
* the default group has no self-referencing ingress rule;
* NAT gateway, load balancer, Lambda and RDS interfaces do not exist: every ENI is a
  plain ``interface`` (role classification: ``test_inventory_parse.py``);
* prefix delegation (``Ipv4Prefixes``) is accepted and dropped;
* DescribeSecurityGroupRules omits ``GroupOwnerId``, ``ReferencedGroupInfo.VpcId`` and
  the description of a rule that references a group;
* a subnet's IPv6 association state is written as a stringified dict instead of
  ``associated``;
* CreateFlowLogs refuses an S3 destination with a folder (``arn:aws:s3:::bucket/prefix``,
  which AWS accepts); DescribeFlowLogs leaves out ``DestinationOptions`` (which ztflows
  does not read); a flow log's ``CreationTime`` is the server's clock at creation.
"""

from __future__ import annotations

import ipaddress
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from zt_flows.errors import UsageError
from zt_flows.inventory import (
    InterfaceRole,
    collect_inventory,
    has_flow_log_configuration,
    interface_coverage,
    load_inventory,
    load_snapshot,
    parse_snapshot,
)
from zt_flows.settings import AwsSettings

ACCOUNT = "123456789012"  # moto's default account
NOW = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)


def _tag(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


@pytest.fixture
def estate(ec2_client: Any, bucket: str) -> dict[str, Any]:
    """A small VPC: IPv6, two subnets, a peering, groups referencing groups, ENIs, flow logs."""
    ec2 = ec2_client
    vpc = ec2.create_vpc(
        CidrBlock="10.0.0.0/16",
        AmazonProvidedIpv6CidrBlock=True,
        TagSpecifications=_tag("vpc", "prod"),
    )["Vpc"]["VpcId"]
    vpc_v6 = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]
    v6_block = ipaddress.ip_network(vpc_v6["Ipv6CidrBlock"])
    subnet_v6 = next(v6_block.subnets(new_prefix=64))
    shared = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=shared)
    pcx_id = pcx["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx_id)
    app_a = ec2.create_subnet(
        VpcId=vpc,
        CidrBlock="10.0.10.0/24",
        Ipv6CidrBlock=str(subnet_v6),
        AvailabilityZone="us-east-1a",
        TagSpecifications=_tag("subnet", "app-a"),
    )["Subnet"]["SubnetId"]
    data_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.11.0/24", AvailabilityZone="us-east-1b")
    data_b = data_b["Subnet"]["SubnetId"]
    office = ec2.create_managed_prefix_list(
        PrefixListName="office",
        MaxEntries=5,
        AddressFamily="IPv4",
        Entries=[
            {"Cidr": "198.51.100.0/24", "Description": "hq"},
            {"Cidr": "203.0.113.0/25", "Description": "branch"},
        ],
    )["PrefixList"]["PrefixListId"]

    def group(name: str, description: str) -> str:
        created = ec2.create_security_group(
            GroupName=name,
            Description=description,
            VpcId=vpc,
            TagSpecifications=_tag("security-group", name),
        )
        return str(created["GroupId"])

    alb, web, db = group("alb", "load balancer"), group("web", "web tier"), group("db", "postgres")
    ec2.authorize_security_group_ingress(
        GroupId=alb,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 443,
                "ToPort": 443,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0", "Description": "users v6"}],
            }
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 8080,
                "ToPort": 8080,
                "UserIdGroupPairs": [{"GroupId": alb, "Description": "from alb"}],
            },
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "PrefixListIds": [{"PrefixListId": office, "Description": "admins"}],
            },
            {
                "IpProtocol": "icmp",
                "FromPort": -1,
                "ToPort": -1,
                "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
            },
        ],
    )
    ec2.authorize_security_group_ingress(
        GroupId=db,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 5432,
                "ToPort": 5432,
                "UserIdGroupPairs": [{"GroupId": web}],
            }
        ],
    )
    api = ec2.create_network_interface(
        SubnetId=app_a,
        Groups=[web, alb],
        PrivateIpAddresses=[
            {"PrivateIpAddress": "10.0.10.21", "Primary": True},
            {"PrivateIpAddress": "10.0.10.22", "Primary": False},
        ],
        Ipv6Addresses=[{"Ipv6Address": str(subnet_v6[0x21])}],
        Description="api-1 interface",
        TagSpecifications=_tag("network-interface", "api-1"),
    )["NetworkInterface"]["NetworkInterfaceId"]
    eip = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(AllocationId=eip["AllocationId"], NetworkInterfaceId=api)
    instance = ec2.run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        SubnetId=data_b,
        SecurityGroupIds=[db],
        PrivateIpAddress="10.0.11.5",
    )["Instances"][0]["InstanceId"]
    (vpc_log,) = ec2.create_flow_logs(
        ResourceType="VPC",
        ResourceIds=[vpc],
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{bucket}",
        MaxAggregationInterval=60,
        DestinationOptions={
            "FileFormat": "parquet",
            "HiveCompatiblePartitions": True,
            "PerHourPartition": True,
        },
        TagSpecifications=_tag("vpc-flow-log", "prod-all"),
    )["FlowLogIds"]
    # A log group that does not exist: the flow log is created, its deliveries fail.
    (rejects_log,) = ec2.create_flow_logs(
        ResourceType="Subnet",
        ResourceIds=[data_b],
        TrafficType="REJECT",
        LogDestinationType="cloud-watch-logs",
        LogGroupName="/vpc/data-b-rejects",
        DeliverLogsPermissionArn=f"arn:aws:iam::{ACCOUNT}:role/flow-logs-delivery",
        MaxAggregationInterval=600,
    )["FlowLogIds"]
    (api_log,) = ec2.create_flow_logs(
        ResourceType="NetworkInterface",
        ResourceIds=[api],
        TrafficType="ACCEPT",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{bucket}",
        LogFormat="${version} ${interface-id} ${srcaddr} ${dstaddr} ${action} ${tcp-flags}",
        MaxAggregationInterval=60,
    )["FlowLogIds"]
    return {
        "vpc": vpc,
        "vpc_v6": str(v6_block),
        "subnet_v6": subnet_v6,
        "shared": shared,
        "pcx": pcx_id,
        "app_a": app_a,
        "data_b": data_b,
        "office": office,
        "alb": alb,
        "web": web,
        "db": db,
        "api": api,
        "eip": eip["PublicIp"],
        "instance": instance,
        "bucket": bucket,
        "vpc_log": vpc_log,
        "rejects_log": rejects_log,
        "api_log": api_log,
    }


@pytest.fixture
def collected(
    estate: dict[str, Any], aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> Path:
    return collect_inventory(aws_session, AwsSettings(endpoint_url=aws_env), tmp_path, now=NOW)


def test_snapshot_folder_has_every_document(collected: Path, estate: dict[str, Any]) -> None:
    assert collected.name == "2026-11-16T00-00-00Z"
    names = {p.name for p in collected.iterdir()}
    assert {
        "manifest.json",
        "describe-network-interfaces.json",
        "describe-security-groups.json",
        "describe-security-group-rules.json",
        "describe-managed-prefix-lists.json",
        "describe-vpcs.json",
        "describe-subnets.json",
        "describe-vpc-peering-connections.json",
        "describe-flow-logs.json",
        f"get-managed-prefix-list-entries.{estate['office']}.json",
    } <= names
    assert not [p for p in collected.parent.iterdir() if p.name.startswith(".")]


def test_interfaces_every_field(collected: Path, estate: dict[str, Any], ec2_client: Any) -> None:
    inventory = load_inventory(collected)
    api = inventory.interfaces[estate["api"]]
    raw = ec2_client.describe_network_interfaces(NetworkInterfaceIds=[estate["api"]])
    assert api.id == estate["api"]
    assert api.vpc_id == estate["vpc"]
    assert api.subnet_id == estate["app_a"]
    assert api.account_id == ACCOUNT
    assert api.region == "us-east-1"
    assert api.availability_zone == "us-east-1a"
    assert api.interface_type == "interface"
    assert api.requester_managed is False
    assert api.requester_id == raw["NetworkInterfaces"][0]["RequesterId"]
    assert api.description == "api-1 interface"
    assert api.instance_id is None
    assert api.status == "available"
    assert api.primary_ipv4 == "10.0.10.21"
    assert api.private_ipv4s == ("10.0.10.21", "10.0.10.22")
    assert api.ipv6s == (str(estate["subnet_v6"][0x21]),)
    assert api.ipv4_prefixes == ()
    assert api.ipv6_prefixes == ()
    assert api.public_ips == (estate["eip"],)
    assert api.security_group_ids == (estate["web"], estate["alb"])
    assert api.attach_time is None
    assert api.role is InterfaceRole.UNATTACHED
    assert api.tags == (("Name", "api-1"),)
    assert api.name == "api-1"

    (db_eni,) = [e for e in inventory.interfaces.values() if e.instance_id == estate["instance"]]
    assert db_eni.role is InterfaceRole.INSTANCE
    assert db_eni.status == "in-use"
    assert db_eni.private_ipv4s == ("10.0.11.5",)
    assert db_eni.security_group_ids == (estate["db"],)
    assert db_eni.availability_zone == "us-east-1b"
    assert db_eni.attach_time is not None
    assert db_eni.attach_time.tzinfo is not None


def test_groups_and_rules_every_field(collected: Path, estate: dict[str, Any]) -> None:
    inventory = load_inventory(collected)
    web = inventory.security_groups[estate["web"]]
    assert (web.name, web.vpc_id, web.owner_id, web.description) == (
        "web",
        estate["vpc"],
        ACCOUNT,
        "web tier",
    )
    assert web.tags == (("Name", "web"),)
    assert not web.is_default

    def shape(group: str) -> set[tuple[object, ...]]:
        return {
            (r.direction, r.protocol, r.from_port, r.to_port, r.peer_kind, r.peer_value)
            for r in inventory.rules_of(estate[group])
        }

    assert shape("web") == {
        ("ingress", "tcp", 8080, 8080, "security_group", estate["alb"]),
        ("ingress", "tcp", 22, 22, "prefix_list", estate["office"]),
        ("ingress", "icmp", None, None, "cidr_ipv4", "10.0.0.0/8"),  # -1 = every type and code
        ("egress", "-1", None, None, "cidr_ipv4", "0.0.0.0/0"),
        # An IPv6-enabled VPC's new groups also allow all IPv6 egress, as in AWS.
        ("egress", "-1", None, None, "cidr_ipv6", "::/0"),
    }
    assert shape("db") >= {("ingress", "tcp", 5432, 5432, "security_group", estate["web"])}
    assert ("ingress", "tcp", 443, 443, "cidr_ipv6", "::/0") in shape("alb")
    for rule in inventory.rules:
        assert rule.id is not None
        assert rule.id.startswith("sgr-")
    (by_ref,) = [r for r in inventory.rules_of(estate["web"]) if r.peer_kind == "security_group"]
    assert by_ref.referenced_group_owner_id == ACCOUNT
    assert by_ref.group_id == estate["web"]
    (v6_rule,) = [r for r in inventory.rules_of(estate["alb"], "ingress") if r.cidr_ipv6]
    assert v6_rule.description in ("users v6", None)  # moto keeps some descriptions only
    # The membership views later stages use.
    assert [e.id for e in inventory.members_of(estate["web"])] == [estate["api"]]
    assert inventory.group_addresses(estate["web"]) == (
        "10.0.10.21",
        "10.0.10.22",
        str(estate["subnet_v6"][0x21]),
    )


def test_prefix_lists_vpcs_subnets_peerings(collected: Path, estate: dict[str, Any]) -> None:
    inventory = load_inventory(collected)
    office = inventory.prefix_lists[estate["office"]]
    assert (office.name, office.owner_id, office.address_family, office.max_entries) == (
        "office",
        ACCOUNT,
        "IPv4",
        5,
    )
    assert office.cidrs == ("198.51.100.0/24", "203.0.113.0/25")
    assert not office.aws_managed
    assert office.rule_weight == 5
    (s3,) = [
        pl for pl in inventory.prefix_lists.values() if pl.name == "com.amazonaws.us-east-1.s3"
    ]
    assert s3.aws_managed
    assert s3.aws_service == "S3"
    assert s3.cidrs

    vpc = inventory.vpcs[estate["vpc"]]
    assert vpc.cidrs_ipv4 == ("10.0.0.0/16",)
    # moto writes the block with a leading zero in a group (…:0c00::/56); it is normalised.
    assert vpc.cidrs_ipv6 == (estate["vpc_v6"],)
    assert (vpc.owner_id, vpc.is_default, vpc.region) == (ACCOUNT, False, "us-east-1")
    assert vpc.tags == (("Name", "prod"),)
    assert any(v.is_default for v in inventory.vpcs.values())

    subnet = inventory.subnets[estate["app_a"]]
    assert (subnet.vpc_id, subnet.cidr_ipv4, subnet.availability_zone) == (
        estate["vpc"],
        "10.0.10.0/24",
        "us-east-1a",
    )
    assert subnet.az_id is not None
    assert subnet.az_id.startswith("use1-az")
    assert subnet.tags == (("Name", "app-a"),)
    raw = json.loads((collected / "describe-subnets.json").read_text())
    (raw_subnet,) = [s for s in raw["Subnets"] if s["SubnetId"] == estate["app_a"]]
    state = raw_subnet["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlockState"]["State"]
    # Only an "associated" block counts; moto's malformed state is honestly not one.
    expected = (str(estate["subnet_v6"]),) if state == "associated" else ()
    assert subnet.cidrs_ipv6 == expected

    (pcx,) = inventory.peerings
    assert pcx.id == estate["pcx"]
    assert pcx.active
    assert (pcx.requester_vpc_id, pcx.requester_owner_id, pcx.requester_region) == (
        estate["vpc"],
        ACCOUNT,
        "us-east-1",
    )
    assert pcx.requester_cidrs[0] == "10.0.0.0/16"
    assert (pcx.accepter_vpc_id, pcx.accepter_cidrs) == (estate["shared"], ("10.1.0.0/16",))


def test_flow_logs_every_field(collected: Path, estate: dict[str, Any], ec2_client: Any) -> None:
    inventory = load_inventory(collected)
    logs = {log.id: log for log in inventory.flow_logs}
    assert set(logs) == {estate["vpc_log"], estate["rejects_log"], estate["api_log"]}
    raw = {log["FlowLogId"]: log for log in ec2_client.describe_flow_logs()["FlowLogs"]}

    vpc_log = logs[estate["vpc_log"]]
    assert (vpc_log.resource_id, vpc_log.resource_type, vpc_log.traffic_type) == (
        estate["vpc"],
        "vpc",
        "ALL",
    )
    assert (vpc_log.destination_type, vpc_log.destination) == (
        "s3",
        f"arn:aws:s3:::{estate['bucket']}",
    )
    assert (vpc_log.status, vpc_log.deliver_status, vpc_log.active) == ("ACTIVE", "SUCCESS", True)
    assert (vpc_log.max_aggregation_interval, vpc_log.name) == (60, "prod-all")
    assert vpc_log.created_at == raw[estate["vpc_log"]]["CreationTime"]
    assert vpc_log.created_at.tzinfo is not None
    # Without a LogFormat the flow log has the default format, and says so.
    assert vpc_log.log_format is not None
    assert vpc_log.log_format.startswith("${version} ${account-id} ${interface-id} ")

    rejects = logs[estate["rejects_log"]]
    assert (rejects.resource_id, rejects.resource_type, rejects.traffic_type) == (
        estate["data_b"],
        "subnet",
        "REJECT",
    )
    assert (rejects.destination_type, rejects.destination) == (
        "cloud-watch-logs",
        "/vpc/data-b-rejects",
    )
    assert (rejects.deliver_status, rejects.delivery_failed) == ("FAILED", True)
    assert rejects.max_aggregation_interval == 600

    api_log = logs[estate["api_log"]]
    assert (api_log.resource_id, api_log.resource_type, api_log.traffic_type) == (
        estate["api"],
        "eni",
        "ACCEPT",
    )
    assert (
        api_log.log_format
        == "${version} ${interface-id} ${srcaddr} ${dstaddr} ${action} ${tcp-flags}"
    )


def test_coverage_of_a_collected_snapshot(collected: Path, estate: dict[str, Any]) -> None:
    """The VPC's ALL-traffic flow log covers both interfaces once it exists, not before."""
    inventory = load_inventory(collected)
    assert has_flow_log_configuration(inventory)
    created = {log.id: log.created_at for log in inventory.flow_logs}[estate["vpc_log"]]
    (instance_eni,) = [e.id for e in inventory.interfaces.values() if e.instance_id]

    after = interface_coverage(inventory, created + timedelta(hours=1), created + timedelta(days=1))
    for eni in (estate["api"], instance_eni):
        assert after[eni].covered, after[eni].reason
        assert after[eni].via == ("vpc",)
        assert [log.id for log in after[eni].covered_by] == [estate["vpc_log"]]
        assert after[eni].gaps == ()

    before = interface_coverage(inventory, created - timedelta(days=1), created + timedelta(days=1))
    api = before[estate["api"]]
    assert not api.covered
    assert api.configured
    assert {(gap.kind, gap.flow_log_id) for gap in api.gaps} == {
        ("created_late", estate["api_log"]),
        ("created_late", estate["vpc_log"]),
    }
    (late,) = [gap for gap in api.gaps if gap.flow_log_id == estate["vpc_log"]]
    assert late.at == created


def test_snapshot_metadata_and_nothing_missing(collected: Path) -> None:
    inventory = load_inventory(collected)
    (snapshot,) = inventory.snapshots
    assert snapshot.taken_at == NOW
    assert snapshot.account_ids == (ACCOUNT,)
    assert snapshot.regions == ("us-east-1",)
    assert snapshot.source == str(collected)
    assert inventory.missing == ()


def test_files_load_back_identically_to_the_live_answers(collected: Path, ec2_client: Any) -> None:
    """What load_snapshot reads equals parsing the live boto3 answers directly."""
    live: dict[str, object] = {}
    for name, call, key in [
        ("describe-network-interfaces.json", "describe_network_interfaces", "NetworkInterfaces"),
        ("describe-security-groups.json", "describe_security_groups", "SecurityGroups"),
        (
            "describe-security-group-rules.json",
            "describe_security_group_rules",
            "SecurityGroupRules",
        ),
        ("describe-managed-prefix-lists.json", "describe_managed_prefix_lists", "PrefixLists"),
        ("describe-vpcs.json", "describe_vpcs", "Vpcs"),
        ("describe-subnets.json", "describe_subnets", "Subnets"),
        (
            "describe-vpc-peering-connections.json",
            "describe_vpc_peering_connections",
            "VpcPeeringConnections",
        ),
        ("describe-flow-logs.json", "describe_flow_logs", "FlowLogs"),
    ]:
        answer = getattr(ec2_client, call)()
        live[name] = json.loads(json.dumps({key: answer[key]}, default=lambda d: d.isoformat()))
    for prefix_list in live["describe-managed-prefix-lists.json"]["PrefixLists"]:  # type: ignore[index]
        list_id = prefix_list["PrefixListId"]
        entries = ec2_client.get_managed_prefix_list_entries(PrefixListId=list_id)["Entries"]
        live[f"get-managed-prefix-list-entries.{list_id}.json"] = {"Entries": entries}

    from_files = load_snapshot(collected)
    direct = parse_snapshot(
        live, source=str(collected), taken_at=NOW, account_id=ACCOUNT, region="us-east-1"
    )
    assert from_files == direct
    # Derived rules (no describe-security-group-rules.json) describe the same permissions.
    without_rules = {k: v for k, v in live.items() if k != "describe-security-group-rules.json"}
    derived = parse_snapshot(without_rules, source="x", taken_at=NOW)
    assert derived.missing == ("describe-security-group-rules.json",)

    def permission(r: Any) -> tuple[object, ...]:
        return (r.group_id, r.direction, r.protocol, r.from_port, r.to_port, r.peer_value)

    assert sorted(map(permission, derived.rules)) == sorted(map(permission, direct.rules))
    assert {r.id for r in derived.rules} == {None}


def test_two_accounts_through_assumed_roles(
    aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    roles = (
        "arn:aws:iam::111111111111:role/ztflows-read",
        "arn:aws:iam::222222222222:role/ztflows-read",
    )
    sts = aws_session.client("sts", endpoint_url=aws_env)
    for index, role in enumerate(roles):
        creds = sts.assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
        member = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        ).client("ec2", endpoint_url=aws_env)
        vpc = member.create_vpc(CidrBlock=f"10.{index + 20}.0.0/16")["Vpc"]["VpcId"]
        subnet = member.create_subnet(VpcId=vpc, CidrBlock=f"10.{index + 20}.1.0/24")
        member.create_network_interface(SubnetId=subnet["Subnet"]["SubnetId"])

    folder = collect_inventory(
        aws_session, AwsSettings(endpoint_url=aws_env, assume_roles=roles), tmp_path, now=NOW
    )

    assert (folder / "111111111111" / "us-east-1" / "describe-vpcs.json").is_file()
    assert (folder / "222222222222" / "us-east-1" / "describe-vpcs.json").is_file()
    (snapshot,) = load_inventory(folder).snapshots
    assert snapshot.account_ids == ("111111111111", "222222222222")
    assert {eni.account_id for eni in snapshot.interfaces} == {"111111111111", "222222222222"}
    assert {v.owner_id for v in snapshot.vpcs if not v.is_default} == {
        "111111111111",
        "222222222222",
    }


def test_two_profiles_reaching_one_account_is_refused(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[a]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        "[b]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    session = boto3.session.Session(region_name="us-east-1")
    settings = AwsSettings(endpoint_url=aws_env, profiles=("a", "b"))
    with pytest.raises(UsageError, match=r"profile a and profile b both reach account 1234"):
        collect_inventory(session, settings, tmp_path / "out", now=NOW)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_an_existing_snapshot_is_never_overwritten(
    estate: dict[str, Any], aws_session: boto3.session.Session, aws_env: str, tmp_path: Path
) -> None:
    from zt_flows.errors import OutputError

    settings = AwsSettings(endpoint_url=aws_env)
    first = collect_inventory(aws_session, settings, tmp_path, now=NOW)
    before = (first / "describe-vpcs.json").read_bytes()
    with pytest.raises(OutputError, match="already exists"):
        collect_inventory(aws_session, settings, tmp_path, now=NOW)
    assert (first / "describe-vpcs.json").read_bytes() == before
