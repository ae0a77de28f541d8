"""The whole repository: find the roots, read their states, edit every group it manages.

:func:`plan_repository` is the package's entry point. It never writes a file: it
returns each phase's new text for every file it changes, where each group went and why,
and what is left for a person to do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zt_flows.errors import TerraformStateError, UsageError
from zt_flows.terraform.naming import slug
from zt_flows.tfrepo.community import CommunityEditor
from zt_flows.tfrepo.config import read_tf_file
from zt_flows.tfrepo.discover import Root, discover_roots, manages_security_groups
from zt_flows.tfrepo.edit import GroupEditor, GroupResult, ReferenceGraph
from zt_flows.tfrepo.locate import GroupHome, locate_groups
from zt_flows.tfrepo.model import GroupChange, ManualStep, Phase, Placement
from zt_flows.tfrepo.scan import ScanError, scan
from zt_flows.tfrepo.state import RootState, TerraformCli, read_state_file
from zt_flows.tfrepo.textedit import OverlappingEditsError, TextEdit, apply_edits, by_path


@dataclass(frozen=True)
class RepositoryPlan:
    """What the change does to the repository's Terraform, phase by phase."""

    roots: tuple[str, ...]  # every root found (repository paths)
    read: tuple[str, ...]  # the roots whose state was read, and how
    placements: tuple[Placement, ...]  # one per planned group Terraform manages
    phase1: Mapping[str, str]  # repository path -> text after phase 1 (changed files)
    phase2: Mapping[str, str]  # repository path -> text after phase 2 (changed files)
    manual: tuple[ManualStep, ...]
    notes: tuple[str, ...]
    missing_phase1: tuple[str, ...]

    def placement(self, group_id: str) -> Placement | None:
        return next((p for p in self.placements if p.group_id == group_id), None)


def _state_key(repo: Path, raw: str) -> str:
    path = Path(raw)
    if path.is_absolute():
        try:
            path = path.resolve().relative_to(repo)
        except ValueError:
            raise UsageError(
                f"--state: {raw} is not inside the repository {repo}",
                hint="name the root by its path in the repository, e.g. --state envs/prod=FILE",
            ) from None
    return PurePosixPath(path.as_posix()).as_posix().strip("/") or "."


def read_states(
    roots: Sequence[Root],
    repo: Path,
    *,
    state_files: Mapping[str, Path],
    terraform: TerraformCli,
    state_root: Path | None = None,
) -> tuple[list[tuple[Root, RootState]], list[str]]:
    given = {_state_key(repo, k): v for k, v in state_files.items()}
    by_rel = {r.root.rel: r for r in roots}
    unknown = sorted(set(given) - set(by_rel))
    if unknown:
        known = ", ".join(sorted(by_rel)) or "none"
        raise UsageError(
            f"--state {unknown[0]}=…: {unknown[0]} is not a Terraform root of the repository"
            f" (roots: {known})"
        )
    out: list[tuple[Root, RootState]] = []
    read: list[str] = []
    for root in roots:
        rel = root.root.rel
        if rel in given:
            out.append((root, read_state_file(given[rel])))
            read.append(f"{rel} (the --state file {given[rel].name})")
        elif manages_security_groups(root):
            where = (state_root / rel) if state_root is not None else root.root.path
            out.append((root, terraform.show_state(where, rel)))
            read.append(f"{rel} (terraform show)")
    return out, read


