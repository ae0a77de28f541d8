"""What `ztflows.toml` changes in a run: suppressions, the scope, known scanners, expected
peers. Each is run end to end on the sample, with the file as a team would write it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, SAMPLE_DATA
from support.edges import edge, frame
from support.inventory import eni

from zt_flows.cli import main
from zt_flows.diff import diff_runs
from zt_flows.diff.compare import Run, _conversations
from zt_flows.findings import make_finding
from zt_flows.inventory import load_inventory
from zt_flows.recommend import read_plan
from zt_flows.scope import select_groups
from zt_flows.settings import ExpectedPeer, ScopeSettings, Suppression
from zt_flows.suppressions import apply_suppressions

BASTION_SSH = "sgr-0006e2f4f9e814d35"  # ZT004 and ZT003: tcp/22 from 0.0.0.0/0
LEGACY_ALL = "sgr-0509b860585b619a2"  # ZT004 (and more) on legacy-allow-vpc
BASTION, WEB, WEB_ALB = "sg-0f92669b1becefdac", "sg-065020594ff618000", "sg-0e6ac3055e6886ef5"
API, REPORTS_LAMBDA = "sg-0f4fbcd0e0d64ead0", "sg-059dc67a307d99c4c"
LAMBDAS = ("eni-067c7dafa54c559d5", "eni-07994601fe55cc7b8")  # 10.0.10.100, 10.0.11.100
VPC = "vpc-0b873741c03378b7d"


def analyze(tmp: Path, config: str, *extra: str) -> tuple[int, Path]:
    path = tmp / "ztflows.toml"
    path.write_text(config, encoding="utf-8")
    out = tmp / "out"
    code = main(
        [
            "analyze",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp / "cache"),
            "--quiet",
            "--config",
            str(path),
            *extra,
        ]
    )
    return code, out


def findings(out: Path) -> dict[str, list[dict[str, object]]]:
    doc: dict[str, list[dict[str, object]]] = json.loads((out / "findings.json").read_text())
    return doc


# --------------------------------------------------------------------------- suppressions


def test_a_suppression_holds_through_its_expiry_date() -> None:
    ssh = make_finding("admin-port-from-cidr", "sgr-1", "22 open", group_id="sg-1")
    unused = make_finding("unused-rule", "sgr-2", "unused", group_id="sg-1")
    rules = (
        Suppression("ZT004", "sgr-1", "office", expires=date(2026, 12, 7)),
        Suppression("ZT001", "sgr-9", "a rule since deleted"),
    )
    on_the_day = apply_suppressions([ssh, unused], rules, today=date(2026, 12, 7))
    assert on_the_day.findings == (unused,)
    assert [(s.finding, s.suppression.reason) for s in on_the_day.suppressed] == [(ssh, "office")]
    assert [s.subject for s in on_the_day.unmatched] == ["sgr-9"]

    day_after = apply_suppressions([ssh, unused], rules, today=date(2026, 12, 8))
    assert day_after.suppressed == ()
    codes = sorted((f.code, f.subject) for f in day_after.findings)
    assert codes == [("ZT001", "sgr-2"), ("ZT004", "sgr-1"), ("ZT028", "sgr-1")]
    expired = next(f for f in day_after.findings if f.code == "ZT028")
    assert dict(expired.details) == {
        "suppressed_code": "ZT004",
        "expired": "2026-12-07",
        "reason": "office",
    }
    assert expired.severity == "low"


def test_a_suppression_matches_code_and_subject_both() -> None:
    ssh = make_finding("admin-port-from-cidr", "sgr-1", "22 open")
    public = make_finding("public-ingress", "sgr-1", "open to all")
    result = apply_suppressions(
        [ssh, public], [Suppression("ZT004", "sgr-1", "ok")], today=date(2026, 1, 1)
    )
    assert result.findings == (public,)


SUPPRESSING = f"""
[[suppressions]]
code = "ZT004"
subject = "{BASTION_SSH}"
reason = "office SSH, reviewed by the security team"
expires = 2999-12-31

