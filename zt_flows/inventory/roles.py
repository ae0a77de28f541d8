"""What an ENI is, from InterfaceType, RequesterManaged, RequesterId and Description.

AWS services create requester-managed interfaces in a VPC on a customer's behalf; the
fields that tell them apart are ``InterfaceType``, ``RequesterManaged``,
``RequesterId`` (an alias such as ``amazon-elb`` or ``amazon-rds``, or an account id)
and the ``Description`` the service writes. AWS:
https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html
(and the InterfaceType values in
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_NetworkInterface.html).
"""

from __future__ import annotations

import re

from zt_flows.inventory.model import InterfaceRole

# InterfaceType values that settle the question on their own. NAT gateways report
# ``nat_gateway`` in DescribeNetworkInterfaces although the API enum spells it
# ``natGateway``; both are accepted.
_BY_TYPE: dict[str, InterfaceRole] = {
    "nat_gateway": InterfaceRole.NAT_GATEWAY,
    "natgateway": InterfaceRole.NAT_GATEWAY,
    "transit_gateway": InterfaceRole.TRANSIT_GATEWAY,
    "network_load_balancer": InterfaceRole.NETWORK_LOAD_BALANCER,
    "gateway_load_balancer": InterfaceRole.GATEWAY_LOAD_BALANCER,
    "gateway_load_balancer_endpoint": InterfaceRole.VPC_ENDPOINT,
    "vpc_endpoint": InterfaceRole.VPC_ENDPOINT,
    "lambda": InterfaceRole.LAMBDA,
    "load_balancer": InterfaceRole.LOAD_BALANCER,
}

# Descriptions AWS services write on the interfaces they create, checked in order.
# ALB nodes are "ELB app/<name>/<id>", NLB "ELB net/…", GWLB "ELB gwy/…", and a
# Classic Load Balancer "ELB <name>".
_BY_DESCRIPTION: tuple[tuple[re.Pattern[str], InterfaceRole], ...] = (
    (re.compile(r"^Interface for NAT Gateway\b", re.I), InterfaceRole.NAT_GATEWAY),
    (re.compile(r"^Network Interface for Transit Gateway\b", re.I), InterfaceRole.TRANSIT_GATEWAY),
    (re.compile(r"^ELB net/", re.I), InterfaceRole.NETWORK_LOAD_BALANCER),
    (re.compile(r"^ELB gwy/", re.I), InterfaceRole.GATEWAY_LOAD_BALANCER),
    (re.compile(r"^ELB (app/)?\S", re.I), InterfaceRole.LOAD_BALANCER),
    (re.compile(r"^VPC Endpoint Interface\b", re.I), InterfaceRole.VPC_ENDPOINT),
    (re.compile(r"^AWS Lambda VPC ENI", re.I), InterfaceRole.LAMBDA),
    (re.compile(r"^(RDS|Redshift|DocDB|Neptune)NetworkInterface\b", re.I), InterfaceRole.DATABASE),
    (re.compile(r"^(ElastiCache|MemoryDB)\b", re.I), InterfaceRole.CACHE),
)

_BY_REQUESTER: dict[str, InterfaceRole] = {
    "amazon-elb": InterfaceRole.LOAD_BALANCER,
    "amazon-rds": InterfaceRole.DATABASE,
    "amazon-redshift": InterfaceRole.DATABASE,
    "amazon-elasticache": InterfaceRole.CACHE,
    "amazon-memorydb": InterfaceRole.CACHE,
}


def classify_interface(
    *,
    interface_type: str,
    requester_managed: bool,
    requester_id: str | None,
    description: str,
    instance_id: str | None,
) -> InterfaceRole:
    """The role of one ENI; an attached, customer-managed interface is an instance."""
    by_type = _BY_TYPE.get(interface_type.lower())
    if by_type is not None:
        return by_type
    for pattern, role in _BY_DESCRIPTION:
        if pattern.search(description):
            return role
    if requester_id is not None and requester_id.lower() in _BY_REQUESTER:
        return _BY_REQUESTER[requester_id.lower()]
    if requester_managed:
        return InterfaceRole.OTHER_MANAGED
    if instance_id is not None:
        return InterfaceRole.INSTANCE
    return InterfaceRole.UNATTACHED
