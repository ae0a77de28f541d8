"""Comparing two output folders of ``ztflows analyze``: ``read_run`` and ``diff_runs``.

What each run read and concluded is in its folder: ``edges.parquet`` (the conversations),
``findings.json``, ``plan.json`` (exposure, and the changes the plan proposed) and
``summary.json``, whose ``inventory`` names the snapshot folders the run used. Rules are
compared between those snapshots; a change the earlier run's plan proposed counts as made
through ztflows, any other as made outside it.
"""

from __future__ import annotations

import ipaddress
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from zt_flows.diff.model import Conversation, ExposureChange, RuleChange, RunDiff
from zt_flows.errors import FormatError, InputError, Location, ZtFlowsError
from zt_flows.findings import Finding
from zt_flows.inventory.model import Inventory, SecurityGroupRule
from zt_flows.recommend.plan import Plan, PlannedRule, read_plan
from zt_flows.render.findings_file import read_findings
from zt_flows.rules.describe import conversation_label, ports_label
from zt_flows.rules.edges import EdgeSide, edges_from_frame
from zt_flows.rules.semantics import protocol_number

RUN_FILES = ("findings.json", "plan.json", "edges.parquet", "summary.json")

RuleKey = tuple[str, str, int | None, int | None, int | None, str, str]


@dataclass(frozen=True)
class Run:
    """One output folder of ``ztflows analyze``, read back."""

    out: Path
    findings: tuple[Finding, ...]
    plan: Plan
    conversations: tuple[Conversation, ...]
    inventory: tuple[str, ...] | None  # the snapshot folders it used; None: not recorded


def read_run(out: Path) -> Run:
    """The outputs of one run; a missing or unreadable file is a FormatError naming it."""
    if not out.is_dir():
        raise FormatError(Location(str(out)), "a folder written by ztflows analyze", "none")
    for name in RUN_FILES:
        if not (out / name).is_file():
            raise FormatError(
                Location(str(out / name)),
                "a file written by ztflows analyze",
                "no such file",
                hint="pass the --out folder of an analyze run",
            )
    summary_path = out / "summary.json"
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise FormatError(
            Location(str(summary_path), line=exc.lineno, column=str(exc.colno)),
            "valid JSON",
            exc.msg,
        ) from None
    sources = None
    recorded = summary.get("inventory") if isinstance(summary, dict) else None
    if isinstance(recorded, dict) and isinstance(recorded.get("snapshots"), list):
        sources = tuple(
            str(s["source"])
            for s in recorded["snapshots"]
            if isinstance(s, dict) and isinstance(s.get("source"), str)
        )
    return Run(
        out=out,
        findings=read_findings(out / "findings.json"),
        plan=read_plan(out / "plan.json"),
        conversations=_conversations(out / "edges.parquet"),
        inventory=sources,
    )


def diff_runs(
    old: Run,
    new: Run,
    *,
    old_inventory: Inventory | None = None,
    new_inventory: Inventory | None = None,
) -> RunDiff:
    """What changed from ``old`` to ``new``. Inventories given here replace the snapshots
    the runs recorded (for runs that recorded none, or snapshots moved since)."""
    old_conv = {c.key: c for c in old.conversations}
    new_conv = {c.key: c for c in new.conversations}
    old_found = {f.identity: f for f in old.findings}
    new_found = {f.identity: f for f in new.findings}
    added: tuple[RuleChange, ...] = ()
    removed: tuple[RuleChange, ...] = ()
    unknown: str | None = None
    try:
        before = old_inventory or _inventory(old, "earlier")
        after = new_inventory or _inventory(new, "later")
        added, removed = _rule_changes(before, after, old.plan)
    except ZtFlowsError as exc:
        unknown = exc.message
    return RunDiff(
        old=str(old.out),
        new=str(new.out),
        old_window=(_iso(old.plan.window_start), _iso(old.plan.window_end)),
        new_window=(_iso(new.plan.window_start), _iso(new.plan.window_end)),
        appeared=tuple(new_conv[k] for k in sorted(new_conv.keys() - old_conv.keys())),
        vanished=tuple(old_conv[k] for k in sorted(old_conv.keys() - new_conv.keys())),
        new_findings=tuple(
            sorted(
                (new_found[k] for k in new_found.keys() - old_found.keys()), key=Finding.sort_key
            )
        ),
        resolved_findings=tuple(
            sorted(
                (old_found[k] for k in old_found.keys() - new_found.keys()), key=Finding.sort_key
            )
        ),
        persisting_findings=len(new_found.keys() & old_found.keys()),
        rules_added=added,
        rules_removed=removed,
        rules_unknown=unknown,
        exposure=_exposure(old.plan, new.plan),
    )


# --------------------------------------------------------------------------- conversations


def _side(side: EdgeSide) -> str:
    if side.is_eni:
        return "+".join(sorted(side.sgs)) if side.sgs else side.id
    if side.kind == "internet":
        return "internet"
    if side.kind == "aws_service":
        return f"aws:{side.id}"
    if side.kind in ("onprem", "partner"):
        return f"{side.kind}:{side.label or side.id}"
    if side.kind == "peered_vpc":
        return f"peered_vpc:{side.vpc_id or side.id}"
    return side.kind


