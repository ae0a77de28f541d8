"""build_graph: nodes, edges and attributes at each level, identity groups, tiers."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from support.edges import frame as edges_frame
from support.graphs import PROD, flow, sample_folder, sample_inventory, sample_rows
from support.inventory import eni, security_group
from support.inventory import inventory as inventory_of

from zt_flows.graph import build_graph, drop_rejected_only
from zt_flows.graph.identity import GroupIndex
from zt_flows.inventory.model import InterfaceRole
from zt_flows.vocabulary import conversation_label


@pytest.fixture(scope="module")
def sample() -> nx.DiGraph:
    inventory = sample_inventory()
    return build_graph(edges_frame(sample_rows(), inventory), inventory, level="security_group")


def names(graph: nx.DiGraph) -> dict[str, str]:
    return {node: attrs["name"] for node, attrs in graph.nodes(data=True)}


def named_edges(graph: nx.DiGraph) -> dict[tuple[str, str], dict[str, object]]:
    label = names(graph)
    return {(label[u], label[v]): attrs for u, v, attrs in graph.edges(data=True)}


def test_security_group_level_nodes_are_identity_groups_and_outside_classes(
    sample: nx.DiGraph,
) -> None:
    assert sorted(names(sample).values()) == sorted(
        [
            "AMAZON",
            "S3",
            "internet",
            "web-alb",
            "api",
            "bastion",
            "weekly-batch",
            "ci-runner",
            "dns-resolver",
            "reports-lambda",
            "monitoring",
            "postgres",
            "redis",
            "web",
            "worker",
        ]
    )
    # Tag-only groups never become nodes: every member has a narrower identity.
    assert "sg-nodeexp" not in sample
    assert "sg-legacy" not in sample
    assert "sg-default" not in sample
    api = sample.nodes["sg-api"]
    assert api["kind"] == "security_group"
    assert api["groups"] == ["sg-api", "sg-legacy", "sg-nodeexp"]
    assert api["enis"] == ["eni-api1", "eni-api2"]
    assert api["members"] == 2
    assert api["role"] == "instance"
    assert api["vpc_id"] == "vpc-prod"
    assert api["external"] is False
    assert sample.nodes["sg-ci"]["vpc_id"] == "vpc-shared"
    assert sample.nodes["sg-batch"]["groups"] == ["sg-batch", "sg-default"]
    s3 = sample.nodes["aws_service:S3"]
    assert (s3["kind"], s3["name"], s3["role"], s3["external"]) == (
        "aws_service",
        "S3",
        "external",
        True,
    )
    assert sample.nodes["internet"]["members"] == 5  # distinct addresses seen


def test_edges_aggregate_rows_between_nodes(sample: nx.DiGraph) -> None:
    edges = named_edges(sample)
    web_api = edges["web", "api"]
    # 2 web ENIs x 2 api ENIs x 50 flows, all accepted, on one day.
    assert web_api["ports"] == ["tcp/8443"]
    assert web_api["protocols"] == ["tcp"]
    assert (web_api["flows"], web_api["accepted"], web_api["rejected"]) == (200, 200, 0)
    assert web_api["connections"] == 200
    assert web_api["packets"] == 2000
    assert web_api["bytes"] == 4 * 5000
    assert web_api["first_seen"] == "2026-11-16T08:00:00Z"
    assert web_api["last_seen"] == "2026-11-16T17:30:00Z"
    assert web_api["days_seen"] == 1
    assert web_api["rejected_only"] is False
    assert web_api["clients"] == ["eni-web1", "eni-web2"]
    assert web_api["servers"] == ["eni-api1", "eni-api2"]
    # Two kinds of traffic from one group to another: ports of both, sorted by number.
    assert edges["monitoring", "dns-resolver"]["ports"] == ["tcp/9100", "udp/53"]
    assert edges["monitoring", "dns-resolver"]["protocols"] == ["tcp", "udp"]
    # Scraping its own host is an edge from the group to itself.
    assert edges["monitoring", "monitoring"]["ports"] == ["tcp/9100"]
    assert edges["weekly-batch", "api"]["first_seen"].startswith("2026-11-17")


def test_rejected_attempts_are_flagged_not_mixed_into_ports(sample: nx.DiGraph) -> None:
    edges = named_edges(sample)
    lam = edges["reports-lambda", "redis"]
    assert lam["rejected_only"] is True
    assert lam["ports"] == ["tcp/6379"]
    assert lam["rejected_ports"] == ["tcp/6379"]
    assert (lam["accepted"], lam["rejected"]) == (0, 6)
    # Scans of an open load balancer: the edge stands for the accepted port only.
    users = edges["internet", "web-alb"]
    assert users["rejected_only"] is False
    assert users["ports"] == ["tcp/443"]
    assert users["rejected_ports"] == ["tcp/23", "tcp/3389"]
    assert users["rejected"] == 10
    assert users["flows"] == users["accepted"] + users["rejected"]

    kept = drop_rejected_only(sample)
    assert not any(d["rejected_only"] for *_, d in kept.edges(data=True))
    assert kept.number_of_edges() == sample.number_of_edges() - 1
    assert set(kept) == set(sample)  # lambda still calls the api, redis still has clients
    assert kept.graph == sample.graph


def test_drop_rejected_only_removes_nodes_only_scans_reached() -> None:
    inventory = sample_inventory()
    rows = [
        flow("eni-web1", "eni-api1", 8443, "tcp"),
        flow("192.0.2.66", "eni-bastion", 22, "tcp", flows=2, rejected=2),
    ]
    graph = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    assert set(graph) == {"sg-web", "sg-api", "internet", "sg-bastion"}
    assert set(drop_rejected_only(graph)) == {"sg-web", "sg-api"}


def test_eni_level(sample: nx.DiGraph) -> None:
    inventory = sample_inventory()
    graph = build_graph(edges_frame(sample_rows(), inventory), inventory, level="eni")
    api1 = graph.nodes["eni-api1"]
    assert (api1["kind"], api1["name"], api1["members"], api1["role"]) == (
        "eni",
        "api-1",
        1,
        "instance",
    )
    assert api1["groups"] == ["sg-api", "sg-legacy", "sg-nodeexp"]
    assert graph.has_edge("eni-web1", "eni-api2")
    assert graph.edges["eni-web1", "eni-api2"]["flows"] == 50
    assert graph.nodes["eni-pg"]["role"] == "database"
    # Every ENI that appears in the traffic is a node of its own.
    assert sum(1 for _, d in graph.nodes(data=True) if d["kind"] == "eni") == 16
    assert graph.has_edge("eni-prom", "eni-prom")


def test_subnet_level() -> None:
    inventory = sample_inventory()
    graph = build_graph(edges_frame(sample_rows(), inventory), inventory, level="subnet")
    app_a = graph.nodes["subnet-app-a"]
    assert (app_a["kind"], app_a["name"], app_a["vpc_id"]) == ("subnet", "app-a", "vpc-prod")
    assert app_a["members"] == 3  # web-1, api-1 and lambda-a live in app-a
    assert app_a["enis"] == ["eni-api1", "eni-lambda-a", "eni-web1"]
    assert app_a["roles"] == ["instance", "lambda"]
    # web-1 (app-a) to api-1 (app-a) stays inside the subnet.
    assert graph.edges["subnet-app-a", "subnet-app-a"]["ports"] == ["tcp/8443"]
    assert graph.edges["subnet-app-a", "subnet-data-a"]["ports"] == ["tcp/5432"]
    assert graph.nodes["subnet-data-a"]["tier_name"] == "data"


def test_outside_classes_are_one_node_each() -> None:
    inventory = sample_inventory()
    rows = [
        flow("198.51.100.7", "eni-bastion", 22, "tcp"),
        flow("2001:db8::1", "eni-bastion", 22, "tcp"),
        flow("peered_vpc:10.1.5.20|vpc-shared", "eni-bastion", 22, "tcp"),
        flow("onprem:192.168.1.5|192.168.0.0/16", "eni-bastion", 22, "tcp"),
        flow("vpc_unknown:10.0.10.99|vpc-prod", "eni-api1", 8443, "tcp"),
        flow("private_other:172.16.0.9", "eni-api1", 8443, "tcp"),
        flow("eni-worker1", "aws_service:S3:52.216.0.1", 443, "tcp"),
        flow("eni-worker1", "aws_service:S3:52.216.0.2", 443, "tcp"),
        flow("eni-worker1", "aws_service:DYNAMODB:3.218.0.1", 443, "tcp"),
    ]
    graph = build_graph(edges_frame(rows, inventory), inventory, level="eni")
    outside = {n: (d["kind"], d["name"]) for n, d in graph.nodes(data=True) if d["external"]}
    assert outside == {
        "internet": ("internet", "internet"),
        "peered_vpc:vpc-shared": ("peered_vpc", "peered VPC shared"),
        "onprem:192.168.0.0/16": ("onprem", "on-premises 192.168.0.0/16"),
        "vpc_unknown:vpc-prod": ("vpc_unknown", "unknown in prod"),
        "private_other": ("private_other", "other private"),
        "aws_service:S3": ("aws_service", "S3"),
        "aws_service:DYNAMODB": ("aws_service", "DYNAMODB"),
    }
    assert graph.nodes["internet"]["members"] == 2  # an IPv4 and an IPv6 address
    assert graph.nodes["aws_service:S3"]["members"] == 2
    assert graph.edges["internet", "eni-bastion"]["flows"] == 20
    assert graph.nodes["peered_vpc:vpc-shared"]["vpc_id"] == "vpc-shared"


def test_eni_without_groups_stays_an_eni_at_group_level() -> None:
    nat = eni("nat-a", "10.0.0.20", (), eni_id="eni-nat", subnet="subnet-pub-a", vpc=PROD)
    web = eni("web-1", "10.0.10.11", ("sg-web",), eni_id="eni-web", subnet="subnet-app-a", vpc=PROD)
    inventory = inventory_of(
        [nat, web], groups=[security_group("sg-web", name="web", vpc=PROD)], vpcs=()
    )
    rows = [flow("eni-web", "eni-nat", 443, "tcp")]
    graph = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    assert graph.nodes["eni-nat"]["kind"] == "eni"
    assert graph.nodes["eni-nat"]["name"] == "nat-a"
    assert graph.has_edge("sg-web", "eni-nat")


def test_identity_group_rules() -> None:
    groups = [
        security_group("sg-a", name="app-a", vpc=PROD),
        security_group("sg-b", name="app-b", vpc=PROD),
        security_group("sg-c", name="app-c", vpc=PROD),
        security_group("sg-ssh", name="ssh-from-bastion", vpc=PROD),
        security_group("sg-def", name="default", vpc=PROD),
        security_group("sg-z", name="zeta", vpc=PROD),
        security_group("sg-y", name="Alpha", vpc=PROD),
    ]
    a = [
        eni(f"a{i}", f"10.0.1.{i}", ("sg-a",), eni_id=f"eni-a{i}", subnet="", vpc=PROD)
        for i in range(1, 5)
    ]
    enis = [
        *a[:3],
        # One host per workload carries the admin group: it has 3 members, fewer than
        # app-a's 4, but it spans app-a, app-b and app-c, which share nothing.
        eni("a4", "10.0.1.4", ("sg-a", "sg-ssh"), eni_id="eni-a4", subnet="", vpc=PROD),
        eni("b1", "10.0.2.1", ("sg-b", "sg-ssh"), eni_id="eni-b1", subnet="", vpc=PROD),
        eni("c1", "10.0.3.1", ("sg-c", "sg-ssh"), eni_id="eni-c1", subnet="", vpc=PROD),
        eni("d1", "10.0.4.1", ("sg-def",), eni_id="eni-d1", subnet="", vpc=PROD),
        eni("d2", "10.0.4.2", ("sg-def", "sg-z"), eni_id="eni-d2", subnet="", vpc=PROD),
        eni("t1", "10.0.5.1", ("sg-z", "sg-y"), eni_id="eni-t1", subnet="", vpc=PROD),
    ]
    index = GroupIndex(inventory_of(enis, groups=groups, vpcs=()))
    assert index.members("sg-ssh") == 3
    assert index.cross_cutting("sg-ssh") is True
    assert index.cross_cutting("sg-a") is False
    assert index.identity(frozenset({"sg-a", "sg-ssh"})) == "sg-a"
    assert index.identity(frozenset({"sg-b", "sg-ssh"})) == "sg-b"
    # Only the default group: it is the identity; with another, the other wins.
    assert index.identity(frozenset({"sg-def"})) == "sg-def"
    assert index.identity(frozenset({"sg-def", "sg-z"})) == "sg-z"
    # A tie on members (2 each) goes to the lower name, case-insensitively.
    assert index.members("sg-z") == 2
    assert index.members("sg-y") == 1
    assert index.identity(frozenset({"sg-z", "sg-y"})) == "sg-y"
    assert index.identity(frozenset()) is None
    # Only cross-cutting groups: the narrowest of them still names the ENI.
    assert index.identity(frozenset({"sg-ssh"})) == "sg-ssh"


def test_identity_tie_break_is_name_then_id() -> None:
    groups = [
        security_group("sg-2", name="beta", vpc=PROD),
        security_group("sg-1", name="beta", vpc=PROD),
        security_group("sg-3", name="Alpha", vpc=PROD),
    ]
    enis = [eni("x", "10.0.0.1", ("sg-1", "sg-2", "sg-3"), eni_id="eni-1", subnet="", vpc=PROD)]
    index = GroupIndex(inventory_of(enis, groups=groups, vpcs=()))
    assert index.identity(frozenset({"sg-1", "sg-2", "sg-3"})) == "sg-3"
    assert index.identity(frozenset({"sg-1", "sg-2"})) == "sg-1"


@pytest.fixture(scope="module")
def sample_inventory_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_folder(tmp_path_factory.mktemp("sample")) / "inventory"


def test_identity_on_the_sample_inventory_from_disk(sample_inventory_dir: Path) -> None:
    from zt_flows.inventory import load_inventory

    inventory = load_inventory(sample_inventory_dir)
    index = GroupIndex(inventory)
    chosen = {
        eni.name: inventory.security_groups[identity].name
        for eni in inventory.interfaces.values()
        if (identity := index.identity(frozenset(eni.security_group_ids))) is not None
    }
    assert chosen["api-1"] == chosen["api-2"] == "api"
    assert chosen["worker-1"] == chosen["worker-1b"] == "worker"
    assert chosen["prometheus"] == "monitoring"
    assert chosen["dns"] == "dns-resolver"
    assert chosen["bastion"] == "bastion"
    assert chosen["batch"] == "weekly-batch"
    assert chosen["web-1"] == "web"
    assert "node-exporter" not in chosen.values()
    assert "legacy-allow-vpc" not in chosen.values()
    assert "nat-a" not in chosen  # no groups at all


def test_tiers_follow_roles_and_structure(sample: nx.DiGraph) -> None:
    tier = {d["name"]: d["tier"] for _, d in sample.nodes(data=True)}
    kind = {d["name"]: d["tier_name"] for _, d in sample.nodes(data=True)}
    assert tier["internet"] == 0
    assert tier["web-alb"] == 1
    assert kind["web-alb"] == "entry"
    assert kind["bastion"] == "entry"
    assert tier["web-alb"] < tier["web"] < tier["api"] < tier["worker"]
    assert (
        tier["postgres"]
        == tier["redis"]
        > max(t for n, t in tier.items() if kind[n] not in ("data", "external"))
    )
    assert kind["postgres"] == kind["redis"] == "data"
    assert tier["S3"] == tier["AMAZON"] == max(tier.values())
    # A caller nothing calls moves next to what it calls.
    assert tier["reports-lambda"] == tier["api"] - 1
    assert tier["monitoring"] == 1


def test_tiers_survive_cycles() -> None:
    groups = [
        security_group("sg-a", name="a", vpc=PROD),
        security_group("sg-b", name="b", vpc=PROD),
        security_group("sg-c", name="c", vpc=PROD),
    ]
    enis = [
        eni("a", "10.0.0.1", ("sg-a",), eni_id="eni-a", subnet="", vpc=PROD),
        eni("b", "10.0.0.2", ("sg-b",), eni_id="eni-b", subnet="", vpc=PROD),
        eni(
            "c",
            "10.0.0.3",
            ("sg-c",),
            eni_id="eni-c",
            subnet="",
            vpc=PROD,
            role=InterfaceRole.DATABASE,
        ),
    ]
    inventory = inventory_of(enis, groups=groups, vpcs=())
    rows = [
        flow("1.2.3.4", "eni-a", 443, "tcp"),
        flow("eni-a", "eni-b", 8080, "tcp"),
        flow("eni-b", "eni-a", 9000, "tcp"),
        flow("eni-b", "eni-c", 5432, "tcp"),
    ]
    graph = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    tiers = {n: graph.nodes[n]["tier"] for n in graph}
    assert tiers == {"internet": 0, "sg-a": 1, "sg-b": 2, "sg-c": 3}


def test_build_is_deterministic_and_sorted() -> None:
    inventory = sample_inventory()
    rows = sample_rows()
    first = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    second = build_graph(edges_frame(rows[::-1], inventory), inventory, level="security_group")
    assert list(first.nodes(data=True)) == list(second.nodes(data=True))
    assert list(first.edges(data=True)) == list(second.edges(data=True))
    assert list(first) == sorted(first)
    assert list(first.edges) == sorted(first.edges)
    for _, _, attrs in first.edges(data=True):
        for value in attrs.values():
            assert value is not None


def test_empty_edge_table() -> None:
    inventory = sample_inventory()
    graph = build_graph(edges_frame([], inventory), inventory, level="eni")
    assert graph.number_of_nodes() == 0
    assert graph.graph == {"level": "eni", "first_seen": "", "last_seen": ""}


def test_unknown_level_is_refused() -> None:
    inventory = sample_inventory()
    with pytest.raises(ValueError, match="level must be one of"):
        build_graph(edges_frame([], inventory), inventory, level="vpc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("protocol", "port", "label"),
    [
        (6, 443, "tcp/443"),
        (17, 53, "udp/53"),
        (1, 0, "icmp"),
        (58, 0, "icmpv6"),
        (132, 2905, "sctp/2905"),
        (47, 0, "protocol 47"),
    ],
)
def test_port_label(protocol: int, port: int, label: str) -> None:
    assert conversation_label(protocol, port) == label
