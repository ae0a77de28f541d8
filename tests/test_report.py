"""The report (report.md, report.html): golden files, names, escaping, determinism.

The input is a small realistic ReportInput: the hand-made sample plan (its ids
translated to those of the sample inventory, so that names resolve), the sample
inventory, findings and an edge frame written for the sample VPC, and the ingest and
conversation summaries of a run over sample_data/. Regenerate the golden files with
``ZTFLOWS_UPDATE_GOLDEN=1`` and review the diff.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from support.edges import edge, frame
from support.inventory import eni, inventory, rule, security_group

from zt_flows.conversations.build import ConversationReport
from zt_flows.errors import Location
from zt_flows.findings import Finding, make_finding
from zt_flows.inventory import load_inventory
from zt_flows.inventory.model import Inventory, NetworkInterface
from zt_flows.recommend.plan import Plan, read_plan
from zt_flows.report import (
    ReportInput,
    render_report,
    report_html,
    report_markdown,
)
from zt_flows.report import sections as report_sections
from zt_flows.report.html import VENDORED, scripts
from zt_flows.report.sections import graph_svg, security_group_graph
from zt_flows.report.timeline import ConversationHours
from zt_flows.sources.model import IngestSummary, SkippedInput, VersionCount

TESTS = Path(__file__).resolve().parent
SAMPLE_DATA = TESTS.parent / "sample_data"
PLANS = TESTS / "fixtures" / "plans"
GOLDEN = TESTS / "golden" / "report"
# The hand-made plan's ENIs, by the Name tag they carry in the sample inventory.
PLAN_ENIS = {
    "101": "alb-a", "102": "alb-b", "103": "bastion", "104": "web-1", "105": "web-2",
    "106": "api-1", "107": "api-2", "108": "worker-1", "109": "batch", "10a": "lambda-a",
    "10b": "lambda-b", "10c": "postgres", "10d": "redis", "10e": "prometheus", "10f": "dns",
    "118": "worker-1b",
}  # fmt: skip
PLAN_VPCS = {"vpc-0c41f5a2b7d3e9001": "web", "vpc-0c41f5a2b7d3e9002": "ci-runner"}
# A tiny stand-in picture: the golden files must not change when the graph module's
# drawing does (the real picture is checked in test_report_browser.py).
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="240pt" height="60pt" viewBox="0 0 240 60"'
    ' role="img" aria-label="Security groups"><title>Security groups</title>'
    '<rect x="10" y="10" width="80" height="40" fill="#dbeafe" stroke="#1d4ed8"/>'
    '<text x="50" y="34" font-size="10" text-anchor="middle">web-alb</text>'
    '<rect x="150" y="10" width="80" height="40" fill="#dcfce7" stroke="#15803d"/>'
    '<text x="190" y="34" font-size="10" text-anchor="middle">web</text>'
    '<path d="M90 30 L150 30" stroke="#4b5563" fill="none"/></svg>'
)


def sample_inventory() -> Inventory:
    return load_inventory(SAMPLE_DATA / "inventory")


def sample_plan(inv: Inventory, tmp: Path) -> Plan:
    """sample_plan.json with its ENI, group and VPC ids replaced by the inventory's."""
    text = (PLANS / "sample_plan.json").read_text(encoding="utf-8")
    by_name = {e.name: e.id for e in inv.interfaces.values()}
    for suffix, name in PLAN_ENIS.items():
        text = text.replace(f"eni-0a1b2c3d4e5f00{suffix}", by_name[name])
    groups = {(g.name, g.vpc_id): g.id for g in inv.security_groups.values()}
    vpcs = {
        plan_vpc: next(g.vpc_id for g in inv.security_groups.values() if g.name == name)
        for plan_vpc, name in PLAN_VPCS.items()
    }
    for group in json.loads(text)["security_groups"]:
        new_id = groups[group["name"], vpcs[group["vpc_id"]]]
        text = text.replace(group["group_id"], new_id)
    for plan_vpc, vpc in vpcs.items():
        text = text.replace(plan_vpc, vpc)
    path = tmp / "plan.json"
    path.write_text(text, encoding="utf-8")
    return read_plan(path)


