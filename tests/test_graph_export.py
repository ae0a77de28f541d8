"""Exports: GraphML and JSON round-trips, DOT structure and escaping, atomic writes."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import pydot
import pytest
from support.edges import frame as edges_frame
from support.graphs import PROD, flow, sample_inventory, sample_rows
from support.inventory import eni, security_group
from support.inventory import inventory as inventory_of

from zt_flows.errors import OutputError
from zt_flows.graph import (
    GRAPH_FORMATS,
    build_graph,
    export_graph,
    format_for,
    graph_to_dot,
    render_graph,
)
from zt_flows.inventory.model import InterfaceRole

GOLDEN = Path(__file__).resolve().parent / "golden" / "graph"
HOSTILE = 'evil" ]; } digraph x { "a\\N <script>&amp; ${jndi:x}\nnext\\'


def small_graph() -> nx.DiGraph:
    groups = [
        security_group("sg-1", name="web-alb", vpc=PROD),
        security_group("sg-2", name="web", vpc=PROD),
        security_group("sg-3", name="postgres", vpc=PROD),
        security_group("sg-4", name="reports-lambda", vpc=PROD),
    ]
    enis = [
        eni(
            "alb-a",
            "10.0.0.10",
            ("sg-1",),
            eni_id="eni-1",
            subnet="subnet-a",
            vpc=PROD,
            role=InterfaceRole.LOAD_BALANCER,
        ),
        eni("web-1", "10.0.10.11", ("sg-2",), eni_id="eni-2", subnet="subnet-a", vpc=PROD),
        eni(
            "postgres",
            "10.0.20.5",
            ("sg-3",),
            eni_id="eni-3",
            subnet="subnet-b",
            vpc=PROD,
            role=InterfaceRole.DATABASE,
        ),
        eni(
            "lambda-a",
            "10.0.10.100",
            ("sg-4",),
            eni_id="eni-4",
            subnet="subnet-a",
            vpc=PROD,
            role=InterfaceRole.LAMBDA,
        ),
    ]
    inventory = inventory_of(enis, groups=groups, vpcs=())
    rows = [
        flow("198.51.100.20", "eni-1", 443, "tcp", flows=900),
        flow("eni-1", "eni-2", 8080, "tcp", flows=400),
        flow("eni-2", "eni-3", 5432, "tcp", day=1, flows=20),
        flow("eni-2", "aws_service:S3", 443, "tcp", flows=8),
        flow("eni-4", "eni-3", 5432, "tcp", flows=3, rejected=3),
    ]
    return build_graph(edges_frame(rows, inventory), inventory, level="security_group")


def hostile_graph() -> nx.DiGraph:
    groups = [
        security_group("sg-bad", name=HOSTILE, vpc=PROD),
        security_group("sg-ok", name="ok", vpc=PROD),
    ]
    enis = [
        eni("bad\x07bell", "10.0.0.1", ("sg-bad",), eni_id="eni-bad", subnet="", vpc=PROD),
        eni("ok", "10.0.0.2", ("sg-ok",), eni_id="eni-ok", subnet="", vpc=PROD),
    ]
    inventory = inventory_of(enis, groups=groups, vpcs=())
    rows = [flow("eni-bad", "eni-ok", 443, "tcp")]
    return build_graph(edges_frame(rows, inventory), inventory, level="security_group")


# --------------------------------------------------------------------------- a DOT reader

_TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(->)|([{}\[\];=,])|([A-Za-z_][A-Za-z0-9_]*))', re.S)


def _tokens(text: str) -> list[str]:
    found, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        assert match is not None, f"DOT syntax error at {text[position : position + 30]!r}"
        found.append(next(group for group in match.groups() if group is not None))
        position = match.end()
    return found


def _unquote(token: str) -> str:
    assert token.startswith('"'), token
    assert token.endswith('"'), token
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), token[1:-1])


def parse_dot(text: str) -> tuple[dict[str, dict[str, str]], list[tuple[str, str, dict[str, str]]]]:
    """A strict reader for the DOT subset graph_to_dot writes: nodes and edges."""
    tokens = _tokens(text)
    assert tokens[0] == "digraph"
    assert tokens[2] == "{"
    assert tokens[-1] == "}"
    nodes: dict[str, dict[str, str]] = {}
    edges: list[tuple[str, str, dict[str, str]]] = []
    i = 3

    def attrs() -> dict[str, str]:
        nonlocal i
        found: dict[str, str] = {}
        assert tokens[i] == "["
        i += 1
        while tokens[i] != "]":
            key, equals, value = tokens[i : i + 3]
            assert re.fullmatch(r"[A-Za-z_]+", key), key
            assert equals == "=", tokens[i : i + 3]
            found[key] = _unquote(value)
            i += 3
            if tokens[i] == ",":
                i += 1
        i += 1
        assert tokens[i] == ";"
        i += 1
        return found

    while i < len(tokens) - 1:
        token = tokens[i]
        if token in ("graph", "node", "edge"):
            i += 1
            attrs()
        elif token == "{":
            assert tokens[i + 1 : i + 5] == ["rank", "=", "same", ";"]
            i += 5
            while tokens[i] != "}":
                assert _unquote(tokens[i]) in nodes
                assert tokens[i + 1] == ";"
                i += 2
            i += 1
        elif tokens[i + 1] == "->":
            u, v = _unquote(token), _unquote(tokens[i + 2])
            i += 3
            edges.append((u, v, attrs()))
        else:
            i += 1
            nodes[_unquote(token)] = attrs()
    return nodes, edges


# --------------------------------------------------------------------------- tests


def test_graphml_round_trip(tmp_path: Path) -> None:
    graph = small_graph()
    path = export_graph(graph, tmp_path / "g.graphml", "graphml")
    back = nx.read_graphml(path)
    assert list(back) == list(graph)
    assert list(back.edges) == list(graph.edges)
    assert back.graph["level"] == "security_group"
    web = back.nodes["sg-2"]
    assert web["name"] == "web"
    assert web["members"] == 1
    assert isinstance(web["members"], int)
    assert web["external"] is False
    assert web["groups"] == "sg-2"
    users = back.edges["internet", "sg-1"]
    assert users["ports"] == "tcp/443"
    assert users["flows"] == 900
    assert users["rejected_only"] is False
    assert users["first_seen"] == "2026-11-16T08:00:00Z"
    assert back.edges["sg-4", "sg-3"]["rejected_only"] is True
    for node, attrs in graph.nodes(data=True):
        for key, value in attrs.items():
            expected = ",".join(value) if isinstance(value, list) else value
            assert back.nodes[node][key] == expected, (node, key)


def test_json_round_trip_keeps_lists(tmp_path: Path) -> None:
    graph = small_graph()
    path = export_graph(graph, tmp_path / "g.json", "json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert sorted(data) == ["directed", "edges", "graph", "multigraph", "nodes"]
    back = nx.node_link_graph(data, edges="edges")
    assert isinstance(back, nx.DiGraph)
    assert list(back.nodes(data=True)) == list(graph.nodes(data=True))
    assert list(back.edges(data=True)) == list(graph.edges(data=True))
    assert back.graph == graph.graph


def test_dot_matches_golden_and_parses() -> None:
    text = graph_to_dot(small_graph())
    golden = GOLDEN / "small.dot"
    if os.environ.get("ZTFLOWS_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")
    nodes, edges = parse_dot(text)
    assert list(nodes) == list(small_graph())
    assert nodes["sg-1"]["label"] == "web-alb\n1 ENI · load balancer"
    assert nodes["internet"]["shape"] == "ellipse"
    assert nodes["sg-1"]["shape"] == "box"
    by_pair = {(u, v): a for u, v, a in edges}
    assert by_pair["sg-1", "sg-2"]["label"] == "tcp/8080"
    assert by_pair["sg-4", "sg-3"]["style"] == "dashed"
    assert "style" not in by_pair["sg-1", "sg-2"]
    assert len(edges) == small_graph().number_of_edges()


def test_dot_escapes_hostile_names() -> None:
    graph = hostile_graph()
    text = graph_to_dot(graph)
    nodes, edges = parse_dot(text)  # would fail on an unescaped quote or brace
    assert set(nodes) == {"sg-bad", "sg-ok"}
    assert len(edges) == 1
    one_line = 'evil" ]; } digraph x { "a\\N <script>&amp; ${jndi:x} next\\'
    # The name is one line (its newline became a space) and every character survives;
    # the label shortens it.
    assert nodes["sg-bad"]["tooltip"] == one_line
    assert nodes["sg-bad"]["label"].split("\n")[0] == one_line[:39] + "…"
    assert len(re.findall(r"^\s*digraph", text, re.M)) == 1  # the others are inside strings
    assert '\\"' in text
    assert "\\\\N" in text


def _pydot_parse(
    text: str,
) -> tuple[dict[str, pydot.Node], list[tuple[str, str, pydot.Edge]]]:
    """The DOT read by pydot's grammar (not ours): nodes by unquoted name, and edges."""
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None
    assert len(graphs) == 1
    (graph,) = graphs
    nodes = {n.get_name()[1:-1]: n for n in graph.get_nodes() if n.get_name().startswith('"')}
    edges = [(e.get_source()[1:-1], e.get_destination()[1:-1], e) for e in graph.get_edges()]
    return nodes, edges


