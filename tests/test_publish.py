"""ztflows pr: a real git remote (a bare repository), a clone, and a local HTTP server
standing in for the GitHub REST API that checks the request it receives."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.forges import FakeForge, serve_forge

from zt_flows.cli import main
from zt_flows.errors import GitError, GitHubApiError
from zt_flows.findings import findings_to_json, make_finding, read_findings
from zt_flows.publish.github import check_api_url, create_pull_request, repo_from_remote
from zt_flows.publish.pull_request import (
    default_branch,
    open_pull_request,
    prepare_pull_request,
)
from zt_flows.recommend.plan import Plan, read_plan
from zt_flows.terraform import terraform_module

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"
SAMPLE = PLANS / "sample_plan.json"
INVENTORY = Path(__file__).resolve().parent.parent / "sample_data" / "inventory"
HOSTILE = PLANS / "hostile_plan.json"
BRANCH = "ztflows/least-privilege-2026-11-18"
PATH = "modules/security-groups"
TOKEN = "ghp_TESTtoken0123456789abcdefghijklmnopq"  # a fake, for the fake server


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No user or system git configuration; a fixed identity for commits."""
    config = tmp_path / "gitconfig"
    config.write_text(
        "[user]\n\tname = Infra Bot\n\temail = infra@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)


@dataclass
class Repos:
    remote: Path
    clone: Path


@pytest.fixture
def repos(tmp_path: Path) -> Repos:
    remote = tmp_path / "infra.git"
    git(tmp_path, "init", "--quiet", "--bare", str(remote))
    clone = tmp_path / "infra"
    git(tmp_path, "clone", "--quiet", str(remote), str(clone))
    (clone / "README.md").write_text("# infra\n")
    (clone / "modules" / "network").mkdir(parents=True)
    (clone / "modules" / "network" / "main.tf").write_text("# the VPC\n")
    git(clone, "add", ".")
    git(clone, "commit", "--quiet", "-m", "Initial infrastructure")
    git(clone, "push", "--quiet", "origin", "main")
    return Repos(remote, clone)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return read_plan(SAMPLE)


@pytest.fixture
def github() -> Iterator[FakeForge]:
    with serve_forge("/api/v3", content_type="application/json; charset=utf-8") as fake:
        yield fake


def created(number: int = 7) -> dict[str, Any]:
    """The fields of GitHub's 201 answer that a client reads, in GitHub's shape."""
    return {
        "url": f"https://api.github.com/repos/acme/infra/pulls/{number}",
        "id": 1_987_654_321,
        "node_id": "PR_kwDOAbCdEf4AAAAB",
        "html_url": f"https://github.com/acme/infra/pull/{number}",
        "number": number,
        "state": "open",
        "title": "Least-privilege security groups from VPC Flow Logs",
        "draft": False,
        "head": {"ref": BRANCH, "label": f"acme:{BRANCH}"},
        "base": {"ref": "main", "label": "acme:main"},
    }


def expected_files(plan: Plan) -> list[str]:
    names = [*terraform_module(plan).files, "PULL_REQUEST.md", ".ztflows-output"]
    return sorted(f"{PATH}/{name}" for name in names)


# --------------------------------------------------------------------------- prepare


def test_prepare_commits_only_under_the_path(repos: Repos, plan: Plan) -> None:
    before = git(repos.clone, "rev-parse", "HEAD")
    prepared = prepare_pull_request(plan, repos.clone)
    assert prepared.branch == BRANCH
    assert prepared.base_commit == before.strip()
    # The user's checkout is as it was: same branch, same commit, clean, no new files.
    assert git(repos.clone, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repos.clone, "rev-parse", "HEAD") == before
    assert git(repos.clone, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (repos.clone / "modules" / "security-groups").exists()
    assert len(git(repos.clone, "worktree", "list").splitlines()) == 1
    # The commit: exactly the expected files, all under --path, on top of main.
    changed = git(repos.clone, "diff", "--name-only", "main", BRANCH).split()
    assert sorted(changed) == expected_files(plan) == list(prepared.files)
    tree = git(repos.clone, "ls-tree", "-r", "--name-only", BRANCH).split()
    assert sorted(tree) == sorted(["README.md", "modules/network/main.tf", *changed])
    assert git(repos.clone, "rev-parse", f"{BRANCH}^").strip() == before.strip()
    message = git(repos.clone, "log", "-1", "--format=%B", BRANCH)
    assert message.startswith(
        "ztflows: least-privilege security groups, 2026-11-16 to 2026-11-18\n\n"
    )
    flat = " ".join(message.split())
    assert "adopts 9 existing rules with import blocks, adds 35 rules" in flat
    assert "the 25 rules to remove in pending_removal.tf" in flat
    assert "Exposure: 14,682 -> 131 allowed" in flat
    assert "5 -> 3 internet-reachable ENI:ports" in flat
    assert "(weighted by the public space they admit: IPv4 5.00 -> 2.00, IPv6 2.00 -> 2.00)" in flat
    assert all(len(line) <= 72 for line in message.splitlines())
    body = git(repos.clone, "show", f"{BRANCH}:{PATH}/PULL_REQUEST.md")
    assert body == prepared.body
    sg = git(repos.clone, "show", f"{BRANCH}:{PATH}/sg_postgres.tf")
    assert sg == terraform_module(plan).files["sg_postgres.tf"]


def test_prepare_keeps_the_current_feature_branch(repos: Repos, plan: Plan) -> None:
    git(repos.clone, "checkout", "--quiet", "-b", "work")
    (repos.clone / "scratch.txt").write_text("untracked, not mine to commit\n")
    prepare_pull_request(plan, repos.clone, branch="sg/least-privilege", path="terraform/sg")
    assert git(repos.clone, "rev-parse", "--abbrev-ref", "HEAD").strip() == "work"
    assert (repos.clone / "scratch.txt").exists()
    changed = git(repos.clone, "diff", "--name-only", "main", "sg/least-privilege").split()
    assert changed
    assert all(name.startswith("terraform/sg/") for name in changed)


def test_refuses_a_dirty_working_tree(repos: Repos, plan: Plan) -> None:
    (repos.clone / "README.md").write_text("# infra, edited\n")
    with pytest.raises(GitError, match=r"uncommitted changes: README\.md"):
        prepare_pull_request(plan, repos.clone)
    assert BRANCH not in git(repos.clone, "branch", "--list")


def test_refuses_an_existing_branch(repos: Repos, plan: Plan) -> None:
    git(repos.clone, "branch", BRANCH)
    with pytest.raises(GitError, match="already exists"):
        prepare_pull_request(plan, repos.clone)
    assert git(repos.clone, "rev-parse", BRANCH) == git(repos.clone, "rev-parse", "main")


def test_refuses_an_existing_remote_branch(repos: Repos, plan: Plan) -> None:
    git(repos.clone, "push", "--quiet", "origin", f"main:refs/heads/{BRANCH}")
    git(repos.clone, "fetch", "--quiet", "origin")
    with pytest.raises(GitError, match=f"refs/remotes/origin/{BRANCH}"):
        prepare_pull_request(plan, repos.clone)


@pytest.mark.parametrize("bad", ["../outside", "/etc/sg", ".git/hooks", "", "."])
def test_refuses_a_path_outside_the_repository(repos: Repos, plan: Plan, bad: str) -> None:
    with pytest.raises(GitError, match="--path"):
        prepare_pull_request(plan, repos.clone, path=bad)
    assert git(repos.clone, "branch", "--list").split() == ["*", "main"]


def test_refuses_to_write_over_files_it_did_not_write(repos: Repos, plan: Plan) -> None:
    with pytest.raises(Exception, match="not written by ztflows"):
        prepare_pull_request(plan, repos.clone, path="modules/network")
    # Nothing is left behind: no branch, no worktree.
    assert git(repos.clone, "branch", "--list").split() == ["*", "main"]
    assert len(git(repos.clone, "worktree", "list").splitlines()) == 1


def test_not_a_repository(tmp_path: Path, plan: Plan) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitError, match="not a git working tree"):
        prepare_pull_request(plan, tmp_path / "plain")


# --------------------------------------------------------------------------- the body


def test_body_tells_the_reviewer_everything(repos: Repos, plan: Plan, tmp_path: Path) -> None:
    bastion = next(g for g in plan.security_groups if g.name == "bastion")
    findings_file = tmp_path / "findings.json"
    findings_file.write_text(
        findings_to_json(
            [
                make_finding(
                    "admin-port-from-cidr",
                    "sgr-0e7d9c1b3a5f7000e",
                    "tcp 22 open to 0.0.0.0/0 | <b>shell</b>",
                    group_id=bastion.group_id,
                    rule_id="sgr-0e7d9c1b3a5f7000e",
                ),
                make_finding("unused-rule", "sgr-0e7d9c1b3a5f70023", "tcp 80: no traffic"),
            ]
        )
    )
    prepared = prepare_pull_request(plan, repos.clone, findings=read_findings(findings_file))
    body = prepared.body
    for heading in (
        "### Exposure",
        "### Changes by security group",
        "### Findings",
        "### Verification",
        "### Rollout and rollback",
    ):
        assert heading in body
    assert "| allowed (source, ENI, protocol, port) combinations | 14,682 | 131 |" in body
    assert "| internet-reachable ENI:ports | 5 | 3 |" in body
    assert "| … weighted by the share of public IPv4 space they admit | 5.00 | 2.00 |" in body
    assert "| … weighted by the share of public IPv6 space they admit | 2.00 | 2.00 |" in body
    assert (
        "No longer reachable from the internet: `eni-0a1b2c3d4e5f00101:tcp/80`,"
        " `eni-0a1b2c3d4e5f00102:tcp/80`"
    ) in body
    # SSH stays reachable, from the two office addresses instead of everywhere.
    assert (
        "Still reachable from the internet, on fewer ports or from fewer addresses:"
        " `eni-0a1b2c3d4e5f00103:tcp/22` (256 IPv4 addresses)"
    ) in body
    assert "Newly reachable" not in body
    row = next(line for line in body.splitlines() if "egress tcp/8080 to web" in line)
    for evidence in ("96,412", "6.9 GiB", "2026-11-16 00:00 UTC", "2026-11-18 23:59 UTC", "3/3"):
        assert evidence in row
    assert "critical | ZT004" in body
    assert "tcp 22 open to 0.0.0.0/0 \\| &lt;b&gt;shell&lt;/b&gt;" in body
    assert "Replayed 64 observed accepted conversations" in body
    assert "Blocked on purpose: 2 conversations." in body
    assert "probe: internet handshake without a session on an admin port" in body
    assert "Plan: 34 to import, 35 to add, 9 to change, 0 to destroy." in body
    assert "Plan: 0 to add, 0 to change, 25 to destroy." in body
    assert "pending_removal.tf" in body
    assert "Rollback" in body
    assert prepared.title == (
        "Least-privilege security groups from VPC Flow Logs (2026-11-16 to 2026-11-18)"
    )


def test_body_escapes_what_aws_users_typed(repos: Repos) -> None:
    hostile = read_plan(HOSTILE)
    prepared = prepare_pull_request(hostile, repos.clone)
    body = prepared.body
    assert "<img" not in body
    assert "&lt;img src=x onerror=alert(1)&gt; \\| \\`code\\` \\@team \\#12" in body
    assert '\\"prod\\"' not in body  # HCL escaping stays in the HCL
    assert "web &quot;prod&quot; \\\\ ${var.x}" in body
    for line in body.splitlines():
        if line.startswith("| ") and "sg-0123456789abcdef" in line:
            # Every row has as many cells as its header: no pipe leaked from a name.
            assert line.replace("\\|", "").count("|") == 10
    assert "\u202e" not in body
    assert "\n\nresource" not in body


# --------------------------------------------------------------------------- --open


def test_open_pushes_and_opens_the_pull_request(
    repos: Repos,
    github: FakeForge,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    sample_data_plan: Path,
) -> None:
    branch = default_branch(read_plan(sample_data_plan))
    github.response = created(7)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    code = main(
        [
            "pr",
            str(sample_data_plan),
            "--inventory",
            str(INVENTORY),
            "--repo",
            str(repos.clone),
            "--open",
            "--api-url",
            github.url,
            "--github-repo",
            "acme/infra",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip() == "https://github.com/acme/infra/pull/7"
    assert "#7" in err
    assert TOKEN not in out + err
    (request,) = github.requests
    assert request["method"] == "POST"
    assert request["path"] == "/api/v3/repos/acme/infra/pulls"
    assert request["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert request["headers"]["accept"] == "application/vnd.github+json"
    assert request["headers"]["x-github-api-version"] == "2022-11-28"
    sent = request["json"]
    assert set(sent) == {"title", "head", "base", "body"}
    assert sent["head"] == branch
    assert sent["base"] == "main"
    assert sent["title"].startswith("Least-privilege security groups")
    # The branch is on the remote, with exactly the Terraform and the body under --path.
    remote_tree = git(repos.remote, "ls-tree", "-r", "--name-only", f"refs/heads/{branch}")
    plan = read_plan(sample_data_plan)
    assert sorted(remote_tree.split()) == sorted(
        ["README.md", "modules/network/main.tf", *expected_files(plan)]
    )
    assert sent["body"] == git(repos.remote, "show", f"{branch}:{PATH}/PULL_REQUEST.md")


def test_github_refusal_is_one_line_without_the_token(
    repos: Repos,
    github: FakeForge,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    sample_data_plan: Path,
) -> None:
    branch = default_branch(read_plan(sample_data_plan))
    github.status = 422
    github.response = {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "PullRequest",
                "code": "custom",
                "message": f"A pull request already exists for acme:{branch}.",
            }
        ],
        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        "status": "422",
    }
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    args = [
        "pr",
        str(sample_data_plan),
        "--inventory",
        str(INVENTORY),
        "--repo",
        str(repos.clone),
        "--open",
        "--api-url",
        github.url,
    ]
    code = main([*args, "--github-repo", "acme/infra"])
    out, err = capsys.readouterr()
    assert code == 2
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert errors == [
        "error: GitHub API: 422 Validation Failed; A pull request already exists for"
        f" acme:{branch}. (acme/infra)"
    ]
    hint = err.split("hint:", 1)[1]
    assert f"{branch} is pushed to origin" in hint
    assert TOKEN not in out + err
    assert "Traceback" not in err


def test_bad_credentials(github: FakeForge) -> None:
    github.status = 401
    github.response = {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }
    with pytest.raises(GitHubApiError) as info:
        create_pull_request(
            api_url=github.url,
            owner="acme",
            repo="infra",
            token=TOKEN,
            title="t",
            head="h",
            base="main",
            body="b",
        )
    assert str(info.value) == "GitHub API: 401 Bad credentials (acme/infra)"
    assert "GITHUB_TOKEN" in (info.value.hint or "")
    assert TOKEN not in str(info.value) + (info.value.hint or "")


def test_not_found(github: FakeForge) -> None:
    github.status = 404
    github.response = {"message": "Not Found", "status": "404"}
    with pytest.raises(GitHubApiError, match="404 Not Found"):
        create_pull_request(
            api_url=github.url + "/",
            owner="acme",
            repo="nope",
            token=TOKEN,
            title="t",
            head="h",
            base="main",
            body="b",
        )
    assert github.requests[0]["path"] == "/api/v3/repos/acme/nope/pulls"


def test_open_needs_a_token_before_committing_anything(
    repos: Repos, capsys: Any, sample_data_plan: Path
) -> None:
    code = main(
        [
            "pr",
            str(sample_data_plan),
            "--inventory",
            str(INVENTORY),
            "--repo",
            str(repos.clone),
            "--open",
        ]
    )
    assert code == 2
    assert "GITHUB_TOKEN" in capsys.readouterr().err
    assert git(repos.clone, "branch", "--list").split() == ["*", "main"]


def test_a_failed_push_hides_credentials_in_the_remote_url(
    repos: Repos, plan: Plan, github: FakeForge
) -> None:
    # A port bound but not listening on this machine: the push is refused at once.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        url = f"https://bot:s3cr3t@127.0.0.1:{port}/acme/infra.git"
        git(repos.clone, "remote", "set-url", "origin", url)
        prepared = prepare_pull_request(plan, repos.clone)
        with pytest.raises(GitError) as info:
            open_pull_request(prepared, token=TOKEN, api_url=github.url)
    assert "s3cr3t" not in str(info.value)
    assert TOKEN not in str(info.value)
    assert f"git push origin {BRANCH}" in (info.value.hint or "")
    assert github.requests == []  # nothing opened for a branch that is not pushed


def test_cli_without_open_prints_the_branch(
    repos: Repos, capsys: Any, sample_data_plan: Path
) -> None:
    branch = default_branch(read_plan(sample_data_plan))
    assert (
        main(
            ["pr", str(sample_data_plan), "--inventory", str(INVENTORY), "--repo", str(repos.clone)]
        )
        == 0
    )
    out, err = capsys.readouterr()
    assert out.strip() == branch
    assert "git push origin" in err
    assert git(repos.clone, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_cli_help_teaches(capsys: Any) -> None:
    assert main(["pr", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("GITHUB_TOKEN", "--api-url", "worktree", "PULL_REQUEST.md", "Examples"):
        assert words in text


# --------------------------------------------------------------------------- small parts


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/infra.git", ("acme", "infra")),
        ("git@github.com:acme/infra.git", ("acme", "infra")),
        ("ssh://git@github.example.com:2222/acme/infra", ("acme", "infra")),
        ("https://x-access-token:abc@github.com/acme/infra", ("acme", "infra")),
        ("/srv/git/infra.git", None),
        ("file:///srv/git/infra.git", None),
    ],
)
def test_repository_from_remote_url(url: str, expected: tuple[str, str] | None) -> None:
    assert repo_from_remote(url) == expected


def test_the_token_never_travels_in_clear_to_another_host() -> None:
    with pytest.raises(GitHubApiError, match="plain HTTP"):
        check_api_url("http://github.example.com/api/v3")
    assert check_api_url("https://github.example.com/api/v3/") == (
        "https://github.example.com/api/v3"
    )
    assert check_api_url("http://127.0.0.1:8080").startswith("http://127.0.0.1")


def test_messages_never_carry_url_credentials_or_the_token() -> None:
    from zt_flows.publish.git import mask

    text = f"fatal: unable to access 'https://bot:s3cr3t@github.com/acme/infra.git/' {TOKEN}"
    assert mask(text, [TOKEN]) == (
        "fatal: unable to access 'https://***@github.com/acme/infra.git/' ***"
    )


def test_a_body_too_long_for_github_is_cut_at_a_line() -> None:
    from zt_flows.publish.pull_request import BODY_LIMIT, api_body

    short = "line\n" * 10
    assert api_body(short) == short
    long = "".join(f"| row {i} |\n" for i in range(20_000))
    sent = api_body(long)
    assert len(sent) <= BODY_LIMIT
    assert "PULL_REQUEST.md" in sent.splitlines()[-1]
    assert all(line.startswith("| row ") for line in sent.splitlines()[:-2])
