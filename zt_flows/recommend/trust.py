"""``verify_plan``: a plan read from disk is checked again before anything acts on it.

plan.json is a file a person can edit. Every command that acts on a plan (``terraform``,
``pr``, ``check``) re-verifies it against the inventory it names, with the semantics the
recommender used, and does not read its claims:

- every rule a group ends up with (``keep`` and ``add``) allows a subset of what the
  group's rules allow today (the never-wider test the recommender's property test proves);
  a ``keep`` names a rule of today by its id and says what that rule says;
- every group the plan names exists in the inventory;
- the exposure figures are recomputed from today's rules and the plan's; figures that do
  not follow are refused (the plan was edited, or made against another inventory): the
  figures before must match, the figures after may not claim less exposure than there is.

A plan that fails is refused (:class:`~zt_flows.errors.PlanTrustError`, exit 2) with the
first rule or figure named. The recomputed figures are returned, for the pull request's body
and the report, so nothing downstream repeats a number the file claimed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from zt_flows.errors import PlanTrustError
from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import (
    Exposure,
    ExposureFigures,
    GroupPlan,
    Plan,
    PlannedRule,
    exposure_figures,
)
from zt_flows.recommend.record import onprem_from_record
from zt_flows.recommend.ruleset import plan_ruleset
from zt_flows.recommend.shapes import rule_within
from zt_flows.rules import ExposureCount, NetworkFacts, RuleSet, RuleSpec, measure_exposure


@dataclass(frozen=True)
class VerifiedPlan:
    """A plan that passed :func:`verify_plan`; ``plan`` carries the exposure measured there,
    not the figures the file claimed."""

    plan: Plan
    before: ExposureCount
    after: ExposureCount


def verify_plan(
    plan: Plan, inventory: Inventory, *, onprem_cidrs: Sequence[str] | None = None
) -> VerifiedPlan:
    """Refuse a plan that widens access or whose figures do not follow from ``inventory``.

    ``onprem_cidrs``: the ranges the exposure is measured with (default: those the plan
    recorded when it was made). The returned plan carries the figures measured here.
    """
    if onprem_cidrs is None:
        onprem_cidrs = onprem_from_record(plan.settings)
    facts = NetworkFacts(inventory)
    today = RuleSet.from_inventory(inventory)
    by_id = {r.rule_id: r for r in today.rules if r.rule_id}
    for group in plan.security_groups:
        if group.group_id not in inventory.security_groups:
            raise PlanTrustError(
                f"the plan names security group {group.group_id}, which the inventory does"
                " not hold",
                hint="make the plan and act on it with the same inventory",
            )
        for rule in group.rules:
            _check_rule(group, rule, today, by_id, facts)
    before = measure_exposure(today, facts, onprem_cidrs=onprem_cidrs)
    after = measure_exposure(plan_ruleset(plan, inventory), facts, onprem_cidrs=onprem_cidrs)
    _check_figures("before", plan.exposure.before, before)
    _check_figures("after", plan.exposure.after, after)
    measured = Exposure(before=exposure_figures(before), after=exposure_figures(after))
    return VerifiedPlan(plan=replace(plan, exposure=measured), before=before, after=after)


def _label(group: GroupPlan, rule: PlannedRule) -> str:
    return f"{group.group_id} {rule.action} {rule.key}"


def _check_rule(
    group: GroupPlan,
    rule: PlannedRule,
    today: RuleSet,
    by_id: dict[str, RuleSpec],
    facts: NetworkFacts,
) -> None:
    spec = rule.rule  # its group is the group's: GroupPlan checks that when it is built
    rule_id = spec.rule_id
    if rule.action in ("keep", "remove") and rule_id is not None:
        existing = by_id.get(rule_id)
        if existing is None or existing.group_id != group.group_id:
            raise PlanTrustError(
                f"{_label(group, rule)}: rule {rule_id} is not a rule of"
                f" {group.group_id} in the inventory",
                hint="make the plan and act on it with the same inventory",
            )
        if existing.signature != spec.signature:
            raise PlanTrustError(
                f"{_label(group, rule)}: says {rule_id} is {spec.signature},"
                f" but the inventory says {existing.signature}",
                hint="plan.json was edited: regenerate it with `ztflows recommend`",
            )
    if rule.action == "remove":
        return
    existing_rules = today.of(group.group_id, rule.direction)
    if not any(rule_within(spec, r, facts) for r in existing_rules):
        raise PlanTrustError(
            f"{_label(group, rule)}: allows more than the group's rules allow today",
            hint="a plan never widens access: regenerate it with `ztflows recommend`",
        )


def _check_figures(which: str, claimed: ExposureFigures, computed: ExposureCount) -> None:
    """``before`` depends on the inventory alone: it must match. ``after`` may claim more
    exposure than the rules give (a plan narrowed by hand, to see what ``check`` says of
    it), never less: a rosier figure is what a pull request must not repeat."""
    if which == "before":
        wrong = claimed.combinations != computed.combinations or set(
            claimed.internet_reachable
        ) != set(computed.internet_reachable)
    else:
        wrong = claimed.combinations < computed.combinations or not set(
            computed.internet_reachable
        ) <= set(claimed.internet_reachable)
    if wrong:
        raise PlanTrustError(
            f"the plan's exposure {which} the change does not follow from the inventory:"
            f" it says {claimed.combinations:,} combinations and"
            f" {len(claimed.internet_reachable)} internet-reachable ports, the inventory gives"
            f" {computed.combinations:,} and {len(computed.internet_reachable)}",
            hint="make the plan and act on it with the same inventory, or regenerate it",
        )
