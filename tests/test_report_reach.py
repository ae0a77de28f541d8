"""Internet reach before and after, compared port by port; its wording; its plan.json form.

Figures are written by hand here (they are what ``measure_exposure`` writes into a plan),
so every verdict can be checked against the ports and address counts on both sides.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from zt_flows.errors import PlanFormatError
from zt_flows.recommend.plan import (
    Exposure,
    ExposureFigures,
    InternetReach,
    Plan,
    Verification,
    plan_from_dict,
    plan_to_dict,
    plan_to_json,
    read_plan,
)
from zt_flows.report.reach import (
    ALARMING,
    reach_rows,
    share_text,
    weight_text,
    weights_text,
)


def reachability_changes(
    before: ExposureFigures, after: ExposureFigures
) -> tuple[list[str], list[str]]:
    """(closed, newly reachable or wider), as the pull request body lists them."""
    rows = reach_rows(before, after)
    return (
        [r.entry for r in rows if r.status == "closed"],
        [r.entry for r in rows if r.status in ALARMING],
    )


V4 = 4_256_038_912  # public IPv4 space of an inventory with one VPC inside 10.0.0.0/8
V6 = 2**128 - (2**121 + 2**118 + 1 + 2**72)
PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"


def reach(entry: str, v4: int = 0, v6: int = 0, *peers: str, **more: object) -> InternetReach:
    return InternetReach(
        entry=entry,
        ipv4_addresses=v4,
        ipv6_addresses=v6,
        ipv4_share=v4 / V4,
        ipv6_share=v6 / V6,
        peers=peers or ("0.0.0.0/0",),
        **more,  # type: ignore[arg-type]
    )


def figures(*entries: InternetReach, combinations: int = 100) -> ExposureFigures:
    ordered = tuple(sorted(entries, key=lambda r: r.entry))
    return ExposureFigures(
        combinations=combinations,
        internet_reachable=tuple(r.entry for r in ordered),
        internet_reach=ordered,
        public_ipv4=V4,
        public_ipv6=V6,
    )


def statuses(before: ExposureFigures, after: ExposureFigures) -> dict[str, str]:
    return {r.entry: r.status for r in reach_rows(before, after)}


def test_a_port_range_narrowed_to_one_port_is_not_newly_reachable() -> None:
    before = figures(reach("eni-a:tcp/0-65535", V4))
    after = figures(reach("eni-a:tcp/443", V4))
    assert statuses(before, after) == {
        "eni-a:tcp/0-65535": "narrowed",
        "eni-a:tcp/443": "unchanged",
    }
    assert reachability_changes(before, after) == ([], [])
    rows = {r.entry: r for r in reach_rows(before, after)}
    assert rows["eni-a:tcp/443"].before == "as tcp/0-65535: all IPv4"
    assert rows["eni-a:tcp/0-65535"].after == "as tcp/443: all IPv4"


def test_fewer_addresses_is_narrowed_and_more_is_wider() -> None:
    everyone = figures(reach("eni-a:tcp/22", V4))
    office = figures(reach("eni-a:tcp/22", 2, 0, "198.51.100.7/32", "198.51.100.9/32"))
    assert statuses(everyone, office) == {"eni-a:tcp/22": "narrowed"}
    assert statuses(office, everyone) == {"eni-a:tcp/22": "wider"}
    assert reachability_changes(office, everyone) == ([], ["eni-a:tcp/22"])
    # Same addresses: unchanged, whatever else changed in the plan.
    assert statuses(office, office) == {"eni-a:tcp/22": "unchanged"}


def test_closed_and_newly_reachable_ports() -> None:
    before = figures(reach("eni-a:tcp/80", V4), reach("eni-a:tcp/443", V4))
    after = figures(reach("eni-a:tcp/443", V4), reach("eni-b:tcp/8080", V4))
    assert statuses(before, after) == {
        "eni-a:tcp/443": "unchanged",
        "eni-a:tcp/80": "closed",
        "eni-b:tcp/8080": "newly reachable",
    }
    assert reachability_changes(before, after) == (["eni-a:tcp/80"], ["eni-b:tcp/8080"])
    # Part of a range newly reachable: the range is flagged, even if the rest was open.
    wider_range = figures(reach("eni-a:tcp/443-444", V4))
    assert statuses(after, wider_range)["eni-a:tcp/443-444"] == "newly reachable"
    # The same port on another protocol is another port.
    assert statuses(before, figures(reach("eni-a:udp/443", V4)))["eni-a:udp/443"] == (
        "newly reachable"
    )


def test_unmeasured_figures_compare_by_ports_only() -> None:
    """A plan written before reach was measured lists entries without their measure."""
    before = ExposureFigures(10, ("eni-a:tcp/22", "eni-a:tcp/80"))
    after = ExposureFigures(5, ("eni-a:tcp/22",))
    assert statuses(before, after) == {"eni-a:tcp/22": "unchanged", "eni-a:tcp/80": "closed"}
    assert [r.before for r in reach_rows(before, after)] == ["reachable", "reachable"]
    assert weights_text(before, after) == ""


def test_what_an_entry_admits_in_words() -> None:
    assert share_text(V4, V4, "IPv4") == "all IPv4"
    # Rounded down: a share short of all never reads 100%.
    assert share_text(V4 - 1, V4, "IPv4") == "99.9% of IPv4"
    assert share_text(2**31 - 2**24 - 2**22 - 2**24, V4, "IPv4") == "49.5% of IPv4"
    assert share_text(2, V4, "IPv4") == "2 IPv4 addresses"
    assert share_text(1, V4, "IPv4") == "1 IPv4 address"
    assert share_text(2**72, V6, "IPv6") == "2^72 IPv6 addresses"
    assert share_text(2**96 - 2**72, V6, "IPv6") == "about 2^96 IPv6 addresses"
    cdn = reach("eni-a:tcp/443", 2**18, 0, "pl-cdn", services=("cloudfront",))
    rows = reach_rows(figures(), figures(cdn))
    assert rows[0].after == "262,144 IPv4 addresses (cloudfront only)"
    unknown = reach("eni-a:tcp/443", 0, 0, "pl-x", unmeasured=("pl-x",))
    nlb = reach("eni-b:tcp/8443", V4, path="nlb")
    rows = reach_rows(figures(), figures(unknown, nlb))
    assert rows[0].after == "no measured address; prefix list pl-x unknown to the inventory"
    assert rows[1].after == "all IPv4 (if an internet-facing NLB targets it)"


def test_weights_sum_the_shares() -> None:
    before = figures(reach("eni-a:tcp/22", V4), reach("eni-a:tcp/443", V4, V6, "0.0.0.0/0", "::/0"))
    after = figures(reach("eni-a:tcp/22", 2), reach("eni-a:tcp/443", V4 // 2))
    assert before.internet_weight_ipv4 == 2.0
    assert before.internet_weight_ipv6 == 1.0
    assert after.internet_weight_ipv4 == pytest.approx(0.5)
    assert weights_text(before, after) == "IPv4 2.00 -> 0.50, IPv6 1.00 -> 0"
    assert weight_text(2 / V4) == "<0.01"
    assert weight_text(0.0) == "0"


# --------------------------------------------------------------------------- plan.json


def plan_with(before: ExposureFigures, after: ExposureFigures) -> Plan:
    return Plan(
        window_start=datetime(2026, 11, 16, tzinfo=UTC),
        window_end=datetime(2026, 11, 19, tzinfo=UTC),
        security_groups=(),
        exposure=Exposure(before, after),
        verification=Verification(replayed=0, blocked=0),
    )


def test_plan_json_carries_the_measure_and_reads_it_back() -> None:
    before = figures(
        reach("eni-a:tcp/22", V4),
        reach("eni-a:tcp/443", 2**18, 0, "pl-cdn", services=("cloudfront",)),
    )
    after = figures(reach("eni-a:tcp/22", 2, 0, "198.51.100.7/32", "198.51.100.9/32"))
    plan = plan_with(before, after)
    doc = plan_to_dict(plan)
    exposure = doc["exposure"]
    assert isinstance(exposure, dict)
    assert exposure["after"] == {
        "combinations": 100,
        "internet_reachable_count": 1,
        "internet_reachable": ["eni-a:tcp/22"],
        "internet_weight": {"ipv4": 2 / V4, "ipv6": 0.0},
        "public_addresses": {"ipv4": V4, "ipv6": V6},
        "internet_reach": [
            {
                "entry": "eni-a:tcp/22",
                "path": "address",
                "ipv4_addresses": 2,
                "ipv4_share": 2 / V4,
                "ipv6_addresses": 0,
                "ipv6_share": 0.0,
                "peers": ["198.51.100.7/32", "198.51.100.9/32"],
                "services": [],
                "unmeasured": [],
            }
        ],
    }
    text = plan_to_json(plan)
    back = plan_from_dict(json.loads(text))
    assert back.exposure == plan.exposure
    assert plan_to_json(back) == text  # byte-identical, the IPv6 sizes included


def test_a_plan_without_the_measure_still_reads() -> None:
    doc = plan_to_dict(plan_with(figures(reach("eni-a:tcp/22", V4)), figures()))
    for side in ("before", "after"):
        for key in ("internet_weight", "public_addresses", "internet_reach"):
            del doc["exposure"][side][key]  # type: ignore[index]
    plan = plan_from_dict(doc)
    assert plan.exposure.before.internet_reachable == ("eni-a:tcp/22",)
    assert not plan.exposure.before.measured
    assert plan.exposure.before.reach_of("eni-a:tcp/22") is None


def test_a_measure_that_does_not_match_its_entries_is_refused() -> None:
    doc = plan_to_dict(plan_with(figures(reach("eni-a:tcp/22", V4)), figures()))
    doc["exposure"]["before"]["internet_reachable"] = ["eni-a:tcp/23"]  # type: ignore[index]
    with pytest.raises(PlanFormatError, match=r"exposure\.before\.internet_reach"):
        plan_from_dict(doc)
    doc = plan_to_dict(plan_with(figures(reach("eni-a:tcp/22", V4)), figures()))
    doc["exposure"]["before"]["internet_reach"][0]["ipv4_share"] = "all"  # type: ignore[index]
    with pytest.raises(PlanFormatError, match="a number"):
        plan_from_dict(doc)


def test_the_sample_plan_fixture_is_measured() -> None:
    plan = read_plan(PLANS / "sample_plan.json")
    before, after = plan.exposure.before, plan.exposure.after
    assert before.measured
    assert after.measured
    ssh = "eni-0a1b2c3d4e5f00103:tcp/22"
    assert statuses(before, after)[ssh] == "narrowed"
    assert replace(after, internet_reach=()).measured is False
