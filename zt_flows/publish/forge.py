"""What the GitHub and GitLab clients share: the API URL check and one JSON POST.

Both send a token in a header, so both refuse plain HTTP to any host but this machine, and
both turn every failure into one line of their own error class, the token masked out. What
differs (the error class, how the forge words its errors, the hints per status) is a
:class:`ForgeApi` each client declares once.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

from zt_flows.errors import ZtFlowsError
from zt_flows.publish.git import mask


@dataclass(frozen=True)
class ForgeApi:
    """One forge's REST API, as its client reports on it."""

    name: str  # "GitHub"
    error: type[ZtFlowsError]
    # The forge's own explanation of a failed request, on one line: (status, body) -> text.
    error_message: Callable[[int, bytes], str]
    hints: Mapping[int, str]

    def check_api_url(self, api_url: str) -> str:
        """The API base URL without a trailing slash; plain HTTP only to this machine."""
        parts = urlsplit(api_url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise self.error(f"--api-url: expected an https:// URL, found {mask(api_url)!r}")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise self.error(
                f"--api-url: refusing to send the token over plain HTTP to {parts.hostname}",
                hint="use https://",
            )
        return api_url.rstrip("/")

    def post_json(
        self,
        url: str,
        body: Mapping[str, object],
        *,
        headers: Mapping[str, str],
        token: str,
        api_url: str,
        subject: str,
        timeout: float,
    ) -> bytes:
        """POST ``body`` as JSON to ``url`` and return the answer's bytes; a refusal is one
        line naming the status, the forge's explanation and ``subject`` (the repository)."""
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked by check_api_url
            url, data=data, method="POST", headers=dict(headers)
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            message = self.error_message(exc.code, exc.read())
            raise self.error(
                mask(f"{self.name} API: {exc.code} {message} ({subject})", [token]),
                hint=self.hints.get(exc.code),
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise self.error(
                mask(f"cannot reach the {self.name} API at {api_url}: {reason}", [token])
            ) from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


__all__ = ["ForgeApi"]
