"""The pipeline, from flow logs to a reviewed change: the library behind every command, and
what a notebook calls.

The first half, :func:`observe`, reads flow logs, takes the inventory (a snapshot folder,
or collected from AWS first) and builds the conversations: an :class:`Observation`.
:func:`build_recommendation` judges today's rules against it and proposes a verified plan
with its findings; :func:`analyze` does both halves; :func:`write_analysis` writes every
artefact of a run into one folder.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from zt_flows.atomic import write_text
from zt_flows.conversations import (
    REDUCED_TABLE,
    Conversations,
    build_conversations,
    write_edges,
)
from zt_flows.diff.outputs import DIFF_FILE
from zt_flows.findings import Finding, SuppressedFinding, findings_to_json
from zt_flows.graph import build_graph, drop_rejected_only, export_graph
from zt_flows.inventory import collect_inventory, load_inventory
from zt_flows.inventory.consistency import (
    FlowOrigin,
    InventoryWarning,
    check_flow_origins,
    check_inventory,
)
from zt_flows.inventory.model import Inventory
from zt_flows.progress import NULL_PROGRESS, Progress
from zt_flows.recommend import (
    Plan,
    SkippedEvidence,
    plan_findings,
    recommend_rules,
    write_plan,
)
from zt_flows.reduce import kept_in_partials
from zt_flows.report import ReportInput, hourly_timelines, render_report
from zt_flows.rules import (
    NatServiceTraffic,
    RuleAnalysis,
    edges_from_frame,
    evaluate_rules,
    measure_nat_service_traffic,
)
from zt_flows.scanners import scanner_findings
from zt_flows.scope import findings_in_scope, select_groups
from zt_flows.settings import (
    SEVERITIES,
    ConversationSettings,
    ExpectedPeer,
    Settings,
    Suppression,
)
from zt_flows.sources import FlowLogs, IngestSummary, read_flow_logs
from zt_flows.sources.model import count_skipped
from zt_flows.sources.sql import identifier
from zt_flows.suppressions import apply_suppressions
from zt_flows.terraform import render_terraform

if TYPE_CHECKING:
    import boto3

    from zt_flows.diff import Run, RunDiff

log = logging.getLogger(__name__)

LOGGED_INTERFACES = "SELECT DISTINCT interface_id FROM {view} WHERE interface_id IS NOT NULL"
# One scan for both: which interfaces wrote records, and which account and VPC they name.
LOGGED_ORIGINS = (
    "SELECT interface_id, account_id, vpc_id, count(*) FROM {view} GROUP BY ALL ORDER BY ALL"
)


@dataclass(frozen=True)
class Observation:
    """What the flow logs showed, resolved against the inventory."""

    flows: FlowLogs
    inventory: Inventory
    conversations: Conversations
    # Every interface that appears in any record (NODATA included): its traffic was logged,
    # so silence about it means no traffic, not no data.
    logged_interfaces: frozenset[str]
    # What NAT gateways carried to AWS services (an endpoint could carry it instead).
    nat_traffic: tuple[NatServiceTraffic, ...] = ()
    # What the inventory and the flow logs say that cannot all be true (for the summary
    # and the report; the analysis has taken the safe side already).
    warnings: tuple[InventoryWarning, ...] = ()
    # With daily partials, the window's numbers (the records of reused days are not read).
    ingest: IngestSummary | None = None


def obtain_inventory(
    inventory_dir: Path | None,
    settings: Settings,
    *,
    session: boto3.session.Session | None = None,
    collect_into: Path | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Inventory:
    """Load a snapshot folder, or collect a new snapshot from AWS first when none is given.

    A collected snapshot is kept under ``collect_into`` (default: the cache directory),
    so the analysis can be repeated offline with ``--inventory``.
    """
    if inventory_dir is not None:
        return load_inventory(inventory_dir)
    from zt_flows.aws import make_session

    folder = collect_inventory(
        session or make_session(settings.aws),
        settings.aws,
        collect_into or settings.sources.cache_dir / "inventory",
        progress=progress,
    )
    return load_inventory(folder)


def logged_interfaces(flows: FlowLogs, con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Interfaces with any record in the window (flows, NODATA or SKIPDATA)."""
    query = LOGGED_INTERFACES.format(view=identifier(flows.all_view))
    return frozenset(str(row[0]) for row in con.execute(query).fetchall())


