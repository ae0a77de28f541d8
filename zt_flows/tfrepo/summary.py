"""What the repository change means, as Markdown for the pull request body.

Where each group went and why (edited in place in a root, the standalone module, or left
to a person), the changes ztflows could not make exactly, the side effects a reviewer
should know (a dependency cycle, a replaced resource), and the rollout of the edited
roots. Every string that came from AWS or from the repository is Markdown-escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from zt_flows.text import md, md_code, plural
from zt_flows.tfrepo.model import STYLE_TEXT, Placement
from zt_flows.tfrepo.repository import RepositoryPlan

OUTCOME = {
    "edited": "edited in place",
    "standalone": "standalone module",
    "manual": "**by hand**",
    "unchanged": "unchanged",
}


def standalone_placements(group_ids: Sequence[tuple[str, str]], directory: str) -> list[Placement]:
    return [
        Placement(
            gid,
            name,
            "standalone",
            "no Terraform in the repository manages it: its rules are adopted with import"
            f" blocks in {directory}",
        )
        for gid, name in group_ids
    ]


def placement_rows(placements: Sequence[Placement]) -> list[str]:
    lines = [
        "| security group | where | how | why |",
        "|---|---|---|---|",
    ]
    for p in sorted(placements, key=lambda p: (p.name, p.group_id)):
        where = ""
        if p.root is not None:
            where = md_code(p.root)
            if p.files:
                where += ": " + ", ".join(md_code(f) for f in p.files)
        how = OUTCOME[p.outcome]
        if p.style is not None and p.outcome != "standalone":
            how += f" ({md(STYLE_TEXT[p.style])})"
        lines.append(f"| {md(p.name)} ({md_code(p.group_id)}) | {where} | {how} | {md(p.why)} |")
    return lines


def repository_sections(
    repository: RepositoryPlan,
    placements: Sequence[Placement],
    *,
    phases: str,
) -> list[str]:
    """The body's sections on the team's Terraform (empty when nothing is edited in place)."""
    edited = [p for p in placements if p.outcome == "edited"]
    lines = [
        "### Where each group is changed",
        "",
        f"Terraform roots found: {', '.join(md_code(r) for r in repository.roots) or 'none'};"
        f" states read: {', '.join(md(r) for r in repository.read) or 'none'}."
        " A group is edited where its Terraform already manages it, in the style it is"
        " written in; a group no Terraform in the repository manages goes to the standalone"
        " module.",
        "",
        *placement_rows(placements),
        "",
    ]
    if repository.manual:
        lines += [
            "### To change by hand",
            "",
            "ztflows could not make these changes exactly and left the code as it is:",
            "",
        ]
        for step in sorted(repository.manual, key=lambda s: (s.phase, s.group_id, s.where)):
            lines.append(
                f"- phase {step.phase}, {md_code(step.group_id)} at {md_code(step.where)}:"
                f" {md(step.what)}"
            )
        lines.append("")
    if repository.notes:
        lines += ["### Worth knowing", ""]
        lines += [f"- {md(n)}" for n in repository.notes]
        lines.append("")
    if edited:
        roots = sorted({p.root for p in edited if p.root is not None})
        lines += [
            "### Rolling out the edited roots",
            "",
            f"{plural(len(edited), 'group')} in {plural(len(roots), 'root')}"
            f" ({', '.join(md_code(r) for r in roots)}). Phase 1 only adds: the narrow rules,"
            " and any rule AWS has that the code lacks (so that applying it takes nothing"
            " away). Phase 2 removes the broad rules.",
            "",
            "1. Phase 1: in each root, `terraform plan` shows creates (and in-place updates of"
            " the groups with inline rules), imports of rules adopted, and no destroy of a"
            " group or an interface. Apply it, then observe with `ztflows check plan.json"
            " <new flow logs>` for as long as the plan's window.",
            "2. Phase 2: "
            + (
                "the second commit of this branch removes the broad rules; apply it after"
                " the observation."
                if phases == "both"
                else "once phase 1 is merged and applied, `ztflows pr plan.json --repo"
                " <checkout> --phase 2` opens the pull request that removes them."
                if phases == "1"
                else "this pull request removes the broad rules; phase 1 is merged and applied."
            ),
            "",
        ]
    return lines
