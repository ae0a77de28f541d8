"""The plan for the sample VPC, group by group, derived by hand from sample_data/SCENARIO.md.

The whole pipeline runs on ``sample_data/`` (flow logs -> conversations -> rule analysis
-> plan). Each expected rule below comes from the scenario's tables, not from the code:
the row of the Traffic table (#n) or of the security-group table that calls for it.

Reading the scenario:

* In-VPC and peered clients become references to their own groups: the group among the
  ENI's groups with the fewest members that were not seen (web-1/web-2 -> ``web``, not
  ``node-exporter``; batch -> ``weekly-batch``, never ``default``).
* Outbound, a server is named by the group holding the most observed servers with nobody
  else in it: prometheus scrapes every node-exporter member (#11) -> ``node-exporter``.
* Everything has "all to 0.0.0.0/0" egress today; each becomes the observed conversations.
  Egress equal in two groups of one ENI (api-1 has api's and legacy's) lives in the group
  with fewer members (``api``), so legacy's and default's egress go.
* AWS services: S3 through the prefix list com.amazonaws.us-east-1.s3 (#8, #9: the S3
  addresses are in it, and 0.0.0.0/0 holds all of it). SQS (#7) has no prefix list, and
  AWS service addresses change, so it keeps 0.0.0.0/0, narrowed to tcp 443; the worker's
  S3 rule adds nothing to that and goes.
* Open populations keep their range, narrowed to the ports served: the internet users of
  the ALB (#1), the payment API (#10: an internet destination), and the bastion's SSH
  (#13: the office's addresses are internet addresses nobody named; ci-runner (#14) is
  inside 0.0.0.0/0 too). Named as a partner range (``--partner-cidr 198.51.100.0/24``),
  the office narrows the bastion to that range (never to the two addresses seen), ci-runner
  gets its own group, and the scanners' handshakes (#19) lose access on purpose.
* Amazon DNS is not logged and not filtered by security groups: dns's egress is unused.
* weekly-batch ran on 2026-11-17 only (#18, and its DNS #12): 1 of 3 days, low confidence.
* The scanners' handshakes on the bastion (#19) are probes, reported; #17 and #20 were
  rejected and stay so (no rule admits them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from zt_flows.conversations import build_conversations
from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.inventory.model import Inventory
from zt_flows.recommend import Plan, plan_findings, plan_to_json, recommend_rules
from zt_flows.rules import RuleAnalysis, evaluate_rules
from zt_flows.settings import (
    ConversationSettings,
    RecommendSettings,
    Settings,
    SourceSettings,
)
from zt_flows.sources import read_flow_logs

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
S3 = "com.amazonaws.us-east-1.s3"
OFFICE = "198.51.100.0/24"

EXPECTED: dict[str, set[str]] = {
    "web-alb": {
        "ingress keep tcp/443 0.0.0.0/0",  # 1: users, IPv4
        "ingress keep tcp/443 ::/0",  # 1: users, IPv6
        "ingress remove tcp/80 0.0.0.0/0",  # stale: no listener, no traffic
        "egress add tcp/8080 web",  # 2
        "egress remove -1 0.0.0.0/0",
    },
    "web": {
        "ingress keep tcp/8080 web-alb",  # 2
        "ingress keep tcp/22 bastion",  # 15
        "egress add tcp/8443 api",  # 3
        "egress add tcp/443 0.0.0.0/0",  # 10: the payment API, an internet destination
        "egress add udp/53 dns-resolver",  # 12
        "egress remove -1 0.0.0.0/0",
    },
    "api": {
        "ingress add tcp/8443 web",  # 3
        "ingress add tcp/8443 reports-lambda",  # 16
        "ingress add tcp/8443 weekly-batch (low)",  # 18: one day of three
        "ingress remove tcp/8443 10.0.0.0/16",
        "egress add tcp/5432 postgres",  # 4
        "egress add tcp/6379 redis",  # 5
        "egress add tcp/8081 worker",  # 6
        f"egress add tcp/443 {S3}",  # 9: S3 through the NAT gateway
        "egress add udp/53 dns-resolver",  # 12
        "egress remove -1 0.0.0.0/0",
    },
    "worker": {
        "egress add tcp/6379 redis",  # 5
        "egress add tcp/443 0.0.0.0/0",  # 7: SQS, no prefix list; 8: S3's list inside it
        "egress add udp/53 dns-resolver",  # 12
        "egress remove -1 0.0.0.0/0",
    },
    "postgres": {
        "ingress add tcp/5432 api",  # 4: the app group only
        "ingress remove tcp/5432 10.0.0.0/16",
        "egress remove -1 0.0.0.0/0",  # a data tier that never calls out
    },
    "redis": {
        "ingress keep tcp/6379 api",  # 5
        "ingress keep tcp/6379 worker",  # 5; the Lambda's attempts (17) stay rejected
        "egress remove -1 0.0.0.0/0",
    },
    "bastion": {
        "ingress keep tcp/22 0.0.0.0/0",  # 13: the office's internet addresses; 14 inside
        "egress add tcp/22 web",  # 15
        "egress add udp/53 dns-resolver",  # 12
        "egress remove -1 0.0.0.0/0",
    },
    "node-exporter": {
        "ingress add tcp/9100 monitoring",  # 11
        "ingress remove tcp/9100 10.0.0.0/8",
    },
    "monitoring": {
        "egress add tcp/9100 node-exporter",  # 11
        "egress add udp/53 dns-resolver",  # 12
        "egress remove -1 0.0.0.0/0",
    },
    "dns-resolver": {
        "ingress add udp/53 bastion",  # 12: each client by its own group
        "ingress add udp/53 web",
        "ingress add udp/53 api",
        "ingress add udp/53 worker",
        "ingress add udp/53 monitoring",
        "ingress add udp/53 weekly-batch (low)",  # 12: the weekly job's lookups
        "ingress remove udp/53 10.0.0.0/16",
        "ingress remove tcp/53 10.0.0.0/16",  # unused
        "egress remove -1 0.0.0.0/0",  # Amazon DNS is neither logged nor filtered
    },
    "legacy-allow-vpc": {
        "ingress add tcp/8081 api",  # 6: the only traffic it alone carried
        "ingress remove -1 10.0.0.0/16",
        "egress remove -1 0.0.0.0/0",  # api's and worker's own egress carry it
    },
    "reports-lambda": {
        "egress add tcp/8443 api",  # 16
        "egress remove -1 0.0.0.0/0",
    },
    "weekly-batch": {
        "egress add tcp/8443 api (low)",  # 18
        "egress add udp/53 dns-resolver (low)",  # 12
        "egress remove -1 0.0.0.0/0",
    },
    "default/prod": {
        "ingress remove -1 default/prod",  # batch never talks to itself
        "egress remove -1 0.0.0.0/0",  # weekly-batch's egress carries batch's traffic
    },
    "jenkins-old": {  # attached to nothing: kept
        "ingress keep tcp/8080 10.0.0.0/16",
        "ingress keep tcp/50000 10.0.0.0/16",
        "egress keep -1 0.0.0.0/0",
    },
    "ci-runner": {"egress keep -1 0.0.0.0/0"},  # the shared VPC has no flow logs: kept
    "default/shared-services": {  # attached to nothing: kept
        "ingress keep -1 default/shared-services",
        "egress keep -1 0.0.0.0/0",
    },
}
COVERAGE = {"jenkins-old": "unattached", "default/shared-services": "unattached"}
COVERAGE["ci-runner"] = "uncovered"  # the shared-services VPC has no flow log


def _run(cache: Path, *, partner: tuple[str, ...] = ()) -> dict[str, Any]:
    settings = Settings(
        sources=SourceSettings(cache_dir=cache),
        conversations=ConversationSettings(partner_cidrs=partner),
    )
    con = connect_engine(settings.engine)
    inventory = load_inventory(SAMPLE / "inventory")
    try:
        flows = read_flow_logs(SAMPLE / "flowlogs", settings, con)
        found = build_conversations(flows, inventory, settings.conversations, con)
        rows = con.execute(f'SELECT DISTINCT interface_id FROM "{flows.all_view}"').fetchall()
    finally:
        con.close()
    edges, evidence = found.edges, found.evidence
    logged = frozenset(str(r[0]) for r in rows)
    analysis = evaluate_rules(edges, inventory, RecommendSettings(), logged_interfaces=logged)
    plan = recommend_rules(analysis, RecommendSettings(), evidence=evidence)
    return {"inventory": inventory, "analysis": analysis, "plan": plan, "edges": edges,
            "logged": logged, "evidence": evidence}  # fmt: skip


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def named(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sample with the office named as a partner range."""
    return _run(tmp_path_factory.mktemp("cache"), partner=(OFFICE,))


