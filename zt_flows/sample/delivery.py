"""Write records the way VPC Flow Logs delivers them to S3: keys, file names, formats.

Parquet: GZIP inside, one column per field of versions 2-8 with AWS's Parquet types
(``zt_flows.schema.ARROW_SCHEMA``), Hive-compatible prefixes with hourly partitions.
Text: gzip, a header line of hyphenated field names in the flow log's own order,
space-separated values, ``-`` for a missing value, the default prefix layout.
File names carry the account, region, flow-log id, the end of the file's window and
a hash. AWS: https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3-path.html
"""

from __future__ import annotations

import gzip
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeAlias, cast

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from zt_flows.sample.network import ACCOUNT_ID, REGION
from zt_flows.sample.plan import SERVICE_NAMES, Plan
from zt_flows.sample.records import NULL, OK, Records
from zt_flows.schema import ARROW_SCHEMA, DEFAULT_FORMAT, FIELDS

Format = Literal["parquet", "text-v5", "text-v2"]

FLOW_LOG_PARQUET = "fl-0a1b2c3d4e5f60718"
FLOW_LOG_TEXT = "fl-0f9e8d7c6b5a40321"
# Both flow logs capture ALL traffic of the prod VPC and were created before the window.
FLOW_LOG_CREATED = {
    FLOW_LOG_PARQUET: datetime(2026, 10, 5, 9, 14, 27, 512000, tzinfo=UTC),
    FLOW_LOG_TEXT: datetime(2026, 11, 2, 15, 40, 3, 86000, tzinfo=UTC),
}
# The bucket sample_data/flowlogs stands for (a name AWS reserves for examples).
FLOW_LOG_BUCKET = "amzn-s3-demo-flow-log-bucket"
# The text flow log's custom format: version 5 fields, not in the default order.
TEXT_V5_FIELDS = (
    "version", "vpc_id", "subnet_id", "instance_id", "interface_id", "account_id", "type",
    "srcaddr", "dstaddr", "srcport", "dstport", "pkt_srcaddr", "pkt_dstaddr", "protocol",
    "bytes", "packets", "start", "end", "action", "tcp_flags", "log_status", "flow_direction",
    "traffic_path", "pkt_src_aws_service", "pkt_dst_aws_service",
)  # fmt: skip
# A custom format's version is the highest version among its fields; the default is 2.
VERSION = {"parquet": 8, "text-v5": 5, "text-v2": 2}
COLUMNS: dict[Format, tuple[str, ...]] = {
    # Every field of versions 2-8: the sample VPC's flow log was created before later fields.
    "parquet": tuple(f.name for f in FIELDS if f.version <= VERSION["parquet"]),
    "text-v5": TEXT_V5_FIELDS,
    "text-v2": DEFAULT_FORMAT,
}


def flow_log_id(fmt: Format) -> str:
    """The flow log that delivers files of ``fmt``."""
    return FLOW_LOG_PARQUET if fmt == "parquet" else FLOW_LOG_TEXT


def log_format(fmt: Format) -> str:
    """The flow log's LogFormat: its fields in order, as DescribeFlowLogs returns them."""
    return " ".join("${" + name.replace("_", "-") + "}" for name in COLUMNS[fmt])


def object_key(fmt: Format, window_start: datetime, window: timedelta) -> str:
    """The S3 key (below the bucket) of the file holding ``[window_start, +window)``."""
    end = window_start + window
    flow_log = flow_log_id(fmt)
    stamp = end.strftime("%Y%m%dT%H%MZ")
    digest = hashlib.sha256(f"{flow_log}/{stamp}/{fmt}".encode()).hexdigest()[:8]
    name = f"{ACCOUNT_ID}_vpcflowlogs_{REGION}_{flow_log}_{stamp}_{digest}"
    t = window_start
    if fmt == "parquet":
        prefix = (
            f"AWSLogs/aws-account-id={ACCOUNT_ID}/aws-service=vpcflowlogs/aws-region={REGION}/"
            f"year={t:%Y}/month={t:%m}/day={t:%d}/hour={t:%H}"
        )
        return f"{prefix}/{name}.log.parquet"
    return f"AWSLogs/{ACCOUNT_ID}/vpcflowlogs/{REGION}/{t:%Y}/{t:%m}/{t:%d}/{name}.log.gz"


