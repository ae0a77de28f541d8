"""Key layouts: parsing AWS keys as strings, and pruning by the times they state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from support.sources import ACCOUNT, at, default_key, hive_key

from zt_flows.settings import TimeWindow
from zt_flows.sources.layout import (
    PrefixState,
    is_flow_log_name,
    parse_key,
    state_of_prefix,
    step,
)

STAMP = at("2026-11-16T05:20:00Z")
OPEN = TimeWindow()


def test_hive_hourly_key_keeps_strings() -> None:
    info = parse_key(hive_key(STAMP, prefix="org/"))
    assert info.layout == "hive"
    assert info.account_id == "012345678901"  # the leading zero survives
    assert info.region == "us-east-1"
    assert info.flow_log_id == "fl-0a1b2c3d4e5f60718"
    assert info.folder_start == at("2026-11-16T05:00:00Z")
    assert info.folder_span == timedelta(hours=1)
    assert info.file_time == STAMP


@pytest.mark.parametrize("hourly", [False, True])
def test_default_layout_daily_and_hourly(hourly: bool) -> None:
    info = parse_key(default_key(STAMP, hourly=hourly))
    assert info.layout == "default"
    assert info.account_id == ACCOUNT
    assert info.folder_start == at("2026-11-16T05:00:00Z" if hourly else "2026-11-16T00:00:00Z")
    assert info.folder_span == timedelta(hours=1 if hourly else 24)
    assert info.key_time == STAMP


def test_hive_month_and_hour_without_leading_zero() -> None:
    key = (
        "AWSLogs/aws-account-id=000000000001/aws-service=vpcflowlogs/aws-region=eu-west-1/"
        "year=2026/month=3/day=9/hour=5/x.log.parquet"
    )
    info = parse_key(key)
    assert (info.account_id, info.folder_start) == ("000000000001", at("2026-03-09T05:00:00Z"))
    assert info.file_time is None


@pytest.mark.parametrize(
    "key",
    [
        "exports/flows.parquet",
        "AWSLogs/012345678901/vpcflowlogs/us-east-1/2026/13/40/x.log.gz",  # no such date
        "AWSLogs/012345678901/CloudTrail/us-east-1/2026/11/16/x.json.gz",
    ],
)
def test_unknown_layouts_are_never_pruned(key: str) -> None:
    info = parse_key(key)
    assert info.layout == "unknown"
    assert info.may_overlap(TimeWindow(at("2030-01-01T00:00:00Z"), at("2030-01-02T00:00:00Z")))


@pytest.mark.parametrize(
    ("since", "until", "kept"),
    [
        # The file holds records ending 05:20-05:25 (stamped by their start, as AWS does, or
        # by the end of an hour, as some writers do); records may start two hours earlier.
        ("2026-11-16T05:00:00Z", "2026-11-16T06:00:00Z", True),
        ("2026-11-16T06:20:00Z", None, True),  # within the hour of slack after the file
        ("2026-11-16T06:30:00Z", None, False),
        (None, "2026-11-16T04:05:00Z", True),  # the hour folder's slack
        (None, "2026-11-16T03:55:00Z", False),
        ("2026-11-17T00:00:00Z", "2026-11-18T00:00:00Z", False),
    ],
)
def test_pruning_by_folder_and_file_time(since: str | None, until: str | None, kept: bool) -> None:
    window = TimeWindow(at(since) if since else None, at(until) if until else None)
    assert parse_key(hive_key(STAMP)).may_overlap(window) is kept
    assert OPEN.since is None
    assert parse_key(hive_key(STAMP)).may_overlap(OPEN)


def test_daily_folder_without_file_time_prunes_by_day() -> None:
    info = parse_key("AWSLogs/012345678901/vpcflowlogs/us-east-1/2026/11/16/custom-name.log.gz")
    assert info.may_overlap(TimeWindow(at("2026-11-17T00:30:00Z"), None))  # slack
    assert not info.may_overlap(TimeWindow(at("2026-11-17T01:00:00Z"), None))
    assert not info.may_overlap(TimeWindow(None, at("2026-11-15T23:00:00Z")))


def test_flow_log_names() -> None:
    assert is_flow_log_name("a/b/x_20261116T0000Z_ab.log.gz")
    assert is_flow_log_name("x.log.parquet")
    assert not is_flow_log_name("AWSLogs/aws-logs-write-test")
    assert not is_flow_log_name("inventory/describe-vpcs.json")
    assert not is_flow_log_name("a/.hidden.log.gz")
    assert not is_flow_log_name("AWSLogs/012345678901/vpcflowlogs/")
    assert not is_flow_log_name(
        "AWSLogs/012345678901/CloudTrail/us-east-1/2026/11/16/x_CloudTrail.log.gz"
    )
    assert not is_flow_log_name("AWSLogs/012345678901/elasticloadbalancing/us-east-1/x.log.gz")
    assert not is_flow_log_name("exports/trail.json.gz")


WEEK = TimeWindow(at("2026-11-16T00:00:00Z"), at("2026-11-23T00:00:00Z"))


def test_walk_states_through_both_layouts() -> None:
    state = PrefixState()
    for segment in (
        "AWSLogs",
        f"aws-account-id={ACCOUNT}",
        "aws-service=vpcflowlogs",
        "aws-region=us-east-1",
    ):
        action, nxt = step(state, segment, WEEK)
        assert action == "walk"
        assert nxt is not None
        state = nxt
    assert state.level == "year"
    assert state.hive
    assert step(state, "year=2025", WEEK)[0] == "skip"
    action, month_state = step(state, "year=2026", WEEK)
    assert action == "walk"
    assert month_state is not None
    assert step(month_state, "month=10", WEEK)[0] == "skip"
    action, day_state = step(month_state, "month=11", WEEK)
    assert action == "walk"
    assert day_state is not None
    assert step(day_state, "day=14", WEEK)[0] == "skip"
    assert step(day_state, "day=15", WEEK)[0] == "list"  # an hour of slack reaches into it
    assert step(day_state, "day=16", WEEK)[0] == "list"
    assert step(day_state, "day=24", WEEK)[0] == "skip"


def test_walk_skips_other_services_and_lists_unknown_folders() -> None:
    account = state_of_prefix(f"AWSLogs/{ACCOUNT}/", WEEK)
    assert account is not None
    assert account.level == "service"
    assert step(account, "CloudTrail", WEEK)[0] == "skip"
    assert step(account, "vpcflowlogs", WEEK)[0] == "walk"
    region = state_of_prefix(f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/", WEEK)
    assert region is not None
    assert step(region, "not-a-year", WEEK)[0] == "list"
    # A custom prefix above AWSLogs is walked; deep unknown trees are listed whole.
    top = state_of_prefix("central/prod/", WEEK)
    assert top is not None
    assert step(top, "AWSLogs", WEEK)[0] == "walk"
    assert step(top, "more", WEEK)[0] == "list"
    assert state_of_prefix(f"AWSLogs/{ACCOUNT}/vpcflowlogs/us-east-1/2026/11/16/", WEEK) is None
