"""Address classes: what an address no ENI holds is, by longest-prefix match.

The ranges, most specific first on ties: an AWS service (an AWS-managed prefix list),
the CIDR of a peered VPC the inventory does not describe (the other side of an active
peering), a configured on-premises or partner range (its label: the range), a known
subnet or VPC (``vpc_unknown``), other private space (RFC 1918, RFC 6598 shared space,
IPv6 ULA); otherwise the internet.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from zt_flows.errors import UsageError, excerpt
from zt_flows.inventory.model import Endpoint, EndpointKind, Inventory
from zt_flows.inventory.ranges import RangeTable, cidr_bounds

# Private space that is not the internet even when no known range covers it.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")


@dataclass(frozen=True)
class AddressClass:
    """The endpoint an unheld address in some range resolves to (its id: the address)."""

    kind: EndpointKind
    vpc_id: str | None = None
    label: str | None = None
    fixed_id: str | None = None  # AWS services are named by the service, not the address

    def endpoint(self, address: str) -> Endpoint:
        return Endpoint(self.kind, self.fixed_id or address, vpc_id=self.vpc_id, label=self.label)


INTERNET = AddressClass(EndpointKind.INTERNET)


def class_tables(
    inventory: Inventory, onprem_cidrs: Sequence[str], partner_cidrs: Sequence[str] = ()
) -> dict[int, RangeTable[AddressClass]]:
    blocks: dict[int, list[tuple[int, int, int, AddressClass]]] = {4: [], 6: []}

    def add(cidr: str, rank: int, found: AddressClass) -> None:
        version, first, last = cidr_bounds(cidr)
        blocks[version].append((first, last, rank, found))

    for pl in inventory.prefix_lists.values():
        if pl.aws_managed and pl.aws_service is not None:
            for cidr in pl.cidrs:
                add(
                    cidr,
                    0,
                    AddressClass(EndpointKind.AWS_SERVICE, label=pl.id, fixed_id=pl.aws_service),
                )
    # Only a side whose VPC the inventory does not describe is "the other side": a VPC
    # in describe-vpcs.json is classed as a known VPC, whichever side of a peering it is on.
    known_vpcs = set(inventory.vpcs)
    for pcx in inventory.peerings:
        if not pcx.active:
            continue
        for vpc_id, cidrs in (
            (pcx.requester_vpc_id, pcx.requester_cidrs),
            (pcx.accepter_vpc_id, pcx.accepter_cidrs),
        ):
            if vpc_id not in known_vpcs:
                for cidr in cidrs:
                    add(cidr, 1, AddressClass(EndpointKind.PEERED_VPC, vpc_id=vpc_id, label=pcx.id))
    named: tuple[tuple[EndpointKind, Sequence[str], str], ...] = (
        (EndpointKind.ONPREM, onprem_cidrs, "on-premises"),
        (EndpointKind.PARTNER, partner_cidrs, "partner"),
    )
    for kind, ranges, what in named:
        for cidr in ranges:
            try:
                normal = str(ipaddress.ip_network(cidr.strip(), strict=False))
            except ValueError:
                raise UsageError(
                    f"{what} range: expected a CIDR block, found {excerpt(cidr)}"
                ) from None
            add(normal, 2, AddressClass(kind, label=normal))
    for subnet in inventory.subnets.values():
        subnet_cidrs = [c for c in (subnet.cidr_ipv4, *subnet.cidrs_ipv6) if c is not None]
        for cidr in subnet_cidrs:
            add(
                cidr,
                3,
                AddressClass(EndpointKind.VPC_UNKNOWN, vpc_id=subnet.vpc_id, label=subnet.id),
            )
    for vpc in inventory.vpcs.values():
        for cidr in vpc.cidrs_ipv4 + vpc.cidrs_ipv6:
            add(cidr, 4, AddressClass(EndpointKind.VPC_UNKNOWN, vpc_id=vpc.id))
    for cidr in PRIVATE_RANGES:
        add(cidr, 5, AddressClass(EndpointKind.PRIVATE_OTHER, label=cidr))
    return {version: RangeTable(found) for version, found in blocks.items()}
