"""`ztflows pr`: registered on the application by :func:`register`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from zt_flows.cli.console import stderr_console
from zt_flows.cli.options import (
    AWS_OPTIONS,
    QUIET_OPTION,
    InventoryOpt,
    choice,
    with_settings,
)
from zt_flows.errors import UsageError
from zt_flows.findings import read_findings
from zt_flows.publish import DEFAULT_API_URL, DEFAULT_PATH, FORGES, PHASES
from zt_flows.settings import Settings

if TYPE_CHECKING:
    from zt_flows.publish import PhaseChoice

GITHUB = "GitHub or GitLab (--open)"
TERRAFORM = "Your Terraform"
PR_HELP = (
    "Commit a plan's Terraform to a new branch of your infrastructure repository, and "
    "optionally open the pull request.\n\n"
    "Groups your Terraform already manages are edited where they are written, in their "
    "style (inline ingress/egress blocks, aws_security_group_rule, "
    "aws_vpc_security_group_*_rule, or the terraform-aws-modules/security-group module's "
    "inputs): ztflows finds the roots in the repository and reads their state (terraform "
    "show -json, or --state ROOT=FILE). Groups no Terraform in the repository manages go "
    "to a standalone module with import blocks in --path (as `ztflows terraform` writes "
    "it). The pull request description (exposure before and after, where each group went "
    "and why, every change with its evidence, findings, the replay, rollout and rollback) "
    "is PULL_REQUEST.md in --path, or kept in .git/ztflows/ when nothing goes there.\n\n"
    "Phase 1 adds the narrow rules; phase 2 removes the broad ones. --phase 1 (default) "
    "commits phase 1; merge, apply, observe with `ztflows check`, then --phase 2 commits "
    "the removals on a new branch. --phase both writes the two as two commits.\n\n"
    "It works in a temporary git worktree: your checked-out branch and working tree are "
    "left as they are. It refuses uncommitted changes and an existing branch name.\n\n"
    "The plan is verified first against the inventory (--inventory, or collected from AWS "
    "with your credentials): a plan.json edited to allow more than a group allows today, "
    "or whose exposure figures do not follow from the inventory, is refused (exit 2) with "
    "the rule named. The exposure in the description is the one measured then.\n\n"
    "With --open, it pushes the branch to --remote and opens the pull request through the "
    "GitHub REST API, authenticated with the GITHUB_TOKEN environment variable, or, when the "
    "remote is a GitLab host (or --forge gitlab), the merge request through the GitLab REST "
    "API with GITLAB_TOKEN (never a command-line option, so tokens stay out of shell "
    "history). Pushing uses your own git credentials.\n\n"
    "[bold]Examples[/bold]\n\n"
    "  ztflows pr out/plan.json --repo ~/src/infra --inventory inventory/\n\n"
    "  GITHUB_TOKEN=... ztflows pr out/plan.json --repo ~/src/infra --findings "
    "out/findings.json --open\n\n"
    "  ztflows pr plan.json --repo . --base develop --path terraform/sg --open "
    "--api-url https://github.example.com/api/v3\n\n"
    "  ztflows pr plan.json --repo ~/src/infra --state envs/prod=prod.tfstate --phase 2\n\n"
    "  GITLAB_TOKEN=... ztflows pr plan.json --repo ~/src/infra --open\n"
)


def _state_files(values: list[str] | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for value in values or []:
        root, sep, file = value.partition("=")
        if not sep or not root or not file:
            raise UsageError(
                f"--state: expected ROOT=FILE, found {value!r}",
                hint="ROOT is the root module's directory in the repository, FILE the output"
                " of terraform state pull run there, e.g. --state envs/prod=prod.tfstate",
            )
        if root in out:
            raise UsageError(f"--state: {root} is given twice")
        out[root] = Path(file)
    return out


@with_settings(*AWS_OPTIONS, QUIET_OPTION)
def pr(
    plan_file: Annotated[
        Path,
        typer.Argument(
            metavar="PLAN", help="plan.json written by `ztflows recommend`.", dir_okay=False
        ),
    ],
    repo: Annotated[
        Path,
        typer.Option(
            "--repo", help="A git checkout of the infrastructure repository.", file_okay=False
        ),
    ],
    inventory: InventoryOpt = None,
    base: Annotated[
        str, typer.Option("--base", help="Branch to start from and to merge into.")
    ] = "main",
    branch: Annotated[
        str | None,
        typer.Option(
            "--branch",
            help="New branch name (default: ztflows/least-privilege-<last day of the window>).",
            show_default=False,
        ),
    ] = None,
    path: Annotated[
        str,
        typer.Option(
            "--path", help="Directory inside the repository for the Terraform (a root module)."
        ),
    ] = DEFAULT_PATH,
    findings: Annotated[
        Path | None,
        typer.Option(
            "--findings",
            help="findings.json to list in the pull request and beside the rules.",
            dir_okay=False,
            show_default=False,
        ),
    ] = None,
    phase: Annotated[
        str,
        choice(
            "--phase",
            PHASES,
            help="1: add the narrow rules; 2: remove the broad ones (phase 1 merged and"
            " applied); both: two commits.",
        ),
    ] = "1",
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            metavar="ROOT=FILE",
            help="A root's state, from terraform state pull (repeat for several roots);"
            " other roots are read with terraform show -json.",
            rich_help_panel=TERRAFORM,
            show_default=False,
        ),
    ] = None,
    terraform_bin: Annotated[
        str,
        typer.Option(
            "--terraform",
            envvar="ZTFLOWS_TERRAFORM",
            help="The terraform executable (to read states and format edited files).",
            rich_help_panel=TERRAFORM,
        ),
    ] = "terraform",
    remote: Annotated[
        str, typer.Option("--remote", help="Git remote to push to.", rich_help_panel=GITHUB)
    ] = "origin",
    open_: Annotated[
        bool,
        typer.Option(
            "--open",
            help="Push the branch and open the pull request (GitHub, GITHUB_TOKEN) or merge"
            " request (GitLab, GITLAB_TOKEN).",
            rich_help_panel=GITHUB,
        ),
    ] = False,
    forge: Annotated[
        str,
        choice(
            "--forge",
            FORGES,
            help="Where to open it; auto: GitLab when the remote's host is gitlab.com or"
            " gitlab.*, else GitHub.",
            rich_help_panel=GITHUB,
        ),
    ] = "auto",
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help=f"API URL (default: {DEFAULT_API_URL}, or https://HOST/api/v4 for GitLab);"
            " for GitHub Enterprise Server https://HOST/api/v3.",
            rich_help_panel=GITHUB,
            show_default=False,
        ),
    ] = None,
    github_repo: Annotated[
        str | None,
        typer.Option(
            "--github-repo",
            metavar="OWNER/NAME",
            help="The GitHub repository (default: read from the remote's URL).",
            rich_help_panel=GITHUB,
            show_default=False,
        ),
    ] = None,
    gitlab_project: Annotated[
        str | None,
        typer.Option(
            "--gitlab-project",
            metavar="GROUP/PROJECT",
            help="The GitLab project, subgroups included (default: the remote's path).",
            rich_help_panel=GITHUB,
            show_default=False,
        ),
    ] = None,
    *,
    settings: Settings,
) -> None:
    from zt_flows.cli.common import trusted_plan
    from zt_flows.publish import (
        check_api_url,
        check_gitlab_api_url,
        forge_of,
        open_pull_request,
        parse_github_repo,
        parse_gitlab_project,
        prepare_pull_request,
    )

    where = forge_of(repo, remote, forge) if open_ else "github"
    variable = "GITLAB_TOKEN" if where == "gitlab" else "GITHUB_TOKEN"
    token = os.environ.get(variable, "").strip()
    if open_:
        # Check everything --open needs before committing anything.
        if not token:
            what = "merge requests" if where == "gitlab" else "pull requests"
            raise UsageError(
                f"--open needs a {'GitLab' if where == 'gitlab' else 'GitHub'} token in the"
                f" {variable} environment variable",
                hint=f"create a token that may write {what}, or leave out --open",
            )
        if where == "gitlab":
            if api_url is not None:
                check_gitlab_api_url(api_url)
            if gitlab_project is not None:
                parse_gitlab_project(gitlab_project)
        else:
            check_api_url(api_url or DEFAULT_API_URL)
            if github_repo is not None:
                parse_github_repo(github_repo)
    states = _state_files(state)
    found = read_findings(findings) if findings is not None else ()
    verified, _ = trusted_plan(plan_file, inventory, settings)
    prepared = prepare_pull_request(
        verified.plan,
        repo,
        base=base,
        branch=branch,
        path=path,
        findings=found,
        remote=remote,
        phase=cast("PhaseChoice", phase),  # one of PHASES: --phase is a choice
        state_files=states,
        terraform=terraform_bin,
    )
    commits = ", ".join(c[:12] for c in prepared.commits)
    stderr_console.print(
        f"Committed {len(prepared.files)} files on branch {prepared.branch} ({commits}),"
        f" based on {prepared.base}. Your checked-out branch is unchanged.",
        markup=False,
        soft_wrap=True,
    )
    for placement in prepared.placements:
        if placement.outcome != "standalone":
            stderr_console.print(
                f"  {placement.name} ({placement.group_id}): {placement.outcome}, {placement.why}",
                markup=False,
                soft_wrap=True,
            )
    if not open_:
        stderr_console.print(
            f"Next: git push {remote} {prepared.branch}, and open the pull request with"
            f" {prepared.body_file} as its description (or re-run with --open).",
            markup=False,
            soft_wrap=True,
        )
        typer.echo(prepared.branch)
        return
    opened = open_pull_request(
        prepared,
        token=token,
        remote=remote,
        api_url=api_url,
        github_repo=github_repo,
        forge=where,
        gitlab_project=gitlab_project,
    )
    kind = (
        f"merge request !{opened.number}"
        if where == "gitlab"
        else (f"pull request #{opened.number}")
    )
    stderr_console.print(
        f"Pushed {prepared.branch} to {remote} and opened {kind} in {opened.owner}/{opened.name}.",
        markup=False,
        soft_wrap=True,
    )
    typer.echo(opened.html_url)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("pr", help=PR_HELP, no_args_is_help=True)(pr)
