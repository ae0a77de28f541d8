"""Opening a pull request through the GitHub REST API (github.com or GitHub Enterprise).

``POST {api_url}/repos/{owner}/{repo}/pulls`` with ``title``, ``head``, ``base`` and
``body`` (https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request). The
token is sent only in the ``Authorization`` header, never over plain HTTP to
another host, and never appears in a message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from zt_flows import __version__
from zt_flows.errors import GitHubApiError
from zt_flows.publish.forge import ForgeApi

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
TIMEOUT = 30.0
_REPO_PATH = re.compile(r"^/?(?P<owner>[A-Za-z0-9_.-]+)/(?P<name>[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
_SCP_LIKE = re.compile(r"^[^@/\s]+@[^:/\s]+:(?P<path>.+)$")
_OWNER_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class PullRequestRef:
    number: int
    html_url: str


def repo_from_remote(url: str) -> tuple[str, str] | None:
    """(owner, name) from a GitHub remote URL (https, ssh or scp-like), or None."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file" or not parts.netloc:
            return None  # a local repository, not a hosted one
        path = parts.path
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None:
            return None
        path = scp.group("path")
    match = _REPO_PATH.match(path)
    return (match.group("owner"), match.group("name")) if match else None


def parse_github_repo(text: str) -> tuple[str, str]:
    if not _OWNER_NAME.match(text):
        raise GitHubApiError(f"--github-repo: expected owner/name, found {text!r}")
    owner, name = text.split("/")
    return owner, name


def _error_message(status: int, payload: bytes) -> str:
    """GitHub's own explanation: ``message`` plus the ``errors`` array, on one line."""
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        doc = None
    if not isinstance(doc, dict):
        return f"HTTP {status}"
    parts = [str(doc.get("message") or f"HTTP {status}")]
    errors = doc.get("errors")
    if isinstance(errors, list):
        for err in errors:
            if isinstance(err, dict):
                detail = err.get("message") or " ".join(
                    str(err[k]) for k in ("resource", "field", "code") if err.get(k)
                )
                if detail:
                    parts.append(str(detail))
            elif isinstance(err, str):
                parts.append(err)
    return "; ".join(" ".join(p.split()) for p in parts)


GITHUB = ForgeApi(
    name="GitHub",
    error=GitHubApiError,
    error_message=_error_message,
    hints={
        401: "check GITHUB_TOKEN: it is missing, expired or revoked",
        403: "the token lacks permission to open pull requests (pull_requests: write)",
        404: "check --github-repo / the remote, and that the token can see the repository",
        422: "a pull request for this branch may already exist, or the base branch is wrong",
    },
)


def check_api_url(api_url: str) -> str:
    """The API base URL without a trailing slash; plain HTTP only to this machine."""
    return GITHUB.check_api_url(api_url)


def create_pull_request(
    *,
    api_url: str,
    owner: str,
    repo: str,
    token: str,
    title: str,
    head: str,
    base: str,
    body: str,
    timeout: float = TIMEOUT,
) -> PullRequestRef:
    """Open the pull request; any failure is a one-line GitHubApiError."""
    url = f"{check_api_url(api_url)}/repos/{owner}/{repo}/pulls"
    payload = GITHUB.post_json(
        url,
        {"title": title, "head": head, "base": base, "body": body},
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"ztflows/{__version__}",
            "X-GitHub-Api-Version": API_VERSION,
        },
        token=token,
        api_url=api_url,
        subject=f"{owner}/{repo}",
        timeout=timeout,
    )
    try:
        doc = json.loads(payload.decode("utf-8"))
        return PullRequestRef(number=int(doc["number"]), html_url=str(doc["html_url"]))
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise GitHubApiError(
            "GitHub API: the pull request was created but the answer lacked number/html_url"
        ) from None
