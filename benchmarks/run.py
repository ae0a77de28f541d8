"""Run the benchmarks: ``python benchmarks/run.py --records N [--stage STAGE|all]``.

Every stage's cases live in ``benchmarks/bench_<stage>.py`` as a ``CASES`` list of
:class:`common.Case`; this runner finds them, generates (or reuses) the data sets they
need, warms the page cache, runs each case in a fresh process, in rounds, and prints the
median seconds, records/s, peak RSS, and each case's ratio to its bare-DuckDB baseline
measured in the same run, overall and round by round.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
from pathlib import Path

from common import (
    DATA,
    Case,
    Dataset,
    as_json,
    compare,
    dataset,
    existing_dataset,
    measure,
    report,
)

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
        "--repeat",
        type=int,
        default=3,
        help="rounds: runs per case; the median counts (default 3)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=DATA, help=f"where data sets are kept (default {DATA})"
    )
    parser.add_argument(
        "--data",
        type=Path,
        help="use this folder, written by `python -m zt_flows.sample --delivery parquet|text`, "
        "instead of generating a data set: --records is then ignored, and cases that need the "
        "other delivery are skipped",
    )
    parser.add_argument(
        "--shape",
        choices=("sample", "estate"),
        default="sample",
        help="the sample VPC scaled up, or an estate (zt_flows.sample.estate: thousands of ENIs,"
        " millions of internet clients)",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)

    chosen = [
        c for stage, cases in available.items() if args.stage in ("all", stage) for c in cases
    ]
    data: dict[str, Dataset] = {}
    if args.data is not None:
        given = existing_dataset(args.data, data_dir=args.data_dir)
        skipped = sorted({c.stage for c in chosen if c.delivery != given.delivery})
        if skipped:
            print(f"skipped (they need {given.delivery} data): {', '.join(skipped)}", flush=True)
        chosen = [c for c in chosen if c.delivery == given.delivery]
        data[given.delivery] = given
    else:
        for delivery in sorted({c.delivery for c in chosen}):
            data[delivery] = dataset(
                args.records, delivery, data_dir=args.data_dir, shape=args.shape
            )
    if not chosen:
        parser.error("no case to run")
    for d in data.values():
        d.warm()
    try:
        results = measure(chosen, data, repeat=args.repeat)
    finally:
        for d in data.values():  # outputs and caches of the cases: gigabytes at 100M
            shutil.rmtree(d.scratch_root, ignore_errors=True)
    compare(results)
    print(report(results, data))
    if args.json:
        print(as_json(results, data))
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