def _conversations(path: Path) -> tuple[Conversation, ...]:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise FormatError(Location(str(path)), "an edges.parquet file", str(exc)[:80]) from None
    try:
        edges = edges_from_frame(frame)
    except InputError as exc:
        raise FormatError(Location(str(path)), "the edge table's columns", exc.message) from None
    flows: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    days: dict[tuple[str, str, str], set[object]] = defaultdict(set)
    for edge in edges:
        key = (
            _side(edge.client),
            _side(edge.server),
            conversation_label(edge.protocol, edge.server_port),
        )
        tally = flows[key]
        tally[0] += edge.accepted
        tally[1] += edge.rejected
        tally[2] += edge.bytes
        days[key].add(edge.day)
    return tuple(
        Conversation(
            client=client,
            server=server,
            protocol=proto,
            outcome="accepted" if accepted else "rejected",
            flows=accepted or rejected,
            bytes=total,
            days=len(days[(client, server, proto)]),
        )
        for (client, server, proto), (accepted, rejected, total) in sorted(flows.items())
    )


# --------------------------------------------------------------------------- rules


def _inventory(run: Run, which: str) -> Inventory:
    from zt_flows.inventory.load import load_inventory

    if run.inventory is None:
        raise InputError(
            f"the {which} run ({run.out}) does not record its inventory snapshot",
            hint="pass --old-inventory / --new-inventory",
        )
    if not run.inventory:
        raise InputError(f"the {which} run ({run.out}) used an empty inventory")
    missing = [s for s in run.inventory if not Path(s).is_dir()]
    if missing:
        raise InputError(
            f"the inventory snapshot {missing[0]} of the {which} run is gone",
            hint="pass --old-inventory / --new-inventory",
        )
    return load_inventory(list(run.inventory))


def _cidr(text: str) -> str:
    return str(ipaddress.ip_network(text, strict=False))


def _ports(
    protocol: int | None, low: int | None, high: int | None
) -> tuple[int | None, int | None]:
    if protocol is None:
        return (None, None)
    return (None if low in (None, -1) else low, None if high in (None, -1) else high)


def _inventory_key(rule: SecurityGroupRule) -> RuleKey:
    protocol = protocol_number(rule.protocol)
    low, high = _ports(protocol, rule.from_port, rule.to_port)
    if rule.peer_kind in ("cidr_ipv4", "cidr_ipv6"):
        kind, value = "cidr", _cidr(rule.peer_value)
    else:
        kind, value = rule.peer_kind, rule.peer_value
    return (rule.group_id, rule.direction, protocol, low, high, kind, value)


def _plan_key(group_id: str, rule: PlannedRule) -> RuleKey:
    protocol = protocol_number(rule.protocol)
    low, high = _ports(protocol, rule.from_port, rule.to_port)
    value = _cidr(rule.peer.value) if rule.peer.type == "cidr" else rule.peer.value
    return (group_id, rule.direction, protocol, low, high, rule.peer.type, value)


def _rule_changes(
    before: Inventory, after: Inventory, plan: Plan
) -> tuple[tuple[RuleChange, ...], tuple[RuleChange, ...]]:
    old = {_inventory_key(r): r for r in before.rules}
    new = {_inventory_key(r): r for r in after.rules}
    planned_add: set[RuleKey] = set()
    planned_remove: set[RuleKey] = set()
    planned_remove_ids: set[str] = set()
    for group in plan.security_groups:
        for rule in group.rules:
            if rule.action == "add":
                planned_add.add(_plan_key(group.group_id, rule))
            elif rule.action == "remove":
                planned_remove.add(_plan_key(group.group_id, rule))
                if rule.existing_rule_id:
                    planned_remove_ids.add(rule.existing_rule_id)

    def change(key: RuleKey, rule: SecurityGroupRule, planned: bool) -> RuleChange:
        return RuleChange(
            group_id=rule.group_id,
            rule_id=rule.id,
            direction=rule.direction,
            protocol=ports_label(key[2], key[3], key[4]),
            peer=key[6],
            planned=planned,
        )

    added = tuple(change(k, new[k], k in planned_add) for k in _ordered(new.keys() - old.keys()))
    removed = tuple(
        change(k, old[k], k in planned_remove or (old[k].id or "") in planned_remove_ids)
        for k in _ordered(old.keys() - new.keys())
    )
    return added, removed


def _ordered(keys: Iterable[RuleKey]) -> list[RuleKey]:
    return sorted(keys, key=lambda k: tuple("" if v is None else str(v) for v in k))


# --------------------------------------------------------------------------- exposure


def _exposure(old: Plan, new: Plan) -> ExposureChange:
    then, now = (
        set(old.exposure.before.internet_reachable),
        set(new.exposure.before.internet_reachable),
    )
    return ExposureChange(
        combinations=(old.exposure.before.combinations, new.exposure.before.combinations),
        planned_combinations=(old.exposure.after.combinations, new.exposure.after.combinations),
        internet_reachable=(len(then), len(now)),
        reachable_appeared=tuple(sorted(now - then)),
        reachable_vanished=tuple(sorted(then - now)),
    )


def _iso(value: object) -> str | None:
    from datetime import datetime

    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else None


__all__ = ["Run", "diff_runs", "read_run"]
