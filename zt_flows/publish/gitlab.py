"""Opening a merge request through the GitLab REST API (gitlab.com or a GitLab server).

``POST {api_url}/projects/{url-encoded path}/merge_requests`` with ``source_branch``,
``target_branch``, ``title`` and ``description``
(https://docs.gitlab.com/api/merge_requests/#create-mr). The token is sent only in the
``PRIVATE-TOKEN`` header, never over plain HTTP to another host, and never appears in a
message. The project is the remote's path, groups and subgroups included.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, urlsplit

from zt_flows import __version__
from zt_flows.errors import GitLabApiError
from zt_flows.publish.forge import ForgeApi
from zt_flows.publish.github import PullRequestRef

TIMEOUT = 30.0
# GitLab limits a description to 1,048,576 characters (the body is far below it).
DESCRIPTION_LIMIT = 1_000_000
_SCP_LIKE = re.compile(r"^[^@/\s]+@(?P<host>[^:/\s]+):(?P<path>.+)$")
_PROJECT = re.compile(r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$")


def remote_host_and_path(url: str) -> tuple[str, str] | None:
    """(host, "group/sub/project") of a remote URL (https, ssh or scp-like), or None."""
    if "://" in url:
        parts = urlsplit(url)
        if parts.scheme == "file" or not parts.hostname:
            return None
        host, path = parts.hostname, parts.path
    else:
        scp = _SCP_LIKE.match(url)
        if scp is None:
            return None
        host, path = scp.group("host"), scp.group("path")
    path = path.strip("/").removesuffix(".git")
    return (host, path) if _PROJECT.match(path) else None


def is_gitlab_remote(url: str) -> bool:
    """A gitlab.com remote, or a host named gitlab.* (a self-managed GitLab's usual name)."""
    found = remote_host_and_path(url)
    if found is None:
        return False
    host = found[0].lower()
    return host == "gitlab.com" or host.startswith("gitlab.") or ".gitlab." in host


def api_url_for(url: str) -> str | None:
    found = remote_host_and_path(url)
    return None if found is None else f"https://{found[0]}/api/v4"


def parse_project(text: str) -> str:
    path = text.strip("/")
    if not _PROJECT.match(path):
        raise GitLabApiError(f"--gitlab-project: expected group/project, found {text!r}")
    return path


def _error_message(status: int, payload: bytes) -> str:
    """GitLab's own explanation: ``message`` (a string, a list or a map) or ``error``."""
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        doc = None
    if not isinstance(doc, dict):
        return f"HTTP {status}"
    message = doc.get("message", doc.get("error"))
    if isinstance(message, list):
        text = "; ".join(str(m) for m in message)
    elif isinstance(message, dict):
        text = "; ".join(
            f"{k} {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in message.items()
        )
    elif message:
        text = str(message)
    else:
        text = f"HTTP {status}"
    return " ".join(text.split())


GITLAB = ForgeApi(
    name="GitLab",
    error=GitLabApiError,
    error_message=_error_message,
    hints={
        401: "check GITLAB_TOKEN: it is missing, expired or revoked",
        403: "the token lacks the api scope, or the right to open merge requests in the project",
        404: "check --gitlab-project / the remote, and that the token can see the project",
        409: "a merge request for this branch may already exist",
    },
)


def check_api_url(api_url: str) -> str:
    """The API base URL without a trailing slash; plain HTTP only to this machine."""
    return GITLAB.check_api_url(api_url)


def create_merge_request(
    *,
    api_url: str,
    project: str,
    token: str,
    title: str,
    source_branch: str,
    target_branch: str,
    description: str,
    timeout: float = TIMEOUT,
) -> PullRequestRef:
    """Open the merge request; any failure is a one-line GitLabApiError."""
    url = f"{check_api_url(api_url)}/projects/{quote(project, safe='')}/merge_requests"
    payload = GITLAB.post_json(
        url,
        {
            "source_branch": source_branch,
            "target_branch": target_branch,
            "title": title,
            "description": description[:DESCRIPTION_LIMIT],
        },
        headers={
            "Accept": "application/json",
            "PRIVATE-TOKEN": token,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"ztflows/{__version__}",
        },
        token=token,
        api_url=api_url,
        subject=project,
        timeout=timeout,
    )
    try:
        doc = json.loads(payload.decode("utf-8"))
        return PullRequestRef(number=int(doc["iid"]), html_url=str(doc["web_url"]))
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
        raise GitLabApiError(
            "GitLab API: the merge request was created but the answer lacked iid/web_url"
        ) from None
