"""Whether the inventory agrees with itself and with the flow logs, said as warnings.

AWS never gives one ENI id to two accounts, one address of a VPC to two ENIs, or an ENI a
group that does not exist; and flow logs name only interfaces of accounts and VPCs that
exist. A snapshot that says otherwise was assembled by hand (a file copied into the wrong
account's folder, a filtered ``describe-security-groups``), or misses part of the estate.
The analysis goes on, on the safe side, and these checks say where and what it means:

* an ENI id in snapshots of two accounts (or regions) taken at the same time: one of the
  copies is misplaced, and ztflows uses one of them;
* an address two ENIs hold at once: flows naming it are attributed to one of them (the
  lowest id), which may be the wrong one;
* an ENI carrying a group that no snapshot describes: the plan leaves that group's rules as
  they are;
* flow records of an account or VPC that no snapshot holds: their interfaces are unknown,
  so that traffic resolves to no group and changes no rule.

Two documents a plan cannot do without are a refusal instead (:func:`require_plannable`).
Everything here is pure: the caller supplies what the flow logs hold (:class:`FlowOrigin`)
and prints the warnings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Literal

from zt_flows.errors import InventoryIncompleteError
from zt_flows.inventory import snapshot_files
from zt_flows.inventory.model import Inventory, NetworkInterface, Snapshot

WarningKind = Literal[
    "duplicate_interface", "shared_address", "undescribed_group", "foreign_account", "foreign_vpc"
]
# How many ids a warning lists before "and N more".
_SHOWN = 3
# An account_id the flow-log record does not know ("unknown" for some ENIs AWS services
# create: https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html).
_NO_ACCOUNT = frozenset({"unknown", "-", ""})


@dataclass(frozen=True)
class InventoryWarning:
    """Something the inventory or the flow logs say that cannot all be true, and what the
    analysis does about it (one line)."""

    kind: WarningKind
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class FlowOrigin:
    """Flow records of one interface, with the account and VPC the records name."""

    interface_id: str | None
    account_id: str | None
    vpc_id: str | None
    records: int


# --------------------------------------------------------------------------- refusals


def require_plannable(inventory: Inventory) -> None:
    """Raise :class:`InventoryIncompleteError` (exit 2) when a plan cannot be made at all.

    * No security group is described and a snapshot lacks ``describe-security-groups.json``:
      a plan is made of the groups that file describes; there is nothing to plan.
    * Some group's rules come without ``sgr-`` ids (a snapshot lacks
      ``describe-security-group-rules.json`` and its rules were read from the groups'
      ``IpPermissions``): the plan and its Terraform adopt each rule they keep and delete each
      rule they remove by that id. A plan that kept every rule without it could be neither
      applied (Terraform would create duplicates of today's rules, which AWS refuses) nor
      narrowed, so none is made.
    """
    groups_file = snapshot_files.SECURITY_GROUPS.file
    if not inventory.security_groups:
        lacking = _lacking(inventory.snapshots, groups_file)
        if lacking:
            raise InventoryIncompleteError(
                f"{lacking[0]} is missing: a plan is made of the security groups that file"
                " describes, so there is nothing to plan (no group's rules can be judged)",
                hint=f"add it (aws ec2 describe-security-groups --output json > {lacking[0]}),"
                " or collect a snapshot with `ztflows inventory collect`",
            )
    unnamed = sorted({r.group_id for r in inventory.rules if r.id is None})
    if unnamed:
        rules_file = snapshot_files.SECURITY_GROUP_RULES.file
        lacking = _lacking(_suppliers(inventory.snapshots, set(unnamed)), rules_file)
        where = lacking[0] if lacking else PurePath(rules_file)
        raise InventoryIncompleteError(
            f"{where} is missing: the rules of {_some(unnamed, 'group')} have no sgr- ids,"
            " and a plan keeps and removes each rule by its id (Terraform adopts and deletes"
            " rules by id), so no plan can be made",
            hint=f"add it (aws ec2 describe-security-group-rules --output json > {where}),"
            " or collect a snapshot with `ztflows inventory collect`",
        )


def _leaves(snapshots: Iterable[Snapshot]) -> list[Snapshot]:
    """Every snapshot part that was one folder of documents."""
    return [part for snap in snapshots for part in (snap.parts or (snap,))]


def _lacking(snapshots: Iterable[Snapshot], file_name: str) -> list[PurePath]:
    """Where ``file_name`` should have been, in the snapshot parts that lack it."""
    return [
        PurePath(part.source) / file_name
        for part in _leaves(snapshots)
        if file_name in part.missing
    ]


def _suppliers(snapshots: Sequence[Snapshot], groups: set[str]) -> list[Snapshot]:
    """The snapshot parts a group's rules came from: the latest that knows the group."""
    latest: dict[str, Snapshot] = {}
    for part in _leaves(sorted(snapshots, key=lambda s: s.taken_at)):
        known = {sg.id for sg in part.security_groups} | {r.group_id for r in part.rules}
        for group_id in known & groups:
            latest[group_id] = part
    return list({id(p): p for p in latest.values()}.values())


# --------------------------------------------------------------------------- warnings


def check_inventory(inventory: Inventory) -> tuple[InventoryWarning, ...]:
    """What the snapshots say that cannot all be true (see the module docstring)."""
    return (
        *_duplicate_interfaces(inventory),
        *_shared_addresses(inventory),
        *_undescribed_groups(inventory),
    )


def _by_time(inventory: Inventory) -> dict[datetime, list[Snapshot]]:
    moments: dict[datetime, list[Snapshot]] = defaultdict(list)
    for part in _leaves(inventory.snapshots):
        moments[part.taken_at].append(part)
    return dict(sorted(moments.items()))


def _duplicate_interfaces(inventory: Inventory) -> list[InventoryWarning]:
    out = []
    for moment, parts in _by_time(inventory).items():
        seen: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for part in parts:
            for eni in part.interfaces:
                seen[eni.id].add((_scope(part, eni), part.source))
        for eni_id, copies in sorted(seen.items()):
            if len(copies) < 2:
                continue
            where = " and ".join(f"{scope} ({source})" for scope, source in sorted(copies))
            out.append(
                InventoryWarning(
                    "duplicate_interface",
                    f"{eni_id} is in {len(copies)} snapshots taken at {_time(moment)}: {where};"
                    " an ENI belongs to one account and region, so a copy is misplaced and"
                    " ztflows used one of them",
                )
            )
    return out


def _scope(part: Snapshot, eni: NetworkInterface) -> str:
    account = part.account_ids[0] if len(part.account_ids) == 1 else eni.account_id
    region = part.regions[0] if len(part.regions) == 1 else eni.region
    return f"account {account}" + (f" in {region}" if region else "")


def _shared_addresses(inventory: Inventory) -> list[InventoryWarning]:
    # (same VPC?, the VPCs) -> [(moment, address, ENI ids)]
    found: dict[tuple[str, ...], list[tuple[datetime, str, tuple[str, ...]]]] = defaultdict(list)
    for moment, parts in _by_time(inventory).items():
        holders: dict[str, dict[str, NetworkInterface]] = defaultdict(dict)
        for part in parts:
            for eni in part.interfaces:
                for address in eni.addresses:
                    holders[address][eni.id] = eni
        for address, enis in holders.items():
            if len(enis) > 1:
                vpcs = tuple(sorted({e.vpc_id for e in enis.values()}))
                found[vpcs].append((moment, address, tuple(sorted(enis))))
    out = []
    for vpcs, cases in sorted(found.items()):
        moment, address, holder_ids = min(cases)
        example = f"{address} ({', '.join(holder_ids)} at {_time(moment)})"
        count = len({(a, e) for _, a, e in cases})
        what = _plural(count, "address")
        if len(vpcs) == 1:
            where = (
                f"in {vpcs[0]}: AWS gives an address of a VPC to one ENI, so the snapshot is"
                " inconsistent"
            )
        else:
            where = f"across {' and '.join(vpcs)} (overlapping VPC ranges)"
        out.append(
            InventoryWarning(
                "shared_address",
                f"{what} held by two ENIs at once {where}, e.g. {example}: flows naming them are"
                " attributed to the ENI with the lowest id, which may be the wrong one",
            )
        )
    return out


def _undescribed_groups(inventory: Inventory) -> list[InventoryWarning]:
    carriers: dict[str, list[str]] = defaultdict(list)
    for eni in inventory.interfaces.values():
        for group_id in eni.security_group_ids:
            if group_id not in inventory.security_groups:
                carriers[group_id].append(eni.id)
    if not carriers:
        return []
    lacking = _lacking(inventory.snapshots, snapshot_files.SECURITY_GROUPS.file)
    why = (
        f" ({lacking[0]} is missing)"
        if lacking
        else f" (not in {snapshot_files.SECURITY_GROUPS.file}: a filtered or partial copy?)"
    )
    groups = sorted(carriers)
    enis = sorted({eni for members in carriers.values() for eni in members})
    verb, its, their = ("is", "its", "it") if len(groups) == 1 else ("are", "their", "them")
    return [
        InventoryWarning(
            "undescribed_group",
            f"{_some(groups, 'group')}, carried by {_some(enis, 'ENI')}, {verb} described by"
            f" no snapshot{why}: the plan leaves {its} rules as they are, and rules that"
            f" reference {their} cannot be judged",
        )
    ]


def check_flow_origins(
    inventory: Inventory, origins: Iterable[FlowOrigin]
) -> tuple[InventoryWarning, ...]:
    """Flow records of accounts or VPCs no snapshot holds (see the module docstring)."""
    accounts = {a for snap in _leaves(inventory.snapshots) for a in snap.account_ids}
    accounts |= {eni.account_id for eni in inventory.interfaces.values()}
    accounts |= {sg.owner_id for sg in inventory.security_groups.values()}
    accounts |= {vpc.owner_id for vpc in inventory.vpcs.values()}
    vpcs = set(inventory.vpcs) | {eni.vpc_id for eni in inventory.interfaces.values()}
    vpcs |= {subnet.vpc_id for subnet in inventory.subnets.values()}
    foreign_accounts: dict[str, _Tally] = defaultdict(_Tally)
    foreign_vpcs: dict[str, _Tally] = defaultdict(_Tally)
    for origin in origins:
        account = origin.account_id
        if account is not None and account not in _NO_ACCOUNT and account not in accounts:
            foreign_accounts[account].add(origin)
        elif origin.vpc_id is not None and origin.vpc_id not in vpcs:
            foreign_vpcs[origin.vpc_id].add(origin)
    out = [
        InventoryWarning(
            "foreign_account",
            f"flow logs of account {account} ({tally.text()}) but no snapshot holds that"
            " account: its interfaces are unknown, so that traffic resolves to no group and"
            " changes no rule; collect its inventory too (--profile or --assume-role)",
        )
        for account, tally in sorted(foreign_accounts.items())
    ]
    out += [
        InventoryWarning(
            "foreign_vpc",
            f"flow logs of {vpc} ({tally.text()}) but no snapshot holds that VPC: its"
            " interfaces are unknown, so that traffic resolves to no group and changes no rule;"
            " collect the inventory of its region too (--region)",
        )
        for vpc, tally in sorted(foreign_vpcs.items())
    ]
    return tuple(out)


@dataclass
class _Tally:
    records: int = 0
    interfaces: set[str] | None = None

    def add(self, origin: FlowOrigin) -> None:
        self.records += origin.records
        if origin.interface_id is not None:
            self.interfaces = (self.interfaces or set()) | {origin.interface_id}

    def text(self) -> str:
        enis = sorted(self.interfaces or ())
        return f"{_plural(self.records, 'record')} from {_some(enis, 'interface')}"


# --------------------------------------------------------------------------- wording


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count:,} {noun}es" if noun.endswith("ss") else f"{count:,} {noun}s"


def _some(ids: Sequence[str], noun: str) -> str:
    """``3 ENIs (eni-a, eni-b, eni-c)`` or ``5 ENIs (eni-a, eni-b, eni-c and 2 more)``."""
    shown = ", ".join(ids[:_SHOWN])
    more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    if len(ids) == 1:
        return f"{noun} {ids[0]}" if noun != "ENI" else ids[0]
    return f"{_plural(len(ids), noun)} ({shown}{more})"


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "FlowOrigin",
    "InventoryWarning",
    "WarningKind",
    "check_flow_origins",
    "check_inventory",
    "require_plannable",
]
