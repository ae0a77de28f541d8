"""The plan: what the recommender proposes, as frozen values and as ``plan.json``.

``plan.json`` is versioned (``schema_version``) and deterministic: the same plan
always serialises to the same bytes (fixed key order, sorted collections, no
timestamps of the run itself). Rendering (Terraform, reports, pull requests) and
``ztflows check`` read it back with :func:`read_plan`. One declaration,
:data:`PLAN_FORMAT` (:mod:`zt_flows.codec`), writes it, reads it and describes it as a
JSON Schema (:func:`plan_schema`, published as ``docs/plan.schema.json``).

The rules a group ends up with are its ``keep`` and ``add`` rules; ``remove`` rules
are today's rules that go.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from zt_flows.addresses import canonical_cidr
from zt_flows.atomic import write_text
from zt_flows.codec import Codec, CodecError, Key, Layout, Scalar, shown
from zt_flows.errors import Location, PlanFormatError
from zt_flows.rules import ExposureCount, RulePeer, RuleSpec
from zt_flows.vocabulary import PORTS, RULE_PORTED, Direction, ip_protocol, protocol_number

SCHEMA_VERSION = 1

RuleAction = Literal["keep", "add", "remove"]
Confidence = Literal["high", "low"]
Coverage = Literal["observed", "uncovered", "unlogged", "unattached"]
# Why a rule (or a peer range) was kept rather than narrowed: see recommend/safety.py.
KeptFor = Literal[
    "open_population",
    "unevaluable",
    "not_covered",
    "ambiguous_orientation",
    "unattributed",
    "unexplained",
]
KEPT_FOR: tuple[KeptFor, ...] = (
    "open_population",
    "unevaluable",
    "not_covered",
    "ambiguous_orientation",
    "unattributed",
    "unexplained",
)


@dataclass(frozen=True)
class Evidence:
    """What the traffic showed for one rule, over the observation window."""

    flows: int
    bytes: int
    packets: int
    first_seen: datetime | None
    last_seen: datetime | None
    days_seen: int
    clients: tuple[str, ...] = ()  # eni ids or addresses, sorted
    servers: tuple[str, ...] = ()
    ports: tuple[int, ...] = ()  # observed server ports inside the rule's range, sorted
    connections: int = 0  # new connections seen (SYN), where flags tell


@dataclass(frozen=True)
class PlannedRule:
    """One rule of a group's plan: the rule itself, in the rules stage's form (its
    ``rule_id`` is the existing ``sgr-`` id of a kept or removed rule), what the plan does
    with it, and why."""

    rule: RuleSpec
    action: RuleAction
    reason: str
    evidence: Evidence | None = None
    confidence: Confidence = "high"
    description: str | None = None  # today's description (keep/remove) or the proposed one (add)
    # For "add": the existing rules whose observed traffic it carries from now on.
    replaces: tuple[str, ...] = ()
    # For "remove": the kept or added rules that carry its observed traffic (overshadowing).
    covered_by: tuple[str, ...] = ()
    # For "keep"/"add": why its peer range (or the rule itself) was kept rather than narrowed
    # further; None when it names a closed population (a group, a prefix list, a network).
    kept_for: KeptFor | None = None

    @property
    def direction(self) -> Direction:
        return self.rule.direction

    @property
    def ip_protocol(self) -> str:
        """``tcp`` | ``udp`` | ``icmp`` | ``icmpv6`` | ``-1`` | a protocol number."""
        return self.rule.ip_protocol

    @property
    def from_port(self) -> int | None:
        """None: every port (or ICMP type); for ICMP, the type."""
        return self.rule.from_port

    @property
    def to_port(self) -> int | None:
        """None: every port (or ICMP code); for ICMP, the code."""
        return self.rule.to_port

    @property
    def peer(self) -> RulePeer:
        return self.rule.peer

    @property
    def existing_rule_id(self) -> str | None:
        """The ``sgr-`` id of the rule today (keep and remove)."""
        return self.rule.rule_id

    @property
    def key(self) -> str:
        """A stable identifier of the rule inside its group (used by covered_by/replaces)."""
        return self.rule.signature

    def sort_key(self) -> tuple[object, ...]:
        return (
            self.direction,
            {"keep": 0, "add": 1, "remove": 2}[self.action],
            self.ip_protocol,
            -1 if self.from_port is None else self.from_port,
            -1 if self.to_port is None else self.to_port,
            self.peer.kind,
            self.peer.value,
            self.existing_rule_id or "",
        )


@dataclass(frozen=True)
class GroupPlan:
    group_id: str
    name: str
    vpc_id: str | None
    rules: tuple[PlannedRule, ...]
    description: str | None = None
    owner_id: str | None = None
    # Why the group's proposal looks as it does: merges to fit quotas, no flow-log coverage, ...
    notes: tuple[str, ...] = ()
    # "observed": members' traffic was logged; "uncovered": some member no ALL-traffic flow log
    # covered for the whole window; "unlogged": some member wrote no record. Rules kept then.
    coverage: Coverage = "observed"

    def __post_init__(self) -> None:
        for rule in self.rules:
            if rule.rule.group_id != self.group_id:
                raise ValueError(f"a rule of {rule.rule.group_id} in the plan of {self.group_id}")

    def final_rules(self, direction: Direction | None = None) -> tuple[PlannedRule, ...]:
        return tuple(
            r
            for r in self.rules
            if r.action != "remove" and (direction is None or r.direction == direction)
        )


ReachPath = Literal["address", "nlb"]


@dataclass(frozen=True)
class InternetReach:
    """One internet-reachable ENI port range, measured by the public addresses it admits.

    A share is of all public space of the family (1.0: ``0.0.0.0/0`` or ``::/0``; about
    0.5: ``0.0.0.0/1``). ``services`` is set when every admitting peer is an AWS-managed
    prefix list (``cloudfront``: reachable from CloudFront only); ``unmeasured`` names
    prefix lists the inventory did not hold (they may admit more than is counted);
    ``path`` is ``nlb`` for an ENI without a public address of its own that may be the
    target of an internet-facing Network Load Balancer in its VPC.
    """

    entry: str  # "eni-…:tcp/443"
    ipv4_addresses: int
    ipv6_addresses: int
    ipv4_share: float
    ipv6_share: float
    peers: tuple[str, ...] = ()  # CIDRs and prefix-list ids admitting public addresses
    services: tuple[str, ...] = ()
    unmeasured: tuple[str, ...] = ()
    path: ReachPath = "address"


@dataclass(frozen=True)
class ExposureFigures:
    """Allowed (source, destination ENI, protocol, port) combinations, and internet reach.

    ``internet_reachable`` lists every port range of an internet-facing ENI that admits
    any public address (not only ``0.0.0.0/0``); ``internet_reach`` measures the same
    entries, in the same order (empty in plans written before it existed).
    """

    combinations: int
    internet_reachable: tuple[str, ...] = ()  # "eni-…:tcp/443", sorted
    internet_reach: tuple[InternetReach, ...] = ()
    public_ipv4: int = 0  # the size of public IPv4 space (what a share of 1.0 means)
    public_ipv6: int = 0

    @property
    def internet_reachable_count(self) -> int:
        return len(self.internet_reachable)

    @property
    def measured(self) -> bool:
        """Whether every reachable entry carries its measure."""
        return len(self.internet_reach) == len(self.internet_reachable)

    def reach_of(self, entry: str) -> InternetReach | None:
        return next((r for r in self.internet_reach if r.entry == entry), None)

    @property
    def internet_weight_ipv4(self) -> float:
        """Reachable entries weighted by the share of public IPv4 space each admits.

        An entry open to all of it weighs 1, to ``0.0.0.0/1`` about 0.5, to one office
        address almost 0: the figure shrinks when a range is narrowed, which the count
        of entries does not.
        """
        return sum(r.ipv4_share for r in self.internet_reach)

    @property
    def internet_weight_ipv6(self) -> float:
        return sum(r.ipv6_share for r in self.internet_reach)


@dataclass(frozen=True)
class Exposure:
    before: ExposureFigures
    after: ExposureFigures


def exposure_figures(count: ExposureCount) -> ExposureFigures:
    """The figures a plan carries, from an exposure measured by the rules stage."""
    return ExposureFigures(
        combinations=count.combinations,
        internet_reachable=count.internet_reachable,
        internet_reach=tuple(
            InternetReach(
                entry=r.entry,
                ipv4_addresses=r.ipv4_addresses,
                ipv6_addresses=r.ipv6_addresses,
                ipv4_share=r.ipv4_share,
                ipv6_share=r.ipv6_share,
                peers=r.peers,
                services=r.services,
                unmeasured=r.unmeasured,
                path=r.path,
            )
            for r in count.reach
        ),
        public_ipv4=count.public_ipv4,
        public_ipv6=count.public_ipv6,
    )


@dataclass(frozen=True)
class BlockedConversation:
    """An observed conversation the plan does not allow, and why."""

    client: str
    server: str
    protocol: int
    server_port: int
    flows: int
    reason: str  # e.g. "probe: internet handshake without a session on an admin port"
    group_id: str | None = None


@dataclass(frozen=True)
class SkippedEvidence:
    """What ``--on-error skip`` left out of the flow logs the plan was made from (the
    ingest summary's ``skipped_objects``, ``skipped_lines`` and ``skipped_records``): traffic
    only that input showed was neither learnt nor replayed, so the evidence is incomplete."""

    objects: int
    lines: int
    records: int


@dataclass(frozen=True)
class Verification:
    """The replay of observed accepted traffic against the proposed rules.

    ``replayed``: accepted conversations replayed (the edge table); ``records``: accepted flow
    records replayed, as groups of records with one reading each (``readings``), whatever
    the orientation stage concluded; ``unexplained``: accepted readings today's rules do not
    allow either (kept allowed, never blamed on the plan); ``basis`` says whether the records
    themselves were replayed (``records``) or only the conversations (``edges``, a plan
    built from an edge table alone).
    """

    replayed: int
    blocked: int
    intentionally_blocked: int = 0
    blocked_conversations: tuple[BlockedConversation, ...] = ()
    records: int = 0
    readings: int = 0
    unexplained: int = 0
    basis: Literal["records", "edges"] = "edges"
    skipped: SkippedEvidence | None = None  # None: nothing was skipped


@dataclass(frozen=True)
class Plan:
    window_start: datetime | None
    window_end: datetime | None
    security_groups: tuple[GroupPlan, ...]
    exposure: Exposure
    verification: Verification
    # Observed accepted conversations the plan blocks on purpose, each with its reason.
    intentionally_blocked: tuple[BlockedConversation, ...] = ()
    # Probes of an admin port the plan leaves open (its rule stays for real sessions).
    probed: tuple[BlockedConversation, ...] = ()
    # Accepted traffic today's rules do not allow either: kept allowed, listed.
    unexplained: tuple[BlockedConversation, ...] = ()
    # Record groups whose direction the evidence does not decide (both readings kept).
    ambiguous: int = 0
    generated_by: str = "ztflows"
    settings: Mapping[str, object] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def group(self, group_id: str) -> GroupPlan:
        for g in self.security_groups:
            if g.group_id == group_id:
                return g
        raise KeyError(group_id)

    def kept_counts(self) -> dict[KeptFor, int]:
        """How many of the rules the groups end up with were kept for each safety reason."""
        counts: dict[KeptFor, int] = dict.fromkeys(KEPT_FOR, 0)
        for group in self.security_groups:
            for rule in group.final_rules():
                if rule.kept_for is not None:
                    counts[rule.kept_for] += 1
        return counts


# --------------------------------------------------------------------------- plan.json


def _read_protocol(value: object) -> int | None:
    if not isinstance(value, str):
        raise TypeError(value)
    return protocol_number(value)


IP_PROTOCOL = Scalar(
    encode=ip_protocol,
    decode=_read_protocol,
    expected="tcp, udp, icmp, icmpv6, -1 or a protocol number",
    schema={
        "type": "string",
        "pattern": "^(tcp|udp|icmp|icmpv6|-1|[0-9]{1,3})$",
        "description": "AWS's IpProtocol: a name, a protocol number, or -1 for every protocol",
    },
)


def _check_rule(found: Mapping[str, Any]) -> None:
    """A port range a TCP or UDP rule can hold: both ends, or neither (every port)."""
    low, high = found.get("from_port"), found.get("to_port")
    if found["protocol"] in RULE_PORTED and (
        (low is None) != (high is None)
        or (low is not None and high is not None and not 0 <= low <= high <= PORTS - 1)
    ):
        raise CodecError("", "from_port <= to_port within 0-65535", f"{low}-{high}")


def _check_peer(found: Mapping[str, Any]) -> None:
    if found["kind"] == "cidr":
        try:
            canonical_cidr(found["value"])
        except ValueError:
            raise CodecError("cidr", "a CIDR such as 10.0.0.0/16", shown(found["value"])) from None


def _read_peer(**found: Any) -> RulePeer:
    """A peer as read: a CIDR in network-address form, as AWS and Terraform want it."""
    if found["kind"] == "cidr":
        found["value"] = canonical_cidr(found["value"])
    return RulePeer(**found)


def _check_figures(found: Mapping[str, Any]) -> None:
    reach = found.get("internet_reach", ())
    reachable = found.get("internet_reachable", ())
    if reach and tuple(r.entry for r in reach) != tuple(reachable):
        raise CodecError(
            "internet_reach",
            "one entry per internet_reachable entry, in the same order",
            f"{len(reach)} entries for {len(reachable)}",
        )


# The layout of plan.json: every object's keys in order (key order is part of the
# format), and what the plan's values become there.
PLAN_FORMAT = Codec(
    [
        Layout(
            Plan,
            (
                Key("schema_version"),
                Key("generated_by"),
                Key("start", "window_start", at=("window",)),
                Key("end", "window_end", at=("window",)),
                Key("settings", sort=lambda item: item[0]),
                Key("security_groups", sort=lambda g: g.group_id),
                Key("exposure"),
                Key("kept", compute=Plan.kept_counts, computed_type=Mapping[KeptFor, int]),
                Key("verification"),
                Key("intentionally_blocked"),
                Key("probed"),
                Key("unexplained"),
                Key("ambiguous_record_groups", "ambiguous"),
            ),
            description="The plan: each security group's rules, the evidence for them, and"
            " their verification (written by ztflows recommend and analyze).",
        ),
        Layout(
            GroupPlan,
            (
                Key("group_id"),
                Key("name"),
                Key("vpc_id"),
                Key("owner_id"),
                Key("description"),
                Key("coverage"),
                Key("notes"),
                Key("rules", sort=PlannedRule.sort_key),
            ),
            provides=("group_id",),
        ),
        Layout(
            PlannedRule,
            (
                Key("direction", "rule.direction"),
                Key("action"),
                Key("protocol", "rule.protocol", scalar=IP_PROTOCOL, required=True),
                Key("from_port", "rule.from_port"),
                Key("to_port", "rule.to_port"),
                Key("peer", "rule.peer"),
                Key("existing_rule_id", "rule.rule_id"),
                Key("confidence"),
                Key("description"),
                Key("evidence"),
                Key("reason"),
                Key("replaces"),
                Key("covered_by"),
                Key("kept_for"),
            ),
        ),
        # A planned rule holds the keys of its RuleSpec; the group's id is the group's.
        Layout(RuleSpec, (), context=("group_id",), build=RuleSpec.normal, check=_check_rule),
        Layout(
            RulePeer,
            (
                Key("type", "kind"),
                Key("cidr", "value", when=("kind", ("cidr",))),
                Key("id", "value", when=("kind", ("security_group", "prefix_list"))),
                Key("name", omit_none=True),
                Key("owner_id", omit_none=True),
                Key("vpc_id", omit_none=True),
            ),
            build=_read_peer,
            check=_check_peer,
        ),
        Layout(
            Evidence,
            (
                Key("flows"),
                Key("connections"),
                Key("packets"),
                Key("bytes"),
                Key("first_seen"),
                Key("last_seen"),
                Key("days_seen"),
                Key("clients"),
                Key("servers"),
                Key("ports"),
            ),
        ),
        Layout(Exposure, (Key("before"), Key("after"))),
        Layout(
            ExposureFigures,
            (
                Key("combinations"),
                Key(
                    "internet_reachable_count",
                    compute=lambda f: f.internet_reachable_count,
                    computed_type=int,
                ),
                Key("internet_reachable"),
                Key(
                    "ipv4",
                    at=("internet_weight",),
                    compute=lambda f: f.internet_weight_ipv4,
                    computed_type=float,
                ),
                Key(
                    "ipv6",
                    at=("internet_weight",),
                    compute=lambda f: f.internet_weight_ipv6,
                    computed_type=float,
                ),
                Key("ipv4", "public_ipv4", at=("public_addresses",)),
                Key("ipv6", "public_ipv6", at=("public_addresses",)),
                Key("internet_reach"),
            ),
            check=_check_figures,
        ),
        Layout(
            InternetReach,
            (
                Key("entry"),
                Key("path"),
                Key("ipv4_addresses"),
                Key("ipv4_share"),
                Key("ipv6_addresses"),
                Key("ipv6_share"),
                Key("peers"),
                Key("services"),
                Key("unmeasured"),
            ),
        ),
        Layout(
            Verification,
            (
                Key("basis"),
                Key("replayed"),
                Key("records"),
                Key("readings"),
                Key("unexplained"),
                Key("blocked"),
                Key("intentionally_blocked"),
                Key("blocked_conversations"),
                # Only for a run that skipped bad input: a plan of complete evidence stays as
                # it always was.
                Key(
                    "evidence",
                    compute=lambda v: "incomplete" if v.skipped is not None else None,
                    computed_type=Literal["incomplete"],
                    checked=True,
                    omit_none=True,
                ),
                Key("skipped", omit_none=True),
            ),
            together=(("evidence", "skipped"),),
        ),
        Layout(SkippedEvidence, (Key("objects"), Key("lines"), Key("records"))),
        Layout(
            BlockedConversation,
            (
                Key("client"),
                Key("server"),
                Key("protocol"),
                Key("server_port"),
                Key("flows"),
                Key("group_id"),
                Key("reason"),
            ),
        ),
    ]
)


def plan_to_dict(plan: Plan) -> dict[str, object]:
    """The JSON document of a plan (key order is part of the format)."""
    doc: dict[str, object] = PLAN_FORMAT.encode(plan)
    return doc


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"


def write_plan(plan: Plan, path: Path) -> Path:
    """Write ``plan.json`` atomically."""
    return write_text(path, plan_to_json(plan))


def plan_schema() -> dict[str, object]:
    """The JSON Schema of ``plan.json``, from the same layout that writes and reads it."""
    return PLAN_FORMAT.schema(
        Plan,
        **{
            "$id": "https://github.com/ztflows/ztflows/blob/main/docs/plan.schema.json",
            "title": f"ztflows plan.json, schema_version {SCHEMA_VERSION}",
        },
    )


def plan_from_dict(doc: object, *, source: str = "plan.json") -> Plan:
    """Parse a plan document; errors name the JSON path of the bad value."""
    if not isinstance(doc, dict):
        raise PlanFormatError(Location(source, path="$"), "an object", shown(doc))
    if "schema_version" not in doc:
        raise PlanFormatError(Location(source, path="$"), "key 'schema_version'", "nothing")
    version = doc["schema_version"]
    if version != SCHEMA_VERSION:
        raise PlanFormatError(
            Location(source, path="$.schema_version"),
            f"schema_version {SCHEMA_VERSION}",
            str(version),
            hint="regenerate the plan with this version of ztflows",
        )
    try:
        plan: Plan = PLAN_FORMAT.decode(Plan, doc)
    except CodecError as exc:
        raise PlanFormatError(Location(source, path=exc.path), exc.expected, exc.found) from None
    return plan


def read_plan(path: Path) -> Plan:
    """Read ``plan.json``; a missing file, bad JSON or a bad value is a PlanFormatError."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PlanFormatError(Location(source), "a plan.json file", "no such file") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanFormatError(
            Location(source, line=exc.lineno, column=str(exc.colno)), "valid JSON", exc.msg
        ) from None
    return plan_from_dict(doc, source=source)
