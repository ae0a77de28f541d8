"""Publishing a plan: a commit on a new branch of the team's repository, and a pull request.

Public API: :func:`prepare_pull_request` (the Terraform and ``PULL_REQUEST.md`` committed
on a new branch, in a worktree of its own) and :func:`open_pull_request` (push it, open the
pull request). The seams are modules: ``git`` drives the git command line and knows no
host; ``github`` speaks the GitHub REST API and knows no git; ``body`` writes the title,
body and commit message from the plan and the rendered Terraform; ``pull_request`` puts
them together.
"""

from zt_flows.publish.body import commit_message, pr_body, pr_title
from zt_flows.publish.github import DEFAULT_API_URL, check_api_url, parse_github_repo
from zt_flows.publish.pull_request import (
    BODY_FILE,
    DEFAULT_PATH,
    OpenedPullRequest,
    PreparedPullRequest,
    open_pull_request,
    prepare_pull_request,
)

__all__ = [
    "BODY_FILE",
    "DEFAULT_API_URL",
    "DEFAULT_PATH",
    "OpenedPullRequest",
    "PreparedPullRequest",
    "check_api_url",
    "commit_message",
    "open_pull_request",
    "parse_github_repo",
    "pr_body",
    "pr_title",
    "prepare_pull_request",
]
