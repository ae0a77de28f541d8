"""Shared pieces of the benchmark harness: data sets, timing in a fresh process, reporting.

Every measured run happens in its own spawned process, so its peak RSS is its own (not
the harness's, nor an earlier case's), and cases run in rounds so that a case and its
baseline see the same load on a shared machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Empty
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
    # Where the cases' scratch folders go; beside ``root`` unless given (``--data`` points
    # at a folder the harness does not own).
    scratch_parent: Path | None = None

    @property
    def flowlogs(self) -> Path:
        return self.root / "flowlogs"

    @property
    def inventory(self) -> Path:
        return self.root / "inventory"

    def files(self) -> list[str]:
        suffix = "*.parquet" if self.delivery == "parquet" else "*.gz"
        return sorted(str(p) for p in self.flowlogs.rglob(suffix))

    def warm(self) -> int:
        """Read every file of the data set once, so that no case pays for a cold page cache.

        Reading the bytes, not running a query: a ``count(*)`` over Parquet reads only the
        footers, and a real query at 100M records costs a minute.
        """
        total = 0
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                with path.open("rb") as handle:
                    while chunk := handle.read(1 << 20):
                        total += len(chunk)
        return total

    @property
    def scratch_root(self) -> Path:
        return (self.scratch_parent or self.root.parent) / f"scratch-{self.root.name}"

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


def dataset(
    records: int, delivery: str = "parquet", *, data_dir: Path = DATA, shape: str = "sample"
) -> Dataset:
    """The sample at ``records`` records, generated once with the sample generator and reused.

    A data set is complete when its ``complete.json`` exists (written last), so an
    interrupted generation is redone, never half-used. The marker also names the version
    of the generator that wrote it (a digest of its source): a data set written by another
    version is generated again, since an old one may not even load (before the fix of
    replica addresses, every inventory above ~3M records was invalid).
    """
    root = data_dir / f"{shape}-{delivery}-{records}"
    marker = root / "complete.json"
    version = generator_version()
    written = json.loads(marker.read_text()) if marker.exists() else {}
    if written and written.get("generator") != version:
        print(f"{root} was written by another version of the sample generator", flush=True)
    if written.get("generator") != version or "records" not in written:
        shutil.rmtree(root, ignore_errors=True)
        print(f"generating {records:,} records ({delivery}) into {root} ...", flush=True)
        started = time.perf_counter()
        if shape == "estate":
            command = [
                sys.executable, "-m", "zt_flows.sample.estate", "--out", str(root),
                "--records", str(records),
                "--delivery", "parquet" if delivery == "parquet" else "text-v5",
            ]  # fmt: skip
        else:
            command = [
                sys.executable, "-m", "zt_flows.sample", "--out", str(root),
                "--records", str(records), "--delivery", delivery,
            ]  # fmt: skip
        done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=REPO)
        print(done.stdout.strip(), flush=True)
        written = json.loads(_records_json(root))
        written["seconds"] = round(time.perf_counter() - started, 1)
        written["generator"] = version
        marker.write_text(json.dumps(written))
    return Dataset(root, int(json.loads(marker.read_text())["records"]), delivery)


def existing_dataset(root: Path, *, data_dir: Path = DATA) -> Dataset:
    """A data set the sample generator already wrote elsewhere (``run.py --data``).

    Used as it is: its delivery is told from its files, its records are counted, nothing
    is written into it (scratch folders go under ``data_dir``). That it was written by the
    current generator is the caller's word.
    """
    root = root.resolve()
    if not (root / "flowlogs").is_dir() or not (root / "inventory").is_dir():
        raise SystemExit(f"--data {root}: expected the sample generator's flowlogs/ and inventory/")
    parquet = next((root / "flowlogs").rglob("*.parquet"), None) is not None
    text = next((root / "flowlogs").rglob("*.gz"), None) is not None
    if parquet == text:
        found = "both Parquet and gzip text" if parquet else "no flow-log files"
        raise SystemExit(f"--data {root}: expected one delivery (parquet or text), found {found}")
    records = int(json.loads(_records_json(root))["records"])
    return Dataset(root, records, "parquet" if parquet else "text", scratch_parent=data_dir)


def generator_version() -> str:
    """A digest of the sample generator's source (and the schema it writes)."""
    package = REPO / "zt_flows"
    digest = hashlib.sha256()
    for path in [*sorted((package / "sample").glob("*.py")), package / "schema.py"]:
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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
class Outcome:
    """What ``run`` may return instead of a bare record count: the records it handled and
    a short note shown beside the run (how many groups, how much it spilled)."""

    records: int
    note: str = ""


@dataclass(frozen=True)
class Case:
    """One timed operation. ``run(data)`` returns the number of records it handled (or an
    :class:`Outcome`, which adds a note).

    ``baseline`` names the case (same stage) this one is compared with; a case with no
    baseline is a baseline, or shown for reference. ``delivery`` picks the data set;
    ``setup`` runs first in the same process, untimed (e.g. to fill a cache).
    """

    stage: str
    name: str
    run: Callable[[Dataset], int | Outcome]
    baseline: str | None = None
    delivery: str = "parquet"
    setup: Callable[[Dataset], object] | None = None


