"""Checking a plan's rules and putting them in the form Terraform and AWS expect.

Everything here is about one rule: its protocol and ports as the AWS provider wants
them, its peer as exactly one of the four peer attributes (with a canonical CIDR),
and the description that says what evidence it stands on. A plan that cannot be
rendered faithfully (a bad CIDR, a malformed id, a kept rule without its ``sgr-``
id) raises :class:`PlanFormatError` instead of producing Terraform that would do
something else.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass, replace

from zt_flows.errors import Location, PlanFormatError, excerpt
from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule
from zt_flows.terraform.hcl import Comment
from zt_flows.text import day, plural
from zt_flows.vocabulary import (
    RULE_PORTED,
    RULE_TYPED,
    direction_word,
    ip_protocol,
    rule_ports_label,
)

# AWS: "Up to 255 characters in length. Allowed characters are a-z, A-Z, 0-9, spaces,
# and ._-:/()#,@[]+=;{}!$*" for rules that reference a group or a prefix list
# (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_UserIdGroupPair.html);
# CIDR rules also allow "&" (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_IpRange.html).
# The intersection is used for every rule.
DESCRIPTION_LIMIT = 255
_DESCRIPTION_OK = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/()#,@[]+=;{}!$*"
)
_DESCRIPTION_MAP = {"…": "...", "–": "-", "—": "-", "→": " to ", "&": " and ", "'": "", '"': ""}
TAG_VALUE_LIMIT = 256

_ID_PATTERNS = {
    "sg": re.compile(r"sg-[0-9a-f]{1,17}"),
    "sgr": re.compile(r"sgr-[0-9a-f]{1,17}"),
    "pl": re.compile(r"pl-[0-9a-f]{1,17}"),
    "account": re.compile(r"[0-9]{12}"),
}
PEER_ATTRIBUTES = {
    "security_group": "referenced_security_group_id",
    "prefix_list": "prefix_list_id",
}


@dataclass(frozen=True)
class TerraformRule:
    """A planned rule as the provider's attributes, checked; ``rule`` is the planned rule
    with its peer in canonical form (what names, comments and the pull request show)."""

    group: GroupPlan
    rule: PlannedRule
    ip_protocol: str
    from_port: int | None  # None: the attribute is omitted
    to_port: int | None
    peer_attribute: str  # cidr_ipv4 | cidr_ipv6 | prefix_list_id | referenced_security_group_id
    peer_value: str

    @property
    def identity(self) -> tuple[str, str, str, int | None, int | None, str, str]:
        """What AWS considers the same rule (two rules alike are a duplicate)."""
        return (
            self.rule.direction,
            self.ip_protocol,
            self.peer_attribute,
            self.from_port,
            self.to_port,
            self.peer_value,
            self.group.group_id,
        )


def _where(group: GroupPlan, rule: PlannedRule | None = None) -> Location:
    path = f"security group {group.group_id}"
    if rule is not None:
        path += f", {rule.action} rule {rule.key}"
    return Location("plan", path=path)


def check_id(kind: str, value: str, group: GroupPlan, rule: PlannedRule | None = None) -> str:
    if not _ID_PATTERNS[kind].fullmatch(value):
        expected = {"account": "a 12-digit AWS account id"}.get(kind, f"an id like {kind}-0123abcd")
        raise PlanFormatError(_where(group, rule), expected, excerpt(value))
    return value


def cidr_attribute(text: str, group: GroupPlan, rule: PlannedRule) -> tuple[str, str]:
    """(attribute, CIDR) with the network address: 10.0.1.5/16 -> cidr_ipv4 10.0.0.0/16."""
    if "/" not in text:
        raise PlanFormatError(_where(group, rule), "a CIDR such as 10.0.0.0/16", excerpt(text))
    try:
        network = ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        raise PlanFormatError(
            _where(group, rule), "a CIDR such as 10.0.0.0/16", excerpt(text)
        ) from None
    attribute = "cidr_ipv4" if network.version == 4 else "cidr_ipv6"
    return attribute, network.compressed


def _ports(rule: PlannedRule, group: GroupPlan) -> tuple[int | None, int | None]:
    """The rule's ports as the provider wants them."""
    protocol, low, high = rule.rule.protocol, rule.from_port, rule.to_port
    if protocol in RULE_PORTED:
        if low is None or high is None or not 0 <= low <= high <= 65535:
            raise PlanFormatError(
                _where(group, rule), "from_port <= to_port within 0-65535", f"{low}-{high}"
            )
        return low, high
    if protocol in RULE_TYPED:
        # Every ICMP type (or code) is -1 to the provider.
        icmp_type = -1 if low is None else low
        icmp_code = -1 if high is None else high
        if not (-1 <= icmp_type <= 255 and -1 <= icmp_code <= 255):
            raise PlanFormatError(
                _where(group, rule), "an ICMP type and code within -1-255", f"{low}/{high}"
            )
        return icmp_type, icmp_code
    # "-1" and other protocol numbers have no ports; AWS reports -1 and the provider
    # reads that back as null when the attribute is omitted.
    return None, None


