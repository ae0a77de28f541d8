"""The whole pipeline, from flow logs to a reviewed change: the library behind
``ztflows recommend`` and ``ztflows analyze``, and what a notebook calls.

:func:`build_recommendation` takes an :class:`~zt_flows.pipeline.Observation` to a verified plan
and its findings; :func:`analyze` does both halves; :func:`write_analysis` writes every
artefact of a run into one folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.conversations import write_edges
from zt_flows.findings import Finding, findings_to_json
from zt_flows.graph import build_graph, drop_rejected_only, export_graph
from zt_flows.inventory.model import Inventory
from zt_flows.pipeline import Observation, observe
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.recommend import Plan, plan_findings, recommend_rules, write_plan
from zt_flows.render.report import ReportInput, render_report
from zt_flows.render.terraform import render_terraform
from zt_flows.rules import RuleAnalysis, evaluate_rules
from zt_flows.settings import SEVERITIES, Settings, Severity
from zt_flows.sources import IngestSummary

if TYPE_CHECKING:
    import boto3


@dataclass(frozen=True)
class Recommendation:
    """Observation, today's rules judged against it, the plan and every finding."""

    observation: Observation
    analysis: RuleAnalysis
    plan: Plan
    findings: tuple[Finding, ...]

    def findings_at_or_above(self, severity: Severity) -> tuple[Finding, ...]:
        level = SEVERITIES.index(severity)
        return tuple(f for f in self.findings if SEVERITIES.index(f.severity) >= level)


def build_recommendation(observation: Observation, settings: Settings) -> Recommendation:
    """Judge today's rules against the observed conversations and propose a verified plan.

    Raises :class:`~zt_flows.errors.VerificationError` if the plan would block observed
    accepted traffic that today's rules allow (other than probes blocked on purpose).
    """
    edges = observation.conversations.edges
    analysis = evaluate_rules(
        edges,
        observation.inventory,
        settings.recommend,
        logged_interfaces=observation.logged_interfaces,
    )
    plan = recommend_rules(
        edges,
        observation.inventory,
        analysis,
        settings.recommend,
        logged_interfaces=observation.logged_interfaces,
        window=settings.window,
        onprem_cidrs=settings.conversations.onprem_cidrs,
        evidence=observation.conversations.evidence,
    )
    findings = tuple(sorted((*analysis.findings, *plan_findings(plan)), key=Finding.sort_key))
    return Recommendation(observation, analysis, plan, findings)


