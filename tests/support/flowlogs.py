"""Build small, readable flow-log data sets for tests: real Parquet files in AWS's Hive
layout, and real inventory snapshot folders in the AWS CLI's JSON shapes.

A connection is described once (client, server, ports, how long) and emitted the way VPC
Flow Logs record it: one record per direction per logged interface per 60-second
interval, SYN / SYN-ACK in the first interval, FIN in the last, nothing in between.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows import schema
from zt_flows.inventory.model import NetworkInterface

ACCOUNT = "123456789012"
REGION = "us-east-1"
VPC = "vpc-0aaaaaaaaaaaaaaa1"
VPC_CIDR = "10.0.0.0/16"
VPC_CIDR6 = "2600:1f18:1:2300::/56"
DAY1 = int(datetime(2026, 11, 16, tzinfo=UTC).timestamp())
HOUR = 3600
DAY = 86400


def document(eni: NetworkInterface) -> dict[str, object]:
    """An ENI (built by support.inventory.eni) as describe-network-interfaces prints it."""
    doc: dict[str, object] = {
        "NetworkInterfaceId": eni.id,
        "VpcId": eni.vpc_id,
        "SubnetId": "subnet-0aaaaaaaaaaaaaaa1",
        "OwnerId": ACCOUNT,
        "AvailabilityZone": "us-east-1a",
        "InterfaceType": eni.interface_type,
        "Description": eni.description,
        "RequesterManaged": eni.requester_managed,
        "Status": "in-use",
        "PrivateIpAddress": eni.primary_ipv4,
        "PrivateIpAddresses": [
            {"Primary": i == 0, "PrivateIpAddress": ip} for i, ip in enumerate(eni.private_ipv4s)
        ],
        "Ipv6Addresses": [{"Ipv6Address": a} for a in eni.ipv6s],
        "Groups": [
            {"GroupId": g, "GroupName": g.removeprefix("sg-")} for g in eni.security_group_ids
        ],
        "TagSet": [{"Key": k, "Value": v} for k, v in eni.tags],
    }
    if eni.requester_id:
        doc["RequesterId"] = eni.requester_id
    if eni.public_ips:
        doc["Association"] = {"PublicIp": eni.public_ips[0], "IpOwnerId": "amazon"}
    if eni.instance_id or eni.attach_time:
        attachment: dict[str, object] = {"Status": "attached", "DeviceIndex": 0}
        if eni.instance_id:
            attachment["InstanceId"] = eni.instance_id
        if eni.attach_time:
            attachment["AttachTime"] = eni.attach_time.isoformat()
        doc["Attachment"] = attachment
    return doc


def write_snapshot(folder: Path, enis: Sequence[NetworkInterface], taken_at: str) -> Path:
    """A snapshot folder with ENIs, the VPC and a manifest (other documents absent)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "describe-network-interfaces.json").write_text(
        json.dumps({"NetworkInterfaces": [document(e) for e in enis]}, indent=1)
    )
    (folder / "describe-vpcs.json").write_text(
        json.dumps(
            {
                "Vpcs": [
                    {
                        "VpcId": VPC,
                        "OwnerId": ACCOUNT,
                        "CidrBlock": VPC_CIDR,
                        "IsDefault": False,
                        "CidrBlockAssociationSet": [
                            {"CidrBlock": VPC_CIDR, "CidrBlockState": {"State": "associated"}}
                        ],
                        "Ipv6CidrBlockAssociationSet": [
                            {
                                "Ipv6CidrBlock": VPC_CIDR6,
                                "Ipv6CidrBlockState": {"State": "associated"},
                            }
                        ],
                    }
                ]
            },
            indent=1,
        )
    )
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "taken_at": taken_at,
                "account_ids": [ACCOUNT],
                "regions": [REGION],
            }
        )
    )
    return folder


