"""Replaying observed traffic against proposed rules: the plan's own verification.

Two replays, with the same semantics as today's rules. The conversations: every accepted
edge side that today's rules allow is evaluated again under the plan. The records: every
accepted record group of the window, read each way its own evidence allows (flags, a
service port against an ephemeral one, a listener seen elsewhere; both ways when nothing
decides), whatever the orientation stage concluded; a reading the group needs must stay
allowed wherever today's rules allow it. A side the plan no longer allows is either
blocked on purpose (a probe, listed with its reason) or not acceptable: the recommender
keeps what it needs, and a plan that still blocks it is not written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, cast

import polars as pl

from zt_flows.errors import VerificationError
from zt_flows.recommend.plan import BlockedConversation
from zt_flows.rules import (
    Edge,
    EdgeSide,
    EdgeVerdict,
    Evaluator,
    RuleAnalysis,
    RuleSet,
    SideMatch,
    sides,
)
from zt_flows.rules.edges import index_distinct
from zt_flows.vocabulary import DIRECTIONS, Direction, conversation_label


class ReplayError(VerificationError):
    """The plan would block observed accepted conversations it was not meant to block."""

    def __init__(self, blocked: tuple[BlockedConversation, ...]) -> None:
        self.blocked = blocked
        shown = "; ".join(describe_blocked(b) for b in blocked[:5])
        more = f" and {len(blocked) - 5} more" if len(blocked) > 5 else ""
        super().__init__(
            f"the plan would block {len(blocked)} observed conversation(s) that today's rules "
            f"allow: {shown}{more}",
            hint="this is a bug in ztflows; the plan was not written. Please report it.",
        )


def describe_blocked(b: BlockedConversation) -> str:
    """``eni-a -> eni-b tcp/5432 (sg-…)``; external addresses are named by kind only."""

    def name(text: str) -> str:
        return text if text.startswith("eni-") else "an external address"

    where = f" ({b.group_id})" if b.group_id else ""
    what = conversation_label(b.protocol, b.server_port)
    return f"{name(b.client)} -> {name(b.server)} {what}{where}"


@dataclass(frozen=True)
class Replay:
    replayed: int  # accepted edges with a side today's rules allow
    blocked: tuple[BlockedConversation, ...]  # not meant to be blocked
    intentional: tuple[BlockedConversation, ...]
    intentional_edges: int


def home_group(verdict: EdgeVerdict, direction: str, ruleset: RuleSet) -> str | None:
    side = verdict.ingress if direction == "ingress" else verdict.egress
    for _, key in side.homes:
        rule = ruleset.by_key.get(key)
        if rule is not None:
            return rule.group_id
    local = sides(verdict.edge, "ingress" if direction == "ingress" else "egress")[0]
    return local.sgs[0] if local.sgs else None


def aggregate_blocked(
    items: Iterable[tuple[Edge, str | None, str]],
) -> tuple[BlockedConversation, ...]:
    """One entry per conversation (days summed), sorted."""
    merged: dict[tuple[object, ...], BlockedConversation] = {}
    for edge, group_id, reason in items:
        key = (*edge.conversation, group_id, reason)
        known = merged.get(key)
        merged[key] = BlockedConversation(
            client=edge.client.id,
            server=edge.server.id,
            protocol=edge.protocol,
            server_port=edge.server_port,
            flows=edge.accepted + (known.flows if known else 0),
            reason=reason,
            group_id=group_id,
        )
    return tuple(
        sorted(
            merged.values(),
            key=lambda b: (b.group_id or "", b.protocol, b.server_port, b.server, b.client),
        )
    )


def replay(
    analysis: RuleAnalysis,
    today: RuleSet,
    evaluator: Evaluator,
    intended: Callable[[Edge], str | None],
) -> Replay:
    """Replay ``analysis``'s accepted edges under ``evaluator``'s (proposed) rule set.

    ``intended`` names the reason an edge is blocked on purpose, or None.
    """
    replayed = 0
    bad: list[tuple[Edge, str | None, str]] = []
    good: list[tuple[Edge, str | None, str]] = []
    for verdict in analysis.verdicts:
        allowed_today = [d for d in DIRECTIONS if verdict.side(d).allowed]
        if not allowed_today:
            continue
        replayed += 1
        proposed = evaluator.evaluate(verdict.edge)
        lost = [d for d in allowed_today if not proposed.side(d).allowed]
        if not lost:
            continue
        group_id = home_group(verdict, lost[0], today)
        reason = intended(verdict.edge)
        if reason is not None:
            good.append((verdict.edge, group_id, reason))
        else:
            local = sides(verdict.edge, lost[0])[0]
            bad.append((verdict.edge, group_id, f"{lost[0]} at {local.id} no longer allowed"))
    return Replay(
        replayed=replayed,
        blocked=aggregate_blocked(bad),
        intentional=aggregate_blocked(good),
        intentional_edges=len(good),
    )


# --------------------------------------------------------------------------- records

Need = Literal["must", "prefer", "fallback"]


@dataclass(frozen=True)
class Reading:
    """One way of reading one group of accepted flow records (``Conversations.evidence``).

    ``need``: ``must`` stays allowed; of ``prefer`` and ``fallback``, the first that
    today's rules allow stays allowed.
    """

    row_id: int
    reading: str  # "a": the record's source is the client; "b": its destination is
    need: Need
    edge: Edge
    records: int
    interface_id: str
    # The side the records speak for: their action is the logging interface's decision.
    vantage: Literal["client", "server", "middle"] = "server"

    @property
    def directions(self) -> tuple[Direction, ...]:
        """The side the records decided: egress at the client, ingress at the server."""
        if self.vantage == "client":
            return ("egress",)
        if self.vantage == "server":
            return ("ingress",)
        return ()


def readings_from_frame(evidence: pl.DataFrame) -> tuple[Reading, ...]:
    """The rows of an evidence table as :class:`Reading` values, in the frame's order."""
    names = [
        "row_id",
        "reading",
        "need",
        "vantage",
        "protocol",
        "server_port",
        "interface_id",
        "records",
        "first_seen",
        "last_seen",
    ]
    columns = [evidence.get_column(name).to_list() for name in names]
    client_sides = _sides(evidence, "client")
    server_sides = _sides(evidence, "server")
    out = []
    for client, server, values in zip(client_sides, server_sides, _rows(columns), strict=True):
        row_id, reading, need, vantage, protocol, port, interface, count, first, last = values
        assert first is None or isinstance(first, datetime)
        assert last is None or isinstance(last, datetime)
        first_utc = first.replace(tzinfo=UTC) if first is not None else None
        last_utc = last.replace(tzinfo=UTC) if last is not None else None
        records = int(str(count))
        edge = Edge(
            day=(first_utc or datetime(1970, 1, 1, tzinfo=UTC)).date(),
            client=client,
            server=server,
            protocol=int(str(protocol)),
            server_port=int(str(port)),
            flows=records,
            accepted=records,
            rejected=0,
            connections=0,
            packets=0,
            bytes=0,
            first_seen=first_utc,
            last_seen=last_utc,
            initiator="evidence",
            vantage="server",
        )
        need, vantage = str(need), str(vantage)
        assert need in ("must", "prefer", "fallback")
        assert vantage in ("client", "server", "middle")
        out.append(
            Reading(
                row_id=int(str(row_id)),
                reading=str(reading),
                need=cast(Need, need),
                edge=edge,
                records=records,
                interface_id=str(interface),
                vantage=cast(Literal["client", "server", "middle"], vantage),
            )
        )
    return tuple(out)


