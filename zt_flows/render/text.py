"""Small, deterministic wording shared by the Terraform comments, READMEs and PR body.

Includes Markdown escaping: group names and descriptions come from AWS, and in a
pull request body a ``|`` breaks a table, a backtick opens code, ``<img>`` is HTML
and ``@team`` notifies people.
"""

from __future__ import annotations

from datetime import UTC, datetime

from zt_flows.render.hcl import one_line

# Only what is markup in the middle of a line; ids and CIDRs stay readable (web-alb).
_MD_SPECIAL = frozenset("\\`*_[]|~#@")
_HTML = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;"}


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
