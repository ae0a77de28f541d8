"""Tables a person reads: the edge table with names, top talkers, groups by port, a plan.

Pure functions from the stages' outputs to polars frames, for notebooks and for anyone
exploring a run: people read ``web-1`` and ``postgres``, not ``eni-0a1b…`` and
``sg-0f3a…``, so every id comes with its name beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl

from zt_flows.findings import Finding
from zt_flows.graph.identity import GroupIndex
from zt_flows.inventory.model import Inventory, SecurityGroup
from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule
from zt_flows.report.reach import reach_rows
from zt_flows.vocabulary import conversation_label


def find_group(inventory: Inventory, name: str, *, vpc_id: str | None = None) -> SecurityGroup:
    """The security group called ``name`` (in ``vpc_id`` when names repeat across VPCs)."""
    found = [
        g
        for g in inventory.security_groups.values()
        if g.name == name and (vpc_id is None or g.vpc_id == vpc_id)
    ]
    where = f" in {vpc_id}" if vpc_id else ""
    if not found:
        raise KeyError(f"no security group named {name!r}{where}")
    if len(found) > 1:
        raise KeyError(f"{len(found)} security groups named {name!r}{where}; pass vpc_id")
    return found[0]


def _eni_names(inventory: Inventory) -> dict[str, str]:
    names: dict[str, str] = {}
    for snapshot in inventory.snapshots:
        names.update((e.id, e.name or e.id) for e in snapshot.interfaces)
    return names


def _group_names(inventory: Inventory) -> dict[str, str]:
    return {g.id: g.name for g in inventory.security_groups.values()}


def name_edges(edges: pl.DataFrame, inventory: Inventory) -> pl.DataFrame:
    """The edge table with ``client``/``server`` names, their groups by name, and ``port``."""
    enis, groups = _eni_names(inventory), _group_names(inventory)

    def side(prefix: str) -> list[pl.Expr]:
        return [
            pl.col(f"{prefix}_id").replace(enis).alias(prefix),
            pl.col(f"{prefix}_sgs")
            .list.eval(pl.element().replace(groups))
            .list.sort()
            .list.join(", ")
            .alias(f"{prefix}_groups"),
        ]

    port = pl.struct("protocol", "server_port").map_elements(
        lambda p: conversation_label(p["protocol"], p["server_port"]), return_dtype=pl.String
    )
    return edges.with_columns(*side("client"), *side("server"), port.alias("port"))


def rank_talkers(
    edges: pl.DataFrame,
    inventory: Inventory,
    *,
    by: Literal["bytes", "flows"] = "bytes",
    limit: int = 10,
) -> pl.DataFrame:
    """The busiest (client, server, port) over the window, by bytes or by flows."""
    named = name_edges(edges, inventory)
    return (
        named.group_by("client", "server", "port", "client_id", "server_id")
        .agg(
            pl.col("bytes").sum(),
            pl.col("flows").sum(),
            pl.col("accepted").sum(),
            pl.col("rejected").sum(),
            pl.col("day").n_unique().alias("days"),
        )
        .sort([by, "client_id", "server_id", "port"], descending=[True, False, False, False])
        .head(limit)
        .select(
            "client",
            "server",
            "port",
            "bytes",
            "flows",
            "accepted",
            "rejected",
            "days",
            "client_id",
            "server_id",
        )
    )


def tabulate_ports(edges: pl.DataFrame, inventory: Inventory) -> pl.DataFrame:
    """Accepted flows per (server security group, server port), long form.

    Each server ENI counts under its identity group, as on the security-group graph
    (:mod:`zt_flows.graph.identity`), so an ENI with several groups is counted once.
    """
    accepted = edges.filter(pl.col("accepted") > 0, pl.col("server_kind") == "eni")
    observed: dict[str, set[str]] = {}
    for eni_id, sgs in accepted.select("server_id", "server_sgs").iter_rows():
        observed.setdefault(eni_id, set()).update(sgs or ())
    index = GroupIndex(inventory, observed)
    identity = {eni: index.identity(frozenset(sgs)) for eni, sgs in observed.items()}
    rows = (
        name_edges(accepted, inventory)
        .with_columns(pl.col("server_id").replace_strict(identity, default=None).alias("group_id"))
        .filter(pl.col("group_id").is_not_null())
        .group_by("group_id", "protocol", "server_port", "port")
        .agg(pl.col("accepted").sum().alias("flows"))
    )
    names = _group_names(inventory)
    return rows.select(
        pl.col("group_id").replace(names).alias("group"),
        "group_id",
        "port",
        "flows",
        "protocol",
        "server_port",
    ).sort("group", "protocol", "server_port")


def tabulate_plan(group: GroupPlan, inventory: Inventory | None = None) -> pl.DataFrame:
    """One row per rule of a group's plan: keep / add / remove, with evidence and reason."""
    enis = _eni_names(inventory) if inventory is not None else {}

    def row(rule: PlannedRule) -> dict[str, object]:
        ev = rule.evidence
        return {
            "action": rule.action,
            "direction": rule.direction,
            "protocol": rule.ip_protocol,
            "ports": rule.rule.ports_text,
            "peer": rule.peer.name or rule.peer.value,
            "peer_id": rule.peer.value,
            "rule_id": rule.existing_rule_id,
            "flows": ev.flows if ev else None,
            "bytes": ev.bytes if ev else None,
            "first_seen": ev.first_seen if ev else None,
            "last_seen": ev.last_seen if ev else None,
            "days_seen": ev.days_seen if ev else None,
            "clients": ", ".join(enis.get(c, c) for c in ev.clients) if ev else "",
            "confidence": rule.confidence,
            "reason": rule.reason,
        }

    return pl.DataFrame(
        [row(r) for r in sorted(group.rules, key=PlannedRule.sort_key)], infer_schema_length=None
    )


