"""One error hierarchy for the whole package.

Library code raises these; only the CLI turns them into messages and exit codes
(``zt_flows.cli.errors``). Every error carries a one-line, human message that
names what was wrong and what to do. Messages never contain credentials or flow
data beyond the location of the problem (file, key, line, column) and a short,
truncated excerpt of the offending value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README and in ``ztflows --help``."""

    OK = 0
    # The job ran, and the result is one a CI job should stop on: findings at or above
    # --fail-on, or `check` found conversations the plan would block.
    POLICY = 1
    # Bad command line, bad input files, malformed flow logs or inventory.
    INPUT = 2
    # AWS said no: credentials, access denied, missing bucket, wrong region, throttled out.
    AWS = 3
    # The recommender's own replay found an observed flow its plan would block.
    VERIFICATION = 4
    # A bug in ztflows; the message says how to report it.
    INTERNAL = 70
    INTERRUPTED = 130


def excerpt(value: object, limit: int = 40) -> str:
    """A short, printable rendering of a bad value for an error message."""
    text = str(value)
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text)


class ZtFlowsError(Exception):
    """Base of every error ztflows raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------- input


class InputError(ZtFlowsError):
    """The user's input cannot be used as it is."""

    exit_code = ExitCode.INPUT


class UsageError(InputError):
    """A command-line value or setting is invalid (bad duration, conflicting options)."""


class SourceNotFoundError(InputError):
    """A local path or S3 prefix holds no flow logs."""


@dataclass(frozen=True)
class Location:
    """Where in an input a problem is: a file or object key, and optionally more."""

    source: str
    line: int | None = None
    column: str | None = None
    path: str | None = None  # JSON path inside a document, e.g. SecurityGroups[3].IpPermissions
    row: int | None = None  # 1-based record of a Parquet object

    def __str__(self) -> str:
        parts = [self.source]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        if self.path is not None:
            parts.append(f"at {self.path}")
        return ", ".join(parts)


class FormatError(InputError):
    """Malformed input: names the location, what was expected, and what was found."""

    def __init__(
        self,
        location: Location,
        expected: str,
        found: str,
        *,
        hint: str | None = None,
    ) -> None:
        self.location = location
        self.expected = expected
        self.found = found
        super().__init__(f"{location}: expected {expected}, found {found}", hint=hint)


class FlowLogFormatError(FormatError):
    """A flow-log object is corrupt, truncated, or has a bad record."""


class InventoryFormatError(FormatError):
    """A describe-*.json file is malformed or lacks a required key."""


class PlanFormatError(FormatError):
    """A plan.json cannot be read (wrong schema_version, missing keys)."""


class ConfigurationError(FormatError):
    """The configuration file (``ztflows.toml``) is malformed or holds a bad value; the
    location's path is the key path (``suppressions[2].expires``)."""


class PlanTrustError(InputError):
    """A plan read from disk widens access or claims figures its inventory does not give."""


class InventoryIncompleteError(InputError):
    """The inventory lacks something a stage cannot do without."""


# --------------------------------------------------------------------------- aws


class ResourceLimitError(InputError):
    """The machine's limits as configured (``--memory-limit``, ``--temp-dir``) were reached."""


class AwsError(ZtFlowsError):
    """AWS refused or failed a call. Messages say what to fix, never echo credentials."""

    exit_code = ExitCode.AWS


class AwsCredentialsError(AwsError):
    """No credentials, expired credentials, or an unknown profile."""


class AwsAccessDeniedError(AwsError):
    """The caller lacks an IAM permission; ``action`` names it (e.g. ``s3:ListBucket``)."""

    def __init__(self, action: str, resource: str, *, hint: str | None = None) -> None:
        self.action = action
        self.resource = resource
        super().__init__(
            f"access denied: {action} on {resource}",
            hint=hint or f"grant {action} to the caller (see the IAM policy in the README)",
        )


class AwsResourceNotFoundError(AwsError):
    """A bucket, region, or other named resource does not exist."""


# --------------------------------------------------------------------------- safety


class VerificationError(ZtFlowsError):
    """The recommender's replay found observed accepted flows its own plan would block.

    This is a bug guard: a plan that fails verification is never written.
    """

    exit_code = ExitCode.VERIFICATION


class OutputError(ZtFlowsError):
    """An output path cannot be written (exists and is not ours, not writable, no space)."""

    exit_code = ExitCode.INPUT


class GitError(ZtFlowsError):
    """A git operation for `ztflows pr` failed (not a repository, dirty tree, push refused)."""

    exit_code = ExitCode.INPUT


class GitHubApiError(ZtFlowsError):
    """Opening the pull request through the GitHub REST API failed."""

    exit_code = ExitCode.INPUT


# --------------------------------------------------------------------------- terraform


class TerraformConfigError(FormatError):
    """A .tf file of the repository cannot be read (names the file, line and column)."""


class TerraformStateError(InputError):
    """A Terraform state cannot be read: not initialised, unreadable, or not a state."""


class TerraformCommandError(ZtFlowsError):
    """Running Terraform failed (not installed, or it refused); the message says how."""

    exit_code = ExitCode.INPUT


class GitLabApiError(ZtFlowsError):
    """Opening the merge request through the GitLab REST API failed."""

    exit_code = ExitCode.INPUT
