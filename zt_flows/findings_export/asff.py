"""Findings in the AWS Security Finding Format (ASFF), for AWS Security Hub.

``findings.asff.json`` is ``{"Findings": [...]}``, the shape of a ``BatchImportFindings``
request (at most 100 findings a request: ``docs/rollout.md`` imports the file in
batches). Every finding carries the attributes Security Hub requires
(https://docs.aws.amazon.com/securityhub/latest/userguide/asff-required-attributes.html):

* ``ProductArn`` of a custom integration, ``arn:aws:securityhub:<region>:<account>:
  product/<account>/default``, in the account and region of the resource;
* ``Id`` built from the finding's identity (code, subject, group), so that next week's run
  updates the same Security Hub finding instead of adding another;
* ``CreatedAt`` and ``UpdatedAt`` (equal, as for a new finding), ``FirstObservedAt`` and
  ``LastObservedAt``, from the plan's observation window, never from the clock: the same
  run gives the same bytes, and a later window updates the finding;
* ``Severity`` and ``Types`` also under ``FindingProviderFields``, where finding providers
  set them.

A finding whose account cannot be told from the inventory is left out: Security Hub
accepts a custom integration's findings only in the account they belong to.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from zt_flows.findings import Finding
from zt_flows.inventory.model import Inventory
from zt_flows.recommend.plan import Plan
from zt_flows.settings import Severity

SCHEMA_VERSION = "2018-10-08"
LABELS: Mapping[Severity, str] = {
    "critical": "CRITICAL",
    "high": "HIGH",
    "medium": "MEDIUM",
    "low": "LOW",
    "info": "INFORMATIONAL",
}
# https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-findings-format-type-taxonomy.html
REACHABILITY = "Software and Configuration Checks/AWS Security Best Practices/Network Reachability"
TYPES: Mapping[str, str] = {
    "ZT012": "Unusual Behaviors/Network Flow",
    "ZT015": "TTPs/Discovery/Network Service Discovery",
    "ZT017": "TTPs/Discovery/Network Service Discovery",
    "ZT026": "Software and Configuration Checks/AWS Security Best Practices",
}
# AWS's limits on the attributes written here (AwsSecurityFinding in the API reference).
TITLE_LIMIT, DESCRIPTION_LIMIT, RECOMMENDATION_LIMIT = 256, 1024, 512
EPOCH = "1970-01-01T00:00:00.000Z"


def _time(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value is not None else EPOCH


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Places:
    """Account and region of the resources findings name, as the inventory knows them."""

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        accounts = Counter(e.account_id for e in inventory.interfaces.values() if e.account_id)
        regions = Counter(e.region for e in inventory.interfaces.values() if e.region)
        snapshots = inventory.snapshots
        self.account = (
            accounts.most_common(1)[0][0]
            if accounts
            else next((a for s in snapshots for a in s.account_ids), None)
        )
        self.region = (
            regions.most_common(1)[0][0]
            if regions
            else next((r for s in snapshots for r in s.regions), None)
        )

    def vpc(self, vpc_id: str | None) -> tuple[str | None, str | None]:
        vpc = self.inventory.vpcs.get(vpc_id or "")
        return (vpc.owner_id, vpc.region) if vpc is not None else (None, None)

    def group(self, group_id: str) -> tuple[str | None, str | None]:
        group = self.inventory.security_groups.get(group_id)
        if group is None:
            return (None, None)
        members = self.inventory.members_of(group_id)
        region = self.vpc(group.vpc_id)[1] or next((m.region for m in members if m.region), None)
        return (group.owner_id, region)

    def interface(self, eni_id: str) -> tuple[str | None, str | None]:
        eni = self.inventory.interfaces.get(eni_id)
        return (eni.account_id, eni.region) if eni is not None else (None, None)


def _resources(
    finding: Finding, places: _Places, partition: str
) -> tuple[str | None, str | None, list[dict[str, object]]]:
    """The finding's account, region and ``Resources``."""
    inv = places.inventory
    out: list[dict[str, object]] = []
    account = region = None
    if finding.group_id is not None:
        account, region = places.group(finding.group_id)
        group = inv.security_groups.get(finding.group_id)
        acct, reg = account or places.account, region or places.region
        details: dict[str, object] = {"GroupId": finding.group_id}
        if group is not None:
            details.update(GroupName=group.name, OwnerId=group.owner_id)
            if group.vpc_id:
                details["VpcId"] = group.vpc_id
        out.append(
            {
                "Type": "AwsEc2SecurityGroup",
                "Id": f"arn:{partition}:ec2:{reg}:{acct}:security-group/{finding.group_id}",
                "Partition": partition,
                "Region": reg,
                "Details": {"AwsEc2SecurityGroup": details},
            }
        )
    subject = finding.subject
    if subject.startswith("eni-") and subject in inv.interfaces:
        acct, reg = places.interface(subject)
        account, region = account or acct, region or reg
        acct, reg = acct or places.account, reg or places.region
        out.append(
            {
                "Type": "AwsEc2NetworkInterface",
                "Id": f"arn:{partition}:ec2:{reg}:{acct}:network-interface/{subject}",
                "Partition": partition,
                "Region": reg,
                "Details": {"AwsEc2NetworkInterface": {"NetworkInterfaceId": subject}},
            }
        )
    elif subject.startswith("vpc-") and subject in inv.vpcs:
        acct, reg = places.vpc(subject)
        account, region = account or acct, region or reg or places.region
        out.append(
            {
                "Type": "AwsEc2Vpc",
                "Id": f"arn:{partition}:ec2:{region}:{account}:vpc/{subject}",
                "Partition": partition,
                "Region": region,
            }
        )
    elif not out:
        out.append({"Type": "Other", "Id": f"ztflows/{subject}", "Partition": partition})
    return account or places.account, region or places.region, out