def logged_origins(flows: FlowLogs, con: duckdb.DuckDBPyConnection) -> tuple[FlowOrigin, ...]:
    """Every (interface, account, VPC) the records of the window name, with their count."""
    query = LOGGED_ORIGINS.format(view=identifier(flows.all_view))
    return tuple(
        FlowOrigin(
            interface_id=None if row[0] is None else str(row[0]),
            account_id=None if row[1] is None else str(row[1]),
            vpc_id=None if row[2] is None else str(row[2]),
            records=int(row[3]),
        )
        for row in con.execute(query).fetchall()
    )


def observe(
    source: str | Path,
    settings: Settings,
    con: duckdb.DuckDBPyConnection,
    *,
    inventory: Inventory,
    session: boto3.session.Session | None = None,
    progress: Progress = NULL_PROGRESS,
) -> Observation:
    """Read ``source``, then build conversations against ``inventory``.

    Every scan of the flow records maps its errors through ``flows.scanning()``: a corrupt
    object is named (exit 2) here as in ``ingest``. With ``settings.sources.state``, each
    UTC day is reduced once into a partial kept there and later runs reduce only the days
    whose objects changed (``zt_flows.reduce``).
    """
    conv = replace(
        settings.conversations,
        identity_ports=settings.conversations.identity_ports | settings.recommend.admin_ports,
    )
    if settings.sources.state is not None and kept_in_partials(source):
        return _observe_partials(source, settings, conv, con, inventory, session, progress)
    flows = read_flow_logs(source, settings, con, session=session, progress=progress)
    with flows.scanning():
        conversations = build_conversations(flows, inventory, conv, con, progress=progress)
        origins = logged_origins(flows, con)
    # From the rows of the conversations' scan: no scan of the records of its own.
    nat_traffic = measure_nat_service_traffic(REDUCED_TABLE, inventory, con)
    interfaces = frozenset(o.interface_id for o in origins if o.interface_id is not None)
    return Observation(
        flows=flows,
        inventory=inventory,
        conversations=conversations,
        logged_interfaces=interfaces,
        nat_traffic=nat_traffic,
        warnings=(*check_inventory(inventory), *check_flow_origins(inventory, origins)),
    )


def _observe_partials(
    source: str | Path,
    settings: Settings,
    conv: ConversationSettings,
    con: duckdb.DuckDBPyConnection,
    inventory: Inventory,
    session: boto3.session.Session | None,
    progress: Progress,
) -> Observation:
    from zt_flows.conversations.build import conversations_from_reduced
    from zt_flows.reduce import load_partials, open_state_for, reduce_flow_logs

    assert settings.sources.state is not None
    state = open_state_for(settings.sources.state, settings, session=session)
    with tempfile.TemporaryDirectory(prefix="ztflows-partials-") as scratch:
        reduction = reduce_flow_logs(
            source,
            settings,
            con,
            state=state,
            scratch=Path(scratch),
            session=session,
            progress=progress,
        )
        load_partials(con, reduction.partials)
    conversations = conversations_from_reduced(
        con, inventory, conv, input_records=reduction.summary.flows, progress=progress
    )
    return Observation(
        flows=reduction.flows,
        inventory=inventory,
        conversations=conversations,
        logged_interfaces=frozenset(
            o.interface_id for o in reduction.origins if o.interface_id is not None
        ),
        nat_traffic=measure_nat_service_traffic(REDUCED_TABLE, inventory, con),
        warnings=(*check_inventory(inventory), *check_flow_origins(inventory, reduction.origins)),
        ingest=reduction.summary,
    )


# --------------------------------------------------------------------------- the second half