def _names(inventory: Inventory) -> dict[str, str]:
    vpcs = {v.id: dict(v.tags).get("Name", v.id) for v in inventory.vpcs.values()}
    return {
        g.id: f"default/{vpcs.get(g.vpc_id or '', g.vpc_id)}" if g.is_default else g.name
        for g in inventory.security_groups.values()
    }


def _described(plan: Plan, inventory: Inventory) -> dict[str, set[str]]:
    names = _names(inventory)
    lists = {p.id: p.name for p in inventory.prefix_lists.values()}
    out = {}
    for group in plan.security_groups:
        rules = set()
        for r in group.rules:
            ports = r.ip_protocol if r.from_port is None else f"{r.ip_protocol}/{r.from_port}"
            if r.to_port not in (None, r.from_port):
                ports += f"-{r.to_port}"
            peer = names.get(r.peer.value) or lists.get(r.peer.value) or r.peer.value
            low = " (low)" if r.confidence == "low" and r.action != "remove" else ""
            rules.add(f"{r.direction} {r.action} {ports} {peer}{low}")
        out[names[group.group_id]] = rules
    return out


@pytest.mark.parametrize("group", sorted(EXPECTED))
def test_group_plan_matches_the_scenario(sample: dict[str, Any], group: str) -> None:
    described = _described(sample["plan"], sample["inventory"])
    assert described[group] == EXPECTED[group]


