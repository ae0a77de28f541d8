"""Shared pieces of the benchmark harness: data sets, timing in a fresh process, reporting.

Every measured run happens in its own spawned process, so its peak RSS is its own (not
the harness's, nor an earlier case's), and cases run in rounds so that a case and its
baseline see the same load on a shared machine.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
REPO = BENCHMARKS.parent
DATA = BENCHMARKS / "data"


@dataclass(frozen=True)
class Dataset:
    """A generated sample: its flow-log folder, its files, and how many records it holds."""

    root: Path
    records: int
    delivery: str  # the sample generator's --delivery: parquet or text

    @property
    def flowlogs(self) -> Path:
        return self.root / "flowlogs"

    def files(self) -> list[str]:
        suffix = "*.parquet" if self.delivery == "parquet" else "*.gz"
        return sorted(str(p) for p in self.flowlogs.rglob(suffix))

    @property
    def scratch_root(self) -> Path:
        return self.root.parent / f"scratch-{self.root.name}"

    def scratch(self, name: str) -> Path:
        """A per-case scratch folder (outputs, caches), emptied before each run."""
        path = self.scratch_root / name
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        return path

    def describe(self) -> str:
        size = sum(p.stat().st_size for p in self.flowlogs.rglob("*") if p.is_file())
        return (
            f"{self.records:,} records, {self.delivery}, {len(self.files())} files, "
            f"{size / 1e6:,.1f} MB ({self.flowlogs})"
        )


def dataset(records: int, delivery: str = "parquet", *, data_dir: Path = DATA) -> Dataset:
    """The sample at ``records`` records, generated once with the sample generator and reused.

    A data set is complete when its ``complete.json`` exists (written last), so an
    interrupted generation is redone, never half-used.
    """
    root = data_dir / f"sample-{delivery}-{records}"
    marker = root / "complete.json"
    if marker.exists() and "records" not in json.loads(marker.read_text()):
        marker.write_text(_records_json(root))
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        print(f"generating {records:,} records ({delivery}) into {root} ...", flush=True)
        started = time.perf_counter()
        command = [
            sys.executable, "-m", "zt_flows.sample", "--out", str(root),
            "--records", str(records), "--delivery", delivery,
        ]  # fmt: skip
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
        print(done.stdout.strip(), flush=True)
        written = json.loads(_records_json(root))
        written["seconds"] = round(time.perf_counter() - started, 1)
        marker.write_text(json.dumps(written))
    return Dataset(root, int(json.loads(marker.read_text())["records"]), delivery)


def _records_json(root: Path) -> str:
    """How many records the generated flow logs hold, counted by DuckDB."""
    import duckdb

    parquet = sorted(str(p) for p in (root / "flowlogs").rglob("*.parquet"))
    text = sorted(str(p) for p in (root / "flowlogs").rglob("*.gz"))
    con = duckdb.connect()
    total = 0
    if parquet:
        row = con.execute("SELECT count(*) FROM read_parquet(?)", [parquet]).fetchone()
        total += int(row[0]) if row else 0
    if text:
        row = con.execute(
            "SELECT count(*) FROM read_csv(?, delim = ' ', header = true, all_varchar = true)",
            [text],
        ).fetchone()
        total += int(row[0]) if row else 0
    return json.dumps({"records": total})


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One timed operation. ``run(data)`` returns the number of records it handled.

    ``baseline`` names the case (same stage) this one is compared with; a case with no
    baseline is a baseline, or shown for reference. ``delivery`` picks the data set;
    ``setup`` runs first in the same process, untimed (e.g. to fill a cache).
    """

    stage: str
    name: str
    run: Callable[[Dataset], int]
    baseline: str | None = None
    delivery: str = "parquet"
    setup: Callable[[Dataset], object] | None = None


@dataclass
class Result:
    stage: str
    name: str
    records: int
    seconds: float
    peak_rss_mb: float
    baseline: str | None = None
    ratio: float | None = None
    runs: list[float] = field(default_factory=list)

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else float("inf")


def _child(case: Case, data: Dataset, queue: Any, setup: bool) -> None:
    if setup:
        assert case.setup is not None
        case.setup(data)
        queue.put((0, 0.0, 0.0))
        return
    started = time.perf_counter()
    records = case.run(data)
    seconds = time.perf_counter() - started
    queue.put((records, seconds, _peak_rss_mb()))


def _peak_rss_mb() -> float:
    """This process's peak resident set size.

    ``VmHWM`` rather than ``ru_maxrss``: Linux carries ``ru_maxrss`` across ``exec``, so a
    spawned child would report its parent's peak when that was larger.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _spawn(case: Case, data: Dataset, *, setup: bool) -> tuple[int, float, float]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(case, data, queue, setup))
    process.start()
    outcome: tuple[int, float, float] = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"{case.stage}/{case.name} failed (exit {process.exitcode})")
    return outcome


def run_once(case: Case, data: Dataset) -> tuple[int, float, float]:
    """Run ``case`` once in a fresh process: records, seconds, peak RSS (MB).

    Its ``setup`` runs before, in a process of its own, so it counts in neither.
    """
    if case.setup is not None:
        _spawn(case, data, setup=True)
    return _spawn(case, data, setup=False)


def measure(cases: list[Case], data: dict[str, Dataset], *, repeat: int) -> list[Result]:
    """Run every case ``repeat`` times, in rounds (A B C, A B C, ...), keeping each case's
    fastest run and its largest peak RSS.

    Rounds rather than one case after the other: on a shared machine the load drifts, and
    a baseline and the case compared with it should see the same drift.
    """
    results = [Result(c.stage, c.name, 0, float("inf"), 0.0, c.baseline) for c in cases]
    for round_number in range(repeat):
        for case, result in zip(cases, results, strict=True):
            print(
                f"  round {round_number + 1}: {case.stage}: {case.name}",
                file=sys.stderr,
                flush=True,
            )
            records, seconds, rss = run_once(case, data[case.delivery])
            result.records = records
            result.runs.append(round(seconds, 3))
            result.seconds = min(result.seconds, seconds)
            result.peak_rss_mb = max(result.peak_rss_mb, rss)
    return results


def compare(results: list[Result]) -> None:
    """Fill in each result's ratio to its baseline (measured in the same run)."""
    by_name = {(r.stage, r.name): r for r in results}
    for result in results:
        if result.baseline is not None:
            base = by_name.get((result.stage, result.baseline))
            if base is not None and base.seconds > 0:
                result.ratio = result.seconds / base.seconds


def report(results: list[Result], data: dict[str, Dataset]) -> str:
    lines = [f"data ({d.delivery}): {d.describe()}" for d in data.values()]
    lines += [
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}",
        "",
        f"{'stage':<13}{'case':<46}{'seconds':>8}{'records/s':>15}{'peak RSS':>11}  ratio",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x {r.baseline}" if r.ratio is not None else ""
        lines.append(
            f"{r.stage:<13}{r.name:<46}{r.seconds:>8.2f}{r.per_second:>15,.0f}"
            f"{r.peak_rss_mb:>8,.0f} MB  {ratio}"
        )
    return "\n".join(lines)


def as_json(results: list[Result], data: dict[str, Dataset]) -> str:
    return json.dumps(
        {
            "data": {k: {"records": d.records, "root": str(d.root)} for k, d in data.items()},
            "results": [asdict(r) | {"records_per_second": r.per_second} for r in results],
        },
        indent=2,
    )
