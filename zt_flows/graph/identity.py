"""Which one security group stands for an ENI on the security-group graph.

An ENI carries up to five groups, and a conversation is allowed by their union. Drawing
an edge from every group of the client to every group of the server would turn one
conversation into up to 25 edges, most of them between groups that only tag an ENI
(``node-exporter``, ``legacy-allow-vpc``). Each ENI is drawn as its *identity* group
instead, the group that names what the workload is:

1. Only non-default groups are candidates, unless the ENI has nothing but the VPC's
   ``default`` group.
2. A *cross-cutting* group is set aside when another candidate remains. A group is
   cross-cutting when it is attached to workloads that have nothing else in common:
   two of its members each carry a narrower group (fewer members, not default) and
   their narrower groups are disjoint. A monitoring-agent group on the bastion, the web
   servers and the API servers is cross-cutting (``bastion`` and ``web`` share nothing);
   ``api`` on two API servers is not.
3. Of what is left, the group with the fewest members wins, then the lowest group name
   (case-insensitive), then the lowest group id, so the choice is deterministic.

Members are the ENIs that carry a group in any inventory snapshot, plus those the edge
table shows carrying it. The graph keeps every group of the ENIs a node stands for in
its ``groups`` attribute, so nothing is hidden, only not drawn twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import cache
from itertools import combinations

from zt_flows.inventory.model import Inventory

# Above this many distinct narrower-group sets, the pairwise test stops early; the sets
# of one real group rarely number more than a handful.
_MAX_SETS = 512


class GroupIndex:
    """Group membership from the inventory and the edge table, and identity choices."""

    def __init__(
        self, inventory: Inventory, observed: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        eni_groups: dict[str, set[str]] = defaultdict(set)
        for snapshot in inventory.snapshots:
            for eni in snapshot.interfaces:
                eni_groups[eni.id].update(eni.security_group_ids)
        for eni in inventory.interfaces.values():
            eni_groups[eni.id].update(eni.security_group_ids)
        for eni_id, groups in (observed or {}).items():
            eni_groups[eni_id].update(groups)
        members: dict[str, set[str]] = defaultdict(set)
        for eni_id, groups in eni_groups.items():
            for group_id in groups:
                members[group_id].add(eni_id)
        self._inventory = inventory
        self._eni_groups = {k: frozenset(v) for k, v in eni_groups.items()}
        self._members = {k: frozenset(v) for k, v in members.items()}
        self.identity = cache(self._identity)
        self.cross_cutting = cache(self._cross_cutting)

    def members(self, group_id: str) -> int:
        """How many ENIs carry ``group_id``."""
        return len(self._members.get(group_id, ()))

    def name(self, group_id: str) -> str:
        group = self._inventory.security_groups.get(group_id)
        return group.name if group is not None else group_id

    def is_default(self, group_id: str) -> bool:
        group = self._inventory.security_groups.get(group_id)
        return group is not None and group.is_default

    def _identity(self, groups: frozenset[str]) -> str | None:
        """The identity group of an ENI carrying ``groups``; None for no groups."""
        if not groups:
            return None
        candidates = sorted(g for g in groups if not self.is_default(g)) or sorted(groups)
        narrow = [g for g in candidates if not self.cross_cutting(g)] or candidates
        return min(narrow, key=lambda g: (self.members(g), self.name(g).casefold(), g))

    def _cross_cutting(self, group_id: str) -> bool:
        size = self.members(group_id)
        narrower: set[frozenset[str]] = set()
        for eni_id in self._members.get(group_id, ()):
            own = frozenset(
                g
                for g in self._eni_groups[eni_id]
                if g != group_id and not self.is_default(g) and self.members(g) < size
            )
            if own:
                narrower.add(own)
        if len(narrower) < 2 or frozenset.intersection(*narrower):
            return False
        ordered = sorted(narrower, key=sorted)[:_MAX_SETS]
        return any(a.isdisjoint(b) for a, b in combinations(ordered, 2))
