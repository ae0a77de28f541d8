"""The scope of a run (``[scope]`` in ``ztflows.toml``): which security groups it judges.

A group is in scope when it matches every field the scope sets: its owner among the
accounts, its VPC's Region among the regions, its VPC among the VPCs, and its id or name
among the groups (ids, or ``fnmatch`` patterns over names). Groups outside keep their rules
untouched and are left out of the plan and the findings; the inventory stays whole, so a
rule in scope that names a group outside it is still understood, and traffic to and from
groups outside the scope still counts as evidence for the groups inside it.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase

from zt_flows.findings import Finding
from zt_flows.inventory.model import Inventory, SecurityGroup
from zt_flows.settings import ScopeSettings


def select_groups(inventory: Inventory, scope: ScopeSettings) -> frozenset[str] | None:
    """The ids of the groups in scope, or None when the scope selects everything."""
    if scope.everything:
        return None
    return frozenset(
        g.id for g in inventory.security_groups.values() if _selected(g, inventory, scope)
    )


def _selected(group: SecurityGroup, inventory: Inventory, scope: ScopeSettings) -> bool:
    if scope.accounts and group.owner_id not in scope.accounts:
        return False
    if scope.vpc_ids and group.vpc_id not in scope.vpc_ids:
        return False
    if scope.regions:
        vpc = inventory.vpcs.get(group.vpc_id or "")
        if vpc is None or vpc.region not in scope.regions:
            return False
    if scope.group_ids or scope.group_names:
        return group.id in scope.group_ids or any(
            fnmatchcase(group.name, pattern) for pattern in scope.group_names
        )
    return True


def findings_in_scope(
    findings: Iterable[Finding], inventory: Inventory, scope: ScopeSettings
) -> tuple[Finding, ...]:
    """The findings about what is in scope: a finding with a group is kept when its group
    is in scope; one about an interface when one of the interface's groups is; one about a
    VPC when the VPC is; any other (the inventory, an address range) is kept."""
    groups = select_groups(inventory, scope)
    if groups is None:
        return tuple(findings)
    out = []
    for finding in findings:
        if finding.group_id is not None:
            keep = finding.group_id in groups
        elif (interface := inventory.interfaces.get(finding.subject)) is not None:
            keep = any(g in groups for g in interface.security_group_ids)
        elif finding.subject in inventory.security_groups:
            keep = finding.subject in groups
        elif (vpc := inventory.vpcs.get(finding.subject)) is not None:
            keep = (
                (not scope.vpc_ids or vpc.id in scope.vpc_ids)
                and (not scope.accounts or vpc.owner_id in scope.accounts)
                and (not scope.regions or vpc.region in scope.regions)
            )
        else:
            keep = True
        if keep:
            out.append(finding)
    return tuple(out)


__all__ = ["findings_in_scope", "select_groups"]
