"""Tables for people: names beside ids, top talkers, groups by port, plan and findings."""

from __future__ import annotations

import polars as pl
import pytest
from support.edges import edge, frame
from support.inventory import eni, inventory, rule, security_group
from support.plans import group_plan, planned

from zt_flows.findings import make_finding
from zt_flows.recommend.plan import (
    Evidence,
    Exposure,
    ExposureFigures,
    Plan,
    Verification,
)
from zt_flows.rules import RulePeer
from zt_flows.tables import (
    find_group,
    name_edges,
    rank_talkers,
    tabulate_exposure,
    tabulate_findings,
    tabulate_plan,
    tabulate_ports,
)

WEB1 = eni("web-1", "10.0.1.11", ["sg-web", "sg-agent"])
WEB2 = eni("web-2", "10.0.1.12", ["sg-web", "sg-agent"])
API = eni("api-1", "10.0.2.21", ["sg-api", "sg-agent"])
DB = eni("db", "10.0.3.5", ["sg-db"])
INV = inventory(
    [WEB1, WEB2, API, DB],
    groups=["sg-web", "sg-api", "sg-db", "sg-agent"],
    rules=[rule("sg-db", "ingress", "tcp", 5432, "sg-api")],
)
EDGES = frame(
    [
        edge(WEB1, API, 8443, flows=30, bytes_=3_000),
        edge(WEB2, API, 8443, flows=20, bytes_=9_000, day=1),
        edge(WEB2, API, 8443, flows=5, bytes_=1_000, day=2),
        edge(API, DB, 5432, flows=50, bytes_=5_000),
        edge(API, DB, 5432, flows=4, rejected=4, bytes_=0, day=1),  # rejected only
        edge("203.0.113.9", API, 22, flows=3, rejected=3, bytes_=0),
    ]
)


def test_name_edges_puts_names_beside_ids() -> None:
    named = name_edges(EDGES, INV).row(0, named=True)
    assert (named["client"], named["server"], named["port"]) == ("web-1", "api-1", "tcp/8443")
    assert named["client_id"] == WEB1.id
    assert named["client_groups"] == "agent, web"  # group names, not ids
    internet = name_edges(EDGES, INV).filter(pl.col("server_port") == 22).row(0, named=True)
    assert internet["client"] == "203.0.113.9"  # an address is its own name


def test_rank_talkers_sums_days_and_sorts() -> None:
    by_bytes = rank_talkers(EDGES, INV, by="bytes", limit=2)
    # web-2 -> api-1 over two days: 9,000 + 1,000; api-1 -> db 5,000; web-1 -> api-1 3,000.
    assert by_bytes.select("client", "server", "bytes", "days").rows() == [
        ("web-2", "api-1", 10_000, 2),
        ("api-1", "db", 5_000, 2),
    ]
    by_flows = rank_talkers(EDGES, INV, by="flows", limit=10)
    assert by_flows["flows"].to_list() == [54, 30, 25, 3]
    assert by_flows.filter(pl.col("server") == "db")["rejected"].to_list() == [4]


def test_tabulate_ports_counts_accepted_flows_under_the_identity_group() -> None:
    table = tabulate_ports(EDGES, INV)
    # api-1 carries sg-api and sg-agent (on every web and api host): it counts as sg-api.
    assert table.select("group_id", "port", "flows").rows() == [
        ("sg-api", "tcp/8443", 55),
        ("sg-db", "tcp/5432", 50),  # the rejected-only day adds nothing
    ]


def test_find_group_needs_a_unique_name() -> None:
    assert find_group(INV, "db").id == "sg-db"
    with pytest.raises(KeyError, match="no security group named 'nope'"):
        find_group(INV, "nope")
    twice = inventory(
        [DB],
        groups=[
            security_group("sg-1", name="default"),
            security_group("sg-2", vpc="vpc-b", name="default"),
        ],
        rules=[],
    )
    with pytest.raises(KeyError, match="2 security groups named 'default'"):
        find_group(twice, "default")
    assert find_group(twice, "default", vpc_id="vpc-b").id == "sg-2"


def _plan() -> Plan:
    evidence = Evidence(
        flows=50,
        bytes=5_000,
        packets=400,
        first_seen=None,
        last_seen=None,
        days_seen=1,
        clients=(API.id,),
        servers=(DB.id,),
        ports=(5432,),
    )
    rules = (
        planned(
            "ingress",
            "remove",
            "tcp",
            5432,
            5432,
            RulePeer("cidr", "10.0.0.0/16"),
            "its observed traffic is carried by a narrower rule",
            existing_rule_id="sgr-1",
            evidence=evidence,
        ),
        planned(
            "ingress",
            "add",
            "tcp",
            5432,
            5432,
            RulePeer("security_group", "sg-api", "api"),
            "observed",
            evidence=evidence,
            confidence="low",
        ),
    )
    return Plan(
        window_start=None,
        window_end=None,
        security_groups=(group_plan("sg-db", "db", *rules, vpc_id="vpc-a"),),
        exposure=Exposure(
            ExposureFigures(100, (f"{DB.id}:tcp/5432", f"{API.id}:tcp/22")),
            ExposureFigures(10, (f"{API.id}:tcp/22",)),
        ),
        verification=Verification(replayed=1, blocked=0),
    )


def test_tabulate_plan_and_exposure() -> None:
    plan = _plan()
    table = tabulate_plan(plan.group("sg-db"), INV)
    assert table.select("action", "peer", "ports", "clients", "confidence").rows() == [
        ("add", "api", "5432-5432", "api-1", "low"),
        ("remove", "10.0.0.0/16", "5432-5432", "api-1", "high"),
    ]
    exposure = tabulate_exposure(plan, INV)
    assert exposure.select("eni", "port", "before", "after").rows() == [
        ("api-1", "tcp/22", True, True),
        ("db", "tcp/5432", True, False),
    ]


def test_tabulate_findings_most_severe_first() -> None:
    findings = [
        make_finding("unused-rule", "sgr-1", "nothing used it", group_id="sg-db"),
        make_finding("admin-port-from-cidr", "sgr-2", "SSH from anywhere", group_id="sg-api"),
    ]
    table = tabulate_findings(findings, INV)
    assert table.select("severity", "code", "group").rows() == [
        ("critical", "ZT004", "api"),
        ("low", "ZT001", "db"),
    ]
