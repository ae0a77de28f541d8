"""Human labels for nodes and edges, shared by the DOT writer and the picture.

Names come from AWS (group names, Name tags) and are untrusted: these functions only
shorten and flatten them; each writer escapes for its own format.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from zt_flows.vocabulary import ENDPOINT_KIND_WORDS

MAX_NAME = 40
MAX_PORTS = 6

# A node of an outside class stands for many addresses, and its title already names it
# ("internet", "unknown in vpc-…"): its subtitle says what those addresses are.
_KIND_TEXT = {
    **ENDPOINT_KIND_WORDS,
    "internet": "public addresses",
    "vpc_unknown": "no known ENI",
}
_UNIT = {"security_group": "ENI", "subnet": "ENI", "eni": ""}


def clean_text(text: str, limit: int | None = None) -> str:
    """One line of printable text: control characters and line breaks become spaces."""
    flat = "".join(
        " " if unicodedata.category(ch)[0] in "CZ" and ch != " " else ch for ch in str(text)
    )
    flat = re.sub(r" {2,}", " ", flat).strip()
    if limit is not None and len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


def node_title(attrs: Mapping[str, object]) -> str:
    return clean_text(str(attrs.get("name") or ""), MAX_NAME) or "?"


def node_subtitle(attrs: Mapping[str, object]) -> str:
    """``2 ENIs · load balancer``; what an outside class is (``AWS service``)."""
    kind = str(attrs.get("kind", ""))
    if attrs.get("external"):
        # Not the address count: the internet drawn as a server would show the clients'.
        return _KIND_TEXT.get(kind, kind)
    members = attrs.get("members", 0)
    count = members if isinstance(members, int) else 0
    role = str(attrs.get("role") or "").replace("_", " ")
    unit = _UNIT.get(kind, "")
    if not unit:
        return role
    return f"{count} {unit}{'' if count == 1 else 's'} · {role}" if role else f"{count} {unit}s"


def ports_text(ports: Sequence[str], limit: int = MAX_PORTS) -> str:
    """``tcp/80,443 udp/53 protocol 47``: ports grouped by protocol, at most ``limit``, ``+N``."""
    shown, rest = list(ports[:limit]), len(ports) - limit
    groups: dict[str, list[str]] = {}
    for label in shown:
        protocol, _, port = label.partition("/")
        groups.setdefault(protocol, [])
        if port:
            groups[protocol].append(port)
    parts = [f"{p}/{','.join(ps)}" if ps else p for p, ps in groups.items()]
    return " ".join(parts) + (f" +{rest}" if rest > 0 else "")