[[suppressions]]
code = "ZT004"
subject = "{LEGACY_ALL}"
reason = "legacy group, being retired"

[[suppressions]]
code = "ZT003"
subject = "{BASTION_SSH}"
reason = "accepted last year"
expires = 2020-01-31
"""


@pytest.fixture(scope="module")
def suppressed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, Path]:
    return analyze(tmp_path_factory.mktemp("suppressed"), SUPPRESSING, "--fail-on", "critical")


def test_suppressed_findings_leave_every_findings_output(
    suppressed_run: tuple[int, Path],
) -> None:
    code, out = suppressed_run
    doc = findings(out)
    reported = {(f["code"], f["subject"]) for f in doc["findings"]}
    hidden = {(f["code"], f["subject"]): f for f in doc["suppressed"]}
    assert set(hidden) == {("ZT004", BASTION_SSH), ("ZT004", LEGACY_ALL)}
    assert not reported & set(hidden)
    assert hidden[("ZT004", BASTION_SSH)]["reason"] == "office SSH, reviewed by the security team"
    assert hidden[("ZT004", BASTION_SSH)]["expires"] == "2999-12-31"
    assert hidden[("ZT004", LEGACY_ALL)]["expires"] is None
    # The two criticals of the sample were the ZT004s: --fail-on critical passes.
    assert code == 0
    assert not any(f["severity"] == "critical" for f in doc["findings"])
    # SARIF and ASFF carry a finding's identity digest; neither carries a suppressed one.
    sarif = (out / "findings.sarif").read_text()
    asff = (out / "findings.asff.json").read_text()
    for code_, subject in hidden:
        group = str(hidden[(code_, subject)]["group_id"])
        digest = make_finding("admin-port-from-cidr", subject, "", group_id=group).fingerprint
        assert digest not in sarif
        assert digest not in asff
    summary = json.loads((out / "summary.json").read_text())
    assert summary["suppressed_findings"] == 2
    assert summary["findings"]["critical"] == 0


def test_an_expired_suppression_is_a_finding_and_hides_nothing(
    suppressed_run: tuple[int, Path],
) -> None:
    _, out = suppressed_run
    reported = {(f["code"], f["subject"]): f for f in findings(out)["findings"]}
    assert ("ZT003", BASTION_SSH) in reported  # the finding it accepted is back
    expired = reported[("ZT028", BASTION_SSH)]
    assert expired["severity"] == "low"
    assert expired["details"] == {
        "suppressed_code": "ZT003",
        "expired": "2020-01-31",
        "reason": "accepted last year",
    }


def test_the_report_lists_what_is_suppressed_and_why(suppressed_run: tuple[int, Path]) -> None:
    _, out = suppressed_run
    md = (out / "report.md").read_text()
    section = md.split("### Suppressed (2)", 1)[1].split("\n## ", 1)[0]
    assert "office SSH, reviewed by the security team" in section
    assert "2999-12-31" in section
    assert "legacy group, being retired" in section
    assert "never" in section  # no expiry
    html = (out / "report.html").read_text()
    assert 'id="suppressed"' in html
    assert "legacy group, being retired" in html


def test_diff_counts_a_suppressed_finding_neither_new_nor_resolved(tmp_path: Path) -> None:
    plan = read_plan(FIXTURES / "plans" / "sample_plan.json")
    ssh = make_finding("admin-port-from-cidr", "sgr-1", "22 open", group_id="sg-web")
    old = Run(tmp_path / "old", (), plan, (), None)
    new = Run(tmp_path / "new", (ssh,), plan, (), None)
    assert diff_runs(old, new).new_findings == (ssh,)
    accepted = Suppression("ZT004", "sgr-1", "known")
    assert diff_runs(old, new, suppressions=[accepted]).new_findings == ()
    assert diff_runs(new, old, suppressions=[accepted]).resolved_findings == ()


# --------------------------------------------------------------------------- scope


def test_the_scope_selects_by_account_region_vpc_id_and_name() -> None:
    inventory = load_inventory(SAMPLE_DATA / "inventory")
    every = set(inventory.security_groups)
    assert select_groups(inventory, ScopeSettings()) is None
    assert select_groups(inventory, ScopeSettings(accounts=("012345678901",))) == every
    assert select_groups(inventory, ScopeSettings(accounts=("999999999999",))) == frozenset()
    assert select_groups(inventory, ScopeSettings(regions=("eu-west-1",))) == frozenset()
    in_vpc = select_groups(inventory, ScopeSettings(vpc_ids=(VPC,)))
    assert in_vpc is not None
    assert "sg-0dc93e3a306909950" not in in_vpc  # ci-runner, in the peered VPC
    named = select_groups(inventory, ScopeSettings(group_ids=(BASTION,), group_names=("web*",)))
    assert named == {BASTION, WEB, WEB_ALB}
    # Every field set must match: web* in another VPC selects nothing.
    other = ScopeSettings(vpc_ids=("vpc-06c67fbcceb068afd",), group_names=("web*",))
    assert select_groups(inventory, other) == frozenset()


def test_groups_outside_the_scope_keep_their_rules_and_leave_the_outputs(
    tmp_path: Path,
) -> None:
    config = f'[scope]\nregions = ["us-east-1"]\ngroups = ["{BASTION}", "web*"]\n'
    code, out = analyze(tmp_path, config)
    assert code == 0
    plan = json.loads((out / "plan.json").read_text())
    assert {g["group_id"] for g in plan["security_groups"]} == {BASTION, WEB, WEB_ALB}
    assert plan["verification"]["blocked"] == 0
    reported = findings(out)["findings"]
    assert {f["group_id"] for f in reported if f["group_id"]} <= {BASTION, WEB, WEB_ALB}
    assert {f["subject"] for f in reported if f["code"] == "ZT026"} == {VPC}  # its VPC is in
    # Interface findings follow the interface's groups: web-1's sessions stay, the rejects
    # at redis (out of scope) go.
    assert "eni-00a3b041006077e3d" in {f["subject"] for f in reported if f["code"] == "ZT027"}
    assert not any(f["code"] == "ZT012" for f in reported)
    tf = {p.name for p in (out / "terraform").glob("sg_*.tf")}
    assert tf == {"sg_bastion.tf", "sg_web.tf", "sg_web_alb.tf"}


# --------------------------------------------------------------------------- scanners


@pytest.fixture(scope="module")
def scanner_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reports Lambdas (10.0.10.100, 10.0.11.100) named as scanners."""
    tmp = tmp_path_factory.mktemp("scanners")
    code, out = analyze(tmp, '[networks]\nscanners = ["10.0.10.100/32", "10.0.11.100"]\n')
    assert code == 0
    return out