def _labels(groups: Sequence[GroupChange]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for group in groups:
        for rule in group.rules:
            if rule.peer.kind == "security_group" and rule.peer.name:
                labels.setdefault(rule.peer.value, slug(rule.peer.name))
    for group in groups:
        labels[group.group_id] = slug(group.name) or slug(group.group_id)
    return labels


def plan_repository(
    repo: Path,
    groups: Sequence[GroupChange],
    *,
    state_files: Mapping[str, Path] | None = None,
    terraform: TerraformCli | None = None,
    fmt: bool = True,
    state_root: Path | None = None,
    skip: tuple[str, ...] = (),
) -> RepositoryPlan:
    """Where each group lives in ``repo`` and the edits that carry out the plan there.

    Groups no root manages get no placement: the caller writes them as a standalone
    module. ``state_root`` is the checkout whose initialised roots ``terraform show``
    runs in, when ``repo`` is a temporary work tree of it; ``skip`` names repository
    paths that are not the team's Terraform (ztflows's standalone module). Raises
    TerraformConfigError / TerraformStateError on unreadable input.
    """
    repo = repo.resolve()
    terraform = terraform or TerraformCli()
    roots = discover_roots(repo, initialised_in=state_root, skip=skip)
    states, read = read_states(
        roots, repo, state_files=state_files or {}, terraform=terraform, state_root=state_root
    )
    homes = locate_groups(states, [g.group_id for g in groups])
    labels = _labels(groups)
    graphs: dict[tuple[str, str], ReferenceGraph] = {}
    results: list[GroupResult] = []
    placements: list[Placement] = []
    for group in sorted(groups, key=lambda g: g.group_id):
        home = homes.get(group.group_id)
        if home is None:
            continue
        if isinstance(home, list):
            placements.append(Placement(group.group_id, group.name, "manual", "; ".join(home)))
            results.append(_unplaceable(group, home))
            continue
        result = _edit_group(home, group, labels, graphs)
        results.append(result)
        placements.append(result.placement)
    phase1, phase2 = _apply(repo, [e for r in results for e in r.edits], terraform, fmt=fmt)
    return RepositoryPlan(
        roots=tuple(r.root.rel for r in roots),
        read=tuple(read),
        placements=tuple(placements),
        phase1=phase1,
        phase2=phase2,
        manual=tuple(m for r in results for m in r.manual),
        notes=tuple(dict.fromkeys(n for r in results for n in r.notes)),
        missing_phase1=tuple(m for r in results for m in r.missing_phase1),
    )


def _edit_group(
    home: GroupHome,
    group: GroupChange,
    labels: dict[str, str],
    graphs: dict[tuple[str, str], ReferenceGraph],
) -> GroupResult:
    if home.style == "community_module" and not home.problems:
        return CommunityEditor(home, group, labels=labels).plan()
    key = (home.root.root.rel, home.node.path)
    if key not in graphs and home.node.config is not None:
        graphs[key] = ReferenceGraph(home.node.config)
    return GroupEditor(home, group, labels=labels, graph=graphs.get(key)).plan()


def _unplaceable(group: GroupChange, reasons: list[str]) -> GroupResult:
    from zt_flows.tfrepo.edit import rule_text

    result = GroupResult(Placement(group.group_id, group.name, "manual", "; ".join(reasons)))
    for rule in group.rules:
        if rule.action == "add":
            result.manual.append(
                ManualStep(
                    group.group_id, 1, group.group_id, f"add {rule_text(rule, group.group_id)}"
                )
            )
        elif rule.action == "remove":
            result.manual.append(
                ManualStep(
                    group.group_id,
                    2,
                    group.group_id,
                    f"remove {rule_text(rule, group.group_id)} ({rule.existing_rule_id})",
                )
            )
    return result


def _apply(
    repo: Path, edits: list[TextEdit], terraform: TerraformCli, *, fmt: bool
) -> tuple[dict[str, str], dict[str, str]]:
    phase1: dict[str, str] = {}
    phase2: dict[str, str] = {}
    use_fmt = fmt and terraform.available()
    for rel, file_edits in sorted(by_path(edits).items()):
        original = read_tf_file(repo / rel, repo).text
        was_formatted = use_fmt and terraform.fmt(original, rel) == original
        texts: dict[Phase, str] = {}
        phases: tuple[Phase, ...] = (1, 2)
        for phase in phases:
            try:
                text = apply_edits(original, file_edits, phase)
            except OverlappingEditsError as exc:
                raise RuntimeError(f"ztflows produced overlapping edits: {exc}") from None
            if text != original:
                _check(rel, text)
                if was_formatted:
                    text = terraform.fmt(text, rel)
            texts[phase] = text
        if texts[1] != original:
            phase1[rel] = texts[1]
        if texts[2] != original or rel in phase1:
            phase2[rel] = texts[2]
    return phase1, phase2


def _check(rel: str, text: str) -> None:
    """An edited file must still be HCL (else it is a bug: nothing is committed)."""
    import hcl2

    try:
        scan(text)
        hcl2.loads(text)
    except (ScanError, Exception) as exc:  # noqa: BLE001 - any parse failure is our bug
        raise RuntimeError(f"the edited {rel} is not valid HCL ({type(exc).__name__})") from None


def phases_of(plan: RepositoryPlan, phase: Phase) -> Mapping[str, str]:
    return plan.phase1 if phase == 1 else plan.phase2


__all__ = ["RepositoryPlan", "TerraformStateError", "plan_repository"]