def test_every_group_is_planned_with_its_coverage(sample: dict[str, Any]) -> None:
    plan: Plan = sample["plan"]
    names = _names(sample["inventory"])
    assert {names[g.group_id] for g in plan.security_groups} == set(EXPECTED)
    for g in plan.security_groups:
        assert g.coverage == COVERAGE.get(names[g.group_id], "observed"), names[g.group_id]


def test_the_office_named_narrows_the_bastion_to_its_range(named: dict[str, Any]) -> None:
    described = _described(named["plan"], named["inventory"])
    assert {r for r in described["bastion"] if r.startswith("ingress")} == {
        f"ingress add tcp/22 {OFFICE}",  # 13: the named range, never the two addresses seen
        "ingress add tcp/22 ci-runner",  # 14: peered VPC, same region
        "ingress remove tcp/22 0.0.0.0/0",  # 19: the probes lose it
    }
    # Every other group's plan is the same as without the name.
    for group, expected in EXPECTED.items():
        if group != "bastion":
            assert described[group] == expected, group


def test_references_across_the_peering_name_the_vpc(named: dict[str, Any]) -> None:
    plan: Plan = named["plan"]
    names = _names(named["inventory"])
    bastion = next(g for g in plan.security_groups if names[g.group_id] == "bastion")
    ci = next(r for r in bastion.rules if names.get(r.peer.value) == "ci-runner")
    shared = next(
        v.id for v in named["inventory"].vpcs.values() if ("Name", "shared-services") in v.tags
    )
    assert ci.peer.vpc_id == shared
    assert ci.evidence is not None
    assert ci.evidence.days_seen == 3


