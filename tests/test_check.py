"""Shadow mode: `check_plan` and `ztflows check` replay newer traffic against a plan."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from support.edges import edge as row
from support.edges import frame
from support.inventory import eni, inventory, rule

from zt_flows.cli import main
from zt_flows.recommend import check_plan, read_plan, recommend_rules, write_plan
from zt_flows.rules import evaluate_rules
from zt_flows.settings import RecommendSettings

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"

WEB = eni("web", "10.0.10.11", ["sg-web"])
API = eni("api", "10.0.10.21", ["sg-api"])
BATCH = eni("batch", "10.0.12.41", ["sg-batch"])
BASTION = eni("bastion", "10.0.0.30", ["sg-bastion"], public=["3.3.3.30"])
INV = inventory(
    [WEB, API, BATCH, BASTION],
    groups=["sg-web", "sg-api", "sg-batch", "sg-bastion"],
    rules=[
        rule("sg-api", "ingress", "tcp", 8443, "10.0.0.0/16", rule_id="api-8443"),
        rule("sg-bastion", "ingress", "tcp", 22, "0.0.0.0/0", rule_id="ssh"),
        *(rule(g, "egress", "-1", None, "0.0.0.0/0", rule_id=f"{g}-out") for g in
          ("sg-web", "sg-api", "sg-batch", "sg-bastion")),
    ],
)  # fmt: skip
OFFICE = "partner:198.51.100.7|198.51.100.0/24"  # the office, named as a partner range


def _plan():  # type: ignore[no-untyped-def]
    rows = [row(WEB, API, 8443, day=d) for d in range(3)]
    rows += [row(OFFICE, BASTION, 22, day=d, packets=500, connections=1) for d in range(3)]
    rows.append(row("45.9.0.1", BASTION, 22, flows=2, connections=2, packets=6))
    edges = frame(rows)
    settings = RecommendSettings()
    logged = frozenset(e.id for e in (WEB, API, BATCH, BASTION))
    analysis = evaluate_rules(edges, INV, settings, logged_interfaces=logged)
    return recommend_rules(analysis, settings)


def test_nothing_new_nothing_blocked() -> None:
    plan = _plan()
    result = check_plan(plan, frame([row(WEB, API, 8443), row(OFFICE, BASTION, 22)]), INV)
    assert result.ok
    assert result.replayed == 2
    assert not result.blocked


def test_new_conversations_are_blocked_and_grouped() -> None:
    plan = _plan()
    newer = frame(
        [
            row(BATCH, API, 8443, flows=4),  # a client the window never saw
            row(BATCH, API, 8443, day=1, flows=6),
            row(WEB, API, 8443),
            row("45.9.0.77", BASTION, 22, flows=1, connections=1, packets=3),  # a new scanner
            row("45.9.0.1", BASTION, 22, flows=1, connections=1, packets=3),  # the listed one
            row(OFFICE, API, 9999),  # today's rules deny it too: not the plan's fault
        ]
    )
    result = check_plan(plan, newer, INV)
    assert not result.ok
    assert [(b.client, b.server, b.flows, b.group_id) for b in result.blocked] == [
        (BATCH.id, API.id, 10, "sg-api")
    ]
    assert "ingress" in result.blocked[0].reason
    assert result.blocked_edges == 2
    ((key, items),) = result.by_group_and_port()
    assert key == ("sg-api", 6, 8443)
    assert len(items) == 1
    assert sorted(b.client for b in result.expected) == ["45.9.0.1", "45.9.0.77"]
    assert [b.client for b in result.unexplained] == ["198.51.100.7"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def sample_plan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    code = main(
        [
            "recommend",
            str(SAMPLE / "flowlogs"),
            "--inventory",
            str(SAMPLE / "inventory"),
            "--out",
            str(folder / "plan.json"),
            "--cache-dir",
            str(folder / "cache"),
            "--partner-cidr",
            "198.51.100.0/24",  # the office: the bastion narrows, the scanners are blocked
            "-q",
        ]
    )
    assert code == 0
    return folder / "plan.json"


def check(plan: Path, tmp_path: Path, *extra: str) -> int:
    return main(
        [
            "check",
            str(plan),
            str(SAMPLE / "flowlogs"),
            "--inventory",
            str(SAMPLE / "inventory"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--partner-cidr",
            "198.51.100.0/24",
            "-q",
            *extra,
        ]
    )


def test_cli_plan_passes_its_own_traffic(
    sample_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(sample_plan, tmp_path) == 0
    captured = capsys.readouterr()
    assert "nothing observed would be blocked" in captured.err
    assert "blocked on purpose" in captured.err


def test_cli_json_on_a_later_day(
    sample_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check(sample_plan, tmp_path, "--since", "2026-11-18", "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is True
    assert doc["blocked"] == []
    assert doc["replayed"] > 0
    assert {e["server_port"] for e in doc["expected"]} == {22}


def test_cli_reports_what_a_narrower_plan_would_block(
    sample_plan: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan = read_plan(sample_plan)
    postgres = next(g for g in plan.security_groups if g.name == "postgres")
    stripped = replace(postgres, rules=tuple(r for r in postgres.rules if r.action != "add"))
    narrower = replace(
        plan,
        security_groups=tuple(stripped if g is postgres else g for g in plan.security_groups),
    )
    path = write_plan(narrower, tmp_path / "narrower.json")
    assert check(path, tmp_path) == 1
    table = capsys.readouterr().out
    assert postgres.group_id in table
    assert "tcp/5432" in table
    assert check(path, tmp_path, "--format", "table") == 1
    assert capsys.readouterr().out == table  # the word for text before `text`, still taken
    assert check(path, tmp_path, "--format", "json") == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False
    [blocked] = doc["blocked"]
    assert (blocked["group_id"], blocked["protocol"], blocked["server_port"]) == (
        postgres.group_id,
        6,
        5432,
    )
    clients = {c["client"] for c in blocked["conversations"]}
    api = {e.id for e in read_inventory().interfaces.values() if e.name in ("api-1", "api-2")}
    assert clients == api


def read_inventory():  # type: ignore[no-untyped-def]
    from zt_flows.inventory import load_inventory

    return load_inventory(SAMPLE / "inventory")


def test_cli_bad_plan_and_format(
    tmp_path: Path, sample_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": 99}')
    assert check(bad, tmp_path) == 2
    assert "schema_version" in capsys.readouterr().err
    assert check(sample_plan, tmp_path, "--format", "yaml") == 2
    assert "--format" in capsys.readouterr().err
