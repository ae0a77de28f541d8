"""The edits that bring one group's Terraform to the plan, in its own style, in two phases.

Phase 1 adds: every rule the group keeps or gains that its code lacks, and — so that
phase 1 takes nothing away — every rule it loses that its code lacks too (a rule someone
added by hand: adopted, with an ``import`` block for a rule resource). Phase 2 removes the
rules the plan removes: whole blocks or resources, or one peer of a list. Inline blocks
are authoritative for a direction once one exists, so a direction the code starts to
declare gets every rule AWS has for it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from zt_flows.rules import PeerKind
from zt_flows.terraform.hcl import hcl_string
from zt_flows.terraform.naming import slug
from zt_flows.tfrepo.config import Declaration, ModuleDir, TfFile, attribute_value
from zt_flows.tfrepo.locate import GroupHome, PeerSpot, Site, _index_suffix
from zt_flows.tfrepo.model import (
    GroupChange,
    ManualStep,
    Phase,
    Placement,
    RuleChange,
    RuleKey,
    ports_label,
)
from zt_flows.tfrepo.scan import Block, collection
from zt_flows.tfrepo.state import GROUP_TYPES
from zt_flows.tfrepo.textedit import (
    BOTH,
    PHASE1,
    PHASE2,
    TextEdit,
    element_removal,
    removal_span,
)
from zt_flows.tfrepo.write import (
    import_block,
    indent_of,
    inline_block,
    resource_name,
    rule_resource,
    sg_rule_import_id,
)
from zt_flows.vocabulary import Direction

PROVIDER_INLINE_DOC = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group"
)


def rule_text(rule: RuleChange, group_id: str) -> str:
    """``ingress tcp/5432 from api (sg-…)``, for people."""
    word = "from" if rule.direction == "ingress" else "to"
    peer = rule.peer
    if peer.kind == "security_group":
        who = (
            f"itself ({peer.value})"
            if peer.value == group_id
            else f"{peer.name} ({peer.value})"
            if peer.name
            else peer.value
        )
    elif peer.kind == "prefix_list":
        who = f"prefix list {peer.name} ({peer.value})" if peer.name else peer.value
    else:
        who = peer.value
    return (
        f"{rule.direction} {ports_label(rule.protocol, rule.from_port, rule.to_port)} {word} {who}"
    )


@dataclass
class GroupResult:
    placement: Placement
    edits: list[TextEdit] = field(default_factory=list)
    manual: list[ManualStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Rules a phase-2-only run expected the base branch to hold already (phase 1 merged
    # and applied): their absence means phase 1 is not done.
    missing_phase1: list[str] = field(default_factory=list)


class References:
    """How the home module names other groups of its root: by reference, never by id."""

    def __init__(self, home: GroupHome) -> None:
        self.expressions: dict[str, str] = {}
        self.labels: dict[str, str] = {}
        self.managed: dict[str, str] = {}  # every group id of the root -> its address
        prefix = f"{home.instance}." if home.instance else ""
        for group in home.state.groups:
            self.managed[group.group_id] = group.address
            name = group.resource.split(".", 1)[1]
            if group.module == home.instance:
                self.expressions[group.group_id] = (
                    f"{group.resource}{_index_suffix(group.index)}.id"
                )
                self.labels[group.group_id] = name
                continue
            rest = group.module.removeprefix(prefix) if group.module.startswith(prefix) else None
            if rest is None or not rest.startswith("module.") or "." in rest[7:]:
                continue
            call = rest[7:]
            child = home.node.children.get(call.split("[")[0])
            if child is None or "[" in call:
                continue
            if child.community:
                self.expressions[group.group_id] = f"module.{call}.security_group_id"
                self.labels[group.group_id] = call
            elif child.config is not None:
                wanted = f"{group.resource}{_index_suffix(group.index)}.id"
                for output, decl in sorted(child.config.outputs.items()):
                    value = decl.value("value")
                    if getattr(value, "text", None) == wanted:
                        self.expressions[group.group_id] = f"module.{call}.{output}"
                        self.labels[group.group_id] = call
                        break
        # A group the module already looks up (another root's, or a hand-made one) is
        # named through that data source.
        for address, group_id in sorted(home.state.group_lookups.items()):
            local = address.removeprefix(prefix) if address.startswith(prefix) else None
            if local is None or local.count(".") != 2 or group_id in self.expressions:
                continue
            self.expressions[group_id] = f"{local}.id"
            self.labels.setdefault(group_id, local.split(".")[2].split("[")[0])


_GROUP_REFERENCE = re.compile(
    r"\b(aws_security_group|aws_default_security_group)\.([A-Za-z_][A-Za-z0-9_-]*)"
)


def _group_resource(reference: str | None) -> str | None:
    """``aws_security_group.api`` for a reference to that resource's id, else None."""
    if reference is None:
        return None
    match = _GROUP_REFERENCE.match(reference)
    return None if match is None else f"{match.group(1)}.{match.group(2)}"


