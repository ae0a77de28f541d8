"""Rule analysis: AWS security-group semantics over observed conversations.

Public API: :func:`evaluate_rules` (which rules allow what, usage, unused and
overshadowed rules, findings) and :func:`measure_exposure` (allowed combinations and
internet-reachable ports of a rule set), with the rule model they share
(:class:`RuleSpec`, :class:`RuleSet`) and the :class:`Evaluator` behind both.
"""

from zt_flows.rules.analysis import (
    GroupCoverage,
    RuleAnalysis,
    RuleUsage,
    evaluate_rules,
    logged_from_edges,
)
from zt_flows.rules.edges import Edge, EdgeSide, edges_from_frame
from zt_flows.rules.evaluate import EdgeVerdict, Evaluator, SideMatch
from zt_flows.rules.exposure import ExposureCount, measure_exposure
from zt_flows.rules.facts import NetworkFacts, current_interfaces
from zt_flows.rules.semantics import RulePeer, RuleSet, RuleSpec

__all__ = [
    "Edge",
    "EdgeSide",
    "EdgeVerdict",
    "Evaluator",
    "ExposureCount",
    "GroupCoverage",
    "NetworkFacts",
    "RuleAnalysis",
    "RulePeer",
    "RuleSet",
    "RuleSpec",
    "RuleUsage",
    "SideMatch",
    "current_interfaces",
    "edges_from_frame",
    "evaluate_rules",
    "logged_from_edges",
    "measure_exposure",
]
