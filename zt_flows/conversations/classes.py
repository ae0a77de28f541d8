"""Internet peers as equivalence classes: the address ranges the inventory can tell apart.

A public address that no ENI holds matters to a rule only through the CIDR blocks that
contain it: today's rule CIDRs, prefix-list entries, the plan's peers when a plan is
checked. CIDR blocks nest or are disjoint, so the blocks containing an address form a
chain, and the innermost block names the chain. Two such addresses with the same
innermost block are indistinguishable to every rule, to the replay and to exposure: they
are one *class* (``internet:<innermost block>``).

This module cuts the address space at the inventory's boundaries into a few thousand
segments (:func:`register_segments`), each either *foldable* (public, outside every range
that resolves to something else: VPCs, subnets, peered or named networks, AWS-managed
prefix lists, private space, any address or prefix an ENI ever held) with its class, or
not. The SQL (``fold.sql``) places every address of the scan in its segment with one
range join, however many addresses there are.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from zt_flows.inventory.classes import PRIVATE_RANGES
from zt_flows.inventory.model import Inventory
from zt_flows.inventory.ranges import cidr_bounds

# Both families are whole blocks of their own, so every address has a class.
ROOTS = ("0.0.0.0/0", "::/0")
CLASS_PREFIX = "internet:"


@dataclass(frozen=True)
class Segment:
    """``[first, last]`` of one family: foldable or not, and the class it belongs to."""

    version: int
    first: int
    last: int
    foldable: bool
    class_id: str


def _normal(cidr: str) -> str | None:
    try:
        return str(ipaddress.ip_network(cidr.strip(), strict=False))
    except ValueError:
        return None


def boundaries(inventory: Inventory, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Every CIDR block a rule (today's, or a plan's) can name: rule CIDRs, prefix-list
    entries and ``extra``, plus both whole families."""
    found: set[str] = set(ROOTS)
    rules = [*inventory.rules, *(r for s in inventory.snapshots for r in s.rules)]
    for rule in rules:
        for cidr in (rule.cidr_ipv4, rule.cidr_ipv6):
            if cidr:
                found.add(cidr)
    lists = [
        *inventory.prefix_lists.values(),
        *(p for s in inventory.snapshots for p in s.prefix_lists),
    ]
    for prefix_list in lists:
        found.update(prefix_list.cidrs)
    found.update(extra)
    return tuple(sorted(n for n in (_normal(c) for c in found) if n is not None))


def unfoldable(
    inventory: Inventory, onprem_cidrs: Sequence[str], partner_cidrs: Sequence[str]
) -> tuple[str, ...]:
    """Blocks whose addresses resolve to something other than the anonymous internet, or
    that an ENI holds (at any snapshot): they keep their identity."""
    found: set[str] = set(PRIVATE_RANGES) | set(onprem_cidrs) | set(partner_cidrs)
    for snapshot in inventory.snapshots:
        for vpc in snapshot.vpcs:
            found.update(vpc.cidrs_ipv4 + vpc.cidrs_ipv6)
        for subnet in snapshot.subnets:
            found.update(c for c in (subnet.cidr_ipv4, *subnet.cidrs_ipv6) if c)
        for pcx in snapshot.peerings:
            found.update(pcx.requester_cidrs + pcx.accepter_cidrs)
        for prefix_list in snapshot.prefix_lists:
            if prefix_list.aws_managed:
                found.update(prefix_list.cidrs)
        for eni in snapshot.interfaces:
            found.update(eni.addresses + eni.public_ips + eni.ipv4_prefixes + eni.ipv6_prefixes)
    for vpc in inventory.vpcs.values():
        found.update(vpc.cidrs_ipv4 + vpc.cidrs_ipv6)
    for prefix_list in inventory.prefix_lists.values():
        if prefix_list.aws_managed:
            found.update(prefix_list.cidrs)
    for eni in inventory.interfaces.values():
        found.update(eni.addresses + eni.public_ips + eni.ipv4_prefixes + eni.ipv6_prefixes)
    return tuple(sorted(n for n in (_normal(c) for c in found) if n is not None))


def segments(bounds: Sequence[str], keep: Sequence[str]) -> tuple[Segment, ...]:
    """The address space cut at every block of ``bounds`` and ``keep``: for each piece,
    whether it may fold (no block of ``keep`` contains it) and its class (the innermost
    block of ``bounds`` containing it). Adjacent pieces that agree are merged."""
    blocks: dict[int, list[tuple[int, int, str | None]]] = {4: [], 6: []}
    for cidr in bounds:
        version, first, last = cidr_bounds(cidr)
        blocks[version].append((first, last, cidr))
    for cidr in keep:
        version, first, last = cidr_bounds(cidr)
        blocks[version].append((first, last, None))
    out: list[Segment] = []
    for version, items in blocks.items():
        top = (1 << (32 if version == 4 else 128)) - 1
        # Outer blocks before the blocks they contain; a keep block before an equal bound.
        items.sort(key=lambda b: (b[0], -b[1], b[2] is not None))
        points = sorted({0, *(b[0] for b in items), *(b[1] + 1 for b in items if b[1] < top)})
        stack: list[tuple[int, int, str | None]] = []
        index = 0
        pieces: list[Segment] = []
        for n, point in enumerate(points):
            while stack and stack[-1][1] < point:
                stack.pop()
            while index < len(items) and items[index][0] == point:
                stack.append(items[index])
                index += 1
            end = points[n + 1] - 1 if n + 1 < len(points) else top
            kept = any(b[2] is None for b in stack)
            inner = next((b[2] for b in reversed(stack) if b[2] is not None), None)
            if inner is None:
                continue
            piece = Segment(version, point, end, not kept, CLASS_PREFIX + inner)
            previous = pieces[-1] if pieces else None
            if (
                previous is not None
                and previous.last + 1 == point
                and (previous.foldable, previous.class_id) == (piece.foldable, piece.class_id)
            ):
                pieces[-1] = Segment(
                    version, previous.first, end, previous.foldable, previous.class_id
                )
            else:
                pieces.append(piece)
        out.extend(pieces)
    return tuple(out)


def register_segments(
    con: duckdb.DuckDBPyConnection,
    inventory: Inventory,
    *,
    onprem_cidrs: Sequence[str] = (),
    partner_cidrs: Sequence[str] = (),
    extra: Iterable[str] = (),
) -> int:
    """``zt_segments(v, lo, hi, class_id)``: the foldable segments; returns how many."""
    found = [
        s
        for s in segments(
            boundaries(inventory, extra), unfoldable(inventory, onprem_cidrs, partner_cidrs)
        )
        if s.foldable
    ]
    table = pa.table(
        {
            "v": pa.array([s.version for s in found], pa.int8()),
            # As text: Arrow has no 128-bit integer; DuckDB casts it to UHUGEINT.
            "lo": pa.array([str(s.first) for s in found], pa.string()),
            "hi": pa.array([str(s.last) for s in found], pa.string()),
            "class_id": pa.array([s.class_id for s in found], pa.string()),
        }
    )
    con.register("zt_segments_arrow", table)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE zt_segments AS SELECT v, CAST(lo AS UHUGEINT) AS lo, "
        "CAST(hi AS UHUGEINT) AS hi, class_id FROM zt_segments_arrow ORDER BY v, lo"
    )
    con.unregister("zt_segments_arrow")
    return len(found)
