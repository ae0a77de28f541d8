"""Reading ``findings.json`` back (written by :func:`zt_flows.findings.findings_to_json`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import cast

from zt_flows.errors import FormatError, Location, excerpt
from zt_flows.findings import REGISTRY, Finding
from zt_flows.settings import SEVERITIES, Severity


def read_findings(path: Path) -> tuple[Finding, ...]:
    """The findings in ``path``; a missing file or a bad entry is a FormatError."""
    source = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FormatError(Location(source), "a findings.json file", "no such file") from None
    except json.JSONDecodeError as exc:
        raise FormatError(
            Location(source, line=exc.lineno, column=str(exc.colno)), "valid JSON", exc.msg
        ) from None
    items = doc.get("findings") if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise FormatError(Location(source, path="$.findings"), "an array of findings", "none")
    out = []
    for i, item in enumerate(items):
        where = Location(source, path=f"$.findings[{i}]")
        if not isinstance(item, dict):
            raise FormatError(where, "an object", type(item).__name__)
        code, severity = item.get("code"), item.get("severity")
        if code not in REGISTRY:
            raise FormatError(where, "a registered finding code (ZT001…)", excerpt(code))
        if severity not in SEVERITIES:
            raise FormatError(where, f"a severity ({', '.join(SEVERITIES)})", excerpt(severity))
        details = item.get("details") or {}
        out.append(
            Finding(
                code=str(code),
                subject=str(item.get("subject", "")),
                message=str(item.get("message", "")),
                severity=cast(Severity, severity),
                group_id=_opt(item.get("group_id")),
                rule_id=_opt(item.get("rule_id")),
                details=tuple((str(k), str(v)) for k, v in sorted(details.items()))
                if isinstance(details, dict)
                else (),
            )
        )
    return tuple(sorted(out, key=Finding.sort_key))


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