Column: TypeAlias = "pa.Array[Any]"


def _dictionary(codes: np.ndarray, values: list[str] | tuple[str, ...]) -> Column:
    """Strings as a dictionary column (codes < 0 are NULL): cheap to build and to write."""
    mask = codes < 0
    indices = cast(
        "pa.Int32Array",
        pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask if mask.any() else None),
    )
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(values), pa.string()))


def _ints(values: np.ndarray, dtype: pa.DataType) -> Column:
    mask = values < 0
    return pa.array(values, dtype, mask=mask if mask.any() else None)


@dataclass(frozen=True, eq=False)
class _EniTables:
    """Per-ENI string tables: a record's vpc-id, subnet-id, ... follow its ENI."""

    ids: list[str]
    vpcs: list[str]
    vpc_code: np.ndarray
    subnets: list[str]
    subnet_code: np.ndarray
    instances: list[str]
    instance_code: np.ndarray
    azs: list[str]
    az_code: np.ndarray


def _eni_tables(plan: Plan) -> _EniTables:
    def codes(values: list[str | None]) -> tuple[list[str], np.ndarray]:
        uniq = sorted({v for v in values if v is not None})
        return uniq, np.array([uniq.index(v) if v is not None else NULL for v in values], np.int32)

    net = plan.network
    vpcs, vpc_code = codes([net.vpc(net.subnet(e.subnet).vpc).id for e in plan.enis])
    subnets, subnet_code = codes([net.subnet(e.subnet).id for e in plan.enis])
    instances, instance_code = codes([e.instance_id for e in plan.enis])
    azs, az_code = codes([net.subnet(e.subnet).az_id for e in plan.enis])
    return _EniTables(
        [e.id for e in plan.enis],
        vpcs,
        vpc_code,
        subnets,
        subnet_code,
        instances,
        instance_code,
        azs,
        az_code,
    )


