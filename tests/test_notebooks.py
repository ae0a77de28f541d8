"""The notebooks: executed end to end on the sample VPC, as a reader would run them.

``notebooks/explore_traffic.ipynb`` and ``notebooks/walk_through_a_group.ipynb`` run in a
real ``python3`` kernel (ipykernel from
this environment, found by jupyter_client without any kernelspec installed for the
user), started in ``notebooks/`` as Jupyter starts it. Jupyter's, IPython's and
ztflows' folders point into a temporary directory, so the run neither reads nor writes
anything of the user's. Its outputs are checked against the same analysis run here
through the library API.
"""

from __future__ import annotations

import base64
import html
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import nbformat
import polars as pl
import pytest
from conftest import REPO_ROOT, SAMPLE_DATA
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.pipeline import Recommendation, analyze, summarize
from zt_flows.settings import SEVERITIES, Settings, SourceSettings

NOTEBOOK = REPO_ROOT / "notebooks" / "explore_traffic.ipynb"
GROUP_NOTEBOOK = REPO_ROOT / "notebooks" / "walk_through_a_group.ipynb"
NOTEBOOKS = {"explore_traffic": NOTEBOOK, "walk_through_a_group": GROUP_NOTEBOOK}
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds for one cell; the whole notebook takes a few on the sample
STARTUP_TIMEOUT = 120
PLAN_GROUPS = ("postgres", "web-alb", "bastion")  # the groups the notebook shows the plan of


@pytest.fixture(scope="module")
def private_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Jupyter, IPython, matplotlib and ztflows caches and config in a temporary folder."""
    tmp = tmp_path_factory.mktemp("notebook")
    with pytest.MonkeyPatch.context() as mp:
        for name in (
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_DATA_DIR",  # no user-level kernelspecs: python3 must come from here
            "JUPYTER_RUNTIME_DIR",
            "IPYTHONDIR",
            "XDG_CACHE_HOME",  # ztflows' cache (converted text logs) and matplotlib's
        ):
            mp.setenv(name, str(tmp / name.lower()))
        mp.delenv("JUPYTER_PATH", raising=False)
        mp.delenv("MPLCONFIGDIR", raising=False)
        yield tmp


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        startup_timeout=STARTUP_TIMEOUT,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first cell that fails
    return nb


@pytest.fixture(scope="module")
def executed(private_dirs: Path) -> nbformat.NotebookNode:
    return execute(NOTEBOOK)


@pytest.fixture(scope="module")
def executed_group(private_dirs: Path) -> nbformat.NotebookNode:
    return execute(GROUP_NOTEBOOK)


@pytest.fixture(params=sorted(NOTEBOOKS))
def any_executed(request: pytest.FixtureRequest) -> nbformat.NotebookNode:
    fixture = "executed" if request.param == "explore_traffic" else "executed_group"
    return request.getfixturevalue(fixture)


@dataclass(frozen=True)
class Expected:
    result: Recommendation
    summary: dict[str, object]
    con: duckdb.DuckDBPyConnection  # holds the records' views

    def count(self, where: str, *params: object) -> int:
        """Flow records of the window matching ``where`` (with ``?`` parameters)."""
        view = self.result.observation.flows.view
        [(n,)] = self.con.execute(
            f'SELECT count(*) FROM "{view}" WHERE {where}', list(params)
        ).fetchall()
        return int(n)

    def group_id(self, name: str) -> str:
        inventory = self.result.observation.inventory
        [group] = [g for g in inventory.security_groups.values() if g.name == name]
        return group.id


@pytest.fixture(scope="module")
def expected(tmp_path_factory: pytest.TempPathFactory) -> Expected:
    """The same analysis through the library, to check what the notebook shows."""
    cache = tmp_path_factory.mktemp("expected-cache")
    settings = Settings(sources=SourceSettings(cache_dir=cache, progress=False))
    con = connect_engine(settings.engine)
    inventory = load_inventory(SAMPLE_DATA / "inventory")
    result = analyze(SAMPLE_DATA / "flowlogs", settings, con, inventory=inventory)
    return Expected(result, summarize(result, result.observation.flows.summarize(con)), con)


def cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    matches = [c for c in nb.cells if c.get("id") == cell_id]
    assert len(matches) == 1, f"expected one cell with id {cell_id!r}, found {len(matches)}"
    return matches[0]


def text(nb: nbformat.NotebookNode, cell_id: str) -> str:
    """Everything a cell displayed as text: tables (HTML unescaped), Markdown, streams."""
    parts = []
    for output in cell(nb, cell_id).outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        for mime in ("text/html", "text/markdown", "text/plain"):
            if mime in output.get("data", {}):
                parts.append(html.unescape(output.data[mime]))
                break
    return "\n".join(parts)


def data(nb: nbformat.NotebookNode, cell_id: str, mime: str) -> list[str]:
    """The cell's outputs of one MIME type, in order."""
    return [o.data[mime] for o in cell(nb, cell_id).outputs if mime in o.get("data", {})]


