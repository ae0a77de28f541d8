"""The sample's inventory snapshots, as the AWS CLI prints the EC2 describe calls.

Member names, nesting and key order follow botocore's EC2 model (the CLI prints a
response's members in model order); values follow what AWS returns for each kind
of interface: requester-managed load balancer, NAT gateway, Lambda, RDS and
ElastiCache interfaces look the way they do in a real account.
AWS: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from zt_flows.sample.delivery import (
    FLOW_LOG_BUCKET,
    FLOW_LOG_CREATED,
    Format,
    flow_log_id,
    log_format,
)
from zt_flows.sample.groups import GroupDef, RuleDef
from zt_flows.sample.ids import aws_id, hex_of
from zt_flows.sample.network import (
    ACCOUNT_ID,
    REGION,
    S3_CIDRS,
    S3_PREFIX_LIST_ID,
    S3_PREFIX_LIST_NAME,
    EniDef,
    Network,
    SubnetDef,
    VpcDef,
)

Json = dict[str, object]

# InstanceOwnerId / RequesterId AWS uses for the interfaces it creates on a customer's behalf.
_MANAGED_OWNER = {
    "alb": "amazon-elb",
    "nat": "amazon-aws",
    "lambda": "amazon-aws",
    "rds": "amazon-rds",
    "elasticache": "amazon-elasticache",
}
_REQUESTER = {
    "alb": "amazon-elb",
    "nat": "481730695273",  # the NAT gateway service's own account
    "lambda": "AROAX6RZ2PREPORTSFN:reports",
    "rds": "amazon-rds",
    "elasticache": "amazon-elasticache",
}


def snapshot_folder(taken_at: datetime) -> str:
    """``2026-11-16T00-00-00Z``: the taken-at time, safe as a folder name."""
    return taken_at.strftime("%Y-%m-%dT%H-%M-%SZ")


def write_snapshot(
    network: Network, taken_at: datetime, folder: Path, *, formats: Iterable[Format]
) -> list[Path]:
    """Write one snapshot's describe-*.json documents and its manifest; returns the files.

    ``formats`` are the formats the flow logs are delivered in: one flow log each.
    """
    folder.mkdir(parents=True, exist_ok=True)
    enis = sorted((e for e in network.enis if e.exists_at(taken_at)), key=lambda e: e.id)
    groups = sorted(network.groups, key=lambda g: g.id)
    docs: dict[str, Json] = {
        "describe-network-interfaces.json": {"NetworkInterfaces": [_eni(network, e) for e in enis]},
        "describe-security-groups.json": {"SecurityGroups": [_group(network, g) for g in groups]},
        "describe-security-group-rules.json": {
            "SecurityGroupRules": [
                _rule(network, g, i, r) for g in groups for i, r in enumerate(g.rules)
            ]
        },
        "describe-managed-prefix-lists.json": {"PrefixLists": [_prefix_list()]},
        f"get-managed-prefix-list-entries.{S3_PREFIX_LIST_ID}.json": {
            "Entries": [{"Cidr": c} for c in S3_CIDRS]
        },
        "describe-vpcs.json": {"Vpcs": [_vpc(v) for v in network.vpcs]},
        "describe-subnets.json": {"Subnets": [_subnet(network, s) for s in network.subnets]},
        "describe-vpc-peering-connections.json": {"VpcPeeringConnections": [_peering(network)]},
        "describe-flow-logs.json": {
            "FlowLogs": [_flow_log(network, fmt) for fmt in dict.fromkeys(formats)]
        },
        "manifest.json": {
            "schema_version": 1,
            "taken_at": taken_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "account_ids": [ACCOUNT_ID],
            "regions": [REGION],
            "generator": "zt_flows.sample",
        },
    }
    written = []
    for name, doc in docs.items():
        path = folder / name
        path.write_text(json.dumps(doc, indent=4, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written


def _tags(name: str) -> list[Json]:
    return [{"Key": "Name", "Value": name}]


def _time(value: datetime) -> str:
    return value.isoformat(timespec="seconds")


def _dns(ip: str) -> str:
    return f"ip-{ip.replace('.', '-')}.ec2.internal"


def _public_dns(ip: str) -> str:
    return f"ec2-{ip.replace('.', '-')}.compute-1.amazonaws.com"


def _mac(name: str) -> str:
    digest = hex_of(f"mac:{name}", 10)
    return "0e:" + ":".join(digest[i : i + 2] for i in range(0, 10, 2))


def _association(eni: EniDef) -> Json:
    assert eni.public_ip is not None
    out: Json = {}
    if eni.elastic_ip:
        out["AllocationId"] = aws_id("eipalloc", eni.name)
        out["AssociationId"] = aws_id("eipassoc", eni.name)
        out["IpOwnerId"] = ACCOUNT_ID
    else:
        out["IpOwnerId"] = "amazon"
    out["PublicDnsName"] = _public_dns(eni.public_ip)
    out["PublicIp"] = eni.public_ip
    return out


def _attachment(eni: EniDef) -> Json:
    if eni.role == "instance":
        return {
            "AttachTime": _time(eni.attached),
            "AttachmentId": aws_id("eni-attach", eni.name),
            "DeleteOnTermination": True,
            "DeviceIndex": 0,
            "NetworkCardIndex": 0,
            "InstanceId": eni.instance_id,
            "InstanceOwnerId": ACCOUNT_ID,
            "Status": "attached",
        }
    return {
        "AttachTime": _time(eni.attached),
        "AttachmentId": aws_id("ela-attach", eni.name),
        "DeleteOnTermination": False,
        "DeviceIndex": 1,
        "NetworkCardIndex": 0,
        "InstanceOwnerId": _MANAGED_OWNER[eni.role],
        "Status": "attached",
    }


def _eni(network: Network, eni: EniDef) -> Json:
    subnet = network.subnet(eni.subnet)
    out: Json = {}
    if eni.public_ip:
        out["Association"] = _association(eni)
    out["Attachment"] = _attachment(eni)
    out["AvailabilityZone"] = subnet.az
    out["Description"] = eni.description
    out["Groups"] = [
        {"GroupId": network.group(k).id, "GroupName": network.group(k).name} for k in eni.groups
    ]
    out["InterfaceType"] = {"nat": "nat_gateway", "lambda": "lambda"}.get(eni.role, "interface")
    out["Ipv6Addresses"] = [{"Ipv6Address": a, "IsPrimaryIpv6": False} for a in eni.ipv6]
    out["MacAddress"] = _mac(eni.name)
    out["NetworkInterfaceId"] = eni.id
    out["OwnerId"] = ACCOUNT_ID
    out["PrivateDnsName"] = _dns(eni.private_ips[0])
    out["PrivateIpAddress"] = eni.private_ips[0]
    addresses: list[Json] = []
    for i, ip in enumerate(eni.private_ips):
        entry: Json = {}
        if i == 0 and eni.public_ip:
            entry["Association"] = _association(eni)
        entry["Primary"] = i == 0
        entry["PrivateDnsName"] = _dns(ip)
        entry["PrivateIpAddress"] = ip
        addresses.append(entry)
    out["PrivateIpAddresses"] = addresses
    if eni.role != "instance":
        out["RequesterId"] = _REQUESTER[eni.role]
    out["RequesterManaged"] = eni.role != "instance"
    out["SourceDestCheck"] = eni.role != "nat"
    out["Status"] = "in-use"
    out["SubnetId"] = subnet.id
    out["TagSet"] = _tags(eni.name)
    out["VpcId"] = network.vpc(subnet.vpc).id
    return out


def _peer_entries(network: Network, rule: RuleDef) -> tuple[str, Json]:
    """The IpPermission list a rule's peer goes into, and its entry there."""
    described: Json = {"Description": rule.description} if rule.description else {}
    if rule.peer_kind == "cidr4":
        return "IpRanges", {**described, "CidrIp": rule.peer}
    if rule.peer_kind == "cidr6":
        return "Ipv6Ranges", {**described, "CidrIpv6": rule.peer}
    if rule.peer_kind == "prefix_list":
        return "PrefixListIds", {**described, "PrefixListId": rule.peer}
    return "UserIdGroupPairs", {
        **described,
        "UserId": ACCOUNT_ID,
        "GroupId": network.group(rule.peer).id,
    }


