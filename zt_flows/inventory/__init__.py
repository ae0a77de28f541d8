"""The inventory stage: ENIs, security groups, rules, prefix lists and the VPC layout.

Collect a snapshot from EC2 (``collect_inventory``), load one or several from disk
(``load_inventory``), and resolve flow-log addresses to endpoints at a moment in time
(``build_resolver``). AWS's CamelCase JSON stays inside this package; everything it
returns is the snake_case model of ``inventory.model``.
"""

from zt_flows.inventory.collect import collect_inventory
from zt_flows.inventory.load import load_inventory, load_snapshot
from zt_flows.inventory.model import (
    Endpoint,
    EndpointKind,
    InterfaceRole,
    Inventory,
    NetworkInterface,
    PrefixList,
    SecurityGroup,
    SecurityGroupRule,
    Snapshot,
    Subnet,
    Vpc,
    VpcPeering,
)
from zt_flows.inventory.parse import parse_snapshot
from zt_flows.inventory.resolve import IpResolver, build_resolver

__all__ = [
    "Endpoint",
    "EndpointKind",
    "InterfaceRole",
    "Inventory",
    "IpResolver",
    "NetworkInterface",
    "PrefixList",
    "SecurityGroup",
    "SecurityGroupRule",
    "Snapshot",
    "Subnet",
    "Vpc",
    "VpcPeering",
    "build_resolver",
    "collect_inventory",
    "load_inventory",
    "load_snapshot",
    "parse_snapshot",
]
