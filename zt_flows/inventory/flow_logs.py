"""Parsing the flow-log configuration: one DescribeFlowLogs entry → :class:`FlowLogConfig` (pure).

What a flow log is attached to is read from its resource id: DescribeFlowLogs names the
resource (``ResourceId``) but not its type.
AWS: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_FlowLog.html
"""

from __future__ import annotations

from datetime import datetime
from typing import cast, get_args

from zt_flows.inventory._doc import Node
from zt_flows.inventory.model import FlowLogConfig, FlowLogResourceType, TrafficType

# Longest prefix first: "tgw-attach-" before "tgw-".
_RESOURCE_PREFIXES: tuple[tuple[str, FlowLogResourceType], ...] = (
    ("vpc-", "vpc"),
    ("subnet-", "subnet"),
    ("eni-", "eni"),
    ("tgw-attach-", "tgw-attach"),
    ("tgw-", "tgw"),
)
_TRAFFIC_TYPES: frozenset[str] = frozenset(get_args(TrafficType))


def resource_type_of(resource_id: str) -> FlowLogResourceType:
    """``vpc`` for ``vpc-0abc…``; ``unknown`` for ids of other resources (``nat-…``, …)."""
    for prefix, kind in _RESOURCE_PREFIXES:
        if resource_id.startswith(prefix):
            return kind
    return "unknown"


def _traffic_type(node: Node) -> TrafficType | None:
    found = node.get("TrafficType")
    if found is None:
        return None
    text = found.string()
    if text not in _TRAFFIC_TYPES:
        raise found.error("ACCEPT, REJECT or ALL")
    return cast(TrafficType, text)


def _created_at(node: Node) -> datetime:
    expected = "an ISO-8601 time such as 2026-11-17T12:00:00+00:00"
    found = node.child("CreationTime", expected)
    if not isinstance(found.value, str):
        raise found.error(expected)
    return found.time()


def parse_flow_log(node: Node) -> FlowLogConfig:
    """One entry of ``describe-flow-logs.json``'s ``FlowLogs``."""
    resource_id = node.req_str("ResourceId")
    return FlowLogConfig(
        id=node.req_str("FlowLogId"),
        resource_id=resource_id,
        resource_type=resource_type_of(resource_id),
        traffic_type=_traffic_type(node),
        created_at=_created_at(node),
        log_format=node.opt_str("LogFormat"),
        destination_type=node.opt_str("LogDestinationType"),
        # CloudWatch Logs flow logs created before LogDestination existed name only the group.
        destination=node.opt_str("LogDestination") or node.opt_str("LogGroupName"),
        status=node.opt_str("FlowLogStatus"),
        deliver_status=node.opt_str("DeliverLogsStatus"),
        max_aggregation_interval=node.opt_int("MaxAggregationInterval"),
        tags=node.tags("Tags"),
    )