def test_verification_and_probes(sample: dict[str, Any], named: dict[str, Any]) -> None:
    for run in (sample, named):
        plan: Plan = run["plan"]
        analysis: RuleAnalysis = run["analysis"]
        v = plan.verification
        assert v.blocked == 0
        assert v.replayed == sum(
            1 for x in analysis.verdicts if x.ingress.allowed or x.egress.allowed
        )
        assert v.replayed > 0
        # The records themselves were replayed: every accepted record of the window.
        assert v.basis == "records"
        assert (
            v.records
            == run["evidence"]
            .group_by("row_id")
            .agg(pl.col("records").max())
            .get_column("records")
            .sum()
        )
        assert v.unexplained == 0
        assert not analysis.unexplained
        assert not analysis.not_evaluable
    names = _names(sample["inventory"])
    # Unnamed, the office's sessions keep the bastion open: the scanners are reported,
    # not blocked.
    plan = sample["plan"]
    assert not plan.intentionally_blocked
    assert plan.probed
    for b in plan.probed:
        assert (b.protocol, b.server_port, names[b.group_id or ""]) == (6, 22, "bastion")
        assert not b.client.startswith("198.51.100.")  # the office holds sessions
    # Named, every conversation blocked on purpose is an internet handshake on the 22.
    plan = named["plan"]
    assert plan.intentionally_blocked
    assert plan.verification.intentionally_blocked >= len(plan.intentionally_blocked)
    assert {(b.client, b.server) for b in plan.intentionally_blocked} == {
        (b.client, b.server) for b in sample["plan"].probed
    }


def test_exposure_before_and_after(sample: dict[str, Any]) -> None:
    """After, counted by hand from the expected rules (ENI sources x destinations):

    alb-a, alb-b   tcp/443 from worker-1b, web-1 and web-2 (their egress tcp 443 to
                   0.0.0.0/0), ci-runner (all to 0.0.0.0/0), the internet and other
                   private space                                              2 x 6 = 12
    web-1, web-2   8080 from alb-a and alb-b, 22 from bastion, 9100 from prometheus
                                                                              2 x 4 =  8
    api-1, api-2   8443 from web-1, web-2, lambda-a, lambda-b, batch; 9100 from
                   prometheus (8081 from the other api ENI: api's egress names worker)
                                                                              2 x 6 = 12
    worker-1b      9100 from prometheus; 8081 from api-1 and api-2                   3
    postgres       5432 from api-1 and api-2                                         2
    redis          6379 from api-1, api-2, worker-1b                                 3
    dns            udp 53 from bastion, web-1, web-2, api-1, api-2, worker-1b,
                   prometheus, batch; 9100 from prometheus                           9
    bastion        22 from 0.0.0.0/0: the internet, other private space and
                   ci-runner; 9100 from prometheus                                   4
    batch, lambdas, prometheus (only itself scrapes it), ci-runner: nothing          0
                                                                             total  53
    """
    plan: Plan = sample["plan"]
    inv: Inventory = sample["inventory"]
    by_name = {e.name: e.id for e in inv.interfaces.values()}
    assert plan.exposure.after.combinations == 53
    assert plan.exposure.before.combinations > 1000 * plan.exposure.after.combinations
    assert plan.exposure.before.internet_reachable == tuple(
        sorted(
            [
                f"{by_name['alb-a']}:tcp/443",
                f"{by_name['alb-a']}:tcp/80",
                f"{by_name['alb-b']}:tcp/443",
                f"{by_name['alb-b']}:tcp/80",
                f"{by_name['bastion']}:tcp/22",
            ]
        )
    )
    # The bastion's SSH stays reachable from all of the internet: the office's sessions come
    # from addresses nobody named. The ALB nodes keep 443 from everywhere, and lose the
    # stale 80.
    bastion_ssh = f"{by_name['bastion']}:tcp/22"
    assert plan.exposure.after.internet_reachable == tuple(
        sorted([f"{by_name['alb-a']}:tcp/443", f"{by_name['alb-b']}:tcp/443", bastion_ssh])
    )
    before, after = plan.exposure.before, plan.exposure.after
    assert before.reach_of(bastion_ssh).ipv4_share == 1.0  # type: ignore[union-attr]
    ssh = after.reach_of(bastion_ssh)
    assert ssh is not None
    assert ssh.ipv4_share == 1.0
    assert ssh.peers == ("0.0.0.0/0",)
    for alb in ("alb-a", "alb-b"):
        https = after.reach_of(f"{by_name[alb]}:tcp/443")
        assert https is not None
        assert (https.ipv4_share, https.ipv6_share) == (1.0, 1.0)
    # Weighted by the public space admitted: five ports open to all of IPv4 (two of them
    # to all of IPv6 too) become three.
    assert (before.internet_weight_ipv4, before.internet_weight_ipv6) == (5.0, 2.0)
    assert (after.internet_weight_ipv4, after.internet_weight_ipv6) == (3.0, 2.0)


