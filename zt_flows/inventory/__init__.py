"""The inventory stage: ENIs, security groups, rules, prefix lists, the VPC layout and
the flow-log configuration.

Collect a snapshot from EC2 (``collect_inventory``), load one or several from disk
(``load_inventory``), resolve flow-log addresses to endpoints at a moment in time
(``build_resolver``), and tell which interfaces a flow log captured completely over a
window (``interface_coverage``). AWS's CamelCase JSON stays inside this package;
everything it returns is the snake_case model of ``inventory.model``.
"""

from zt_flows.inventory.collect import collect_inventory
from zt_flows.inventory.coverage import (
    CoverageGap,
    InterfaceCoverage,
    has_flow_log_configuration,
    interface_coverage,
)
from zt_flows.inventory.load import load_inventory, load_snapshot
from zt_flows.inventory.model import (
    Endpoint,
    EndpointKind,
    FlowLogConfig,
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
    "CoverageGap",
    "Endpoint",
    "EndpointKind",
    "FlowLogConfig",
    "InterfaceCoverage",
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
    "has_flow_log_configuration",
    "interface_coverage",
    "load_inventory",
    "load_snapshot",
    "parse_snapshot",
]
