"""AWS-service traffic through a NAT gateway: measured on the records, a finding per VPC.

A NAT gateway's interface logs every connection twice: the leg inside the VPC (the
client's address on one side, ``pkt-*addr`` naming the far end) and the translated leg
outside (the gateway's own address on one side)
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat).
Counting the inside legs only counts each byte the gateway processed once, in each
direction; the gateway charges for both directions. ``pkt-dst-aws-service`` names the
service of a request's destination, ``pkt-src-aws-service`` that of a response's source.

S3 and DynamoDB have gateway endpoints, which cost nothing
(https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html); the other
services flow logs name have interface endpoints, which have their own hourly and per-GB
charges. ``AMAZON`` is every other AWS range: flow logs do not say which service, so no
endpoint can be named for it, and it is not reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from zt_flows.findings import Finding, make_finding
from zt_flows.inventory.model import InterfaceRole, Inventory
from zt_flows.rules.describe import endpoint_label
from zt_flows.settings import RecommendSettings
from zt_flows.sources.sql import identifier

# pkt-*-aws-service value -> (endpoint type, endpoint service name after com.amazonaws.<region>.)
ENDPOINTS: dict[str, tuple[str, str]] = {
    "S3": ("gateway", "s3"),
    "DYNAMODB": ("gateway", "dynamodb"),
    "EC2": ("interface", "ec2"),
    "EBS": ("interface", "ebs"),
    "CODEBUILD": ("interface", "codebuild"),
    "KINESIS_VIDEO_STREAMS": ("interface", "kinesisvideo"),
    "AMAZON_APPFLOW": ("interface", "appflow"),
}
# AWS prices data per GB of 2**30 bytes; the smaller count keeps the saving conservative.
GB = 2**30
# Monthly figures: AWS's pricing examples count 730 hours a month.
HOURS_PER_MONTH = 730

# The inside legs at NAT gateway interfaces, to or from a named AWS service, per VPC,
# interface and service, from the rows of the one scan over the records (the reduce,
# reduce/sql/partial.sql: its nat_service is the service of an accepted record whose packet
# addresses differ from the logged ones, NULL otherwise). $1: the NAT gateway interfaces of
# the inventory.
NAT_SERVICE_TRAFFIC = """
SELECT interface_id,
       nat_service AS service,
       sum(bytes) AS bytes,
       sum(records) AS flows,
       min(first_start) AS first_start,
       max(last_end) AS last_end
FROM {reduced}
WHERE interface_id IN (SELECT unnest($1::VARCHAR[]))
  AND nat_service IS NOT NULL
GROUP BY ALL
ORDER BY interface_id, service
"""


@dataclass(frozen=True)
class NatServiceTraffic:
    """Bytes one NAT gateway processed for one AWS service in the window."""

    vpc_id: str
    nat_interface_id: str
    service: str  # the flow log's name: S3, DYNAMODB, EC2, AMAZON, ...
    bytes: int
    flows: int
    first_seen: datetime
    last_seen: datetime


def measure_nat_service_traffic(
    reduced: str, inventory: Inventory, con: duckdb.DuckDBPyConnection
) -> tuple[NatServiceTraffic, ...]:
    """What the NAT gateway interfaces the inventory knows carried to AWS services, from
    ``reduced``: the table of the reduce's rows (``conversations.REDUCED_TABLE`` once the
    conversations are built); no scan of the records of its own."""
    nat = {
        eni.id: eni.vpc_id
        for eni in inventory.interfaces.values()
        if eni.role is InterfaceRole.NAT_GATEWAY and eni.vpc_id
    }
    if not nat:
        return ()
    query = NAT_SERVICE_TRAFFIC.format(reduced=identifier(reduced))
    rows = con.execute(query, [sorted(nat)]).fetchall()
    return tuple(
        NatServiceTraffic(
            vpc_id=str(nat[str(interface)]),
            nat_interface_id=str(interface),
            service=str(service),
            bytes=int(total),
            flows=int(count),
            first_seen=datetime.fromtimestamp(int(first), UTC),
            last_seen=datetime.fromtimestamp(int(last), UTC),
        )
        for interface, service, total, count, first, last in rows
    )


def nat_service_findings(
    traffic: tuple[NatServiceTraffic, ...],
    days: int,
    settings: RecommendSettings,
    inventory: Inventory,
) -> list[Finding]:
    """A finding per VPC whose NAT gateways carried traffic an endpoint could carry instead.

    ``days`` is the length of the window the records cover; monthly figures scale to it.
    """
    if days <= 0:
        return []
    per_vpc: dict[str, dict[str, list[NatServiceTraffic]]] = defaultdict(lambda: defaultdict(list))
    for item in traffic:
        if item.service in ENDPOINTS:
            per_vpc[item.vpc_id][item.service].append(item)
    scale = HOURS_PER_MONTH / (days * 24)
    out = []
    for vpc_id in sorted(per_vpc):
        services = per_vpc[vpc_id]
        parts, details = [], []
        total_month = 0.0
        for service in sorted(services, key=lambda s: (-sum(i.bytes for i in services[s]), s)):
            items = services[service]
            month = sum(i.bytes for i in items) * scale / GB
            total_month += month
            kind, name = ENDPOINTS[service]
            cost = month * settings.nat_price_per_gb
            parts.append(f"{service} {month:,.2f} GB (${cost:,.2f}, {kind} endpoint {name})")
            details += [
                (f"{service.lower()}_gb_per_month", f"{month:.3f}"),
                (f"{service.lower()}_nat_cost_per_month", f"{cost:.2f}"),
                (f"{service.lower()}_endpoint", f"{kind} com.amazonaws.<region>.{name}"),
            ]
        gateways = sorted({i.nat_interface_id for items in services.values() for i in items})
        gateway_only = all(ENDPOINTS[s][0] == "gateway" for s in services)
        saving = total_month * settings.nat_price_per_gb
        remedy = (
            "gateway endpoints cost nothing"
            if gateway_only
            else "gateway endpoints (S3, DynamoDB) cost nothing; an interface endpoint has its"
            " own hourly and per-GB charges"
        )
        vpc = inventory.vpcs.get(vpc_id)
        vpc_name = dict(vpc.tags).get("Name") if vpc is not None else None
        label = f"{vpc_name} ({vpc_id})" if vpc_name else vpc_id
        out.append(
            make_finding(
                "aws-service-via-nat",
                vpc_id,
                f"{label}: {total_month:,.2f} GB a month to AWS services through NAT gateway"
                f" {', '.join(endpoint_label(inventory, g) for g in gateways)}:"
                f" {'; '.join(parts)}; ${saving:,.2f} a month of NAT"
                f" data processing at ${settings.nat_price_per_gb}/GB; {remedy}",
                details=(
                    ("nat_interfaces", ", ".join(gateways)),
                    ("gb_per_month", f"{total_month:.3f}"),
                    ("nat_cost_per_month", f"{saving:.2f}"),
                    ("nat_price_per_gb", settings.nat_price_per_gb),
                    ("window_days", days),
                    *details,
                ),
            )
        )
    return out


__all__ = [
    "ENDPOINTS",
    "NatServiceTraffic",
    "measure_nat_service_traffic",
    "nat_service_findings",
]
