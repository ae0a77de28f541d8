"""``ztflows pr``: the plan as commits on a new branch of the user's infrastructure repo.

:func:`prepare_pull_request` works in a separate git worktree on a new branch: groups the
repository's own Terraform manages are edited in place, in their style
(:mod:`zt_flows.tfrepo`); the others are written as the standalone module (and
``PULL_REQUEST.md``, the body) into ``--path``. It commits phase 1, phase 2 or both, and
removes the worktree: the user's checked-out branch and working tree are never touched.
:func:`open_pull_request` pushes that branch and opens the pull request through the
GitHub REST API.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Literal

from zt_flows.atomic import write_files, write_text
from zt_flows.errors import GitError, GitHubApiError, GitLabApiError, OutputError, UsageError
from zt_flows.findings import Finding
from zt_flows.outdir import write_output_dir
from zt_flows.publish.body import commit_message, phase_two_message, pr_body, pr_title
from zt_flows.publish.git import Git
from zt_flows.publish.github import (
    DEFAULT_API_URL,
    check_api_url,
    create_pull_request,
    parse_github_repo,
    repo_from_remote,
)
from zt_flows.publish.gitlab import api_url_for as gitlab_api_url_for
from zt_flows.publish.gitlab import check_api_url as check_gitlab_api_url
from zt_flows.publish.gitlab import (
    create_merge_request,
    is_gitlab_remote,
    remote_host_and_path,
)
from zt_flows.publish.gitlab import parse_project as parse_gitlab_project
from zt_flows.recommend.plan import Plan
from zt_flows.terraform.module import (
    PENDING_REMOVAL,
    PENDING_REMOVAL_IMPORTS,
    TerraformModule,
    terraform_module,
)
from zt_flows.text import last_day
from zt_flows.tfrepo import Placement, RepositoryPlan, TerraformCli, group_changes, plan_repository
from zt_flows.tfrepo.summary import repository_sections, standalone_placements

DEFAULT_PATH = "modules/security-groups"
BODY_FILE = "PULL_REQUEST.md"
# GitHub rejects a body over 65,536 characters; the full text stays in BODY_FILE.
BODY_LIMIT = 65_000


PhaseChoice = Literal["1", "2", "both"]
PHASES: tuple[PhaseChoice, ...] = ("1", "2", "both")


@dataclass(frozen=True)
class PreparedPullRequest:
    repo: Path  # top level of the user's repository
    branch: str
    base: str  # the base branch's name, as the pull request targets it
    base_commit: str
    commit: str  # the branch's head
    path: str  # the standalone module's directory, relative to the repository (POSIX)
    files: tuple[str, ...]  # repository paths the branch changes
    title: str
    body: str
    commit_message: str
    commits: tuple[str, ...] = ()  # one per phase written, oldest first
    placements: tuple[Placement, ...] = ()  # where each planned group went, and why
    body_file: str = ""  # where the body is kept: PATH/PULL_REQUEST.md, or inside .git
    phase: PhaseChoice = "1"


@dataclass(frozen=True)
class OpenedPullRequest:
    prepared: PreparedPullRequest
    remote: str
    owner: str
    name: str
    number: int
    html_url: str


def default_branch(plan: Plan, phase: PhaseChoice = "1") -> str:
    suffix = "-phase-2" if phase == "2" else ""
    if plan.window_end is None:
        return f"ztflows/least-privilege{suffix}"
    return f"ztflows/least-privilege-{last_day(plan.window_end)}{suffix}"


def _relative_path(path: str) -> str:
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = [p for p in pure.parts if p not in ("", ".")]
    if pure.is_absolute() or not parts or ".." in parts or parts[0] == ".git":
        raise GitError(
            f"--path: expected a directory inside the repository, found {path!r}",
            hint="for example modules/security-groups",
        )
    return "/".join(parts)


def _base_commit(git: Git, base: str, remote: str) -> str:
    # The remote's branch is what the pull request merges into; a local branch of the
    # same name may be behind it.
    for ref in (f"refs/remotes/{remote}/{base}", base):
        if git.has_ref(ref):
            return git.resolve(ref)
    raise GitError(
        f"base branch {base!r} not found (neither {remote}/{base} nor a local {base})",
        hint="pass --base with an existing branch, or git fetch first",
    )


def prepare_pull_request(
    plan: Plan,
    repo: Path,
    *,
    base: str = "main",
    branch: str | None = None,
    path: str = DEFAULT_PATH,
    findings: Sequence[Finding] = (),
    remote: str = "origin",
    phase: PhaseChoice = "1",
    state_files: Mapping[str, Path] | None = None,
    terraform: str = "terraform",
) -> PreparedPullRequest:
    """Commit the plan to a new branch of ``repo``; see the module docstring.

    Groups the repository's Terraform manages are edited in place, in their style
    (:mod:`zt_flows.tfrepo`); the others go to the standalone module at ``path``.
    ``phase`` "1" commits phase 1, "both" phase 1 and phase 2 as two commits, "2" only
    phase 2 (phase 1 must be merged into ``base`` and applied). Refuses (GitError) a
    working tree with uncommitted changes, an existing branch name, or a missing base
    branch. The new branch is created from ``base``.
    """
    git = Git(Git(repo).toplevel())
    rel = _relative_path(path)
    branch = branch or default_branch(plan, phase)
    if not git.valid_branch_name(branch):
        raise GitError(f"--branch: {branch!r} is not a valid branch name")
    for ref in (f"refs/heads/{branch}", f"refs/remotes/{remote}/{branch}"):
        if git.has_ref(ref):
            raise GitError(
                f"branch {branch!r} already exists ({ref})",
                hint="pass another --branch, or delete the old branch",
            )
    dirty = git.dirty_files()
    if dirty:
        shown = ", ".join(dirty[:5]) + (f" (+{len(dirty) - 5} more)" if len(dirty) > 5 else "")
        raise GitError(
            f"{git.path} has uncommitted changes: {shown}",
            hint="commit or stash them first; ztflows pr only commits what it writes",
        )
    base_commit = _base_commit(git, base, remote)
    whole = terraform_module(plan, findings=findings)  # checks the plan before anything
    with _worktree(git, branch, base_commit) as wt:
        repository = plan_repository(
            wt.path,
            group_changes(plan),
            state_files=state_files,
            terraform=TerraformCli(terraform),
            state_root=git.path,
            skip=(rel,),
        )
        publishing = _Publishing(git, wt, plan, whole, findings, rel, repository, phase)
        commits = publishing.commit_all()
    commit = commits[-1]
    changed = git.run("diff", "--name-only", "-z", base_commit, commit).split("\0")
    return PreparedPullRequest(
        repo=git.path,
        branch=branch,
        base=base,
        base_commit=base_commit,
        commit=commit,
        path=rel,
        files=tuple(sorted(f for f in changed if f)),
        title=pr_title(plan) + (" (phase 2)" if phase == "2" else ""),
        body=publishing.body,
        commit_message=publishing.messages[0],
        commits=tuple(commits),
        placements=tuple(publishing.placements),
        body_file=publishing.body_file,
        phase=phase,
    )


@contextmanager
def _worktree(git: Git, branch: str, base_commit: str) -> Iterator[Git]:
    """A temporary worktree on the new branch; the branch goes too if nothing is committed."""
    with tempfile.TemporaryDirectory(prefix="ztflows-pr-") as tmp:
        worktree = Path(tmp) / "worktree"
        git.run("worktree", "add", "--quiet", "-b", branch, str(worktree), base_commit)
        committed = False
        try:
            yield Git(worktree)
            committed = True
        finally:
            git.run("worktree", "remove", "--force", str(worktree), check=False)
            git.run("worktree", "prune", check=False)
            if not committed:  # leave nothing behind: the branch is ours
                git.run("branch", "-D", branch, check=False)


class _Publishing:
    """The commits of one run: phase 1, phase 2 or both, in the temporary worktree."""

    def __init__(
        self,
        git: Git,
        wt: Git,
        plan: Plan,
        whole: TerraformModule,
        findings: Sequence[Finding],
        rel: str,
        repository: RepositoryPlan,
        phase: PhaseChoice,
    ) -> None:
        self.git, self.wt, self.plan, self.rel, self.phase = git, wt, plan, rel, phase
        self.repository = repository
        placed = {p.group_id for p in repository.placements}
        alone = [g for g in plan.security_groups if g.group_id not in placed]
        self.standalone = (
            terraform_module(replace(plan, security_groups=tuple(alone)), findings=findings)
            if alone and phase != "2"
            else None
        )
        self.placements = [
            *repository.placements,
            *standalone_placements([(g.group_id, g.name) for g in alone], f"{rel}/"),
        ]
        directory = f"`{rel}/`" if self.standalone is not None else "the edited files"
        sections = (
            repository_sections(repository, self.placements, phases=phase)
            if repository.placements
            else []
        )
        self.body = pr_body(
            plan,
            whole,
            findings,
            directory=directory,
            repository=sections,
            standalone=self.standalone,
        )
        self.body_file = (
            f"{rel}/{BODY_FILE}" if self.standalone is not None else self._body_outside()
        )
        self.messages: list[str] = []

    def _body_outside(self) -> str:
        """No standalone module: the body is kept in .git, never committed."""
        common = Path(self.git.run("rev-parse", "--git-common-dir").strip())
        if not common.is_absolute():
            common = self.git.path / common
        folder = common / "ztflows"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / (
            self.wt.run("rev-parse", "--abbrev-ref", "HEAD").strip().replace("/", "_") + ".md"
        )
        write_text(target, self.body)
        return str(target)

    def _write(self, files: Mapping[str, str]) -> None:
        for name in files:
            (self.wt.path / name).parent.mkdir(parents=True, exist_ok=True)
        write_files(self.wt.path, dict(sorted(files.items())))

    def _commit(self, message: str, paths: Sequence[str]) -> str:
        self.wt.run("add", "--all", "--", *paths)
        if not self.wt.run("diff", "--cached", "--name-only").strip():
            raise GitError(
                f"nothing to commit: the base branch already holds this plan ({', '.join(paths)})"
            )
        self.wt.run("commit", "--quiet", "--file", "-", input_text=message)
        self.messages.append(message)
        return self.wt.resolve("HEAD")

    def commit_all(self) -> list[str]:
        repository, rel = self.repository, self.rel
        commits: list[str] = []
        if self.phase == "2":
            if repository.phase1 or repository.missing_phase1:
                pending = sorted(repository.phase1) or list(repository.missing_phase1)
                raise UsageError(
                    f"--phase 2: phase 1 is not merged and applied on this base branch"
                    f" ({', '.join(pending[:3])} would still change in phase 1)",
                    hint="merge and apply phase 1 first (ztflows pr without --phase), then"
                    " observe, then run --phase 2",
                )
            removed = self._pending_removal_files()
            self._write(repository.phase2)
            for name in removed:
                (self.wt.path / name).unlink()
            message = phase_two_message(self.plan, self.placements, rel)
            commits.append(self._commit(message, [*repository.phase2, *removed] or ["."]))
            return commits
        self._write(repository.phase1)
        paths = list(repository.phase1)
        if self.standalone is not None:
            files = {**self.standalone.files, BODY_FILE: self.body}
            try:
                write_output_dir(self.wt.path / rel, files)
            except OutputError as exc:
                raise OutputError(
                    f"--path {rel}: {exc.message.split(': ', 1)[-1]}".replace(
                        str(self.wt.path / rel), rel
                    ),
                    hint="the standalone module needs a directory of its own: choose a new"
                    " or ztflows-written one with --path",
                ) from None
            paths.append(rel)
        message = commit_message(self.plan, self.standalone, rel, self.placements)
        commits.append(self._commit(message, paths or ["."]))
        if self.phase == "both":
            removed = self._pending_removal_files()
            self._write(repository.phase2)
            for name in removed:
                (self.wt.path / name).unlink()
            if repository.phase2 or removed:
                message = phase_two_message(self.plan, self.placements, rel)
                commits.append(self._commit(message, [*repository.phase2, *removed]))
        return commits

    def _pending_removal_files(self) -> list[str]:
        return [
            f"{self.rel}/{name}"
            for name in (PENDING_REMOVAL, PENDING_REMOVAL_IMPORTS)
            if (self.wt.path / self.rel / name).is_file()
        ]


def api_body(body: str) -> str:
    """The body as sent to GitHub: cut at a line under the limit if it is too long."""
    if len(body) <= BODY_LIMIT:
        return body
    cut = body.rfind("\n", 0, BODY_LIMIT - 200)
    return (
        body[:cut]
        + f"\n\n**The description is cut here**: the full text is in `{BODY_FILE}` on this"
        " branch.\n"
    )


Forge = Literal["github", "gitlab"]
FORGES = ("auto", "github", "gitlab")  # auto: from the remote's host


def forge_of(repo: Path, remote: str, choice: str = "auto") -> Forge:
    """GitHub or GitLab: as chosen, else GitLab when the remote is a GitLab host."""
    if choice in ("github", "gitlab"):
        return "gitlab" if choice == "gitlab" else "github"
    git = Git(Git(repo).toplevel())
    try:
        url = git.remote_url(remote)
    except GitError:
        return "github"
    return "gitlab" if is_gitlab_remote(url) else "github"


def _push(git: Git, prepared: PreparedPullRequest, remote: str, what: str) -> None:
    refspec = f"refs/heads/{prepared.branch}:refs/heads/{prepared.branch}"
    try:
        git.run("push", "--quiet", remote, refspec)
    except GitError as exc:
        raise GitError(
            exc.message,
            hint=f"the commit is on the local branch {prepared.branch}: fix access to"
            f" {remote} and push it (git push {remote} {prepared.branch}), then open the"
            f" {what} by hand",
        ) from None


def open_pull_request(
    prepared: PreparedPullRequest,
    *,
    token: str,
    remote: str = "origin",
    api_url: str | None = None,
    github_repo: str | None = None,
    forge: Forge = "github",
    gitlab_project: str | None = None,
) -> OpenedPullRequest:
    """Push the prepared branch to ``remote`` and open the pull (merge) request."""
    if forge == "gitlab":
        return _open_merge_request(
            prepared, token=token, remote=remote, api_url=api_url, project=gitlab_project
        )
    git = Git(prepared.repo, secrets=[token])
    api_url = check_api_url(api_url or DEFAULT_API_URL)
    if github_repo is not None:
        owner, name = parse_github_repo(github_repo)
    else:
        found = repo_from_remote(git.remote_url(remote))
        if found is None:
            raise GitError(
                f"cannot tell the GitHub repository from the URL of remote {remote!r}",
                hint="pass --github-repo owner/name",
            )
        owner, name = found
    _push(git, prepared, remote, "pull request")
    try:
        ref = create_pull_request(
            api_url=api_url,
            owner=owner,
            repo=name,
            token=token,
            title=prepared.title,
            head=prepared.branch,
            base=prepared.base,
            body=api_body(prepared.body),
        )
    except GitHubApiError as exc:
        pushed = (
            f"the branch {prepared.branch} is pushed to {remote}: open the pull request by"
            f" hand with {prepared.body_file or prepared.path + '/' + BODY_FILE} as its"
            " description"
        )
        raise GitHubApiError(
            exc.message, hint=f"{exc.hint}; {pushed}" if exc.hint else pushed
        ) from None
    return OpenedPullRequest(prepared, remote, owner, name, ref.number, ref.html_url)


def _open_merge_request(
    prepared: PreparedPullRequest,
    *,
    token: str,
    remote: str,
    api_url: str | None,
    project: str | None,
) -> OpenedPullRequest:
    git = Git(prepared.repo, secrets=[token])
    url = git.remote_url(remote)
    if project is not None:
        path = parse_gitlab_project(project)
    else:
        found = remote_host_and_path(url)
        if found is None:
            raise GitError(
                f"cannot tell the GitLab project from the URL of remote {remote!r}",
                hint="pass --gitlab-project group/project",
            )
        path = found[1]
    base_url = api_url or gitlab_api_url_for(url)
    if base_url is None:
        raise GitError(
            f"cannot tell the GitLab API from the URL of remote {remote!r}",
            hint="pass --api-url https://HOST/api/v4",
        )
    base_url = check_gitlab_api_url(base_url)
    _push(git, prepared, remote, "merge request")
    try:
        ref = create_merge_request(
            api_url=base_url,
            project=path,
            token=token,
            title=prepared.title,
            source_branch=prepared.branch,
            target_branch=prepared.base,
            description=prepared.body,
        )
    except GitLabApiError as exc:
        pushed = (
            f"the branch {prepared.branch} is pushed to {remote}: open the merge request by"
            f" hand with {prepared.body_file} as its description"
        )
        raise GitLabApiError(
            exc.message, hint=f"{exc.hint}; {pushed}" if exc.hint else pushed
        ) from None
    namespace, _, name = path.rpartition("/")
    return OpenedPullRequest(prepared, remote, namespace, name, ref.number, ref.html_url)
