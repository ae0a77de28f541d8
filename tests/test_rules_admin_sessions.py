"""ZT027: interactive SSH and RDP sessions to instances, told from probes, with their evidence."""

from __future__ import annotations

from fixtures.edges.build import edge, eni, frame, inventory, rule, security_group

from zt_flows.inventory.model import InterfaceRole
from zt_flows.rules import evaluate_rules
from zt_flows.rules.admin_sessions import admin_session_findings
from zt_flows.settings import RecommendSettings

BASTION = eni("bastion", "10.0.0.30", ["sg-bastion"], public=["3.0.0.30"])
WINDOWS = eni("jump", "10.0.0.40", ["sg-jump"])
APP = eni("app", "10.0.10.21", ["sg-app"])
DB = eni("db", "10.0.20.5", ["sg-db"], role=InterfaceRole.DATABASE)
INV = inventory(
    [BASTION, WINDOWS, APP, DB],
    groups=[security_group(g) for g in ("sg-bastion", "sg-jump", "sg-app", "sg-db")],
    rules=[
        rule("sg-bastion", "ingress", "tcp", 22, "0.0.0.0/0", rule_id="r1"),
        rule("sg-jump", "ingress", "tcp", 3389, "10.0.0.0/16", rule_id="r2"),
        rule("sg-app", "ingress", "tcp", 22, "sg-bastion", rule_id="r3"),
        rule("sg-db", "ingress", "tcp", 22, "10.0.0.0/16", rule_id="r4"),
        *(
            rule(g, "egress", "-1", None, "0.0.0.0/0", rule_id=f"e{i}")
            for i, g in enumerate(("sg-bastion", "sg-jump", "sg-app", "sg-db"))
        ),
    ],
)


def _findings(*rows: dict[str, object], settings: RecommendSettings | None = None):  # type: ignore[no-untyped-def]
    analysis = evaluate_rules(frame(rows), INV, settings or RecommendSettings())
    return {
        f.subject: f for f in admin_session_findings(analysis, INV, settings or RecommendSettings())
    }


def test_sessions_are_findings_with_their_evidence() -> None:
    found = _findings(
        # Two days of an office session: 3 connections of 40 packets each, then 2 more.
        edge("198.51.100.7", BASTION, 22, flows=3, connections=3, packets=120, day=0),
        edge("198.51.100.7", BASTION, 22, flows=2, connections=2, packets=90, day=1),
        # A scanner's handshakes: 3 packets a connection. A probe, not a session.
        edge("45.146.80.75", BASTION, 22, flows=4, connections=4, packets=12),
        # A hop from the bastion, long-lived: records without a handshake (no connection).
        edge(BASTION, APP, 22, flows=6, connections=0, packets=300),
        # RDP to a Windows jump host.
        edge(APP, WINDOWS, 3389, flows=2, connections=2, packets=400),
    )
    assert set(found) == {BASTION.id, APP.id, WINDOWS.id}
    bastion = found[BASTION.id]
    assert bastion.code == "ZT027"
    assert bastion.severity == "medium"
    assert bastion.message == (
        "bastion (eni-bastion), i-bastion: 5 SSH session(s) on 2 day(s) from 198.51.100.7;"
        " Session Manager needs no open port"
    )
    details = dict(bastion.details)
    assert details["clients"] == "198.51.100.7"  # the scanner is not among them
    assert details["instance"] == "i-bastion"
    assert details["sessions"] == (
        "198.51.100.7 tcp/22: 5 session(s), 210 packets, 105000 bytes on 2 day(s)"
    )
    assert details["first_seen"] == "2026-11-16T01:00:00Z"
    assert details["last_seen"] == "2026-11-17T02:00:00Z"
    # A session opened before the window still counts as one.
    assert "1 SSH session(s)" in found[APP.id].message
    assert "RDP" in found[WINDOWS.id].message
    assert dict(found[WINDOWS.id].details)["ports"] == "3389"


def test_only_instances_and_admin_ports() -> None:
    found = _findings(
        edge(APP, DB, 22, flows=3, connections=3, packets=300),  # a database, not an instance
        edge(APP, BASTION, 8443, flows=3, connections=3, packets=300),  # not an admin port
        edge("5.6.7.8", BASTION, 22, accepted=0, rejected=5),  # rejected: no session
    )
    assert found == {}


def test_the_session_threshold_is_the_recommenders() -> None:
    rows = (edge("198.51.100.7", BASTION, 22, flows=2, connections=2, packets=16),)  # 8 a conn
    assert _findings(*rows) == {}
    assert set(_findings(*rows, settings=RecommendSettings(admin_session_min_packets=8))) == {
        BASTION.id
    }