def test_known_scanners_are_reported_and_never_shape_a_rule(scanner_run: Path) -> None:
    """The api's rule for the scanners goes, their conversations are blocked on purpose, and
    a finding counts them."""
    out = scanner_run
    plan = json.loads((out / "plan.json").read_text())
    api = next(g for g in plan["security_groups"] if g["group_id"] == API)
    kept = [r for r in api["rules"] if r["action"] != "remove" and r["direction"] == "ingress"]
    assert kept
    assert not any(r["peer"].get("id") == REPORTS_LAMBDA for r in kept)
    assert all(not set(LAMBDAS) & set(r["evidence"]["clients"]) for r in kept)
    blocked = [b for b in plan["intentionally_blocked"] if b["client"] in LAMBDAS]
    assert {b["server_port"] for b in blocked} == {8443}
    assert all(b["reason"].startswith("known scanner") for b in blocked)
    assert plan["verification"]["blocked"] == 0
    scans = {f["subject"]: f for f in findings(out)["findings"] if f["code"] == "ZT029"}
    assert set(scans) == {"10.0.10.100/32", "10.0.11.100/32"}
    for finding in scans.values():
        details = finding["details"]
        assert isinstance(details, dict)
        assert int(details["accepted_flows"]) > 0  # reports to the api
        assert int(details["rejected_flows"]) > 0  # tries at redis, rejected


