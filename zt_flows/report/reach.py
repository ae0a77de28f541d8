"""Internet reach before and after a plan, compared port by port, in words.

The plan lists, before and after, every port range of an internet-facing ENI that admits
public addresses, measured by how many it admits (:class:`InternetReach`). Entries are
port ranges, so the two lists need not line up: ``tcp/0-65535`` open to the internet
today and ``tcp/443`` after the change is a narrowing, not a closed port and a newly
reachable one. Each row here compares the ports of one entry on both sides, so that a
reviewer is alarmed only by ports reachable after the change that were not before, or
by more public addresses than before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from zt_flows.recommend.plan import ExposureFigures, InternetReach

ReachStatus = Literal["newly reachable", "wider", "closed", "narrowed", "unchanged"]
# The statuses a reviewer must look at.
ALARMING: frozenset[ReachStatus] = frozenset({"newly reachable", "wider"})


@dataclass(frozen=True)
class ReachRow:
    """One entry of either side, what its ports admitted before and after, and the verdict."""

    entry: str  # "eni-…:tcp/443"
    eni_id: str
    ports: str  # "tcp/443"
    before: str  # "all IPv4, all IPv6" | "2 IPv4 addresses" | "–"
    after: str
    status: ReachStatus


@dataclass(frozen=True)
class _Span:
    eni_id: str
    protocol: str
    low: int
    high: int


def _span(entry: str) -> _Span:
    """``eni-…:tcp/443`` -> its ENI, protocol and ports (ICMP: one pseudo-port)."""
    eni_id, _, ports = entry.rpartition(":")
    protocol, _, numbers = ports.partition("/")
    low_text, _, high_text = numbers.partition("-")
    try:
        low = int(low_text) if low_text else 0
        high = int(high_text) if high_text else low
    except ValueError:  # not ours (a hand-edited plan): compared as a whole
        return _Span(eni_id or entry, ports, -1, -1)
    return _Span(eni_id or entry, protocol, low, high)


def _overlapping(span: _Span, figures: ExposureFigures) -> list[tuple[_Span, str]]:
    out = []
    for entry in figures.internet_reachable:
        other = _span(entry)
        same = other.eni_id == span.eni_id and other.protocol == span.protocol
        if same and other.low <= span.high and span.low <= other.high:
            out.append((other, entry))
    return out


def _greater(a: InternetReach | None, b: InternetReach | None) -> bool:
    """Whether ``a`` admits more public addresses than ``b`` in either family."""
    if a is None or b is None:
        return False
    return a.ipv4_addresses > b.ipv4_addresses or a.ipv6_addresses > b.ipv6_addresses


def _status(entry: str, before: ExposureFigures, after: ExposureFigures) -> ReachStatus:
    span = _span(entry)
    was, now = _overlapping(span, before), _overlapping(span, after)
    cuts = {span.low, span.high + 1}
    for other, _ in was + now:
        cuts.update(p for p in (other.low, other.high + 1) if span.low <= p <= span.high + 1)
    edges = sorted(cuts)
    opened = wider = narrowed = False
    reachable_after = False
    for low, nxt in pairwise(edges):
        b = next((e for s, e in was if s.low <= low and nxt - 1 <= s.high), None)
        a = next((e for s, e in now if s.low <= low and nxt - 1 <= s.high), None)
        reachable_after |= a is not None
        if a is not None and b is None:
            opened = True
        elif a is not None and b is not None:
            wider |= _greater(after.reach_of(a), before.reach_of(b))
            narrowed |= _greater(before.reach_of(b), after.reach_of(a))
        elif b is not None:
            narrowed = True
    if opened:
        return "newly reachable"
    if wider:
        return "wider"
    if not reachable_after:
        return "closed"
    return "narrowed" if narrowed else "unchanged"


def reach_rows(before: ExposureFigures, after: ExposureFigures) -> tuple[ReachRow, ...]:
    """One row per entry of either side, sorted by entry."""
    rows = []
    for entry in sorted(set(before.internet_reachable) | set(after.internet_reachable)):
        span = _span(entry)
        rows.append(
            ReachRow(
                entry=entry,
                eni_id=span.eni_id,
                ports=entry.rpartition(":")[2],
                before=_cell(entry, before),
                after=_cell(entry, after),
                status=_status(entry, before, after),
            )
        )
    return tuple(rows)


# --------------------------------------------------------------------------- wording


def _cell(entry: str, figures: ExposureFigures) -> str:
    """What the entry's ports admit in ``figures``: its own measure, or the entries around it."""
    if entry in figures.internet_reachable:
        return reach_text(figures.reach_of(entry), figures)
    span = _span(entry)
    around = _overlapping(span, figures)
    if not around:
        return "–"
    return "; ".join(
        f"as {e.rpartition(':')[2]}: {reach_text(figures.reach_of(e), figures)}" for _, e in around
    )


def reach_text(reach: InternetReach | None, figures: ExposureFigures) -> str:
    """``all IPv4, all IPv6`` / ``49.9% of IPv4`` / ``2 IPv4 addresses (cloudfront only)``."""
    if reach is None:
        return "reachable"  # a plan written before reach was measured
    parts = []
    if reach.ipv4_addresses:
        parts.append(share_text(reach.ipv4_addresses, figures.public_ipv4, "IPv4"))
    if reach.ipv6_addresses:
        parts.append(share_text(reach.ipv6_addresses, figures.public_ipv6, "IPv6"))
    text = ", ".join(parts) or "no measured address"
    if reach.services:
        text += f" ({', '.join(reach.services)} only)"
    if reach.unmeasured:
        text += f"; prefix list {', '.join(reach.unmeasured)} unknown to the inventory"
    if reach.path == "nlb":
        text += " (if an internet-facing NLB targets it)"
    return text


def share_text(addresses: int, public: int, family: str) -> str:
    """``all IPv4`` / ``49.9% of IPv4`` (rounded down) / ``2 IPv4 addresses`` / ``2^72 IPv6
    addresses``: the share while it is a sizeable one, else the count."""
    if public and addresses >= public:
        return f"all {family}"
    share = addresses / public if public else 0.0
    if share >= 0.001:
        return f"{math.floor(share * 1000) / 10:.1f}% of {family}"
    if addresses < 1 << 20:
        return f"{addresses:,} {family} address" + ("" if addresses == 1 else "es")
    power = addresses.bit_length() - 1
    if addresses == 1 << power:
        return f"2^{power} {family} addresses"
    return f"about 2^{round(math.log2(addresses))} {family} addresses"


def weight_text(weight: float) -> str:
    """``2.00``; ``<0.01`` for a weight above nothing that two decimals would hide."""
    if weight == 0:
        return "0"
    if weight < 0.005:
        return "<0.01"
    return f"{weight:,.2f}"


def weights_text(before: ExposureFigures, after: ExposureFigures, arrow: str = "->") -> str:
    """``IPv4 5.00 -> 2.00, IPv6 2.00 -> 2.00``; empty when either side is unmeasured."""
    if not (before.measured and after.measured):
        return ""
    return (
        f"IPv4 {weight_text(before.internet_weight_ipv4)} {arrow}"
        f" {weight_text(after.internet_weight_ipv4)}, IPv6"
        f" {weight_text(before.internet_weight_ipv6)} {arrow}"
        f" {weight_text(after.internet_weight_ipv6)}"
    )
