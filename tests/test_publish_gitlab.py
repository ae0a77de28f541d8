"""ztflows pr --open against GitLab: a local HTTP server standing in for the GitLab REST API.

The clone's remote is named as a GitLab project (``https://gitlab.example.com/acme/
platform/infra.git``, a subgroup) while pushes go to a local bare repository
(``git remote set-url --push``): the merge request is opened for the project the remote
names, after the branch is really pushed.
"""

# ruff: noqa: F811 (the fixtures imported from test_publish are parameters here)
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.forges import FakeForge, serve_forge
from test_publish import BRANCH, INVENTORY, PATH, Repos, git, isolated_git, repos  # noqa: F401 (fixtures)

from zt_flows.cli import main
from zt_flows.errors import GitLabApiError
from zt_flows.publish.gitlab import create_merge_request, is_gitlab_remote, remote_host_and_path
from zt_flows.publish.pull_request import default_branch
from zt_flows.recommend.plan import read_plan

TOKEN = "glpat-TESTtoken0123456789ab"  # a fake, for the fake server
REMOTE = "https://gitlab.example.com/acme/platform/infra.git"


@pytest.fixture
def gitlab() -> Iterator[FakeForge]:
    with serve_forge("/api/v4", content_type="application/json") as fake:
        yield fake


def created(iid: int = 5) -> dict[str, Any]:
    """The fields of GitLab's 201 answer a client reads, in GitLab's shape."""
    return {
        "id": 31_415_926,
        "iid": iid,
        "project_id": 271_828,
        "title": "Least-privilege security groups from VPC Flow Logs",
        "state": "opened",
        "source_branch": BRANCH,
        "target_branch": "main",
        "web_url": f"https://gitlab.example.com/acme/platform/infra/-/merge_requests/{iid}",
    }


def pr_args(plan: Path, repos: Repos) -> list[str]:
    """``ztflows pr`` on the sample's plan, verified against the sample's inventory."""
    return ["pr", str(plan), "--inventory", str(INVENTORY), "--repo", str(repos.clone)]


@pytest.fixture
def gitlab_remote(repos: Repos) -> Repos:
    git(repos.clone, "remote", "set-url", "origin", REMOTE)
    git(repos.clone, "remote", "set-url", "--push", "origin", str(repos.remote))
    return repos


def test_open_creates_the_merge_request(
    gitlab_remote: Repos,
    gitlab: FakeForge,
    sample_data_plan: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gitlab.response = created(5)
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    branch = default_branch(read_plan(sample_data_plan))
    code = main([*pr_args(sample_data_plan, gitlab_remote), "--open", "--api-url", gitlab.url])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == "https://gitlab.example.com/acme/platform/infra/-/merge_requests/5"
    assert "merge request !5 in acme/platform/infra" in err
    assert TOKEN not in out + err
    (request,) = gitlab.requests
    assert request["path"] == "/api/v4/projects/acme%2Fplatform%2Finfra/merge_requests"
    assert request["headers"]["private-token"] == TOKEN
    assert "authorization" not in request["headers"]
    sent = request["json"]
    assert set(sent) == {"source_branch", "target_branch", "title", "description"}
    assert sent["source_branch"] == branch
    assert sent["target_branch"] == "main"
    # The branch is on the remote, and the description is the committed body.
    assert sent["description"] == git(
        gitlab_remote.remote, "show", f"refs/heads/{branch}:{PATH}/PULL_REQUEST.md"
    )


def test_gitlab_refusal_is_one_line_without_the_token(
    gitlab_remote: Repos,
    gitlab: FakeForge,
    sample_data_plan: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gitlab.status = 409
    gitlab.response = {
        "message": ["Another open merge request already exists for this source branch: !4"]
    }
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    code = main([*pr_args(sample_data_plan, gitlab_remote), "--open", "--api-url", gitlab.url])
    out, err = capsys.readouterr()
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: GitLab API: 409 Another open merge request already exists for this source"
        " branch: !4 (acme/platform/infra)"
    ]
    assert f"{default_branch(read_plan(sample_data_plan))} is pushed to origin" in err
    assert TOKEN not in out + err


def test_open_needs_the_gitlab_token_before_committing(
    gitlab_remote: Repos,
    sample_data_plan: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "not the one")
    assert main([*pr_args(sample_data_plan, gitlab_remote), "--open"]) == 2
    assert "GITLAB_TOKEN" in capsys.readouterr().err
    assert git(gitlab_remote.clone, "branch", "--list").split() == ["*", "main"]


def test_bad_token_message(gitlab: FakeForge) -> None:
    gitlab.status = 401
    gitlab.response = {"message": "401 Unauthorized"}
    with pytest.raises(GitLabApiError) as info:
        create_merge_request(
            api_url=gitlab.url,
            project="acme/infra",
            token=TOKEN,
            title="t",
            source_branch="b",
            target_branch="main",
            description="d",
        )
    assert str(info.value) == "GitLab API: 401 401 Unauthorized (acme/infra)"
    assert "GITLAB_TOKEN" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("url", "gitlab", "path"),
    [
        ("https://gitlab.com/acme/infra.git", True, "acme/infra"),
        ("git@gitlab.com:acme/sub/infra.git", True, "acme/sub/infra"),
        ("ssh://git@gitlab.example.com:2222/acme/infra", True, "acme/infra"),
        ("https://oauth2:tok@gitlab.corp.example/acme/infra.git", True, "acme/infra"),
        ("https://git.corp.example/acme/infra.git", False, "acme/infra"),
        ("https://github.com/acme/infra.git", False, "acme/infra"),
        ("/srv/git/infra.git", False, None),
    ],
)
def test_gitlab_remotes(url: str, gitlab: bool, path: str | None) -> None:
    assert is_gitlab_remote(url) is gitlab
    found = remote_host_and_path(url)
    assert (found[1] if found else None) == path