def sample_edges(inv: Inventory) -> pl.DataFrame:
    n = {e.name: e for e in inv.interfaces.values()}
    mib = 1024 * 1024
    return frame(
        [
            edge("71.58.218.164", n["alb-a"], 443, flows=568, bytes_=6 * mib, day=0),
            edge("71.58.218.164", n["alb-b"], 443, flows=551, bytes_=5 * mib, day=1),
            edge(n["alb-a"], n["web-1"], 8080, flows=693, bytes_=18 * mib, day=0),
            edge(n["alb-b"], n["web-2"], 8080, flows=715, bytes_=19 * mib, day=1),
            edge(n["web-1"], n["api-1"], 8443, flows=547, bytes_=7 * mib, day=0),
            edge(n["api-1"], n["postgres"], 5432, flows=1079, bytes_=33 * mib, day=0),
            edge(n["api-1"], n["postgres"], 5432, flows=1101, bytes_=34 * mib, day=1),
            edge(n["api-2"], n["redis"], 6379, flows=400, bytes_=2 * mib, day=2),
            edge(n["worker-1"], "aws_service:S3:52.216.8.29", 443, flows=254, bytes_=15 * mib),
            edge(n["web-1"], n["dns"], 53, "udp", flows=396, server_address="10.0.30.53"),
            edge(n["prometheus"], n["web-1"], 9100, flows=295, bytes_=4 * mib, day=2),
            edge(n["batch"], n["api-2"], 8443, flows=457, bytes_=2 * mib, day=1),
            edge(n["ci-runner"], n["bastion"], 22, flows=159, day=0),
            edge("198.51.100.7", n["bastion"], 22, flows=96, day=2),
            edge(n["lambda-a"], n["redis"], 6379, flows=41, rejected=41, day=0),
            edge("185.224.240.194", n["bastion"], 3389, flows=12, rejected=12, day=1),
        ]
    )


def sample_findings(inv: Inventory, plan: Plan) -> tuple[Finding, ...]:
    g = {group.name: group.group_id for group in plan.security_groups}
    e = {i.name: i.id for i in inv.interfaces.values()}
    ssh = "sgr-0e7d9c1b3a5f7000e"
    return (
        make_finding("admin-port-from-cidr", ssh, "bastion: ingress tcp/22 from 0.0.0.0/0",
                     group_id=g["bastion"], rule_id=ssh, details=[("ports", "22")]),
        make_finding("public-ingress", ssh, "bastion: ingress tcp/22 from 0.0.0.0/0: open to"
                     " every address", group_id=g["bastion"], rule_id=ssh),
        make_finding("data-tier-internet-egress", g["postgres"], "postgres: a data tier with"
                     " egress all traffic to 0.0.0.0/0", group_id=g["postgres"],
                     details=[("rules", "sgr-0e7d9c1b3a5f7002b")]),
        make_finding("internet-probes", e["bastion"], "2 internet addresses completed"
                     " handshakes on tcp/22 without a session (25 flows); the plan blocks them",
                     group_id=g["bastion"], details=[("sources", 2), ("flows", 25)]),
        make_finding("all-protocols-rule", "sgr-0e7d9c1b3a5f70034", "legacy-allow-vpc: ingress"
                     " all traffic from 10.0.0.0/16", group_id=g["legacy-allow-vpc"],
                     rule_id="sgr-0e7d9c1b3a5f70034"),
        make_finding("internal-rejects", e["redis"], "lambda-a tried redis on tcp/6379 and was"
                     " rejected (41 flows on 1 day)",
                     details=[("clients", e["lambda-a"]), ("flows", 41)]),
        make_finding("unlogged-members", g["ci-runner"], "ci-runner: 1 of 1 members have no"
                     " flow-log records", group_id=g["ci-runner"],
                     details=[("unlogged", e["ci-runner"])]),
        make_finding("unused-rule", "sgr-0e7d9c1b3a5f70023", "web-alb: ingress tcp/80 from"
                     " 0.0.0.0/0: no traffic in the window (3 days)", group_id=g["web-alb"],
                     rule_id="sgr-0e7d9c1b3a5f70023"),
        make_finding("unattached-group", g["jenkins-old"], "jenkins-old is attached to no ENI",
                     group_id=g["jenkins-old"]),
        make_finding("low-confidence-rule",
                     f"{g['weekly-batch']}/egress:tcp:8443-8443:security_group:{g['api']}",
                     "weekly-batch: egress tcp/8443 to api rests on traffic of 1 day",
                     group_id=g["weekly-batch"]),
        make_finding("internet-rejects", e["bastion"], "1 internet address was rejected on"
                     " bastion: tcp/3389 (12 flows)", details=[("ports", "tcp/3389")]),
    )  # fmt: skip


