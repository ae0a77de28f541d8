"""Hand-made snapshots that miss a document or contradict themselves or the flow logs.

Every case runs the real command line over the sample's first day of flow logs and a copy
of the sample's latest snapshot, changed the way a hand-made snapshot goes wrong, and checks
the exit code and the message: two missing documents a plan cannot do without are a refusal
(exit 2) naming the file; inconsistencies are warnings (summary, report) and the run goes on
on the safe side.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DATA
from support.sources import at, hive_key, parquet_bytes, record, write

from zt_flows.cli import main
from zt_flows.inventory import load_inventory, parse_snapshot
from zt_flows.inventory.consistency import (
    FlowOrigin,
    check_flow_origins,
    check_inventory,
)
from zt_flows.inventory.model import Inventory
from zt_flows.recommend import read_plan

LATEST = SAMPLE_DATA / "inventory" / "2026-11-18T23-30-00Z"
FLOWLOGS = SAMPLE_DATA / "flowlogs"
DAY = ["--since", "2026-11-16T00:00:00Z", "--until", "2026-11-17T00:00:00Z"]
API_GROUP = "sg-0f4fbcd0e0d64ead0"
ACCOUNT = "012345678901"
VPC = "vpc-0b873741c03378b7d"
WEB_1 = "eni-00a3b041006077e3d"  # 10.0.10.11


def _snapshot(
    folder: Path,
    *,
    drop: tuple[str, ...] = (),
    change: dict[str, Callable[[dict[str, Any]], None]] | None = None,
) -> Path:
    """A hand-made snapshot: the sample's latest documents, without its manifest."""
    folder.mkdir(parents=True)
    for path in sorted(LATEST.glob("*.json")):
        if path.name == "manifest.json" or path.name in drop:
            continue
        doc = json.loads(path.read_text())
        if change and path.name in change:
            change[path.name](doc)
        (folder / path.name).write_text(json.dumps(doc, indent=4))
    return folder


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([*args, "-q"])
    return code, capsys.readouterr().err


def _conversations(inventory: Path, tmp_path: Path, source: Path = FLOWLOGS) -> list[str]:
    return [
        "conversations",
        str(source),
        "--inventory",
        str(inventory),
        "--out",
        str(tmp_path / "edges.parquet"),
        "--cache-dir",
        str(tmp_path / "cache"),
        *DAY,
    ]


def _recommend(inventory: Path, tmp_path: Path) -> list[str]:
    return [
        "recommend",
        str(FLOWLOGS),
        "--inventory",
        str(inventory),
        "--out",
        str(tmp_path / "plan.json"),
        "--cache-dir",
        str(tmp_path / "cache"),
        *DAY,
    ]


def _warnings(err: str) -> list[str]:
    return [
        line.strip()[len("warning") :].strip() for line in err.splitlines() if "  warning " in line
    ]


# --------------------------------------------------------------------------- refusals


def test_without_describe_security_groups_no_plan_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(tmp_path / "snap", drop=("describe-security-groups.json",))
    code, err = _run(_recommend(snap, tmp_path), capsys)
    assert code == 2, err
    lines = err.splitlines()
    assert lines[0] == (
        f"error: {snap}/describe-security-groups.json is missing: a plan is made of the security"
        " groups that file describes, so there is nothing to plan (no group's rules can be"
        " judged)"
    )
    assert lines[1] == (
        "  hint: add it (aws ec2 describe-security-groups --output json >"
        f" {snap}/describe-security-groups.json), or collect a snapshot with"
        " `ztflows inventory collect`"
    )
    assert "bug" not in err
    assert not (tmp_path / "plan.json").exists()
    # The conversations need no groups: they run, and say what is missing.
    code, err = _run(_conversations(snap, tmp_path), capsys)
    assert code == 0, err
    (warning,) = _warnings(err)
    assert warning.startswith("15 groups (sg-0157832dc6129983a, sg-0349e0be7f745e04f, ")
    assert "is missing): the plan leaves their rules as they are" in warning
    assert f"({snap}/describe-security-groups.json is missing)" in warning


