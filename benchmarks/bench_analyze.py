"""``ztflows analyze`` end to end, beside the bare DuckDB 5-tuple GROUP BY of the same files.

What a user waits for: connecting the engine, reading the flow logs, loading the
inventory, the conversations (with internet peers folded into classes), the rules, the
recommendation and its replay, and every output written (``write_analysis``), with the
default engine settings and no daily state (one scan). Run on the sample's shape or on
the estate's (``run.py --shape estate``): thousands of ENIs, millions of internet clients.
"""

from __future__ import annotations

from dataclasses import replace

from bench_conversations import BARE, bare_group_by
from common import Case, Dataset, Outcome

from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.pipeline import analyze, write_analysis
from zt_flows.settings import Settings

STAGE = "analyze"


def ztflows_analyze(data: Dataset) -> Outcome:
    scratch = data.scratch("analyze")
    base = Settings()
    settings = replace(
        base, sources=replace(base.sources, cache_dir=scratch / "cache", progress=False)
    )
    con = connect_engine(settings.engine)
    result = analyze(data.flowlogs, settings, con, inventory=load_inventory(data.inventory))
    outputs = write_analysis(result, con, scratch / "out")
    con.close()
    report = result.observation.conversations.report
    plan = result.plan
    note = (
        f"{report.edges:,} edges; {plan.verification.records:,} records replayed, "
        f"{plan.verification.blocked} blocked; plan.json "
        f"{(outputs.out / 'plan.json').stat().st_size / 1e6:.1f} MB"
    )
    return Outcome(report.input_records, note)


CASES = [
    Case(STAGE, BARE, bare_group_by),
    Case(STAGE, "ztflows analyze", ztflows_analyze, baseline=BARE),
]
