"""Findings a team accepted on purpose (``[[suppressions]]`` in ``ztflows.toml``).

A suppression names a finding by its code and subject, says why, and may say until when.
A finding it matches leaves the findings outputs (text, ``findings.json``'s list, SARIF,
ASFF, ``--fail-on``) and is listed apart as suppressed, with the reason. A suppression is
valid through its expiry date; from the day after, it no longer hides anything and is
itself a finding (``expired-suppression``), so that an accepted risk comes back for review.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from zt_flows.findings import Finding, SuppressedFinding, make_finding
from zt_flows.settings import Suppression


@dataclass(frozen=True)
class Suppressed:
    """Findings after the suppressions: what is reported, what is hidden and why."""

    findings: tuple[Finding, ...]  # reported, expired suppressions included
    suppressed: tuple[SuppressedFinding, ...]
    # Suppressions in force that matched no finding of the run (stale, or a typo).
    unmatched: tuple[Suppression, ...] = ()


def apply_suppressions(
    findings: Iterable[Finding], suppressions: Iterable[Suppression], *, today: date
) -> Suppressed:
    """Split ``findings`` by ``suppressions`` in force on ``today``; each expired
    suppression adds an ``expired-suppression`` finding."""
    rules = tuple(suppressions)
    active = {(s.code, s.subject): s for s in rules if s.expires is None or s.expires >= today}
    reported: list[Finding] = []
    hidden: list[SuppressedFinding] = []
    used: set[tuple[str, str]] = set()
    for finding in findings:
        match = active.get((finding.code, finding.subject))
        if match is None:
            reported.append(finding)
        else:
            used.add((match.code, match.subject))
            hidden.append(SuppressedFinding(finding, match))
    reported.extend(_expired(s) for s in rules if s.expires is not None and s.expires < today)
    return Suppressed(
        findings=tuple(sorted(reported, key=Finding.sort_key)),
        suppressed=tuple(sorted(hidden, key=lambda h: h.finding.sort_key())),
        unmatched=tuple(
            sorted(
                (s for key, s in active.items() if key not in used),
                key=lambda s: (s.code, s.subject),
            )
        ),
    )


def _expired(suppression: Suppression) -> Finding:
    expires = suppression.expires.isoformat() if suppression.expires else ""
    return make_finding(
        "expired-suppression",
        suppression.subject,
        f"the suppression of {suppression.code} for {suppression.subject} expired on"
        f" {expires}; the finding is reported again until it is fixed or the suppression"
        " renewed",
        details=(
            ("suppressed_code", suppression.code),
            ("expired", expires),
            ("reason", suppression.reason),
        ),
    )


__all__ = [
    "Suppressed",
    "apply_suppressions",
]