@dataclass
class Run:
    """One run of a case, in a process of its own."""

    round: int
    seconds: float | None  # None when the run failed
    peak_rss_mb: float
    # CPU seconds of the run (user + system, every thread): against ``seconds`` it tells
    # a slow run from one that waited for cores other jobs held.
    cpu_seconds: float | None = None
    note: str = ""
    error: str | None = None
    load: float = 0.0  # the machine's 1-minute load average when the run started
    ratio: float | None = None  # to the baseline's run in the same round


@dataclass
class Result:
    """A case over all its runs: the median run, the fastest, the largest peak RSS."""

    stage: str
    name: str
    baseline: str | None = None
    records: int = 0
    runs: list[Run] = field(default_factory=list)
    ratio: float | None = None  # median against the baseline's median

    @property
    def times(self) -> list[float]:
        return [r.seconds for r in self.runs if r.seconds is not None]

    @property
    def seconds(self) -> float:
        """The median run; NaN when every run failed."""
        return statistics.median(self.times) if self.times else math.nan

    @property
    def fastest(self) -> float:
        return min(self.times) if self.times else math.nan

    @property
    def peak_rss_mb(self) -> float:
        return max((r.peak_rss_mb for r in self.runs), default=0.0)

    @property
    def failures(self) -> int:
        return sum(r.error is not None for r in self.runs)

    @property
    def per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else math.nan


class CaseFailed(RuntimeError):
    """A run (or its setup) raised, or its process died."""


def _child(case: Case, data: Dataset, outbox: Any, setup: bool) -> None:
    try:
        if setup:
            assert case.setup is not None
            case.setup(data)
            outbox.put(("ok", 0, 0.0, 0.0, 0.0, ""))
            return
        cpu = _cpu_seconds()
        started = time.perf_counter()
        outcome = case.run(data)
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
        done = outcome if isinstance(outcome, Outcome) else Outcome(outcome)
        outbox.put(("ok", done.records, seconds, cpu, _peak_rss_mb(), done.note))
    except Exception as exc:
        first_line = (str(exc).strip().splitlines() or [""])[0][:300]
        error = f"{type(exc).__name__}: {first_line}"
        outbox.put(("error", 0, 0.0, 0.0, _peak_rss_mb(), error))
        raise


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


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


def _spawn(case: Case, data: Dataset, *, setup: bool) -> tuple[int, float, float, float, str]:
    context = multiprocessing.get_context("spawn")
    outbox = context.Queue()
    process = context.Process(target=_child, args=(case, data, outbox, setup))
    process.start()
    message: tuple[str, int, float, float, float, str] | None = None
    while message is None:
        try:
            message = outbox.get(timeout=1.0)
        except Empty:
            if process.is_alive():
                continue
            try:  # it may have written just before exiting
                message = outbox.get(timeout=1.0)
            except Empty:
                break  # killed (the kernel's OOM killer sends SIGKILL) before a word
    process.join()
    what = f"{case.stage}/{case.name}{' (setup)' if setup else ''}"
    if message is None:
        code = process.exitcode
        signal = f", killed by signal {-code}" if code is not None and code < 0 else ""
        raise CaseFailed(f"{what}: the process died (exit {code}{signal})")
    status, records, seconds, cpu, rss, text = message
    if status != "ok":
        raise CaseFailed(f"{what}: {text}")
    if process.exitcode != 0:
        raise CaseFailed(f"{what}: exit {process.exitcode}")
    return records, seconds, cpu, rss, text


def run_once(case: Case, data: Dataset) -> tuple[int, float, float, float, str]:
    """Run ``case`` once in a fresh process: records, seconds, CPU seconds, peak RSS (MB),
    note.

    Its ``setup`` runs before, in a process of its own, so it counts in neither.
    """
    if case.setup is not None:
        _spawn(case, data, setup=True)
    return _spawn(case, data, setup=False)