def sample_ingest() -> IngestSummary:
    return IngestSummary(
        source="sample_data/flowlogs",
        listed=72, pruned=0, objects=72, parquet_objects=48, text_objects=24,
        bytes=2_127_345, downloaded=0, downloaded_bytes=0, cached=0, local=72,
        records=97_733, flows=96_557, nodata=1_171, skipdata=5,
        versions=(VersionCount(8, 65_547), VersionCount(5, 32_186)),
        first_start=datetime(2026, 11, 16, tzinfo=UTC),
        last_end=datetime(2026, 11, 18, 23, 59, 59, tzinfo=UTC),
        skipped=(),
    )  # fmt: skip


def sample_conversations(seconds: float = 1.8) -> ConversationReport:
    return ConversationReport(
        input_records=96_557, used_records=93_979,
        records_by_method=(("fan_in", 250), ("listener", 37_100), ("port_heuristic", 11_300),
                           ("tcp_flags", 45_329)),
        requests_by_method=(("fan_in", 129), ("listener", 18_559), ("port_heuristic", 5_648),
                            ("tcp_flags", 23_038)),
        edges=948, accepted_edges=568, rejected_only_edges=380, heuristic_edges=97,
        heuristic_flows=2_953, flows=30_192, distinct_addresses=5_518, seconds=seconds,
    )  # fmt: skip


def sample_timelines(inv: Inventory) -> tuple[ConversationHours, ...]:
    """Two conversations hour by hour: the API's pool to the database (every hour, busier
    by day) and the office's SSH sessions (a few working hours)."""
    n = {e.name: e.id for e in inv.interfaces.values()}
    start = datetime(2026, 11, 16, tzinfo=UTC)
    pool = tuple(
        (start + timedelta(hours=h), 10 + 20 * (8 <= h % 24 < 18), 100_000 * (h % 7 + 1))
        for h in range(72)
    )
    ssh = tuple((start + timedelta(hours=h), 4, 9_000) for h in (33, 34, 57))
    return (
        ConversationHours("eni", n["api-1"], None, "eni", n["postgres"], None, 6, 5432,
                          2180, pool),
        ConversationHours("internet", "198.51.100.7", None, "eni", n["bastion"], None, 6, 22,
                          96, ssh),
    )  # fmt: skip