class ReferenceGraph:
    """Which ``aws_security_group`` resources of one module refer to which.

    An inline rule that references another group makes its group depend on that one;
    two groups whose inline rules reference each other are a cycle, and Terraform
    refuses the whole configuration. New references are only added where they close no
    cycle.
    """

    def __init__(self, config: ModuleDir) -> None:
        self.edges: dict[str, set[str]] = defaultdict(set)
        for address, decl in config.resources_of(*GROUP_TYPES):
            body = decl.file.text[decl.block.open_brace : decl.block.end]
            for match in _GROUP_REFERENCE.finditer(body):
                self.edges[address].add(f"{match.group(1)}.{match.group(2)}")

    def _reaches(self, start: str, goal: str) -> bool:
        seen, stack = set(), [start]
        while stack:
            node = stack.pop()
            if node == goal:
                return True
            if node not in seen:
                seen.add(node)
                stack.extend(self.edges.get(node, ()))
        return False

    def allow(self, source: str, target: str) -> bool:
        """Record ``source`` -> ``target`` unless it closes a cycle (then False)."""
        if source == target or target in self.edges[source]:
            return True
        if self._reaches(target, source):
            return False
        self.edges[source].add(target)
        return True


class GroupEditor:
    def __init__(
        self,
        home: GroupHome,
        change: GroupChange,
        *,
        labels: dict[str, str],
        graph: ReferenceGraph | None = None,
    ) -> None:
        self.home = home
        self.graph = graph or ReferenceGraph(home.config)
        self.deleted: set[int] = set()
        self.change = change
        self.refs = References(home)
        self.labels = {**labels, **self.refs.labels}
        self.result = GroupResult(
            Placement(
                group_id=change.group_id,
                name=change.name,
                outcome="edited",
                why="",
                root=home.root.root.rel,
                address=home.address,
                style=home.style,
            )
        )
        self.taken: dict[str, set[str]] = defaultdict(set)
        for address in home.config.resources:
            rtype, name = address.split(".", 1)
            self.taken[rtype].add(name)

    # ------------------------------------------------------------------ entry

    def plan(self) -> GroupResult:
        home = self.home
        by_key: dict[RuleKey, Site] = {}
        for site in home.sites:
            for key in site.keys:
                if key in by_key:
                    home.problems.append(
                        f"{rule_key_text(key)} is written twice ({by_key[key].where}, {site.where})"
                    )
                by_key[key] = site
        if home.problems:
            return self._manual(home.problems)
        self._removals(by_key)
        if home.style == "inline":
            self._inline_additions(by_key)
        else:
            self._resource_additions(by_key)
        for site in home.sites:
            if not site.in_state and any(
                r.key in site.keys and r.action != "remove" for r in self.change.rules
            ):
                self.result.missing_phase1.append(
                    f"{site.where} is in the configuration but not applied yet"
                )
        placement = self.result.placement
        files = sorted({e.path for e in self.result.edits})
        if not self.result.edits and not self.result.manual:
            outcome: Literal["edited", "manual", "unchanged"] = "unchanged"
        elif self.result.manual and not self.result.edits:
            outcome = "manual"
        else:
            outcome = "edited"
        why = f"its Terraform is in {home.root.root.rel}"
        if home.address:
            why += f" ({home.address})"
        self.result.placement = Placement(
            group_id=placement.group_id,
            name=placement.name,
            outcome=outcome,
            why=why,
            root=placement.root,
            address=placement.address,
            style=placement.style,
            files=tuple(files),
        )
        return self.result

    def _manual(self, reasons: Sequence[str]) -> GroupResult:
        where = self.home.address or self.home.root.root.rel
        self.result.placement = Placement(
            group_id=self.change.group_id,
            name=self.change.name,
            outcome="manual",
            why="; ".join(dict.fromkeys(reasons)),
            root=self.home.root.root.rel,
            address=self.home.address,
            style=self.home.style,
        )
        for rule in self.change.rules:
            if rule.action == "add":
                self._step(
                    1,
                    where,
                    f"add {rule_text(rule, self.change.group_id)}"
                    f" (description {rule.description!r})",
                )
            elif rule.action == "remove":
                self._step(
                    2,
                    where,
                    f"remove {rule_text(rule, self.change.group_id)} ({rule.existing_rule_id})",
                )
        return self.result

    def _step(self, phase: Phase, where: str, what: str) -> None:
        self.result.manual.append(ManualStep(self.change.group_id, phase, where, what))

    # ------------------------------------------------------------------ removals

    def _removals(self, by_key: dict[RuleKey, Site]) -> None:
        removed: dict[int, set[RuleKey]] = defaultdict(set)
        sites: dict[int, Site] = {}
        for rule in self.change.rules:
            if rule.action != "remove":
                continue
            site = by_key.get(rule.key)
            if site is not None:
                removed[id(site)].add(rule.key)
                sites[id(site)] = site
        instances: dict[tuple[str, int], list[Site]] = defaultdict(list)
        for ident, keys in removed.items():
            site = sites[ident]
            if set(site.keys) <= keys and site.kind == "resource" and site.instance is not None:
                instances[(site.file.rel, site.block.start)].append(site)
        for group in instances.values():
            resource = group[0].block.labels[0] + "." + group[0].block.labels[1]
            total = sum(
                1
                for r in self.home.state.rules
                if r.resource == resource and r.module == self.home.instance
            )
            if total == len(group):
                # Every instance goes: the resource goes, not its collection's entries.
                whole = replace(group[0], instance=None)
                self._delete_site(whole)
                self.deleted.update(id(s) for s in group)
        for ident, keys in removed.items():
            site = sites[ident]
            if ident in self.deleted:
                continue
            if set(site.keys) <= keys:
                self._delete_site(site)
            else:
                self._delete_peers(site, keys)

    def _edit(
        self,
        site_file_rel: str,
        span: tuple[int, int],
        text: str,
        phases: frozenset[Phase],
        order: tuple[object, ...] = (),
    ) -> None:
        self.result.edits.append(TextEdit(site_file_rel, span[0], span[1], text, phases, order))

    def _delete_site(self, site: Site) -> None:
        self.deleted.add(id(site))
        text = site.file.text
        if site.kind == "resource" and site.instance is not None:
            if site.element is None:
                self._step(
                    2,
                    site.where,
                    f"remove {site.address}: it is one instance of a count/for_each resource"
                    " whose collection ztflows cannot edit exactly",
                )
                return
            attr = site.block.attribute("for_each")
            assert attr is not None
            file = site.file
            start, end = attr.expr_start, attr.expr_end
            value = attribute_value(site.file, attr)
            if getattr(value, "parts", ())[:1] == ("local",):
                found = self.home.config.locals.get(str(value.parts[1]))  # type: ignore[union-attr]
                assert found is not None
                file, local = found
                start, end = local.expr_start, local.expr_end
            listing = collection(file.text, start, end)
            assert listing is not None
            self._edit(file.rel, element_removal(file.text, listing, site.element), "", PHASE2)
            return
        self._edit(
            site.file.rel,
            removal_span(text, site.block.line_start, site.block.line_end),
            "",
            PHASE2,
        )
        for decl in site.imports:
            self._edit(
                decl.file.rel,
                removal_span(decl.file.text, decl.block.line_start, decl.block.line_end),
                "",
                PHASE2,
            )

    def _delete_peers(self, site: Site, keys: set[RuleKey]) -> None:
        spots = site.spots or self._resource_spots(site)
        missing = [k for k in keys if k not in spots]
        if missing or (site.kind == "resource" and site.instance is not None):
            for key in sorted(keys):
                self._step(2, site.where, f"remove {rule_key_text(key)} from {site.address}")
            return
        text = site.file.text
        by_attr: dict[int, list[RuleKey]] = defaultdict(list)
        for key in keys:
            by_attr[spots[key].attribute.start].append(key)
        for group in by_attr.values():
            spot = spots[group[0]]
            if spot.element is None or len(group) == spot.siblings:
                attr = spot.attribute
                self._edit(
                    site.file.rel,
                    removal_span(text, attr.line_start, attr.line_end, comments=False),
                    "",
                    PHASE2,
                )
                continue
            listing = collection(text, spot.attribute.expr_start, spot.attribute.expr_end)
            assert listing is not None
            for key in group:
                element = spots[key].element
                assert element is not None
                self._edit(site.file.rel, element_removal(text, listing, element), "", PHASE2)
        if site.kind == "resource":
            self.result.notes.append(
                f"phase 2 changes the peer list of {site.address}: the provider replaces the"
                " resource, revoking its other rules and authorising them again in the same"
                " apply"
            )
        else:
            self.result.notes.append(
                f"phase 2 changes the {site.block.type} block at {site.where}: the provider"
                " revokes the block's rules and authorises the remaining ones in the same apply"
                f" ({PROVIDER_INLINE_DOC})"
            )

    def _resource_spots(self, site: Site) -> dict[RuleKey, PeerSpot]:
        if site.kind != "resource" or site.resource_type != "aws_security_group_rule":
            return {}
        direction: Direction = site.keys[0].direction if site.keys else "ingress"
        spots: dict[RuleKey, PeerSpot] = {}
        lists: tuple[tuple[str, PeerKind], ...] = (
            ("cidr_blocks", "cidr"),
            ("ipv6_cidr_blocks", "cidr"),
            ("prefix_list_ids", "prefix_list"),
        )
        for attribute, kind in lists:
            attr = site.block.attribute(attribute)
            if attr is None:
                continue
            listing = collection(site.file.text, attr.expr_start, attr.expr_end)
            value = attribute_value(site.file, attr)
            if listing is None or not isinstance(value, tuple):
                continue
            for item, element in zip(value, listing.elements, strict=False):
                if not isinstance(item, str):
                    continue
                for key in site.keys:
                    probe = RuleKey.of(
                        direction, key.protocol, key.from_port, key.to_port, kind, item
                    )
                    if probe == key:
                        spots[key] = PeerSpot(attr, element, len(listing.elements))
        return spots

    # ------------------------------------------------------------------ additions

    def _peer_reference(self, rule: RuleChange) -> tuple[str | None, bool]:
        peer = rule.peer
        if peer.kind != "security_group":
            return None, False
        if peer.value == self.change.group_id:
            return None, True
        if peer.owner_id and self.change.owner_id and peer.owner_id != self.change.owner_id:
            return None, False
        expression = self.refs.expressions.get(peer.value)
        if expression is None and peer.value in self.refs.managed:
            self.result.notes.append(
                f"{peer.value} is managed in this root ({self.refs.managed[peer.value]}) but"
                f" cannot be referenced from {self.home.node.path or 'the root module'}: the"
                " new rule names it by id; add an output or variable and reference it"
            )
        return expression, False

    def _inline_additions(self, by_key: dict[RuleKey, Site]) -> None:
        decl = self.home.group_decl
        assert decl is not None
        text = decl.file.text
        touched = {r.direction for r in self.change.rules if r.action != "keep"}
        own = decl.block.labels[0] + "." + decl.block.labels[1]
        for direction in ("ingress", "egress"):
            declared = direction in self.home.inline_directions
            if not declared and direction not in touched:
                continue
            position, indent, lead, trail = self._inline_anchor(decl, direction)
            rules = sorted(
                (r for r in self.change.rules if r.direction == direction and r.key not in by_key),
                key=lambda r: r.key,
            )
            # Blocks of this direction still there after phase 2: kept ones and new ones.
            lasting = sum(
                1
                for s in self.home.sites
                if s.block.type == direction and id(s) not in self.deleted
            )
            for n, rule in enumerate(rules):
                reference, is_self = self._peer_reference(rule)
                comment: list[str] = []
                target = _group_resource(reference)
                if target is not None and not self.graph.allow(own, target):
                    reference = None
                    comment = [
                        f"# {target} by id, not by reference: it refers to this group already,",
                        "# and a reference back would be a dependency cycle Terraform refuses.",
                    ]
                    self.result.notes.append(
                        f"{own} names {rule.peer.value} ({target}) by id in a new"
                        f" {direction} block: {target} refers to {own} already, and inline"
                        " rules referring to each other's groups are a dependency cycle"
                    )
                lines = comment + inline_block(
                    rule,
                    reference=reference,
                    is_self=is_self,
                    group_owner=self.change.owner_id,
                    depth=0,
                )
                body = "".join(f"{indent}{line}\n" if line else "\n" for line in lines)
                phases = PHASE1 if rule.action == "remove" else BOTH
                if phases == BOTH:
                    lasting += 1
                self._edit(
                    decl.file.rel, (position, position), lead + body + trail, phases, (direction, n)
                )
            empty = decl.block.attribute(direction)
            if empty is not None and rules:
                # `egress = []` cannot stand beside blocks; it returns when none is left.
                span = removal_span(text, empty.line_start, empty.line_end, comments=False)
                self._edit(decl.file.rel, span, "", BOTH if lasting else PHASE1)
            elif empty is None and not lasting and (rules or self._had_sites(direction)):
                # No block left for a declared direction: Terraform would stop managing it
                # and leave the rules in AWS. `egress = []` revokes them
                # (https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/security_group).
                self._edit(
                    decl.file.rel,
                    (position, position),
                    f"\n{indent}{direction} = []\n",
                    PHASE2,
                    (direction, 10_000),
                )

    def _had_sites(self, direction: str) -> bool:
        return any(s.block.type == direction for s in self.home.sites)

    def _inline_anchor(self, decl: Declaration, direction: str) -> tuple[int, str, str, str]:
        """(offset, indentation, text before, text after) for a new inline block."""
        block = decl.block
        text = decl.file.text
        same = [b for b in block.blocks() if b.type == direction]
        either = [b for b in block.blocks() if b.type in ("ingress", "egress")]
        if same or either:
            anchor = (same or either)[-1]
            return anchor.line_end, indent_of(text, anchor.start), "\n", ""
        inner = list(block.items)
        indent = indent_of(text, inner[0].start) if inner else indent_of(text, block.start) + "  "
        first_block = next((i for i in block.items if isinstance(i, Block)), None)
        if first_block is not None:
            return first_block.line_start, indent, "", "\n"
        close_line = text.rfind("\n", 0, block.close_brace) + 1
        return close_line, indent, "\n" if inner else "", ""

    def _resource_additions(self, by_key: dict[RuleKey, Site]) -> None:
        style = self.home.style
        assert style in ("security_group_rule", "vpc_rule")
        siblings = [s for s in self.home.sites if s.kind == "resource"]
        anchor_file, position = self._resource_anchor(siblings)
        sibling_names = sorted({s.block.labels[1] for s in siblings})
        group_expression = self._group_expression(siblings)
        group_label = self._group_label()
        for n, rule in enumerate(sorted(self.change.rules, key=lambda r: r.key)):
            if rule.key in by_key:
                continue
            if rule.action == "keep":
                self.result.notes.append(
                    f"kept {rule_text(rule, self.change.group_id)} ({rule.existing_rule_id}) is"
                    " not managed by Terraform; it is left as it is"
                )
                continue
            reference, is_self = self._peer_reference(rule)
            rtype = (
                "aws_security_group_rule"
                if style == "security_group_rule"
                else f"aws_vpc_security_group_{rule.direction}_rule"
            )
            name = resource_name(
                rule,
                group_id=self.change.group_id,
                group_label=group_label,
                siblings=sibling_names,
                taken=self.taken[rtype],
                labels=self.labels,
            )
            self.taken[rtype].add(name)
            lines = rule_resource(
                rule,
                style=style,
                name=name,
                group_expression=group_expression,
                reference=reference,
                is_self=is_self,
                group_owner=self.change.owner_id,
            )
            phases = BOTH
            if rule.action == "remove":
                phases = PHASE1
                import_id = (
                    sg_rule_import_id(self.change.group_id, rule, self.change.owner_id)
                    if style == "security_group_rule"
                    else rule.existing_rule_id
                )
                if import_id is None:
                    self._step(
                        2,
                        anchor_file.where(position),
                        f"remove {rule_text(rule, self.change.group_id)} by hand",
                    )
                    continue
                lines = [*lines, "", *import_block(f"{rtype}.{name}", import_id)]
                self.result.notes.append(
                    f"{rule_text(rule, self.change.group_id)} ({rule.existing_rule_id}) was not"
                    f" managed by Terraform: phase 1 adopts it as {rtype}.{name}, phase 2"
                    " removes it"
                )
            body = "".join(f"{line}\n" if line else "\n" for line in lines)
            self._edit(anchor_file.rel, (position, position), "\n" + body, phases, (n,))

    def _resource_anchor(self, siblings: Sequence[Site]) -> tuple[TfFile, int]:
        if siblings:
            counts: dict[str, int] = defaultdict(int)
            for s in siblings:
                counts[s.file.rel] += 1
            best = min(counts, key=lambda rel: (-counts[rel], rel))
            in_file = [s for s in siblings if s.file.rel == best]
            file = in_file[0].file
            end = max(s.block.line_end for s in in_file)
            for s in in_file:
                for decl in s.imports:
                    if decl.file.rel == best:
                        end = max(end, decl.block.line_end)
            return file, end
        group = self.home.group_decl
        assert group is not None
        return group.file, group.block.line_end

    def _group_expression(self, siblings: Sequence[Site]) -> str:
        for site in siblings:
            attr = site.block.attribute("security_group_id")
            if attr is not None and site.instance is None:
                return site.file.text[attr.expr_start : attr.expr_end]
        own = self.refs.expressions.get(self.change.group_id)
        if own is not None:
            return own
        return hcl_string(self.change.group_id)

    def _group_label(self) -> str:
        if self.home.group_state is not None:
            return self.home.group_state.resource.split(".", 1)[1]
        return slug(self.change.name) or "sg"


def rule_key_text(key: RuleKey) -> str:
    word = "from" if key.direction == "ingress" else "to"
    ports = ports_label(key.protocol, key.from_port, key.to_port)
    return f"{key.direction} {ports} {word} {key.peer_value}"