def terraform_rule(group: GroupPlan, rule: PlannedRule) -> TerraformRule:
    """Check ``rule`` and return it as Terraform attributes."""
    if rule.action in ("keep", "remove"):
        if rule.existing_rule_id is None:
            raise PlanFormatError(
                _where(group, rule),
                f"existing_rule_id (the sgr- id) for a {rule.action} rule",
                "null",
            )
        check_id("sgr", rule.existing_rule_id, group, rule)
    protocol = rule.rule.protocol
    if protocol is not None and not 0 <= protocol <= 255:
        raise PlanFormatError(
            _where(group, rule), "tcp, udp, icmp, icmpv6, -1 or a protocol number", str(protocol)
        )
    low, high = _ports(rule, group)
    peer = rule.peer
    if peer.kind == "cidr":
        attribute, value = cidr_attribute(peer.value, group, rule)
        # Downstream (names, comments, the PR) sees the network as Terraform will have it.
        rule = replace(rule, rule=replace(rule.rule, peer=replace(peer, value=value)))
    elif peer.kind == "security_group":
        attribute, value = PEER_ATTRIBUTES[peer.kind], check_id("sg", peer.value, group, rule)
        if peer.owner_id is not None:
            check_id("account", peer.owner_id, group, rule)
            if peer.owner_id != group.owner_id:
                # A group in another account (through a peering) is "account/sg-id".
                value = f"{peer.owner_id}/{value}"
    else:
        attribute, value = PEER_ATTRIBUTES[peer.kind], check_id("pl", peer.value, group, rule)
    return TerraformRule(group, rule, ip_protocol(protocol), low, high, attribute, value)


def check_plan(plan: Plan) -> list[TerraformRule]:
    """Every rule of the plan as a TerraformRule; raises on anything Terraform would get
    wrong."""
    specs: list[TerraformRule] = []
    seen_groups: set[str] = set()
    seen_rule_ids: dict[str, str] = {}
    for group in plan.security_groups:
        check_id("sg", group.group_id, group)
        if group.group_id in seen_groups:
            raise PlanFormatError(_where(group), "each security group once", "it twice")
        seen_groups.add(group.group_id)
        if group.owner_id is not None:
            check_id("account", group.owner_id, group)
        existing: dict[tuple[object, ...], PlannedRule] = {}
        for rule in sorted(group.rules, key=PlannedRule.sort_key):
            spec = terraform_rule(group, rule)
            if rule.existing_rule_id is not None and rule.action != "add":
                # Two resources importing one rule would fight over it.
                if rule.existing_rule_id in seen_rule_ids:
                    raise PlanFormatError(
                        _where(group, rule),
                        "each sgr- id in one rule",
                        f"it also in {seen_rule_ids[rule.existing_rule_id]}",
                    )
                seen_rule_ids[rule.existing_rule_id] = group.group_id
            twin = existing.get(spec.identity)
            if twin is not None:
                raise PlanFormatError(
                    _where(group, rule),
                    "rules that differ from each other (AWS refuses a duplicate rule)",
                    f"the same rule as {twin.action} {twin.existing_rule_id or twin.key}",
                )
            existing[spec.identity] = rule
            specs.append(spec)
    return specs


# --------------------------------------------------------------------------- checkov

