"""The picture: SVG and PNG are well formed, self-contained, complete and readable."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from itertools import combinations

import networkx as nx
import pytest
from support.edges import frame as edges_frame
from support.graphs import PROD, estate, flow, sample_inventory, sample_rows
from support.inventory import eni, security_group
from support.inventory import inventory as inventory_of

from zt_flows.graph import build_graph, drop_rejected_only, render_graph
from zt_flows.graph.drawing import PNG_DPI
from zt_flows.graph.labels import node_title, ports_text
from zt_flows.graph.picture import draw_graph
from zt_flows.graph.placement import TAG_SIZE
from zt_flows.graph.scene import Box, Curve, Scene, Text, text_width

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def sample() -> nx.DiGraph:
    inventory = sample_inventory()
    return build_graph(edges_frame(sample_rows(), inventory), inventory, level="security_group")


@pytest.fixture(scope="module")
def large() -> nx.DiGraph:
    inventory, rows = estate()
    return build_graph(edges_frame(rows, inventory), inventory, level="security_group")


def svg_texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def test_svg_is_well_formed_and_names_everything(sample: nx.DiGraph) -> None:
    svg = render_graph(sample, "svg")
    texts = svg_texts(svg)
    for _, attrs in sample.nodes(data=True):
        assert node_title(attrs) in texts
    for group in ("web-alb", "web", "api", "worker", "postgres", "redis", "dns-resolver"):
        assert group in texts
    for *_, attrs in sample.edges(data=True):
        assert ports_text(attrs["ports"]) in texts
    for port in ("tcp/443", "tcp/8080", "tcp/8443", "tcp/5432", "tcp/6379", "udp/53", "tcp/22"):
        assert port in texts
    # The internet both calls in (left) and is called (right): drawn twice.
    assert texts.count("internet") >= 2


def test_svg_is_self_contained(sample: nx.DiGraph) -> None:
    text = render_graph(sample, "svg").decode("utf-8")
    assert text.startswith("<svg ")
    for forbidden in (
        "<!DOCTYPE",
        "<?xml",
        "<style",
        "href",
        "url(",
        "<image",
        "<script",
        "@import",
    ):
        assert forbidden not in text
    # The only address is the SVG namespace itself.
    assert text.count("http") == 1
    assert ' id="' not in text  # no ids to clash with the page it is inlined into


def test_png_signature_and_size(sample: nx.DiGraph) -> None:
    png = render_graph(sample, "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    scene = draw_graph(sample)
    assert abs(width - scene.width * PNG_DPI / 72) <= 2
    assert abs(height - scene.height * PNG_DPI / 72) <= 2
    assert 1000 < width < 6000
    assert 300 < height < 3000
    assert b"Software" not in png  # no matplotlib version in the metadata


def test_renders_are_identical(sample: nx.DiGraph) -> None:
    assert render_graph(sample, "svg") == render_graph(sample, "svg")
    assert render_graph(sample, "png") == render_graph(sample, "png")


def test_rejected_only_edges_are_dashed_and_can_be_hidden(sample: nx.DiGraph) -> None:
    scene = draw_graph(sample)
    red = [s for s in scene.shapes if isinstance(s, Curve) and s.stroke == "#dc2626"]
    assert red  # the legend's sample and the lambda → redis attempts
    assert all(curve.dash for curve in red)
    hidden = draw_graph(drop_rejected_only(sample))
    drawn_red = [s for s in hidden.shapes if isinstance(s, Curve) and s.stroke == "#dc2626"]
    assert len(drawn_red) == 1  # only the legend


def test_hostile_names_are_escaped_in_svg() -> None:
    hostile = 'x"/><script>alert(1)</script>&amp;${jndi}\nnext'
    inventory = inventory_of(
        [
            eni("bad", "10.0.0.1", ("sg-bad",), eni_id="eni-bad", subnet="", vpc=PROD),
            eni("ok", "10.0.0.2", ("sg-ok",), eni_id="eni-ok", subnet="", vpc=PROD),
        ],
        groups=[
            security_group("sg-bad", name=hostile, vpc=PROD),
            security_group("sg-ok", name="ok", vpc=PROD),
        ],
        vpcs=(),
    )
    rows = [flow("eni-bad", "eni-ok", 443, "tcp")]
    graph = build_graph(edges_frame(rows, inventory), inventory, level="security_group")
    svg = render_graph(graph, "svg")
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script"))
    assert node_title(graph.nodes["sg-bad"]) in svg_texts(svg)
    assert b"&lt;script&gt;" in svg
    assert b"&amp;amp;" in svg
    tooltips = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any(hostile.replace("\n", " ") in t for t in tooltips)
    render_graph(graph, "png")  # `$…$` must not be read as mathtext


def _text_box(text: Text) -> tuple[float, float, float, float]:
    width = text_width(text.text, text.size, text.bold, text.italic)
    left = {"start": text.x, "middle": text.x - width / 2, "end": text.x - width}[text.anchor]
    return left, text.y - text.size * 0.76, left + width, text.y + text.size * 0.24


def _overlap(a: tuple[float, ...], b: tuple[float, ...], slack: float = 0.5) -> bool:
    return (
        a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack
    )


def _bezier(curve: Curve, steps: int = 24) -> list[tuple[float, float]]:
    points, here = [], curve.start
    for c1, c2, end in curve.segments:
        for i in range(1, steps + 1):
            t = i / steps
            u = 1 - t
            points.append(
                tuple(
                    u**3 * here[k] + 3 * u * u * t * c1[k] + 3 * u * t * t * c2[k] + t**3 * end[k]
                    for k in (0, 1)
                )
            )
        here = end
    return points  # type: ignore[return-value]


def check_readable(scene: Scene) -> None:
    boxes = [s for s in scene.shapes if isinstance(s, Box)]
    texts = [s for s in scene.shapes if isinstance(s, Text)]
    frames = [(b.x, b.y, b.x + b.w, b.y + b.h) for b in boxes]
    for a, b in combinations(frames, 2):
        assert not _overlap(a, b), (a, b)
    for a, b in combinations(texts, 2):
        assert not _overlap(_text_box(a), _text_box(b)), (a.text, b.text)
    for text in texts:
        inside = [f for f in frames if _overlap(_text_box(text), f)]
        for frame in inside:  # a label is either outside every box or within its own
            box = _text_box(text)
            assert frame[0] <= box[0], (text.text, frame)
            assert box[2] <= frame[2], (text.text, frame)
    for curve in (s for s in scene.shapes if isinstance(s, Curve)):
        for x, y in _bezier(curve):
            for frame in frames:
                inner = (frame[0] + 1.5, frame[1] + 1.5, frame[2] - 1.5, frame[3] - 1.5)
                assert not (inner[0] < x < inner[2] and inner[1] < y < inner[3]), (x, y, frame)
    for left, top, right, bottom in frames:
        assert left >= 0
        assert top >= 0
        assert right <= scene.width
        assert bottom <= scene.height


def test_sample_picture_is_readable(sample: nx.DiGraph) -> None:
    check_readable(draw_graph(sample))


def test_forty_groups_are_readable(large: nx.DiGraph) -> None:
    assert large.number_of_nodes() >= 40
    scene = draw_graph(large)
    check_readable(scene)
    assert TAG_SIZE >= 7  # legible at 110 dpi
    assert scene.width < 3000
    assert scene.height < 1500


def test_other_levels_draw_too() -> None:
    inventory = sample_inventory()
    frame = edges_frame(sample_rows(), inventory)
    for level in ("eni", "subnet"):
        graph = build_graph(frame, inventory, level=level)  # type: ignore[arg-type]
        scene = draw_graph(graph)
        check_readable(scene)
        assert "api-1" in svg_texts(render_graph(graph, "svg")) or level == "subnet"


def test_empty_graph_draws() -> None:
    inventory = sample_inventory()
    graph = build_graph(edges_frame([], inventory), inventory, level="security_group")
    svg = render_graph(graph, "svg")
    assert "0 groups, 0 outside" in " ".join(svg_texts(svg))
    assert render_graph(graph, "png")[:4] == b"\x89PNG"
