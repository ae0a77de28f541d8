"""What changed since last time: two ``ztflows analyze`` output folders compared.

Conversations that appeared or vanished (``edges.parquet``), rules added or removed
between the inventory snapshots the runs used, told apart by whether the earlier plan
proposed them (``summary.json`` records the snapshots), findings new and resolved by
their identity (code, subject, group: ``Finding.identity``), and exposure then and now
(``plan.json``). ``ztflows diff`` prints it; ``analyze --baseline`` writes ``diff.json``
and adds the section to the report.
"""

from zt_flows.diff.compare import Run, diff_runs, read_run
from zt_flows.diff.model import Conversation, ExposureChange, RuleChange, RunDiff
from zt_flows.diff.section import DiffSection, diff_section, diff_text

__all__ = [
    "Conversation",
    "DiffSection",
    "ExposureChange",
    "RuleChange",
    "Run",
    "RunDiff",
    "diff_runs",
    "diff_section",
    "diff_text",
    "read_run",
]