def _permissions(network: Network, rules: list[RuleDef]) -> list[Json]:
    """DescribeSecurityGroups merges rules with one protocol and port range into one permission."""
    merged: dict[tuple[str, int, int], dict[str, list[Json]]] = {}
    for rule in rules:
        key = (rule.protocol, rule.from_port, rule.to_port)
        lists = merged.setdefault(
            key, {"UserIdGroupPairs": [], "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": []}
        )
        member, entry = _peer_entries(network, rule)
        lists[member].append(entry)
    out: list[Json] = []
    for (proto, lo, hi), lists in merged.items():
        perm: Json = {"IpProtocol": proto}
        if proto != "-1":
            perm["FromPort"] = lo
            perm["ToPort"] = hi
        perm.update(lists)
        out.append(perm)
    return out


def _group(network: Network, group: GroupDef) -> Json:
    vpc = network.vpc(group.vpc)
    return {
        "GroupId": group.id,
        "IpPermissionsEgress": _permissions(
            network, [r for r in group.rules if r.direction == "egress"]
        ),
        "Tags": _tags(group.key),
        "VpcId": vpc.id,
        "SecurityGroupArn": f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group/{group.id}",
        "OwnerId": ACCOUNT_ID,
        "GroupName": group.name,
        "Description": group.description,
        "IpPermissions": _permissions(
            network, [r for r in group.rules if r.direction == "ingress"]
        ),
    }


