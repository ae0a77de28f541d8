"""Findings of the rule analysis, on a small estate whose every finding is derived by hand.

alb      sg-alb                internet-facing ALB node, 3.0.0.10
bastion  sg-bastion            3.0.0.30
app      sg-app, sg-legacy
db       sg-db                 RDS
kv       sg-kv                 an instance that only serves 6379 (a data tier)
batch    sg-batch, default
ci       sg-ci                 peered VPC, no flow logs
sg-old                         attached to nothing
"""

from __future__ import annotations

from fixtures.edges.build import edge as row
from fixtures.edges.build import eni, frame, inventory, peering, rule, security_group

from zt_flows.findings import REGISTRY
from zt_flows.inventory.model import InterfaceRole
from zt_flows.rules import evaluate_rules
from zt_flows.settings import RecommendSettings

ALB = eni("alb", "10.0.0.10", ["sg-alb"], role=InterfaceRole.LOAD_BALANCER, public=["3.0.0.10"])
BASTION = eni("bastion", "10.0.0.30", ["sg-bastion"], public=["3.0.0.30"])
APP = eni("app", "10.0.10.21", ["sg-app", "sg-legacy"])
DB = eni("db", "10.0.20.5", ["sg-db"], role=InterfaceRole.DATABASE)
KV = eni("kv", "10.0.21.5", ["sg-kv"])
BATCH = eni("batch", "10.0.12.41", ["sg-batch", "sg-default"])
CI = eni("ci", "10.1.5.20", ["sg-ci"], vpc="vpc-b")

RULES = [
    rule("sg-alb", "ingress", "tcp", 443, "0.0.0.0/0", rule_id="r1"),
    rule("sg-alb", "ingress", "tcp", 80, "0.0.0.0/0", rule_id="r2"),
    rule("sg-bastion", "ingress", "tcp", 22, "0.0.0.0/0", rule_id="r3"),
    rule("sg-app", "ingress", "tcp", 8443, "10.0.0.0/16", rule_id="r4"),
    rule("sg-legacy", "ingress", "-1", None, "10.0.0.0/16", rule_id="r5"),
    rule("sg-db", "ingress", "tcp", 5432, "10.0.0.0/16", rule_id="r6"),
    rule("sg-db", "egress", "-1", None, "0.0.0.0/0", rule_id="r7"),
    rule("sg-kv", "ingress", "tcp", 6379, "sg-app", rule_id="r8"),
    rule("sg-kv", "egress", "-1", None, "0.0.0.0/0", rule_id="r9"),
    rule("sg-old", "ingress", "tcp", 8080, "10.0.0.0/16", rule_id="r10"),
    rule("sg-batch", "egress", "-1", None, "0.0.0.0/0", rule_id="r11"),
    rule("sg-default", "ingress", "-1", None, "sg-default", rule_id="r12"),
    rule("sg-app", "egress", "-1", None, "0.0.0.0/0", rule_id="r13"),
    rule("sg-ci", "egress", "-1", None, "0.0.0.0/0", rule_id="r14"),
    rule("sg-app", "ingress", "tcp", (0, 65535), "10.0.0.0/16", rule_id="r15"),
]
GROUPS = [
    *(
        security_group(g)
        for g in ("sg-alb", "sg-bastion", "sg-app", "sg-legacy", "sg-db", "sg-kv", "sg-batch")
    ),
    security_group("sg-default", name="default"),
    security_group("sg-old"),
    security_group("sg-ci", vpc="vpc-b"),
]
INVENTORY = inventory(
    [ALB, BASTION, APP, DB, KV, BATCH, CI],
    groups=GROUPS,
    rules=RULES,
    vpcs=[("vpc-a", "10.0.0.0/16"), ("vpc-b", "10.1.0.0/16")],
    peerings=[peering("vpc-a", "vpc-b")],
)
EDGES = frame(
    [
        row("1.2.3.4", ALB, 443),
        row("198.51.100.7", BASTION, 22),
        row(APP, DB, 5432),
        row(BATCH, APP, 8443),
        row(APP, KV, 6379),
        row(BATCH, KV, 6379, accepted=0, rejected=10),
        row("5.6.7.8", ALB, 23, accepted=0, rejected=2),
        row("5.6.7.8", BASTION, 0, "icmp", accepted=0, rejected=1),
        row(CI, BASTION, 22),
    ]
)
LOGGED = frozenset(e.id for e in (ALB, BASTION, APP, DB, KV, BATCH))

