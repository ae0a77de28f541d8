"""The plan: what the recommender proposes, as frozen values and as ``plan.json``.

``plan.json`` is versioned (``schema_version``) and deterministic: the same plan
always serialises to the same bytes (fixed key order, sorted collections, no
timestamps of the run itself). Rendering (Terraform, reports, pull requests) and
``ztflows check`` read it back with :func:`read_plan`.

The rules a group ends up with are its ``keep`` and ``add`` rules; ``remove`` rules
are today's rules that go.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

from zt_flows.errors import Location, PlanFormatError

SCHEMA_VERSION = 1

RuleAction = Literal["keep", "add", "remove"]
Direction = Literal["ingress", "egress"]
PeerType = Literal["security_group", "cidr", "prefix_list"]
Confidence = Literal["high", "low"]
Coverage = Literal["observed", "uncovered", "unlogged", "unattached"]
COVERAGES: tuple[Coverage, ...] = ("observed", "uncovered", "unlogged", "unattached")
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


@dataclass(frozen=True, order=True)
class Peer:
    """The other side of a rule: a security group, a CIDR (v4 or v6) or a prefix list."""

    type: PeerType
    value: str  # sg-… | a CIDR in canonical (network-address) form | pl-…
    name: str | None = None  # group name / prefix list name, for humans
    owner_id: str | None = None  # for a group in another account
    vpc_id: str | None = None  # for a group reached through a peering

    @property
    def is_ipv6(self) -> bool:
        return self.type == "cidr" and ":" in self.value


@dataclass(frozen=True)
class Evidence:
    """What the traffic showed for one rule, over the observation window."""

    flows: int
    bytes: int
    packets: int
    first_seen: datetime | None
    last_seen: datetime | None
    days_seen: int
    clients: tuple[str, ...]  # eni ids or addresses, sorted
    servers: tuple[str, ...]
    ports: tuple[int, ...] = ()  # observed server ports inside the rule's range, sorted
    connections: int = 0  # new connections seen (SYN), where flags tell


@dataclass(frozen=True)
class PlannedRule:
    direction: Direction
    action: RuleAction
    protocol: str  # "tcp" | "udp" | "icmp" | "icmpv6" | "-1" | a protocol number
    from_port: int | None  # None for "-1" (all); ICMP: type
    to_port: int | None  # ICMP: code
    peer: Peer
    reason: str
    existing_rule_id: str | None = None  # sgr-… for keep/remove
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

    def sort_key(self) -> tuple[object, ...]:
        return (
            self.direction,
            {"keep": 0, "add": 1, "remove": 2}[self.action],
            self.protocol,
            -1 if self.from_port is None else self.from_port,
            -1 if self.to_port is None else self.to_port,
            self.peer.type,
            self.peer.value,
            self.existing_rule_id or "",
        )

    @property
    def key(self) -> str:
        """A stable identifier of the rule inside its group (used by covered_by/replaces)."""
        ports = "all" if self.from_port is None else f"{self.from_port}-{self.to_port}"
        return f"{self.direction}:{self.protocol}:{ports}:{self.peer.type}:{self.peer.value}"


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
    internet_reachable: tuple[str, ...]  # "eni-…:tcp/443", sorted
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


# --------------------------------------------------------------------------- JSON


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _peer_json(peer: Peer) -> dict[str, object]:
    key = "cidr" if peer.type == "cidr" else "id"
    out: dict[str, object] = {"type": peer.type, key: peer.value}
    if peer.name is not None:
        out["name"] = peer.name
    if peer.owner_id is not None:
        out["owner_id"] = peer.owner_id
    if peer.vpc_id is not None:
        out["vpc_id"] = peer.vpc_id
    return out


def _evidence_json(ev: Evidence | None) -> dict[str, object] | None:
    if ev is None:
        return None
    return {
        "flows": ev.flows,
        "connections": ev.connections,
        "packets": ev.packets,
        "bytes": ev.bytes,
        "first_seen": _time(ev.first_seen),
        "last_seen": _time(ev.last_seen),
        "days_seen": ev.days_seen,
        "clients": list(ev.clients),
        "servers": list(ev.servers),
        "ports": list(ev.ports),
    }


def _rule_json(rule: PlannedRule) -> dict[str, object]:
    return {
        "direction": rule.direction,
        "action": rule.action,
        "protocol": rule.protocol,
        "from_port": rule.from_port,
        "to_port": rule.to_port,
        "peer": _peer_json(rule.peer),
        "existing_rule_id": rule.existing_rule_id,
        "confidence": rule.confidence,
        "description": rule.description,
        "evidence": _evidence_json(rule.evidence),
        "reason": rule.reason,
        "replaces": list(rule.replaces),
        "covered_by": list(rule.covered_by),
        "kept_for": rule.kept_for,
    }


def _blocked_json(b: BlockedConversation) -> dict[str, object]:
    return {
        "client": b.client,
        "server": b.server,
        "protocol": b.protocol,
        "server_port": b.server_port,
        "flows": b.flows,
        "group_id": b.group_id,
        "reason": b.reason,
    }


def _reach_json(r: InternetReach) -> dict[str, object]:
    return {
        "entry": r.entry,
        "path": r.path,
        "ipv4_addresses": r.ipv4_addresses,
        "ipv4_share": r.ipv4_share,
        "ipv6_addresses": r.ipv6_addresses,
        "ipv6_share": r.ipv6_share,
        "peers": list(r.peers),
        "services": list(r.services),
        "unmeasured": list(r.unmeasured),
    }


def _figures_json(f: ExposureFigures) -> dict[str, object]:
    return {
        "combinations": f.combinations,
        "internet_reachable_count": f.internet_reachable_count,
        "internet_reachable": list(f.internet_reachable),
        "internet_weight": {"ipv4": f.internet_weight_ipv4, "ipv6": f.internet_weight_ipv6},
        "public_addresses": {"ipv4": f.public_ipv4, "ipv6": f.public_ipv6},
        "internet_reach": [_reach_json(r) for r in f.internet_reach],
    }


def plan_to_dict(plan: Plan) -> dict[str, object]:
    """The JSON document of a plan (key order is part of the format)."""
    return {
        "schema_version": plan.schema_version,
        "generated_by": plan.generated_by,
        "window": {"start": _time(plan.window_start), "end": _time(plan.window_end)},
        "settings": dict(sorted(plan.settings.items())),
        "security_groups": [
            {
                "group_id": g.group_id,
                "name": g.name,
                "vpc_id": g.vpc_id,
                "owner_id": g.owner_id,
                "description": g.description,
                "coverage": g.coverage,
                "notes": list(g.notes),
                "rules": [_rule_json(r) for r in sorted(g.rules, key=PlannedRule.sort_key)],
            }
            for g in sorted(plan.security_groups, key=lambda g: g.group_id)
        ],
        "exposure": {
            "before": _figures_json(plan.exposure.before),
            "after": _figures_json(plan.exposure.after),
        },
        "kept": dict(plan.kept_counts()),
        "verification": {
            "basis": plan.verification.basis,
            "replayed": plan.verification.replayed,
            "records": plan.verification.records,
            "readings": plan.verification.readings,
            "unexplained": plan.verification.unexplained,
            "blocked": plan.verification.blocked,
            "intentionally_blocked": plan.verification.intentionally_blocked,
            "blocked_conversations": [
                _blocked_json(b) for b in plan.verification.blocked_conversations
            ],
            **_skipped_json(plan.verification.skipped),
        },
        "intentionally_blocked": [_blocked_json(b) for b in plan.intentionally_blocked],
        "probed": [_blocked_json(b) for b in plan.probed],
        "unexplained": [_blocked_json(b) for b in plan.unexplained],
        "ambiguous_record_groups": plan.ambiguous,
    }


def _skipped_json(skipped: SkippedEvidence | None) -> dict[str, object]:
    """Nothing for a run that skipped nothing: its plan.json stays as it always was."""
    if skipped is None:
        return {}
    return {
        "evidence": "incomplete",
        "skipped": {
            "objects": skipped.objects,
            "lines": skipped.lines,
            "records": skipped.records,
        },
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, ensure_ascii=False) + "\n"


def write_plan(plan: Plan, path: Path) -> Path:
    """Write ``plan.json`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(plan_to_json(plan), encoding="utf-8")
    tmp.replace(path)
    return path


# --------------------------------------------------------------------------- reading


class _Reader:
    """Typed access to a JSON document that reports the path of anything wrong."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, expected: str, found: object) -> PlanFormatError:
        shown = "null" if found is None else type(found).__name__
        if isinstance(found, str | int | float):
            shown = f"{shown} {found!r}"[:60]
        return PlanFormatError(Location(self.source, path=path), expected, shown)

    def obj(self, value: object, path: str) -> Mapping[str, object]:
        if not isinstance(value, dict):
            raise self.fail(path, "an object", value)
        return cast(Mapping[str, object], value)

    def arr(self, value: object, path: str) -> Sequence[object]:
        if not isinstance(value, list):
            raise self.fail(path, "an array", value)
        return value

    def req(self, d: Mapping[str, object], key: str, path: str) -> object:
        if key not in d:
            raise PlanFormatError(Location(self.source, path=path), f"key {key!r}", "nothing")
        return d[key]

    def str_(self, d: Mapping[str, object], key: str, path: str) -> str:
        value = self.req(d, key, path)
        if not isinstance(value, str):
            raise self.fail(f"{path}.{key}", "a string", value)
        return value

    def opt_str(self, d: Mapping[str, object], key: str, path: str) -> str | None:
        value = d.get(key)
        if value is not None and not isinstance(value, str):
            raise self.fail(f"{path}.{key}", "a string or null", value)
        return value

    def int_(self, d: Mapping[str, object], key: str, path: str) -> int:
        value = self.req(d, key, path)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{path}.{key}", "an integer", value)
        return value

    def opt_int(self, d: Mapping[str, object], key: str, path: str) -> int | None:
        value = d.get(key)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{path}.{key}", "an integer or null", value)
        return value

    def num(self, d: Mapping[str, object], key: str, path: str) -> float:
        value = self.req(d, key, path)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(f"{path}.{key}", "a number", value)
        return float(value)

    def time(self, d: Mapping[str, object], key: str, path: str) -> datetime | None:
        text = self.opt_str(d, key, path)
        if text is None:
            return None
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(f"{path}.{key}", "an ISO-8601 time", text) from None

    def strs(self, d: Mapping[str, object], key: str, path: str) -> tuple[str, ...]:
        items = self.arr(d.get(key, []), f"{path}.{key}")
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise self.fail(f"{path}.{key}[{i}]", "a string", item)
            out.append(item)
        return tuple(out)

    def choice(self, d: Mapping[str, object], key: str, path: str, allowed: Sequence[str]) -> str:
        value = self.str_(d, key, path)
        if value not in allowed:
            raise self.fail(f"{path}.{key}", " or ".join(repr(a) for a in allowed), value)
        return value


def _read_peer(r: _Reader, value: object, path: str) -> Peer:
    d = r.obj(value, path)
    kind = r.choice(d, "type", path, ("security_group", "cidr", "prefix_list"))
    val = r.str_(d, "cidr" if kind == "cidr" else "id", path)
    return Peer(
        type=cast(PeerType, kind),
        value=val,
        name=r.opt_str(d, "name", path),
        owner_id=r.opt_str(d, "owner_id", path),
        vpc_id=r.opt_str(d, "vpc_id", path),
    )


def _read_evidence(r: _Reader, value: object, path: str) -> Evidence | None:
    if value is None:
        return None
    d = r.obj(value, path)
    ports = r.arr(d.get("ports", []), f"{path}.ports")
    if not all(isinstance(p, int) for p in ports):
        raise r.fail(f"{path}.ports", "integers", ports)
    return Evidence(
        flows=r.int_(d, "flows", path),
        connections=r.opt_int(d, "connections", path) or 0,
        packets=r.int_(d, "packets", path),
        bytes=r.int_(d, "bytes", path),
        first_seen=r.time(d, "first_seen", path),
        last_seen=r.time(d, "last_seen", path),
        days_seen=r.int_(d, "days_seen", path),
        clients=r.strs(d, "clients", path),
        servers=r.strs(d, "servers", path),
        ports=tuple(cast(list[int], ports)),
    )


def _read_rule(r: _Reader, value: object, path: str) -> PlannedRule:
    d = r.obj(value, path)
    return PlannedRule(
        direction=cast(Direction, r.choice(d, "direction", path, ("ingress", "egress"))),
        action=cast(RuleAction, r.choice(d, "action", path, ("keep", "add", "remove"))),
        protocol=r.str_(d, "protocol", path),
        from_port=r.opt_int(d, "from_port", path),
        to_port=r.opt_int(d, "to_port", path),
        peer=_read_peer(r, r.req(d, "peer", path), f"{path}.peer"),
        existing_rule_id=r.opt_str(d, "existing_rule_id", path),
        confidence=cast(Confidence, d.get("confidence", "high")),
        description=r.opt_str(d, "description", path),
        evidence=_read_evidence(r, d.get("evidence"), f"{path}.evidence"),
        reason=r.str_(d, "reason", path),
        replaces=r.strs(d, "replaces", path),
        covered_by=r.strs(d, "covered_by", path),
        kept_for=cast(
            KeptFor | None,
            r.choice(d, "kept_for", path, KEPT_FOR) if d.get("kept_for") is not None else None,
        ),
    )


def _read_blocked(r: _Reader, value: object, path: str) -> BlockedConversation:
    d = r.obj(value, path)
    return BlockedConversation(
        client=r.str_(d, "client", path),
        server=r.str_(d, "server", path),
        protocol=r.int_(d, "protocol", path),
        server_port=r.int_(d, "server_port", path),
        flows=r.int_(d, "flows", path),
        group_id=r.opt_str(d, "group_id", path),
        reason=r.str_(d, "reason", path),
    )


def _read_reach(r: _Reader, value: object, path: str) -> InternetReach:
    d = r.obj(value, path)
    return InternetReach(
        entry=r.str_(d, "entry", path),
        path=cast(ReachPath, r.choice(d, "path", path, ("address", "nlb"))),
        ipv4_addresses=r.int_(d, "ipv4_addresses", path),
        ipv4_share=r.num(d, "ipv4_share", path),
        ipv6_addresses=r.int_(d, "ipv6_addresses", path),
        ipv6_share=r.num(d, "ipv6_share", path),
        peers=r.strs(d, "peers", path),
        services=r.strs(d, "services", path),
        unmeasured=r.strs(d, "unmeasured", path),
    )


def _read_figures(r: _Reader, value: object, path: str) -> ExposureFigures:
    d = r.obj(value, path)
    reachable = r.strs(d, "internet_reachable", path)
    # Optional: plans written before internet reach was measured carry only the entries.
    reach = tuple(
        _read_reach(r, item, f"{path}.internet_reach[{i}]")
        for i, item in enumerate(r.arr(d.get("internet_reach", []), f"{path}.internet_reach"))
    )
    if reach and tuple(x.entry for x in reach) != reachable:
        raise PlanFormatError(
            Location(r.source, path=f"{path}.internet_reach"),
            "one entry per internet_reachable entry, in the same order",
            f"{len(reach)} entries for {len(reachable)}",
        )
    public = r.obj(d.get("public_addresses", {}), f"{path}.public_addresses")
    return ExposureFigures(
        combinations=r.int_(d, "combinations", path),
        internet_reachable=reachable,
        internet_reach=reach,
        public_ipv4=r.opt_int(public, "ipv4", f"{path}.public_addresses") or 0,
        public_ipv6=r.opt_int(public, "ipv6", f"{path}.public_addresses") or 0,
    )


def plan_from_dict(doc: object, *, source: str = "plan.json") -> Plan:
    """Parse a plan document; errors name the JSON path of the bad value."""
    r = _Reader(source)
    d = r.obj(doc, "$")
    version = r.int_(d, "schema_version", "$")
    if version != SCHEMA_VERSION:
        raise PlanFormatError(
            Location(source, path="$.schema_version"),
            f"schema_version {SCHEMA_VERSION}",
            str(version),
            hint="regenerate the plan with this version of ztflows",
        )
    window = r.obj(r.req(d, "window", "$"), "$.window")
    groups = []
    for i, g in enumerate(r.arr(r.req(d, "security_groups", "$"), "$.security_groups")):
        path = f"$.security_groups[{i}]"
        gd = r.obj(g, path)
        rules = tuple(
            _read_rule(r, rule, f"{path}.rules[{j}]")
            for j, rule in enumerate(r.arr(r.req(gd, "rules", path), f"{path}.rules"))
        )
        groups.append(
            GroupPlan(
                group_id=r.str_(gd, "group_id", path),
                name=r.str_(gd, "name", path),
                vpc_id=r.opt_str(gd, "vpc_id", path),
                owner_id=r.opt_str(gd, "owner_id", path),
                description=r.opt_str(gd, "description", path),
                coverage=cast(Coverage, r.choice(gd, "coverage", path, COVERAGES)),
                notes=r.strs(gd, "notes", path),
                rules=rules,
            )
        )
    exposure = r.obj(r.req(d, "exposure", "$"), "$.exposure")
    ver = r.obj(r.req(d, "verification", "$"), "$.verification")
    settings = d.get("settings", {})
    return Plan(
        schema_version=version,
        generated_by=r.str_(d, "generated_by", "$"),
        window_start=r.time(window, "start", "$.window"),
        window_end=r.time(window, "end", "$.window"),
        settings=dict(r.obj(settings, "$.settings")),
        security_groups=tuple(groups),
        exposure=Exposure(
            before=_read_figures(r, r.req(exposure, "before", "$.exposure"), "$.exposure.before"),
            after=_read_figures(r, r.req(exposure, "after", "$.exposure"), "$.exposure.after"),
        ),
        verification=Verification(
            basis=cast(
                Literal["records", "edges"],
                r.choice(ver, "basis", "$.verification", ("records", "edges"))
                if "basis" in ver
                else "edges",
            ),
            replayed=r.int_(ver, "replayed", "$.verification"),
            records=r.opt_int(ver, "records", "$.verification") or 0,
            readings=r.opt_int(ver, "readings", "$.verification") or 0,
            unexplained=r.opt_int(ver, "unexplained", "$.verification") or 0,
            blocked=r.int_(ver, "blocked", "$.verification"),
            intentionally_blocked=r.opt_int(ver, "intentionally_blocked", "$.verification") or 0,
            blocked_conversations=tuple(
                _read_blocked(r, b, f"$.verification.blocked_conversations[{i}]")
                for i, b in enumerate(
                    r.arr(
                        ver.get("blocked_conversations", []), "$.verification.blocked_conversations"
                    )
                )
            ),
            skipped=_read_skipped(r, ver),
        ),
        intentionally_blocked=tuple(
            _read_blocked(r, b, f"$.intentionally_blocked[{i}]")
            for i, b in enumerate(
                r.arr(d.get("intentionally_blocked", []), "$.intentionally_blocked")
            )
        ),
        probed=tuple(
            _read_blocked(r, b, f"$.probed[{i}]")
            for i, b in enumerate(r.arr(d.get("probed", []), "$.probed"))
        ),
        unexplained=tuple(
            _read_blocked(r, b, f"$.unexplained[{i}]")
            for i, b in enumerate(r.arr(d.get("unexplained", []), "$.unexplained"))
        ),
        ambiguous=r.opt_int(d, "ambiguous_record_groups", "$") or 0,
    )


def _read_skipped(r: _Reader, ver: Mapping[str, object]) -> SkippedEvidence | None:
    path = "$.verification"
    if "skipped" not in ver and "evidence" not in ver:
        return None
    r.choice(ver, "evidence", path, ("incomplete",))
    counts = r.obj(r.req(ver, "skipped", path), f"{path}.skipped")
    return SkippedEvidence(
        objects=r.int_(counts, "objects", f"{path}.skipped"),
        lines=r.int_(counts, "lines", f"{path}.skipped"),
        records=r.int_(counts, "records", f"{path}.skipped"),
    )


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
