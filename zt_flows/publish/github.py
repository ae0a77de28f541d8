"""Opening a pull request through the GitHub REST API (github.com or GitHub Enterprise).

``POST {api_url}/repos/{owner}/{repo}/pulls`` with ``title``, ``head``, ``base`` and
``body`` (https://docs.github.com/en/rest/pulls/pulls#create-a-pull-request). The
token is sent only in the ``Authorization`` header, never over plain HTTP to
another host, and never appears in a message.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from zt_flows import __version__
from zt_flows.errors import GitHubApiError
from zt_flows.publish.git import mask

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


def check_api_url(api_url: str) -> str:
    """The API base URL without a trailing slash; plain HTTP only to this machine."""
    parts = urlsplit(api_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GitHubApiError(f"--api-url: expected an https:// URL, found {mask(api_url)!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise GitHubApiError(
            f"--api-url: refusing to send the token over plain HTTP to {parts.hostname}",
            hint="use https://",
        )
    return api_url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


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


_HINTS = {
    401: "check GITHUB_TOKEN: it is missing, expired or revoked",
    403: "the token lacks permission to open pull requests (pull_requests: write)",
    404: "check --github-repo / the remote, and that the token can see the repository",
    422: "a pull request for this branch may already exist, or the base branch is wrong",
}


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
    data = json.dumps(
        {"title": title, "head": head, "base": base, "body": body}, ensure_ascii=False
    ).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
        url,
        data=data,
        method="POST",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"ztflows/{__version__}",
            "X-GitHub-Api-Version": API_VERSION,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            payload = response.read()
    except urllib.error.HTTPError as exc:
        message = _error_message(exc.code, exc.read())
        raise GitHubApiError(
            mask(f"GitHub API: {exc.code} {message} ({owner}/{repo})", [token]),
            hint=_HINTS.get(exc.code),
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise GitHubApiError(
            mask(f"cannot reach the GitHub API at {api_url}: {reason}", [token])
        ) from None
    try:
        doc = json.loads(payload.decode("utf-8"))
        return PullRequestRef(number=int(doc["number"]), html_url=str(doc["html_url"]))
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise GitHubApiError(
            "GitHub API: the pull request was created but the answer lacked number/html_url"
        ) from None
