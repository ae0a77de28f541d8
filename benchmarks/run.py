"""Run the benchmarks: ``python benchmarks/run.py --records N [--stage ingest|all]``.

Every stage's cases live in ``benchmarks/bench_<stage>.py`` as a ``CASES`` list of
:class:`common.Case`; this runner finds them, generates (or reuses) the data sets they
need, warms the page cache, runs each case in a fresh process and prints seconds,
records/s, peak RSS, and each case's ratio to its bare-DuckDB baseline measured in the
same run.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from pathlib import Path

from common import DATA, Case, as_json, compare, dataset, measure, report, run_once

HERE = Path(__file__).resolve().parent


def stages() -> dict[str, list[Case]]:
    found: dict[str, list[Case]] = {}
    for path in sorted(HERE.glob("bench_*.py")):
        module = importlib.import_module(path.stem)
        for case in getattr(module, "CASES", []):
            found.setdefault(case.stage, []).append(case)
    return found


def main(argv: list[str] | None = None) -> int:
    available = stages()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--records", type=int, default=1_000_000, help="records in the data set (default 1,000,000)"
    )
    parser.add_argument(
        "--stage", default="all", choices=[*sorted(available), "all"], help="which stage to run"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per case; the fastest counts (default 3)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA, help=f"where data sets are kept (default {DATA})"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)

    chosen = [
        c for stage, cases in available.items() if args.stage in ("all", stage) for c in cases
    ]
    deliveries = sorted({c.delivery for c in chosen})
    data = {d: dataset(args.records, d, data_dir=args.data_dir) for d in deliveries}
    # One untimed read of each data set first, so that no case pays for a cold page cache.
    for delivery in deliveries:
        first = next(c for c in chosen if c.delivery == delivery)
        run_once(first, data[delivery])
    try:
        results = measure(chosen, data, repeat=args.repeat)
    finally:
        for d in data.values():  # outputs and caches of the cases: gigabytes at 100M
            shutil.rmtree(d.scratch_root, ignore_errors=True)
    compare(results)
    print(report(results, data))
    if args.json:
        print(as_json(results, data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
