"""The on-disk shape of an inventory snapshot, shared by the collector and the loader.

A snapshot is a folder named after the time it was taken (``2026-11-16T00-00-00Z``) holding
``manifest.json`` and one ``describe-*.json`` file per EC2 command, each exactly as
``aws ec2 <command> --output json`` prints it. Managed prefix list entries are one file
per list: ``get-managed-prefix-list-entries.<pl-id>.json``.

One account and one region: the files sit in the snapshot folder itself (flat), so a
user can hand-make a snapshot with the AWS CLI. Several accounts or regions: one
sub-folder per pair, ``<account>/<region>/describe-*.json``, and the manifest at the top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

MANIFEST = "manifest.json"
SCHEMA_VERSION = 1
ENTRIES_PREFIX = "get-managed-prefix-list-entries."


@dataclass(frozen=True)
class Command:
    """One EC2 call: the file it is written to, the key holding its items, its IAM action."""

    file: str
    operation: str  # boto3 paginator name
    result_key: str
    action: str
    page_size: int  # MaxResults: AWS's maximum for the call


NETWORK_INTERFACES = Command(
    "describe-network-interfaces.json",
    "describe_network_interfaces",
    "NetworkInterfaces",
    "ec2:DescribeNetworkInterfaces",
    1000,
)
SECURITY_GROUPS = Command(
    "describe-security-groups.json",
    "describe_security_groups",
    "SecurityGroups",
    "ec2:DescribeSecurityGroups",
    1000,
)
SECURITY_GROUP_RULES = Command(
    "describe-security-group-rules.json",
    "describe_security_group_rules",
    "SecurityGroupRules",
    "ec2:DescribeSecurityGroupRules",
    1000,
)
PREFIX_LISTS = Command(
    "describe-managed-prefix-lists.json",
    "describe_managed_prefix_lists",
    "PrefixLists",
    "ec2:DescribeManagedPrefixLists",
    100,
)
PREFIX_LIST_ENTRIES = Command(
    ENTRIES_PREFIX + "{}.json",
    "get_managed_prefix_list_entries",
    "Entries",
    "ec2:GetManagedPrefixListEntries",
    100,
)
VPCS = Command("describe-vpcs.json", "describe_vpcs", "Vpcs", "ec2:DescribeVpcs", 1000)
SUBNETS = Command(
    "describe-subnets.json", "describe_subnets", "Subnets", "ec2:DescribeSubnets", 1000
)
PEERINGS = Command(
    "describe-vpc-peering-connections.json",
    "describe_vpc_peering_connections",
    "VpcPeeringConnections",
    "ec2:DescribeVpcPeeringConnections",
    1000,
)
# MaxResults: 5 to 1000 (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeFlowLogs.html).
FLOW_LOGS = Command(
    "describe-flow-logs.json",
    "describe_flow_logs",
    "FlowLogs",
    "ec2:DescribeFlowLogs",
    1000,
)

# Every per-region document, in the order they are collected (prefix lists before
# their entries). The entries files are per list and not in this tuple.
COMMANDS: tuple[Command, ...] = (
    NETWORK_INTERFACES,
    SECURITY_GROUPS,
    SECURITY_GROUP_RULES,
    PREFIX_LISTS,
    VPCS,
    SUBNETS,
    PEERINGS,
    FLOW_LOGS,
)
DOCUMENT_FILES = frozenset(command.file for command in COMMANDS)

ACCOUNT_DIR = re.compile(r"^\d{12}$")
REGION_DIR = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ENTRIES_FILE = re.compile(r"^get-managed-prefix-list-entries\.(pl-[0-9A-Za-z]+)\.json$")


def entries_file(prefix_list_id: str) -> str:
    return PREFIX_LIST_ENTRIES.file.format(prefix_list_id)


def entries_list_id(file_name: str) -> str | None:
    """The prefix list id of a ``get-managed-prefix-list-entries.<pl-id>.json`` name."""
    match = _ENTRIES_FILE.match(file_name)
    return match.group(1) if match else None


def is_document(file_name: str) -> bool:
    """Whether ``file_name`` is one of the snapshot's EC2 documents."""
    return file_name in DOCUMENT_FILES or entries_list_id(file_name) is not None


def folder_name(taken_at: datetime) -> str:
    """``2026-11-16T00-00-00Z``: sortable, and without the colons Windows refuses."""
    return taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")


def format_time(taken_at: datetime) -> str:
    """The manifest's ``taken_at``: ``2026-11-16T00:00:00Z``."""
    return taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_FOLDER_TIMES = ("%Y-%m-%dT%H-%M-%SZ", "%Y%m%dT%H%M%SZ", "%Y%m%dT%H%MZ", "%Y-%m-%dT%H%M%SZ")


def parse_folder_time(name: str) -> datetime | None:
    """The time a snapshot folder's name states, if it states one."""
    for pattern in _FOLDER_TIMES:
        try:
            return datetime.strptime(name, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    try:
        value = datetime.fromisoformat(name)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
