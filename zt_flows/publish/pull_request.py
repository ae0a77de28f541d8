"""``ztflows pr``: the plan as a commit on a new branch of the user's infrastructure repo.

:func:`prepare_pull_request` writes the Terraform (and ``PULL_REQUEST.md``, the body)
into ``--path`` of a separate git worktree on a new branch, commits, and removes the
worktree: the user's checked-out branch and working tree are never touched, and the
commit holds nothing outside ``--path``. :func:`open_pull_request` pushes that branch
and opens the pull request through the GitHub REST API.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from zt_flows.errors import GitError, GitHubApiError
from zt_flows.findings import Finding
from zt_flows.outdir import write_output_dir
from zt_flows.publish.body import commit_message, pr_body, pr_title
from zt_flows.publish.git import Git
from zt_flows.publish.github import (
    DEFAULT_API_URL,
    check_api_url,
    create_pull_request,
    parse_github_repo,
    repo_from_remote,
)
from zt_flows.recommend.plan import Plan
from zt_flows.terraform.module import terraform_module
from zt_flows.text import last_day

DEFAULT_PATH = "modules/security-groups"
BODY_FILE = "PULL_REQUEST.md"
# GitHub rejects a body over 65,536 characters; the full text stays in BODY_FILE.
BODY_LIMIT = 65_000


@dataclass(frozen=True)
class PreparedPullRequest:
    repo: Path  # top level of the user's repository
    branch: str
    base: str  # the base branch's name, as the pull request targets it
    base_commit: str
    commit: str
    path: str  # the directory written, relative to the repository (POSIX)
    files: tuple[str, ...]  # repository paths the commit changes
    title: str
    body: str
    commit_message: str


@dataclass(frozen=True)
class OpenedPullRequest:
    prepared: PreparedPullRequest
    remote: str
    owner: str
    name: str
    number: int
    html_url: str


def default_branch(plan: Plan) -> str:
    if plan.window_end is None:
        return "ztflows/least-privilege"
    return f"ztflows/least-privilege-{last_day(plan.window_end)}"


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
) -> PreparedPullRequest:
    """Commit the plan's Terraform to a new branch of ``repo``; see the module docstring.

    Refuses (GitError) a working tree with uncommitted changes, an existing branch
    name, or a missing base branch. The new branch is created from ``base``.
    """
    git = Git(Git(repo).toplevel())
    rel = _relative_path(path)
    branch = branch or default_branch(plan)
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

    module = terraform_module(plan, findings=findings)
    body = pr_body(plan, module, findings, directory=f"`{rel}/`")
    message = commit_message(plan, module, rel)
    files = {**module.files, BODY_FILE: body}
    commit = _commit_in_worktree(git, branch, base_commit, rel, files, message)
    changed = git.run("diff", "--name-only", "-z", base_commit, commit).split("\0")
    return PreparedPullRequest(
        repo=git.path,
        branch=branch,
        base=base,
        base_commit=base_commit,
        commit=commit,
        path=rel,
        files=tuple(sorted(f for f in changed if f)),
        title=pr_title(plan),
        body=body,
        commit_message=message,
    )


def _commit_in_worktree(
    git: Git, branch: str, base_commit: str, rel: str, files: dict[str, str], message: str
) -> str:
    with tempfile.TemporaryDirectory(prefix="ztflows-pr-") as tmp:
        worktree = Path(tmp) / "worktree"
        git.run("worktree", "add", "--quiet", "-b", branch, str(worktree), base_commit)
        committed = False
        try:
            wt = Git(worktree)
            write_output_dir(worktree / rel, files)
            wt.run("add", "--all", "--", rel)
            if not wt.run("diff", "--cached", "--name-only", "--", rel).strip():
                raise GitError(
                    f"nothing to commit: {rel} on the base branch already holds this plan"
                )
            wt.run("commit", "--quiet", "--file", "-", input_text=message)
            commit = wt.resolve("HEAD")
            committed = True
        finally:
            git.run("worktree", "remove", "--force", str(worktree), check=False)
            git.run("worktree", "prune", check=False)
            if not committed:  # leave nothing behind: the branch is ours
                git.run("branch", "-D", branch, check=False)
    return commit


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


def open_pull_request(
    prepared: PreparedPullRequest,
    *,
    token: str,
    remote: str = "origin",
    api_url: str = DEFAULT_API_URL,
    github_repo: str | None = None,
) -> OpenedPullRequest:
    """Push the prepared branch to ``remote`` and open the pull request on GitHub."""
    git = Git(prepared.repo, secrets=[token])
    api_url = check_api_url(api_url)
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
    refspec = f"refs/heads/{prepared.branch}:refs/heads/{prepared.branch}"
    try:
        git.run("push", "--quiet", remote, refspec)
    except GitError as exc:
        raise GitError(
            exc.message,
            hint=f"the commit is on the local branch {prepared.branch}: fix access to"
            f" {remote} and push it (git push {remote} {prepared.branch}), then open the"
            " pull request by hand",
        ) from None
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
            f" hand with {prepared.path}/{BODY_FILE} as its description"
        )
        raise GitHubApiError(
            exc.message, hint=f"{exc.hint}; {pushed}" if exc.hint else pushed
        ) from None
    return OpenedPullRequest(prepared, remote, owner, name, ref.number, ref.html_url)
