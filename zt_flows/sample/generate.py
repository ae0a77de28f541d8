"""Run the emulation hour by hour and deliver the files: the library entry point.

Memory stays bounded at any size: connections are drawn one hour at a time and
turned into records one slice (an hour, or five minutes for large samples) at a time;
each hour's file is handed to a writer thread while the next hour is made. Only the
connections still open carry over from one hour to the next.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from zt_flows.errors import OutputError, UsageError
from zt_flows.sample.connections import (
    HOUR,
    Connections,
    daily_minimum,
    empty,
    open_pools,
    open_short,
)
from zt_flows.sample.delivery import FlowLogFile, Format, TableBuilder
from zt_flows.sample.inventory_json import snapshot_folder, write_snapshot
from zt_flows.sample.legs import leg_table
from zt_flows.sample.network import DAYS, SNAPSHOT_TIMES, WINDOW_START
from zt_flows.sample.plan import W0, Plan, build_plan
from zt_flows.sample.records import (
    NODATA,
    SKIPDATA,
    Records,
    expand,
    in_order,
    status_records,
)
from zt_flows.sample.truth import write_ground_truth

LOG_FORMATS = ("aws", "v2")
DELIVERIES = ("mixed", "parquet", "text")
# Parquet row groups hold at least this many records (the last one of a file may hold fewer).
ROW_GROUP = 500_000
OUTPUTS = ("inventory", "flowlogs", "ground_truth.csv")
# Files compressed at the same time (the development machine has two cores).
WRITERS = 2
# Scales up to this are emulated to find the one that makes the requested records.
CALIBRATION_SCALE = 4.0


@dataclass(frozen=True)
class SampleSummary:
    """What :func:`write_sample` wrote: flow-log records (all statuses) and files."""

    records: int
    nodata: int
    skipdata: int
    files: int
    bytes: int
    days: int


class Emulator:
    """The scenario's connections and records, one hour after the other."""

    def __init__(self, plan: Plan, seed: int) -> None:
        self.plan = plan
        self.seed = seed
        self.legs = leg_table()
        self.guaranteed = daily_minimum(plan, np.random.default_rng([seed, 1 << 20]), DAYS)
        self.live: Connections = empty()
        self.counts = np.zeros((DAYS, len(plan.pair_cls)), np.int64)
        self.slice = HOUR if plan.scale <= 50 else 300

    def hour(self, hour: int) -> Iterator[Records]:
        """The records of ``hour`` (since the window start), in slices, each in file order."""
        plan = self.plan
        rng = np.random.default_rng([self.seed, hour])
        pools = open_pools(plan, hour, self.live, rng)
        short = open_short(plan, hour, self.guaranteed, rng)
        live = Connections.concat([self.live, pools, short])
        start = W0 + hour * HOUR
        day = hour // 24
        for k, lo in enumerate(range(start, start + HOUR, self.slice)):
            hi = lo + self.slice
            records, touched = expand(
                plan, self.legs, live, lo, hi, np.random.default_rng([self.seed, hour, k + 1])
            )
            fresh = touched[live.seen_day[touched] != day]
            self.counts[day] += np.bincount(live.pair[fresh], minlength=self.counts.shape[1])
            live.seen_day[fresh] = day
            yield in_order(Records.concat([records, status_records(plan, records, lo, hi)]))
        self.live = live.take(np.nonzero(live.end >= start + HOUR)[0])


@functools.cache
def _count(scale: float, seed: int) -> int:
    """Records the scenario makes at ``scale`` (emulated, not written)."""
    emulator = Emulator(build_plan(scale), seed)
    return sum(len(batch) for hour in range(DAYS * 24) for batch in emulator.hour(hour))


def scale_for(records: int, seed: int = 0) -> float:
    """The scale at which the scenario makes about ``records`` records.

    Records grow almost linearly with scale (NODATA and the first and last records of
    pooled connections do not), so a line through two small emulations predicts large
    scales; small targets are refined on the curve itself, where emulating is cheap.
    """
    points = [(1.0, _count(1.0, seed)), (CALIBRATION_SCALE, _count(CALIBRATION_SCALE, seed))]
    for _ in range(4):
        (s1, r1), (s2, r2) = points[-2:]
        if r1 == r2:
            break
        scale = max(0.01, s2 + (records - r2) * (s2 - s1) / (r2 - r1))
        if scale > CALIBRATION_SCALE:
            return scale
        points.append((scale, _count(scale, seed)))
        if abs(points[-1][1] - records) <= 0.02 * records:
            break
    return points[-1][0]


