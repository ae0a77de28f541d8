"""Small, deterministic wording shared by the Terraform comments, READMEs, PR body and report.

Includes Markdown and HTML escaping: group names and descriptions come from AWS, and
in a pull request body a ``|`` breaks a table, a backtick opens code, ``<img>`` is HTML
and ``@team`` notifies people; in the HTML report any ``<`` or ``&`` would be markup.
"""

from __future__ import annotations

import html
import math
import unicodedata
from datetime import UTC, datetime, timedelta

from zt_flows.recommend.plan import Plan
from zt_flows.rules import RulePeer, RuleSpec
from zt_flows.vocabulary import direction_word, rule_ports_label

ANYWHERE_V4 = "0.0.0.0/0"
ANYWHERE_V6 = "::/0"
# Control, format, surrogate, private-use and unassigned characters, and line and
# paragraph separators: none of them belongs in one line of text a person reads.
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Only what is markup in the middle of a line; ids and CIDRs stay readable (web-alb).
_MD_SPECIAL = frozenset("\\`*_[]|~#@")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}

# The exposure figures, named the same in the PR body and the report.
COMBINATIONS_LABEL = "allowed (source, ENI, protocol, port) combinations"
INTERNET_LABEL = "internet-reachable ENI:ports"
# ... each weighted by the share of public IPv4 (IPv6) space it admits: 1 for 0.0.0.0/0.
INTERNET_WEIGHT_LABELS = {
    "IPv4": "… weighted by the share of public IPv4 space they admit",
    "IPv6": "… weighted by the share of public IPv6 space they admit",
}
# How a rule change reads in Markdown tables.
CHANGE_MD = {"add": "**add**", "keep": "keep", "remove": "~~remove~~"}


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} " + (word if count == 1 else (many or f"{word}s"))


def human_bytes(value: int) -> str:
    """``1.2 GiB``: binary units, one decimal, exact below 1 KiB."""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{value:,} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def utc(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def day(moment: datetime | None) -> str:
    if moment is None:
        return "–"
    return moment.astimezone(UTC).date().isoformat()


def shorten(items: tuple[str, ...] | list[str], limit: int = 5) -> str:
    """``a, b, c (+4 more)``."""
    shown = ", ".join(items[:limit])
    if len(items) > limit:
        shown += f" (+{len(items) - limit} more)"
    return shown


def md(text: str) -> str:
    """``text`` as inert inline Markdown: one line, no markup, no HTML, no mentions."""
    out = []
    for ch in one_line(text):
        if ch in _HTML:
            out.append(_HTML[ch])
        elif ch in _MD_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def md_code(text: str) -> str:
    """``text`` as a code span; only for values ztflows checked (ids, CIDRs, ports)."""
    body = one_line(text).replace("`", "'")
    return f"`{body}`"


def html_text(text: str) -> str:
    """``text`` as inert HTML (element content or a quoted attribute): one line, escaped."""
    return html.escape(one_line(text), quote=True)


def rule_words(rule: RuleSpec) -> str:
    """``ingress tcp/443 from`` / ``egress all traffic to``: a rule, before its peer."""
    ports = rule_ports_label(rule.protocol, rule.from_port, rule.to_port)
    return f"{rule.direction} {ports} {direction_word(rule.direction)}"


def days_seen(days: int, window_days: int | None) -> str:
    """``2/3``: days with traffic out of the window's days (just ``2`` without a window)."""
    return f"{days}/{window_days}" if window_days else str(days)


def kept_text(plan: Plan) -> str:
    """``5 open population, 1 not covered``: rules kept for safety, by reason."""
    counts = plan.kept_counts()
    parts = [f"{n:,} {reason.replace('_', ' ')}" for reason, n in counts.items() if n]
    return ", ".join(parts) or "nothing"


def verification_text(plan: Plan) -> str:
    """What the replay covered and what it found, in one line."""
    v = plan.verification
    replayed = (
        f"{v.records:,} accepted records and {v.replayed:,} conversations replayed"
        if v.basis == "records"
        else f"{v.replayed:,} conversations replayed (no records)"
    )
    text = f"{replayed}, {v.blocked} blocked"
    if v.intentionally_blocked:
        # Probes, and the conversations of scanners the configuration names.
        scanned = any(b.reason.startswith("known scanner") for b in plan.intentionally_blocked)
        why = "probes, known scanners" if scanned else "probes"
        text += f", {v.intentionally_blocked} blocked on purpose ({why})"
    if v.unexplained:
        text += f", {v.unexplained} not explained by today's rules (kept allowed)"
    return text


def one_line(text: str) -> str:
    """``text`` with every control, format or line-separator character made a space."""
    if text.isprintable():
        # No character of a "C" or "Z" category but the ASCII space: nothing to replace.
        return " ".join(text.split())
    cleaned = "".join(
        " " if unicodedata.category(ch) in INVISIBLE_CATEGORIES else ch for ch in text
    )
    return " ".join(cleaned.split())


def peer_text(peer: RulePeer, group_id: str) -> str:
    """The peer as a person reads it: ``api (sg-…)``, ``0.0.0.0/0 (anywhere)``."""
    if peer.kind == "security_group":
        if peer.value == group_id:
            return f"itself ({peer.value})"
        return f"{peer.name} ({peer.value})" if peer.name else peer.value
    if peer.kind == "prefix_list":
        return f"prefix list {peer.name} ({peer.value})" if peer.name else peer.value
    if peer.value in (ANYWHERE_V4, ANYWHERE_V6):
        return f"{peer.value} (anywhere)"
    return peer.value


def window_days(plan: Plan) -> int | None:
    if plan.window_start is None or plan.window_end is None:
        return None
    return max(1, math.ceil((plan.window_end - plan.window_start) / timedelta(days=1)))


def last_day(moment: datetime) -> str:
    """The calendar day (UTC) a half-open window ending at ``moment`` ends on."""
    return (moment.astimezone(UTC) - timedelta(microseconds=1)).date().isoformat()


def window_text(plan: Plan) -> str:
    if plan.window_start is None or plan.window_end is None:
        return "an observation window of unknown length"
    days = window_days(plan) or 0
    return f"{day(plan.window_start)} to {last_day(plan.window_end)} ({plural(days, 'day')})"


def skipped_text(plan: Plan) -> str | None:
    """What --on-error skip left out of the plan's evidence, or None when nothing was."""
    s = plan.verification.skipped
    if s is None:
        return None
    return (
        f"--on-error skip left out {plural(s.objects, 'object')}, {plural(s.lines, 'line')}"
        f" and {plural(s.records, 'record')} of flow logs"
    )