_SIDE_FIELDS = ("kind", "id", "vpc_id", "role", "sgs", "label", "a")


def _rows(columns: list[list[object]]) -> Iterator[tuple[object, ...]]:
    return zip(*columns, strict=True)


def _sides(evidence: pl.DataFrame, prefix: str) -> list[EdgeSide]:
    """The ``prefix`` side of every row (record_groups_from_frame passes the distinct
    sides; readings_from_frame the few rows the replay reports)."""
    columns = [evidence.get_column(f"{prefix}_{name}").to_list() for name in _SIDE_FIELDS]
    out = []
    for kind, id_, vpc_id, role, sgs, label, address in zip(*columns, strict=True):
        assert sgs is None or isinstance(sgs, list | tuple)
        out.append(
            EdgeSide(
                kind=str(kind),
                id=str(id_),
                vpc_id=None if vpc_id is None else str(vpc_id),
                role=None if role is None else str(role),
                sgs=tuple(str(g) for g in sgs or ()),
                addrs=(str(address),),
                label=None if label is None else str(label),
            )
        )
    return out


@dataclass(frozen=True)
class SideCheck:
    """One side of one reading the replay judged: what today's rules and the plan say."""

    reading: Reading
    direction: Direction
    today: SideMatch
    ambiguous: bool = False  # the group's readings both had to stay allowed


