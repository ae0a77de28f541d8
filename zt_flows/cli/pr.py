"""`ztflows pr`: registered on the application by :func:`register`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from zt_flows.cli.console import stderr_console
from zt_flows.cli.options import AWS_OPTIONS, QUIET_OPTION, InventoryOpt, with_settings
from zt_flows.errors import UsageError
from zt_flows.findings import read_findings
from zt_flows.publish import DEFAULT_API_URL, DEFAULT_PATH
from zt_flows.settings import Settings

GITHUB = "GitHub (--open)"
PR_HELP = (
    "Commit a plan's Terraform to a new branch of your infrastructure repository, and "
    "optionally open the pull request.\n\n"
    "Writes the Terraform (as `ztflows terraform` does) and PULL_REQUEST.md, the pull "
    "request description (exposure before and after, every change with its evidence, "
    "findings, the replay result, rollout and rollback), into --path, and commits them on "
    "a new branch made from --base. It works in a temporary git worktree: your checked-out "
    "branch and working tree are left as they are, and nothing outside --path is "
    "committed. It refuses uncommitted changes and an existing branch name.\n\n"
    "The plan is verified first against the inventory (--inventory, or collected from AWS "
    "with your credentials): a plan.json edited to allow more than a group allows today, "
    "or whose exposure figures do not follow from the inventory, is refused (exit 2) with "
    "the rule named. The exposure in the description is the one measured then.\n\n"
    "With --open, it pushes the branch to --remote and opens the pull request through the "
    "GitHub REST API, authenticated with the GITHUB_TOKEN environment variable (never a "
    "command-line option, so the token stays out of shell history). Pushing uses your own "
    "git credentials.\n\n"
    "[bold]Examples[/bold]\n\n"
    "  ztflows pr out/plan.json --repo ~/src/infra --inventory inventory/\n\n"
    "  GITHUB_TOKEN=... ztflows pr out/plan.json --repo ~/src/infra --findings "
    "out/findings.json --open\n\n"
    "  ztflows pr plan.json --repo . --base develop --path terraform/sg --open "
    "--api-url https://github.example.com/api/v3\n"
)


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
    remote: Annotated[
        str, typer.Option("--remote", help="Git remote to push to.", rich_help_panel=GITHUB)
    ] = "origin",
    open_: Annotated[
        bool,
        typer.Option(
            "--open",
            help="Push the branch and open the pull request (needs GITHUB_TOKEN).",
            rich_help_panel=GITHUB,
        ),
    ] = False,
    api_url: Annotated[
        str,
        typer.Option(
            "--api-url",
            help="GitHub API URL; for GitHub Enterprise Server https://HOST/api/v3.",
            rich_help_panel=GITHUB,
        ),
    ] = DEFAULT_API_URL,
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
    *,
    settings: Settings,
) -> None:
    from zt_flows.cli.common import trusted_plan
    from zt_flows.publish import (
        check_api_url,
        open_pull_request,
        parse_github_repo,
        prepare_pull_request,
    )

    token = os.environ.get("GITHUB_TOKEN", "").strip()
    if open_:
        # Check everything --open needs before committing anything.
        if not token:
            raise UsageError(
                "--open needs a GitHub token in the GITHUB_TOKEN environment variable",
                hint="create a token that may write pull requests, or leave out --open",
            )
        check_api_url(api_url)
        if github_repo is not None:
            parse_github_repo(github_repo)
    found = read_findings(findings) if findings is not None else ()
    verified, _ = trusted_plan(plan_file, inventory, settings)
    prepared = prepare_pull_request(
        verified.plan, repo, base=base, branch=branch, path=path, findings=found, remote=remote
    )
    stderr_console.print(
        f"Committed {len(prepared.files)} files under {prepared.path}/ on branch"
        f" {prepared.branch} ({prepared.commit[:12]}), based on {prepared.base}."
        f" Your checked-out branch is unchanged.",
        markup=False,
        soft_wrap=True,
    )
    if not open_:
        stderr_console.print(
            f"Next: git push {remote} {prepared.branch}, and open the pull request with"
            f" {prepared.path}/PULL_REQUEST.md as its description (or re-run with --open).",
            markup=False,
            soft_wrap=True,
        )
        typer.echo(prepared.branch)
        return
    opened = open_pull_request(
        prepared, token=token, remote=remote, api_url=api_url, github_repo=github_repo
    )
    stderr_console.print(
        f"Pushed {prepared.branch} to {remote} and opened pull request #{opened.number}"
        f" in {opened.owner}/{opened.name}.",
        markup=False,
        soft_wrap=True,
    )
    typer.echo(opened.html_url)


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    app.command("pr", help=PR_HELP, no_args_is_help=True)(pr)
