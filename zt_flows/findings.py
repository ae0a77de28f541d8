"""The registry of finding codes: one place that says what each finding means.

A finding is something a reviewer should know about the current security groups
or the traffic: each code has a title, a severity and why it matters. Stages emit
:class:`Finding` values; reports, ``findings.json`` and exit codes read them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from zt_flows.errors import FormatError, Location, excerpt
from zt_flows.settings import SEVERITIES, Severity, Suppression


@dataclass(frozen=True)
class FindingKind:
    code: str
    slug: str
    title: str
    severity: Severity
    why: str


_KINDS = (
    FindingKind(
        "ZT001",
        "unused-rule",
        "Rule matched no traffic in the window",
        "low",
        "A rule nothing uses is access granted for no reason; it is the easiest to remove.",
    ),
    FindingKind(
        "ZT002",
        "overshadowed-rule",
        "Rule is overshadowed by a narrower rule",
        "low",
        "Everything it allowed was also allowed by a narrower rule, so only its extra breadth"
        " is in use: access nobody needs.",
    ),
    FindingKind(
        "ZT003",
        "public-ingress",
        "Ingress open to the whole internet",
        "high",
        "0.0.0.0/0 or ::/0 lets every host on the internet try the port; only the public"
        " listeners of internet-facing load balancers need it.",
    ),
    FindingKind(
        "ZT004",
        "admin-port-from-cidr",
        "SSH or RDP reachable from an address range",
        "critical",
        "Remote administration from a CIDR is the most common entry point; reach admin ports"
        " through a bastion's security group or Session Manager instead.",
    ),
    FindingKind(
        "ZT005",
        "database-port-from-cidr",
        "Database port reachable from an address range",
        "high",
        "A database should admit only the security groups of the services that use it, not"
        " everything in a range.",
    ),
    FindingKind(
        "ZT006",
        "all-protocols-rule",
        "Rule allows all protocols and ports",
        "medium",
        "An all-traffic rule (-1) grants every port, including ones no service listens on"
        " today but might tomorrow.",
    ),
    FindingKind(
        "ZT007",
        "all-ports-rule",
        "Rule allows every port of a protocol",
        "medium",
        "A 0-65535 range grants far more than the handful of ports services really use.",
    ),
    FindingKind(
        "ZT008",
        "cidr-peers-are-groups",
        "CIDR rule whose observed peers all belong to security groups",
        "medium",
        "Every address that used the rule belongs to a known security group: a group"
        " reference says who, not where, and follows instances as they come and go.",
    ),
    FindingKind(
        "ZT009",
        "data-tier-internet-egress",
        "Data-tier group can reach the internet",
        "high",
        "A data store needs no outbound internet access; egress is how data leaves after a"
        " compromise.",
    ),
    FindingKind(
        "ZT010",
        "default-group-in-use",
        "Default security group in use",
        "medium",
        "The default group is shared by anything launched without a choice; its members"
        " trust each other implicitly.",
    ),
    FindingKind(
        "ZT011",
        "unattached-group",
        "Security group attached to nothing",
        "low",
        "An unused group is clutter that someone may attach later without reading its rules.",
    ),
    FindingKind(
        "ZT012",
        "internal-rejects",
        "Rejected connection attempts from inside the VPC",
        "medium",
        "Something inside the network keeps trying and failing: a misconfiguration to fix,"
        " or a compromised host probing.",
    ),
    FindingKind(
        "ZT013",
        "low-confidence-rule",
        "Rule rests on traffic seen on few days",
        "info",
        "Traffic seen on few days of the window may be periodic (a weekly job) or a one-off;"
        " confirm before relying on the rule, and observe longer before removing others.",
    ),
    FindingKind(
        "ZT014",
        "unlogged-members",
        "Group members without flow-log coverage",
        "medium",
        "Without flow logs for a member, its traffic is unknown, so its rules are kept as"
        " they are rather than guessed.",
    ),
    FindingKind(
        "ZT015",
        "internet-probes",
        "Internet hosts completed handshakes on an admin port",
        "high",
        "Handshakes without a session are scanners finding an open port; the plan closes it"
        " to everyone but the hosts that really use it.",
    ),
    FindingKind(
        "ZT016",
        "quota-merge",
        "Rules merged to fit the security-group quota",
        "info",
        "AWS allows 60 rules per direction per group (a prefix list counts as its maximum"
        " entries); the plan merged ranges to fit and says which.",
    ),
    FindingKind(
        "ZT017",
        "internet-rejects",
        "Rejected connection attempts from the internet",
        "info",
        "Scans the security groups already stop; listed so a reviewer sees what is knocking.",
    ),
    FindingKind(
        "ZT018",
        "uncovered-members",
        "Group members not covered by an ALL-traffic flow log for the whole window",
        "medium",
        "Traffic no flow log captured is unknown: a member with no flow log on it, its subnet"
        " or its VPC, or only one that logs ACCEPT or REJECT alone, was created after the"
        " window started, is inactive or fails to deliver. The group's rules are kept as"
        " they are rather than narrowed to the part that was seen.",
    ),
    FindingKind(
        "ZT019",
        "no-flow-log-configuration",
        "No flow-log configuration in the inventory",
        "low",
        "Without describe-flow-logs.json it is unknown which interfaces were logged, so"
        " groups are judged by which interfaces wrote records: a quiet member may simply not"
        " be logged. Collect the inventory with ec2:DescribeFlowLogs allowed.",
    ),
    FindingKind(
        "ZT020",
        "unevaluable-rule",
        "Rule cannot be evaluated",
        "medium",
        "It names a security group or prefix list the inventory does not describe (another"
        " account's, or one deleted since), so nobody can tell from here what it admits; it is"
        " kept until the snapshot covers what it names.",
    ),
    FindingKind(
        "ZT021",
        "unattributed-traffic",
        "Traffic from addresses no known ENI holds",
        "medium",
        "Instances terminated or replaced before the snapshot leave addresses nobody can name;"
        " their traffic is real, so the rules that admitted it stay until an earlier snapshot"
        " or a newer window attributes it.",
    ),
    FindingKind(
        "ZT022",
        "ambiguous-orientation",
        "Who listens is not decided by the evidence",
        "info",
        "Without a handshake or a telling port, a connection can be read either way; the plan"
        " keeps what allows both readings rather than remove a listener's rule.",
    ),
    FindingKind(
        "ZT023",
        "origin-around-cdn",
        "Origin reachable around its CDN",
        "medium",
        "Every observed client came through CloudFront, yet the rule admits the whole internet:"
        " anyone who finds the origin can skip the CDN and its protections.",
    ),
    FindingKind(
        "ZT024",
        "aws-service-over-internet",
        "AWS service reached over an internet path",
        "low",
        "Without a VPC endpoint, a rule for an AWS service must admit the service's changing"
        " public ranges; an endpoint lets it name the service instead.",
    ),
    FindingKind(
        "ZT025",
        "unexplained-traffic",
        "Accepted traffic today's rules do not explain",
        "medium",
        "Flow logs accepted it, yet the snapshot's rules do not: rules changed since, or they"
        " name what the inventory cannot see. The plan keeps it allowed; look at why.",
    ),
    FindingKind(
        "ZT026",
        "aws-service-via-nat",
        "AWS-service traffic goes through a NAT gateway",
        "low",
        "Traffic to S3 or DynamoDB through a NAT gateway pays its data-processing charge and"
        " needs an internet route; a gateway endpoint costs nothing, keeps it on AWS's network"
        " and lets an endpoint policy limit which buckets and tables are reachable. Other"
        " services named in the flow logs have interface endpoints.",
    ),
    FindingKind(
        "ZT027",
        "interactive-admin-sessions",
        "Interactive SSH or RDP sessions to an instance",
        "medium",
        "Every SSH or RDP session needs an open admin port and keys or passwords to manage;"
        " AWS Systems Manager Session Manager gives the same shell with IAM authentication,"
        " session logs and no inbound port at all.",
    ),
    FindingKind(
        "ZT028",
        "expired-suppression",
        "A suppression in the configuration has expired",
        "low",
        "A suppression accepts a finding until a date, so that the decision is reviewed; past"
        " it the finding is reported again. Fix what it names, or renew the suppression with"
        " a new date and reason.",
    ),
    FindingKind(
        "ZT029",
        "known-scanner-traffic",
        "Traffic from a known scanner range",
        "info",
        "The configuration names the range as a scanner's: its conversations are reported"
        " here and blocked on purpose in the replay, but no rule is kept or shaped for them,"
        " so a scan does not make every port it reached look used.",
    ),
)

REGISTRY: dict[str, FindingKind] = {k.code: k for k in _KINDS}
BY_SLUG: dict[str, FindingKind] = {k.slug: k for k in _KINDS}


def kind(slug: str) -> FindingKind:
    """The registered kind for ``slug`` (a KeyError is a bug: every finding is registered)."""
    return BY_SLUG[slug]


@dataclass(frozen=True)
class Finding:
    """One finding: a registered kind, about one subject, with the evidence behind it."""

    code: str
    subject: str  # sg-…, sgr-…, eni-…: what the finding is about
    message: str  # specific, one line
    severity: Severity
    group_id: str | None = None
    rule_id: str | None = None
    details: tuple[tuple[str, str], ...] = ()

    @property
    def kind(self) -> FindingKind:
        return REGISTRY[self.code]

    def sort_key(self) -> tuple[int, str, str, str]:
        return (-SEVERITIES.index(self.severity), self.code, self.subject, self.message)

    @property
    def identity(self) -> tuple[str, str, str]:
        """What makes findings of two runs the same finding: the code, the subject and the
        group, never the message or the details, whose figures change from run to run
        (``docs/findings.md``)."""
        return (self.code, self.subject, self.group_id or "")

    @property
    def fingerprint(self) -> str:
        """The identity as a short, stable hex digest (SARIF fingerprints, ASFF ids)."""
        text = "\x1f".join(self.identity)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class SuppressedFinding:
    """A finding left out of the outputs, and the suppression (``ztflows.toml``) that did."""

    finding: Finding
    suppression: Suppression


def make_finding(
    slug: str,
    subject: str,
    message: str,
    *,
    severity: Severity | None = None,
    group_id: str | None = None,
    rule_id: str | None = None,
    details: Iterable[tuple[str, object]] = (),
) -> Finding:
    k = kind(slug)
    return Finding(
        code=k.code,
        subject=subject,
        message=message,
        severity=severity or k.severity,
        group_id=group_id,
        rule_id=rule_id,
        details=tuple((key, str(value)) for key, value in details),
    )


def findings_to_json(
    findings: Iterable[Finding], *, suppressed: Iterable[SuppressedFinding] = ()
) -> str:
    """``findings.json``: sorted by severity (highest first), then code and subject; the
    suppressed findings apart, each with the reason it was accepted."""
    items = sorted(findings, key=Finding.sort_key)
    hidden = sorted(suppressed, key=lambda s: s.finding.sort_key())
    doc = {
        "schema_version": 1,
        "counts": {s: sum(1 for f in items if f.severity == s) for s in reversed(SEVERITIES)},
        "findings": [
            {
                "code": f.code,
                "slug": f.kind.slug,
                "title": f.kind.title,
                "severity": f.severity,
                "subject": f.subject,
                "group_id": f.group_id,
                "rule_id": f.rule_id,
                "message": f.message,
                "why": f.kind.why,
                "details": dict(f.details),
            }
            for f in items
        ],
        "suppressed": [
            {
                "code": s.finding.code,
                "slug": s.finding.kind.slug,
                "title": s.finding.kind.title,
                "severity": s.finding.severity,
                "subject": s.finding.subject,
                "group_id": s.finding.group_id,
                "rule_id": s.finding.rule_id,
                "message": s.finding.message,
                "reason": s.suppression.reason,
                "expires": s.suppression.expires.isoformat() if s.suppression.expires else None,
            }
            for s in hidden
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


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
