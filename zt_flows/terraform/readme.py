"""``README.md`` of the Terraform output: what it holds and how to roll it out.

The rollout (docs/rollout.md explains the design): phase 1 adopts today's rules
with ``import`` blocks and creates the new ones, so nothing loses access; shadow
mode (``ztflows check``) then confirms on fresh flow logs that the new rules carry
all traffic; phase 2 deletes ``pending_removal.tf`` and its imports, and
``terraform plan`` shows exactly the removals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from zt_flows.recommend.plan import Plan
from zt_flows.terraform.attributes import RenderedRule
from zt_flows.text import md, peer_text, plural, rule_words, window_days, window_text
from zt_flows.vocabulary import Direction

RULES_QUOTA = 60  # inbound and outbound rules per group, each (adjustable)
QUOTA_DOC = "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups"
REGISTRY_DOC = (
    "https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/"
    "vpc_security_group_ingress_rule"
)
IMPORT_DOC = "https://developer.hashicorp.com/terraform/language/import"
REMOVED_DOC = (
    "https://developer.hashicorp.com/terraform/language/resources/syntax#removing-resources"
)
PENDING_FILES = ("pending_removal.tf", "pending_removal_imports.tf")


def rule_line(r: RenderedRule) -> str:
    """``postgres (sg-…): ingress tcp/5432 from 10.0.0.0/16``, Markdown-escaped."""
    spec, rule = r.spec, r.spec.rule
    return md(
        f"{spec.group.name} ({spec.group.group_id}): {rule_words(rule.rule)}"
        f" {peer_text(rule.peer, spec.group.group_id)}"
    )


def expected_plans(rules: Sequence[RenderedRule]) -> tuple[str, str]:
    """The summary lines ``terraform plan`` prints in phase 1 and in phase 2."""
    counts = Counter(r.action for r in rules)
    phase1 = (
        f"Plan: {counts['keep'] + counts['remove']} to import, {counts['add']} to add,"
        f" {counts['keep']} to change, 0 to destroy."
    )
    phase2 = f"Plan: 0 to add, 0 to change, {counts['remove']} to destroy."
    return phase1, phase2


def quota_warnings(rules: Sequence[RenderedRule]) -> list[str]:
    """Groups whose rule count passes the quota during phase 1 (old and new rules together)."""
    during: Counter[tuple[str, str, Direction]] = Counter()
    after: Counter[tuple[str, str, Direction]] = Counter()
    for r in rules:
        key = (r.spec.group.group_id, r.spec.group.name, r.spec.rule.direction)
        during[key] += 1
        if r.action != "remove":
            after[key] += 1
    lines = []
    for gid, name, direction in sorted(during):
        key = (gid, name, direction)
        if during[key] > RULES_QUOTA:
            lines.append(
                f"- {md(name)} ({gid}): {during[key]} {direction} rules during phase 1,"
                f" {after[key]} after phase 2 (quota: {RULES_QUOTA} unless raised)"
            )
    return lines


def rollout_steps(
    rules: Sequence[RenderedRule], days: int | None, directory: str = "this directory"
) -> list[str]:
    """The rollout and rollback, as Markdown lines (shared with the pull request body)."""
    phase1, phase2 = expected_plans(rules)
    removals = [r for r in rules if r.action == "remove"]
    observe = f"at least {plural(days, 'day')}, as long as the plan's window" if days else "a week"
    lines = [
        "### Phase 1: add, then observe",
        "",
        f"1. `terraform init` and `terraform plan` in {directory}. Expect:",
        "",
        f"   `{phase1}`",
        "",
        "   Imports adopt today's rules; the changes are the description and `Name` tag of"
        " the kept rules (metadata only: traffic is not interrupted; fewer if a kept rule"
        " already has them); nothing is destroyed."
        " If the plan shows a destroy or a replacement, stop and find out why.",
        "2. `terraform apply`. Every flow that was allowed is still allowed.",
        f"3. Observe in shadow mode for {observe}: keep collecting flow logs and run"
        " `ztflows check plan.json <new flow logs> --inventory <snapshot>`. It must report"
        " no blocked conversation. Anything it reports is traffic the new rules would cut:"
        " regenerate the plan over a window that includes it.",
        "",
        "### Phase 2: remove",
        "",
    ]
    if removals:
        lines += [
            f"1. Delete `{PENDING_FILES[0]}` and `{PENDING_FILES[1]}`"
            f" (`git rm {' '.join(PENDING_FILES)}`).",
            "2. `terraform plan`. Expect exactly:",
            "",
            f"   `{phase2}`",
            "",
            *[
                f"   - `{r.address}` (`{r.spec.rule.existing_rule_id}`): {rule_line(r)}"
                for r in removals
            ],
            "3. `terraform apply`, then run `ztflows check` once more on the next days' logs.",
        ]
    else:
        lines.append("Nothing to remove: the plan only adds and adopts rules.")
    lines += [
        "",
        "### Rollback",
        "",
        "- **After phase 2**: restore `pending_removal.tf` alone from the phase 1 commit"
        " (`git checkout <phase-1 commit> -- pending_removal.tf`), not its imports file:"
        " those rules no longer exist to import. `terraform plan` shows them as creates;"
        " apply, and access is as it was (the rules get new `sgr-` ids).",
        "- **After phase 1**: phase 1 only widened access, so there is rarely a reason to"
        " undo it. Do not simply revert it: the adopted rules are in the Terraform state,"
        " and Terraform would delete them with their configuration. Replace the generated"
        " files with `removed` blocks (Terraform 1.7 or newer) for every adopted rule, so"
        " that Terraform forgets them without deleting them and destroys only the added"
        f" rules ({REMOVED_DOC}); with an older Terraform, `terraform state rm` the same"
        " addresses before reverting.",
    ]
    return lines


def removed_blocks(rules: Sequence[RenderedRule]) -> list[str]:
    lines = ["```hcl"]
    for r in rules:
        if r.action == "add":
            continue
        lines += [
            "removed {",
            f"  from = {r.address}",
            "",
            "  lifecycle {",
            "    destroy = false",
            "  }",
            "}",
        ]
    lines.append("```")
    return lines


def module_readme(
    plan: Plan,
    rules: Sequence[RenderedRule],
    group_files: Mapping[str, str],
    files: Sequence[str],
) -> str:
    counts = Counter(r.action for r in rules)
    per_group: dict[str, Counter[str]] = {}
    names: dict[str, str] = {}
    for r in rules:
        per_group.setdefault(r.spec.group.group_id, Counter())[r.action] += 1
        names[r.spec.group.group_id] = r.spec.group.name
    lines = [
        "# Security-group rules from ztflows",
        "",
        f"Generated by ztflows from VPC Flow Logs observed {window_text(plan)}."
        " Regenerate rather than edit: `ztflows terraform plan.json --out <this directory>`.",
        "",
        "| rules | count |",
        "|---|---:|",
        f"| kept, adopted with `import` blocks | {counts['keep']} |",
        f"| added | {counts['add']} |",
        f"| to remove in phase 2 (`{PENDING_FILES[0]}`) | {counts['remove']} |",
        "",
        "| security group | file | kept | added | to remove |",
        "|---|---|---:|---:|---:|",
    ]
    for gid in sorted(per_group, key=lambda g: (group_files.get(g, "~"), g)):
        c = per_group[gid]
        file = f"`{group_files[gid]}`" if gid in group_files else "–"
        lines.append(
            f"| {md(names[gid])} (`{gid}`) | {file} | {c['keep']} | {c['add']} | {c['remove']} |"
        )
    lines += [
        "",
        "## Before you start",
        "",
        "- This directory is a Terraform **root module**: `import` blocks only take effect"
        f" in the root module ({IMPORT_DOC}). Run Terraform here, in its own state. Add your"
        " provider configuration (`providers.tf`: region, credentials) and backend"
        " (`backend.tf`); ztflows keeps files it did not write when it regenerates this"
        " directory. Terraform 1.5 or newer and the AWS provider 5.0 or newer are required.",
        "- **Do not mix** these `aws_vpc_security_group_ingress_rule` /"
        " `aws_vpc_security_group_egress_rule` resources with inline `ingress` / `egress`"
        " blocks of `aws_security_group` or with `aws_security_group_rule` for the same"
        " security groups: the provider documents that this causes rule conflicts,"
        f" perpetual differences and overwritten rules ({REGISTRY_DOC}). If other code"
        " already manages these groups' rules, remove the rules from that code and its"
        " state (`terraform state rm`) first.",
        "- The security groups themselves are not managed here; rules name them by id.",
    ]
    warnings = quota_warnings(rules)
    if warnings:
        lines += [
            "- **Quota**: during phase 1 a group holds its old and its new rules together."
            f" These groups pass the default quota ({QUOTA_DOC}); raise it first, or apply"
            " their removals before their additions:",
            *[f"  {w}" for w in warnings],
        ]
    lines += [
        "",
        "## Rollout",
        "",
        *rollout_steps(rules, window_days(plan)),
        "",
        "`removed` blocks for undoing phase 1 (every adopted rule):",
        "",
        *removed_blocks(rules),
        "",
        "## Files",
        "",
        *[f"- `{name}`" for name in files if name != "README.md"],
        "",
    ]
    return "\n".join(lines)
