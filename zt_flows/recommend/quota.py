"""Fitting a group's proposed rules into the AWS quota, by merging within the allowance.

AWS allows 60 inbound and 60 outbound rules per group by default; a reference to a
managed prefix list counts as its maximum entries (an AWS-managed list as its size).
When a direction is over, the existing rule that contributes the most proposals is
moved to a broader shape (ports into one range, then the existing rule itself): each
step stays inside that existing rule.
AWS: https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set

from zt_flows.recommend.derive import (
    SHAPES,
    Deriver,
    Proposal,
    Shape,
    drop_contained,
    merge_proposals,
)
from zt_flows.recommend.units import Unit
from zt_flows.rules import NetworkFacts, RuleSpec, rule_label

QUOTA_NOTE = "quota: "
_SHAPE_WORDS: dict[Shape, str] = {
    "exact": "exact ports and peers",
    "ranges": "each peer's ports merged into one range",
    "existing": "the existing rule kept as it is",
}


def rule_weight(proposal: Proposal, facts: NetworkFacts) -> int:
    if proposal.peer.kind == "prefix_list":
        pl = facts.prefix_list(proposal.peer.value)
        return pl.rule_weight if pl is not None else 1
    return 1


def fit_quota(
    deriver: Deriver,
    homes: dict[str, tuple[RuleSpec, list[Unit]]],
    limit: int,
    extra: int,
    facts: NetworkFacts,
    *,
    fixed: Set[str] = frozenset(),
) -> tuple[list[Proposal], list[str]]:
    """The proposals of one group and direction, merged until they weigh at most ``limit``.

    ``extra`` is the weight of rules kept outside the proposals; homes in ``fixed`` stay
    as they are (the ``existing`` shape) from the start. Returns the proposals and the
    notes saying what was merged (each starting with :data:`QUOTA_NOTE`).
    """
    shapes: dict[str, Shape] = {key: "existing" if key in fixed else "exact" for key in homes}

    def build() -> list[Proposal]:
        merged = merge_proposals(
            p
            for key, (home, units) in sorted(homes.items())
            for p in deriver.derive(home, units, shapes[key])
        )
        return drop_contained(merged, facts)

    proposals = build()
    notes: list[str] = []
    weight = extra + sum(rule_weight(p, facts) for p in proposals)
    while weight > limit:
        load: Counter[str] = Counter()
        for proposal in proposals:
            for key in proposal.sources:
                load[key] += rule_weight(proposal, facts)
        open_keys = sorted(
            (k for k in homes if shapes[k] != "existing"), key=lambda k: (-load[k], k)
        )
        if not open_keys:
            notes.append(
                f"{QUOTA_NOTE}still {weight} rules over the limit of {limit} after every merge"
            )
            break
        key = open_keys[0]
        shapes[key] = SHAPES[SHAPES.index(shapes[key]) + 1]
        home = homes[key][0]
        before = weight
        proposals = build()
        weight = extra + sum(rule_weight(p, facts) for p in proposals)
        notes.append(
            f"{QUOTA_NOTE}{home.direction} had {before} rules, over the limit of {limit}: the "
            f"rules carved from {key} ({rule_label(facts.inventory, home)}) now use "
            f"{_SHAPE_WORDS[shapes[key]]} ({weight} rules)"
        )
    return proposals, notes
