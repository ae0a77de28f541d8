"""`ztflows diff` and `analyze --baseline`: what changed since the last run.

The week after the sample: the same flow logs, and an inventory in which someone applied
part of the plan (the web-alb's port 80 rule removed, postgres admitting the api group)
and changed other rules by hand (redis opened to the internet, a jenkins-old rule gone).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, SAMPLE_DATA
from support.edges import edge, frame
from support.inventory import eni

from zt_flows.cli import main
from zt_flows.diff import diff_runs, diff_section
from zt_flows.diff.compare import Run, _conversations
from zt_flows.findings import make_finding
from zt_flows.recommend import read_plan

LATEST = "2026-11-18T23-30-00Z"
ALB_PORT_80 = "sgr-0ebb73a53d2e0f36a"  # the plan removes it
JENKINS_50000 = "sgr-0d22bae76335d50d4"  # the plan keeps it
REDIS, POSTGRES, API = "sg-03715a94dee2b9183", "sg-0d26ea66d167725c9", "sg-0f4fbcd0e0d64ead0"
REDIS_OPEN, POSTGRES_FROM_API = "sgr-0bbbbbbbbbbbbbbb2", "sgr-0aaaaaaaaaaaaaaa1"


def _analyze(out: Path, inventory: Path, cache: Path, *extra: str) -> int:
    return main(
        [
            "analyze",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(inventory),
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            "--quiet",
            *extra,
        ]
    )


def _next_week_inventory(root: Path) -> Path:
    shutil.copytree(SAMPLE_DATA / "inventory", root)
    path = root / LATEST / "describe-security-group-rules.json"
    doc = json.loads(path.read_text())
    rules = [
        r
        for r in doc["SecurityGroupRules"]
        if r["SecurityGroupRuleId"] not in (ALB_PORT_80, JENKINS_50000)
    ]

    def rule(rule_id: str, group: str, port: int, peer: dict[str, Any]) -> dict[str, Any]:
        return {
            "SecurityGroupRuleId": rule_id,
            "GroupId": group,
            "GroupOwnerId": "012345678901",
            "IsEgress": False,
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            **peer,
            "Tags": [],
        }

    rules.append(rule(REDIS_OPEN, REDIS, 6379, {"CidrIpv4": "0.0.0.0/0"}))
    rules.append(
        rule(
            POSTGRES_FROM_API,
            POSTGRES,
            5432,
            {"ReferencedGroupInfo": {"GroupId": API, "UserId": "012345678901"}},
        )
    )
    path.write_text(json.dumps({"SecurityGroupRules": rules}, indent=4))
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("diff")
    last = tmp / "last-week"
    assert _analyze(last, SAMPLE_DATA / "inventory", tmp / "cache") == 0
    inventory = _next_week_inventory(tmp / "inventory")
    this = tmp / "this-week"
    code = _analyze(this, inventory, tmp / "cache", "--baseline", str(last), "--fail-on", "high")
    return {"last": last, "this": this, "code": code, "tmp": tmp}


def test_runs_record_their_inventory(runs: dict[str, Any]) -> None:
    summary = json.loads((runs["last"] / "summary.json").read_text())
    sources = [s["source"] for s in summary["inventory"]["snapshots"]]
    assert sources == [
        str((SAMPLE_DATA / "inventory" / name).resolve())
        for name in ("2026-11-16T00-00-00Z", LATEST)
    ]
    assert summary["inventory"]["snapshots"][1]["taken_at"] == "2026-11-18T23:30:00Z"
    assert summary["inventory"]["snapshots"][1]["account_ids"] == ["012345678901"]


def test_rules_changed_inside_and_outside_ztflows(runs: dict[str, Any]) -> None:
    diff = json.loads((runs["this"] / "diff.json").read_text())
    rules = diff["rules"]
    assert rules["compared"] is True
    added = {r["rule_id"]: r for r in rules["added"]}
    removed = {r["rule_id"]: r for r in rules["removed"]}
    assert set(added) == {REDIS_OPEN, POSTGRES_FROM_API}
    assert set(removed) == {ALB_PORT_80, JENKINS_50000}
    assert added[POSTGRES_FROM_API]["planned"] is True  # the plan proposed it
    assert added[REDIS_OPEN]["planned"] is False
    assert added[REDIS_OPEN]["protocol"] == "tcp/6379"
    assert added[REDIS_OPEN]["peer"] == "0.0.0.0/0"
    assert removed[ALB_PORT_80]["planned"] is True
    assert removed[JENKINS_50000]["planned"] is False
    assert (rules["added_outside_ztflows"], rules["removed_outside_ztflows"]) == (1, 1)


def test_findings_new_and_resolved_by_identity(runs: dict[str, Any]) -> None:
    diff = json.loads((runs["this"] / "diff.json").read_text())
    new = {(f["code"], f["subject"]) for f in diff["findings"]["new"]}
    resolved = {(f["code"], f["subject"]) for f in diff["findings"]["resolved"]}
    # Redis open to the internet: public ingress and a database port from a range.
    assert {("ZT003", REDIS_OPEN), ("ZT005", REDIS_OPEN)} <= new
    # The removed port-80 rule's findings are resolved, with it.
    assert ("ZT003", ALB_PORT_80) in resolved
    assert all(subject != ALB_PORT_80 for _, subject in new)
    # Findings about what did not change persist, although their messages are this run's.
    last = json.loads((runs["last"] / "findings.json").read_text())["findings"]
    assert diff["findings"]["persisting"] == len(last) - len(resolved)
    assert diff["findings"]["new_counts"]["high"] >= 2
    # The same flow logs: no conversation appeared or vanished.
    assert diff["conversations"] == {"appeared": [], "vanished": [], "appeared_expected": []}


def test_exposure_then_and_now(runs: dict[str, Any]) -> None:
    diff = json.loads((runs["this"] / "diff.json").read_text())
    exposure = diff["exposure"]
    old_plan = read_plan(runs["last"] / "plan.json")
    new_plan = read_plan(runs["this"] / "plan.json")
    assert exposure["combinations"] == {
        "old": old_plan.exposure.before.combinations,
        "new": new_plan.exposure.before.combinations,
    }
    # Port 80 closed on the load balancers: no longer reachable from the internet.
    assert any(entry.endswith(":tcp/80") for entry in exposure["internet_reachable"]["vanished"])


def test_baseline_fails_only_on_what_is_new(runs: dict[str, Any], tmp_path: Path) -> None:
    assert runs["code"] == 1  # redis is newly open: a new high finding
    # The same run against itself: critical findings exist, none is new.
    again = tmp_path / "again"
    code = _analyze(
        again,
        SAMPLE_DATA / "inventory",
        runs["tmp"] / "cache",
        "--baseline",
        str(runs["last"]),
        "--fail-on",
        "critical",
    )
    assert code == 0
    diff = json.loads((again / "diff.json").read_text())
    assert diff["findings"]["new"] == []
    assert diff["findings"]["resolved"] == []
    assert diff["rules"]["added"] == []
    assert diff["rules"]["removed"] == []
    # Without a baseline the same threshold fails: the bastion's SSH is critical.
    assert (
        _analyze(
            tmp_path / "plain",
            SAMPLE_DATA / "inventory",
            runs["tmp"] / "cache",
            "--fail-on",
            "critical",
        )
        == 1
    )


def test_the_report_carries_the_section(runs: dict[str, Any]) -> None:
    markdown = (runs["this"] / "report.md").read_text()
    assert "## What changed since the baseline" in markdown
    assert "### New findings" in markdown
    assert REDIS_OPEN in markdown
    html = (runs["this"] / "report.html").read_text()
    section = html.index('<section id="changes">')
    assert section < html.index("</main>")
    assert "<script" not in html[section : html.index("</main>")]
    # Without a baseline, no section.
    assert "What changed since" not in (runs["last"] / "report.md").read_text()


def test_cli_diff_formats_and_exit_codes(
    runs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    last, this = str(runs["last"]), str(runs["this"])
    assert main(["diff", last, this, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((runs["this"] / "diff.json").read_text())
    assert main(["diff", last, this, "--fail-on", "high"]) == 1
    text = capsys.readouterr().out
    assert "New findings (" in text
    assert f"added {REDIS} ingress tcp/6379 from 0.0.0.0/0 ({REDIS_OPEN}), outside ztflows" in text
    assert "through ztflows (the baseline's plan)" in text
    assert main(["diff", last, this, "--fail-on", "critical"]) == 0  # nothing critical is new
    capsys.readouterr()
    assert main(["diff", last, this, "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("## What changed since the baseline")
    # Backwards: what this week added, last week lacks.
    assert main(["diff", this, last, "--format", "json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert {r["rule_id"] for r in back["rules"]["removed"]} == {REDIS_OPEN, POSTGRES_FROM_API}


def test_bad_baseline_is_named_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    code = _analyze(
        tmp_path / "out",
        SAMPLE_DATA / "inventory",
        tmp_path / "cache",
        "--baseline",
        str(tmp_path / "empty"),
    )
    assert code == 2
    assert f"{tmp_path / 'empty' / 'findings.json'}: expected a file written by" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "out").exists()
    assert main(["diff", str(tmp_path / "empty"), str(tmp_path / "empty")]) == 2
    assert main(["diff", "a", "b", "--fail-on", "urgent"]) == 2


def test_missing_snapshots_leave_rules_uncompared_unless_given(
    runs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old"
    shutil.copytree(runs["last"], old)
    summary = json.loads((old / "summary.json").read_text())
    del summary["inventory"]  # a run from before ztflows recorded it
    (old / "summary.json").write_text(json.dumps(summary))
    assert main(["diff", str(old), str(runs["this"]), "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert rules["compared"] is False
    assert "does not record its inventory snapshot" in rules["not_compared_because"]
    given = ["--old-inventory", str(SAMPLE_DATA / "inventory")]
    assert main(["diff", str(old), str(runs["this"]), "--format", "json", *given]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    assert rules["compared"] is True
    assert {r["rule_id"] for r in rules["added"]} == {REDIS_OPEN, POSTGRES_FROM_API}


def test_conversations_by_groups_not_addresses(tmp_path: Path) -> None:
    """Instances come and go, internet addresses churn: a conversation is named by groups."""
    web1 = eni("web-1", "10.0.10.11", ["sg-web"])
    web2 = eni("web-2", "10.0.11.11", ["sg-web"])  # a replacement: same group, new ENI
    api = eni("api-1", "10.0.10.21", ["sg-api", "sg-legacy"])
    db = eni("db", "10.0.20.5", ["sg-db"])

    def run(name: str, rows: list[dict[str, object]], findings: list[Any]) -> Run:
        path = tmp_path / f"{name}.parquet"
        frame(rows).write_parquet(path)
        plan = read_plan(FIXTURES / "plans" / "sample_plan.json")
        return Run(tmp_path / name, tuple(findings), plan, _conversations(path), None)

    ssh = make_finding("admin-port-from-cidr", "sgr-1", "22 open (3 peers)", group_id="sg-web")
    ssh_again = make_finding(
        "admin-port-from-cidr", "sgr-1", "22 open (9 peers)", group_id="sg-web"
    )
    old = run(
        "old",
        [
            edge("198.51.100.7", web1, 443),
            edge(web1, api, 8443, flows=5),
            edge(api, db, 5432),
            edge("5.6.7.8", web1, 23, accepted=0, rejected=3),
        ],
        [ssh, make_finding("unused-rule", "sgr-2", "unused", group_id="sg-db")],
    )
    new = run(
        "new",
        [
            edge("203.0.113.99", web2, 443),  # another user, another instance: the same
            edge(web2, api, 8443, flows=7),
            edge(api, db, 5432, accepted=0, rejected=4),  # now rejected
            edge(api, "aws_service:S3:52.216.8.29", 443),
        ],
        [ssh_again, make_finding("default-group-in-use", "sg-db", "in use", group_id="sg-db")],
    )
    diff = diff_runs(old, new)
    assert [(c.client, c.server, c.protocol, c.outcome) for c in diff.appeared] == [
        ("sg-api+sg-legacy", "aws:S3", "tcp/443", "accepted"),
        ("sg-api+sg-legacy", "sg-db", "tcp/5432", "rejected"),
    ]
    assert [(c.client, c.server, c.protocol, c.outcome) for c in diff.vanished] == [
        ("internet", "sg-web", "tcp/23", "rejected"),
        ("sg-api+sg-legacy", "sg-db", "tcp/5432", "accepted"),
    ]
    # The message changed, the identity did not: the same finding.
    assert diff.persisting_findings == 1
    assert [f.code for f in diff.new_findings] == ["ZT010"]
    assert [f.code for f in diff.resolved_findings] == ["ZT001"]
    assert diff.rules_unknown is not None  # these runs recorded no inventory
    section = diff_section(diff)
    assert section.data == diff.to_json()
    assert "aws:S3" in section.markdown
    assert "sg-api+sg-legacy -&gt; aws:S3 tcp/443" in section.html  # escaped