def analyze(
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    inventory: Inventory,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Recommendation:
    """Read ``source``, build conversations against ``inventory``, and recommend."""
    observation = observe(
        source, settings, con, inventory=inventory, session=session, progress=progress
    )
    return build_recommendation(observation, settings)


@dataclass(frozen=True)
class AnalysisOutputs:
    """Where a run's artefacts went, and the numbers of its summary."""

    out: Path
    files: tuple[Path, ...]
    ingest: IngestSummary
    summary: dict[str, object]


def write_analysis(
    result: Recommendation,
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    progress: Progress = NULL_PROGRESS,
) -> AnalysisOutputs:
    """Write every artefact of a run into ``out`` (each file atomically):

    ``records.json`` (the flow-log objects read, where they are cached, the ingest
    summary), ``edges.parquet``, ``plan.json``, ``findings.json``, ``graph.graphml``,
    ``graph.svg``, ``terraform/``, ``report.md``, ``report.html`` and ``summary.json``.
    """
    out.mkdir(parents=True, exist_ok=True)
    obs = result.observation
    with progress.task("writing outputs", total=7) as task:
        ingest = obs.ingest if obs.ingest is not None else obs.flows.summarize(con)
        task.advance()
        files = [
            _write_text(out / "records.json", _records_pointer(obs, ingest)),
            write_edges(obs.conversations.edges, out / "edges.parquet"),
            write_plan(result.plan, out / "plan.json"),
            _write_text(out / "findings.json", findings_to_json(result.findings)),
        ]
        task.advance()
        graph = build_graph(obs.conversations.edges, obs.inventory, level="security_group")
        files.append(export_graph(graph, out / "graph.graphml", "graphml"))
        # The picture shows the traffic that was allowed; rejected attempts are findings.
        accepted = drop_rejected_only(graph)
        picture = export_graph(accepted, out / "graph.svg", "svg")
        files.append(picture)
        task.advance()
        terraform = render_terraform(result.plan, out / "terraform", findings=result.findings)
        files.append(terraform.directory)
        task.advance()
        report_md, report_html = render_report(
            ReportInput(
                plan=result.plan,
                findings=result.findings,
                edges=obs.conversations.edges,
                inventory=obs.inventory,
                logged_interfaces=obs.logged_interfaces,
                ingest=ingest,
                conversations=obs.conversations.report,
                graph_svg=picture.read_text("utf-8"),
                graph=accepted,
            ),
            out,
        )
        files += [report_md, report_html]
        task.advance()
        summary = summarize(result, ingest)
        files.append(_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n"))
        task.advance()
    return AnalysisOutputs(out=out, files=tuple(files), ingest=ingest, summary=summary)


def summarize(result: Recommendation, ingest: IngestSummary) -> dict[str, object]:
    """The run in numbers: what ``ztflows analyze`` prints and writes to summary.json."""
    plan, report = result.plan, result.observation.conversations.report
    actions = {"keep": 0, "add": 0, "remove": 0}
    for group in plan.security_groups:
        for rule in group.rules:
            actions[rule.action] += 1
    return {
        "window": {"start": _iso(plan.window_start), "end": _iso(plan.window_end)},
        "records": {
            "objects": ingest.objects,
            "bytes": ingest.bytes,
            "total": ingest.records,
            "flows": ingest.flows,
            "nodata": ingest.nodata,
            "skipdata": ingest.skipdata,
            "skipped_objects": ingest.skipped_objects,
            "skipped_lines": ingest.skipped_lines,
        },
        "conversations": {
            "edges": report.edges,
            "accepted": report.accepted_edges,
            "rejected_only": report.rejected_only_edges,
            "decided_by_heuristics": report.heuristic_edges,
        },
        "findings": {
            s: sum(1 for f in result.findings if f.severity == s) for s in SEVERITIES[::-1]
        },
        "rules": actions,
        "exposure": {
            "combinations": {
                "before": plan.exposure.before.combinations,
                "after": plan.exposure.after.combinations,
            },
            "internet_reachable": {
                "before": plan.exposure.before.internet_reachable_count,
                "after": plan.exposure.after.internet_reachable_count,
            },
            # The same entries, each weighted by the share of public space it admits.
            "internet_weight": {
                "ipv4": {
                    "before": plan.exposure.before.internet_weight_ipv4,
                    "after": plan.exposure.after.internet_weight_ipv4,
                },
                "ipv6": {
                    "before": plan.exposure.before.internet_weight_ipv6,
                    "after": plan.exposure.after.internet_weight_ipv6,
                },
            },
        },
        "kept": dict(plan.kept_counts()),
        "verification": {
            "basis": plan.verification.basis,
            "records": plan.verification.records,
            "replayed": plan.verification.replayed,
            "blocked": plan.verification.blocked,
            "intentionally_blocked": plan.verification.intentionally_blocked,
            "unexplained": plan.verification.unexplained,
            "ambiguous_record_groups": plan.ambiguous,
        },
    }


def _records_pointer(obs: Observation, ingest: IngestSummary) -> str:
    """Where the records are, instead of a copy of them (``ztflows ingest`` writes one)."""
    doc = {
        "source": obs.flows.source,
        "objects": [
            {
                "uri": o.uri,
                "local_path": str(o.local_path),
                "format": o.format,
                "fetched": o.fetched,
                "bytes": o.size,
            }
            for o in obs.flows.objects
        ],
        "summary": json.loads(ingest.to_json()),
    }
    return json.dumps(doc, indent=2) + "\n"


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
