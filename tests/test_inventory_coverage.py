"""Which interfaces a flow log captured completely over a window, on hand-built estates.

The window is 2026-11-16 to 2026-11-19 (UTC). Flow logs are created on 2026-10-01 unless a
test says otherwise; interfaces are attached on 2026-01-01.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from support.inventory import VPC, eni, flow_log, inventory

from zt_flows.inventory import (
    InterfaceCoverage,
    Inventory,
    has_flow_log_configuration,
    interface_coverage,
)
from zt_flows.inventory.model import FlowLogConfig, NetworkInterface, Snapshot

START = datetime(2026, 11, 16, tzinfo=UTC)
END = datetime(2026, 11, 19, tzinfo=UTC)
SUBNET = "subnet-app-a"

API = eni("api-1", "10.0.10.21", ["sg-api"], subnet=SUBNET)
DB = eni("db", "10.0.20.5", ["sg-db"], subnet="subnet-data-a")


def estate(*logs: FlowLogConfig, enis: tuple[NetworkInterface, ...] = (API, DB)) -> Inventory:
    return inventory(enis, groups=["sg-api", "sg-db"], rules=[], flow_logs=logs)


def judge(inv: Inventory, eni_id: str = API.id) -> InterfaceCoverage:
    return interface_coverage(inv, START, END)[eni_id]


@pytest.mark.parametrize(
    ("resource", "via"),
    [(API.id, ("eni",)), (SUBNET, ("subnet",)), (VPC, ("vpc",))],
)
def test_an_all_traffic_log_on_the_eni_its_subnet_or_its_vpc_covers_it(
    resource: str, via: tuple[str, ...]
) -> None:
    log = flow_log(resource)
    coverage = interface_coverage(estate(log), START, END)
    api = coverage[API.id]
    assert (api.covered, api.configured, api.via) == (True, True, via)
    assert api.covered_by == (log,)
    assert (api.gaps, api.reason) == ((), "")
    assert api.needed_from == START
    # The database sits in another subnet: only the VPC's log reaches it.
    assert coverage[DB.id].covered is (resource == VPC)


def test_a_subnet_that_logs_only_rejects_never_covers() -> None:
    rejects = flow_log(SUBNET, "REJECT")
    api = interface_coverage(estate(rejects), START, END)[API.id]
    assert not api.covered
    assert api.covered_by == ()
    assert [gap.kind for gap in api.gaps] == ["reject_only"]
    assert api.reason == (
        f"only REJECT traffic is logged ({rejects.id} (REJECT on {SUBNET})): the traffic "
        f"{API.id} really uses is not seen"
    )


def test_accepted_traffic_alone_does_not_cover() -> None:
    accepts = flow_log(VPC, "ACCEPT")
    api = interface_coverage(estate(accepts), START, END)[API.id]
    assert not api.covered
    assert [(gap.kind, gap.flow_log_id) for gap in api.gaps] == [("accept_only", None)]
    assert accepts.id in api.reason


def test_an_accept_and_a_reject_log_together_cover_even_on_different_levels() -> None:
    accepts = flow_log(VPC, "ACCEPT")
    rejects = flow_log(SUBNET, "REJECT")
    coverage = interface_coverage(estate(accepts, rejects), START, END)
    api = coverage[API.id]
    assert api.covered
    assert api.via == ("subnet", "vpc")
    assert set(api.covered_by) == {accepts, rejects}
    # The database's subnet has no REJECT log: the VPC's ACCEPT log alone is not enough.
    assert [gap.kind for gap in coverage[DB.id].gaps] == ["accept_only"]


def test_all_traffic_wins_over_a_pair() -> None:
    everything = flow_log(VPC)
    api = judge(estate(flow_log(API.id, "ACCEPT"), flow_log(API.id, "REJECT"), everything))
    assert api.covered_by == (everything,)
    assert api.via == ("vpc",)


def test_a_log_created_after_the_window_started_gives_its_creation_time() -> None:
    created = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    late = flow_log(VPC, created=created)
    api = interface_coverage(estate(late), START, END)[API.id]
    assert not api.covered
    (gap,) = api.gaps
    assert (gap.kind, gap.flow_log_id, gap.at) == ("created_late", late.id, created)
    assert gap.message == (
        f"{late.id} (ALL on {VPC}) was created at 2026-11-17T08:00:00Z, after the window "
        "started (2026-11-16T00:00:00Z)"
    )
    # Created exactly at the window's start is in time.
    assert judge(estate(flow_log(VPC, created=START))).covered


def test_an_interface_attached_mid_window_needs_coverage_from_its_attach_time() -> None:
    created = datetime(2026, 11, 17, 8, 0, tzinfo=UTC)
    later = eni(
        "worker-1b", "10.0.12.31", ["sg-api"], attached=datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    )
    earlier = eni(
        "worker-1", "10.0.12.32", ["sg-api"], attached=datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
    )
    coverage = interface_coverage(
        estate(flow_log(VPC, created=created), enis=(later, earlier)), START, END
    )
    assert coverage[later.id].covered
    assert coverage[later.id].needed_from == datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    assert not coverage[earlier.id].covered
    assert coverage[earlier.id].needed_from == datetime(2026, 11, 17, 6, 0, tzinfo=UTC)
    assert coverage[earlier.id].reason.endswith(
        f"was created at 2026-11-17T08:00:00Z, after {earlier.id} was attached "
        "(2026-11-17T06:00:00Z)"
    )
    # No attach time (an unattached interface): the whole window.
    loose = eni("spare", "10.0.10.99", ["sg-api"], attached=None)
    assert (
        interface_coverage(estate(flow_log(VPC), enis=(loose,)), START, END)[loose.id].needed_from
        == START
    )


@pytest.mark.parametrize(
    ("changes", "kind", "words"),
    [
        ({"status": None}, "not_active", "is not ACTIVE (status: none)"),
        ({"status": "DELETING"}, "not_active", "is not ACTIVE (status: DELETING)"),
        ({"deliver": "FAILED"}, "delivery_failed", "fails to deliver its records (FAILED)"),
        ({"traffic": None}, "traffic_type_unknown", "does not say which traffic it captures"),
    ],
)
def test_a_log_that_is_not_working_does_not_cover(
    changes: dict[str, object], kind: str, words: str
) -> None:
    broken = flow_log(VPC, log_id="fl-broken", **changes)  # type: ignore[arg-type]
    api = interface_coverage(estate(broken), START, END)[API.id]
    assert not api.covered
    assert [(gap.kind, gap.flow_log_id) for gap in api.gaps] == [(kind, "fl-broken")]
    assert words in api.reason
    # A working log beside it covers; the broken one is then no gap.
    fine = flow_log(SUBNET)
    api = interface_coverage(estate(broken, fine), START, END)[API.id]
    assert (api.covered, api.covered_by, api.gaps) == (True, (fine,), ())


def test_every_reason_of_every_log_is_given() -> None:
    late_rejects = flow_log(
        SUBNET, "REJECT", created=datetime(2026, 11, 18, tzinfo=UTC), deliver="FAILED"
    )
    accepts = flow_log(VPC, "ACCEPT")
    api = interface_coverage(estate(late_rejects, accepts), START, END)[API.id]
    assert [gap.kind for gap in api.gaps] == ["delivery_failed", "created_late", "accept_only"]


def test_no_flow_log_at_all() -> None:
    api = interface_coverage(estate(), START, END)[API.id]
    assert (api.configured, api.covered) == (True, False)
    assert [gap.kind for gap in api.gaps] == ["no_flow_log"]
    assert api.reason == f"no flow log on {API.id}, its subnet {SUBNET} or its VPC {VPC}"


def test_transit_gateway_and_other_vpcs_logs_cover_nothing_here() -> None:
    logs = (flow_log("tgw-0a1b", None), flow_log("vpc-other"), flow_log("subnet-other"))
    api = interface_coverage(estate(*logs), START, END)[API.id]
    assert [gap.kind for gap in api.gaps] == ["no_flow_log"]


def test_without_a_flow_log_configuration_nothing_is_judged() -> None:
    inv = inventory([API, DB], groups=["sg-api", "sg-db"], rules=[])  # no describe-flow-logs.json
    assert not has_flow_log_configuration(inv)
    coverage = interface_coverage(inv, START, END)
    for found in coverage.values():
        assert (found.configured, found.covered) == (False, False)
        assert [gap.kind for gap in found.gaps] == ["no_configuration"]
    assert coverage[API.id].reason == (
        "no flow-log configuration for account 111122223333 in us-east-1 (describe-flow-logs.json)"
    )
    assert has_flow_log_configuration(estate())  # present, if empty


def _snapshots(*entries: tuple[datetime, tuple[FlowLogConfig, ...] | None]) -> Inventory:
    """One snapshot of API and DB per (taken at, flow logs); None: no describe-flow-logs.json."""
    (base,) = estate().snapshots
    return Inventory.from_snapshots(
        [
            replace(
                base,
                taken_at=taken_at,
                flow_logs=logs or (),
                missing=("describe-flow-logs.json",) if logs is None else (),
            )
            for taken_at, logs in entries
        ]
    )


def test_a_log_gone_from_a_later_snapshot_did_not_cover_the_window() -> None:
    log = flow_log(VPC)
    mid = datetime(2026, 11, 17, 12, 0, tzinfo=UTC)
    inv = _snapshots((START, (log,)), (mid, ()))
    assert inv.flow_logs == (log,)  # the merged view still knows it
    api = interface_coverage(inv, START, END)[API.id]
    assert not api.covered
    (gap,) = api.gaps
    assert (gap.kind, gap.at) == ("deleted", mid)
    assert gap.message == (
        f"{log.id} (ALL on {VPC}) was listed at 2026-11-16T00:00:00Z and gone at "
        "2026-11-17T12:00:00Z, before the window ended"
    )
    # Gone only from a snapshot taken after the window: still unproven for the window's end.
    assert not judge(_snapshots((START, (log,)), (END + timedelta(days=1), ()))).covered
    # Listed at or after the window's end: it lasted.
    assert judge(_snapshots((END, (log,)), (END + timedelta(days=1), ()))).covered
    # A later snapshot without the document says nothing about it.
    assert judge(_snapshots((START, (log,)), (mid, None))).covered


def test_configuration_is_known_per_account_and_region() -> None:
    east = eni("east", "10.0.10.5", ["sg-api"])
    west = replace(eni("west", "10.9.10.5", ["sg-api"], vpc="vpc-west"), region="eu-west-1")
    snap = Snapshot(
        taken_at=START,
        source="nested",
        account_ids=("111122223333",),
        regions=("eu-west-1", "us-east-1"),
        interfaces=(east, west),
        security_groups=(),
        rules=(),
        prefix_lists=(),
        vpcs=(),
        subnets=(),
        peerings=(),
        flow_logs=(flow_log(VPC),),
        missing=("111122223333/eu-west-1/describe-flow-logs.json",),
    )
    inv = Inventory.from_snapshots([snap])
    assert has_flow_log_configuration(inv)
    coverage = interface_coverage(inv, START, END)
    assert (coverage[east.id].configured, coverage[east.id].covered) == (True, True)
    assert (coverage[west.id].configured, coverage[west.id].covered) == (False, False)
    assert "account 111122223333 in eu-west-1" in coverage[west.id].reason


def test_the_window_must_be_aware_and_forward() -> None:
    inv = estate(flow_log(VPC))
    with pytest.raises(ValueError, match="timezone-aware"):
        interface_coverage(inv, datetime(2026, 11, 16), END)
    with pytest.raises(ValueError, match="before it starts"):
        interface_coverage(inv, END, START)
    # Any time zone names the same moment: a log created at 00:30 UTC is late for a
    # window that starts at 01:00 in UTC+1.
    paris = timezone(timedelta(hours=1))
    late = estate(flow_log(VPC, created=START + timedelta(minutes=30)))
    found = interface_coverage(late, datetime(2026, 11, 16, 1, 0, tzinfo=paris), END)
    assert found[API.id].needed_from == START
    assert [gap.kind for gap in found[API.id].gaps] == ["created_late"]
    assert list(found) == sorted([API.id, DB.id])