def test_dot_reads_back_through_an_independent_parser() -> None:
    small = small_graph()
    nodes, edges = _pydot_parse(graph_to_dot(small))
    assert sorted(nodes) == sorted(small.nodes)
    assert sorted((u, v) for u, v, _ in edges) == sorted(small.edges)
    by_pair = {(u, v): e for u, v, e in edges}
    assert by_pair["sg-1", "sg-2"].get("label") == '"tcp/8080"'
    assert by_pair["sg-4", "sg-3"].get("style") == '"dashed"'

    nodes, edges = _pydot_parse(graph_to_dot(hostile_graph()))
    assert sorted(nodes) == ["sg-bad", "sg-ok"]  # the quote and braces stayed in strings
    assert len(edges) == 1
    assert nodes["sg-bad"].get("tooltip") == (
        '"evil\\" ]; } digraph x { \\"a\\\\N <script>&amp; ${jndi:x} next\\\\"'
    )


def test_dot_escapes_node_ids() -> None:
    graph = nx.DiGraph(level="eni")
    graph.add_node('a"b\\\nc', name="x", kind="eni", external=False, tier=1, tier_name="app")
    graph.add_node("d", name="y", kind="eni", external=False, tier=2, tier_name="app")
    graph.add_edge('a"b\\\nc', "d", ports=["tcp/1"], rejected_only=False, flows=1)
    nodes, edges = parse_dot(graph_to_dot(graph))
    assert list(nodes) == ['a"b\\\nc', "d"]
    assert edges[0][:2] == ('a"b\\\nc', "d")