# checkov (3.x) reads an aws_vpc_security_group_ingress_rule without cidr_ipv4/cidr_ipv6
# as open to 0.0.0.0/0: a rule that names a group (referenced_security_group_id) or a
# prefix list (prefix_list_id) fails its "unrestricted ingress" checks for the ports they
# watch. These rules are skipped for those checks only, saying why.
_CHECKOV_PORT_CHECKS = (("CKV_AWS_24", 22), ("CKV_AWS_25", 3389), ("CKV_AWS_260", 80))
CHECKOV_MISREAD = "peer is {what}, not 0.0.0.0/0 as checkov reads it"


def checkov_skips(
    direction: str, protocol: str, from_port: int | None, to_port: int | None, peer_attribute: str
) -> list[Comment]:
    """``checkov:skip`` comments for a per-rule ingress resource checkov misreads."""
    what = {"referenced_security_group_id": "a security group", "prefix_list_id": "a prefix list"}
    if direction != "ingress" or peer_attribute not in what:
        return []
    reason = CHECKOV_MISREAD.format(what=what[peer_attribute])
    ids: list[str] = []
    if protocol == "-1":
        ids = [c for c, _ in _CHECKOV_PORT_CHECKS] + ["CKV_AWS_277"]
    elif protocol in ("tcp", "udp") and from_port is not None and to_port is not None:
        ids = [c for c, port in _CHECKOV_PORT_CHECKS if from_port <= port <= to_port]
        if (from_port, to_port) == (0, 65535):
            ids.append("CKV_AWS_277")
    return [Comment(f"checkov:skip={c}:{reason}") for c in ids]


# --------------------------------------------------------------------------- text


def aws_description(text: str) -> str:
    """``text`` within AWS's rule-description limits (character set and 255 characters)."""
    for bad, good in _DESCRIPTION_MAP.items():
        text = text.replace(bad, good)
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    kept = "".join(ch if ch in _DESCRIPTION_OK else " " for ch in ascii_text)
    kept = " ".join(kept.split())
    if len(kept) > DESCRIPTION_LIMIT:
        kept = kept[: DESCRIPTION_LIMIT - 3].rstrip() + "..."
    return kept


def evidence_summary(rule: PlannedRule, days: int | None) -> str | None:
    """``1,234 flows from 2 clients, 3/3 days, 2026-11-16..2026-11-18``, or None."""
    ev = rule.evidence
    if ev is None:
        return None
    parts = [f"{plural(ev.flows, 'flow')} from {plural(len(ev.clients), 'client')}"]
    parts.append(f"{ev.days_seen}/{days} days" if days else plural(ev.days_seen, "day"))
    if ev.first_seen is not None and ev.last_seen is not None:
        first, last = day(ev.first_seen), day(ev.last_seen)
        parts.append(first if first == last else f"{first}..{last}")
    return ", ".join(parts)


def rule_description(rule: PlannedRule) -> str:
    """What a rule ztflows writes says about itself, the same on every run.

    A rule that stays keeps today's description: changing it is an update in AWS, and
    for an inline rule a revoke and re-authorise with a new ``sgr-`` id. A new rule (or one
    without a description) says what it allows and on what it stands, never counts or
    dates: those belong in the pull request and the report, and a run over newer flow logs
    must not rewrite every rule.
    """
    if rule.description and rule.description.strip():
        return aws_description(rule.description)
    basis = "observed" if rule.kept_for in (None, "open_population") else "kept as it was"
    ports = rule_ports_label(rule.rule.protocol, rule.from_port, rule.to_port)
    peer = rule.peer.name or rule.peer.value
    return aws_description(f"{ports} {direction_word(rule.direction)} {peer} ({basis})")


@dataclass(frozen=True)
class RenderedRule:
    """A rule as written: its resource address and the description it carries."""

    spec: TerraformRule
    name: str
    description: str | None

    @property
    def resource_type(self) -> str:
        return f"aws_vpc_security_group_{self.spec.rule.direction}_rule"

    @property
    def address(self) -> str:
        return f"{self.resource_type}.{self.name}"

    @property
    def action(self) -> str:
        return self.spec.rule.action