@dataclass(frozen=True)
class Recommendation:
    """Observation, today's rules judged against it, the plan and every finding."""

    observation: Observation
    analysis: RuleAnalysis
    plan: Plan
    findings: tuple[Finding, ...]  # reported: in scope and not suppressed
    # Findings the configuration accepts on purpose, each with its suppression.
    suppressed: tuple[SuppressedFinding, ...] = ()


def build_recommendation(
    observation: Observation, settings: Settings, *, today: date | None = None
) -> Recommendation:
    """Judge today's rules against the observed conversations and propose a verified plan.

    Raises :class:`~zt_flows.errors.VerificationError` if the plan would block observed
    accepted traffic that today's rules allow (other than probes blocked on purpose).
    ``settings.scope`` selects the groups planned for and the findings kept;
    ``settings.suppressions`` in force on ``today`` (default: today in UTC) move findings
    to ``suppressed``.
    """
    edges = observation.conversations.edges
    analysis = evaluate_rules(
        edges,
        observation.inventory,
        settings.recommend,
        logged_interfaces=observation.logged_interfaces,
        window=settings.window,
        nat_traffic=observation.nat_traffic,
    )
    plan = recommend_rules(
        analysis,
        settings.recommend,
        onprem_cidrs=settings.conversations.onprem_cidrs,
        evidence=observation.conversations.evidence,
        groups_in_scope=select_groups(observation.inventory, settings.scope),
        scanner_cidrs=settings.conversations.scanner_cidrs,
    )
    if observation.flows.skipped:
        plan = replace(
            plan, verification=replace(plan.verification, skipped=_skipped(observation.flows))
        )
    scanned = (
        scanner_findings(edges_from_frame(edges), settings.conversations.scanner_cidrs)
        if settings.conversations.scanner_cidrs
        else ()
    )
    found = findings_in_scope(
        (*analysis.findings, *plan_findings(plan), *scanned), observation.inventory, settings.scope
    )
    triage = apply_suppressions(
        found, settings.suppressions, today=today or datetime.now(UTC).date()
    )
    for unused in triage.unmatched:
        log.info("suppression of %s for %s matched no finding", unused.code, unused.subject)
    log.info("findings: %d reported, %d suppressed", len(triage.findings), len(triage.suppressed))
    return Recommendation(observation, analysis, plan, triage.findings, triage.suppressed)


def _skipped(flows: FlowLogs) -> SkippedEvidence:
    """What --on-error skip left out: the ingest summary's skipped_* counts."""
    return SkippedEvidence(
        objects=count_skipped(flows.skipped, "object"),
        lines=count_skipped(flows.skipped, "lines"),
        records=count_skipped(flows.skipped, "records"),
    )


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


# Everything ``analyze`` may write into ``--out``; :mod:`zt_flows.outdir` refuses a folder
# that holds files of these names ztflows did not write.
ANALYSIS_OUTPUTS = (
    "records.json",
    "edges.parquet",
    "plan.json",
    "findings.json",
    "graph.graphml",
    "graph.svg",
    "terraform",
    "findings.sarif",
    "findings.asff.json",
    "report.md",
    "report.html",
    "summary.json",
    DIFF_FILE,
)


@dataclass(frozen=True)
class AnalysisOutputs:
    """Where a run's artefacts went, and the numbers of its summary."""

    out: Path
    files: tuple[Path, ...]
    ingest: IngestSummary
    summary: dict[str, object]
    changes: RunDiff | None = None  # against ``baseline``, when one was given


def check_analysis_out(out: Path) -> None:
    """Before any work: refuse an ``--out`` the outputs cannot be swapped into (exit 2)."""
    from zt_flows.outdir import check_output_dir
    from zt_flows.writable import check_writable_dir

    check_writable_dir(out, option="--out")
    check_output_dir(out, ANALYSIS_OUTPUTS, option="--out")