def _formats(log_format: str, delivery: str) -> tuple[Format, ...]:
    if log_format not in LOG_FORMATS:
        raise UsageError(
            f"--log-format: expected one of {', '.join(LOG_FORMATS)}, found {log_format!r}"
        )
    if delivery not in DELIVERIES:
        raise UsageError(f"--delivery: expected one of {', '.join(DELIVERIES)}, found {delivery!r}")
    if log_format == "v2":
        if delivery == "parquet":
            raise UsageError(
                "--log-format v2 is the default text format; it cannot be delivered as Parquet",
                hint="drop --delivery parquet, or use --log-format aws",
            )
        return ("text-v2", "text-v2", "text-v2")
    if delivery == "parquet":
        return ("parquet", "parquet", "parquet")
    if delivery == "text":
        return ("text-v5", "text-v5", "text-v5")
    return ("parquet", "parquet", "text-v5")


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out} exists and is not a folder")
    ours = (out / "ground_truth.csv").is_file()
    for name in ("inventory", "flowlogs"):
        if (out / name).exists() and not ours:
            raise OutputError(
                f"{out / name} exists but {out} holds no ground_truth.csv: it was not written by "
                "this generator, and it would be replaced",
                hint="choose an empty or new folder for --out",
            )


def _write_file(root: Path, fmt: Format, hour: int, tables: list[pa.Table]) -> int:
    out = FlowLogFile(root, fmt, WINDOW_START + timedelta(hours=hour), timedelta(hours=1))
    for table in tables:
        out.write(table)
    return out.close()


def _write_flow_logs(
    emulator: Emulator, root: Path, formats: tuple[Format, ...]
) -> tuple[int, int, int, int, int]:
    """Emulate hour after hour; compress and write each hour's file in a worker thread.

    Compression is most of the cost and releases the GIL, so WRITERS files are compressed
    while the next hour is emulated; memory holds at most WRITERS + 1 hours of records.
    """
    builders = {fmt: TableBuilder(emulator.plan, fmt) for fmt in set(formats)}
    records = nodata = skipdata = size = 0
    hours = DAYS * 24
    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        writing: deque[Future[int]] = deque()
        for hour in range(hours):
            fmt = formats[hour // 24]
            tables: list[pa.Table] = []
            pending: list[Records] = []
            waiting = 0
            for batch in emulator.hour(hour):
                records += len(batch)
                nodata += int((batch.status == NODATA).sum())
                skipdata += int((batch.status == SKIPDATA).sum())
                pending.append(batch)
                waiting += len(batch)
                if waiting >= ROW_GROUP:
                    tables.append(builders[fmt].build(Records.concat(pending)))
                    pending, waiting = [], 0
            if pending:
                tables.append(builders[fmt].build(Records.concat(pending)))
            writing.append(pool.submit(_write_file, root, fmt, hour, tables))
            while len(writing) > WRITERS:
                size += writing.popleft().result()
        while writing:
            size += writing.popleft().result()
    return records, nodata, skipdata, hours, size


def write_sample(
    out: Path,
    *,
    records: int | None = None,
    log_format: str = "aws",
    delivery: str = "mixed",
    seed: int = 0,
) -> SampleSummary:
    """Write the sample VPC (inventory, flow logs, ground truth) into ``out``.

    ``records`` scales the same scenario to about that many flow-log records (default:
    the committed sample's size). ``log_format`` "aws" writes AWS's fields of versions
    2-8 (Parquet) and a version-5 custom text format; "v2" writes the default format
    as text. ``delivery`` picks Parquet for the first two days and text for the third
    ("mixed"), or one format for every day. The same arguments write the same bytes.
    """
    formats = _formats(log_format, delivery)
    if records is not None and records <= 0:
        raise UsageError(f"--records: expected a positive number, found {records}")
    out = Path(out)
    _check_out(out)
    scale = 1.0 if records is None else scale_for(records, seed)
    plan = build_plan(scale)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".sample-", dir=out))
    try:
        for taken_at in SNAPSHOT_TIMES:
            write_snapshot(
                plan.network,
                taken_at,
                staging / "inventory" / snapshot_folder(taken_at),
                formats=formats,
            )
        emulator = Emulator(plan, seed)
        total, nodata, skipdata, files, size = _write_flow_logs(
            emulator, staging / "flowlogs", formats
        )
        write_ground_truth(staging / "ground_truth.csv", plan, emulator.counts)
        for name in OUTPUTS:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
            (staging / name).replace(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return SampleSummary(total, nodata, skipdata, files, size, DAYS)
