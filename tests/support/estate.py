"""The estate harness: an inventory and flow logs written as AWS delivers them, run
through the whole pipeline, and questions to the plan it gives.

    result = analyze_estate(tmp_path, inv, records)
    assert allows(result.plan, inv, side("203.0.113.9"), side(web), 443)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.action == "add"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from support.flowlogs import Records
from zt_flows.engine import connect_engine
from zt_flows.inventory.model import Inventory, NetworkInterface
from zt_flows.pipeline import Recommendation, build_recommendation, observe
from zt_flows.recommend import Plan, PlannedRule, check_plan, plan_ruleset
from zt_flows.rules import Edge, EdgeSide, Evaluator, NetworkFacts
from zt_flows.settings import ConversationSettings, RecommendSettings, Settings, SourceSettings
from zt_flows.vocabulary import DIRECTIONS


def analyze_estate(
    tmp_path: Path,
    inv: Inventory,
    records: Records,
    *,
    partner: tuple[str, ...] = (),
    onprem: tuple[str, ...] = (),
    **recommend: object,
) -> Recommendation:
    """The whole pipeline over ``records`` written as AWS delivers them."""
    root = records.write(tmp_path / "flowlogs")
    settings = Settings(
        sources=SourceSettings(cache_dir=tmp_path / "cache", progress=False),
        conversations=ConversationSettings(partner_cidrs=partner, onprem_cidrs=onprem),
        recommend=replace(RecommendSettings(), **recommend),  # type: ignore[arg-type]
    )
    con = connect_engine(settings.engine)
    try:
        observation = observe(root, settings, con, inventory=inv)
        return build_recommendation(observation, settings)
    finally:
        con.close()


def side(value: NetworkInterface | str, *, kind: str = "internet") -> EdgeSide:
    """An ENI (its primary address), or an address of the given kind."""
    if isinstance(value, NetworkInterface):
        return EdgeSide(
            "eni",
            value.id,
            value.vpc_id,
            value.role.value,
            value.security_group_ids,
            (value.private_ipv4s[0],),
        )
    return EdgeSide(kind, value, None, None, (), (value,))


def allows(
    plan: Plan,
    inv: Inventory,
    client: EdgeSide,
    server: EdgeSide,
    port: int,
    protocol: int = 6,
) -> bool:
    """Whether the plan lets ``client`` open a connection to ``server:port`` (both sides)."""
    edge = Edge(
        day=date(2026, 11, 16),
        client=client,
        server=server,
        protocol=protocol,
        server_port=port,
        flows=1,
        accepted=1,
        rejected=0,
        connections=1,
        packets=1,
        bytes=1,
        first_seen=None,
        last_seen=None,
    )
    verdict = Evaluator(NetworkFacts(inv), plan_ruleset(plan, inv)).evaluate(edge)
    return all(verdict.side(d).verdict in ("allowed", "external") for d in DIRECTIONS)


def without(plan: Plan, drop: Callable[[PlannedRule], bool]) -> Plan:
    """The plan with the rules ``drop`` selects removed from every group: a wrong plan."""
    groups = tuple(
        replace(g, rules=tuple(r for r in g.rules if not drop(r))) for g in plan.security_groups
    )
    return replace(plan, security_groups=groups)


def rejected_by_replay(result: Recommendation, wrong: Plan) -> bool:
    """Whether replaying the window's own records against ``wrong`` finds it blocking."""
    obs = result.observation
    check = check_plan(
        wrong,
        obs.conversations.edges,
        obs.inventory,
        evidence=obs.conversations.evidence,
    )
    assert check.basis == "records"
    return bool(check.blocked)


def final(plan: Plan, group_id: str) -> set[tuple[object, ...]]:
    """(direction, protocol, from, to, peer, kept_for) of the rules a group ends up with."""
    return {
        (r.direction, r.ip_protocol, r.from_port, r.to_port, r.peer.value, r.kept_for)
        for r in plan.group(group_id).final_rules()
    }
