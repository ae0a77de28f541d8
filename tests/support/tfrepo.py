"""Small repositories and Terraform states for the repository editor's tests.

A state is written in the format ``terraform state pull`` prints (version 4), with the
attributes the AWS provider 5.x records for each resource type.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zt_flows.rules import RulePeer
from zt_flows.tfrepo import GroupChange, RuleChange, plan_repository
from zt_flows.tfrepo.repository import RepositoryPlan
from zt_flows.tfrepo.state import TerraformCli

PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'
VPC = "vpc-0aaaaaaaaaaaaaaa1"
OWNER = "123456789012"


def ids(n: int) -> str:
    return f"sg-{n:017x}"


def inline(
    protocol: str,
    low: int,
    high: int,
    *,
    cidrs: Sequence[str] = (),
    groups: Sequence[str] = (),
    self_: bool = False,
    description: str = "",
) -> dict[str, Any]:
    return {
        "cidr_blocks": [c for c in cidrs if ":" not in c],
        "ipv6_cidr_blocks": [c for c in cidrs if ":" in c],
        "prefix_list_ids": [],
        "security_groups": list(groups),
        "self": self_,
        "description": description,
        "from_port": low,
        "to_port": high,
        "protocol": protocol,
    }


@dataclass
class StateBuilder:
    resources: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        rtype: str,
        name: str,
        attributes: Mapping[str, Any] | Sequence[tuple[int | str, Mapping[str, Any]]],
        *,
        module: str = "",
        mode: str = "managed",
    ) -> StateBuilder:
        if isinstance(attributes, Mapping):
            instances = [{"schema_version": 0, "attributes": dict(attributes)}]
        else:
            instances = [
                {"index_key": k, "schema_version": 0, "attributes": dict(a)} for k, a in attributes
            ]
        entry: dict[str, Any] = {
            "mode": mode,
            "type": rtype,
            "name": name,
            "provider": PROVIDER,
            "instances": instances,
        }
        if module:
            entry["module"] = module
        self.resources.append(entry)
        return self

    def group(
        self,
        name: str,
        group_id: str,
        *,
        ingress: Sequence[dict[str, Any]] = (),
        egress: Sequence[dict[str, Any]] = (),
        module: str = "",
        rtype: str = "aws_security_group",
    ) -> StateBuilder:
        return self.add(
            rtype,
            name,
            {
                "id": group_id,
                "name": name,
                "vpc_id": VPC,
                "owner_id": OWNER,
                "ingress": list(ingress),
                "egress": list(egress),
            },
            module=module,
        )

    def sg_rule(
        self,
        name: str,
        group_id: str,
        direction: str,
        protocol: str,
        low: int,
        high: int,
        *,
        cidrs: Sequence[str] = (),
        source: str | None = None,
        rule_id: str | None = None,
        index: int | str | None = None,
        module: str = "",
    ) -> StateBuilder:
        attributes = {
            "id": f"sgrule-{abs(hash((name, index))) % 10**9}",
            "security_group_id": group_id,
            "type": direction,
            "protocol": protocol,
            "from_port": low,
            "to_port": high,
            "cidr_blocks": list(cidrs),
            "ipv6_cidr_blocks": [],
            "prefix_list_ids": [],
            "source_security_group_id": source,
            "self": False,
            "description": "",
            "security_group_rule_id": rule_id or "",
        }
        return self._instance(SG_RULE_TYPE, name, index, attributes, module)

    def vpc_rule(
        self,
        name: str,
        group_id: str,
        direction: str,
        protocol: str,
        low: int | None,
        high: int | None,
        *,
        cidr: str | None = None,
        group: str | None = None,
        rule_id: str,
        index: int | str | None = None,
        module: str = "",
    ) -> StateBuilder:
        attributes = {
            "id": rule_id,
            "security_group_rule_id": rule_id,
            "security_group_id": group_id,
            "ip_protocol": protocol,
            "from_port": low,
            "to_port": high,
            "cidr_ipv4": cidr,
            "cidr_ipv6": None,
            "prefix_list_id": None,
            "referenced_security_group_id": group,
            "description": "",
        }
        rtype = f"aws_vpc_security_group_{direction}_rule"
        return self._instance(rtype, name, index, attributes, module)

    def _instance(
        self,
        rtype: str,
        name: str,
        index: int | str | None,
        attributes: dict[str, Any],
        module: str,
    ) -> StateBuilder:
        for res in self.resources:
            if (res["type"], res["name"], res.get("module", "")) == (rtype, name, module):
                res["instances"].append(
                    {"index_key": index, "schema_version": 0, "attributes": attributes}
                )
                return self
        if index is None:
            return self.add(rtype, name, attributes, module=module)
        return self.add(rtype, name, [(index, attributes)], module=module)

    def document(self) -> dict[str, Any]:
        return {
            "version": 4,
            "terraform_version": "1.11.4",
            "serial": 3,
            "lineage": "00000000-0000-0000-0000-000000000000",
            "outputs": {},
            "resources": self.resources,
            "check_results": None,
        }

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.document(), indent=1))
        return path


SG_RULE_TYPE = "aws_security_group_rule"


def rule(
    direction: str,
    action: str,
    protocol: str,
    low: int | None,
    high: int | None,
    peer: str,
    *,
    rule_id: str | None = None,
    description: str = "",
    name: str | None = None,
) -> RuleChange:
    if peer.startswith("sg-"):
        kind = "security_group"
    elif peer.startswith("pl-"):
        kind = "prefix_list"
    else:
        kind = "cidr"
    return RuleChange(
        direction=direction,  # type: ignore[arg-type]
        action=action,  # type: ignore[arg-type]
        protocol=protocol,
        from_port=low,
        to_port=high,
        peer=RulePeer(kind, peer, name=name),  # type: ignore[arg-type]
        existing_rule_id=rule_id,
        description=description or f"{direction} {protocol} {low} {peer}",
    )


def change(name: str, group_id: str, *rules: RuleChange) -> GroupChange:
    return GroupChange(group_id, name, VPC, OWNER, rules)


def write_repo(root: Path, files: Mapping[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def edit(
    repo: Path,
    groups: Sequence[GroupChange],
    states: Mapping[str, StateBuilder],
) -> RepositoryPlan:
    """plan_repository with each root's state from a file, and no Terraform (no fmt)."""
    files = {
        root: builder.write(repo.parent / f"{root.replace('/', '_') or 'top'}.tfstate")
        for root, builder in states.items()
    }
    return plan_repository(
        repo, groups, state_files=files, terraform=TerraformCli("no-such-terraform-binary")
    )
