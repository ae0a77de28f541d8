"""The ``git`` command line, driven with argument lists (no shell), for ``ztflows pr``.

Errors become :class:`GitError` with git's own first line of complaint. Remote URLs
can carry credentials (``https://user:token@host/...``); they are masked in every
message.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from zt_flows.errors import GitError

_CREDENTIALS_IN_URL = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def mask(text: str, secrets: Sequence[str] = ()) -> str:
    """``text`` with URL credentials and the given secrets replaced by ``***``."""
    text = _CREDENTIALS_IN_URL.sub(r"\g<scheme>***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class Git:
    """One repository (or worktree) and the git commands ``ztflows pr`` needs."""

    def __init__(self, path: Path, *, secrets: Sequence[str] = ()) -> None:
        self.path = path
        self._secrets = tuple(secrets)

    @staticmethod
    def _env() -> dict[str, str]:
        # Never wait for a password prompt: fail with a message instead.
        return {**os.environ, "GIT_TERMINAL_PROMPT": "0"}

    def run(self, *args: str, input_text: str | None = None, check: bool = True) -> str:
        env = self._env()
        try:
            done = subprocess.run(
                ["git", "-C", str(self.path), *args],
                input=input_text,
                capture_output=True,
                text=True,
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise GitError("git is not installed or not on PATH") from None
        if check and done.returncode != 0:
            lines = [ln.strip() for ln in (done.stderr or done.stdout).splitlines() if ln.strip()]
            reason = next(
                (ln for ln in lines if ln.startswith(("fatal:", "error:"))),
                lines[0] if lines else f"exit code {done.returncode}",
            )
            raise GitError(mask(f"git {args[0]} failed in {self.path}: {reason}", self._secrets))
        return done.stdout

    def _status(self, *args: str) -> int:
        return subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            env=self._env(),
            check=False,
        ).returncode

    # ----------------------------------------------------------------- queries

    def toplevel(self) -> Path:
        if self._status("rev-parse", "--is-inside-work-tree") != 0:
            raise GitError(f"{self.path} is not a git working tree", hint="pass a clone to --repo")
        return Path(self.run("rev-parse", "--show-toplevel").strip())

    def has_ref(self, ref: str) -> bool:
        return self._status("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}") == 0

    def resolve(self, ref: str) -> str:
        return self.run("rev-parse", "--verify", f"{ref}^{{commit}}").strip()

    def dirty_files(self) -> list[str]:
        """Tracked files with uncommitted changes (untracked files do not count)."""
        out = self.run("status", "--porcelain", "--untracked-files=no")
        return [line[3:] for line in out.splitlines() if line.strip()]

    def valid_branch_name(self, name: str) -> bool:
        return self._status("check-ref-format", "--branch", name) == 0

    def remote_url(self, remote: str) -> str:
        return self.run("remote", "get-url", remote).strip()
