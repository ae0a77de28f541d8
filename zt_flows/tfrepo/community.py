"""Editing the inputs of terraform-aws-modules/security-group, where that is exact.

The module turns each list input into ``aws_security_group_rule`` resources by count
index (``aws_security_group_rule.ingress_with_source_security_group_id[2]`` is element 2
of that input), and ``ingress_rules`` into one resource per named rule holding every
range of ``ingress_cidr_blocks``. So:

- a new rule is appended to the list of its kind (``*_with_source_security_group_id``,
  ``*_with_cidr_blocks``, ``*_with_ipv6_cidr_blocks``, ``*_with_self``; the ``computed_``
  variant, with its ``number_of_computed_`` count, when the call uses only that one):
  appending moves no index;
- a rule is removed by deleting its element only when every element after it goes too:
  deleting one in the middle shifts the indexes after it, and Terraform would replace those
  rules (delete, then create: a gap, and a duplicate-rule error if the create runs first);
- removing one range of a named rule (``ingress_rules`` with several
  ``ingress_cidr_blocks``) or of a comma-separated ``cidr_blocks`` changes other rules too.

Everything that is not exact is left alone and described for a person
(:class:`~zt_flows.tfrepo.model.ManualStep`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from zt_flows.terraform.hcl import hcl_string
from zt_flows.tfrepo.config import attribute_value
from zt_flows.tfrepo.edit import GroupEditor, GroupResult, References, rule_key_text, rule_text
from zt_flows.tfrepo.locate import Site
from zt_flows.tfrepo.model import Phase, RuleChange, RuleKey
from zt_flows.tfrepo.scan import Attribute, Collection, collection
from zt_flows.tfrepo.textedit import BOTH, PHASE1, PHASE2, element_removal
from zt_flows.tfrepo.write import indent_of

LIST_INPUTS = (
    "with_source_security_group_id",
    "with_cidr_blocks",
    "with_ipv6_cidr_blocks",
    "with_self",
    "rules",
)
MODULE_DOC = "https://registry.terraform.io/modules/terraform-aws-modules/security-group/aws"


def _input_of(resource_name: str) -> str | None:
    """``computed_ingress_with_self`` -> itself, if it is a list input ztflows edits."""
    name = resource_name.removeprefix("computed_")
    for direction in ("ingress", "egress"):
        for suffix in LIST_INPUTS:
            if name == f"{direction}_{suffix}":
                return resource_name
    return None


class CommunityEditor(GroupEditor):
    """A group made by one call of the community module: its inputs are the rules."""

    def plan(self) -> GroupResult:
        home = self.home
        call = home.node.call
        assert call is not None
        self.call = call
        self.file = call.file
        self.counts: dict[str, tuple[Attribute, int, dict[Phase, int]]] = {}
        # The call's inputs are written in the module that calls it: references to other
        # groups are relative to that one.
        parent_path = (
            home.node.path.rpartition(".module.")[0] if ".module." in home.node.path else ""
        )
        parent = home.root.tree.find(parent_path)
        assert parent is not None
        parent_instance = (
            home.instance.rpartition(".module.")[0] if ".module." in home.instance else ""
        )
        self.refs = References(replace(home, node=parent, instance=parent_instance))
        self.labels = {**self.labels, **self.refs.labels}
        self.sites = self._sites()
        if home.problems:
            return self._manual(home.problems)
        by_key: dict[RuleKey, Site] = {}
        for site in self.sites:
            for key in site.keys:
                by_key[key] = site
        removing: dict[str, set[int]] = defaultdict(set)
        self._plan_removals(by_key, removing)
        self._plan_additions(by_key, removing)
        placement = self.result.placement
        from zt_flows.tfrepo.model import Placement

        self.result.placement = Placement(
            group_id=placement.group_id,
            name=placement.name,
            outcome="edited"
            if self.result.edits
            else "manual"
            if self.result.manual
            else "unchanged",
            why=f"made by the terraform-aws-modules/security-group module {home.node.path}"
            f" in {home.root.root.rel}",
            root=placement.root,
            address=placement.address,
            style="community_module",
            files=tuple(sorted({e.path for e in self.result.edits})),
        )
        return self.result

    # ------------------------------------------------------------------ sites

    def _list(self, name: str) -> tuple[Attribute, Collection] | None:
        attr = self.call.block.attribute(name)
        if attr is None:
            return None
        listing = collection(self.file.text, attr.expr_start, attr.expr_end)
        if listing is None or listing.kind != "tuple":
            return None
        return attr, listing

    def _sites(self) -> list[Site]:
        sites: list[Site] = []
        for rule in self.home.state.rules:
            if rule.group_id != self.home.group_id or rule.module != self.home.instance:
                continue
            name = rule.resource.split(".", 1)[1]
            input_name = _input_of(name)
            element = None
            if input_name is not None and isinstance(rule.index, int):
                found = self._list(input_name)
                if found is not None and rule.index < len(found[1].elements):
                    element = found[1].elements[rule.index]
            sites.append(
                Site(
                    kind="module_input",
                    keys=rule.keys,
                    file=self.file,
                    block=self.call.block,
                    address=rule.address,
                    module_path=self.home.node.path,
                    instance=rule.index,
                    input_name=input_name,
                    element=element,
                    description=rule.description,
                )
            )
        return sites

    # ------------------------------------------------------------------ removals

    def _plan_removals(self, by_key: dict[RuleKey, Site], removing: dict[str, set[int]]) -> None:
        gone: dict[int, set[RuleKey]] = defaultdict(set)
        sites: dict[int, Site] = {}
        for rule in self.change.rules:
            if rule.action != "remove":
                continue
            site = by_key.get(rule.key)
            if site is None:
                self._step(
                    2,
                    self.call.where,
                    f"remove {rule_text(rule, self.change.group_id)} ({rule.existing_rule_id}):"
                    " no Terraform manages it (revoke it by hand after phase 1)",
                )
                continue
            gone[id(site)].add(rule.key)
            sites[id(site)] = site
        whole: dict[str, set[int]] = defaultdict(set)
        for ident, keys in gone.items():
            site = sites[ident]
            if set(site.keys) <= keys and site.input_name and isinstance(site.instance, int):
                whole[site.input_name].add(site.instance)
            else:
                self._step(
                    2,
                    self.call.where,
                    f"remove {', '.join(rule_key_text(k) for k in sorted(keys))} from"
                    f" {site.address}: it shares its element with rules that stay ({MODULE_DOC})",
                )
        for input_name, indexes in sorted(whole.items()):
            found = self._list(input_name)
            if found is None:
                for i in sorted(indexes):
                    self._step(2, self.call.where, f"remove element {i} of {input_name}")
                continue
            attr, listing = found
            total = len(listing.elements)
            tail = set()
            for i in range(total - 1, -1, -1):
                if i not in indexes:
                    break
                tail.add(i)
            for i in sorted(indexes - tail):
                self._step(
                    2,
                    self.file.where(listing.elements[i].start),
                    f"remove element {i} of {input_name} in {self.home.node.path}: elements after"
                    " it move up one index, and Terraform replaces their rules (remove them in"
                    " the same change and add them back, or apply with care)",
                )
            if not tail:
                continue
            removing[input_name] = tail
            if len(tail) == total:
                self._edit(
                    self.file.rel,
                    _attribute_span(self.file.text, attr),
                    "",
                    PHASE2,
                )
            else:
                for i in sorted(tail):
                    span = element_removal(self.file.text, listing, listing.elements[i])
                    self._edit(self.file.rel, span, "", PHASE2)
            self._bump_count(input_name, -len(tail), PHASE2)

    def _bump_count(self, input_name: str, delta: int, phases: frozenset[Phase]) -> None:
        if not input_name.startswith("computed_"):
            return
        number = f"number_of_{input_name}"
        attr = self.call.block.attribute(number)
        value = attribute_value(self.file, attr) if attr is not None else None
        if attr is None or not isinstance(value, int) or isinstance(value, bool):
            self._step(
                1, self.call.where, f"set {number} to the number of elements of {input_name}"
            )
            return
        self.counts.setdefault(number, (attr, value, {}))
        for phase in phases:
            self.counts[number][2][phase] = self.counts[number][2].get(phase, 0) + delta

    # ------------------------------------------------------------------ additions

    def _kind(self, rule: RuleChange) -> str | None:
        peer = rule.peer
        if peer.kind == "security_group":
            return (
                "with_self"
                if peer.value == self.change.group_id
                else "with_source_security_group_id"
            )
        if peer.kind == "cidr":
            return "with_ipv6_cidr_blocks" if ":" in peer.value else "with_cidr_blocks"
        return None

    def _plan_additions(self, by_key: dict[RuleKey, Site], removing: dict[str, set[int]]) -> None:
        pending: dict[str, list[RuleChange]] = defaultdict(list)
        for rule in sorted(self.change.rules, key=lambda r: r.key):
            if rule.key in by_key or rule.action == "remove":
                continue
            if rule.action == "keep":
                self.result.notes.append(
                    f"kept {rule_text(rule, self.change.group_id)} ({rule.existing_rule_id}) is"
                    " not managed by Terraform; it is left as it is"
                )
                continue
            kind = self._kind(rule)
            extra = self.call.block.attribute(f"{rule.direction}_prefix_list_ids")
            if kind is None or (
                extra is not None and attribute_value(self.file, extra) not in ((), None)
            ):
                self._step(
                    1,
                    self.call.where,
                    f"add {rule_text(rule, self.change.group_id)} (description"
                    f" {rule.description!r}): the module has no input that creates exactly"
                    " this rule",
                )
                continue
            plain = f"{rule.direction}_{kind}"
            computed = f"computed_{plain}"
            name = (
                computed
                if self.call.block.attribute(computed) is not None
                and self.call.block.attribute(plain) is None
                else plain
            )
            if removing.get(name):
                self._step(
                    1,
                    self.call.where,
                    f"add {rule_text(rule, self.change.group_id)} to {name}: phase 2 removes"
                    f" elements of {name}, and an element appended now would change index then",
                )
                continue
            pending[name].append(rule)
        for name, rules in sorted(pending.items()):
            self._append(name, rules)
            self._bump_count(name, len(rules), BOTH)
        for number, (attr, value, deltas) in sorted(self.counts.items()):
            for phase, delta in sorted(deltas.items()):
                if delta:
                    self._edit(
                        self.file.rel,
                        (attr.expr_start, attr.expr_end),
                        str(value + delta),
                        PHASE1 if phase == 1 else PHASE2,
                        (number,),
                    )

    def _element_lines(self, rule: RuleChange, indent: str) -> list[str]:
        low, high = rule.from_port, rule.to_port
        if rule.protocol not in ("tcp", "udp", "icmp", "icmpv6"):
            low = high = 0
        elif rule.protocol in ("icmp", "icmpv6"):
            low = -1 if low is None else low
            high = -1 if high is None else high
        pairs = [
            ("description", hcl_string(rule.description)),
            ("from_port", str(low)),
            ("to_port", str(high)),
            ("protocol", hcl_string(rule.protocol)),
        ]
        peer = rule.peer
        kind = self._kind(rule)
        if kind == "with_source_security_group_id":
            reference, _ = self._peer_reference(rule)
            value = peer.value
            if peer.owner_id and self.change.owner_id and peer.owner_id != self.change.owner_id:
                value = f"{peer.owner_id}/{peer.value}"
            pairs.append(("source_security_group_id", reference or hcl_string(value)))
        elif kind == "with_cidr_blocks":
            pairs.append(("cidr_blocks", hcl_string(peer.value)))
        elif kind == "with_ipv6_cidr_blocks":
            pairs.append(("ipv6_cidr_blocks", hcl_string(peer.value)))
        width = max(len(k) for k, _ in pairs)
        inner = indent + "  "
        return [
            f"{indent}{{",
            *[f"{inner}{k.ljust(width)} = {v}" for k, v in pairs],
            f"{indent}}},",
        ]

    def _append(self, name: str, rules: list[RuleChange]) -> None:
        text = self.file.text
        found = self._list(name)
        block = self.call.block
        if found is None and block.attribute(name) is not None:
            for rule in rules:
                self._step(
                    1,
                    self.call.where,
                    f"add {rule_text(rule, self.change.group_id)} to {name} (it is not a list"
                    " literal ztflows can extend)",
                )
            return
        if found is None:
            anchor = self._input_anchor(name)
            indent = indent_of(text, anchor[1]) if anchor[1] is not None else "  "
            lines = [f"{indent}{name} = ["]
            for rule in rules:
                lines += self._element_lines(rule, indent + "  ")
            lines.append(f"{indent}]")
            self._edit(
                self.file.rel, (anchor[0], anchor[0]), "\n" + "\n".join(lines) + "\n", BOTH, (name,)
            )
            return
        attr, listing = found
        close_line = text.rfind("\n", 0, listing.close) + 1
        if listing.multiline and text[close_line : listing.close].strip() == "":
            element_indent = (
                indent_of(text, listing.elements[0].start)
                if listing.elements
                else indent_of(text, attr.start) + "  "
            )
            lines = [line for rule in rules for line in self._element_lines(rule, element_indent)]
            if listing.elements:
                last = listing.elements[-1]
                after = text[last.end : listing.close].lstrip(" \t")
                if not after.startswith(","):
                    self._edit(self.file.rel, (last.end, last.end), ",", BOTH, (name, 0))
            self._edit(
                self.file.rel, (close_line, close_line), "\n".join(lines) + "\n", BOTH, (name, 1)
            )
            return
        # A one-line list: rewrite it over several lines, elements kept as written.
        indent = indent_of(text, attr.start)
        kept = [text[e.start : e.end] for e in listing.elements]
        lines = [f"{attr.name} = ["]
        lines += [f"{indent}  {k}," for k in kept]
        for rule in rules:
            lines += self._element_lines(rule, indent + "  ")
        lines.append(f"{indent}]")
        self._edit(self.file.rel, (attr.start, attr.end), "\n".join(lines), BOTH, (name,))

    def _input_anchor(self, name: str) -> tuple[int, int | None]:
        """Where a new input goes: at the end of the call, after a blank line.

        Not among the other inputs: a line inserted in a run of aligned attributes would
        make terraform fmt realign the run, and those lines are not ztflows's to touch.
        """
        del name
        block = self.call.block
        text = self.file.text
        inner = list(block.items)
        close_line = text.rfind("\n", 0, block.close_brace) + 1
        return close_line, inner[0].start if inner else None


def _attribute_span(text: str, attr: Attribute) -> tuple[int, int]:
    from zt_flows.tfrepo.textedit import removal_span

    return removal_span(text, attr.line_start, attr.line_end)