def test_exposure_with_the_office_named(named: dict[str, Any]) -> None:
    """Named, the bastion's SSH admits the office's /24 only: 256 public addresses, where
    the unnamed plan admits all of IPv4."""
    after = named["plan"].exposure.after
    by_name = {e.name: e.id for e in named["inventory"].interfaces.values()}
    ssh = after.reach_of(f"{by_name['bastion']}:tcp/22")
    assert ssh is not None
    assert (ssh.ipv4_addresses, ssh.peers) == (256, (OFFICE,))
    assert after.internet_weight_ipv4 == pytest.approx(2.0 + 256 / after.public_ipv4)


def test_findings_of_the_scenario(sample: dict[str, Any]) -> None:
    analysis: RuleAnalysis = sample["analysis"]
    plan: Plan = sample["plan"]
    names = _names(sample["inventory"])
    enis = {e.id: e.name for e in sample["inventory"].interfaces.values()}
    found = {
        (f.code, names.get(f.group_id or "") or enis.get(f.subject) or f.subject)
        for f in (*analysis.findings, *plan_findings(plan))
    }
    for expected in (
        ("ZT003", "bastion"),  # 0.0.0.0/0 on 22
        ("ZT004", "bastion"),
        ("ZT003", "web-alb"),  # the stale 80
        ("ZT001", "web-alb"),
        ("ZT004", "legacy-allow-vpc"),  # all traffic from the VPC covers 22 and 3389
        ("ZT006", "legacy-allow-vpc"),
        ("ZT005", "postgres"),
        ("ZT008", "api"),  # 10.0.0.0/16:8443 whose clients all have groups
        ("ZT009", "postgres"),
        ("ZT009", "redis"),
        ("ZT010", "default/prod"),
        ("ZT011", "jenkins-old"),
        ("ZT012", "redis"),  # the Lambda's attempts
        ("ZT013", "api"),  # weekly-batch on 8443
        ("ZT013", "dns-resolver"),
        ("ZT018", "ci-runner"),  # the shared-services VPC has no flow log
        ("ZT015", "bastion"),
        ("ZT017", "alb-a"),
        ("ZT017", "alb-b"),
        ("ZT017", "bastion"),
    ):
        assert expected in found, expected
    assert not any(code == "ZT011" and name.startswith("default/") for code, name in found)
    assert not any(code == "ZT016" for code, _ in found)  # nothing near the quota


def test_plan_is_deterministic(sample: dict[str, Any]) -> None:
    again = recommend_rules(sample["analysis"], RecommendSettings(), evidence=sample["evidence"])
    first = plan_to_json(sample["plan"])
    assert plan_to_json(again) == first
    assert json.loads(first)["verification"]["blocked"] == 0
