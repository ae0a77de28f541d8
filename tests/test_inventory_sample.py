"""The bundled sample inventory (`sample_data/inventory/`) matches sample_data/SCENARIO.md."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_DATA

from zt_flows.inventory import (
    EndpointKind,
    InterfaceRole,
    Inventory,
    NetworkInterface,
    build_resolver,
    has_flow_log_configuration,
    interface_coverage,
    load_inventory,
)

SNAPSHOTS = SAMPLE_DATA / "inventory"
WINDOW_START = datetime(2026, 11, 16, tzinfo=UTC)


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(SNAPSHOTS)


def by_name(inventory: Inventory) -> dict[str, NetworkInterface]:
    return {eni.name or eni.id: eni for eni in inventory.interfaces.values()}


def group_named(inventory: Inventory, name: str, vpc_id: str | None = None) -> str:
    (found,) = [
        g.id
        for g in inventory.security_groups.values()
        if g.name == name and (vpc_id is None or g.vpc_id == vpc_id)
    ]
    return found


def test_two_snapshots_and_nothing_missing(inventory: Inventory) -> None:
    assert inventory.taken_at == (
        datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 18, 23, 30, tzinfo=UTC),
    )
    for snapshot in inventory.snapshots:
        assert snapshot.account_ids == ("012345678901",)
        assert snapshot.regions == ("us-east-1",)
        assert len(snapshot.interfaces) == 17
    assert inventory.missing == ()
    # 17 interfaces in each snapshot; worker-1 and worker-1b are both known.
    assert len(inventory.interfaces) == 18
    first, last = ({e.name for e in s.interfaces} for s in inventory.snapshots)
    assert first - last == {"worker-1"}
    assert last - first == {"worker-1b"}


def test_roles_and_addresses(inventory: Inventory) -> None:
    enis = by_name(inventory)
    roles = {name: eni.role for name, eni in enis.items()}
    assert roles == {
        "alb-a": InterfaceRole.LOAD_BALANCER,
        "alb-b": InterfaceRole.LOAD_BALANCER,
        "nat-a": InterfaceRole.NAT_GATEWAY,
        "bastion": InterfaceRole.INSTANCE,
        "web-1": InterfaceRole.INSTANCE,
        "web-2": InterfaceRole.INSTANCE,
        "api-1": InterfaceRole.INSTANCE,
        "api-2": InterfaceRole.INSTANCE,
        "worker-1": InterfaceRole.INSTANCE,
        "worker-1b": InterfaceRole.INSTANCE,
        "batch": InterfaceRole.INSTANCE,
        "lambda-a": InterfaceRole.LAMBDA,
        "lambda-b": InterfaceRole.LAMBDA,
        "postgres": InterfaceRole.DATABASE,
        "redis": InterfaceRole.CACHE,
        "prometheus": InterfaceRole.INSTANCE,
        "dns": InterfaceRole.INSTANCE,
        "ci-runner": InterfaceRole.INSTANCE,
    }
    assert enis["alb-a"].addresses == ("10.0.0.10", "2600:1f18:4a2:5a00::10")
    assert enis["alb-a"].public_ips == ("3.80.10.10",)
    assert enis["alb-a"].requester_id == "amazon-elb"
    assert enis["alb-b"].addresses == ("10.0.1.10", "2600:1f18:4a2:5a01::10")
    assert enis["nat-a"].public_ips == ("3.80.10.20",)
    assert enis["nat-a"].security_group_ids == ()
    assert enis["bastion"].public_ips == ("3.80.10.30",)
    assert enis["api-1"].private_ipv4s == ("10.0.10.21", "10.0.10.22")
    assert enis["dns"].private_ipv4s == ("10.0.30.20", "10.0.30.53")
    assert enis["postgres"].description == "RDSNetworkInterface"
    assert enis["redis"].description.startswith("ElastiCache prod-redis-0001-001")
    assert enis["worker-1b"].attach_time == datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    prod = enis["web-1"].vpc_id
    assert enis["ci-runner"].vpc_id != prod
    assert {e.vpc_id for n, e in enis.items() if n != "ci-runner"} == {prod}


def test_group_membership(inventory: Inventory) -> None:
    enis = by_name(inventory)
    prod, shared = enis["web-1"].vpc_id, enis["ci-runner"].vpc_id
    expected = {
        ("web-alb", prod): {"alb-a", "alb-b"},
        ("web", prod): {"web-1", "web-2"},
        ("api", prod): {"api-1", "api-2"},
        ("worker", prod): {"worker-1", "worker-1b"},
        ("postgres", prod): {"postgres"},
        ("redis", prod): {"redis"},
        ("bastion", prod): {"bastion"},
        ("node-exporter", prod): {
            "bastion", "web-1", "web-2", "api-1", "api-2", "worker-1", "worker-1b",
            "prometheus", "dns",
        },
        ("monitoring", prod): {"prometheus"},
        ("dns-resolver", prod): {"dns"},
        ("legacy-allow-vpc", prod): {"api-1", "api-2", "worker-1", "worker-1b"},
        ("reports-lambda", prod): {"lambda-a", "lambda-b"},
        ("weekly-batch", prod): {"batch"},
        ("default", prod): {"batch"},
        ("jenkins-old", prod): set(),
        ("ci-runner", shared): {"ci-runner"},
        ("default", shared): set(),
    }  # fmt: skip
    assert len(inventory.security_groups) == len(expected)
    for (name, vpc_id), members in expected.items():
        group = group_named(inventory, name, vpc_id)
        assert {e.name for e in inventory.members_of(group)} == members, name
    api1 = enis["api-1"].security_group_ids
    assert {inventory.security_groups[g].name for g in api1} == {
        "api",
        "node-exporter",
        "legacy-allow-vpc",
    }
    assert inventory.group_addresses(group_named(inventory, "dns-resolver")) == (
        "10.0.30.20",
        "10.0.30.53",
    )


def test_rule_counts_per_group(inventory: Inventory) -> None:
    enis = by_name(inventory)
    prod, shared = enis["web-1"].vpc_id, enis["ci-runner"].vpc_id
    counts = {  # (ingress, egress) from the table in SCENARIO.md
        ("web-alb", prod): (3, 1),
        ("web", prod): (2, 1),
        ("api", prod): (1, 1),
        ("worker", prod): (0, 1),
        ("postgres", prod): (1, 1),
        ("redis", prod): (2, 1),
        ("bastion", prod): (1, 1),
        ("node-exporter", prod): (1, 0),
        ("monitoring", prod): (0, 1),
        ("dns-resolver", prod): (2, 1),
        ("legacy-allow-vpc", prod): (1, 1),
        ("reports-lambda", prod): (0, 1),
        ("weekly-batch", prod): (0, 1),
        ("default", prod): (1, 1),
        ("jenkins-old", prod): (2, 1),
        ("ci-runner", shared): (0, 1),
        ("default", shared): (1, 1),
    }
    for (name, vpc_id), (ingress, egress) in counts.items():
        group = group_named(inventory, name, vpc_id)
        found = (
            len(inventory.rules_of(group, "ingress")),
            len(inventory.rules_of(group, "egress")),
        )
        assert found == (ingress, egress), name
    for rule in inventory.rules:
        assert rule.id is not None
        assert rule.id.startswith("sgr-")


def test_rules_reference_groups_cidrs_and_all_traffic(inventory: Inventory) -> None:
    def ingress(name: str, vpc_id: str | None = None) -> set[tuple[object, ...]]:
        group = group_named(inventory, name, vpc_id)
        return {
            (r.protocol, r.from_port, r.to_port, r.peer_kind, r.peer_value)
            for r in inventory.rules_of(group, "ingress")
        }

    names = {g.id: g.name for g in inventory.security_groups.values()}
    web = ingress("web")
    assert {(p, lo, kind, names.get(v, v)) for p, lo, _, kind, v in web} == {
        ("tcp", 8080, "security_group", "web-alb"),
        ("tcp", 22, "security_group", "bastion"),
    }
    assert ingress("web-alb") == {
        ("tcp", 443, 443, "cidr_ipv4", "0.0.0.0/0"),
        ("tcp", 443, 443, "cidr_ipv6", "::/0"),
        ("tcp", 80, 80, "cidr_ipv4", "0.0.0.0/0"),
    }
    assert ingress("legacy-allow-vpc") == {("-1", None, None, "cidr_ipv4", "10.0.0.0/16")}
    assert ingress("node-exporter") == {("tcp", 9100, 9100, "cidr_ipv4", "10.0.0.0/8")}
    assert ingress("dns-resolver") == {
        ("udp", 53, 53, "cidr_ipv4", "10.0.0.0/16"),
        ("tcp", 53, 53, "cidr_ipv4", "10.0.0.0/16"),
    }
    prod = by_name(inventory)["web-1"].vpc_id
    default = group_named(inventory, "default", prod)
    assert ingress("default", prod) == {("-1", None, None, "security_group", default)}


def test_network_layout(inventory: Inventory) -> None:
    enis = by_name(inventory)
    prod = inventory.vpcs[enis["web-1"].vpc_id]
    shared = inventory.vpcs[enis["ci-runner"].vpc_id]
    assert (prod.cidrs_ipv4, prod.cidrs_ipv6) == (("10.0.0.0/16",), ("2600:1f18:4a2:5a00::/56",))
    assert (shared.cidrs_ipv4, shared.cidrs_ipv6) == (("10.1.0.0/16",), ())
    subnets = {s.cidr_ipv4: s for s in inventory.subnets.values()}
    assert len(subnets) == 9
    assert (subnets["10.0.0.0/24"].cidrs_ipv6, subnets["10.0.0.0/24"].availability_zone) == (
        ("2600:1f18:4a2:5a00::/64",),
        "us-east-1a",
    )
    assert (subnets["10.0.1.0/24"].az_id, subnets["10.0.1.0/24"].cidrs_ipv6) == (
        "use1-az2",
        ("2600:1f18:4a2:5a01::/64",),
    )
    assert subnets["10.1.5.0/24"].vpc_id == shared.id
    (pcx,) = inventory.peerings
    assert pcx.active
    assert {pcx.requester_vpc_id, pcx.accepter_vpc_id} == {prod.id, shared.id}
    (s3,) = inventory.prefix_lists.values()
    assert (s3.name, s3.aws_managed, s3.aws_service) == ("com.amazonaws.us-east-1.s3", True, "S3")
    assert s3.cidrs


def test_worker_ip_reuse_and_time_aware_resolution(inventory: Inventory) -> None:
    enis = by_name(inventory)
    resolver = build_resolver(inventory)
    expected = {
        "2026-11-16T00:00:00": "worker-1",
        "2026-11-16T12:00:00": "worker-1",
        "2026-11-17T11:59:59": "worker-1",
        "2026-11-17T12:00:00": "worker-1b",
        "2026-11-18T12:00:00": "worker-1b",
    }
    for moment, name in expected.items():
        endpoint = resolver.resolve("10.0.12.31", datetime.fromisoformat(moment + "+00:00"))
        assert endpoint.id == enis[name].id, moment
        assert endpoint.kind is EndpointKind.ENI
    day2 = datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
    assert resolver.resolve("10.0.30.53", day2).id == enis["dns"].id  # the secondary IP
    assert resolver.resolve("2600:1f18:4a2:5a00:0::10", day2).id == enis["alb-a"].id
    ci = resolver.resolve("10.1.5.20", day2)
    assert (ci.id, ci.vpc_id) == (enis["ci-runner"].id, enis["ci-runner"].vpc_id)
    s3_address = next(iter(inventory.prefix_lists.values())).cidrs[0].split("/")[0]
    assert resolver.resolve(s3_address, day2).id == "S3"
    assert resolver.resolve("203.0.113.50", day2).kind is EndpointKind.INTERNET
    assert resolver.resolve("10.0.20.99", day2).kind is EndpointKind.VPC_UNKNOWN
    nat = resolver.resolve("10.0.0.20", day2)
    assert (nat.interface_role, nat.security_group_ids) == (InterfaceRole.NAT_GATEWAY, ())


def test_flow_logs_are_the_ones_that_wrote_the_files(inventory: Inventory) -> None:
    """Both snapshots list the two ALL-traffic flow logs on prod, and each one's LogFormat
    is the field order of the files it delivered."""
    prod = next(v.id for v in inventory.vpcs.values() if dict(v.tags).get("Name") == "prod")
    for snapshot in inventory.snapshots:
        assert [log.id for log in snapshot.flow_logs] == [
            "fl-0a1b2c3d4e5f60718",
            "fl-0f9e8d7c6b5a40321",
        ]
    for log in inventory.flow_logs:
        assert (log.resource_id, log.resource_type, log.traffic_type) == (prod, "vpc", "ALL")
        assert (log.status, log.deliver_status, log.destination_type) == ("ACTIVE", "SUCCESS", "s3")
        assert log.created_at < WINDOW_START
        assert log.max_aggregation_interval == 60

    def fields(log_id: str) -> list[str]:
        (log,) = [log for log in inventory.flow_logs if log.id == log_id]
        assert log.log_format is not None
        return [f.removeprefix("${").removesuffix("}") for f in log.log_format.split()]

    (text_file,) = list((SAMPLE_DATA / "flowlogs").rglob("*_fl-0f9e8d7c6b5a40321_20261118T0100Z_*"))
    with gzip.open(text_file, "rt") as handle:
        header = handle.readline().split()
    assert fields("fl-0f9e8d7c6b5a40321") == header
    assert header[:3] == ["version", "vpc-id", "subnet-id"]  # the custom order
    parquet_file = next((SAMPLE_DATA / "flowlogs").rglob("*_fl-0a1b2c3d4e5f60718_*.parquet"))
    columns = pq.read_schema(parquet_file).names
    assert [f.replace("-", "_") for f in fields("fl-0a1b2c3d4e5f60718")] == columns


def test_every_prod_interface_is_covered_and_ci_runner_is_not(inventory: Inventory) -> None:
    assert has_flow_log_configuration(inventory)
    coverage = interface_coverage(inventory, WINDOW_START, WINDOW_START + timedelta(days=3))
    enis = by_name(inventory)
    assert set(coverage) == {eni.id for eni in enis.values()}
    for name, eni in enis.items():
        found = coverage[eni.id]
        if name == "ci-runner":
            assert not found.covered
            assert [gap.kind for gap in found.gaps] == ["no_flow_log"]
            assert eni.vpc_id in found.reason
            continue
        assert found.covered, f"{name}: {found.reason}"
        assert found.via == ("vpc",)
        assert [log.id for log in found.covered_by] == [
            "fl-0a1b2c3d4e5f60718",
            "fl-0f9e8d7c6b5a40321",
        ]
    # worker-1b needs coverage only from its attachment, mid-window.
    assert coverage[enis["worker-1b"].id].needed_from == datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    assert coverage[enis["worker-1"].id].needed_from == WINDOW_START