def _rule(network: Network, group: GroupDef, index: int, rule: RuleDef) -> Json:
    rule_id = group.rule_id(index)
    out: Json = {
        "SecurityGroupRuleId": rule_id,
        "GroupId": group.id,
        "GroupOwnerId": ACCOUNT_ID,
        "IsEgress": rule.direction == "egress",
        "IpProtocol": rule.protocol,
        "FromPort": rule.from_port,
        "ToPort": rule.to_port,
    }
    if rule.peer_kind == "cidr4":
        out["CidrIpv4"] = rule.peer
    elif rule.peer_kind == "cidr6":
        out["CidrIpv6"] = rule.peer
    elif rule.peer_kind == "prefix_list":
        out["PrefixListId"] = rule.peer
    else:
        out["ReferencedGroupInfo"] = {"GroupId": network.group(rule.peer).id, "UserId": ACCOUNT_ID}
    if rule.description:
        out["Description"] = rule.description
    out["Tags"] = []
    out["SecurityGroupRuleArn"] = f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:security-group-rule/{rule_id}"
    return out


def _prefix_list() -> Json:
    # AWS-managed lists have no MaxEntries; their size is what counts against SG quotas.
    return {
        "PrefixListId": S3_PREFIX_LIST_ID,
        "AddressFamily": "IPv4",
        "State": "create-complete",
        "PrefixListArn": f"arn:aws:ec2:{REGION}:aws:prefix-list/{S3_PREFIX_LIST_ID}",
        "PrefixListName": S3_PREFIX_LIST_NAME,
        "Tags": [],
        "OwnerId": "AWS",
    }


def _vpc(vpc: VpcDef) -> Json:
    out: Json = {"OwnerId": ACCOUNT_ID, "InstanceTenancy": "default"}
    if vpc.ipv6_cidr:
        out["Ipv6CidrBlockAssociationSet"] = [
            {
                "AssociationId": aws_id("vpc-cidr-assoc", f"{vpc.key}/v6"),
                "Ipv6CidrBlock": vpc.ipv6_cidr,
                "Ipv6CidrBlockState": {"State": "associated"},
                "NetworkBorderGroup": REGION,
                "Ipv6Pool": "Amazon",
            }
        ]
    out["CidrBlockAssociationSet"] = [
        {
            "AssociationId": aws_id("vpc-cidr-assoc", vpc.key),
            "CidrBlock": vpc.cidr,
            "CidrBlockState": {"State": "associated"},
        }
    ]
    out.update(
        {
            "IsDefault": False,
            "Tags": _tags(vpc.key),
            "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
            "VpcId": vpc.id,
            "State": "available",
            "CidrBlock": vpc.cidr,
            "DhcpOptionsId": aws_id("dopt", "default"),
        }
    )
    return out