@dataclass(frozen=True)
class RecordReplay:
    """The plan replayed against every accepted record group, read as the evidence allows."""

    records: int  # accepted records replayed
    readings: int  # readings evaluated
    groups: int  # record groups
    ambiguous: int  # record groups whose direction the evidence does not decide
    blocked: tuple[SideCheck, ...]  # needed sides today's rules allow and the plan does not
    intentional: tuple[SideCheck, ...]  # the same, blocked on purpose (probes)
    unexplained: tuple[SideCheck, ...]  # groups no reading of which today's rules allow


@dataclass(frozen=True)
class RecordGroups:
    """An evidence table (``Conversations.evidence``) made ready to be replayed, as often as
    the recommender needs.

    Rows far outnumber the distinct pairs of sides they are read between (an interface is
    a side of many record groups), and a verdict depends on the pair, the protocol and the
    port only: each pair is judged once per rule set and the verdicts are spread back over
    the rows as columns. Only the rows a replay reports become :class:`Reading` values.
    """

    evidence: pl.DataFrame  # as given
    # One row per evidence row, in the order the replay reads them (record group, then
    # need and reading): pos (the row in ``evidence``), pair, row_id, need, vantage, records.
    rows: pl.DataFrame
    pairs: tuple[tuple[EdgeSide, EdgeSide, int, int], ...]  # (client, server, protocol, port)

    def __len__(self) -> int:
        return self.evidence.height


def record_groups_from_frame(evidence: pl.DataFrame) -> RecordGroups:
    """The rows of an evidence table grouped for :func:`replay_records`."""
    indexed = evidence.with_row_index("pos")
    unknown = indexed.filter(
        ~pl.col("need").is_in(list(_NEED_ORDER))
        | ~pl.col("vantage").is_in(["client", "server", "middle"])
    )
    assert unknown.is_empty(), unknown.select("need", "vantage").row(0)
    # Sides first (a few thousand), then pairs of them: grouping on their indexes is cheaper
    # than on every column of both sides.
    found: dict[str, list[EdgeSide]] = {}
    for prefix in ("client", "server"):
        columns = [f"{prefix}_{name}" for name in _SIDE_FIELDS]
        distinct, index = index_distinct(indexed, columns)
        found[prefix] = _sides(distinct, prefix)
        indexed = indexed.with_columns(index.alias(prefix))
    keys = ["client", "server", "protocol", "server_port"]
    distinct, index = index_distinct(indexed, keys)
    pairs = tuple(
        (found["client"][c], found["server"][s], int(protocol), int(port))
        for c, s, protocol, port in distinct.iter_rows()
    )
    # The order of the readings of a record group: musts first, then prefer, fallback;
    # ties in the table's order.
    # Only the columns the replay reads are sorted: sorting the whole table first copied
    # every column (the sides' strings and lists too) of every row.
    rows = (
        indexed.select("pos", "row_id", "need", "reading", "vantage", "records")
        .with_columns(
            index.alias("pair"),
            pl.col("need").replace_strict(_NEED_ORDER, return_dtype=pl.Int8).alias("rank"),
        )
        .sort("row_id", "rank", "reading", "pos")
        .select("pos", "pair", "row_id", "need", "vantage", "records")
    )
    return RecordGroups(evidence=evidence, rows=rows, pairs=pairs)


def _pair_side(
    evaluator: Evaluator, pair: tuple[EdgeSide, EdgeSide, int, int], direction: Direction
) -> SideMatch:
    client, server, protocol, port = pair
    local, peer = (server, client) if direction == "ingress" else (client, server)
    return evaluator.side_between(direction, local, peer, protocol, port)