class TableBuilder:
    """Records to an Arrow table with the canonical names and types of one format's fields."""

    def __init__(self, plan: Plan, fmt: Format) -> None:
        self.plan = plan
        self.fmt = fmt
        self.columns = COLUMNS[fmt]
        self.enis = _eni_tables(plan)
        self.addresses = list(plan.addresses)
        service = plan.addr_service.astype(np.int32)
        self.service = np.where(service > 0, service - 1, NULL).astype(np.int32)

    def build(self, rec: Records) -> pa.Table:
        n = len(rec)
        ok = rec.status == OK
        t = self.enis

        def per_eni(code: np.ndarray) -> np.ndarray:
            return np.where(ok, code[rec.eni], NULL)

        def service(addr: np.ndarray) -> np.ndarray:
            return np.where(addr >= 0, self.service[np.maximum(addr, 0)], NULL)

        make: dict[str, Callable[[], Column]] = {
            "version": lambda: pa.array(np.full(n, VERSION[self.fmt], np.int32)),
            "account_id": lambda: _dictionary(np.zeros(n, np.int32), [ACCOUNT_ID]),
            "interface_id": lambda: _dictionary(rec.eni, t.ids),
            "srcaddr": lambda: _dictionary(rec.src, self.addresses),
            "dstaddr": lambda: _dictionary(rec.dst, self.addresses),
            "srcport": lambda: _ints(rec.srcport, pa.int32()),
            "dstport": lambda: _ints(rec.dstport, pa.int32()),
            "protocol": lambda: _ints(rec.protocol, pa.int32()),
            "packets": lambda: _ints(rec.packets, pa.int64()),
            "bytes": lambda: _ints(rec.bytes, pa.int64()),
            "start": lambda: pa.array(rec.start, pa.int64()),
            "end": lambda: pa.array(rec.end, pa.int64()),
            "action": lambda: _dictionary(rec.action.astype(np.int32), ["ACCEPT", "REJECT"]),
            "log_status": lambda: _dictionary(
                rec.status.astype(np.int32), ["OK", "NODATA", "SKIPDATA"]
            ),
            "vpc_id": lambda: _dictionary(per_eni(t.vpc_code), t.vpcs),
            "subnet_id": lambda: _dictionary(per_eni(t.subnet_code), t.subnets),
            "instance_id": lambda: _dictionary(per_eni(t.instance_code), t.instances),
            "tcp_flags": lambda: _ints(rec.flags, pa.int32()),
            "type": lambda: _dictionary(rec.v6.astype(np.int32), ["IPv4", "IPv6"]),
            "pkt_srcaddr": lambda: _dictionary(rec.pkt_src, self.addresses),
            "pkt_dstaddr": lambda: _dictionary(rec.pkt_dst, self.addresses),
            "region": lambda: _dictionary(np.where(ok, 0, NULL), [REGION]),
            "az_id": lambda: _dictionary(per_eni(t.az_code), t.azs),
            "pkt_src_aws_service": lambda: _dictionary(service(rec.pkt_src), SERVICE_NAMES[1:]),
            "pkt_dst_aws_service": lambda: _dictionary(service(rec.pkt_dst), SERVICE_NAMES[1:]),
            "flow_direction": lambda: _dictionary(
                rec.direction.astype(np.int32), ["ingress", "egress"]
            ),
            "traffic_path": lambda: _ints(rec.traffic_path, pa.int32()),
        }
        arrays = []
        for name in self.columns:
            build = make.get(name)
            # Sublocations (Outposts, Local Zones), ECS metadata and reject reasons never apply.
            arrays.append(build() if build else pa.nulls(n, ARROW_SCHEMA.field(name).type))
        return pa.Table.from_arrays(arrays, names=list(self.columns))


class FlowLogFile:
    """One delivered object, written in batches; text and Parquet look alike to the caller."""

    def __init__(self, root: Path, fmt: Format, window_start: datetime, window: timedelta) -> None:
        self.key = object_key(fmt, window_start, window)
        self.path = root / self.key
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fmt = fmt
        self.records = 0
        self._parquet: pq.ParquetWriter | None = None
        self._gzip: gzip.GzipFile | None = None
        self._raw: io.BufferedWriter | None = None
        if fmt != "parquet":
            self._raw = self.path.open("wb")
            # mtime 0 and no file name in the header: the same records give the same bytes.
            self._gzip = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
            header = " ".join(name.replace("_", "-") for name in COLUMNS[fmt])
            self._gzip.write(header.encode() + b"\n")

    def write(self, table: pa.Table) -> None:
        self.records += table.num_rows
        if self._gzip is not None:
            frame = pl.from_arrow(table)
            assert isinstance(frame, pl.DataFrame)
            buffer = io.BytesIO()
            frame.write_csv(
                buffer, include_header=False, separator=" ", null_value="-", quote_style="never"
            )
            self._gzip.write(buffer.getvalue())
            return
        if self._parquet is None:
            # No Arrow schema in the footer: AWS's files carry only Parquet's own types.
            self._parquet = pq.ParquetWriter(
                self.path, table.schema, compression="gzip", store_schema=False
            )
        self._parquet.write_table(table, row_group_size=max(1, table.num_rows))

    def close(self) -> int:
        """Finish the file; returns its size in bytes."""
        if self._gzip is not None and self._raw is not None:
            self._gzip.close()
            self._raw.close()
        elif self._parquet is not None:
            self._parquet.close()
        else:  # a Parquet file with no records at all still has the schema
            schema = pa.schema([ARROW_SCHEMA.field(name) for name in COLUMNS[self.fmt]])
            pq.write_table(schema.empty_table(), self.path, compression="gzip", store_schema=False)
        return self.path.stat().st_size
