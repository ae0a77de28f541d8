"""Time-aware IP → endpoint resolution, address classes, and the bulk Arrow path."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.inventory import eni

from zt_flows.errors import UsageError
from zt_flows.inventory import (
    EndpointKind,
    InterfaceRole,
    Inventory,
    NetworkInterface,
    PrefixList,
    Snapshot,
    Subnet,
    Vpc,
    VpcPeering,
    build_resolver,
)
from zt_flows.inventory.ranges import RangeTable, cidr_bounds

DAY1 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
DAY3 = datetime(2026, 11, 18, 23, 30, tzinfo=UTC)
SWITCH = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
PROD, SHARED, REMOTE = "vpc-0prod", "vpc-0shared", "vpc-0remote"
# ENIs as the collector would see them here: in the jobs subnet of the production VPC,
# without a Name tag.
AS_COLLECTED: dict[str, Any] = {
    "vpc": PROD,
    "subnet": "subnet-0jobs",
    "account": "012345678901",
    "tagged": False,
}


def snapshot(taken_at: datetime, *interfaces: NetworkInterface, **more: object) -> Snapshot:
    fields: dict[str, object] = {
        "security_groups": (),
        "rules": (),
        "prefix_lists": (),
        "vpcs": (),
        "subnets": (),
        "peerings": (),
    }
    fields.update(more)
    return Snapshot(
        taken_at=taken_at,
        source=f"snap-{taken_at:%d}",
        account_ids=("012345678901",),
        regions=("us-east-1",),
        interfaces=interfaces,
        **fields,  # type: ignore[arg-type]
    )


NETWORK: dict[str, object] = {
    "vpcs": (
        Vpc(PROD, "012345678901", ("10.0.0.0/16",), ("2600:1f18:4a2:5a00::/56",), False),
        Vpc(SHARED, "012345678901", ("10.1.0.0/16",), (), False),
    ),
    "subnets": (
        Subnet(
            "subnet-0jobs",
            PROD,
            "10.0.12.0/24",
            ("2600:1f18:4a2:5a0c::/64",),
            "us-east-1a",
            "use1-az1",
        ),
    ),
    "peerings": (
        VpcPeering(
            "pcx-0shared",
            "active",
            PROD,
            "012345678901",
            "us-east-1",
            ("10.0.0.0/16",),
            SHARED,
            "012345678901",
            "us-east-1",
            ("10.1.0.0/16",),
        ),
        VpcPeering(
            "pcx-0remote",
            "active",
            PROD,
            "012345678901",
            "us-east-1",
            ("10.0.0.0/16",),
            REMOTE,
            "999988887777",
            "us-east-1",
            ("10.50.0.0/16", "2600:1f18:9999::/56"),
        ),
        VpcPeering(
            "pcx-0gone",
            "deleted",
            PROD,
            "012345678901",
            "us-east-1",
            ("10.0.0.0/16",),
            "vpc-0gone",
            "999988887777",
            "us-east-1",
            ("172.30.0.0/16",),
        ),
    ),
    "prefix_lists": (
        PrefixList(
            "pl-63a5400a",
            "com.amazonaws.us-east-1.s3",
            "AWS",
            "IPv4",
            None,
            ("52.216.0.0/15", "54.231.0.0/16"),
        ),
        PrefixList("pl-0office", "office", "012345678901", "IPv4", 5, ("198.51.100.0/24",)),
    ),
}


def reuse_inventory(attach: datetime | None = SWITCH) -> Inventory:
    """worker-1 holds 10.0.12.31 on day 1; worker-1b (attached at noon on day 2) on day 3."""
    day1 = snapshot(
        DAY1,
        eni(
            "0worker1",
            "10.0.12.31",
            ("sg-worker",),
            eni_id="eni-0worker1",
            attached=DAY1 - timedelta(days=30),
            **AS_COLLECTED,
        ),
        **NETWORK,
    )
    day3 = snapshot(
        DAY3,
        eni(
            "0worker1b",
            "10.0.12.31",
            ("sg-worker",),
            eni_id="eni-0worker1b",
            attached=attach,
            **AS_COLLECTED,
        ),
        **NETWORK,
    )
    return Inventory.from_snapshots([day3, day1])


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_reused_ip_resolves_to_the_holder_of_the_moment() -> None:
    resolver = build_resolver(reuse_inventory())
    holder = {
        "2026-11-10T00:00:00": "eni-0worker1",  # before the first snapshot
        "2026-11-16T00:00:00": "eni-0worker1",
        "2026-11-16T15:00:00": "eni-0worker1",  # day 1
        "2026-11-17T11:59:59": "eni-0worker1",
        "2026-11-17T12:00:00": "eni-0worker1b",  # the attach time
        "2026-11-18T08:00:00": "eni-0worker1b",  # day 3
        "2026-11-25T00:00:00": "eni-0worker1b",  # after the last snapshot
    }
    for moment, expected in holder.items():
        endpoint = resolver.resolve("10.0.12.31", at(moment))
        assert (endpoint.kind, endpoint.id) == (EndpointKind.ENI, expected), moment
        assert endpoint.vpc_id == PROD
        assert endpoint.security_group_ids == ("sg-worker",)
        assert endpoint.interface_role is InterfaceRole.INSTANCE
        assert endpoint.label == "instance"
    # Epoch seconds mean the same moment.
    assert resolver.resolve("10.0.12.31", int(SWITCH.timestamp()) - 1).id == "eni-0worker1"
    assert resolver.resolve("10.0.12.31", int(SWITCH.timestamp())).id == "eni-0worker1b"


def test_without_an_attach_time_the_newcomer_takes_over_after_the_earlier_snapshot() -> None:
    for attach in (None, DAY1 - timedelta(days=1), DAY3 + timedelta(hours=1)):
        resolver = build_resolver(reuse_inventory(attach=attach))
        assert resolver.resolve("10.0.12.31", DAY1).id == "eni-0worker1"
        assert resolver.resolve("10.0.12.31", DAY1 + timedelta(seconds=1)).id == "eni-0worker1b"


def test_a_deleted_interface_keeps_its_ip_until_the_snapshot_that_misses_it() -> None:
    inventory = Inventory.from_snapshots(
        [
            snapshot(
                DAY1,
                eni(
                    "0old",
                    "10.0.12.40",
                    ("sg-worker",),
                    eni_id="eni-0old",
                    attached=None,
                    **AS_COLLECTED,
                ),
                **NETWORK,
            ),
            snapshot(DAY3, **NETWORK),
        ]
    )
    resolver = build_resolver(inventory)
    assert resolver.resolve("10.0.12.40", DAY3 - timedelta(seconds=1)).id == "eni-0old"
    unheld = resolver.resolve("10.0.12.40", DAY3)
    assert (unheld.kind, unheld.id, unheld.vpc_id, unheld.label) == (
        EndpointKind.VPC_UNKNOWN,
        "10.0.12.40",
        PROD,
        "subnet-0jobs",
    )


def test_a_new_interface_holds_its_ip_from_the_earlier_snapshot_or_its_attach_time() -> None:
    late = eni(
        "0new",
        "10.0.12.50",
        ("sg-worker",),
        eni_id="eni-0new",
        attached=SWITCH,
        **AS_COLLECTED,
    )
    resolver = build_resolver(
        Inventory.from_snapshots([snapshot(DAY1, **NETWORK), snapshot(DAY3, late, **NETWORK)])
    )
    assert resolver.resolve("10.0.12.50", DAY1).kind is EndpointKind.VPC_UNKNOWN
    assert (
        resolver.resolve("10.0.12.50", SWITCH - timedelta(seconds=1)).kind
        is EndpointKind.VPC_UNKNOWN
    )
    assert resolver.resolve("10.0.12.50", SWITCH).id == "eni-0new"


def test_group_membership_follows_the_snapshot_of_the_moment() -> None:
    before = eni(
        "0api",
        "10.0.10.21",
        ("sg-api", "sg-legacy"),
        eni_id="eni-0api",
        attached=None,
        **AS_COLLECTED,
    )
    after = replace(before, security_group_ids=("sg-api",))
    middle = DAY1 + timedelta(days=1)
    resolver = build_resolver(
        Inventory.from_snapshots(
            [snapshot(DAY1, before), snapshot(middle, before), snapshot(DAY3, after)]
        )
    )
    assert resolver.resolve("10.0.10.21", DAY1).security_group_ids == ("sg-api", "sg-legacy")
    assert resolver.resolve("10.0.10.21", middle).security_group_ids == ("sg-api", "sg-legacy")
    assert resolver.resolve("10.0.10.21", middle + timedelta(seconds=1)).security_group_ids == (
        "sg-api",
    )
    interface = resolver.interface_at("eni-0api", int(DAY1.timestamp()))
    assert interface is not None
    assert interface.security_group_ids == ("sg-api", "sg-legacy")
    interface = resolver.interface_at("eni-0api", DAY3 + timedelta(days=9))
    assert interface is not None
    assert interface.security_group_ids == ("sg-api",)
    assert resolver.interface_at("eni-0unknown", DAY1) is None


@pytest.mark.parametrize(
    ("address", "kind", "endpoint_id", "vpc_id", "label"),
    [
        ("52.217.10.1", EndpointKind.AWS_SERVICE, "S3", None, "pl-63a5400a"),
        ("10.50.3.4", EndpointKind.PEERED_VPC, "10.50.3.4", REMOTE, "pcx-0remote"),
        (
            "2600:1f18:9999:1::5",
            EndpointKind.PEERED_VPC,
            "2600:1f18:9999:1::5",
            REMOTE,
            "pcx-0remote",
        ),
        # The shared VPC is peered but described by the inventory: a known VPC.
        ("10.1.5.99", EndpointKind.VPC_UNKNOWN, "10.1.5.99", SHARED, None),
        # A deleted peering is no route: its CIDR is just private space.
        ("172.30.0.1", EndpointKind.PRIVATE_OTHER, "172.30.0.1", None, "172.16.0.0/12"),
        ("192.168.7.7", EndpointKind.ONPREM, "192.168.7.7", None, "192.168.0.0/16"),
        # Longest prefix wins: the VPC's /16 inside the on-prem /8.
        ("10.0.99.9", EndpointKind.VPC_UNKNOWN, "10.0.99.9", PROD, None),
        ("10.9.0.1", EndpointKind.ONPREM, "10.9.0.1", None, "10.0.0.0/8"),
        ("10.0.12.200", EndpointKind.VPC_UNKNOWN, "10.0.12.200", PROD, "subnet-0jobs"),
        (
            "2600:1f18:4a2:5a0c::77",
            EndpointKind.VPC_UNKNOWN,
            "2600:1f18:4a2:5a0c::77",
            PROD,
            "subnet-0jobs",
        ),
        ("172.20.1.1", EndpointKind.PRIVATE_OTHER, "172.20.1.1", None, "172.16.0.0/12"),
        ("100.64.8.8", EndpointKind.PRIVATE_OTHER, "100.64.8.8", None, "100.64.0.0/10"),
        ("fd12:3456::1", EndpointKind.PRIVATE_OTHER, "fd12:3456::1", None, "fc00::/7"),
        ("203.0.113.50", EndpointKind.INTERNET, "203.0.113.50", None, None),
        ("2001:db8::1", EndpointKind.INTERNET, "2001:db8::1", None, None),
        # A customer-managed prefix list is no AWS service.
        ("198.51.100.7", EndpointKind.INTERNET, "198.51.100.7", None, None),
        # The public IP of a known ENI is still the internet to a security group.
        ("3.80.10.30", EndpointKind.INTERNET, "3.80.10.30", None, "eni-0bastion"),
    ],
)
def test_unheld_addresses_are_classified(
    address: str, kind: EndpointKind, endpoint_id: str, vpc_id: str | None, label: str | None
) -> None:
    bastion = eni(
        "0bastion",
        "10.0.0.30",
        ("sg-worker",),
        eni_id="eni-0bastion",
        attached=None,
        **AS_COLLECTED,
        public=("3.80.10.30",),
    )
    inventory = Inventory.from_snapshots([snapshot(DAY1, bastion, **NETWORK)])
    resolver = build_resolver(inventory, onprem_cidrs=("10.0.0.0/8", "192.168.0.0/16"))
    endpoint = resolver.resolve(address, DAY1)
    assert (endpoint.kind, endpoint.id, endpoint.vpc_id, endpoint.label) == (
        kind,
        endpoint_id,
        vpc_id,
        label,
    )
    assert endpoint.security_group_ids == ()
    assert endpoint.interface_role is None


def test_a_known_interface_in_a_peered_vpc_is_that_interface() -> None:
    runner = eni(
        "0runner",
        "10.50.5.20",
        ("sg-ci",),
        eni_id="eni-0runner",
        attached=None,
        **{**AS_COLLECTED, "vpc": REMOTE},
    )
    resolver = build_resolver(Inventory.from_snapshots([snapshot(DAY1, runner, **NETWORK)]))
    endpoint = resolver.resolve("10.50.5.20", DAY1)
    assert (endpoint.kind, endpoint.id, endpoint.vpc_id) == (
        EndpointKind.ENI,
        "eni-0runner",
        REMOTE,
    )
    # The rest of that VPC, which describe-vpcs.json does not describe, is still peered.
    neighbour = resolver.resolve("10.50.5.21", DAY1)
    assert (neighbour.kind, neighbour.label) == (EndpointKind.PEERED_VPC, "pcx-0remote")


def test_ipv6_forms_and_delegated_prefixes_map_to_their_interface() -> None:
    api = eni(
        "0api",
        "10.0.10.21",
        ("sg-worker",),
        eni_id="eni-0api",
        ipv6=["2600:1f18:4a2:5a00::21"],
        prefixes=("10.0.10.48/28",),
        ipv6_prefixes=("2600:1f18:4a2:5a00:1::/80",),
        attached=None,
        **AS_COLLECTED,
    )
    resolver = build_resolver(Inventory.from_snapshots([snapshot(DAY1, api, **NETWORK)]))
    for address in (
        "2600:1F18:04A2:5A00:0000:0000:0000:0021",
        "2600:1f18:4a2:5a00:0:0:0:21",
        "2600:1f18:4a2:5a00::21",
        "10.0.10.48",
        "10.0.10.63",
        "2600:1f18:4a2:5a00:1::abcd",
    ):
        assert resolver.resolve(address, DAY1).id == "eni-0api", address
    assert resolver.resolve("10.0.10.64", DAY1).kind is EndpointKind.VPC_UNKNOWN
    assert resolver.resolve("2600:1f18:4a2:5a00:2::1", DAY1).kind is EndpointKind.VPC_UNKNOWN
    with pytest.raises(UsageError, match="not an IP address"):
        resolver.resolve("10.0.0.256", DAY1)
    # A naive datetime is UTC.
    assert resolver.resolve("10.0.10.21", DAY1.replace(tzinfo=None)).id == "eni-0api"


def test_resolve_many_matches_resolve_row_by_row() -> None:
    resolver = build_resolver(reuse_inventory(), onprem_cidrs=("192.168.0.0/16",))
    moments = [DAY1, SWITCH - timedelta(seconds=1), SWITCH, DAY3]
    addresses = ["10.0.12.31", "52.216.1.1", "10.1.0.9", "192.168.1.1", "8.8.8.8", "10.0.12.31"]
    rows = [(a, int(m.timestamp())) for a in addresses for m in moments]
    table = pa.table(
        {
            "address": pa.array([a for a, _ in rows] + [None, "not-an-ip", "10.0.12.31"]),
            "at": pa.array([t for _, t in rows] + [0, 0, None], pa.int64()),
            "hour": pa.array(range(len(rows) + 3), pa.int64()),
            "kind": pa.array(["stale"] * (len(rows) + 3)),
        }
    )
    out = resolver.resolve_many(table)

    assert out.column_names == [
        "address",
        "at",
        "hour",
        "kind",
        "id",
        "vpc_id",
        "label",
        "security_group_ids",
        "interface_role",
    ]
    assert out.schema.field("security_group_ids").type == pa.list_(pa.string())
    assert out.column("hour").to_pylist() == list(range(len(rows) + 3))
    records = out.to_pylist()
    for (address, moment), record in zip(rows, records, strict=False):
        expected = resolver.resolve(address, moment)
        assert record["kind"] == expected.kind.value
        assert record["id"] == expected.id
        assert record["vpc_id"] == expected.vpc_id
        assert record["label"] == expected.label
        assert record["security_group_ids"] == list(expected.security_group_ids)
        role = expected.interface_role
        assert record["interface_role"] == (role.value if role else None)
    null_address, garbage, latest = records[-3:]
    for record in (null_address, garbage):
        assert {k: record[k] for k in ("kind", "id", "security_group_ids")} == {
            "kind": None,
            "id": None,
            "security_group_ids": None,
        }
    assert latest["id"] == "eni-0worker1b"  # a null moment is the latest view


def test_resolve_many_with_chunks_and_timestamps() -> None:
    resolver = build_resolver(reuse_inventory())
    chunked = pa.chunked_array([["10.0.12.31", "10.0.12.31"], ["2600:1F18:4A2:5A0C::1"]])
    moments = pa.array([DAY1, DAY3, DAY3], pa.timestamp("us", tz="UTC"))
    out = resolver.resolve_many(pa.table({"address": chunked, "at": moments}))
    assert out.column("id").to_pylist() == [
        "eni-0worker1",
        "eni-0worker1b",
        "2600:1f18:4a2:5a0c::1",
    ]
    with pytest.raises(UsageError, match="no 'at' column"):
        resolver.resolve_many(pa.table({"address": ["10.0.0.1"]}))


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(
                ["10.0.12.31", "10.0.12.40", "10.0.12.50", "10.0.10.49", "52.217.0.1", "10.1.2.3"]
            ),
            st.integers(int(DAY1.timestamp()) - 86400, int(DAY3.timestamp()) + 86400),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_resolve_many_agrees_with_resolve(rows: list[tuple[str, int]]) -> None:
    day1 = snapshot(
        DAY1,
        eni(
            "0worker1",
            "10.0.12.31",
            ("sg-worker",),
            eni_id="eni-0worker1",
            attached=None,
            **AS_COLLECTED,
        ),
        eni(
            "0old",
            "10.0.12.40",
            ("sg-worker",),
            eni_id="eni-0old",
            attached=None,
            **AS_COLLECTED,
        ),
        eni(
            "0pfx",
            "10.0.12.9",
            ("sg-worker",),
            eni_id="eni-0pfx",
            prefixes=("10.0.10.48/28",),
            attached=None,
            **AS_COLLECTED,
        ),
        **NETWORK,
    )
    day3 = snapshot(
        DAY3,
        eni(
            "0worker1b",
            "10.0.12.31",
            ("sg-worker",),
            eni_id="eni-0worker1b",
            attached=SWITCH,
            **AS_COLLECTED,
        ),
        eni(
            "0new",
            "10.0.12.50",
            ("sg-worker",),
            eni_id="eni-0new",
            attached=SWITCH + timedelta(hours=3),
            **AS_COLLECTED,
        ),
        eni(
            "0pfx",
            "10.0.12.9",
            ("sg-other",),
            eni_id="eni-0pfx",
            attached=None,
            **AS_COLLECTED,
        ),
        **NETWORK,
    )
    resolver = build_resolver(Inventory.from_snapshots([day1, day3]))
    table = pa.table(
        {"address": [a for a, _ in rows], "at": pa.array([t for _, t in rows], pa.int64())}
    )
    out = resolver.resolve_many(table).to_pylist()
    for (address, moment), record in zip(rows, out, strict=True):
        expected = resolver.resolve(address, moment)
        assert (record["kind"], record["id"], record["security_group_ids"]) == (
            expected.kind.value,
            expected.id,
            list(expected.security_group_ids),
        )


@settings(max_examples=80, deadline=None)
@given(
    blocks=st.lists(
        st.tuples(st.integers(0, 255), st.integers(16, 30), st.integers(0, 3)),
        min_size=1,
        max_size=12,
    ),
    probes=st.lists(st.integers(0, 2**24 - 1), min_size=1, max_size=20),
)
def test_range_table_is_longest_prefix_match(
    blocks: list[tuple[int, int, int]], probes: list[int]
) -> None:
    cidrs = []
    for index, (third, length, rank) in enumerate(blocks):
        network = ipaddress.ip_network(f"10.{third}.{index % 4 * 64}.0/{length}", strict=False)
        cidrs.append((str(network), rank, index))
    table = RangeTable((*cidr_bounds(c)[1:], rank, payload) for c, rank, payload in cidrs)
    for probe in probes:
        address = int(ipaddress.ip_address("10.0.0.0")) + probe
        covering = [
            (ipaddress.ip_network(c).prefixlen, -rank, -payload, payload)
            for c, rank, payload in cidrs
            if cidr_bounds(c)[1] <= address <= cidr_bounds(c)[2]
        ]
        expected = max(covering)[3] if covering else None
        # Identical blocks: the lowest rank wins, and among equal ranks the first given.
        assert table.lookup(address) == expected
