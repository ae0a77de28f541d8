"""Findings as SARIF 2.1.0, the format GitHub code scanning and other tools read.

https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html

Every registered finding kind is a rule of the run (id, name, title, why, default level,
and GitHub's ``security-severity``); every finding is a result. Where a finding is about
a rule or a group that ztflows wrote Terraform for, its location is the file and line of
that resource in the Terraform folder (``terraform/sg_web.tf``, relative to the folder
``analyze`` wrote, where ``findings.sarif`` sits); otherwise a logical location names
the group, rule or interface. ``partialFingerprints`` carry the finding's identity
(code, subject, group) so that a consumer tracks a finding across runs however its
message changes.

Nothing here depends on the clock or the paths of the run: the same findings and plan
give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from zt_flows import __version__
from zt_flows.findings import REGISTRY, Finding, FindingKind
from zt_flows.recommend.plan import Plan
from zt_flows.settings import SEVERITIES, Severity

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/ztflows/ztflows"
FINGERPRINT = "ztflowsFindingIdentity/v1"
TERRAFORM_FOLDER = "terraform"

LEVELS: Mapping[Severity, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
# GitHub code scanning ranks security results by this score: 9.0 and above critical,
# 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low
# (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning).
# Informational findings carry none.
SECURITY_SEVERITY: Mapping[Severity, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
}


@dataclass(frozen=True)
class TerraformPlace:
    """Where ztflows wrote something: a file of the Terraform folder and a 1-based line."""

    file: str
    line: int


@dataclass(frozen=True)
class TerraformPlaces:
    """The places of the rules (by their ``sgr-`` id) and groups ztflows wrote Terraform for."""

    rules: Mapping[str, TerraformPlace]
    groups: Mapping[str, TerraformPlace]


def terraform_places(plan: Plan, findings: Sequence[Finding]) -> TerraformPlaces:
    """The line of each rule's resource and of each group's file, in the Terraform that
    ``render_terraform(plan, findings=findings)`` writes (rendered again in memory: the
    writer is deterministic, so its text is the text on disk)."""
    from zt_flows.render.terraform import PENDING_REMOVAL, terraform_module

    module = terraform_module(plan, findings=findings)
    lines = {name: text.splitlines() for name, text in module.files.items()}
    rules: dict[str, TerraformPlace] = {}
    for rendered in module.rules:
        rule_id = rendered.spec.rule.existing_rule_id
        group_file = module.group_files.get(rendered.spec.group.group_id)
        file = PENDING_REMOVAL if rendered.action == "remove" else group_file
        if rule_id is None or file is None:
            continue
        head = f'resource "{rendered.resource_type}" "{rendered.name}" {{'
        line = next((i for i, text in enumerate(lines[file], 1) if text == head), None)
        if line is not None:
            rules[rule_id] = TerraformPlace(file, line)
    groups = {group_id: TerraformPlace(file, 1) for group_id, file in module.group_files.items()}
    return TerraformPlaces(rules=rules, groups=groups)


def _rule(kind: FindingKind) -> dict[str, object]:
    properties: dict[str, object] = {"tags": ["security", "aws", "security-groups"]}
    score = SECURITY_SEVERITY.get(kind.severity)
    if score is not None:
        properties["security-severity"] = score
    properties["severity"] = kind.severity
    return {
        "id": kind.code,
        "name": "".join(part.capitalize() for part in kind.slug.split("-")),
        "shortDescription": {"text": kind.title},
        "fullDescription": {"text": kind.why},
        "help": {"text": kind.why, "markdown": f"**{kind.title}** ({kind.code})\n\n{kind.why}"},
        "defaultConfiguration": {"level": LEVELS[kind.severity]},
        "properties": properties,
    }


def _logical(finding: Finding) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    if finding.group_id is not None:
        name = f"aws/ec2/security-group/{finding.group_id}"
        out.append({"name": finding.group_id, "kind": "resource", "fullyQualifiedName": name})
    if finding.subject not in (finding.group_id, None):
        out.append({"name": finding.subject, "kind": "resource"})
    return out


def _location(finding: Finding, places: TerraformPlaces | None) -> dict[str, object]:
    location: dict[str, object] = {"logicalLocations": _logical(finding)}
    place = None
    if places is not None:
        if finding.rule_id is not None:
            place = places.rules.get(finding.rule_id)
        if place is None and finding.group_id is not None:
            place = places.groups.get(finding.group_id)
    if place is not None:
        location["physicalLocation"] = {
            "artifactLocation": {"uri": f"{TERRAFORM_FOLDER}/{place.file}"},
            "region": {"startLine": place.line},
        }
    return location


def sarif_log(findings: Sequence[Finding], *, plan: Plan | None = None) -> dict[str, object]:
    """The SARIF log of ``findings``; with the ``plan`` they came with, Terraform locations."""
    kinds = sorted(REGISTRY.values(), key=lambda k: k.code)
    index = {k.code: i for i, k in enumerate(kinds)}
    places = terraform_places(plan, findings) if plan is not None else None
    results = []
    for finding in sorted(findings, key=Finding.sort_key):
        properties: dict[str, object] = {
            "severity": finding.severity,
            "subject": finding.subject,
        }
        if finding.group_id is not None:
            properties["group_id"] = finding.group_id
        if finding.rule_id is not None:
            properties["rule_id"] = finding.rule_id
        if finding.details:
            properties["details"] = dict(finding.details)
        score = SECURITY_SEVERITY.get(finding.severity)
        if score is not None:
            properties["security-severity"] = score
        results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
                "level": LEVELS[finding.severity],
                "message": {"text": finding.message},
                "locations": [_location(finding, places)],
                "partialFingerprints": {FINGERPRINT: finding.fingerprint},
                "properties": properties,
            }
        )
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "ztflows",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [_rule(k) for k in kinds],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
                "properties": {
                    "counts": {
                        s: sum(1 for f in findings if f.severity == s) for s in reversed(SEVERITIES)
                    }
                },
            }
        ],
    }


def findings_to_sarif(findings: Sequence[Finding], *, plan: Plan | None = None) -> str:
    """``findings.sarif``: :func:`sarif_log` as JSON text."""
    return json.dumps(sarif_log(findings, plan=plan), indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "FINGERPRINT",
    "TerraformPlace",
    "TerraformPlaces",
    "findings_to_sarif",
    "sarif_log",
    "terraform_places",
]