def test_without_describe_security_group_rules_no_plan_is_made(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(tmp_path / "snap", drop=("describe-security-group-rules.json",))
    code, err = _run(_recommend(snap, tmp_path), capsys)
    assert code == 2, err
    lines = err.splitlines()
    assert lines[0] == (
        f"error: {snap}/describe-security-group-rules.json is missing: the rules of 17 groups"
        " (sg-0157832dc6129983a, sg-0349e0be7f745e04f, sg-035d65ba02fbd3236 and 14 more) have"
        " no sgr- ids, and a plan keeps and removes each rule by its id (Terraform adopts and"
        " deletes rules by id), so no plan can be made"
    )
    assert lines[1].startswith(
        "  hint: add it (aws ec2 describe-security-group-rules --output json >"
        f" {snap}/describe-security-group-rules.json)"
    )
    assert "internal" not in err
    assert not (tmp_path / "plan.json").exists()
    code, err = _run(_conversations(snap, tmp_path), capsys)
    assert code == 0, err
    assert _warnings(err) == []


def test_an_older_snapshot_without_the_rules_does_not_stop_the_plan() -> None:
    """Only the snapshot a group's rules come from matters: the latest that knows it."""
    from zt_flows.inventory.consistency import require_plannable

    older = load_inventory(SAMPLE_DATA / "inventory" / "2026-11-16T00-00-00Z").snapshots[0]
    older = replace(older, missing=("describe-security-group-rules.json",), rules=())
    latest = load_inventory(LATEST).snapshots[0]
    require_plannable(Inventory.from_snapshots([older, latest]))  # no error


# --------------------------------------------------------------------------- warnings


def _drop_group(name: str) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        doc["SecurityGroups"] = [g for g in doc["SecurityGroups"] if g["GroupName"] != name]

    return change


def test_an_eni_whose_group_is_not_in_the_snapshot_is_a_warning_and_the_group_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = _snapshot(
        tmp_path / "snap", change={"describe-security-groups.json": _drop_group("api")}
    )
    out = tmp_path / "out"
    code, err = _run(
        [
            "analyze",
            str(FLOWLOGS),
            "--inventory",
            str(snap),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            *DAY,
        ],
        capsys,
    )
    assert code == 0, err
    expected = (
        f"group {API_GROUP}, carried by 2 ENIs (eni-08cbbfb151476deb2, eni-0bae768283c17d0d2),"
        " is described by no snapshot (not in describe-security-groups.json: a filtered or"
        " partial copy?): the plan leaves its rules as they are, and rules that reference it"
        " cannot be judged"
    )
    assert _warnings(err) == [expected]
    plan = read_plan(out / "plan.json")
    assert API_GROUP not in {g.group_id for g in plan.security_groups}
    assert plan.verification.blocked == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inventory_warnings"] == [expected]
    report = (out / "report.md").read_text()
    coverage = report[report.index("## Coverage") :]
    assert "Inventory warnings:" in coverage
    assert f"{API_GROUP}" in coverage.split("Inventory warnings:")[1].split("\n\n")[1]
    assert "Inventory warnings:" in (out / "report.html").read_text()


def test_an_eni_id_in_the_snapshots_of_two_accounts_at_once_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "2026-11-18T23-30-00Z"
    ours = _snapshot(root / ACCOUNT / "us-east-1")
    other = root / "111122223333" / "us-east-1"
    other.mkdir(parents=True)
    enis = json.loads((ours / "describe-network-interfaces.json").read_text())
    copied = [e for e in enis["NetworkInterfaces"] if e["NetworkInterfaceId"] == WEB_1]
    (other / "describe-network-interfaces.json").write_text(
        json.dumps({"NetworkInterfaces": copied})
    )
    code, err = _run(_conversations(root, tmp_path), capsys)
    assert code == 0, err
    assert _warnings(err) == [
        f"{WEB_1} is in 2 snapshots taken at 2026-11-18T23:30:00Z: account {ACCOUNT} in"
        f" us-east-1 ({ours}) and account 111122223333 in us-east-1 ({other}); an ENI belongs"
        " to one account and region, so a copy is misplaced and ztflows used one of them"
    ]


def test_an_address_held_by_two_enis_at_once_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def twin(doc: dict[str, Any]) -> None:
        first = next(e for e in doc["NetworkInterfaces"] if e["NetworkInterfaceId"] == WEB_1)
        doc["NetworkInterfaces"].append({**first, "NetworkInterfaceId": "eni-0ddddddddddddddd1"})

    # Named after the time it was taken: a hand-made snapshot without a manifest.
    snap = _snapshot(
        tmp_path / "2026-11-18T23-30-00Z", change={"describe-network-interfaces.json": twin}
    )
    code, err = _run(_conversations(snap, tmp_path), capsys)
    assert code == 0, err
    assert _warnings(err) == [
        f"1 address held by two ENIs at once in {VPC}: AWS gives an address of a VPC to one"
        " ENI, so the snapshot is inconsistent, e.g. 10.0.10.11 (eni-00a3b041006077e3d,"
        " eni-0ddddddddddddddd1 at 2026-11-18T23:30:00Z): flows naming them are attributed to"
        " the ENI with the lowest id, which may be the wrong one"
    ]


def test_flow_logs_of_an_account_or_vpc_the_snapshot_does_not_hold_are_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "flowlogs"
    shutil.copytree(FLOWLOGS, source)
    start = "2026-11-16T10:10:00Z"
    foreign = [
        record(start, account_id="999988887777", interface_id="eni-0f0f0f0f0f0f0f0f1", srcport=p)
        for p in range(40000, 40003)
    ]
    other_vpc = [
        record(start, vpc_id="vpc-0feedfeedfeedfeed", interface_id="eni-0e0e0e0e0e0e0e0e1"),
    ]
    write(source, "extra/" + hive_key(at(start)), parquet_bytes(foreign + other_vpc))
    snap = _snapshot(tmp_path / "snap")
    code, err = _run(_conversations(snap, tmp_path, source), capsys)
    assert code == 0, err
    assert _warnings(err) == [
        "flow logs of account 999988887777 (3 records from interface eni-0f0f0f0f0f0f0f0f1) but"
        " no snapshot holds that account: its interfaces are unknown, so that traffic resolves"
        " to no group and changes no rule; collect its inventory too (--profile or"
        " --assume-role)",
        "flow logs of vpc-0feedfeedfeedfeed (1 record from interface eni-0e0e0e0e0e0e0e0e1) but"
        " no snapshot holds that VPC: its interfaces are unknown, so that traffic resolves to"
        " no group and changes no rule; collect the inventory of its region too (--region)",
    ]


# --------------------------------------------------------------------------- pure checks


def test_the_sample_is_consistent() -> None:
    inventory = load_inventory(SAMPLE_DATA / "inventory")
    assert check_inventory(inventory) == ()
    origins = [FlowOrigin(WEB_1, ACCOUNT, VPC, 10), FlowOrigin("eni-x", "unknown", None, 2)]
    assert check_flow_origins(inventory, origins) == ()


def test_overlapping_vpcs_are_told_apart_from_an_inconsistent_one() -> None:
    def eni(eni_id: str, vpc: str, owner: str) -> dict[str, Any]:
        return {
            "NetworkInterfaceId": eni_id,
            "VpcId": vpc,
            "OwnerId": owner,
            "PrivateIpAddress": "10.0.0.5",
            "AvailabilityZone": "us-east-1a",
        }

    docs = {
        "describe-network-interfaces.json": {
            "NetworkInterfaces": [
                eni("eni-0000000000000000a", "vpc-0000000000000000a", "111111111111"),
                eni("eni-0000000000000000b", "vpc-0000000000000000b", "222222222222"),
            ]
        }
    }
    from datetime import UTC, datetime

    snap = parse_snapshot(docs, source="hand", taken_at=datetime(2026, 11, 16, tzinfo=UTC))
    (warning,) = check_inventory(Inventory.from_snapshots([snap]))
    assert warning.kind == "shared_address"
    assert str(warning).startswith(
        "1 address held by two ENIs at once across vpc-0000000000000000a and"
        " vpc-0000000000000000b (overlapping VPC ranges), e.g. 10.0.0.5"
    )
