"""Rule analysis: AWS security-group semantics over observed conversations.

Public API: :func:`evaluate_rules` (which rules allow what, usage, unused and
overshadowed rules, coverage, findings: a :class:`RuleAnalysis`) and
:func:`measure_exposure` (allowed combinations and internet reach of a rule set), with
the rule model they share (:class:`RuleSpec`, :class:`RulePeer`, :class:`RuleSet`), the
:class:`Evaluator` behind both, the edge table as values (:class:`Edge`) and the words
for rules and groups. Later stages import these names from here, not from the modules.
"""

from zt_flows.rules.analysis import evaluate_rules, logged_from_edges
from zt_flows.rules.describe import endpoint_label, group_label, peer_label, rule_label
from zt_flows.rules.edges import Edge, EdgeSide, edges_from_frame
from zt_flows.rules.evaluate import EdgeVerdict, Evaluator, SideMatch, Verdict, sides
from zt_flows.rules.exposure import ExposureCount, measure_exposure
from zt_flows.rules.facts import NetworkFacts, current_interfaces
from zt_flows.rules.model import Coverage, GroupCoverage, RuleAnalysis, RuleUsage
from zt_flows.rules.nat_services import NatServiceTraffic, measure_nat_service_traffic
from zt_flows.rules.reach import ReachEntry, ReachPath
from zt_flows.rules.semantics import PeerKind, RulePeer, RuleSet, RuleSpec

__all__ = [
    "Coverage",
    "Edge",
    "EdgeSide",
    "EdgeVerdict",
    "Evaluator",
    "ExposureCount",
    "GroupCoverage",
    "NatServiceTraffic",
    "NetworkFacts",
    "PeerKind",
    "ReachEntry",
    "ReachPath",
    "RuleAnalysis",
    "RulePeer",
    "RuleSet",
    "RuleSpec",
    "RuleUsage",
    "SideMatch",
    "Verdict",
    "current_interfaces",
    "edges_from_frame",
    "endpoint_label",
    "evaluate_rules",
    "group_label",
    "logged_from_edges",
    "measure_exposure",
    "measure_nat_service_traffic",
    "peer_label",
    "rule_label",
    "sides",
]
