"""Where each security group's rules are written, matched rule by rule to the state.

For every group of the plan, the states of the repository's roots say which Terraform
manages it: the ``aws_security_group`` resource (by id), and the rule resources whose
``security_group_id`` is the group's. The configuration then says how: inline
``ingress``/``egress`` blocks, ``aws_security_group_rule`` resources,
``aws_vpc_security_group_*_rule`` resources, or the community module's inputs. Every
block (a :class:`Site`) is matched to the AWS rules it stands for (its
:class:`~zt_flows.tfrepo.model.RuleKey` s), from the state where it records them, from
the configuration's own values otherwise.

A group is only edited when that is exact: one root, one style, a module used once.
Anything else becomes a reason (``GroupHome.problems``) and the group is left to a
person, with the reason in the pull request.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from zt_flows.rules import PeerKind
from zt_flows.tfrepo.config import Declaration, ModuleDir, TfFile, attribute_value
from zt_flows.tfrepo.discover import ModuleNode, Root
from zt_flows.tfrepo.model import (
    RuleKey,
    Style,
    canonical_ports,
    canonical_protocol,
)
from zt_flows.tfrepo.scan import Attribute, Block, Element, collection
from zt_flows.tfrepo.state import (
    DEFAULT_GROUP,
    GROUP_TYPES,
    SG_RULE,
    VPC_RULES,
    RootState,
    StateGroup,
    StateRule,
)
from zt_flows.tfrepo.values import Reference, Value
from zt_flows.vocabulary import Direction

SiteKind = Literal["inline", "resource", "module_input"]
PEER_LISTS = ("cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids", "security_groups")
RULE_RESOURCE_TYPES = (SG_RULE, *VPC_RULES)


@dataclass(frozen=True)
class PeerSpot:
    """Where one peer of a multi-peer block is written: an element of a list, or ``self``."""

    attribute: Attribute
    element: Element | None  # None: the attribute itself (``self = true``)
    siblings: int  # how many elements the list holds


@dataclass
class Site:
    """One place in the configuration that stands for one or more AWS rules of a group."""

    kind: SiteKind
    keys: tuple[RuleKey, ...]
    file: TfFile
    block: Block  # the inline block, the resource block, or the module call
    address: str
    module_path: str  # the module (config) the block is in: "" or module.a
    in_state: bool = True
    instance: int | str | None = None  # count/for_each key of a resource
    spots: dict[RuleKey, PeerSpot] = field(default_factory=dict)
    imports: tuple[Declaration, ...] = ()  # import blocks that adopt this resource
    input_name: str | None = None  # module inputs: the input holding the element
    element: Element | None = None  # module inputs / for_each maps: the element
    description: str | None = None

    @property
    def where(self) -> str:
        return self.file.where(self.block.start)

    @property
    def resource_type(self) -> str | None:
        return self.block.labels[0] if self.kind == "resource" else None


@dataclass
class GroupHome:
    """Where one group's rules live, and whether ztflows may edit them."""

    group_id: str
    root: Root
    state: RootState
    style: Style | None
    node: ModuleNode  # the module the rules are written in
    instance: str  # that module's instance address in the state ("" for the root)
    group_state: StateGroup | None
    group_decl: Declaration | None
    sites: list[Site] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    inline_directions: set[Direction] = field(default_factory=set)

    @property
    def config(self) -> ModuleDir:
        assert self.node.config is not None
        return self.node.config

    @property
    def address(self) -> str | None:
        return self.group_state.address if self.group_state is not None else None


# --------------------------------------------------------------------------- resolving


def _strip_keys(module: str) -> str:
    """``module.a["x"].module.b[0]`` -> ``module.a.module.b``."""
    out, depth = [], 0
    for ch in module:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _index_suffix(index: int | str | None) -> str:
    if index is None:
        return ""
    return f"[{index}]" if isinstance(index, int) else f'["{index}"]'


