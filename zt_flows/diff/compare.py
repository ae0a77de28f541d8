"""Comparing two output folders of ``ztflows analyze``: ``read_run`` and ``diff_runs``.

What each run read and concluded is in its folder: ``edges.parquet`` (the conversations),
``findings.json``, ``plan.json`` (exposure, and the changes the plan proposed) and
``summary.json``, whose ``inventory`` names the snapshot folders the run used. Rules are
compared between those snapshots; a change the earlier run's plan proposed counts as made
through ztflows, any other as made outside it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from fnmatch import fnmatchcase
from pathlib import Path

import polars as pl

from zt_flows.diff.model import Conversation, ExposureChange, RuleChange, RunDiff
from zt_flows.errors import FormatError, InputError, Location, ZtFlowsError
from zt_flows.findings import Finding, read_findings
from zt_flows.inventory.model import Inventory, SecurityGroupRule
from zt_flows.recommend.plan import Plan, read_plan
from zt_flows.rules import EdgeSide, RuleSpec, edges_from_frame
from zt_flows.settings import ExpectedPeer, Suppression
from zt_flows.suppressions import apply_suppressions
from zt_flows.vocabulary import conversation_label, rule_ports_label

RUN_FILES = ("findings.json", "plan.json", "edges.parquet", "summary.json")

# A rule of a group by what it allows: its group and its RuleSpec's signature.
RuleKey = tuple[str, str]


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
    expected: Sequence[ExpectedPeer] = (),
    suppressions: Sequence[Suppression] = (),
    today: date | None = None,
) -> RunDiff:
    """What changed from ``old`` to ``new``. Inventories given here replace the snapshots
    the runs recorded (for runs that recorded none, or snapshots moved since).

    Conversations that appeared and match one of the ``expected`` peers are counted apart,
    not reported as new; findings of either run that ``suppressions`` in force on ``today``
    accept are neither new nor resolved (the runs wrote them without, if the configuration
    changed since)."""
    old_conv = {c.key: c for c in old.conversations}
    new_conv = {c.key: c for c in new.conversations}
    day = today or datetime.now(UTC).date()
    old_found = {f.identity: f for f in _reported(old.findings, suppressions, day)}
    new_found = {f.identity: f for f in _reported(new.findings, suppressions, day)}
    appeared = [new_conv[k] for k in sorted(new_conv.keys() - old_conv.keys())]
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
        appeared=tuple(c for c in appeared if not _expected(c, expected)),
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
        expected=tuple(c for c in appeared if _expected(c, expected)),
    )


def _reported(
    findings: Sequence[Finding], suppressions: Sequence[Suppression], today: date
) -> tuple[Finding, ...]:
    # An expired suppression's own finding is left as the run wrote it: a diff says what
    # changed between the runs, not what the configuration says today.
    present = set(findings)
    reported = apply_suppressions(findings, suppressions, today=today).findings
    return tuple(f for f in reported if f in present)


def _expected(conversation: Conversation, peers: Sequence[ExpectedPeer]) -> bool:
    """Whether a peer of the configuration declares ``conversation`` expected: its client
    and server match (a side named by several groups matches each of them; ``*`` patterns
    as in file names) and its port, when the peer names one."""

    def side(pattern: str, name: str) -> bool:
        return any(fnmatchcase(part, pattern) for part in (name, *name.split("+")))

    return any(
        side(p.client, conversation.client)
        and side(p.server, conversation.server)
        and (p.port is None or p.port == conversation.protocol)
        for p in peers
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


def _key(spec: RuleSpec) -> RuleKey:
    return (spec.group_id, spec.signature)


def _rule_changes(
    before: Inventory, after: Inventory, plan: Plan
) -> tuple[tuple[RuleChange, ...], tuple[RuleChange, ...]]:
    old_specs = [(r, RuleSpec.from_inventory(r)) for r in before.rules]
    new_specs = [(r, RuleSpec.from_inventory(r)) for r in after.rules]
    old = {_key(spec): (r, spec) for r, spec in old_specs}
    new = {_key(spec): (r, spec) for r, spec in new_specs}
    planned_add: set[RuleKey] = set()
    planned_remove: set[RuleKey] = set()
    planned_remove_ids: set[str] = set()
    for group in plan.security_groups:
        for rule in group.rules:
            if rule.action == "add":
                planned_add.add(_key(rule.rule))
            elif rule.action == "remove":
                planned_remove.add(_key(rule.rule))
                if rule.existing_rule_id:
                    planned_remove_ids.add(rule.existing_rule_id)

    def change(found: tuple[SecurityGroupRule, RuleSpec], planned: bool) -> RuleChange:
        rule, spec = found
        return RuleChange(
            group_id=rule.group_id,
            rule_id=rule.id,
            direction=rule.direction,
            protocol=rule_ports_label(spec.protocol, spec.from_port, spec.to_port),
            peer=spec.peer.value,
            planned=planned,
        )

    added = tuple(change(new[k], k in planned_add) for k in _ordered(new.keys() - old.keys(), new))
    removed = tuple(
        change(old[k], k in planned_remove or (old[k][0].id or "") in planned_remove_ids)
        for k in _ordered(old.keys() - new.keys(), old)
    )
    return added, removed


def _ordered(
    keys: Iterable[RuleKey], specs: Mapping[RuleKey, tuple[SecurityGroupRule, RuleSpec]]
) -> list[RuleKey]:
    """By group, direction, protocol number, ports and peer (None first)."""

    def order(key: RuleKey) -> tuple[str, ...]:
        spec = specs[key][1]
        parts = (spec.group_id, spec.direction, spec.protocol, spec.from_port, spec.to_port)
        return (*("" if v is None else str(v) for v in parts), spec.peer.kind, spec.peer.value)

    return sorted(keys, key=order)


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
