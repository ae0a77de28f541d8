"""``python -m zt_flows.sample``: write the sample VPC (see ``sample_data/README.md``)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from zt_flows.cli.errors import run_guarded
from zt_flows.sample.generate import DELIVERIES, LOG_FORMATS, SampleSummary, write_sample

DESCRIPTION = """\
Write the sample VPC of sample_data/SCENARIO.md: two EC2 inventory snapshots as the AWS
CLI prints them (inventory/<taken-at>/describe-*.json), three days of VPC Flow Logs laid
out exactly as AWS delivers them to S3 (flowlogs/AWSLogs/...), and ground_truth.csv, every
conversation the generator made with its expected action and connection count.

The output is deterministic: the same options write the same bytes. Without --records it
is the committed sample_data/ (about 100,000 records, a few MB); regenerate it with
  python -m zt_flows.sample --out sample_data
"""

EPILOG = """\
examples:
  python -m zt_flows.sample --out /tmp/sample                       # the committed sample
  python -m zt_flows.sample --out /tmp/big --records 10000000 --delivery parquet
  python -m zt_flows.sample --out /tmp/v2 --log-format v2           # default format, no flags

then:
  ztflows ingest /tmp/sample/flowlogs --out records.parquet
  ztflows analyze /tmp/sample/flowlogs --inventory /tmp/sample/inventory --out out/

--out is created if missing; its inventory/, flowlogs/ and ground_truth.csv are replaced.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zt_flows.sample",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write")
    parser.add_argument(
        "--records",
        type=int,
        metavar="N",
        help="scale the same scenario to about N flow-log records: more connections a minute "
        "and, past ~2M, more web/api/worker instances (default: the committed sample's size)",
    )
    parser.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default="aws",
        help="aws: every field of versions 2-8 in Parquet, a version-5 custom format in text; "
        "v2: the default format (no tcp-flags, no pkt-* fields), all days as text "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--delivery",
        choices=DELIVERIES,
        default="mixed",
        help="mixed: Parquet on 2026-11-16 and -17, gzip text on -18; parquet or text: every "
        "day in that format (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed (default: %(default)s, the committed one)"
    )
    return parser


def _report(summary: SampleSummary, out: Path, seconds: float) -> None:
    print(
        f"wrote {summary.records:,} records ({summary.nodata:,} NODATA, {summary.skipdata:,} "
        f"SKIPDATA) in {summary.files:,} files, {summary.bytes / 1e6:,.1f} MB, "
        f"{summary.days} days, to {out} in {seconds:.1f}s"
    )


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def run() -> None:
        began = time.perf_counter()
        summary = write_sample(
            args.out,
            records=args.records,
            log_format=args.log_format,
            delivery=args.delivery,
            seed=args.seed,
        )
        _report(summary, args.out, time.perf_counter() - began)

    return run_guarded(run, debug=False)


if __name__ == "__main__":
    sys.exit(main())
