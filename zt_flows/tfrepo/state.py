"""A root's Terraform state, reduced to its security groups and rules.

Two sources, one result: ``terraform show -json`` run in the root (the backend as the
team configured it; the root must be initialised) or a file given with ``--state`` — the
output of ``terraform state pull`` (the raw state, format version 4) or of
``terraform show -json``. Only managed ``aws_security_group``,
``aws_security_group_rule`` and ``aws_vpc_security_group_ingress_rule`` /
``_egress_rule`` instances are kept, as typed values; every rule is expanded into the
AWS rules it stands for (:class:`~zt_flows.tfrepo.model.RuleKey`), one per peer, as
AWS stores them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from zt_flows.errors import (
    Location,
    TerraformCommandError,
    TerraformStateError,
    excerpt,
)
from zt_flows.rules import PeerKind
from zt_flows.tfrepo.model import RuleKey
from zt_flows.vocabulary import Direction

GROUP = "aws_security_group"
# The default group of a VPC, adopted: the same inline rules, always authoritative.
DEFAULT_GROUP = "aws_default_security_group"
GROUP_TYPES = (GROUP, DEFAULT_GROUP)
SG_RULE = "aws_security_group_rule"
VPC_RULES = ("aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule")
RULE_TYPES = (SG_RULE, *VPC_RULES)
TIMEOUT = 600.0


@dataclass(frozen=True)
class InlineRule:
    """One ``ingress``/``egress`` element of a group, as the provider stores it."""

    direction: Direction
    keys: tuple[RuleKey, ...]
    description: str


@dataclass(frozen=True)
class StateGroup:
    address: str  # module.x.aws_security_group.y[0]
    module: str  # "" or module.x (instance keys included)
    resource: str  # aws_security_group.y (no index)
    index: int | str | None
    group_id: str
    name: str
    vpc_id: str | None
    inline: tuple[InlineRule, ...]


@dataclass(frozen=True)
class StateRule:
    """An ``aws_security_group_rule`` or ``aws_vpc_security_group_*_rule`` instance."""

    address: str
    module: str
    resource: str  # type.name
    index: int | str | None
    type: str
    group_id: str
    keys: tuple[RuleKey, ...]
    rule_id: str | None  # sgr-… where the provider records it
    description: str


@dataclass(frozen=True)
class RootState:
    source: str  # how it was read, for messages
    groups: tuple[StateGroup, ...]
    rules: tuple[StateRule, ...]
    ids: Mapping[str, str]  # every managed instance address -> its id (references)
    # Data sources that look a group up (``data.aws_security_group.api``): address -> id.
    group_lookups: Mapping[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- expansion


def _peers(values: Mapping[str, Any], group_id: str) -> Iterator[tuple[PeerKind, str]]:
    for cidr in values.get("cidr_blocks") or ():
        yield "cidr", str(cidr)
    for cidr in values.get("ipv6_cidr_blocks") or ():
        yield "cidr", str(cidr)
    for pl in values.get("prefix_list_ids") or ():
        yield "prefix_list", str(pl)
    for sg in values.get("security_groups") or ():
        yield "security_group", str(sg)
    source = values.get("source_security_group_id")
    if source:
        yield "security_group", str(source)
    if values.get("self"):
        yield "security_group", group_id


def _port(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value))


def _keys(direction: Direction, values: Mapping[str, Any], group_id: str) -> tuple[RuleKey, ...]:
    protocol = str(values.get("protocol") or values.get("ip_protocol") or "")
    low, high = _port(values.get("from_port")), _port(values.get("to_port"))
    return tuple(
        RuleKey.of(direction, protocol, low, high, kind, value)
        for kind, value in _peers(values, group_id)
    )


def _vpc_rule_keys(direction: Direction, values: Mapping[str, Any]) -> tuple[RuleKey, ...]:
    protocol = str(values.get("ip_protocol") or "")
    low, high = _port(values.get("from_port")), _port(values.get("to_port"))
    for attribute, kind in (
        ("cidr_ipv4", "cidr"),
        ("cidr_ipv6", "cidr"),
        ("prefix_list_id", "prefix_list"),
        ("referenced_security_group_id", "security_group"),
    ):
        value = values.get(attribute)
        if value:
            peer_type: PeerKind = kind  # type: ignore[assignment]
            return (RuleKey.of(direction, protocol, low, high, peer_type, str(value)),)
    return ()


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True)
class _Instance:
    mode: str
    module: str
    type: str
    name: str
    index: int | str | None
    values: Mapping[str, Any]

    @property
    def resource(self) -> str:
        return f"{self.type}.{self.name}"

    @property
    def address(self) -> str:
        suffix = "" if self.index is None else f"[{json.dumps(self.index)}]"
        prefix = f"{self.module}." if self.module else ""
        data = "data." if self.mode == "data" else ""
        return f"{prefix}{data}{self.type}.{self.name}{suffix}"


def _show_json_instances(doc: Mapping[str, Any]) -> Iterator[_Instance]:
    def walk(module: Mapping[str, Any]) -> Iterator[_Instance]:
        address = str(module.get("address") or "")
        for res in module.get("resources") or ():
            if res.get("mode") not in ("managed", "data"):
                continue
            yield _Instance(
                str(res["mode"]),
                address,
                str(res["type"]),
                str(res["name"]),
                res.get("index"),
                res.get("values") or {},
            )
        for child in module.get("child_modules") or ():
            yield from walk(child)

    values = doc.get("values")
    if isinstance(values, Mapping):
        yield from walk(values.get("root_module") or {})


def _raw_state_instances(doc: Mapping[str, Any]) -> Iterator[_Instance]:
    for res in doc.get("resources") or ():
        if res.get("mode") not in ("managed", "data"):
            continue
        for inst in res.get("instances") or ():
            yield _Instance(
                str(res["mode"]),
                str(res.get("module") or ""),
                str(res["type"]),
                str(res["name"]),
                inst.get("index_key"),
                inst.get("attributes") or {},
            )


def parse_state(doc: object, source: str) -> RootState:
    """A parsed ``terraform show -json`` or ``terraform state pull`` document."""
    if not isinstance(doc, Mapping):
        raise TerraformStateError(f"{source}: expected a JSON object, found {type(doc).__name__}")
    if "values" in doc or ("format_version" in doc and "resources" not in doc):
        instances: Iterable[_Instance] = list(_show_json_instances(doc))
    elif doc.get("version") == 4:
        instances = list(_raw_state_instances(doc))
    else:
        raise TerraformStateError(
            f"{source}: expected the output of `terraform state pull` (state version 4)"
            f" or `terraform show -json`, found {excerpt(sorted(doc)[:4])}"
        )
    try:
        return _reduce(list(instances), source)
    except (KeyError, TypeError, ValueError) as exc:
        raise TerraformStateError(
            f"{source}: a security-group resource lacks an expected attribute ({exc!r})"
        ) from None


def _reduce(instances: list[_Instance], source: str) -> RootState:
    groups: list[StateGroup] = []
    rules: list[StateRule] = []
    ids: dict[str, str] = {}
    lookups: dict[str, str] = {}
    for inst in instances:
        ident = inst.values.get("id")
        if inst.mode == "data":
            if inst.type == GROUP and isinstance(ident, str):
                lookups[inst.address] = ident
            continue
        if isinstance(ident, str):
            ids[inst.address] = ident
        if inst.type in GROUP_TYPES:
            group_id = str(inst.values["id"])
            inline = tuple(
                InlineRule(
                    direction, _keys(direction, item, group_id), item.get("description") or ""
                )
                for direction in ("ingress", "egress")
                for item in inst.values.get(direction) or ()
            )
            groups.append(
                StateGroup(
                    address=inst.address,
                    module=inst.module,
                    resource=inst.resource,
                    index=inst.index,
                    group_id=group_id,
                    name=str(inst.values.get("name") or ""),
                    vpc_id=inst.values.get("vpc_id") or None,
                    inline=inline,
                )
            )
        elif inst.type == SG_RULE:
            group_id = str(inst.values["security_group_id"])
            direction: Direction = "egress" if inst.values.get("type") == "egress" else "ingress"
            rules.append(
                StateRule(
                    address=inst.address,
                    module=inst.module,
                    resource=inst.resource,
                    index=inst.index,
                    type=inst.type,
                    group_id=group_id,
                    keys=_keys(direction, inst.values, group_id),
                    rule_id=inst.values.get("security_group_rule_id") or None,
                    description=inst.values.get("description") or "",
                )
            )
        elif inst.type in VPC_RULES:
            direction = "ingress" if inst.type == VPC_RULES[0] else "egress"
            rules.append(
                StateRule(
                    address=inst.address,
                    module=inst.module,
                    resource=inst.resource,
                    index=inst.index,
                    type=inst.type,
                    group_id=str(inst.values["security_group_id"]),
                    keys=_vpc_rule_keys(direction, inst.values),
                    rule_id=inst.values.get("security_group_rule_id") or inst.values.get("id"),
                    description=inst.values.get("description") or "",
                )
            )
    return RootState(source, tuple(groups), tuple(rules), ids, lookups)


def read_state_file(path: Path) -> RootState:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TerraformStateError(
            f"--state: cannot read {path}: {exc.strerror or exc}",
            hint="pass the file `terraform state pull > FILE` wrote",
        ) from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TerraformStateError(
            f"{Location(str(path), line=exc.lineno, column=str(exc.colno))}: expected JSON"
            f" (the output of terraform state pull), found {exc.msg}"
        ) from None
    return parse_state(doc, str(path))


# --------------------------------------------------------------------------- terraform


class TerraformCli:
    """The ``terraform`` command (``--terraform`` / ``ZTFLOWS_TERRAFORM``; else on PATH)."""

    def __init__(self, binary: str = "terraform") -> None:
        self.binary = binary

    def _resolve(self) -> str:
        found = shutil.which(self.binary)
        if found is None:
            raise TerraformCommandError(
                f"Terraform not found: {self.binary!r} is not an executable on PATH",
                hint="install Terraform, set ZTFLOWS_TERRAFORM or pass --terraform PATH; or"
                " pass --state ROOT=FILE for every root (terraform state pull > FILE)",
            )
        return found

    def run(
        self, args: list[str], cwd: Path, *, stdin: str | None = None, timeout: float = TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
        try:
            return subprocess.run(
                [self._resolve(), *args],
                cwd=cwd,
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise TerraformCommandError(
                f"terraform {args[0]} in {cwd} did not finish within {timeout:.0f} s"
            ) from None
        except OSError as exc:
            raise TerraformCommandError(f"cannot run Terraform: {exc.strerror or exc}") from None

    def show_state(self, root: Path, rel: str) -> RootState:
        done = self.run(["show", "-json", "-no-color"], root)
        if done.returncode != 0:
            reason = _first_error(done.stderr or done.stdout)
            raise TerraformStateError(
                f"cannot read the state of {rel} with terraform show: {reason}",
                hint=f"run terraform init in {rel} (ztflows never initialises a root), or pass"
                f" --state {rel}=FILE with the output of terraform state pull",
            )
        try:
            doc = json.loads(done.stdout)
        except json.JSONDecodeError:
            raise TerraformStateError(
                f"terraform show -json in {rel} printed something other than JSON"
            ) from None
        return parse_state(doc, f"terraform show -json in {rel}")

    def fmt(self, text: str, where: str) -> str:
        """``text`` as ``terraform fmt`` formats it (read from stdin, nothing written)."""
        done = self.run(["fmt", "-no-color", "-"], Path.cwd(), stdin=text, timeout=120)
        if done.returncode != 0:
            raise TerraformCommandError(
                f"terraform fmt refused the edited {where}: {_first_error(done.stderr)}",
                hint="a bug in ztflows: the edit produced invalid HCL; nothing was committed",
            )
        return done.stdout

    def available(self) -> bool:
        return shutil.which(self.binary) is not None


def _first_error(text: str) -> str:
    lines = [ln.strip(" │╷╵\t") for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    for n, line in enumerate(lines):
        if line.startswith("Error:"):
            detail = line.removeprefix("Error:").strip()
            if n + 1 < len(lines) and not lines[n + 1].startswith(("on ", "with ")):
                detail += f" {lines[n + 1]}"
            return detail
    return lines[0] if lines else "no output"


StateSource = Literal["show", "file"]
