"""ZT026: AWS-service traffic through a NAT gateway, measured on real Parquet records in DuckDB.

The NAT gateway's records follow AWS's example of traffic through a NAT gateway
(https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html#flow-log-example-nat):
each connection appears as an inside leg (the client's address and the gateway's, with
``pkt-*addr`` naming the far end) and a translated outside leg (the gateway's address and
the far end's). Only the inside legs count, once in each direction.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from support.flowlogs import DAY, DAY1, VPC, Records, write_snapshot
from support.inventory import eni

from zt_flows.conversations import REDUCED_TABLE
from zt_flows.engine import connect_engine
from zt_flows.findings import REGISTRY
from zt_flows.inventory import InterfaceRole, load_inventory
from zt_flows.pipeline import observe
from zt_flows.rules.nat_services import (
    GB,
    NatServiceTraffic,
    measure_nat_service_traffic,
    nat_service_findings,
)
from zt_flows.settings import RecommendSettings, Settings, SourceSettings

NAT = eni(
    "0000000000000a0a0",
    "10.0.0.20",
    eni_id="eni-0000000000000a0a0",
    vpc=VPC,
    role=InterfaceRole.NAT_GATEWAY,
    interface_type="nat_gateway",
    description="Interface for NAT Gateway nat-0123456789abcdef0",
    requester_id="AWS",
    public=("3.80.10.20",),
    attached=None,
)
APP = eni("app", "10.0.10.21", ("sg-app",), eni_id="eni-0000000000000a0a1", vpc=VPC, attached=None)
NAT_IP, APP_IP = "10.0.0.20", "10.0.10.21"
S3_IP, DDB_IP, EC2_IP, SQS_IP = "52.217.1.1", "52.94.0.10", "54.239.28.85", "52.46.145.233"


def _through_nat(recs: Records, service: str, far: str, *, up: int, down: int, start: int) -> None:
    """One request and its response through the NAT gateway: four records at its ENI."""
    port = 40000 + len(recs.rows)
    # inside, request: client -> gateway, the far end in pkt-dstaddr
    recs.record(
        NAT.id, APP_IP, NAT_IP, port, 443, start=start, pkt_dst=far, dst_service=service, bytes_=up
    )
    # outside, request: gateway -> far end (the same bytes again: not counted twice)
    recs.record(NAT.id, NAT_IP, far, 30000, 443, start=start, dst_service=service, bytes_=up)
    # outside, response: far end -> gateway
    recs.record(NAT.id, far, NAT_IP, 443, 30000, start=start, src_service=service, bytes_=down)
    # inside, response: gateway -> client, the far end in pkt-srcaddr
    recs.record(
        NAT.id,
        NAT_IP,
        APP_IP,
        443,
        port,
        start=start,
        pkt_src=far,
        src_service=service,
        bytes_=down,
    )


@pytest.fixture(params=["one scan", "daily partials"])
def measured(tmp_path: Path, request: pytest.FixtureRequest) -> tuple[NatServiceTraffic, ...]:
    """Measured from the rows of the conversations' scan, or of the daily partials."""
    recs = Records()
    for day in range(2):
        _through_nat(recs, "S3", S3_IP, up=1_000, down=3_000_000, start=DAY1 + day * DAY)
    _through_nat(recs, "DYNAMODB", DDB_IP, up=2_000, down=500_000, start=DAY1 + 3600)
    _through_nat(recs, "EC2", EC2_IP, up=4_000, down=40_000, start=DAY1 + 7200)
    _through_nat(recs, "AMAZON", SQS_IP, up=9_000, down=9_000, start=DAY1 + 7300)
    # The client's own records of the same S3 connection: not the gateway's, not counted.
    recs.record(APP.id, APP_IP, S3_IP, 40999, 443, start=DAY1, dst_service="S3", bytes_=777)
    # A rejected attempt through the gateway processed nothing.
    recs.record(
        NAT.id,
        APP_IP,
        NAT_IP,
        41000,
        443,
        start=DAY1,
        pkt_dst=S3_IP,
        dst_service="S3",
        bytes_=123_456,
        action="REJECT",
    )
    state = str(tmp_path / "state") if request.param == "daily partials" else None
    settings = Settings(
        sources=SourceSettings(cache_dir=tmp_path / "cache", progress=False, state=state)
    )
    inventory = load_inventory(write_snapshot(tmp_path / "inv", [NAT, APP], "2026-11-16T00:00:00Z"))
    assert inventory.interfaces[NAT.id].role is InterfaceRole.NAT_GATEWAY
    con = connect_engine(settings.engine)
    try:
        observation = observe(recs.write(tmp_path / "logs"), settings, con, inventory=inventory)
        # The pipeline measures it from the scan's rows; measured again here, the same.
        assert measure_nat_service_traffic(REDUCED_TABLE, inventory, con) == (
            observation.nat_traffic
        )
        return observation.nat_traffic
    finally:
        con.close()