def tabulate_exposure(plan: Plan, inventory: Inventory) -> pl.DataFrame:
    """Every ENI port range the internet reaches, before and after the plan.

    ``before``/``after``: whether the entry is listed on that side; ``admits_before`` /
    ``admits_after``: how much public address space its ports admit (``all IPv4``,
    ``2 IPv4 addresses``); ``change``: closed, narrowed, unchanged, wider or newly
    reachable, compared port by port.
    """
    enis = _eni_names(inventory)
    before = set(plan.exposure.before.internet_reachable)
    after = set(plan.exposure.after.internet_reachable)
    rows = [
        {
            "eni": enis.get(r.eni_id, r.eni_id),
            "port": r.ports,
            "before": r.entry in before,
            "after": r.entry in after,
            "admits_before": r.before,
            "admits_after": r.after,
            "change": r.status,
            "eni_id": r.eni_id,
        }
        for r in reach_rows(plan.exposure.before, plan.exposure.after)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "eni": pl.String,
            "port": pl.String,
            "before": pl.Boolean,
            "after": pl.Boolean,
            "admits_before": pl.String,
            "admits_after": pl.String,
            "change": pl.String,
            "eni_id": pl.String,
        },
    )


def tabulate_findings(findings: Sequence[Finding], inventory: Inventory) -> pl.DataFrame:
    """Findings, most severe first, with the group's name beside its id."""
    groups = _group_names(inventory)
    rows = [
        {
            "severity": f.severity,
            "code": f.code,
            "title": f.kind.title,
            "group": groups.get(f.group_id, f.group_id) if f.group_id else None,
            "subject": f.subject,
            "message": f.message,
        }
        for f in sorted(findings, key=Finding.sort_key)
    ]
    return pl.DataFrame(
        rows,
        schema=dict.fromkeys(
            ("severity", "code", "title", "group", "subject", "message"), pl.String
        ),
    )
