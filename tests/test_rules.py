"""Security-group semantics, decided by hand for every rule kind, and rule usage.

The estate: VPC a (10.0.0.0/16 and 2600:1f18::/56) peered actively with VPC b, with a
pending peering to VPC c and an active one to VPC d in another region.

    web  sg-web          10.0.1.10, 2600:1f18::10
    app  sg-app, sg-mon  10.0.2.20 and secondary 10.0.2.21
    db   sg-db           10.0.3.30 (RDS)
    ci   sg-ci           10.1.0.5   (VPC b, peered)
    far  sg-far          10.2.0.5   (VPC c, peering pending)
    west sg-west         10.3.0.5   (VPC d, peered across regions)
    nat  (no groups)     10.0.0.5
"""

from __future__ import annotations

import pytest
from support.edges import edge as row
from support.edges import frame
from support.inventory import eni, inventory, peering, prefix_list, rule

from zt_flows.inventory.model import InterfaceRole
from zt_flows.rules import (
    Evaluator,
    NetworkFacts,
    RuleSet,
    edges_from_frame,
    evaluate_rules,
)
from zt_flows.settings import RecommendSettings
from zt_flows.vocabulary import ip_protocol, protocol_number

WEB = eni("web", "10.0.1.10", ["sg-web"], ipv6=["2600:1f18::10"])
APP = eni("app", ["10.0.2.20", "10.0.2.21"], ["sg-app", "sg-mon"])
DB = eni("db", "10.0.3.30", ["sg-db"], role=InterfaceRole.DATABASE)
CI = eni("ci", "10.1.0.5", ["sg-ci"], vpc="vpc-b")
FAR = eni("far", "10.2.0.5", ["sg-far"], vpc="vpc-c")
WEST = eni("west", "10.3.0.5", ["sg-west"], vpc="vpc-d")
NAT = eni("nat", "10.0.0.5", [], role=InterfaceRole.NAT_GATEWAY)

RULES = [
    rule("sg-web", "ingress", "tcp", 443, "0.0.0.0/0", rule_id="r-web-443-v4"),
    rule("sg-web", "ingress", "tcp", 443, "::/0", rule_id="r-web-443-v6"),
    rule("sg-web", "ingress", "tcp", 22, "pl-office", rule_id="r-web-ssh"),
    rule("sg-web", "egress", "-1", None, "0.0.0.0/0", rule_id="r-web-out"),
    rule("sg-app", "ingress", "tcp", (8000, 8100), "sg-web", rule_id="r-app-range"),
    rule("sg-app", "ingress", "tcp", 8080, "10.0.1.10/32", rule_id="r-app-host"),
    rule("sg-app", "ingress", "tcp", 9000, "sg-ci", rule_id="r-app-ci"),
    rule("sg-app", "ingress", "tcp", 9000, "sg-far", rule_id="r-app-far"),
    rule("sg-app", "ingress", "tcp", 9000, "sg-west", rule_id="r-app-west"),
    rule("sg-app", "egress", "6", 5432, "sg-db", rule_id="r-app-db"),
    rule("sg-app", "egress", "udp", 53, "10.0.0.2/32", rule_id="r-app-dns"),
    rule("sg-mon", "ingress", "-1", None, "10.0.0.0/16", rule_id="r-mon-all"),
    rule("sg-db", "ingress", "6", 5432, "sg-app", rule_id="r-db-pg"),
    rule("sg-db", "ingress", "icmp", (8, 0), "10.0.0.0/16", rule_id="r-db-ping"),
    rule("sg-db", "ingress", "50", None, "10.0.0.0/16", rule_id="r-db-esp"),
    rule("sg-ci", "egress", "-1", None, "0.0.0.0/0", rule_id="r-ci-out"),
]
OFFICE = ["198.51.100.0/28", "203.0.113.0/30"]
GROUPS = ["sg-web", "sg-app", "sg-mon", "sg-db", "sg-ci", "sg-far", "sg-west"]
INVENTORY = inventory(
    [WEB, APP, DB, CI, FAR, WEST, NAT],
    groups=GROUPS,
    rules=RULES,
    prefix_lists=[prefix_list("pl-office", "office", OFFICE, aws=False)],
    vpcs=[("vpc-a", "10.0.0.0/16", "2600:1f18::/56"), ("vpc-b", "10.1.0.0/16"),
          ("vpc-c", "10.2.0.0/16"), ("vpc-d", "10.3.0.0/16")],
    peerings=[peering("vpc-a", "vpc-b"), peering("vpc-a", "vpc-c", status="pending-acceptance"),
              peering("vpc-a", "vpc-d", region_b="us-west-2")],
)  # fmt: skip


