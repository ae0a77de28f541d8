"""`ztflows inventory show|collect` through the real entry point: output, exit codes, messages."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import FIXTURES, SAMPLE_DATA

from zt_flows.cli import main

HANDMADE = FIXTURES / "inventory" / "handmade"


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, no region, no config: nothing can reach AWS by accident."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))


def test_show_summarises_counts_groups_members_and_missing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["inventory", "show", str(HANDMADE)])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "1 snapshot(s):"
    assert f"  {HANDMADE}  accounts 111122223333  regions us-east-1" in lines[1]
    assert (
        "  network interfaces    12  cache 1, database 1, gateway_load_balancer 1, instance 1, "
        "lambda 1, load_balancer 1, nat_gateway 1, network_load_balancer 1, other_managed 1, "
        "transit_gateway 1, unattached 1, vpc_endpoint 1"
    ) in lines
    assert "  rules                 10  (10 derived from IpPermissions, without ids)" in lines
    assert "  sg-0f1e2d3c4b5a69001  web  vpc-0f1e2d3c4b5a69780  6 in / 2 out  7 member(s)" in lines
    assert "      eni-0f1e2d3c4b5a60010  api-1  10.0.10.21  instance" in lines
    assert "  flow logs              0  (0 ALL traffic, 0 ACTIVE)" in lines
    assert "Flow logs:" not in lines
    assert lines[lines.index("Missing:") + 1 :] == [
        "  describe-flow-logs.json  (flow-log coverage unknown: groups are judged by which "
        "ENIs wrote records)",
        "  describe-managed-prefix-lists.json",
        "  describe-security-group-rules.json",
        "  describe-subnets.json",
        "  describe-vpc-peering-connections.json",
        "  describe-vpcs.json",
    ]


def test_show_as_json_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "show", str(HANDMADE), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["snapshots"] == [
        {
            "taken_at": shown["snapshots"][0]["taken_at"],
            "source": str(HANDMADE),
            "accounts": ["111122223333"],
            "regions": ["us-east-1"],
        }
    ]
    assert shown["counts"]["network_interfaces"] == 12
    assert shown["counts"]["rules"] == shown["counts"]["rules_without_ids"] == 10
    assert sum(shown["counts"]["network_interfaces_by_role"].values()) == 12
    web = next(g for g in shown["security_groups"] if g["id"] == "sg-0f1e2d3c4b5a69001")
    assert (web["name"], web["ingress_rules"], web["egress_rules"]) == ("web", 6, 2)
    assert len(web["members"]) == 7
    assert {
        "id": "eni-0f1e2d3c4b5a60010",
        "name": "api-1",
        "primary_ipv4": "10.0.10.21",
        "role": "instance",
    } in web["members"]
    assert "describe-vpcs.json" in shown["missing"]
    assert (shown["counts"]["flow_logs"], shown["flow_logs"]) == (0, [])
    assert shown["notes"] == [
        "flow-log coverage unknown: groups are judged by which ENIs wrote records"
    ]


def test_show_lists_the_flow_logs_of_the_sample(capsys: pytest.CaptureFixture[str]) -> None:
    inventory = SAMPLE_DATA / "inventory"
    assert main(["inventory", "show", str(inventory)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "  flow logs              2  (2 ALL traffic, 2 ACTIVE)" in lines
    start = lines.index("Flow logs:")
    assert lines[start + 1 : start + 3] == [
        "  fl-0a1b2c3d4e5f60718  ALL on vpc-0b873741c03378b7d  since 2026-10-05T09:14:27Z  "
        "ACTIVE  s3 arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
        "  fl-0f9e8d7c6b5a40321  ALL on vpc-0b873741c03378b7d  since 2026-11-02T15:40:03Z  "
        "ACTIVE  s3 arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
    ]
    assert lines[-1] == "Missing: nothing"

    assert main(["inventory", "show", str(inventory), "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["notes"] == []
    assert shown["flow_logs"][0] == {
        "id": "fl-0a1b2c3d4e5f60718",
        "resource_id": "vpc-0b873741c03378b7d",
        "resource_type": "vpc",
        "traffic_type": "ALL",
        "created_at": "2026-10-05T09:14:27Z",
        "status": "ACTIVE",
        "deliver_status": "SUCCESS",
        "destination_type": "s3",
        "destination": "arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
    }


def test_show_unknown_format_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "show", str(HANDMADE), "--format", "yaml"]) == 2
    assert "--format: expected 'text' or 'json', found 'yaml'" in capsys.readouterr().err


def test_show_several_snapshots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("2026-11-16T00-00-00Z", "2026-11-18T23-30-00Z"):
        shutil.copytree(HANDMADE, tmp_path / name)
    assert main(["inventory", "show", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "2 snapshot(s):"
    assert out[1].startswith("  2026-11-16T00:00:00Z  ")
    assert out[2].startswith("  2026-11-18T23:30:00Z  ")


def test_show_malformed_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "snap"
    shutil.copytree(HANDMADE, folder)
    doc = json.loads((folder / "describe-network-interfaces.json").read_text())
    doc["NetworkInterfaces"][3]["Groups"] = [{"GroupId": None}]
    (folder / "describe-network-interfaces.json").write_text(json.dumps(doc))
    code = main(["inventory", "show", str(folder)])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err == [
        f"error: {folder / 'describe-network-interfaces.json'}, "
        "at NetworkInterfaces[3].Groups[0].GroupId: expected a string, found null"
    ]


def test_show_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["inventory", "show", str(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'nope'}: expected an inventory snapshot folder")


@pytest.mark.usefixtures("no_aws")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: no AWS region to collect in"),
        (
            ["--region", "us-east-1", "--all-regions"],
            "error: pass either --all-regions or --region, not both",
        ),
        (
            ["--region", "us-east-1", "--assume-role", "ztflows-read"],
            "error: --assume-role: expected a role ARN like "
            "arn:aws:iam::123456789012:role/ztflows, found 'ztflows-read'",
        ),
    ],
)
def test_collect_usage_errors_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["inventory", "collect", "--out", str(tmp_path / "out"), "--quiet", *args])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err[0] == message
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inventory", "collect", "--help"]) == 0
    out = capsys.readouterr().out
    assert "ztflows inventory collect --region us-east-1 --out inventory/" in out
    assert "--assume-role" in out
    assert "--all-regions" in out


@pytest.mark.usefixtures("no_aws")
def test_collect_into_a_file_exits_2_before_calling_aws(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "inventory"
    blocker.write_text("not a folder")
    code = main(["inventory", "collect", "--region", "us-east-1", "--out", str(blocker), "-q"])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert err[0] == f"error: {blocker} (--out) exists and is not a folder"
