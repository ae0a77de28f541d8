"""Parsing the network layout: VPCs, subnets and peering connections (pure)."""

from __future__ import annotations

from collections.abc import Iterator

from zt_flows.inventory._doc import Node
from zt_flows.inventory.model import Subnet, Vpc, VpcPeering

# A CIDR association in another state (associating, disassociated, failed) does not
# route: only "associated" blocks belong to a VPC or subnet.
# AWS: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_VpcCidrBlockState.html
_ASSOCIATED = "associated"


def _associated(node: Node, set_key: str, cidr_key: str, state_key: str) -> Iterator[str]:
    for item in node.opt_list(set_key):
        state = item.get(state_key)
        if state is not None and (state.opt_str("State") or _ASSOCIATED) != _ASSOCIATED:
            continue
        yield item.child(cidr_key, "a CIDR block").network()


def parse_vpc(node: Node, region: str | None) -> Vpc:
    if node.get("CidrBlockAssociationSet") is not None:
        v4 = list(_associated(node, "CidrBlockAssociationSet", "CidrBlock", "CidrBlockState"))
    else:
        primary = node.opt_network("CidrBlock")
        v4 = [primary] if primary is not None else []
    v6 = _associated(node, "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock", "Ipv6CidrBlockState")
    return Vpc(
        id=node.req_str("VpcId"),
        owner_id=node.req_str("OwnerId"),
        cidrs_ipv4=tuple(dict.fromkeys(v4)),
        cidrs_ipv6=tuple(dict.fromkeys(v6)),
        is_default=node.opt_bool("IsDefault"),
        region=region,
        tags=node.tags("Tags"),
    )


def parse_subnet(node: Node) -> Subnet:
    v6 = _associated(node, "Ipv6CidrBlockAssociationSet", "Ipv6CidrBlock", "Ipv6CidrBlockState")
    return Subnet(
        id=node.req_str("SubnetId"),
        vpc_id=node.req_str("VpcId"),
        cidr_ipv4=node.opt_network("CidrBlock"),
        cidrs_ipv6=tuple(dict.fromkeys(v6)),
        availability_zone=node.opt_str("AvailabilityZone"),
        az_id=node.opt_str("AvailabilityZoneId"),
        tags=node.tags("Tags"),
    )


def _side_cidrs(side: Node) -> tuple[str, ...]:
    """Every CIDR one side of a peering offers (the primary block may be repeated in the set)."""
    cidrs = [side.opt_network("CidrBlock")]
    cidrs += [
        item.child("CidrBlock", "a CIDR block").network() for item in side.opt_list("CidrBlockSet")
    ]
    cidrs += [
        item.child("Ipv6CidrBlock", "a CIDR block").network()
        for item in side.opt_list("Ipv6CidrBlockSet")
    ]
    return tuple(dict.fromkeys(c for c in cidrs if c is not None))


def parse_peering(node: Node) -> VpcPeering:
    requester = node.child("RequesterVpcInfo", "an object")
    accepter = node.child("AccepterVpcInfo", "an object")
    return VpcPeering(
        id=node.req_str("VpcPeeringConnectionId"),
        status=node.child("Status", "an object").req_str("Code"),
        requester_vpc_id=requester.req_str("VpcId"),
        requester_owner_id=requester.opt_str("OwnerId"),
        requester_region=requester.opt_str("Region"),
        requester_cidrs=_side_cidrs(requester),
        accepter_vpc_id=accepter.req_str("VpcId"),
        accepter_owner_id=accepter.opt_str("OwnerId"),
        accepter_region=accepter.opt_str("Region"),
        accepter_cidrs=_side_cidrs(accepter),
    )
