"""Tiers: a column for every node, from the outside on the left to the data on the right.

Only accepted edges count (a rejected scan says nothing about architecture), and
self-loops are ignored.

* Tier 0 holds the outside classes that start conversations (the internet, a peered
  VPC, on-premises). An outside class that only answers (an AWS service, the internet
  as a destination) takes the last tier, after the data stores.
* Workloads are layered by the longest path: a workload nothing inside calls is tier
  1, every other one sits one tier after its furthest caller. Cycles are broken first,
  by dropping the edges that close a cycle in a depth-first walk that starts at the
  workloads reached from outside (in sorted order, so deterministically).
* A workload nothing calls that is not reached from outside either (a scraper, a batch
  job, a Lambda function) moves right, to just before the first workload it calls, so
  its edges stay short; workloads reached from outside stay on the left.
* Data stores (role ``database`` or ``cache``) take a tier of their own after every
  other workload.

``tier_name`` says which part of that a node is in: ``external``, ``entry`` (reached
directly from outside, or a load balancer), ``app`` or ``data``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx

DATA_ROLES = frozenset({"database", "cache"})
ENTRY_ROLES = frozenset({"load_balancer", "network_load_balancer", "gateway_load_balancer"})
TIER_NAMES = ("external", "entry", "app", "data")


def assign_tiers(graph: nx.DiGraph) -> None:
    """Set ``tier`` (int) and ``tier_name`` on every node of ``graph``."""
    accepted = [
        (u, v) for u, v, d in graph.edges(data=True) if not d.get("rejected_only") and u != v
    ]
    external = {n for n, d in graph.nodes(data=True) if d.get("external")}
    data = {n for n, d in graph.nodes(data=True) if d.get("role") in DATA_ROLES} - external
    workloads = sorted(n for n in graph if n not in external)
    entered = sorted({v for u, v in accepted if u in external and v not in external})
    inner = [(u, v) for u, v in accepted if u not in external and v not in external]
    dag = _acyclic(workloads, inner, entered)
    order = list(nx.lexicographical_topological_sort(dag))

    rank: dict[str, int] = {}
    for node in order:
        rank[node] = max([1, *(rank[p] + 1 for p in dag.predecessors(node))])
    entry = set(entered)
    last = max((r for n, r in rank.items() if n not in data), default=1)
    for node in reversed(order):
        # A workload nobody calls (a scraper, a batch job) moves right, next to the
        # first workload it calls; the entry points stay on the left.
        after = [last + 1 if s in data else rank[s] for s in dag.successors(node)]
        if node in entry or dag.in_degree(node) or not after:
            continue
        rank[node] = max(rank[node], min(after) - 1)
    data_tier = max((r for n, r in rank.items() if n not in data), default=0) + 1
    for node in data:
        rank[node] = data_tier
    sink_tier = max(rank.values(), default=0) + 1

    sources = {u for u, _ in accepted if u in external}
    for node in external - {u for u, _ in accepted} - {v for _, v in accepted}:
        if any(True for _ in graph.successors(node)):
            sources.add(node)  # only rejected attempts: place by their direction
    for node, attrs in graph.nodes(data=True):
        if node in external:
            attrs["tier"] = 0 if node in sources else sink_tier
            attrs["tier_name"] = "external"
        else:
            attrs["tier"] = rank[node]
            attrs["tier_name"] = _tier_name(node, attrs.get("role"), data, entry)


def _tier_name(node: str, role: object, data: set[str], entry: set[str]) -> str:
    if node in data:
        return "data"
    if role in ENTRY_ROLES or node in entry:
        return "entry"
    return "app"


def _acyclic(
    nodes: Sequence[str], edges: Iterable[tuple[str, str]], first: Sequence[str]
) -> nx.DiGraph:
    """``nodes`` and ``edges`` minus the edges that close a cycle in a depth-first walk."""
    successors: dict[str, list[str]] = {n: [] for n in nodes}
    for u, v in edges:
        successors[u].append(v)
    for targets in successors.values():
        targets.sort()
    dag = nx.DiGraph()
    dag.add_nodes_from(nodes)
    state: dict[str, int] = {}  # 1: on the walk's path, 2: done
    indegree = dict.fromkeys(nodes, 0)
    for targets in successors.values():
        for v in targets:
            indegree[v] += 1
    roots = [*first, *(n for n in nodes if indegree[n] == 0), *nodes]
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(successors[root]))]
        while stack:
            node, pending = stack[-1]
            target = next(pending, None)
            if target is None:
                state[node] = 2
                stack.pop()
            elif state.get(target) == 1:
                continue  # closes a cycle: dropped
            else:
                dag.add_edge(node, target)
                if target not in state:
                    state[target] = 1
                    stack.append((target, iter(successors[target])))
    return dag
