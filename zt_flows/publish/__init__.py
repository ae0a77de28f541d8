"""Publishing a plan: a commit on a new branch of the team's repository, and a pull request.

Public API: :func:`prepare_pull_request` (the Terraform and ``PULL_REQUEST.md`` committed
on a new branch, in a worktree of its own) and :func:`open_pull_request` (push it, open the
pull request). The seams are modules: ``git`` drives the git command line and knows no
host; ``github`` and ``gitlab`` speak the GitHub and GitLab REST APIs and know no git;
``body`` writes the title, body and commit message from the plan, the rendered Terraform
and where each group went (:mod:`zt_flows.tfrepo`); ``pull_request`` puts them together:
groups the repository's Terraform manages are edited in place, the others get the
standalone module.
"""

from zt_flows.publish.body import commit_message, pr_body, pr_title
from zt_flows.publish.github import DEFAULT_API_URL, check_api_url, parse_github_repo
from zt_flows.publish.gitlab import check_api_url as check_gitlab_api_url
from zt_flows.publish.gitlab import parse_project as parse_gitlab_project
from zt_flows.publish.pull_request import (
    BODY_FILE,
    DEFAULT_PATH,
    FORGES,
    PHASES,
    Forge,
    OpenedPullRequest,
    PhaseChoice,
    PreparedPullRequest,
    forge_of,
    open_pull_request,
    prepare_pull_request,
)

__all__ = [
    "BODY_FILE",
    "DEFAULT_API_URL",
    "DEFAULT_PATH",
    "FORGES",
    "PHASES",
    "Forge",
    "OpenedPullRequest",
    "PhaseChoice",
    "PreparedPullRequest",
    "check_api_url",
    "check_gitlab_api_url",
    "commit_message",
    "forge_of",
    "open_pull_request",
    "parse_github_repo",
    "parse_gitlab_project",
    "pr_body",
    "pr_title",
    "prepare_pull_request",
]
