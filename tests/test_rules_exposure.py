"""Exposure figures on a small estate, counted by hand.

    lb    sg-lb   10.0.0.10, public 3.3.3.3 (internet-facing ALB node)
    app1  sg-app  10.0.1.1
    app2  sg-app  10.0.1.2
    db    sg-db   10.0.2.1

    sg-lb   in  tcp 443 from 0.0.0.0/0          out tcp 8080 to sg-app
    sg-app  in  tcp 8080 from sg-lb             out all traffic to 0.0.0.0/0
            in  tcp 22 from 10.0.0.0/16
            in  icmp (every type) from 10.0.0.0/16
    sg-db   in  tcp 5432 from sg-app            (no egress)
            in  udp 1000-1009 from sg-app

Sources: the four ENIs, the internet, other private space (no on-premises range is
configured). A combination counts when the destination's ingress admits the source and,
for an ENI source, the source's egress admits the destination.

    to lb    app1 tcp/443 (1), app2 (1), db (0: no egress), internet (1),
             private (1: 0.0.0.0/0 holds it)                                   =  4
    to app1  lb: ingress 8080+22+icmp, egress only tcp 8080 to sg-app   -> 1
             app2: 22 + icmp (app2 is not in sg-lb)                     -> 2
             db: no egress -> 0;  internet: 10.0.0.0/16 is not the internet -> 0
             private: 22 + icmp                                         -> 2   =  5
    to app2  the same                                                          =  5
    to db    app1: tcp 5432 + udp 1000-1009 = 11;  app2: 11;  others 0         = 22
                                                                         total = 36
Internet-reachable: lb on tcp/443 (the others have no public address).
"""

from __future__ import annotations

from fixtures.edges.build import eni, inventory, rule

from zt_flows.inventory.model import InterfaceRole
from zt_flows.rules import NetworkFacts, RuleSet, measure_exposure

LB = eni("lb", "10.0.0.10", ["sg-lb"], role=InterfaceRole.LOAD_BALANCER, public=["3.3.3.3"])
APP1 = eni("app1", "10.0.1.1", ["sg-app"])
APP2 = eni("app2", "10.0.1.2", ["sg-app"])
DB = eni("db", "10.0.2.1", ["sg-db"])
RULES = [
    rule("sg-lb", "ingress", "tcp", 443, "0.0.0.0/0"),
    rule("sg-lb", "egress", "tcp", 8080, "sg-app"),
    rule("sg-app", "ingress", "tcp", 8080, "sg-lb"),
    rule("sg-app", "ingress", "tcp", 22, "10.0.0.0/16"),
    rule("sg-app", "ingress", "icmp", None, "10.0.0.0/16"),
    rule("sg-app", "egress", "-1", None, "0.0.0.0/0"),
    rule("sg-db", "ingress", "tcp", 5432, "sg-app"),
    rule("sg-db", "ingress", "udp", (1000, 1009), "sg-app"),
]
GROUPS = ["sg-lb", "sg-app", "sg-db"]


def measure(enis, rules, **kwargs):  # type: ignore[no-untyped-def]
    inv = inventory(enis, groups=GROUPS, rules=rules)
    return measure_exposure(RuleSet.from_inventory(inv), NetworkFacts(inv), **kwargs)


def test_counted_by_hand() -> None:
    figures = measure([LB, APP1, APP2, DB], RULES)
    assert figures.combinations == 36
    assert figures.internet_reachable == ("eni-lb:tcp/443",)


def test_equivalent_enis_scale_by_class() -> None:
    # A third app ENI: to lb 3 apps + internet + private = 5; to each app: lb 1, the two
    # other apps 2 each, private 2 = 7, three times = 21; to db 3 x 11 = 33. Total 59.
    app3 = eni("app3", "10.0.1.3", ["sg-app"])
    assert measure([LB, APP1, APP2, app3, DB], RULES).combinations == 59


def test_narrower_rule_lowers_the_count() -> None:
    # SSH from sg-app instead of the VPC: app1 loses nothing from app2 (still 22 + icmp),
    # private space keeps only icmp (1 instead of 2): each app 5 -> 4. Total 34.
    narrower = [r for r in RULES if r.from_port != 22]
    narrower.append(rule("sg-app", "ingress", "tcp", 22, "sg-app"))
    assert measure([LB, APP1, APP2, DB], narrower).combinations == 34


def test_ipv6_public_rule_and_on_premises_class() -> None:
    more = [
        *RULES,
        rule("sg-lb", "ingress", "tcp", 443, "::/0"),  # same class, same port: no change
        rule("sg-db", "ingress", "tcp", 5432, "192.168.10.0/24"),
    ]
    # The /24 adds one source class to db's tcp/5432: other private space when no
    # on-premises range is configured (36 + 1), the on-premises class when it is, and then
    # lb's 0.0.0.0/0 admits that class on 443 too (36 + 2).
    plain = measure([LB, APP1, APP2, DB], more)
    onprem = measure([LB, APP1, APP2, DB], more, onprem_cidrs=("192.168.0.0/16",))
    assert plain.combinations == 37
    assert onprem.combinations == 38
    assert plain.internet_reachable == ("eni-lb:tcp/443",)
    # An all-traffic rule from the internet: every port and both ICMPs, listed as ranges.
    wide = measure([LB, APP1, APP2, DB], [*RULES, rule("sg-lb", "ingress", "-1", None, "::/0")])
    assert wide.internet_reachable == (
        "eni-lb:icmp",
        "eni-lb:icmpv6",
        "eni-lb:tcp/0-65535",
        "eni-lb:udp/0-65535",
    )