def sample_input(tmp: Path, *, picture: str | None = PICTURE) -> ReportInput:
    inv = sample_inventory()
    plan = sample_plan(inv, tmp)
    silent = {e.id for e in inv.interfaces.values() if e.name == "ci-runner"}
    return ReportInput(
        plan=plan,
        findings=sample_findings(inv, plan),
        edges=sample_edges(inv),
        inventory=inv,
        logged_interfaces=frozenset(inv.interfaces) - silent,
        ingest=sample_ingest(),
        conversations=sample_conversations(),
        graph_svg=picture,
        timelines=sample_timelines(inv),
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> ReportInput:
    return sample_input(tmp_path_factory.mktemp("plan"))


@pytest.fixture(scope="module")
def written(data: ReportInput, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return render_report(data, tmp_path_factory.mktemp("report"))


# --------------------------------------------------------------------------- golden


def without_vendored(text: str) -> str:
    """The page with each vendored library's text replaced by its name and digest: the
    golden file follows our page, not a library release (its hash stays in the CSP)."""
    for name, code in zip(VENDORED, scripts(), strict=False):
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
        assert text.count(code) == 1, name
        text = text.replace(code, f"/* vendor/{name} sha256 {digest} */")
    return text


@pytest.mark.parametrize("index", [0, 1], ids=["report.md", "report.html"])
def test_matches_golden_files(written: tuple[Path, Path], index: int) -> None:
    path = written[index]
    golden = GOLDEN / path.name
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".html":
        text = without_vendored(text)
    if os.environ.get("ZTFLOWS_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{path.name} differs from {golden}"


def test_render_writes_both_files_atomically(data: ReportInput, tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    md_path, html_path = render_report(data, out)
    assert (md_path.name, html_path.name) == ("report.md", "report.html")
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.md"]  # no temp left
    assert md_path.read_text(encoding="utf-8") == report_markdown(data)
    assert html_path.read_text(encoding="utf-8") == report_html(data)
    assert md_path.stat().st_mode & 0o777 == 0o644


def test_the_report_draws_the_graph_it_is_given(
    data: ReportInput, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The analysis builds the graph once, for its picture; the report takes that one."""
    built = security_group_graph(data.edges, data.inventory)
    expected = (report_markdown(data), report_html(data))

    def rebuilt(*_: object, **__: object) -> None:
        raise AssertionError("the report built the graph again")

    monkeypatch.setattr(report_sections, "build_graph", rebuilt)
    given = replace(data, graph=built)
    assert (report_markdown(given), report_html(given)) == expected
    with pytest.raises(AssertionError, match="again"):
        report_markdown(data)


# --------------------------------------------------------------------------- content


def test_headline_comes_first_with_exposure_and_verification(data: ReportInput) -> None:
    md = report_markdown(data)
    html = report_html(data)
    for text, findings in ((md, "## Findings"), (html, "<h2>Findings</h2>")):
        assert text.index("14,682") < text.index(findings)
        assert "2026-11-16 to 2026-11-18 (3 days)" in text
        assert "99.1% fewer" in text
        assert "Replayed 64 observed accepted conversations" in text
        assert "Blocked on purpose: 2 conversations." in text
        assert "probe: internet handshake without a session on an admin port" in text
    assert "| allowed (source, ENI, protocol, port) combinations | 14,682 | 131 |" in md
    assert "| internet-reachable ENI:ports | 5 | 3 |" in md
    assert "| … weighted by the share of public IPv4 space they admit | 5.00 | 2.00 |" in md
    assert "(2 closed, 1 narrowed); weighted by the public space they admit:" in md
    bastion = next(e.id for e in data.inventory.interfaces.values() if e.name == "bastion")
    alb = next(e.id for e in data.inventory.interfaces.values() if e.name == "alb-a")
    # SSH is narrowed to the office's two addresses, not closed: they still reach it.
    row = f"| bastion (`{bastion}`, instance) | tcp/22 | all IPv4 | 256 IPv4 addresses | narrowed |"
    assert row in md
    assert f"| alb-a (`{alb}`, load balancer) | tcp/80 | all IPv4 | – | **closed** |" in md
    assert "IPv4 5.00 → 2.00, IPv6 2.00 → 2.00" in html


def test_newly_reachable_ports_stand_out(data: ReportInput) -> None:
    plan = data.plan
    web1 = next(e.id for e in data.inventory.interfaces.values() if e.name == "web-1")
    after = replace(
        plan.exposure.after,
        internet_reachable=(*plan.exposure.after.internet_reachable, f"{web1}:tcp/8080"),
    )
    opened = replace(data, plan=replace(plan, exposure=replace(plan.exposure, after=after)))
    md = report_markdown(opened)
    # An entry without its measure (as in a plan written before reach was measured) still
    # stands out; the weights are left out rather than shown wrong.
    assert "(2 closed, 1 narrowed, 1 newly reachable)" in md
    assert f"| web-1 (`{web1}`, instance) | tcp/8080 | – | reachable | **newly reachable** |" in md
    assert "weighted by the public space" not in md
    html = report_html(opened)
    assert '<div class="card bad"><div class="label">internet-reachable ENI:ports' in html
    assert '<span class="opened">newly reachable</span>' in html


def test_names_are_shown_with_ids_beside_them(data: ReportInput) -> None:
    md = report_markdown(data)
    api = next(g.id for g in data.inventory.security_groups.values() if g.name == "api")
    web1 = next(e.id for e in data.inventory.interfaces.values() if e.name == "web-1")
    assert f"### api (`{api}`)" in md
    assert f"web-1 (`{web1}`)" in md
    # An address of a known ENI is named after it (the CI runner in the peered VPC).
    assert "ci-runner (`10.1.5.20`)" in md
    # Finding subjects: the rule, in words, and its group.
    assert "ingress tcp/22 from 0.0.0.0/0 (anywhere) (`sgr-0e7d9c1b3a5f7000e`) in bastion" in md
    assert "egress tcp/8443 to api (" in md  # a rule of the plan named by its key
    html = report_html(data)
    assert f'<span class="name">web-1</span> <code class="id">{web1}</code>' in html


def test_every_section_in_both_formats(data: ReportInput) -> None:
    md = report_markdown(data)
    html = report_html(data)
    for heading in ("Exposure", "Verification", "Findings", "Changes by security group",
                    "Security-group graph", "Top talkers", "Coverage"):  # fmt: skip
        assert f"## {heading}" in md
        assert f"<h2>{heading}</h2>" in html
    for severity, count in (("critical", 1), ("high", 3), ("medium", 3), ("low", 2), ("info", 2)):
        assert f"### {severity.capitalize()} ({count})" in md
        assert f"{severity} <b>{count}</b>" in html
    assert "| critical | high | medium | low | info |" in md
    # Every group of the plan has a section; quota and coverage notes are kept.
    for group in data.plan.security_groups:
        assert f"### {group.name} (`{group.group_id}`)" in md
    assert "> No flow logs in the shared-services VPC." in md
    assert "No flow-log records for its members: its rules are kept as they are." in md
    assert "Attached to no ENI: there was no traffic to observe." in md


def test_rule_changes_carry_their_evidence(data: ReportInput) -> None:
    md = report_markdown(data)
    row = next(line for line in md.splitlines() if "egress tcp/8080 to web (" in line)
    for evidence in ("**add**", "96,412", "6.9 GiB", "2026-11-16 00:00 UTC",
                     "2026-11-18 23:59 UTC", "3/3", "alb-a (", "alb-b (", "web-1 (",
                     "web-2 ("):  # fmt: skip
        assert evidence in row
    low = next(line for line in md.splitlines() if "ingress tcp/8443 from weekly-batch" in line)
    assert "**add** (low confidence)" in low
    assert "| 1/3 |" in low
    removed = next(line for line in md.splitlines() if "`sgr-0e7d9c1b3a5f70005`" in line)
    assert removed.startswith("| ~~remove~~ `sgr-0e7d9c1b3a5f70005` | ingress tcp/8443 from")
    assert "carried by" in removed
    html = report_html(data)
    assert '<span class="act act-add">add</span><span class="lowconf">low confidence</span>' in html


def test_top_talkers_and_coverage(data: ReportInput) -> None:
    md = report_markdown(data)
    talkers = md[md.index("### By bytes") : md.index("### By flows")]
    first = talkers.splitlines()[4]
    assert first.startswith("| 1 | api-1 (")
    assert "postgres (" in first
    assert "67.0 MiB" in first
    assert "S3 (`pl-" not in talkers  # a sample edge without a prefix list label
    coverage = md[md.index("## Coverage") :]
    for fact in ("72 (48 Parquet, 24 text), 2.0 MiB", "| NODATA records | 1,171", "| SKIPDATA",
                 "| version 5 | 32,186 |", "| version 8 | 65,547 |",
                 "97 conversations of 948 rest on port heuristics (2,953 of 30,192 flows)",
                 "17 of 18 ENIs in the inventory wrote flow-log records in the window; 1 ENI"
                 " wrote none", "Inventory snapshots taken: 2026-11-16 00:00 UTC,"):  # fmt: skip
        assert fact in coverage
    runner = next(e.id for e in data.inventory.interfaces.values() if e.name == "ci-runner")
    assert f"| ci-runner (`{runner}`) | instance |" in coverage


def test_graph_picture_is_inlined_and_drawn_by_default(data: ReportInput) -> None:
    html = report_html(data)
    assert '<figure class="picture"><svg xmlns="http://www.w3.org/2000/svg"' in html
    drawn = report_html(replace(data, graph_svg=None))
    picture = graph_svg(security_group_graph(data.edges, data.inventory))
    assert picture is not None
    assert picture.strip() in drawn
    assert ">web-alb</text>" in drawn
    assert ">postgres</text>" in drawn
    assert "The picture is in `report.html`." in report_markdown(data)
    md = report_markdown(replace(data, graph_svg=None))
    assert re.search(r"\| web-alb \(`sg-[0-9a-f]+`\) \| web \(`sg-[0-9a-f]+`\) \| tcp/8080 \|", md)


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [(name, value or "") for name, value in attrs if name in ("src", "href")]


def test_html_needs_nothing_from_outside(data: ReportInput) -> None:
    html = report_html(replace(data, graph_svg=None))  # with the real picture
    parser = Links()
    parser.feed(html)
    assert parser.links, "the page has its section links"
    for name, value in parser.links:
        assert (name, value[:1]) == ("href", "#") or value.startswith("data:"), (name, value)
    # The scripts are ours and the vendored library's (whose comments name its home page;
    # the CSP's default-src 'none' refuses any load or connection a script might try).
    page = html
    for code in scripts():
        page = page.replace(code, "")
    text = page.lower().replace('xmlns="http://www.w3.org/2000/svg"', "")  # a name, not a load
    for outside in ("http:", "https:", "//", "@import", "url(", "<link", " src="):
        assert outside not in text, outside
    assert re.findall(r"<script[^>]*>", page) == [
        '<script type="application/json" id="graph-data">',
        *["<script>"] * len(scripts()),
    ]
    report_js = scripts()[-1]
    for outside in ("http", "fetch(", "xmlhttprequest", "innerhtml", "eval(", "new function"):
        assert outside not in report_js.lower(), outside


def test_csp_admits_exactly_the_page_scripts_and_styles(data: ReportInput) -> None:
    html = report_html(data)
    [csp] = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', html)
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["img-src"] == "data:"
    inline_scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    styles = re.findall(r"<style[^>]*>(.*?)</style>", html, flags=re.DOTALL)
    assert len(inline_scripts) == 2
    assert len(styles) == 2

    def hashes(texts: list[str]) -> str:
        return " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() + "'"
            for t in texts
        )

    assert directives["script-src"] == hashes(inline_scripts)
    assert directives["style-src"] == hashes(styles)
    assert "unsafe" not in csp  # no unsafe-inline, no unsafe-eval


def test_graph_data_is_json_that_cannot_end_its_script(tmp_path: Path) -> None:
    data = hostile_input(tmp_path)
    html = report_html(data)
    start = html.index('<script type="application/json" id="graph-data">')
    body = html[start:].split(">", 1)[1].split("</script>", 1)[0]
    assert "<" not in body
    assert ">" not in body
    assert "&" not in body
    graph = json.loads(body)
    labels = {n["label"] for n in graph["nodes"]}
    assert HOSTILE in labels  # the name itself, unchanged once parsed
    assert all(e["source"] in {n["id"] for n in graph["nodes"]} for e in graph["edges"])


def test_without_optional_inputs(data: ReportInput) -> None:
    bare = replace(data, ingest=None, conversations=None, graph_svg=None, findings=(),
                   edges=data.edges.clear(), timelines=())  # fmt: skip
    md = report_markdown(bare)
    assert "No findings." in md
    assert "No traffic to draw." in md
    html = report_html(bare)
    for code in scripts():
        html = html.replace(code, "")
    assert "<svg" not in html
    assert 'id="graph-data"' not in html
    assert "No hourly counts" in html


# --------------------------------------------------------------------------- determinism


def test_same_input_same_bytes_whatever_the_order(data: ReportInput, tmp_path: Path) -> None:
    first = render_report(data, tmp_path / "a")
    shuffled = replace(
        data,
        findings=tuple(reversed(data.findings)),
        edges=data.edges.reverse(),
        logged_interfaces=frozenset(sorted(data.logged_interfaces, reverse=True)),
        conversations=sample_conversations(seconds=99.5),  # the stage's run time is not shown
    )
    second = render_report(shuffled, tmp_path / "b")
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    text = first[0].read_text(encoding="utf-8") + first[1].read_text(encoding="utf-8")
    assert "99.5" not in text
    assert "1.8 s" not in text
    assert str(tmp_path) not in text


# --------------------------------------------------------------------------- escaping

HOSTILE = "<script>alert('x')</script> \"q\" & 'a' | `tick` # head @team"


def hostile_input(tmp: Path) -> ReportInput:
    """Every string an AWS user can type, made hostile: names, tags, descriptions."""
    plan = read_plan(PLANS / "hostile_plan.json")
    sg = plan.security_groups[0].group_id
    web = eni(HOSTILE, "10.0.0.5", [sg])
    db = eni("# db | <b>x</b>", "10.0.0.6", ["sg-0aaaaaaaaaaaaaaa9"])
    inv = inventory(
        [replace(web, id="eni-0aaaaaaaaaaaaaaa1"), replace(db, id="eni-0bbbbbbbbbbbbbbb1")],
        groups=[security_group(sg, name=HOSTILE),
                security_group("sg-0aaaaaaaaaaaaaaa9", name="db`</svg>`&amp;")],
        rules=[rule(sg, "ingress", "tcp", 443, "0.0.0.0/0", description=HOSTILE)],
    )  # fmt: skip
    enis: dict[str, NetworkInterface] = dict(inv.interfaces)
    edges = frame([edge(enis["eni-0aaaaaaaaaaaaaaa1"], enis["eni-0bbbbbbbbbbbbbbb1"], 443)])
    findings = (
        make_finding("public-ingress", sg, HOSTILE, group_id=sg, details=[(HOSTILE, HOSTILE)]),
    )
    evil_svg = '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    return ReportInput(plan, findings, edges, inv, frozenset(), graph_svg=evil_svg, title=HOSTILE)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.update(name for name, _ in attrs)


def test_html_escapes_every_aws_string(tmp_path: Path) -> None:
    html = report_html(hostile_input(tmp_path))
    parser = Tags()
    parser.feed(html)
    assert not parser.tags & {"iframe", "object", "embed", "svg", "foreignobject"}
    assert html.count("<style") == 2  # ours, and the one cytoscape.js would add
    assert "<b>x</b>" not in html
    assert not {a for a in parser.attributes if a.startswith("on")}
    page = html
    for code in scripts():
        page = page.replace(code, "")
    # Our scripts and the graph's JSON only: no name became an element.
    assert page.lower().count("<script") == 1 + len(scripts())
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &quot;q&quot; &amp; &#x27;a&#x27;"
        in html
    )
    assert "db`&lt;/svg&gt;`&amp;amp;" in html
    # The hostile picture is shown as an image, where SVG cannot run anything.
    assert '<img alt="Security-group graph" src="data:image/svg+xml;base64,' in html
    assert "\u202e" not in html  # the bidi override of the hostile plan is neutralised
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; ' in html


def test_markdown_escapes_every_aws_string(tmp_path: Path) -> None:
    md = report_markdown(hostile_input(tmp_path))
    assert "<script" not in md
    assert "<b>" not in md
    assert "<img" not in md
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &quot;q&quot; &amp; 'a' \\| \\`tick\\`" in md
    assert "\\# head \\@team" in md
    assert "\\# db \\| &lt;b&gt;x&lt;/b&gt;" in md
    for line in md.splitlines():
        if line.startswith("#"):
            assert re.match(r"#{1,3} \S", line), line  # only the report's own headings
        if line.startswith("| ") and not line.startswith("|---"):
            header = _header_of(md, line)
            assert _cells(line) == _cells(header), line


def _cells(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def _header_of(md: str, row: str) -> str:
    lines = md.splitlines()
    i = lines.index(row)
    while i > 0 and lines[i - 1].startswith("|"):
        i -= 1
    return lines[i]


def test_skipped_input_and_kept_rules_are_at_the_top(data: ReportInput) -> None:
    skipped = SkippedInput(
        "lines",
        Location("s3://logs/AWSLogs/1/vpcflowlogs/x.log.gz", line=7, column="dstport"),
        "an integer",
        "'<b>x</b>'",
        count=3,
    )
    ingest = replace(sample_ingest(), skipped=(skipped,))
    html = report_html(replace(data, ingest=ingest))
    top = html[: html.index("<h2>Exposure</h2>")]
    assert '<div class="attention"><div class="skipped"><b>Skipped input</b> (1)' in top
    assert "s3://logs/AWSLogs/1/vpcflowlogs/x.log.gz" in top
    assert "&lt;b&gt;x&lt;/b&gt;" in top  # what was found is escaped, as everywhere
    assert "<b>x</b>" not in html
    # The rules kept for safety: counted by reason, the first ones named, a link down.
    kept = [(g, r) for g in data.plan.security_groups for r in g.final_rules() if r.kept_for]
    assert f"<b>Kept for safety</b>: {len(kept)} rules kept rather than narrowed" in top
    assert '<a href="#kept">Why</a>' in top
    assert top.count('<li><span class="ref">') == min(len(kept), 8)
    # Without either, no panel.
    bare = report_html(replace(data, ingest=None, plan=replace(data.plan, security_groups=())))
    assert 'class="attention"' not in bare