def decide(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
    (edge,) = edges_from_frame(frame([row(*args, **kwargs)]))  # type: ignore[arg-type]
    evaluator = Evaluator(NetworkFacts(INVENTORY), RuleSet.from_inventory(INVENTORY))
    return evaluator.evaluate(edge)


def test_protocols_by_name_and_number() -> None:
    assert [protocol_number(p) for p in ("tcp", "6", "UDP", "17", "icmp", "icmpv6", "-1")] == [
        6,
        6,
        17,
        17,
        1,
        58,
        None,
    ]
    assert protocol_number("50") == 50
    assert [ip_protocol(n) for n in (6, 17, 1, 58, None, 47)] == [
        "tcp",
        "udp",
        "icmp",
        "icmpv6",
        "-1",
        "47",
    ]
    with pytest.raises(ValueError):
        protocol_number("256")


def test_ipv4_cidr_from_the_internet() -> None:
    v = decide("1.2.3.4", WEB, 443)
    assert v.ingress.verdict == "allowed"
    assert v.ingress.matched == ("r-web-443-v4",)  # not the ::/0 rule
    assert v.egress.verdict == "external"  # the internet has no groups
    assert v.verdict == "allowed"
    assert decide("1.2.3.4", WEB, 444).ingress.verdict == "denied"


def test_ipv6_cidr() -> None:
    v = decide("2001:db8::1", WEB, 443, server_address="2600:1f18::10")
    assert v.ingress.matched == ("r-web-443-v6",)
    assert v.ingress.homes == (("2001:db8::1", "r-web-443-v6"),)


def test_prefix_list_matches_by_its_entries() -> None:
    assert decide("198.51.100.5", WEB, 22).ingress.matched == ("r-web-ssh",)
    assert decide("203.0.113.3", WEB, 22).ingress.verdict == "allowed"
    assert decide("198.51.100.20", WEB, 22).ingress.verdict == "denied"  # outside the /28


def test_group_reference_port_range_and_narrowest() -> None:
    # 8080 is admitted by the /32 (1 address x 1 port), the web reference (2 addresses x
    # 101 ports) and sg-mon's all traffic from the VPC; the /32 is the narrowest.
    v = decide(WEB, APP, 8080)
    assert v.ingress.matched == ("r-app-host", "r-app-range", "r-mon-all")
    assert v.ingress.attributed == ("r-app-host",)
    assert v.egress.matched == ("r-web-out",)
    # 8050: only the range and the all-traffic rule; the range is narrower.
    v = decide(WEB, APP, 8050)
    assert v.ingress.attributed == ("r-app-range",)
    assert decide(WEB, APP, 8101).ingress.attributed == ("r-mon-all",)


def test_group_reference_needs_an_address_of_the_member() -> None:
    # web's edge from an address web does not hold: the reference does not match it.
    v = decide(WEB, APP, 8050, client_address="10.0.9.9")
    assert v.ingress.matched == ("r-mon-all",)


def test_group_reference_matches_secondary_addresses() -> None:
    v = decide(APP, DB, 5432, client_address="10.0.2.21")
    assert v.ingress.matched == ("r-db-pg",)  # rule written with protocol "6"
    assert v.egress.matched == ("r-app-db",)
    assert v.verdict == "allowed"


def test_group_reference_across_peerings() -> None:
    assert decide(CI, APP, 9000).ingress.matched == ("r-app-ci",)  # active, same region
    assert decide(FAR, APP, 9000).ingress.verdict == "denied"  # peering pending
    assert decide(WEST, APP, 9000).ingress.verdict == "denied"  # another region
    # ci's egress is its own "all to 0.0.0.0/0".
    assert decide(CI, APP, 9000).egress.matched == ("r-ci-out",)


def test_icmp_rules_match_every_icmp_conversation() -> None:
    # Flow logs record ICMP with port 0: a type-8 rule cannot be told from others.
    v = decide(APP, DB, 0, "icmp")
    assert v.ingress.matched == ("r-db-ping",)
    assert v.ingress.verdict == "allowed"
    assert v.egress.verdict == "denied"  # app has no ICMP egress
    assert v.verdict == "denied"
    assert decide(APP, DB, 0, "icmpv6").ingress.verdict == "denied"


def test_protocol_numbers_without_ports() -> None:
    v = decide(APP, DB, 0, 50)
    assert v.ingress.matched == ("r-db-esp",)
    assert decide(APP, DB, 0, 47).ingress.verdict == "denied"


def test_all_traffic_rule_and_several_groups_on_one_eni() -> None:
    # sg-mon on app admits every protocol from the VPC: udp, icmp, any port.
    for protocol, port in (("udp", 161), ("tcp", 1), ("icmp", 0), (132, 0)):
        assert decide(WEB, APP, port, protocol).ingress.matched == ("r-mon-all",)


def test_egress_is_decided_at_the_client() -> None:
    v = decide(APP, "10.0.0.2", 53, "udp")
    assert v.ingress.verdict == "external"  # an address no ENI holds
    assert v.egress.matched == ("r-app-dns",)
    assert decide(APP, "10.0.0.3", 53, "udp").egress.verdict == "denied"


def test_interfaces_without_groups_are_not_evaluable() -> None:
    v = decide(WEB, NAT, 443)
    assert v.ingress.verdict == "not_evaluable"
    assert "nat_gateway" in (v.ingress.reason or "")
    assert v.verdict == "not_evaluable"
    ghost = eni("ghost", "10.0.5.5", [])
    v = decide(WEB, ghost, 443)
    assert v.ingress.verdict == "not_evaluable"
    assert "not in the inventory" in (v.ingress.reason or "")


def test_unknown_group_makes_a_denial_undecidable() -> None:
    stranger = eni("stranger", "10.0.6.6", ["sg-elsewhere"])
    v = decide(WEB, stranger, 443)
    assert v.ingress.verdict == "not_evaluable"
    assert "sg-elsewhere" in (v.ingress.reason or "")


def test_usage_attribution_overshadowed_and_unused() -> None:
    edges = frame(
        [
            row(WEB, APP, 8080, day=0, flows=5, packets=50, bytes_=5000),
            row(WEB, APP, 8050, day=1, flows=7, packets=70, bytes_=7000),
            row(WEB, APP, 8050, day=2, flows=1, packets=10, bytes_=1000),
            row(APP, DB, 0, "icmp", day=0, flows=3),  # accepted, yet app's egress denies it
            row(WEB, DB, 5432, flows=4, accepted=0, rejected=4),  # rejected: not usage
        ]
    )
    analysis = evaluate_rules(edges, INVENTORY, RecommendSettings())
    assert len(analysis.verdicts) == 4
    assert analysis.days == tuple(sorted({v.edge.day for v in analysis.verdicts}))
    rng = analysis.usage("r-app-range")
    assert (rng.edges, rng.flows, rng.bytes, rng.days_seen) == (2, 13, 13000, 3)
    assert rng.ports == (8050, 8080)
    assert (rng.attributed_edges, rng.attributed_flows) == (1, 8)
    assert not rng.overshadowed
    host = analysis.usage("r-app-host")
    assert (host.edges, host.attributed_edges) == (1, 1)
    everything = analysis.usage("r-mon-all")
    assert everything.edges == 2
    assert everything.overshadowed
    assert everything.overshadowed_by == ("r-app-host", "r-app-range")
    assert analysis.usage("r-app-far").unused
    assert analysis.usage("r-web-out").clients == (WEB.id,)
    # The accepted ICMP edge app's egress rules cannot explain is listed apart.
    assert [v.edge.protocol for v in analysis.unexplained] == [1]
    assert [e.server_port for e in analysis.rejected] == [5432]


def test_members_are_the_enis_of_the_newest_snapshot() -> None:
    from dataclasses import replace as change
    from datetime import UTC, datetime

    from zt_flows.inventory.model import Inventory

    old = eni("old", "10.0.2.50", ["sg-app"])
    new = eni("new", "10.0.2.50", ["sg-app"])  # took the old one's address
    first = change(INVENTORY.snapshots[0], taken_at=datetime(2026, 11, 16, tzinfo=UTC))
    first = change(first, interfaces=(*first.interfaces, old))
    second = change(INVENTORY.snapshots[0], interfaces=(*INVENTORY.snapshots[0].interfaces, new))
    inv = Inventory.from_snapshots([first, second])
    facts = NetworkFacts(inv)
    assert old.id in inv.interfaces  # still known: flows of its days name it
    assert facts.members["sg-app"] == tuple(sorted((APP.id, new.id)))
    # Its edges still evaluate: the reference matches by the edge's groups and address.
    (edge,) = edges_from_frame(frame([row(old, DB, 5432)]))
    assert Evaluator(facts, RuleSet.from_inventory(inv)).evaluate(edge).ingress.allowed


@pytest.mark.parametrize("step", [1, 2, 3, 1 << 18])
def test_index_distinct_numbers_values_first_seen_first(
    step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In steps of any size: the distinct values in the order first seen, NULLs equal to
    NULLs and lists compared whole, and each row numbered by its own value."""
    import polars as pl

    import zt_flows.rules.edges as edges

    monkeypatch.setattr(edges, "_DISTINCT_STEP", step)
    values = [
        ("b", ["sg-2", "sg-1"], None),
        ("a", ["sg-1"], 1),
        ("b", ["sg-2", "sg-1"], None),
        ("b", ["sg-1", "sg-2"], None),
        (None, None, 1),
        ("a", ["sg-1"], 1),
        (None, None, 1),
        ("a", [], 1),
        ("b", ["sg-2", "sg-1"], None),
    ]
    table = pl.DataFrame(
        values, schema={"k": pl.String, "sgs": pl.List(pl.String), "n": pl.Int64}, orient="row"
    ).with_columns(pl.lit(0).alias("other"))
    distinct, index = edges.index_distinct(table, ["k", "sgs", "n"])
    assert distinct.columns == ["k", "sgs", "n"]
    assert distinct.rows() == [
        ("b", ["sg-2", "sg-1"], None),
        ("a", ["sg-1"], 1),
        ("b", ["sg-1", "sg-2"], None),
        (None, None, 1),
        ("a", [], 1),
    ]
    assert index.to_list() == [0, 1, 0, 2, 3, 1, 3, 4, 0]
    assert index.dtype == pl.UInt32
    empty, none = edges.index_distinct(table.clear(), ["k", "sgs", "n"])
    assert (empty.height, none.len()) == (0, 0)