def column(table: str, name: str) -> list[str]:
    """The values of one column of a polars text table (continuation lines left out)."""
    rows = [
        [c.strip() for c in line.strip("│").split("┆")]
        for line in table.splitlines()
        if line.startswith("│")
    ]
    index = rows[0].index(name)
    # Rows: names, "---", dtypes, then the data; a wrapped cell continues on blank rows.
    return [row[index] for row in rows[3:] if row[0]]


def test_python3_kernel_is_this_environment(private_dirs: Path) -> None:
    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    # A kernel.json that says "python" is started with sys.executable by jupyter_client;
    # anything else would run the notebook in another Python, without zt_flows.
    pythons = {"python", f"python{sys.version_info[0]}", sys.executable}
    assert spec.argv[0] in pythons, f"{KERNEL} kernel runs {spec.argv[0]}, not {sys.executable}"


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.values()), ids=sorted(NOTEBOOKS))
def test_committed_notebook_has_no_outputs_and_is_canonical(path: Path) -> None:
    raw = path.read_text(encoding="utf-8")
    nb = nbformat.reads(raw, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert all(c.metadata == {} for c in nb.cells)
    ids = [c.id for c in nb.cells]
    assert len(set(ids)) == len(ids)
    assert set(nb.metadata) == {"kernelspec", "language_info"}
    assert nb.metadata.kernelspec.name == KERNEL
    # Saved the way nbformat writes it, so opening and saving it changes nothing.
    assert raw == nbformat.writes(nb) + "\n"


def test_runs_without_errors_or_warnings(any_executed: nbformat.NotebookNode) -> None:
    for c in any_executed.cells:
        if c.cell_type != "code":
            continue
        assert c.execution_count is not None, c.id
        for output in c.outputs:
            assert output.output_type != "error", (c.id, output.get("evalue"))
            if output.output_type == "stream" and output.name == "stderr":
                assert "Warning" not in output.text, (c.id, output.text)
                assert "Traceback" not in output.text, (c.id, output.text)


def test_overview_counts_records_and_conversations(
    executed: nbformat.NotebookNode, expected: Expected
) -> None:
    shown = text(executed, "overview")
    summary = expected.summary
    records, conversations = summary["records"], summary["conversations"]
    assert isinstance(records, dict)
    assert isinstance(conversations, dict)
    for count in (*records.values(), *conversations.values()):
        if count:
            assert f"{count:,}" in shown
    assert summary["window"] == {"start": "2026-11-16T00:00:00Z", "end": "2026-11-19T00:00:00Z"}
    assert "2026-11-16T00:00:00Z" in shown
    assert "2026-11-19T00:00:00Z" in shown


def test_top_talkers_by_bytes_and_flows_with_names(executed: nbformat.NotebookNode) -> None:
    shown = text(executed, "talkers")
    assert "Top talkers by bytes" in shown
    assert "Top talkers by flows" in shown
    by_bytes, by_flows = [t for t in data(executed, "talkers", "text/plain") if "shape:" in t]
    for table, measure in ((by_bytes, "bytes"), (by_flows, "flows")):
        values = [int(v) for v in column(table, measure)]
        assert len(values) == 10
        assert values == sorted(values, reverse=True)
        # Names, not only ids: the API servers' pooled connections to the database lead.
        assert column(table, "client")[:2] == ["api-2", "api-1"]
        assert column(table, "server")[:2] == ["postgres", "postgres"]
        assert column(table, "port")[:2] == ["tcp/5432", "tcp/5432"]


def test_security_group_graph_is_inline_svg(executed: nbformat.NotebookNode) -> None:
    [svg] = data(executed, "graph", "image/svg+xml")
    assert svg.lstrip().startswith("<svg")
    # Sized to the page: as wide as the notebook, never wider; the viewBox keeps its shape.
    [root] = re.findall(r"<svg [^>]*>", svg)
    assert 'width="100%"' in root
    assert "height=" not in root
    assert re.search(r'viewBox="0 0 [0-9.]+ [0-9.]+"', root)
    for name in ("internet", "web-alb", "web", "api", "postgres", "redis", "bastion"):
        assert f">{name}<" in svg, name
    [links] = [t for t in data(executed, "graph", "text/plain") if "shape:" in t]
    pairs = set(zip(column(links, "client"), column(links, "server"), strict=True))
    assert ("api", "postgres") in pairs
    assert ("internet", "web-alb") in pairs


def test_port_heat_map_is_an_image(executed: nbformat.NotebookNode, expected: Expected) -> None:
    [png] = data(executed, "heatmap", "image/png")
    image = base64.b64decode(png)
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(image) > 10_000  # a drawn chart, not an empty canvas
    [matrix] = [t for t in data(executed, "heatmap", "text/plain") if "shape:" in t]
    groups = column(matrix, "group")
    assert {"web-alb", "web", "api", "postgres", "redis"} <= set(groups)
    edges = expected.result.observation.conversations.edges
    to_postgres = edges.filter(
        pl.col("server_sgs").list.contains(expected.group_id("postgres"))
        & (pl.col("server_port") == 5432)
    )
    assert column(matrix, "tcp/5432")[groups.index("postgres")] == str(
        to_postgres["accepted"].sum()
    )


def test_postgres_drill_down_shows_api_on_5432_each_day(
    executed: nbformat.NotebookNode, expected: Expected
) -> None:
    [table] = [t for t in data(executed, "postgres", "text/plain") if "shape:" in t]
    assert set(column(table, "port")) == {"tcp/5432"}
    assert set(column(table, "client")) == {"api-1", "api-2"}
    for groups in column(table, "client_groups"):
        assert "api" in groups.split(", ")
    edges = expected.result.observation.conversations.edges
    inbound = edges.filter(pl.col("server_sgs").list.contains(expected.group_id("postgres")))
    assert sorted(column(table, "day")) == sorted(d.isoformat() for d in inbound["day"])
    assert sorted(int(f) for f in column(table, "flows")) == sorted(inbound["flows"])
    assert len(set(column(table, "day"))) == 3  # every day of the window
    assert "started itself: **0**" in text(executed, "postgres")  # a database opens nothing


def test_plan_diff_shows_each_rule_with_evidence_and_reason(
    executed: nbformat.NotebookNode, expected: Expected
) -> None:
    shown = text(executed, "plan-diff")
    actions = set()
    for name in PLAN_GROUPS:
        [group] = [g for g in expected.result.plan.security_groups if g.name == name]
        assert group.group_id in shown
        for rule in group.rules:
            actions.add(rule.action)
            assert rule.reason in shown, rule.reason
            if rule.existing_rule_id:
                assert rule.existing_rule_id in shown
            if rule.evidence is not None:
                assert str(rule.evidence.flows) in shown
    assert actions == {"keep", "add", "remove"}
    # Each group's rules, then what it ends up with; postgres as the prose above says.
    tables = [t for t in data(executed, "plan-diff", "text/plain") if "shape:" in t]
    assert len(tables) == 2 * len(PLAN_GROUPS)
    postgres_after = tables[1]
    assert column(postgres_after, "direction") == ["ingress"]
    assert column(postgres_after, "ports") == ["5432-5432"]
    assert column(postgres_after, "peer") == ["api"]


def test_exposure_before_and_after(executed: nbformat.NotebookNode, expected: Expected) -> None:
    plan = expected.result.plan
    tables = [t for t in data(executed, "exposure", "text/plain") if "shape:" in t]
    figures, weights, reach = tables
    assert column(figures, "before") == [
        str(plan.exposure.before.combinations),
        str(plan.exposure.before.internet_reachable_count),
    ]
    assert column(figures, "after") == [
        str(plan.exposure.after.combinations),
        str(plan.exposure.after.internet_reachable_count),
    ]
    assert plan.exposure.after.combinations < plan.exposure.before.combinations
    assert column(weights, "before") == ["5.0", "2.0"]
    assert column(weights, "after")[1] == "2.0"
    assert float(column(weights, "after")[0]) == pytest.approx(3.0)
    changes = {
        (eni, port): (change, after)
        for eni, port, change, after in zip(
            column(reach, "eni"),
            column(reach, "port"),
            column(reach, "change"),
            column(reach, "admits_after"),
            strict=True,
        )
    }
    # The bastion's SSH stays open to the internet: the office's sessions come from
    # addresses nobody named, an open population.
    assert changes["bastion", "tcp/22"][0] == "unchanged"
    assert changes["alb-a", "tcp/80"] == ("closed", "–")
    shown = text(executed, "exposure")
    assert f"Replayed **{plan.verification.replayed}**" in shown
    assert "**0** would be blocked" in shown


def test_findings_by_severity(executed: nbformat.NotebookNode, expected: Expected) -> None:
    findings = expected.result.findings
    counts, table = [t for t in data(executed, "findings", "text/plain") if "shape:" in t]
    for severity in SEVERITIES:
        assert column(counts, severity) == [str(sum(1 for f in findings if f.severity == severity))]
    severities = column(table, "severity")
    assert len(severities) == len(findings)
    ranks = [SEVERITIES.index(s) for s in severities]
    assert ranks == sorted(ranks, reverse=True)  # most severe first
    shown = text(executed, "findings")
    for finding in findings:
        assert finding.code in shown
        assert finding.message in shown


# --------------------------------------------------------------------------- explore: SQL,
# polars and the hours


def test_tables_show_values_without_quotes(any_executed: nbformat.NotebookNode) -> None:
    tables = [
        o.data["text/html"]
        for c in any_executed.cells
        if c.cell_type == "code"
        for o in c.outputs
        if "text/plain" in o.get("data", {}) and "shape:" in o.data["text/plain"]
    ]
    assert len(tables) >= 5
    for table in tables:
        assert table.startswith("<small>")  # the notebook's own table, not polars' quoted one
        assert "<td>&quot;" not in table
        assert "<td>" in table


def test_sql_top_address_pairs(executed: nbformat.NotebookNode, expected: Expected) -> None:
    [table] = [t for t in data(executed, "sql-talkers", "text/plain") if "shape:" in t]
    sizes = [int(b) for b in column(table, "bytes")]
    assert len(sizes) == 10
    assert sizes == sorted(sizes, reverse=True)
    enis = {e.name: e for e in expected.result.observation.inventory.interfaces.values()}
    first = (column(table, "srcaddr")[0], column(table, "dstaddr")[0], column(table, "dstport")[0])
    assert first[1:] == (enis["postgres"].private_ipv4s[0], "5432")
    assert first[0] in {enis["api-1"].private_ipv4s[0], enis["api-2"].private_ipv4s[0]}
    records = int(column(table, "records")[0])
    where = "action = 'ACCEPT' AND srcaddr = ? AND dstaddr = ? AND dstport = 5432"
    assert records == expected.count(where, first[0], first[1])


def test_one_eni_hour_by_hour(executed: nbformat.NotebookNode, expected: Expected) -> None:
    [png] = data(executed, "eni-hourly", "image/png")
    assert base64.b64decode(png).startswith(b"\x89PNG")
    postgres = next(
        e for e in expected.result.observation.inventory.interfaces.values() if e.name == "postgres"
    )
    accepted = expected.count("interface_id = ? AND action = 'ACCEPT'", postgres.id)
    rejected = expected.count("interface_id = ? AND action = 'REJECT'", postgres.id)
    shown = text(executed, "eni-hourly")
    assert f"**72** hours with records, **{accepted:,}** accepted, **{rejected:,}** rejected" in (
        shown
    )
    [head] = [t for t in data(executed, "eni-hourly", "text/plain") if "shape:" in t]
    assert column(head, "hour")[0] == "2026-11-16 00:00:00 UTC"
    first = expected.count(
        "interface_id = ? AND action = 'ACCEPT' AND \"start\" < ?",
        postgres.id,
        int(expected.result.plan.window_start.timestamp()) + 3600,
    )
    assert column(head, "accepted")[0] == str(first)


def test_rejected_attempts_by_source(executed: nbformat.NotebookNode, expected: Expected) -> None:
    [table] = [t for t in data(executed, "rejected", "text/plain") if "shape:" in t]
    counts = [int(n) for n in column(table, "records")]
    assert counts == sorted(counts, reverse=True)
    sources = column(table, "srcaddr")
    for source, count in zip(sources, counts, strict=True):
        assert count == expected.count("action = 'REJECT' AND srcaddr = ?", source)
    # The internet's scanners lead; the Lambda functions refused by redis are there too.
    assert not sources[0].startswith("10.")
    assert any(s.startswith("10.") for s in sources)


def test_polars_daily_flows_by_group(executed: nbformat.NotebookNode, expected: Expected) -> None:
    [table] = [t for t in data(executed, "edges-polars", "text/plain") if "shape:" in t]
    groups = column(table, "group")
    edges = expected.result.observation.conversations.edges
    postgres = expected.group_id("postgres")
    row = groups.index("postgres")
    for day in sorted(set(edges["day"])):
        into = edges.filter((pl.col("day") == day) & pl.col("server_sgs").list.contains(postgres))
        assert column(table, day.isoformat())[row] == str(into["accepted"].sum())


def test_hourly_timeline_of_the_busiest(executed: nbformat.NotebookNode) -> None:
    [png] = data(executed, "timeline", "image/png")
    assert len(base64.b64decode(png)) > 10_000
    [table] = [t for t in data(executed, "timeline", "text/plain") if "shape:" in t]
    flows = [int(f) for f in column(table, "flows")]
    assert len(flows) == 6
    assert flows == sorted(flows, reverse=True)
    assert column(table, "server")[:2] == ["postgres", "postgres"]
    assert column(table, "hours_active")[:2] == ["72", "72"]  # pooled: every hour


# --------------------------------------------------------------------------- one group


def test_group_walk_through_shows_members_rules_and_evidence(
    executed_group: nbformat.NotebookNode, expected: Expected
) -> None:
    [group] = [g for g in expected.result.plan.security_groups if g.name == "web-alb"]
    assert group.group_id in text(executed_group, "load")
    [members] = [t for t in data(executed_group, "load", "text/plain") if "shape:" in t]
    assert sorted(column(members, "name")) == ["alb-a", "alb-b"]
    rules_table, after = [t for t in data(executed_group, "plan", "text/plain") if "shape:" in t]
    assert sorted(column(rules_table, "action")) == sorted(r.action for r in group.rules)
    shown = text(executed_group, "plan")
    for rule in group.rules:
        assert rule.reason in shown
    assert len(column(after, "direction")) == len(group.final_rules())
    inbound, outbound = [t for t in data(executed_group, "traffic", "text/plain") if "shape:" in t]
    assert set(column(inbound, "port")) == {"tcp/443"}
    assert set(column(outbound, "port")) == {"tcp/8080"}
    assert set(column(outbound, "server")) == {"web-1", "web-2"}


def test_group_walk_through_says_what_was_kept_and_why(
    executed_group: nbformat.NotebookNode, expected: Expected
) -> None:
    [group] = [g for g in expected.result.plan.security_groups if g.name == "web-alb"]
    kept, meaning = [t for t in data(executed_group, "kept", "text/plain") if "shape:" in t]
    expected_kept = [r for r in group.final_rules() if r.kept_for is not None]
    assert sorted(column(kept, "peer")) == sorted(r.peer.value for r in expected_kept)
    assert set(column(kept, "kept_for")) == {"open_population"}
    assert column(meaning, "kept_for") == ["open_population"]
    findings = text(executed_group, "findings")
    for finding in expected.result.findings:
        if finding.group_id == group.group_id:
            assert finding.message in findings
        else:
            assert finding.message not in findings


def test_group_walk_through_checks_newer_logs(executed_group: nbformat.NotebookNode) -> None:
    same = text(executed_group, "check-same")
    assert "Newer logs from 2026-11-18 00:00 UTC" in same
    assert "**0** would be blocked" in same
    assert "`check` exits 0." in same
    records = int(re.search(r"\(([\d,]+) accepted records\)", same)[1].replace(",", ""))
    assert records > 10_000  # a day of records, each replayed
    found = text(executed_group, "check-new")
    assert "**1** conversation(s) would be blocked; `check` exits 1." in found
    [table] = [t for t in data(executed_group, "check-new", "text/plain") if "shape:" in t]
    assert column(table, "group") == ["web-alb"]
    assert column(table, "port") == ["tcp/80"]
    assert column(table, "client") == ["203.0.113.80"]