class Resolver:
    """Turns references in one module instance into ids, through the root's state."""

    def __init__(self, state: RootState, root: Root, node: ModuleNode, instance: str) -> None:
        self.state = state
        self.root = root
        self.node = node
        self.instance = instance

    def _prefix(self) -> str:
        return f"{self.instance}." if self.instance else ""

    def group_id(self, value: Value, depth: int = 0) -> str | None:
        """The id a value stands for, if it is a literal or resolvable reference."""
        if isinstance(value, str):
            return value
        if not isinstance(value, Reference) or depth > 5:
            return None
        parts = value.parts
        if len(parts) >= 4 and parts[0] == "data" and parts[-1] == "id":
            index = parts[3] if len(parts) == 5 else None
            address = f"{self._prefix()}data.{parts[1]}.{parts[2]}{_index_suffix(index)}"
            return self.state.group_lookups.get(address)
        if len(parts) >= 3 and parts[0] not in ("module", "local", "var", "data"):
            rtype, name = parts[0], parts[1]
            rest = parts[2:]
            index = rest[0] if rest and not (isinstance(rest[0], str) and rest[0] == "id") else None
            if rest[-1] != "id":
                return None
            return self.state.ids.get(f"{self._prefix()}{rtype}.{name}{_index_suffix(index)}")
        if len(parts) == 3 and parts[0] == "module":
            return self._module_output(str(parts[1]), str(parts[2]))
        if len(parts) == 2 and parts[0] == "local" and self.node.config is not None:
            local = self.node.config.local_value(str(parts[1]))
            return None if local is None else self.group_id(local, depth + 1)
        return None

    def _module_output(self, call: str, output: str) -> str | None:
        child = self.node.children.get(call)
        if child is None:
            return None
        instance = f"{self._prefix()}module.{call}"
        if child.community and output in ("security_group_id", "this_security_group_id"):
            for name in ("this", "this_name_prefix"):
                found = self.state.ids.get(f"{instance}.aws_security_group.{name}[0]")
                if found:
                    return found
            return None
        if child.config is None or output not in child.config.outputs:
            return None
        value = child.config.outputs[output].value("value")
        return Resolver(self.state, self.root, child, instance).group_id(value)

    def peers(self, value: Value, kind: PeerKind) -> list[str | None] | None:
        """Each element of a peer list as an id or CIDR (None where unknown)."""
        if value is None:
            return []
        if isinstance(value, tuple):
            return [
                v if isinstance(v, str) else self.group_id(v) if kind == "security_group" else None
                for v in value
            ]
        if isinstance(value, Reference) and value.parts[:1] == ("local",):
            local = self.node.config.local_value(str(value.parts[1])) if self.node.config else None
            return None if local is None else self.peers(local, kind)
        return None