def test_check_expects_what_the_plan_blocks_from_scanners(
    scanner_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Shadow mode on the same logs: the scanners' conversations are blocked on purpose."""
    code = main(
        [
            "check",
            str(scanner_run / "plan.json"),
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
            "--format",
            "json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert code == 0
    assert result["ok"] is True
    assert {b["client"] for b in result["expected"]} >= set(LAMBDAS)


def test_check_blocks_a_scanner_on_purpose_even_where_the_plan_did_not_list_it(
    scanner_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scanner conversation the plan never saw (here: the plan's list of what it blocks on
    purpose emptied) is expected when check is given the scanners, and blocked without."""
    doc = json.loads((scanner_run / "plan.json").read_text())
    doc["intentionally_blocked"] = [
        b for b in doc["intentionally_blocked"] if b["client"] not in LAMBDAS
    ]
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(doc, indent=2) + "\n")
    config = tmp_path / "ztflows.toml"
    config.write_text('[networks]\nscanners = ["10.0.10.100/32", "10.0.11.100"]\n')

    def check(*extra: str) -> tuple[int, dict[str, Any]]:
        code = main(
            [
                "check",
                str(plan),
                str(SAMPLE_DATA / "flowlogs"),
                "--inventory",
                str(SAMPLE_DATA / "inventory"),
                "--cache-dir",
                str(tmp_path / "cache"),
                "--quiet",
                "--format",
                "json",
                *extra,
            ]
        )
        return code, json.loads(capsys.readouterr().out)

    code, result = check("--config", str(config))
    assert code == 0
    scanned = [b for b in result["expected"] if b["client"] in LAMBDAS]
    assert scanned
    assert all("known scanner" in b["reason"] for b in scanned)
    (tmp_path / "empty.toml").write_text("")
    code, result = check("--config", str(tmp_path / "empty.toml"))
    assert code == 1
    blocked = {c["client"] for g in result["blocked"] for c in g["conversations"]}
    assert blocked & set(LAMBDAS)


# --------------------------------------------------------------------------- expected peers


def test_expected_peers_are_not_reported_as_new(tmp_path: Path) -> None:
    web = eni("web-1", "10.0.10.11", ["sg-web"])
    api = eni("api-1", "10.0.10.21", ["sg-api", "sg-legacy"])
    db = eni("db", "10.0.20.5", ["sg-db"])
    plan = read_plan(FIXTURES / "plans" / "sample_plan.json")

    def run(name: str, rows: list[dict[str, object]]) -> Run:
        path = tmp_path / f"{name}.parquet"
        frame(rows).write_parquet(path)
        return Run(tmp_path / name, (), plan, _conversations(path), None)

    old = run("old", [edge(web, api, 8443)])
    new = run(
        "new",
        [
            edge(web, api, 8443),
            edge(api, "aws_service:S3:52.216.8.29", 443),
            edge(api, db, 5432),
            edge("203.0.113.99", web, 443),
        ],
    )
    assert len(diff_runs(old, new).appeared) == 3
    expected = [
        ExpectedPeer("sg-legacy", "aws:S3", "tcp/443"),  # one of the client's groups
        ExpectedPeer("internet", "sg-*"),  # any port
        ExpectedPeer("sg-api", "sg-db", "tcp/5433"),  # another port: not this one
    ]
    diff = diff_runs(old, new, expected=expected)
    assert [(c.client, c.server, c.protocol) for c in diff.appeared] == [
        ("sg-api+sg-legacy", "sg-db", "tcp/5432")
    ]
    assert [(c.client, c.server) for c in diff.expected] == [
        ("internet", "sg-web"),
        ("sg-api+sg-legacy", "aws:S3"),
    ]
    data = diff.to_json()["conversations"]
    assert isinstance(data, dict)
    assert len(data["appeared_expected"]) == 2