def test_inside_legs_only_once_each_way(measured: tuple[NatServiceTraffic, ...]) -> None:
    by_service = {t.service: t for t in measured}
    assert set(by_service) == {"S3", "DYNAMODB", "EC2", "AMAZON"}
    assert by_service["S3"].bytes == 2 * (1_000 + 3_000_000)
    assert by_service["S3"].flows == 4
    assert by_service["DYNAMODB"].bytes == 502_000
    assert by_service["EC2"].bytes == 44_000
    assert {t.vpc_id for t in measured} == {"vpc-0aaaaaaaaaaaaaaa1"}
    assert {t.nat_interface_id for t in measured} == {NAT.id}
    assert by_service["S3"].first_seen.timestamp() == DAY1
    assert by_service["S3"].last_seen.timestamp() == DAY1 + DAY + 59


def test_one_finding_per_vpc_with_bytes_a_month_and_the_nat_cost(
    measured: tuple[NatServiceTraffic, ...], tmp_path: Path
) -> None:
    inventory = load_inventory(write_snapshot(tmp_path / "i2", [NAT, APP], "2026-11-16T00:00:00Z"))
    (finding,) = nat_service_findings(measured, 2, RecommendSettings(), inventory)
    assert finding.code == "ZT026" == REGISTRY["ZT026"].code
    assert finding.kind.slug == "aws-service-via-nat"
    assert finding.subject == "vpc-0aaaaaaaaaaaaaaa1"
    details = dict(finding.details)
    # Two days observed: a 730-hour month is 730 / 48 of them.
    s3_month = 2 * 3_001_000 * 730 / 48 / GB
    assert details["s3_gb_per_month"] == f"{s3_month:.3f}"
    assert details["s3_nat_cost_per_month"] == f"{s3_month * 0.045:.2f}"
    assert details["s3_endpoint"] == "gateway com.amazonaws.<region>.s3"
    assert details["dynamodb_endpoint"] == "gateway com.amazonaws.<region>.dynamodb"
    assert details["ec2_endpoint"] == "interface com.amazonaws.<region>.ec2"
    total = (2 * 3_001_000 + 502_000 + 44_000) * 730 / 48 / GB
    assert details["gb_per_month"] == f"{total:.3f}"
    assert details["nat_cost_per_month"] == f"{total * 0.045:.2f}"
    # AMAZON is every other AWS range: no endpoint can be named for it.
    assert "amazon_gb_per_month" not in details
    assert "interface endpoint has its own hourly and per-GB charges" in finding.message
    assert "at $0.045/GB" in finding.message
    assert finding.message.index("S3") < finding.message.index("DYNAMODB")  # most bytes first


def test_the_price_is_a_setting_and_gateway_only_costs_nothing(
    measured: tuple[NatServiceTraffic, ...], tmp_path: Path
) -> None:
    inventory = load_inventory(write_snapshot(tmp_path / "i3", [NAT, APP], "2026-11-16T00:00:00Z"))
    only_s3 = tuple(t for t in measured if t.service == "S3")
    (finding,) = nat_service_findings(
        only_s3, 2, RecommendSettings(nat_price_per_gb=0.1), inventory
    )
    details = dict(finding.details)
    month = 2 * 3_001_000 * 730 / 48 / GB
    assert details["nat_cost_per_month"] == f"{month * 0.1:.2f}"
    assert "gateway endpoints cost nothing" in finding.message
    assert "interface" not in finding.message
    # Nothing an endpoint could carry, or no window: no finding.
    assert (
        nat_service_findings(
            tuple(t for t in measured if t.service == "AMAZON"), 2, RecommendSettings(), inventory
        )
        == []
    )
    assert nat_service_findings(measured, 0, RecommendSettings(), inventory) == []


def test_the_sample_vpc_reaches_s3_through_its_nat_gateway(tmp_path: Path) -> None:
    """The sample's api servers reach S3 through nat-a (scenario row 9); the workers use the
    gateway endpoint (row 8) and do not count."""
    from conftest import SAMPLE_DATA

    from zt_flows.pipeline import analyze

    settings = Settings(sources=SourceSettings(cache_dir=tmp_path / "cache", progress=False))
    con = connect_engine(settings.engine)
    try:
        result = analyze(
            SAMPLE_DATA / "flowlogs",
            settings,
            con,
            inventory=load_inventory(SAMPLE_DATA / "inventory"),
        )
    finally:
        con.close()
    services = {t.service for t in result.observation.nat_traffic}
    assert "S3" in services
    assert "AMAZON" in services  # SQS, row 7: measured, never a finding of its own
    (finding,) = [f for f in result.findings if f.code == "ZT026"]
    assert finding.subject == "vpc-0b873741c03378b7d"
    assert "S3" in finding.message
    assert "nat-a" in finding.message