def test_graphml_and_json_carry_hostile_names(tmp_path: Path) -> None:
    graph = hostile_graph()
    back = nx.read_graphml(export_graph(graph, tmp_path / "g.graphml", "graphml"))
    assert back.nodes["sg-bad"]["name"] == HOSTILE
    # XML 1.0 cannot carry a BEL character: it is replaced, and the file still parses.
    raw = (tmp_path / "g.graphml").read_bytes()
    assert b"\x07" not in raw
    ET.fromstring(raw)
    data = json.loads(export_graph(graph, tmp_path / "g.json", "json").read_text("utf-8"))
    assert [n["name"] for n in data["nodes"] if n["id"] == "sg-bad"] == [HOSTILE]


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_exports_are_deterministic(fmt: str) -> None:
    inventory = sample_inventory()
    rows = sample_rows()
    one = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    two = build_graph(edges_frame(rows[::-1], inventory), inventory, level="security_group")
    assert render_graph(one, fmt) == render_graph(two, fmt)  # type: ignore[arg-type]


def test_export_replaces_atomically(tmp_path: Path) -> None:
    target = tmp_path / "graph.dot"
    target.write_text("old", encoding="utf-8")
    export_graph(small_graph(), target, "dot")
    assert target.read_text(encoding="utf-8").startswith("digraph")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.dot"]


def test_failed_export_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "graph.svg"
    target.mkdir()
    (target / "keep").write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match="cannot write"):
        export_graph(small_graph(), target, "svg")
    assert [p.name for p in tmp_path.iterdir()] == ["graph.svg"]
    assert (target / "keep").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.graphml", "graphml"),
        ("a.JSON", "json"),
        ("a.dot", "dot"),
        ("a.gv", "dot"),
        ("a.svg", "svg"),
        ("a.png", "png"),
        ("a.txt", None),
        ("a", None),
    ],
)
def test_format_for(name: str, fmt: str | None) -> None:
    assert format_for(name) == fmt


def test_every_format_survives_characters_utf8_and_xml_cannot_carry() -> None:
    groups = [
        security_group("sg-bad", name="nul\x00 surrogate\udc80 bell\x07", vpc=PROD),
        security_group("sg-ok", name="ok", vpc=PROD),
    ]
    enis = [
        eni("b", "10.0.0.1", ("sg-bad",), eni_id="eni-bad", subnet="", vpc=PROD),
        eni("o", "10.0.0.2", ("sg-ok",), eni_id="eni-ok", subnet="", vpc=PROD),
    ]
    inventory = inventory_of(enis, groups=groups, vpcs=())
    rows = [flow("eni-bad", "eni-ok", 443, "tcp")]
    graph = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    outputs = {fmt: render_graph(graph, fmt) for fmt in GRAPH_FORMATS}
    for fmt in ("graphml", "svg"):
        ET.fromstring(outputs[fmt])
    for fmt in ("json", "dot", "svg", "graphml"):
        text = outputs[fmt].decode("utf-8")
        assert "\x00" not in text
    assert json.loads(outputs["json"])["nodes"][0]["name"].startswith("nul")
    nodes, _ = parse_dot(outputs["dot"].decode("utf-8"))
    assert nodes["sg-bad"]["label"].startswith("nul surrogate")
    assert outputs["png"][:4] == b"\x89PNG"


def test_written_files_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = export_graph(small_graph(), tmp_path / "g.json", "json")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