@dataclass
class Records:
    """Collects canonical flow records; ``write`` lays them out as AWS delivers Parquet."""

    rows: list[dict[str, object]] = field(default_factory=list)

    def record(
        self,
        interface_id: str,
        src: str,
        dst: str,
        srcport: int,
        dstport: int,
        *,
        start: int,
        protocol: int = 6,
        flags: int | None = 0,
        action: str = "ACCEPT",
        packets: int = 10,
        bytes_: int = 1000,
        direction: str | None = None,
        pkt_src: str | None = None,
        pkt_dst: str | None = None,
        src_service: str | None = None,
        dst_service: str | None = None,
        version: int = 5,
    ) -> None:
        row: dict[str, object] = {f.name: None for f in schema.FIELDS}
        row.update(
            version=version,
            account_id=ACCOUNT,
            interface_id=interface_id,
            srcaddr=src,
            dstaddr=dst,
            srcport=srcport,
            dstport=dstport,
            protocol=protocol,
            packets=packets,
            bytes=bytes_,
            start=start,
            end=start + 59,
            action=action,
            log_status="OK",
            tcp_flags=flags,
            flow_direction=direction,
            pkt_srcaddr=pkt_src if pkt_src is not None else (src if version >= 3 else None),
            pkt_dstaddr=pkt_dst if pkt_dst is not None else (dst if version >= 3 else None),
            pkt_src_aws_service=src_service,
            pkt_dst_aws_service=dst_service,
            type="IPv6" if ":" in src else "IPv4",
        )
        self.rows.append(row)

    def connection(
        self,
        client: tuple[str | None, str],
        server: tuple[str | None, str],
        client_port: int,
        server_port: int,
        *,
        start: int,
        intervals: int = 1,
        protocol: int = 6,
        with_flags: bool = True,
        opened: bool = True,
        request_bytes: int = 500,
        response_bytes: int = 4000,
    ) -> None:
        """A connection seen on every logged side: (interface or None, address) each."""
        (c_eni, c_ip), (s_eni, s_ip) = client, server
        for i in range(intervals):
            first, last = i == 0, i == intervals - 1
            req_flags = resp_flags = 0
            if protocol == 6 and with_flags:
                if first and opened:
                    req_flags, resp_flags = 2, 18
                if last:
                    req_flags |= 1
                    resp_flags |= 1
            flags_req = req_flags if (protocol == 6 and with_flags) else None
            flags_resp = resp_flags if (protocol == 6 and with_flags) else None
            at = start + 60 * i
            for eni, req_dir, resp_dir in (
                (c_eni, "egress", "ingress"),
                (s_eni, "ingress", "egress"),
            ):
                if eni is None:
                    continue
                self.record(
                    eni,
                    c_ip,
                    s_ip,
                    client_port,
                    server_port,
                    start=at,
                    protocol=protocol,
                    flags=flags_req,
                    direction=req_dir,
                    bytes_=request_bytes,
                    packets=5,
                )
                self.record(
                    eni,
                    s_ip,
                    c_ip,
                    server_port,
                    client_port,
                    start=at,
                    protocol=protocol,
                    flags=flags_resp,
                    direction=resp_dir,
                    bytes_=response_bytes,
                    packets=7,
                )

    def write(self, root: Path, *, version_fields: Iterable[str] | None = None) -> Path:
        """Write one Parquet object per hour under the Hive-compatible layout; returns root."""
        names = [f.name for f in schema.FIELDS]
        if version_fields is not None:
            keep = set(version_fields)
            names = [n for n in names if n in keep]
        by_hour: dict[int, list[dict[str, object]]] = {}
        for row in self.rows:
            start = row["start"]
            assert isinstance(start, int)
            by_hour.setdefault(start // HOUR, []).append(row)
        for hour, rows in sorted(by_hour.items()):
            t = datetime.fromtimestamp(hour * HOUR, tz=UTC)
            folder = root / (
                f"AWSLogs/aws-account-id={ACCOUNT}/aws-service=vpcflowlogs/aws-region={REGION}/"
                f"year={t:%Y}/month={t:%m}/day={t:%d}/hour={t:%H}"
            )
            folder.mkdir(parents=True, exist_ok=True)
            end = datetime.fromtimestamp((hour + 1) * HOUR, tz=UTC)
            name = (
                f"{ACCOUNT}_vpcflowlogs_{REGION}_fl-0123456789abcdef0_{end:%Y%m%dT%H%MZ}_0a1b2c3d"
            )
            table = pa.Table.from_pylist(
                [{n: r[n] for n in names} for r in rows],
                schema=pa.schema([pa.field(n, schema.FIELD_BY_NAME[n].arrow_type) for n in names]),
            )
            pq.write_table(table, folder / f"{name}.log.parquet", compression="gzip")
        return root
