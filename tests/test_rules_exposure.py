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
Internet-reachable: lb on tcp/443 (the others have no public address), from all of public
IPv4 space.
"""

from __future__ import annotations

from support.inventory import eni, inventory, prefix_list, rule

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
    assert figures.reach[0].ipv4_share == 1.0


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
    # An all-traffic rule from the internet: every port and ICMP, listed as ranges; not
    # ICMPv6, which an IPv4 peer does not send (and lb holds no IPv6 address).
    wide = measure(
        [LB, APP1, APP2, DB], [*RULES, rule("sg-lb", "ingress", "-1", None, "0.0.0.0/0")]
    )
    assert wide.internet_reachable == (
        "eni-lb:icmp",
        "eni-lb:tcp/0-65535",
        "eni-lb:udp/0-65535",
    )
    # ::/0 reaches nothing on an ENI without an IPv6 address.
    v6 = measure([LB, APP1, APP2, DB], [*RULES, rule("sg-lb", "ingress", "-1", None, "::/0")])
    assert v6.internet_reachable == ("eni-lb:tcp/443",)


# --------------------------------------------------------------------------- internet reach
#
# Reach is measured by address space: any public address admitted counts, and each entry
# says how much of the public space it admits. Public space is everything outside the
# non-public blocks and the inventory's VPC CIDRs (here 10.0.0.0/16, inside 10.0.0.0/8, and
# the IPv6 block 2600:1f18:4a2:5a00::/56).

V6_BLOCK = "2600:1f18:4a2:5a00::/56"
VPCS = (("vpc-a", "10.0.0.0/16", V6_BLOCK),)
# 2^32 minus 10/8, 172.16/12, 192.168/16, 100.64/10, 127/8, 169.254/16.
PUBLIC_V4 = 2**32 - (2**24 + 2**20 + 2**16 + 2**22 + 2**24 + 2**16)
# 2^128 minus fc00::/7, fe80::/10, ::1 and the VPC's /56.
PUBLIC_V6 = 2**128 - (2**121 + 2**118 + 1 + 2**72)
WEB = eni(
    "web",
    "10.0.0.20",
    ["sg-web"],
    public=["3.3.3.20"],
    ipv6=["2600:1f18:4a2:5a00::20"],
)


def reach_of(ingress, *, enis=(WEB,), prefix_lists=(), groups=("sg-web",)):  # type: ignore[no-untyped-def]
    inv = inventory(enis, groups=list(groups), rules=ingress, prefix_lists=prefix_lists, vpcs=VPCS)
    return measure_exposure(RuleSet.from_inventory(inv), NetworkFacts(inv))


def only(figures, entry):  # type: ignore[no-untyped-def]
    assert figures.internet_reachable == (entry,)
    assert [r.entry for r in figures.reach] == [entry]
    return figures.reach[0]


def test_public_space_is_everything_but_private_space_and_the_vpcs() -> None:
    figures = reach_of([rule("sg-web", "ingress", "tcp", 443, "0.0.0.0/0")])
    assert (figures.public_ipv4, figures.public_ipv6) == (PUBLIC_V4, PUBLIC_V6)
    whole = only(figures, "eni-web:tcp/443")
    assert (whole.ipv4_addresses, whole.ipv4_share) == (PUBLIC_V4, 1.0)
    assert (whole.ipv6_addresses, whole.ipv6_share) == (0, 0.0)
    assert whole.peers == ("0.0.0.0/0",)
    assert whole.path == "address"


def test_a_narrowed_range_still_counts_with_about_half_the_space() -> None:
    half = only(reach_of([rule("sg-web", "ingress", "tcp", 22, "0.0.0.0/1")]), "eni-web:tcp/22")
    # 0.0.0.0/1 holds 10.0.0.0/8, 100.64.0.0/10 and 127.0.0.0/8, which are not public.
    assert half.ipv4_addresses == 2**31 - 2**24 - 2**22 - 2**24
    assert 0.49 < half.ipv4_share < 0.51
    office = only(
        reach_of([rule("sg-web", "ingress", "tcp", 22, "198.51.100.7/32")]), "eni-web:tcp/22"
    )
    assert office.ipv4_addresses == 1
    assert office.ipv4_share == 1 / PUBLIC_V4


def test_private_ranges_and_the_vpcs_own_blocks_are_not_the_internet() -> None:
    for peer in ("10.0.0.0/8", "172.16.0.0/12", "10.0.0.0/16", V6_BLOCK, "fd00::/8"):
        figures = reach_of([rule("sg-web", "ingress", "tcp", 22, peer)])
        assert figures.internet_reachable == (), peer
        assert figures.reach == ()


def test_a_range_around_the_vpcs_ipv6_block_admits_the_rest_of_it() -> None:
    around = only(
        reach_of([rule("sg-web", "ingress", "tcp", 443, "2600:1f18::/32")]), "eni-web:tcp/443"
    )
    assert around.ipv6_addresses == 2**96 - 2**72
    assert around.ipv6_share == (2**96 - 2**72) / PUBLIC_V6
    assert around.ipv4_addresses == 0


def test_ipv6_any_counts_on_an_eni_with_a_global_ipv6_address_only() -> None:
    rules = [rule("sg-web", "ingress", "tcp", 443, "::/0")]
    entry = only(reach_of(rules), "eni-web:tcp/443")
    assert (entry.ipv6_addresses, entry.ipv6_share) == (PUBLIC_V6, 1.0)
    v4_only = eni("web", "10.0.0.20", ["sg-web"], public=["3.3.3.20"])
    assert reach_of(rules, enis=(v4_only,)).internet_reachable == ()
    unique_local = eni("web", "10.0.0.20", ["sg-web"], ipv6=["fd00::20"])
    assert reach_of(rules, enis=(unique_local,)).internet_reachable == ()


def test_prefix_lists_count_by_their_public_entries() -> None:
    office = prefix_list("pl-office", "office", ["198.51.100.0/24", "10.20.0.0/16"], aws=False)
    cdn = prefix_list(
        "pl-cdn", "com.amazonaws.global.cloudfront.origin-facing", ["13.32.0.0/15", "52.84.0.0/15"]
    )
    private = prefix_list("pl-vpn", "vpn", ["10.99.0.0/16"], aws=False)
    lists = (office, cdn, private)
    figures = reach_of(
        [
            rule("sg-web", "ingress", "tcp", 22, "pl-office"),
            rule("sg-web", "ingress", "tcp", 443, "pl-cdn"),
            rule("sg-web", "ingress", "tcp", 8080, "pl-vpn"),
        ],
        prefix_lists=lists,
    )
    assert figures.internet_reachable == ("eni-web:tcp/22", "eni-web:tcp/443")
    ssh, https = figures.reach
    assert (ssh.ipv4_addresses, ssh.peers, ssh.services) == (256, ("pl-office",), ())
    # Reachable from CloudFront only: the entry names the service.
    assert (https.ipv4_addresses, https.services) == (2 * 2**17, ("cloudfront",))
    # A public CIDR beside the list: no longer CloudFront only.
    mixed = reach_of(
        [
            rule("sg-web", "ingress", "tcp", 443, "pl-cdn"),
            rule("sg-web", "ingress", "tcp", 443, "0.0.0.0/0"),
        ],
        prefix_lists=lists,
    )
    assert only(mixed, "eni-web:tcp/443").services == ()
    assert mixed.reach[0].peers == ("0.0.0.0/0", "pl-cdn")


def test_a_prefix_list_the_inventory_lacks_counts_unmeasured() -> None:
    entry = only(reach_of([rule("sg-web", "ingress", "tcp", 443, "pl-unknown")]), "eni-web:tcp/443")
    assert entry.unmeasured == ("pl-unknown",)
    assert (entry.ipv4_addresses, entry.ipv6_addresses) == (0, 0)


def test_ports_split_where_the_admitted_space_changes() -> None:
    figures = reach_of(
        [
            rule("sg-web", "ingress", "-1", None, "::/0"),
            rule("sg-web", "ingress", "tcp", 443, "0.0.0.0/0"),
            rule("sg-web", "ingress", "tcp", (1000, 2000), "0.0.0.0/1"),
            rule("sg-web", "ingress", "tcp", (1500, 2500), "0.0.0.0/1"),
        ]
    )
    # ICMP travels over IPv4 and ICMPv6 over IPv6: ::/0 opens icmpv6 only.
    assert figures.internet_reachable == (
        "eni-web:icmpv6",
        "eni-web:tcp/0-442",
        "eni-web:tcp/1000-2500",
        "eni-web:tcp/2501-65535",
        "eni-web:tcp/443",
        "eni-web:tcp/444-999",
        "eni-web:udp/0-65535",
    )
    by_entry = {r.entry: r for r in figures.reach}
    assert by_entry["eni-web:tcp/443"].ipv4_share == 1.0
    assert by_entry["eni-web:tcp/443"].ipv6_share == 1.0
    assert 0.49 < by_entry["eni-web:tcp/1000-2500"].ipv4_share < 0.51
    assert by_entry["eni-web:tcp/444-999"].ipv4_addresses == 0


def test_possible_targets_of_an_internet_facing_nlb_count_through_it() -> None:
    """An NLB with client IP preservation hands the target the client's public address."""
    nlb = eni("nlb", "10.0.0.50", [], role=InterfaceRole.NETWORK_LOAD_BALANCER, public=["3.3.3.50"])
    app = eni("app", "10.0.1.5", ["sg-web"])
    rules = [rule("sg-web", "ingress", "tcp", 8443, "0.0.0.0/0")]
    entry = only(reach_of(rules, enis=(nlb, app)), "eni-app:tcp/8443")
    assert (entry.path, entry.ipv4_share) == ("nlb", 1.0)
    # Without an internet-facing NLB in its VPC, a private ENI is not reachable.
    assert reach_of(rules, enis=(app,)).internet_reachable == ()
    internal_nlb = eni("nlb", "10.0.0.50", [], role=InterfaceRole.NETWORK_LOAD_BALANCER)
    assert reach_of(rules, enis=(internal_nlb, app)).internet_reachable == ()
