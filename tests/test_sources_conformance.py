"""Conformance: the example records of the AWS documentation land in the right columns.

Source of the records: "Flow log record examples", Amazon VPC User Guide,
https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-records-examples.html
(stored in tests/fixtures/flowlogs/aws-docs/, see its README). Every expected value
below is read off the page by hand; all other canonical columns must be NULL.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES
from support.sources import ALL_FIELDS, connect, parquet_bytes, settings_for

from zt_flows.schema import FIELDS
from zt_flows.sources import read_flow_logs

DOCS = FIXTURES / "flowlogs" / "aws-docs"


def expect(**values: Any) -> dict[str, Any]:
    rec: dict[str, Any] = dict.fromkeys(ALL_FIELDS)
    rec.update(values)
    return rec


def _key(rec: dict[str, Any]) -> tuple[Any, ...]:
    return (
        rec["start"] or 0,
        rec["interface_id"] or "",
        rec["srcaddr"] or "",
        rec["srcport"] if rec["srcport"] is not None else -1,
        rec["dstaddr"] or "",
        rec["tcp_flags"] if rec["tcp_flags"] is not None else -1,
    )


def read_all(path: Path, cache: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    con = connect()
    flows = read_flow_logs(path, settings_for(cache), con)
    cursor = con.execute(f'SELECT * FROM "{flows.all_view}"')
    names = [d[0] for d in cursor.description]
    every = sorted((dict(zip(names, r, strict=True)) for r in cursor.fetchall()), key=_key)
    cursor = con.execute(f'SELECT * FROM "{flows.view}"')
    only_flows = sorted((dict(zip(names, r, strict=True)) for r in cursor.fetchall()), key=_key)
    types = con.execute(f'DESCRIBE "{flows.view}"').fetchall()
    assert [(t[0], t[1]) for t in types] == [(f.name, f.duckdb_type) for f in FIELDS]
    return every, only_flows, flows.summarize(con)


V2 = {"version": 2, "account_id": "123456789010"}
ENI = "eni-1235b8ca123456789"

DEFAULT_FORMAT = [
    expect(**V2, interface_id=ENI, srcaddr="172.31.16.139", dstaddr="172.31.16.21", srcport=20641,
           dstport=22, protocol=6, packets=20, bytes=4249, start=1418530010, end=1418530070,
           action="ACCEPT", log_status="OK"),
    expect(**V2, interface_id=ENI, srcaddr="172.31.9.69", dstaddr="172.31.9.12", srcport=49761,
           dstport=3389, protocol=6, packets=20, bytes=4249, start=1418530010, end=1418530070,
           action="REJECT", log_status="OK"),
    expect(**V2, interface_id=ENI, start=1431280876, end=1431280934, log_status="NODATA"),
    expect(**V2, interface_id="eni-11111111aaaaaaaaa", start=1431280876, end=1431280934,
           log_status="SKIPDATA"),
    expect(**V2, interface_id=ENI, srcaddr="203.0.113.12", dstaddr="172.31.16.139", srcport=0,
           dstport=0, protocol=1, packets=4, bytes=336, start=1432917027, end=1432917142,
           action="ACCEPT", log_status="OK"),
    expect(**V2, interface_id=ENI, srcaddr="172.31.16.139", dstaddr="203.0.113.12", srcport=0,
           dstport=0, protocol=1, packets=4, bytes=336, start=1432917094, end=1432917142,
           action="REJECT", log_status="OK"),
    expect(**V2, interface_id=ENI, srcaddr="2001:db8:1234:a100:8d6e:3477:df66:f105",
           dstaddr="2001:db8:1234:a102:3304:8879:34cf:4071", srcport=34892, dstport=22, protocol=6,
           packets=54, bytes=8855, start=1477913708, end=1477913820, action="ACCEPT",
           log_status="OK"),
]  # fmt: skip


def _tcp(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    nbytes: int,
    packets: int,
    start: int,
    end: int,
    flags: int,
) -> dict[str, Any]:
    return expect(version=3, vpc_id="vpc-abcdefab012345678", subnet_id="subnet-aaaaaaaa012345678",
                  instance_id="i-01234567890123456", interface_id=ENI, account_id="123456789010",
                  type="IPv4", srcaddr=src, dstaddr=dst, srcport=sport, dstport=dport,
                  pkt_srcaddr=src, pkt_dstaddr=dst, protocol=6, bytes=nbytes, packets=packets,
                  start=start, end=end, action="ACCEPT", tcp_flags=flags,
                  log_status="OK")  # fmt: skip


CLIENT, SERVER = "52.213.180.42", "10.0.0.62"
TCP_FLAG_SEQUENCE = [
    _tcp(CLIENT, SERVER, 43416, 5001, 568, 8, 1566848875, 1566848933, 2),
    _tcp(SERVER, CLIENT, 5001, 43416, 376, 7, 1566848875, 1566848933, 18),
    _tcp(CLIENT, SERVER, 43418, 5001, 100701, 70, 1566848875, 1566848933, 2),
    _tcp(SERVER, CLIENT, 5001, 43418, 632, 12, 1566848875, 1566848933, 18),
    _tcp(SERVER, CLIENT, 5001, 43418, 63388, 1219, 1566848933, 1566849113, 1),
    _tcp(CLIENT, SERVER, 43418, 5001, 23294588, 15774, 1566848933, 1566849113, 1),
    _tcp(CLIENT, SERVER, 43638, 5001, 1260, 17, 1566933133, 1566933193, 3),
    _tcp(SERVER, CLIENT, 5001, 43638, 967, 14, 1566933133, 1566933193, 19),
]


def _nat(
    instance: str | None, eni: str, src: str, dst: str, psrc: str, pdst: str
) -> dict[str, Any]:
    return expect(instance_id=instance, interface_id=eni, srcaddr=src, dstaddr=dst,
                  pkt_srcaddr=psrc, pkt_dstaddr=pdst)  # fmt: skip


NAT_ENI, INSTANCE_ENI, INSTANCE = ENI, "eni-1111aaaa2222bbbb3", "i-01234567890123456"
NAT_GATEWAY = [
    _nat(None, NAT_ENI, "10.0.1.5", "10.0.0.220", "10.0.1.5", "203.0.113.5"),
    _nat(None, NAT_ENI, "10.0.0.220", "203.0.113.5", "10.0.0.220", "203.0.113.5"),
    _nat(None, NAT_ENI, "203.0.113.5", "10.0.0.220", "203.0.113.5", "10.0.0.220"),
    _nat(None, NAT_ENI, "10.0.0.220", "10.0.1.5", "203.0.113.5", "10.0.1.5"),
    _nat(INSTANCE, INSTANCE_ENI, "10.0.1.5", "203.0.113.5", "10.0.1.5", "203.0.113.5"),
    _nat(INSTANCE, INSTANCE_ENI, "203.0.113.5", "10.0.1.5", "203.0.113.5", "10.0.1.5"),
]


def _tgw(
    eni: str,
    subnet: str,
    instance: str | None,
    src: str,
    dst: str,
    sport: int,
    dport: int,
    flags: int,
    psrc: str,
    pdst: str,
) -> dict[str, Any]:
    return expect(version=3, interface_id=eni, account_id="123456789010",
                  vpc_id="vpc-abcdefab012345678", subnet_id=subnet, instance_id=instance,
                  srcaddr=src, dstaddr=dst, srcport=sport, dstport=dport, protocol=6,
                  tcp_flags=flags, type="IPv4", pkt_srcaddr=psrc, pkt_dstaddr=pdst,
                  action="ACCEPT", log_status="OK")  # fmt: skip


SUBNET_A, SUBNET_B = "subnet-11111111aaaaaaaaa", "subnet-22222222bbbbbbbbb"
TRANSIT_GATEWAY = [
    _tgw("eni-33333333333333333", SUBNET_B, INSTANCE, "10.20.33.164", "10.40.2.236", 39812, 80, 3,
         "10.20.33.164", "10.40.2.236"),
    _tgw("eni-33333333333333333", SUBNET_B, INSTANCE, "10.40.2.236", "10.20.33.164", 80, 39812, 19,
         "10.40.2.236", "10.20.33.164"),
    _tgw("eni-11111111111111111", SUBNET_A, None, "10.40.1.175", "10.40.2.236", 39812, 80, 3,
         "10.20.33.164", "10.40.2.236"),
    _tgw("eni-22222222222222222", SUBNET_B, None, "10.40.2.236", "10.40.2.31", 80, 39812, 19,
         "10.40.2.236", "10.20.33.164"),
]  # fmt: skip

_S3_COMMON = {
    "version": 5, "protocol": 6, "start": 1616729292, "end": 1616729349, "type": "IPv4",
    "account_id": "123456789012", "vpc_id": "vpc-abcdefab012345678",
    "subnet_id": "subnet-aaaaaaaa012345678", "instance_id": "i-0c50d5961bcb2d47b",
    "interface_id": ENI, "region": "ap-southeast-2", "az_id": "apse2-az3", "action": "ACCEPT",
    "log_status": "OK",
}  # fmt: skip
TRAFFIC_PATH = [
    expect(**_S3_COMMON, srcaddr="52.95.128.179", dstaddr="10.0.0.71", srcport=80, dstport=34210,
           packets=14, bytes=15044, tcp_flags=19, pkt_srcaddr="52.95.128.179",
           pkt_dstaddr="10.0.0.71", pkt_src_aws_service="S3", flow_direction="ingress"),
    expect(**_S3_COMMON, srcaddr="10.0.0.71", dstaddr="52.95.128.179", srcport=34210, dstport=80,
           packets=7, bytes=471, tcp_flags=3, pkt_srcaddr="10.0.0.71",
           pkt_dstaddr="52.95.128.179", pkt_dst_aws_service="S3", traffic_path=8,
           flow_direction="egress"),
]  # fmt: skip

CASES = {
    "default-format.log": DEFAULT_FORMAT,
    "tcp-flag-sequence.log": TCP_FLAG_SEQUENCE,
    "nat-gateway.log": NAT_GATEWAY,
    "transit-gateway.log": TRANSIT_GATEWAY,
    "traffic-path.log": TRAFFIC_PATH,
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_documented_records_land_in_their_columns(
    name: str, compressed: bool, tmp_path: Path
) -> None:
    source = tmp_path / (name + ".gz" if compressed else name)
    data = (DOCS / name).read_bytes()
    source.write_bytes(gzip.compress(data, mtime=0) if compressed else data)
    every, flows, summary = read_all(source, tmp_path / "cache")
    assert every == sorted(CASES[name], key=_key)
    # NODATA and SKIPDATA are coverage, not flows; records without log-status are flows.
    assert flows == [r for r in every if r["log_status"] in ("OK", None)]
    assert summary.records == len(CASES[name])


def test_default_format_counts_nodata_and_skipdata(tmp_path: Path) -> None:
    _, flows, summary = read_all(DOCS / "default-format.log", tmp_path / "cache")
    assert (summary.records, summary.flows, summary.nodata, summary.skipdata) == (7, 5, 1, 1)
    assert [(v.version, v.records) for v in summary.versions] == [(2, 7)]
    assert {r["srcaddr"] for r in flows} >= {"2001:db8:1234:a100:8d6e:3477:df66:f105"}


@pytest.mark.parametrize(
    "name", ["default-format.log", "tcp-flag-sequence.log", "traffic-path.log"]
)
def test_parquet_and_text_paths_agree(name: str, tmp_path: Path) -> None:
    """The same records as Parquet (AWS's types, the format's fields only) read the same."""
    header = (DOCS / name).read_text().splitlines()[0].split()
    fields = tuple(h.replace("-", "_") for h in header)
    text_dir, parquet_dir = tmp_path / "text", tmp_path / "parquet"
    text_dir.mkdir()
    parquet_dir.mkdir()
    shutil.copy(DOCS / name, text_dir / name)
    (parquet_dir / "records.log.parquet").write_bytes(parquet_bytes(CASES[name], fields))
    from_text, _, _ = read_all(text_dir, tmp_path / "cache")
    from_parquet, _, _ = read_all(parquet_dir, tmp_path / "cache")
    assert from_parquet == from_text == sorted(CASES[name], key=_key)