EXPECTED = {
    ("ZT001", "r2"),  # port 80: no listener, no traffic
    ("ZT001", "r7"),  # data-tier egress nothing used
    ("ZT001", "r9"),
    ("ZT001", "r12"),  # the default group's self rule
    ("ZT002", "r5"),  # everything it matched, r4 matched more narrowly
    ("ZT002", "r15"),
    ("ZT003", "r2"),  # 0.0.0.0/0 on a port the load balancer does not serve
    ("ZT003", "r3"),  # 0.0.0.0/0 on a bastion
    ("ZT004", "r3"),
    ("ZT004", "r5"),  # all traffic covers 22 and 3389
    ("ZT004", "r15"),
    ("ZT005", "r5"),
    ("ZT005", "r6"),
    ("ZT005", "r15"),
    ("ZT006", "r5"),
    ("ZT006", "r12"),
    ("ZT007", "r15"),
    ("ZT008", "r4"),  # its one peer, batch, has groups
    ("ZT008", "r5"),
    ("ZT008", "r6"),
    ("ZT008", "r11"),
    ("ZT008", "r13"),
    ("ZT008", "r14"),
    ("ZT008", "r15"),
    ("ZT009", "sg-db"),  # RDS with egress to 0.0.0.0/0
    ("ZT009", "sg-kv"),  # serves only 6379
    ("ZT010", "sg-default"),
    ("ZT011", "sg-old"),
    ("ZT012", "eni-kv"),  # batch tried redis and was rejected
    ("ZT014", "sg-ci"),
    ("ZT017", "eni-alb"),
    ("ZT017", "eni-bastion"),
    ("ZT019", "inventory"),  # a hand-made snapshot without describe-flow-logs.json
    ("ZT027", "eni-bastion"),  # the office's SSH sessions (40 packets a connection), and ci's
}


def test_every_finding_derived_by_hand() -> None:
    analysis = evaluate_rules(EDGES, INVENTORY, RecommendSettings(), logged_interfaces=LOGGED)
    found = {(f.code, f.subject) for f in analysis.findings}
    assert found == EXPECTED


def test_findings_carry_registry_severity_and_evidence() -> None:
    analysis = evaluate_rules(EDGES, INVENTORY, RecommendSettings(), logged_interfaces=LOGGED)
    for finding in analysis.findings:
        assert finding.severity == REGISTRY[finding.code].severity
    by = {(f.code, f.subject): f for f in analysis.findings}
    shadow = dict(by[("ZT002", "r5")].details)
    assert shadow["overshadowed_by"] == "r4"
    assert by[("ZT004", "r5")].group_id == "sg-legacy"
    assert dict(by[("ZT004", "r5")].details)["ports"] == "22, 3389"
    rejects = dict(by[("ZT012", "eni-kv")].details)
    assert rejects["clients"] == BATCH.id
    assert rejects["flows"] == "10"
    assert "sg-batch" in rejects["client_groups"]
    assert dict(by[("ZT017", "eni-alb")].details)["ports"] == "tcp/23"
    assert dict(by[("ZT014", "sg-ci")].details)["unlogged"] == CI.id
    # Sorted: most severe first.
    severities = [f.sort_key() for f in analysis.findings]
    assert severities == sorted(severities)


def test_coverage_without_record_list_falls_back_to_edge_vantage() -> None:
    analysis = evaluate_rules(EDGES, INVENTORY, RecommendSettings())
    assert analysis.coverage["sg-ci"].status == "unlogged"  # ci logged no edge
    assert analysis.coverage["sg-old"].status == "unattached"
    assert analysis.coverage["sg-app"].status == "observed"