def _literal_int(value: Value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return None


def _literal_str(value: Value) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        return str(value)
    return None


# --------------------------------------------------------------------------- inline


def _inline_site(
    decl: Declaration,
    block: Block,
    home: GroupHome,
    resolver: Resolver,
    state_inline: Sequence[tuple[Direction, tuple[RuleKey, ...], str]],
) -> Site:
    direction: Direction = "ingress" if block.type == "ingress" else "egress"
    file = decl.file
    values = {a.name: attribute_value(file, a) for a in block.items if isinstance(a, Attribute)}
    protocol = _literal_str(values.get("protocol"))
    low, high = _literal_int(values.get("from_port")), _literal_int(values.get("to_port"))
    description = _literal_str(values.get("description"))
    keys: list[RuleKey] = []
    spots: dict[RuleKey, PeerSpot] = {}
    known = protocol is not None and low is not None and high is not None
    for attribute in PEER_LISTS:
        attr = block.attribute(attribute)
        if attr is None:
            continue
        kind: PeerKind = {
            "cidr_blocks": "cidr",
            "ipv6_cidr_blocks": "cidr",
            "prefix_list_ids": "prefix_list",
            "security_groups": "security_group",
        }[attribute]  # type: ignore[assignment]
        items = resolver.peers(values[attribute], kind)
        listing = collection(file.text, attr.expr_start, attr.expr_end)
        if items is None or listing is None or len(listing.elements) != len(items):
            known = False
            continue
        for item, element in zip(items, listing.elements, strict=True):
            if item is None:
                known = False
                continue
            if known and protocol is not None:
                key = RuleKey.of(direction, protocol, low, high, kind, item)
                keys.append(key)
                spots[key] = PeerSpot(attr, element, len(listing.elements))
    self_value = values.get("self")
    if self_value is True and protocol is not None:
        key = RuleKey.of(direction, protocol, low, high, "security_group", home.group_id)
        keys.append(key)
        self_attr = block.attribute("self")
        assert self_attr is not None
        spots[key] = PeerSpot(self_attr, None, 1)
    elif self_value not in (None, False):
        known = False
    site = Site(
        kind="inline",
        keys=tuple(keys),
        file=file,
        block=block,
        address=home.address or decl.block.labels[1],
        module_path=home.node.path,
        spots=spots,
        description=description,
    )
    if known:
        return site
    # Parts of the block are expressions ztflows does not evaluate (a variable, a data
    # source): the state's element with the same protocol, ports and description is it,
    # if there is exactly one.
    proto = canonical_protocol(protocol) if protocol is not None else None
    ports = (
        canonical_ports(proto, low, high)
        if proto is not None and low is not None and high is not None
        else None
    )
    candidates = [
        keys_
        for d, keys_, desc in state_inline
        if d == direction
        and keys_
        and (proto is None or keys_[0].protocol == proto)
        and (ports is None or (keys_[0].from_port, keys_[0].to_port) == ports)
        and (description is None or desc == description)
        and set(site.keys) <= set(keys_)
    ]
    if len(candidates) == 1:
        site.keys = candidates[0]
        site.spots = {k: v for k, v in spots.items() if k in candidates[0]}
        return site
    home.problems.append(
        f"the {block.type} block at {file.where(block.start)} uses expressions ztflows"
        " cannot match to the group's rules"
    )
    return site


# --------------------------------------------------------------------------- locating


def _node_for(root: Root, module: str) -> ModuleNode | None:
    return root.tree.find(_strip_keys(module))


def _decl(node: ModuleNode | None, resource: str) -> Declaration | None:
    if node is None or node.config is None:
        return None
    return node.config.resources.get(resource)


def _imports_for(config: ModuleDir, address: str) -> tuple[Declaration, ...]:
    out = []
    for decl in config.imports:
        to = decl.value("to")
        if isinstance(to, Reference) and to.text == address:
            out.append(decl)
    return tuple(out)


@dataclass
class _Found:
    root: Root
    state: RootState
    groups: list[StateGroup] = field(default_factory=list)
    rules: list[StateRule] = field(default_factory=list)


def _style_of_rules(rules: Iterable[StateRule]) -> set[str]:
    return {"security_group_rule" if r.type == SG_RULE else "vpc_rule" for r in rules}


def _neighbour_style(config: ModuleDir) -> Style:
    """The style the module already uses for other groups; the provider's advice otherwise."""
    counts: dict[Style, int] = defaultdict(int)
    for _, decl in config.resources_of(*GROUP_TYPES):
        if decl.block.blocks("ingress") or decl.block.blocks("egress"):
            counts["inline"] += 1
    counts["security_group_rule"] += sum(1 for _ in config.resources_of(SG_RULE))
    counts["vpc_rule"] += sum(1 for _ in config.resources_of(*VPC_RULES))
    counts = defaultdict(int, {k: v for k, v in counts.items() if v})
    if not counts:
        return "vpc_rule"
    return max(sorted(counts), key=lambda s: counts[s])


def locate_groups(
    roots: Sequence[tuple[Root, RootState]], group_ids: Iterable[str]
) -> dict[str, GroupHome | list[str]]:
    """group id -> its home, or the reasons it has none that ztflows may edit.

    Groups no root manages are absent from the result.
    """
    found: dict[str, list[_Found]] = defaultdict(list)
    for root, state in roots:
        per_group: dict[str, _Found] = {}
        for group in state.groups:
            per_group.setdefault(group.group_id, _Found(root, state)).groups.append(group)
        for rule in state.rules:
            per_group.setdefault(rule.group_id, _Found(root, state)).rules.append(rule)
        for gid, item in per_group.items():
            found[gid].append(item)
    out: dict[str, GroupHome | list[str]] = {}
    for gid in sorted(set(group_ids)):
        items = found.get(gid)
        if not items:
            continue
        out[gid] = _home(gid, items)
    return out


def _rule_owners(item: _Found) -> dict[str, list[StateRule]]:
    owners: dict[str, list[StateRule]] = defaultdict(list)
    for rule in item.rules:
        owners[_strip_keys(rule.module)].append(rule)
    return owners


def _home(gid: str, items: list[_Found]) -> GroupHome | list[str]:
    inline_roots = []
    for item in items:
        for group in item.groups:
            decl = _decl(_node_for(item.root, group.module), group.resource)
            if decl is not None and (
                group.resource.startswith(DEFAULT_GROUP + ".")
                or decl.block.blocks("ingress")
                or decl.block.blocks("egress")
                or decl.has("ingress")
                or decl.has("egress")
            ):
                inline_roots.append(item.root.root.rel)
    rule_roots = [item.root.root.rel for item in items if item.rules]
    managing = sorted(set(inline_roots) | set(rule_roots))
    if len(managing) > 1:
        return [
            f"its rules are managed in {len(managing)} roots ({', '.join(managing)}): one"
            " security group must be managed in one state"
        ]
    if managing:
        (item,) = [i for i in items if i.root.root.rel == managing[0]]
    else:
        item = items[0]
        if len(items) > 1 or len(item.groups) > 1:
            return ["the group resource is declared more than once"]
    return _home_in(gid, item, inline=bool(inline_roots))


def _home_in(gid: str, item: _Found, *, inline: bool) -> GroupHome | list[str]:
    root, state = item.root, item.state
    group_state = item.groups[0] if item.groups else None
    group_node = _node_for(root, group_state.module) if group_state else None
    group_decl = _decl(group_node, group_state.resource) if group_state else None
    owners = _rule_owners(item)
    styles = _style_of_rules(item.rules)
    problems: list[str] = []
    if group_node is not None and group_node.community:
        node = group_node
        style: Style = "community_module"
        instance = group_state.module if group_state else ""
        outside = [p for p in owners if p != node.path]
        if outside:
            problems.append(
                "rules of this module's group are also managed outside the module"
                f" ({', '.join(sorted(outside))})"
            )
    elif inline:
        assert group_state is not None
        assert group_node is not None
        node, style, instance = group_node, "inline", group_state.module
        if item.rules:
            problems.append(
                "it has inline rules and separate rule resources: one security group must be"
                " managed in one style"
            )
        if group_decl is not None and any(
            group_decl.has(d) and group_decl.value(d) != () for d in ("ingress", "egress")
        ):
            problems.append("its inline rules are written as attributes, not blocks")
    elif item.rules:
        if len(owners) > 1:
            return [f"its rules are split over modules {', '.join(sorted(owners))}"]
        if len(styles) > 1:
            problems.append(
                "it has both aws_security_group_rule and aws_vpc_security_group_*_rule"
                " resources: one security group must be managed in one style"
            )
        module = item.rules[0].module
        found_node = _node_for(root, module)
        if found_node is None:
            return [f"its rules are in {module}, which is not in the repository"]
        node, instance = found_node, module
        if node.community:
            style = "community_module"
        else:
            style = "security_group_rule" if "security_group_rule" in styles else "vpc_rule"
    else:
        assert group_state is not None
        if group_node is None or group_node.config is None:
            return [f"it is declared in {group_state.module}, which is not in the repository"]
        node, instance = group_node, group_state.module
        style = _neighbour_style(group_node.config)
    if node.config is None:
        return [f"its rules are in {node.path or 'the root'}, which is not in the repository"]
    if node.path and not node.community:
        times = root.calls.get(node.config.path.resolve(), 0)
        if times != 1:
            problems.append(
                f"it is in the module {node.config.rel}, used {times} times (or with"
                " count/for_each): editing it would change every instance"
            )
    home = GroupHome(
        group_id=gid,
        root=root,
        state=state,
        style=style,
        node=node,
        instance=instance,
        group_state=group_state,
        group_decl=group_decl,
        problems=problems,
    )
    if style == "inline":
        _inline_sites(home)
    elif style in ("security_group_rule", "vpc_rule"):
        _resource_sites(home, item.rules)
    return home


def _inline_sites(home: GroupHome) -> None:
    decl = home.group_decl
    assert decl is not None
    assert home.group_state is not None
    resolver = Resolver(home.state, home.root, home.node, home.instance)
    state_inline = [(r.direction, r.keys, r.description) for r in home.group_state.inline]
    for direction in ("ingress", "egress"):
        # `egress = []` declares a direction empty; the default group's rules are always
        # exactly its blocks ("all rules are removed" when there are none:
        # https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/default_security_group).
        if decl.has(direction) or decl.block.labels[0] == DEFAULT_GROUP:
            home.inline_directions.add(direction)
    for block in decl.block.blocks():
        if block.type not in ("ingress", "egress"):
            continue
        home.inline_directions.add("ingress" if block.type == "ingress" else "egress")
        home.sites.append(_inline_site(decl, block, home, resolver, state_inline))
    for item in decl.block.items:
        if (
            isinstance(item, Block)
            and item.type == "dynamic"
            and item.labels[:1]
            in (
                ("ingress",),
                ("egress",),
            )
        ):
            home.problems.append(
                f"its {item.labels[0]} rules come from a dynamic block at"
                f" {decl.file.where(item.start)}"
            )


def _resource_sites(home: GroupHome, rules: Sequence[StateRule]) -> None:
    config = home.config
    for rule in sorted(rules, key=lambda r: r.address):
        decl = config.resources.get(rule.resource)
        if decl is None:
            home.problems.append(f"{rule.address} is in the state but not in the configuration")
            continue
        element = None
        if rule.index is not None:
            element = _for_each_element(config, decl, rule.index)
        home.sites.append(
            Site(
                kind="resource",
                keys=rule.keys,
                file=decl.file,
                block=decl.block,
                address=rule.address,
                module_path=home.node.path,
                instance=rule.index,
                imports=_imports_for(config, rule.address.removeprefix(f"{home.instance}.")),
                element=element,
                description=rule.description,
            )
        )
    _config_only_sites(home)


def _for_each_element(config: ModuleDir, decl: Declaration, index: int | str) -> Element | None:
    """The entry of a literal ``for_each`` map (in the block or a local) behind ``index``."""
    if not isinstance(index, str):
        return None
    attr = decl.block.attribute("for_each")
    if attr is None:
        return None
    file, start, end = decl.file, attr.expr_start, attr.expr_end
    value = attribute_value(decl.file, attr)
    if isinstance(value, Reference) and len(value.parts) == 2 and value.parts[0] == "local":
        found = config.locals.get(str(value.parts[1]))
        if found is None:
            return None
        file, local = found
        start, end = local.expr_start, local.expr_end
        if file is not decl.file:
            return None  # the map is in another file: left to a person
    listing = collection(file.text, start, end)
    if listing is None or listing.kind != "object":
        return None
    return next((e for e in listing.elements if e.key == index), None)


def _config_only_sites(home: GroupHome) -> None:
    """Rule resources in the configuration that the state does not hold yet."""
    config = home.config
    in_state = {s.block.start for s in home.sites}
    resolver = Resolver(home.state, home.root, home.node, home.instance)
    for _, decl in config.resources_of(*RULE_RESOURCE_TYPES):
        if decl.block.start in in_state or decl.has("count") or decl.has("for_each"):
            continue
        if resolver.group_id(decl.value("security_group_id")) != home.group_id:
            continue
        keys = resource_keys_from_config(decl, resolver, home.group_id)
        if keys is None:
            continue
        home.sites.append(
            Site(
                kind="resource",
                keys=keys,
                file=decl.file,
                block=decl.block,
                address=f"{decl.block.labels[0]}.{decl.block.labels[1]}",
                module_path=home.node.path,
                in_state=False,
                imports=_imports_for(config, f"{decl.block.labels[0]}.{decl.block.labels[1]}"),
                description=_literal_str(decl.value("description")),
            )
        )


def resource_keys_from_config(
    decl: Declaration, resolver: Resolver, group_id: str
) -> tuple[RuleKey, ...] | None:
    rtype = decl.block.labels[0]
    if rtype in VPC_RULES:
        direction: Direction = "ingress" if rtype == VPC_RULES[0] else "egress"
        protocol = _literal_str(decl.value("ip_protocol"))
        low, high = _literal_int(decl.value("from_port")), _literal_int(decl.value("to_port"))
        if protocol is None:
            return None
        for attribute, kind in (
            ("cidr_ipv4", "cidr"),
            ("cidr_ipv6", "cidr"),
            ("prefix_list_id", "prefix_list"),
            ("referenced_security_group_id", "security_group"),
        ):
            if decl.has(attribute):
                value = decl.value(attribute)
                peer = value if isinstance(value, str) else resolver.group_id(value)
                if peer is None:
                    return None
                return (RuleKey.of(direction, protocol, low, high, kind, peer),)  # type: ignore[arg-type]
        return None
    direction = "egress" if decl.value("type") == "egress" else "ingress"
    protocol = _literal_str(decl.value("protocol"))
    low, high = _literal_int(decl.value("from_port")), _literal_int(decl.value("to_port"))
    if protocol is None:
        return None
    keys: list[RuleKey] = []
    for attribute, kind in (
        ("cidr_blocks", "cidr"),
        ("ipv6_cidr_blocks", "cidr"),
        ("prefix_list_ids", "prefix_list"),
    ):
        items = resolver.peers(decl.value(attribute), kind)  # type: ignore[arg-type]
        if items is None or None in items:
            return None
        keys += [RuleKey.of(direction, protocol, low, high, kind, str(i)) for i in items]  # type: ignore[arg-type]
    if decl.has("source_security_group_id"):
        peer = resolver.group_id(decl.value("source_security_group_id"))
        if peer is None:
            return None
        keys.append(RuleKey.of(direction, protocol, low, high, "security_group", peer))
    if decl.value("self") is True:
        keys.append(RuleKey.of(direction, protocol, low, high, "security_group", group_id))
    return tuple(keys)
