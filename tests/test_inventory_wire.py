"""The collector against EC2's wire protocol: paging, AccessDenied, throttling, regions.

moto answers every Describe call in one page whatever MaxResults says, so paging is
tested against a tiny HTTP server on 127.0.0.1 that replays EC2 query-protocol XML
responses (``tests/fixtures/inventory/ec2-wire/``): several pages chained by
``nextToken``, the ``UnauthorizedOperation`` error of a missing IAM permission, and
``RequestLimitExceeded`` throttling. The responses are written after the EC2 API
reference's response syntax and element names (botocore's EC2 model), not recorded
from a live account. boto3 and botocore talk to the server exactly as they talk to AWS
(``endpoint_url``); nothing is mocked inside the collector.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from conftest import FIXTURES, REPO_ROOT

from zt_flows.cli import main
from zt_flows.errors import AwsAccessDeniedError
from zt_flows.inventory import InterfaceRole, collect_inventory, load_inventory
from zt_flows.inventory.collect import ALL_REGIONS
from zt_flows.settings import AwsSettings

WIRE = FIXTURES / "inventory" / "ec2-wire"
ACCOUNT = "111122223333"
NOW = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
_TOKEN = re.compile(r"<nextToken>(.*?)</nextToken>")
_SCOPE = re.compile(r"Credential=[^/]+/\d+/([a-z0-9-]+)/(\w+)/aws4_request")


@dataclass
class WireServer:
    """Replays captured EC2 / STS responses; records every request it answers."""

    url: str = ""
    pages: dict[str, list[str]] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    deny: set[str] = field(default_factory=set)  # actions answered UnauthorizedOperation
    deny_in: set[tuple[str, str]] = field(default_factory=set)  # (region, action) pairs
    # Region -> an event the first DescribeNetworkInterfaces there waits for, up to 10 s;
    # a region that waited that long is listed in waited_out.
    hold: dict[str, threading.Event] = field(default_factory=dict)
    waited_out: list[str] = field(default_factory=list)
    throttle: dict[str, int] = field(default_factory=dict)  # action -> throttled answers left

    def calls(self, action: str) -> list[dict[str, str]]:
        return [r for r in self.requests if r["Action"] == action]

    def answer(self, params: dict[str, str]) -> tuple[int, str]:
        action = params["Action"]
        region = params.get("_region", "")
        held = self.hold.pop(region, None) if action == "DescribeNetworkInterfaces" else None
        if held is not None and not held.wait(10):
            self.waited_out.append(region)
        if action in self.deny or (region, action) in self.deny_in:
            body = (WIRE / "UnauthorizedOperation.xml").read_text()
            return 403, body.replace("{action}", f"ec2:{action}")
        if self.throttle.get(action, 0) > 0:
            self.throttle[action] -= 1
            return 503, (WIRE / "RequestLimitExceeded.xml").read_text()
        key = action
        if action == "GetManagedPrefixListEntries":
            key = f"{action}.{params['PrefixListId']}"
        pages = self.pages[key]
        token = params.get("NextToken")
        if token is None:
            return 200, pages[0]
        for index, page in enumerate(pages[:-1]):
            found = _TOKEN.search(page)
            if found and found.group(1) == token:
                return 200, pages[index + 1]
        return 400, "unknown NextToken"


def _load_pages() -> dict[str, list[str]]:
    pages: dict[str, list[tuple[int, str]]] = {}
    for path in sorted(WIRE.glob("*.*.xml")):
        key, number = path.name.removesuffix(".xml").rsplit(".", 1)
        pages.setdefault(key, []).append((int(number), path.read_text()))
    return {key: [text for _, text in sorted(found)] for key, found in pages.items()}


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[WireServer]:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    state = WireServer(pages=_load_pages())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = parse_qs(self.rfile.read(length).decode("utf-8"))
            params = {key: values[0] for key, values in form.items()}
            scope = _SCOPE.search(self.headers.get("Authorization", ""))
            params["_region"] = scope.group(1) if scope else ""
            params["_service"] = scope.group(2) if scope else ""
            state.requests.append(params)
            status, body = state.answer(params)
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _collect(wire: WireServer, out: Path, **settings: object) -> Path:
    session = boto3.session.Session(region_name="us-east-1")
    aws = AwsSettings(endpoint_url=wire.url, max_attempts=3, **settings)  # type: ignore[arg-type]
    return collect_inventory(session, aws, out, now=NOW)


def test_every_page_is_collected_and_next_token_followed(wire: WireServer, tmp_path: Path) -> None:
    folder = _collect(wire, tmp_path / "out")

    assert folder == tmp_path / "out" / "2026-11-16T00-00-00Z"
    enis = wire.calls("DescribeNetworkInterfaces")
    tokens = [call.get("NextToken") for call in enis]
    assert tokens == [
        None,
        "eyJ2IjoiMiIsImMiOiJGdm9mN2ZQbmJ0cU1pT3dQV2x4SE9nPT0iLCJzIjoxfQ==",
        "eyJ2IjoiMiIsImMiOiJxQ0JkV0V4c2hTRE1jS0NmeUlLbjNnPT0iLCJzIjoyfQ==",
    ]
    assert {call["MaxResults"] for call in enis} == {"1000"}
    assert len(wire.calls("DescribeSecurityGroupRules")) == 2
    assert len(wire.calls("DescribeManagedPrefixLists")) == 2
    assert {c["MaxResults"] for c in wire.calls("DescribeManagedPrefixLists")} == {"100"}
    s3_entries = [
        c for c in wire.calls("GetManagedPrefixListEntries") if c["PrefixListId"] == "pl-63a5400a"
    ]
    assert len(s3_entries) == 2
    flow_logs = wire.calls("DescribeFlowLogs")
    assert [call.get("NextToken") for call in flow_logs] == [
        None,
        "eyJ2IjoiMiIsImMiOiJmbG93TG9nc1BhZ2UyIiwicyI6MX0=",
    ]
    # AWS's largest page for DescribeFlowLogs.
    assert {call["MaxResults"] for call in flow_logs} == {"1000"}

    enis_doc = json.loads((folder / "describe-network-interfaces.json").read_text())
    assert list(enis_doc) == ["NetworkInterfaces"]  # no NextToken, no ResponseMetadata
    assert [e["NetworkInterfaceId"] for e in enis_doc["NetworkInterfaces"]] == [
        "eni-0a1b2c3d4e5f60001",
        "eni-0a1b2c3d4e5f60002",
        "eni-0a1b2c3d4e5f60003",
    ]
    rules_doc = json.loads((folder / "describe-security-group-rules.json").read_text())
    assert [r["SecurityGroupRuleId"] for r in rules_doc["SecurityGroupRules"]] == [
        "sgr-0a1b2c3d4e5f60001",
        "sgr-0a1b2c3d4e5f60002",
        "sgr-0a1b2c3d4e5f60003",
    ]
    logs_doc = json.loads((folder / "describe-flow-logs.json").read_text())
    assert list(logs_doc) == ["FlowLogs"]
    assert [log["FlowLogId"] for log in logs_doc["FlowLogs"]] == [
        "fl-0a1b2c3d4e5f60001",
        "fl-0a1b2c3d4e5f60002",
        "fl-0a1b2c3d4e5f60003",
    ]
    entries = json.loads((folder / "get-managed-prefix-list-entries.pl-63a5400a.json").read_text())
    assert entries == {
        "Entries": [
            {"Cidr": "16.15.176.0/20"},
            {"Cidr": "52.216.0.0/15"},
            {"Cidr": "54.231.0.0/16"},
        ]
    }


def test_written_files_are_what_the_aws_cli_prints(wire: WireServer, tmp_path: Path) -> None:
    folder = _collect(wire, tmp_path)
    text = (folder / "describe-network-interfaces.json").read_text()
    # Four-space indentation, a final newline, times as the CLI prints them (ISO 8601).
    assert text.startswith('{\n    "NetworkInterfaces": [\n        {\n')
    assert text.endswith("}\n")
    assert '"AttachTime": "2026-11-02T10:15:30+00:00"' in text
    flow_logs = (folder / "describe-flow-logs.json").read_text()
    # AWS answers with milliseconds; the CLI prints them as Python's isoformat does.
    assert '"CreationTime": "2026-10-05T09:14:27.512000+00:00"' in flow_logs
    assert '"MaxAggregationInterval": 60,' in flow_logs
    assert json.loads((folder / "manifest.json").read_text()) == {
        "schema_version": 1,
        "taken_at": "2026-11-16T00:00:00Z",
        "account_ids": [ACCOUNT],
        "regions": ["us-east-1"],
    }
    assert sorted(p.name for p in folder.iterdir()) == [
        "describe-flow-logs.json",
        "describe-managed-prefix-lists.json",
        "describe-network-interfaces.json",
        "describe-security-group-rules.json",
        "describe-security-groups.json",
        "describe-subnets.json",
        "describe-vpc-peering-connections.json",
        "describe-vpcs.json",
        "get-managed-prefix-list-entries.pl-0a1b2c3d4e5f60001.json",
        "get-managed-prefix-list-entries.pl-63a5400a.json",
        "manifest.json",
    ]
    # The same bytes again for the same answers: output is deterministic.
    again = _collect(wire, tmp_path / "again")
    for path in folder.iterdir():
        assert (again / path.name).read_bytes() == path.read_bytes(), path.name


def test_collected_wire_snapshot_loads_with_roles_and_addresses(
    wire: WireServer, tmp_path: Path
) -> None:
    inventory = load_inventory(_collect(wire, tmp_path))

    nat = inventory.interfaces["eni-0a1b2c3d4e5f60001"]
    assert nat.role is InterfaceRole.NAT_GATEWAY
    assert nat.security_group_ids == ()
    assert nat.public_ips == ("3.80.10.20",)
    assert nat.requester_managed
    assert nat.requester_id == "441234567890"
    alb = inventory.interfaces["eni-0a1b2c3d4e5f60002"]
    assert alb.role is InterfaceRole.LOAD_BALANCER
    assert alb.ipv6s == ("2600:1f18:4a2:5a00::10",)  # sent expanded, normalised on load
    api = inventory.interfaces["eni-0a1b2c3d4e5f60003"]
    assert api.role is InterfaceRole.INSTANCE
    assert api.private_ipv4s == ("10.0.10.21", "10.0.10.22")
    assert api.ipv4_prefixes == ("10.0.10.48/28",)
    assert api.attach_time == datetime(2026, 11, 2, 10, 15, 30, tzinfo=UTC)
    assert api.name == "api-1"
    assert api.region == "us-east-1"
    assert inventory.vpcs["vpc-0a1b2c3d4e5f60001"].cidrs_ipv4 == ("10.0.0.0/16",)  # not the
    # disassociated 100.64.0.0/16
    assert inventory.prefix_lists["pl-63a5400a"].aws_service == "S3"
    assert inventory.prefix_list_cidrs("pl-63a5400a") == (
        "16.15.176.0/20",
        "52.216.0.0/15",
        "54.231.0.0/16",
    )
    (by_ref,) = [r for r in inventory.rules if r.referenced_group_id is not None]
    assert (by_ref.id, by_ref.description) == ("sgr-0a1b2c3d4e5f60001", "from the load balancer")
    assert inventory.missing == ()

    vpc_log, rejects, tgw = inventory.flow_logs
    assert (vpc_log.id, vpc_log.resource_id, vpc_log.resource_type) == (
        "fl-0a1b2c3d4e5f60001",
        "vpc-0a1b2c3d4e5f60001",
        "vpc",
    )
    assert (vpc_log.traffic_type, vpc_log.status, vpc_log.deliver_status) == (
        "ALL",
        "ACTIVE",
        "SUCCESS",
    )
    assert vpc_log.created_at == datetime(2026, 10, 5, 9, 14, 27, 512000, tzinfo=UTC)
    assert (vpc_log.destination_type, vpc_log.destination) == (
        "s3",
        "arn:aws:s3:::amzn-s3-demo-flow-log-bucket",
    )
    assert vpc_log.log_format is not None
    assert vpc_log.log_format.split()[:3] == ["${version}", "${account-id}", "${interface-id}"]
    assert (vpc_log.max_aggregation_interval, vpc_log.name) == (60, "prod-all")
    assert (rejects.resource_type, rejects.traffic_type, rejects.delivery_failed) == (
        "subnet",
        "REJECT",
        True,
    )
    assert rejects.destination == "arn:aws:logs:us-east-1:111122223333:log-group:/vpc/app-a-rejects"
    # Transit gateway flow logs take no traffic type.
    assert (tgw.resource_type, tgw.traffic_type) == ("tgw", None)


def test_unauthorized_operation_names_the_missing_action(wire: WireServer, tmp_path: Path) -> None:
    wire.deny.add("DescribeSecurityGroupRules")
    out = tmp_path / "out"
    with pytest.raises(AwsAccessDeniedError) as caught:
        _collect(wire, out)
    assert caught.value.action == "ec2:DescribeSecurityGroupRules"
    assert str(caught.value) == (
        f"access denied: ec2:DescribeSecurityGroupRules on account {ACCOUNT} in us-east-1"
    )
    # Nothing half-written survives: no snapshot, no temporary folder.
    assert list(out.iterdir()) == []


def test_throttling_is_retried_adaptively(wire: WireServer, tmp_path: Path) -> None:
    wire.throttle["DescribeVpcs"] = 1
    folder = _collect(wire, tmp_path)
    assert len(wire.calls("DescribeVpcs")) == 2
    vpcs = json.loads((folder / "describe-vpcs.json").read_text())["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == ["vpc-0a1b2c3d4e5f60001"]


def test_all_regions_are_collected_into_account_region_folders(
    wire: WireServer, tmp_path: Path
) -> None:
    folder = _collect(wire, tmp_path, regions=(ALL_REGIONS,))

    assert len(wire.calls("DescribeRegions")) == 1
    described = {c["_region"] for c in wire.calls("DescribeSecurityGroups")}
    # ap-east-1 is listed as not opted in (as emulators list it): not collected.
    assert described == {"eu-west-1", "us-east-1"}
    for region in ("eu-west-1", "us-east-1"):
        assert (folder / ACCOUNT / region / "describe-network-interfaces.json").is_file()
    assert not (folder / "describe-network-interfaces.json").exists()
    assert json.loads((folder / "manifest.json").read_text())["regions"] == [
        "eu-west-1",
        "us-east-1",
    ]
    (snapshot,) = load_inventory(folder).snapshots
    assert snapshot.regions == ("eu-west-1", "us-east-1")
    assert snapshot.account_ids == (ACCOUNT,)
    assert {eni.region for eni in snapshot.interfaces} == {"eu-west-1", "us-east-1"}
    assert len(snapshot.interfaces) == 6
    assert snapshot.missing == ()


def test_regions_are_collected_side_by_side(wire: WireServer, tmp_path: Path) -> None:
    """us-east-1's first call waits until eu-west-1 has been asked: one region after the
    other would never get there."""
    eu_asked = threading.Event()
    wire.hold["us-east-1"] = eu_asked
    original = wire.answer

    def answer(params: dict[str, str]) -> tuple[int, str]:
        if params.get("_region") == "eu-west-1" and params["Action"] != "DescribeRegions":
            eu_asked.set()
        return original(params)

    wire.answer = answer  # type: ignore[method-assign]
    folder = _collect(wire, tmp_path, regions=("us-east-1", "eu-west-1"))
    assert wire.waited_out == []
    for region in ("eu-west-1", "us-east-1"):
        assert (folder / ACCOUNT / region / "describe-network-interfaces.json").is_file()


def test_a_region_that_fails_stops_the_others_and_leaves_nothing(
    wire: WireServer, tmp_path: Path
) -> None:
    wire.deny_in.add(("eu-west-1", "DescribeSubnets"))
    out = tmp_path / "out"
    with pytest.raises(AwsAccessDeniedError) as caught:
        _collect(wire, out, regions=("us-east-1", "eu-west-1"))
    assert str(caught.value) == (
        f"access denied: ec2:DescribeSubnets on account {ACCOUNT} in eu-west-1"
    )
    assert list(out.iterdir()) == []


def test_cli_collect_prints_the_snapshot_folder(
    wire: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "inventory",
            "collect",
            "--endpoint-url",
            wire.url,
            "--region",
            "us-east-1",
            "--out",
            str(out),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    (folder,) = out.iterdir()
    assert captured.out.strip() == str(folder)
    assert "collected 3 network interfaces, 1 security groups, 3 rules, 3 flow logs" in captured.err


def test_cli_access_denied_exits_3_with_one_line(
    wire: WireServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wire.deny.add("GetManagedPrefixListEntries")
    code = main(
        [
            "inventory",
            "collect",
            "--endpoint-url",
            wire.url,
            "--region",
            "us-east-1",
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err.splitlines()
    assert code == 3
    assert err[0] == (
        "error: access denied: ec2:GetManagedPrefixListEntries on pl-63a5400a "
        f"in account {ACCOUNT} in us-east-1"
    )
    assert err[1].strip().startswith("hint: grant ec2:GetManagedPrefixListEntries")
    assert len(err) == 2


def test_every_action_called_is_in_the_iam_policy(wire: WireServer, tmp_path: Path) -> None:
    """docs/iam-policy.json and the README's copy name every action the collector calls."""
    _collect(wire, tmp_path, regions=(ALL_REGIONS,))
    called = {f"{r['_service']}:{r['Action']}" for r in wire.requests}
    # GetCallerIdentity needs no permission and cannot be denied.
    called.discard("sts:GetCallerIdentity")
    assert "ec2:DescribeFlowLogs" in called

    def actions(policy: dict[str, Any]) -> set[str]:
        found: set[str] = set()
        for statement in policy["Statement"]:
            action = statement["Action"]
            found.update([action] if isinstance(action, str) else action)
        return found

    documented = actions(json.loads((REPO_ROOT / "docs" / "iam-policy.json").read_text()))
    readme = (REPO_ROOT / "README.md").read_text()
    block = readme.split("## IAM policy", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    assert called <= documented
    assert actions(json.loads(block)) == documented