def write_analysis(
    result: Recommendation,
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    baseline: Run | None = None,
    expected: Sequence[ExpectedPeer] = (),
    suppressions: Sequence[Suppression] = (),
    progress: Progress = NULL_PROGRESS,
) -> AnalysisOutputs:
    """Write every artefact of a run into ``out``, all at once:

    ``records.json`` (the flow-log objects read, where they are cached, the ingest
    summary), ``edges.parquet``, ``plan.json``, ``findings.json``, ``graph.graphml``,
    ``graph.svg``, ``terraform/``, ``findings.sarif``, ``findings.asff.json``,
    ``report.md``, ``report.html``, ``summary.json``, and with a ``baseline`` (an earlier
    run, :func:`zt_flows.diff.read_run`) ``diff.json`` and the report's changes section;
    ``expected`` peers and ``suppressions`` (the configuration's) shape that comparison.

    The files are written into a staging folder beside ``out`` and swapped in at the end
    (:func:`zt_flows.outdir.staged_output_dir`): Ctrl-C, a full disk or a failure leaves the
    previous outputs whole; files in ``out`` that ztflows did not write are kept, and are
    never replaced (such a folder is refused).
    """
    from zt_flows.outdir import staged_output_dir

    with staged_output_dir(out, ANALYSIS_OUTPUTS, option="--out") as staging:
        staged = _write_analysis(result, con, staging, progress=progress)
        changes = None
        if baseline is not None:
            from zt_flows.diff import diff_runs, read_run
            from zt_flows.diff.outputs import write_diff

            # The run is read where it is staged, and named where it will be.
            changes = diff_runs(
                baseline,
                replace(read_run(staging), out=out),
                expected=expected,
                suppressions=suppressions,
            )
            write_diff(changes, staging)
    files = tuple(out / f.relative_to(staging) for f in staged.files)
    return replace(staged, out=out, files=files, changes=changes)


def _write_analysis(
    result: Recommendation,
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    progress: Progress,
) -> AnalysisOutputs:
    obs = result.observation
    with progress.task("writing outputs", total=7) as task:
        ingest = obs.ingest if obs.ingest is not None else obs.flows.summarize(con)
        task.advance()
        files = [
            write_text(out / "records.json", _records_pointer(obs, ingest)),
            write_edges(obs.conversations.edges, out / "edges.parquet"),
            write_plan(result.plan, out / "plan.json"),
            write_text(
                out / "findings.json",
                findings_to_json(result.findings, suppressed=result.suppressed),
            ),
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
        files += _write_exports(result, out)
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
                warnings=tuple(str(w) for w in obs.warnings),
                suppressed=result.suppressed,
                timelines=hourly_timelines(con, REDUCED_TABLE, obs.conversations.edges),
            ),
            out,
        )
        files += [report_md, report_html]
        task.advance()
        summary = summarize(result, ingest)
        files.append(write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n"))
        task.advance()
    return AnalysisOutputs(out=out, files=tuple(files), ingest=ingest, summary=summary)


def _write_exports(result: Recommendation, out: Path) -> list[Path]:
    """``findings.sarif`` (locations in ``terraform/``) and ``findings.asff.json``."""
    from zt_flows.findings_export import findings_to_asff, findings_to_sarif

    sarif = findings_to_sarif(result.findings, plan=result.plan)
    asff = findings_to_asff(
        result.findings, plan=result.plan, inventory=result.observation.inventory
    )
    return [
        write_text(out / "findings.sarif", sarif),
        write_text(out / "findings.asff.json", asff),
    ]


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
            "skipped_records": ingest.skipped_records,
            "transit_gateway_records": ingest.transit_gateway_records,
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
        "suppressed_findings": len(result.suppressed),
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
        "inventory_warnings": [str(w) for w in result.observation.warnings],
        # What `ztflows diff` compares rules between: the snapshot folders this run used.
        "inventory": {
            "snapshots": [
                {
                    "source": _where(snap.source),
                    "taken_at": _iso(snap.taken_at),
                    "account_ids": list(snap.account_ids),
                    "regions": list(snap.regions),
                }
                for snap in result.observation.inventory.snapshots
            ]
        },
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


def _where(source: str) -> str:
    """A snapshot folder as an absolute path, so that another folder can find it."""
    return str(Path(source).resolve()) if source and Path(source).exists() else source


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None