def measure(cases: list[Case], data: dict[str, Dataset], *, repeat: int) -> list[Result]:
    """Run every case ``repeat`` times, in rounds (A B C, A B C, ...), keeping every run.

    Rounds rather than one case after the other: on a shared machine the load drifts, and
    a baseline and the case compared with it should see the same drift. A run that fails
    is recorded as failed and the rounds go on.
    """
    results = [Result(c.stage, c.name, c.baseline) for c in cases]
    by_name = {(r.stage, r.name): r for r in results}
    for round_number in range(1, repeat + 1):
        for case, result in zip(cases, results, strict=True):
            print(f"  round {round_number}: {case.stage}: {case.name}", file=sys.stderr, flush=True)
            load = os.getloadavg()[0]
            try:
                records, seconds, cpu, rss, note = run_once(case, data[case.delivery])
            except CaseFailed as failure:
                result.runs.append(Run(round_number, None, 0.0, error=str(failure), load=load))
                print(f"    FAILED: {failure}", file=sys.stderr, flush=True)
                continue
            result.records = records
            run = Run(
                round_number, round(seconds, 3), round(rss, 1), round(cpu, 2), note, load=load
            )
            result.runs.append(run)
            base = by_name.get((case.stage, case.baseline or ""))
            run.ratio = _round_ratio(run, base)
            ratio = f", {run.ratio:.2f}x {case.baseline}" if run.ratio is not None else ""
            print(
                f"    {seconds:.2f} s ({cpu:.2f} s CPU), {rss:,.0f} MB peak RSS{ratio}"
                + (f"; {note}" if note else ""),
                file=sys.stderr,
                flush=True,
            )
    return results


def _round_ratio(run: Run, base: Result | None) -> float | None:
    """``run`` against its baseline's run in the same round."""
    if base is None or run.seconds is None:
        return None
    for other in base.runs:
        if other.round == run.round and other.seconds:
            return run.seconds / other.seconds
    return None


def compare(results: list[Result]) -> None:
    """Fill in each result's ratio to its baseline (medians, measured in the same run) and
    each run's ratio to the baseline's run in the same round."""
    by_name = {(r.stage, r.name): r for r in results}
    for result in results:
        base = by_name.get((result.stage, result.baseline or ""))
        if base is None:
            continue
        for run in result.runs:
            run.ratio = _round_ratio(run, base)
        if base.seconds > 0 and math.isfinite(result.seconds):
            result.ratio = result.seconds / base.seconds


def machine() -> str:
    """Cores, memory, Python and DuckDB versions: what a result depends on."""
    import duckdb

    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f", {int(line.split()[1]) / 1024**2:.1f} GiB"
    except OSError:
        pass
    return (
        f"machine: {os.cpu_count()} cores{memory}; python {sys.version.split()[0]}; "
        f"duckdb {duckdb.__version__}"
    )


def report(results: list[Result], data: dict[str, Dataset]) -> str:
    lines = [f"data ({d.delivery}): {d.describe()}" for d in data.values()]
    loads = [run.load for r in results for run in r.runs]
    load = (
        f"; 1-minute load average {min(loads):.1f}-{max(loads):.1f} before the runs "
        "(theirs included)"
        if loads
        else ""
    )
    rounds = max((len(r.runs) for r in results), default=0)
    lines += [
        machine() + load,
        f"seconds: the median of {rounds} runs (fastest beside it); peak RSS: the largest; "
        "ratio: median against the baseline's median",
        "",
        f"{'stage':<15}{'case':<46}{'seconds':>8}{'fastest':>9}{'records/s':>15}"
        f"{'peak RSS':>11}  ratio",
    ]
    for r in results:
        ratio = f"{r.ratio:.2f}x {r.baseline}  " if r.ratio is not None else ""
        if r.failures:
            ratio += f"({r.failures} of {len(r.runs)} runs FAILED)"
        lines.append(
            f"{r.stage:<15}{r.name:<46}{r.seconds:>8.2f}{r.fastest:>9.2f}"
            f"{r.per_second:>15,.0f}{r.peak_rss_mb:>8,.0f} MB  {ratio}".rstrip()
        )
    lines += [
        "",
        "every run (CPU: user + system seconds of all its threads; ratio: against the "
        "baseline's run in the same round):",
        f"{'round':<7}{'stage':<15}{'case':<46}{'seconds':>8}{'CPU':>8}{'peak RSS':>11}"
        f"{'ratio':>8}  note",
    ]
    for number in range(1, rounds + 1):
        for r in results:
            for run in r.runs:
                if run.round != number:
                    continue
                seconds = f"{run.seconds:>8.2f}" if run.seconds is not None else f"{'FAILED':>8}"
                cpu = f"{run.cpu_seconds:>8.2f}" if run.cpu_seconds is not None else " " * 8
                ratio = f"{run.ratio:>7.2f}x" if run.ratio is not None else " " * 8
                note = run.error if run.error is not None else run.note
                lines.append(
                    f"{number:<7}{r.stage:<15}{r.name:<46}{seconds}{cpu}"
                    f"{run.peak_rss_mb:>8,.0f} MB{ratio}  {note}".rstrip()
                )
    return "\n".join(lines)


def as_json(results: list[Result], data: dict[str, Dataset]) -> str:
    def summary(r: Result) -> dict[str, Any]:
        return asdict(r) | {
            "seconds": r.seconds,
            "fastest": r.fastest,
            "peak_rss_mb": r.peak_rss_mb,
            "records_per_second": r.per_second,
        }

    return json.dumps(
        {
            "data": {k: {"records": d.records, "root": str(d.root)} for k, d in data.items()},
            "results": [summary(r) for r in results],
        },
        indent=2,
    )
