"""`ztflows graph`: real edges.parquet and inventory folders in, every format out."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from support.edges import frame as edges_frame
from support.graphs import PROD, flow, sample_folder
from support.inventory import eni as make_eni
from support.inventory import inventory as inventory_of
from support.inventory import security_group

from zt_flows.cli import main
from zt_flows.conversations.io import write_edges
from zt_flows.inventory import Inventory, load_inventory


@pytest.fixture(scope="module")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_folder(tmp_path_factory.mktemp("sample"))


@pytest.fixture(scope="module")
def inventory_dir(sample_dir: Path) -> Path:
    return sample_dir / "inventory"


@pytest.fixture(scope="module")
def inventory(inventory_dir: Path) -> Inventory:
    return load_inventory(inventory_dir)


def by_name(inventory: Inventory) -> dict[str, str]:
    return {eni.name or eni.id: eni.id for eni in inventory.interfaces.values()}


def sample_edges(inventory: Inventory) -> list[dict[str, object]]:
    ids = by_name(inventory)
    return [
        flow("198.51.100.20", ids["alb-a"], 443, "tcp", flows=900),
        flow(ids["alb-a"], ids["web-1"], 8080, "tcp", flows=400),
        flow(ids["web-1"], ids["api-1"], 8443, "tcp", flows=50),
        flow(ids["api-2"], ids["postgres"], 5432, "tcp", day=1, flows=20),
        flow(ids["prometheus"], ids["api-1"], 9100, "tcp", day=1, flows=1440),
        flow(ids["lambda-a"], ids["redis"], 6379, "tcp", flows=3, rejected=3),
    ]


@pytest.fixture
def edges_file(tmp_path: Path, inventory: Inventory) -> Path:
    return write_edges(edges_frame(sample_edges(inventory), inventory), tmp_path / "edges.parquet")


def run(*args: str) -> int:
    return main(["graph", *args])


def test_writes_each_format(
    edges_file: Path, inventory_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("g.graphml", "g.json", "g.dot", "g.svg", "g.png"):
        out = tmp_path / "out" / name
        assert run(str(edges_file), "--inventory", str(inventory_dir), "--out", str(out)) == 0
        assert out.is_file()
        captured = capsys.readouterr()
        assert captured.out.strip() == str(out)
        assert ": 5 security groups, 1 outside, 5 edges." in captured.err
    graph = nx.read_graphml(tmp_path / "out" / "g.graphml")
    names = sorted(d["name"] for _, d in graph.nodes(data=True))
    assert names == ["api", "internet", "monitoring", "postgres", "web", "web-alb"]
    texts = [t.text for t in ET.parse(tmp_path / "out" / "g.svg").getroot().iter()]
    assert "monitoring" in texts
    assert "tcp/9100" in texts
    assert (tmp_path / "out" / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "out" / "g.dot").read_text("utf-8").startswith("digraph")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "g.dot",
        "g.graphml",
        "g.json",
        "g.png",
        "g.svg",
    ]


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_rejected_only_edges_on_request(
    edges_file: Path, inventory_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "graph.json"
    assert run(str(edges_file), "--inventory", str(inventory_dir), "--out", str(out), "-q") == 0
    assert not any(e["rejected_only"] for e in _json(out)["edges"])
    assert {n["name"] for n in _json(out)["nodes"]}.isdisjoint({"redis", "reports-lambda"})
    args = [str(edges_file), "--inventory", str(inventory_dir), "--out", str(out)]
    assert run(*args, "--include-rejected", "-q") == 0
    rejected = [e for e in _json(out)["edges"] if e["rejected_only"]]
    assert [(e["ports"], e["rejected"]) for e in rejected] == [(["tcp/6379"], 3)]


def test_level_format_and_window(edges_file: Path, inventory_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "graph.txt"
    args = [str(edges_file), "--inventory", str(inventory_dir), "--out", str(out), "-q"]
    assert run(*args, "--level", "eni", "--format", "json", "--since", "2026-11-17") == 0
    data = _json(out)
    assert data["graph"]["level"] == "eni"
    names = sorted(n["name"] for n in data["nodes"])
    assert names == ["api-1", "api-2", "postgres", "prometheus"]
    assert run(*args, "--level", "subnet", "--format", "json", "--until", "2026-11-17") == 0
    assert {n["kind"] for n in _json(out)["nodes"]} == {"subnet", "internet"}


def test_usage_errors(
    edges_file: Path, inventory_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = [str(edges_file), "--inventory", str(inventory_dir)]
    assert run(*base, "--out", str(tmp_path / "g.json"), "--level", "vpc") == 2
    assert "--level: expected one of security_group, eni, subnet, found 'vpc'" in (
        capsys.readouterr().err
    )
    assert run(*base, "--out", str(tmp_path / "graph.txt")) == 2
    assert "--format: expected one of graphml, json, dot, svg, png" in capsys.readouterr().err
    assert run(*base, "--out", str(tmp_path / "g.svg"), "--format", "jpeg") == 2
    assert "found 'jpeg'" in capsys.readouterr().err
    missing = tmp_path / "nope.parquet"
    args = [str(missing), "--inventory", str(inventory_dir), "--out", str(tmp_path / "g.svg")]
    assert run(*args) == 2
    assert "nope.parquet" in capsys.readouterr().err
    assert not any(p.suffix in (".svg", ".json") for p in tmp_path.iterdir())


def test_help_teaches() -> None:
    from typer.testing import CliRunner

    from zt_flows.cli import app

    result = CliRunner().invoke(app, ["graph", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    for phrase in ("identity", "security_group", "graphml", "--include-rejected", "Examples"):
        assert phrase in result.output


def test_collects_the_inventory_when_none_is_given(
    ec2_client: Any, aws_env: str, tmp_path: Path
) -> None:
    vpc = ec2_client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2_client.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    group = ec2_client.create_security_group(GroupName="web", Description="web", VpcId=vpc)
    created = ec2_client.create_network_interface(SubnetId=subnet, Groups=[group["GroupId"]])
    eni_id = created["NetworkInterface"]["NetworkInterfaceId"]
    # The rows name the ENI and its group as the conversations stage would; the names
    # can only come from the inventory the command collects.
    seen = inventory_of(
        [make_eni("?", "10.0.1.9", (group["GroupId"],), eni_id=eni_id, subnet="", vpc=PROD)],
        groups=[security_group(group["GroupId"], name="?", vpc=PROD)],
        vpcs=(),
    )
    rows = [flow("198.51.100.20", eni_id, 443, "tcp")]
    frame = edges_frame(rows, seen)
    edges = write_edges(frame, tmp_path / "edges.parquet")
    out = tmp_path / "graph.json"
    code = run(str(edges), "--out", str(out), "--endpoint-url", aws_env, "--region", "us-east-1")
    assert code == 0
    nodes = {n["id"]: n for n in _json(out)["nodes"]}
    assert nodes[group["GroupId"]]["name"] == "web"
    assert nodes[group["GroupId"]]["vpc_id"] == vpc


# The sample VPC of SCENARIO.md at the security-group level: (client, server) -> ports.
SCENARIO_EDGES = {
    ("internet", "web-alb"): ["tcp/443"],
    ("internet", "bastion"): ["tcp/22"],
    ("ci-runner", "bastion"): ["tcp/22"],
    ("web-alb", "web"): ["tcp/8080"],
    ("bastion", "web"): ["tcp/22"],
    ("web", "api"): ["tcp/8443"],
    ("reports-lambda", "api"): ["tcp/8443"],
    ("weekly-batch", "api"): ["tcp/8443"],
    ("api", "postgres"): ["tcp/5432"],
    ("api", "redis"): ["tcp/6379"],
    ("worker", "redis"): ["tcp/6379"],
    ("api", "worker"): ["tcp/8081"],
    ("worker", "AMAZON"): ["tcp/443"],
    ("worker", "S3"): ["tcp/443"],
    ("api", "S3"): ["tcp/443"],
    ("web", "internet"): ["tcp/443"],
    ("monitoring", "bastion"): ["tcp/9100"],
    ("monitoring", "web"): ["tcp/9100"],
    ("monitoring", "api"): ["tcp/9100"],
    ("monitoring", "worker"): ["tcp/9100"],
    ("monitoring", "dns-resolver"): ["tcp/9100", "udp/53"],
    ("bastion", "dns-resolver"): ["udp/53"],
    ("web", "dns-resolver"): ["udp/53"],
    ("api", "dns-resolver"): ["udp/53"],
    ("worker", "dns-resolver"): ["udp/53"],
    ("weekly-batch", "dns-resolver"): ["udp/53"],
}


def test_sample_flow_logs_end_to_end(sample_dir: Path, tmp_path: Path) -> None:
    """Flow logs -> conversations -> `ztflows graph`: the scenario's graph, and a picture."""
    from zt_flows.conversations import build_conversations
    from zt_flows.engine import connect_engine
    from zt_flows.settings import Settings
    from zt_flows.sources import read_flow_logs

    settings = Settings()
    con = connect_engine(settings.engine)
    flows = read_flow_logs(sample_dir / "flowlogs", settings, con)
    inventory = load_inventory(sample_dir / "inventory")
    found = build_conversations(flows, inventory, settings.conversations, con)
    edges = write_edges(found.edges, tmp_path / "edges.parquet")
    inv = str(sample_dir / "inventory")

    out = tmp_path / "sample.json"
    assert run(str(edges), "--inventory", inv, "--out", str(out), "--include-rejected", "-q") == 0
    data = _json(out)
    name = {n["id"]: n["name"] for n in data["nodes"]}
    accepted = {
        (name[e["source"]], name[e["target"]]): e["ports"]
        for e in data["edges"]
        if not e["rejected_only"]
    }
    accepted.pop(("monitoring", "monitoring"), None)  # a host scraping itself, if logged
    assert accepted == SCENARIO_EDGES
    rejected = {
        (name[e["source"]], name[e["target"]]): e["ports"]
        for e in data["edges"]
        if e["rejected_only"]
    }
    assert rejected == {("reports-lambda", "redis"): ["tcp/6379"]}
    scans = next(
        e
        for e in data["edges"]
        if (name[e["source"]], name[e["target"]]) == ("internet", "web-alb")
    )
    assert {"tcp/23", "tcp/3389"} <= set(scans["rejected_ports"])

    picture = tmp_path / "sample.png"
    assert run(str(edges), "--inventory", inv, "--out", str(picture), "-q") == 0
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "sample.svg"
    assert run(str(edges), "--inventory", inv, "--out", str(svg), "-q") == 0
    texts = {t.text for t in ET.parse(svg).getroot().iter()}
    assert {client for client, _ in SCENARIO_EDGES} <= texts
    assert {port for ports in SCENARIO_EDGES.values() for port in ports} - {"tcp/9100"} <= texts