def _subnet(network: Network, subnet: SubnetDef) -> Json:
    size = ipaddress.ip_network(subnet.cidr).num_addresses
    used = len({ip for e in network.enis if e.subnet == subnet.key for ip in e.private_ips})
    v6 = (
        [
            {
                "AssociationId": aws_id("subnet-cidr-assoc", subnet.key),
                "Ipv6CidrBlock": subnet.ipv6_cidr,
                "Ipv6CidrBlockState": {"State": "associated"},
                "Ipv6AddressAttribute": "public",
                "IpSource": "amazon",
            }
        ]
        if subnet.ipv6_cidr
        else []
    )
    return {
        "AvailabilityZoneId": subnet.az_id,
        "MapCustomerOwnedIpOnLaunch": False,
        "OwnerId": ACCOUNT_ID,
        "AssignIpv6AddressOnCreation": False,
        "Ipv6CidrBlockAssociationSet": v6,
        "Tags": _tags(subnet.key),
        "SubnetArn": f"arn:aws:ec2:{REGION}:{ACCOUNT_ID}:subnet/{subnet.id}",
        "EnableDns64": False,
        "Ipv6Native": False,
        "PrivateDnsNameOptionsOnLaunch": {
            "HostnameType": "ip-name",
            "EnableResourceNameDnsARecord": False,
            "EnableResourceNameDnsAAAARecord": False,
        },
        "BlockPublicAccessStates": {"InternetGatewayBlockMode": "off"},
        "SubnetId": subnet.id,
        "State": "available",
        "VpcId": network.vpc(subnet.vpc).id,
        "CidrBlock": subnet.cidr,
        # AWS reserves five addresses in every subnet.
        "AvailableIpAddressCount": size - 5 - used,
        "AvailabilityZone": subnet.az,
        "DefaultForAz": False,
        "MapPublicIpOnLaunch": subnet.public,
    }


def _vpc_info(vpc: VpcDef) -> Json:
    out: Json = {"CidrBlock": vpc.cidr}
    if vpc.ipv6_cidr:
        out["Ipv6CidrBlockSet"] = [{"Ipv6CidrBlock": vpc.ipv6_cidr}]
    out.update(
        {
            "CidrBlockSet": [{"CidrBlock": vpc.cidr}],
            "OwnerId": ACCOUNT_ID,
            "PeeringOptions": {
                "AllowDnsResolutionFromRemoteVpc": False,
                "AllowEgressFromLocalClassicLinkToRemoteVpc": False,
                "AllowEgressFromLocalVpcToRemoteClassicLink": False,
            },
            "VpcId": vpc.id,
            "Region": REGION,
        }
    )
    return out


def peering_id() -> str:
    return aws_id("pcx", "prod<->shared-services")


def _peering(network: Network) -> Json:
    return {
        "AccepterVpcInfo": _vpc_info(network.vpc("shared-services")),
        "RequesterVpcInfo": _vpc_info(network.vpc("prod")),
        "Status": {"Code": "active", "Message": "Active"},
        "Tags": _tags("prod-to-shared-services"),
        "VpcPeeringConnectionId": peering_id(),
    }


def _flow_log(network: Network, fmt: Format) -> Json:
    """A flow log on the logged VPC that captures ALL traffic and delivers ``fmt`` to S3."""
    (vpc,) = [v for v in network.vpcs if v.logged]
    log_id = flow_log_id(fmt)
    parquet = fmt == "parquet"
    return {
        # AWS answers with milliseconds; the CLI prints them as microseconds.
        "CreationTime": FLOW_LOG_CREATED[log_id].isoformat(),
        "DeliverLogsStatus": "SUCCESS",
        "FlowLogId": log_id,
        "FlowLogStatus": "ACTIVE",
        "ResourceId": vpc.id,
        "TrafficType": "ALL",
        "LogDestinationType": "s3",
        "LogDestination": f"arn:aws:s3:::{FLOW_LOG_BUCKET}",
        "LogFormat": log_format(fmt),
        "Tags": _tags(f"{vpc.key}-all-{'parquet' if parquet else 'text'}"),
        # The sample's records are one-minute aggregates.
        "MaxAggregationInterval": 60,
        "DestinationOptions": {
            "FileFormat": "parquet" if parquet else "plain-text",
            "HiveCompatiblePartitions": parquet,
            "PerHourPartition": parquet,
        },
    }
