"""ZT009 says where a data tier that can reach the internet really went, destinations and ports."""

from __future__ import annotations

from fixtures.edges.build import edge, eni, frame, inventory, rule, security_group

from zt_flows.inventory.model import InterfaceRole
from zt_flows.rules import evaluate_rules
from zt_flows.rules.data_egress import data_tier_destinations
from zt_flows.settings import RecommendSettings

DB = eni("db", "10.0.20.5", ["sg-db"], role=InterfaceRole.DATABASE)
CACHE = eni("cache", "10.0.21.5", ["sg-cache"], role=InterfaceRole.CACHE)
APP = eni("app", "10.0.10.21", ["sg-app"])
INV = inventory(
    [DB, CACHE, APP],
    groups=[security_group(g) for g in ("sg-db", "sg-cache", "sg-app")],
    rules=[
        rule("sg-db", "ingress", "tcp", 5432, "sg-app", rule_id="r1"),
        rule("sg-db", "egress", "-1", None, "0.0.0.0/0", rule_id="r2"),
        rule("sg-cache", "ingress", "tcp", 6379, "sg-app", rule_id="r3"),
        rule("sg-cache", "egress", "-1", None, "0.0.0.0/0", rule_id="r4"),
        rule("sg-app", "egress", "-1", None, "0.0.0.0/0", rule_id="r5"),
    ],
)
EDGES = frame(
    [
        edge(APP, DB, 5432),
        edge(APP, CACHE, 6379),
        # The database calls out: a package mirror and an AWS service.
        edge(DB, "203.0.113.9", 443, flows=12),
        edge(DB, "203.0.113.9", 80, flows=2),
        edge(DB, "aws_service:S3:52.216.8.29", 443, flows=5),
        # The app's own internet traffic is not the data tier's.
        edge(APP, "198.51.100.50", 443, flows=40),
    ]
)


def test_destinations_and_ports_most_flows_first() -> None:
    analysis = evaluate_rules(EDGES, INV, RecommendSettings())
    assert data_tier_destinations(analysis, "sg-db") == [
        ("203.0.113.9", "tcp/443", 12),
        ("AWS S3", "tcp/443", 5),
        ("203.0.113.9", "tcp/80", 2),
    ]
    assert data_tier_destinations(analysis, "sg-cache") == []


def test_the_finding_names_them_or_says_nothing_went_out() -> None:
    analysis = evaluate_rules(EDGES, INV, RecommendSettings())
    found = {f.subject: f for f in analysis.findings if f.code == "ZT009"}
    assert set(found) == {"sg-db", "sg-cache"}
    db = found["sg-db"]
    assert db.message.endswith(
        "; observed outside the VPC: 203.0.113.9 tcp/443 (12 flows), AWS S3 tcp/443 (5 flows),"
        " 203.0.113.9 tcp/80 (2 flows)"
    )
    assert dict(db.details)["destinations"] == (
        "203.0.113.9 tcp/443: 12 flows; AWS S3 tcp/443: 5 flows; 203.0.113.9 tcp/80: 2 flows"
    )
    assert dict(db.details)["rules"] == "r2"  # the rule evidence is still there
    cache = found["sg-cache"]
    assert cache.message.endswith("; no traffic to the internet observed in the window")
    assert dict(cache.details)["destinations"] == "none"
