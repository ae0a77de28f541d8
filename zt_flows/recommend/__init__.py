"""The recommender: least-privilege rules per security group, verified by replay.

Public API: :func:`recommend_rules` (the plan), :func:`check_plan` (shadow mode over
newer flow logs), :func:`verify_plan` (a plan read from disk, checked again before
anything acts on it), :func:`plan_findings` (the findings a plan carries), and the plan
contract itself (:class:`Plan`, :func:`write_plan`, :func:`read_plan`).
"""

from zt_flows.recommend.build import recommend_rules
from zt_flows.recommend.check import CheckResult, check_plan
from zt_flows.recommend.notices import plan_findings
from zt_flows.recommend.plan import (
    BlockedConversation,
    Evidence,
    Exposure,
    ExposureFigures,
    GroupPlan,
    InternetReach,
    Plan,
    PlannedRule,
    SkippedEvidence,
    Verification,
    plan_to_json,
    read_plan,
    write_plan,
)
from zt_flows.recommend.record import settings_from_record, settings_record
from zt_flows.recommend.ruleset import plan_ruleset
from zt_flows.recommend.trust import VerifiedPlan, verify_plan
from zt_flows.recommend.verify import ReplayError

__all__ = [
    "BlockedConversation",
    "CheckResult",
    "Evidence",
    "Exposure",
    "ExposureFigures",
    "GroupPlan",
    "InternetReach",
    "Plan",
    "PlannedRule",
    "ReplayError",
    "SkippedEvidence",
    "Verification",
    "VerifiedPlan",
    "check_plan",
    "plan_findings",
    "plan_ruleset",
    "plan_to_json",
    "read_plan",
    "recommend_rules",
    "settings_from_record",
    "settings_record",
    "verify_plan",
    "write_plan",
]