def replay_records(
    groups: RecordGroups,
    today: Evaluator,
    proposed: Evaluator,
    intended: Callable[[Edge], str | None],
) -> RecordReplay:
    """Replay record groups under ``proposed``; what they need is decided under ``today``.

    A record speaks for one side, the logging interface's (see :class:`Reading`). A reading
    is *explained* today when neither side is denied (an interface without security groups,
    or outside the inventory, is no side to deny); one whose other side today's rules deny
    is a connection that fails there (the other interface logged a rejection) and needs
    nothing. Each group needs its ``must`` readings that are explained, else the first
    explained of ``prefer`` and ``fallback``; a needed reading's logged side that today's
    rules allow must stay allowed. A group none of whose readings today's rules allow on the
    logged side is *unexplained*: never blamed on the plan, listed.
    """
    now = {d: [_pair_side(today, pair, d) for pair in groups.pairs] for d in DIRECTIONS}
    rows = groups.rows
    pair = rows.get_column("pair")

    def spread(name: str, values: Iterable[bool]) -> pl.Series:
        return pl.Series(name, list(values), dtype=pl.Boolean).gather(pair)

    vantage = pl.col("vantage")
    must = pl.col("need") == "must"
    judged = rows.with_columns(
        spread("in_denied", (m.verdict == "denied" for m in now["ingress"])),
        spread("eg_denied", (m.verdict == "denied" for m in now["egress"])),
        spread("in_allowed", (m.allowed for m in now["ingress"])),
        spread("eg_allowed", (m.allowed for m in now["egress"])),
    ).with_columns(
        # The logged side (egress at the client, ingress at the server; a forwarder's
        # records decide nothing): denied, or allowed, today.
        logged_denied=pl.when(vantage == "client")
        .then(pl.col("eg_denied"))
        .when(vantage == "server")
        .then(pl.col("in_denied"))
        .otherwise(False),
        logged_allowed=pl.when(vantage == "client")
        .then(pl.col("eg_allowed"))
        .when(vantage == "server")
        .then(pl.col("in_allowed"))
        .otherwise(False),
        explained=~pl.col("in_denied") & ~pl.col("eg_denied"),
    )
    explained = pl.col("explained")
    # Per record group (its rows in replay order): unexplained when every reading's logged
    # side is denied, reported on its first reading; needed, its explained musts, else its
    # first explained reading; in doubt, when more than one reading must stay allowed.
    marked = judged.with_columns(
        unexplained=pl.col("logged_denied").all().over("row_id")
        & (pl.int_range(pl.len()).over("row_id") == 0),
        needed=explained
        & pl.when((explained & must).any().over("row_id"))
        .then(must)
        .otherwise(explained.cast(pl.UInt32).cum_sum().over("row_id") == 1),
        doubt=must.sum().over("row_id") > 1,
    )
    # A needed reading's logged side that today's rules allow: does the plan still allow it?
    # Asked once per pair and side.
    wanted = pl.col("needed") & pl.col("logged_allowed")
    asked = marked.filter(wanted).select("pair", "vantage").unique(maintain_order=True)
    asked = asked.with_columns(
        pl.Series(
            "kept",
            [
                _pair_side(proposed, groups.pairs[p], _LOGGED[v]).allowed
                for p, v in asked.iter_rows()
            ],
            dtype=pl.Boolean,
        )
    )
    reported = (
        marked.join(asked, on=["pair", "vantage"], how="left", maintain_order="left")
        .filter(pl.col("unexplained") | (wanted & ~pl.col("kept").fill_null(True)))
        .select("pos", "pair", "vantage", "unexplained", "doubt")
    )
    readings = readings_from_frame(groups.evidence[reported.get_column("pos")])
    blocked: list[SideCheck] = []
    intentional: list[SideCheck] = []
    unexplained: list[SideCheck] = []
    for reading, (_, p, v, unexplained_group, doubt) in zip(
        readings, reported.iter_rows(), strict=True
    ):
        direction = _LOGGED[v]
        today_match = now[direction][p]
        if unexplained_group:
            unexplained.append(SideCheck(reading, direction, today_match))
        elif intended(reading.edge) is not None:
            intentional.append(SideCheck(reading, direction, today_match, doubt))
        else:
            blocked.append(SideCheck(reading, direction, today_match, doubt))
    per_group = rows.group_by("row_id").agg(
        pl.col("records").max(), (pl.col("need") == "must").sum().alias("musts")
    )
    return RecordReplay(
        records=int(per_group.get_column("records").sum()),
        readings=rows.height,
        groups=per_group.height,
        ambiguous=per_group.filter(pl.col("musts") > 1).height,
        blocked=tuple(blocked),
        intentional=tuple(intentional),
        unexplained=tuple(unexplained),
    )


# The side a reading's records decided, by its vantage (a forwarder's decide none).
_LOGGED: dict[str, Direction] = {"client": "egress", "server": "ingress"}
_NEED_ORDER = {"must": 0, "prefer": 1, "fallback": 2}


def checks_blocked(checks: Iterable[SideCheck], reason: str) -> tuple[BlockedConversation, ...]:
    """Side checks as blocked conversations, one per conversation (records summed)."""
    return aggregate_blocked(
        (
            replace(c.reading.edge, accepted=c.reading.records),
            _side_group(c),
            f"{c.direction} at {sides(c.reading.edge, c.direction)[0].id}: {reason}",
        )
        for c in checks
    )


def _side_group(check: SideCheck) -> str | None:
    local = sides(check.reading.edge, check.direction)[0]
    return local.sgs[0] if local.sgs else None