def asff_findings(
    findings: Sequence[Finding], *, plan: Plan, inventory: Inventory, partition: str = "aws"
) -> list[dict[str, object]]:
    """Each finding whose account is known, in ASFF, in the findings' order."""
    places = _Places(inventory)
    created, first = _time(plan.window_end), _time(plan.window_start)
    out: list[dict[str, object]] = []
    for finding in sorted(findings, key=Finding.sort_key):
        account, region, resources = _resources(finding, places, partition)
        if account is None or region is None:
            continue
        for resource in resources:  # a resource the inventory did not place: the finding's
            if resource.get("Region") is None:
                resource["Region"] = region
        kind = finding.kind
        severity = {"Label": LABELS[finding.severity], "Original": finding.severity}
        types = [TYPES.get(finding.code, REACHABILITY)]
        product_fields = {
            "ztflows/code": finding.code,
            "ztflows/slug": kind.slug,
            "ztflows/subject": finding.subject,
        }
        if finding.group_id is not None:
            product_fields["ztflows/group_id"] = finding.group_id
        if finding.rule_id is not None:
            product_fields["ztflows/rule_id"] = finding.rule_id
        out.append(
            {
                "SchemaVersion": SCHEMA_VERSION,
                "Id": f"ztflows/{account}/{region}/{finding.code}/{finding.fingerprint}",
                "ProductArn": (
                    f"arn:{partition}:securityhub:{region}:{account}:product/{account}/default"
                ),
                "GeneratorId": f"ztflows/{finding.code}-{kind.slug}",
                "AwsAccountId": account,
                "Types": types,
                "FirstObservedAt": first,
                "LastObservedAt": created,
                "CreatedAt": created,
                "UpdatedAt": created,
                "Severity": severity,
                "Title": _cut(f"{finding.code} {kind.title}", TITLE_LIMIT),
                "Description": _cut(finding.message, DESCRIPTION_LIMIT),
                "Remediation": {"Recommendation": {"Text": _cut(kind.why, RECOMMENDATION_LIMIT)}},
                "ProductFields": product_fields,
                "Resources": resources,
                "RecordState": "ACTIVE",
                "FindingProviderFields": {"Severity": severity, "Types": types},
            }
        )
    return out


def findings_to_asff(
    findings: Sequence[Finding], *, plan: Plan, inventory: Inventory, partition: str = "aws"
) -> str:
    """``findings.asff.json``: ``{"Findings": [...]}`` as JSON text."""
    doc = {"Findings": asff_findings(findings, plan=plan, inventory=inventory, partition=partition)}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


__all__ = ["SCHEMA_VERSION", "asff_findings", "findings_to_asff"]
