"""The AWS adapter's shared pieces: building a session, and turning botocore errors into ours.

Only adapter modules (this one, ``sources.s3``, ``inventory.collect``) import boto3.
Everything else receives an injected session or client. Error messages name the
IAM action and the resource, never credentials or request signatures.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import boto3
import botocore.config
import botocore.exceptions

from zt_flows.errors import (
    AwsAccessDeniedError,
    AwsCredentialsError,
    AwsError,
    AwsResourceNotFoundError,
)
from zt_flows.settings import AwsSettings

_ACCESS_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
    "403",
    "AllAccessDisabled",
}
_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "RequestExpired",
}
_NOT_FOUND = {"NoSuchBucket", "NoSuchKey", "404", "NotFound", "InvalidRegion"}


def make_session(settings: AwsSettings) -> boto3.session.Session:
    """A boto3 session from the standard AWS settings (profile, region, env)."""
    try:
        return boto3.session.Session(profile_name=settings.profile, region_name=settings.region)
    except botocore.exceptions.ProfileNotFound:
        raise AwsCredentialsError(
            f"AWS profile {settings.profile!r} is not configured",
            hint="check ~/.aws/config or pass another --profile",
        ) from None


def client_config(
    settings: AwsSettings, *, max_pool_connections: int = 10
) -> botocore.config.Config:
    """Adaptive retries: throttling slows us down instead of failing the run."""
    return botocore.config.Config(
        retries={"mode": "adaptive", "max_attempts": settings.max_attempts},
        max_pool_connections=max_pool_connections,
        user_agent_extra="ztflows",
    )


def aws_error(exc: Exception, *, action: str, resource: str) -> AwsError:
    """Our error for a botocore failure of ``action`` (``s3:ListBucket``) on ``resource``."""
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.PartialCredentialsError
    ):
        return AwsCredentialsError(
            "no AWS credentials found",
            hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or pass --profile",
        )
    if isinstance(exc, botocore.exceptions.TokenRetrievalError | botocore.exceptions.SSOError):
        return AwsCredentialsError(
            "the AWS SSO session has expired", hint="run `aws sso login` and try again"
        )
    if isinstance(exc, botocore.exceptions.EndpointConnectionError):
        return AwsError(
            f"cannot reach the AWS endpoint for {action}: {exc.kwargs.get('endpoint_url', '?')}",
            hint="check --region / --endpoint-url and the network",
        )
    if isinstance(exc, botocore.exceptions.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code in _ACCESS_DENIED or status == 403:
            return AwsAccessDeniedError(action, resource)
        if code in _CREDENTIALS:
            return AwsCredentialsError(
                f"AWS rejected the credentials ({code}) for {action}",
                hint="refresh the credentials or pass another --profile",
            )
        if code == "PermanentRedirect" or code == "AuthorizationHeaderMalformed" or status == 301:
            region = exc.response.get("Error", {}).get("Region") or exc.response.get(
                "ResponseMetadata", {}
            ).get("HTTPHeaders", {}).get("x-amz-bucket-region")
            where = f" (it is in {region})" if region else ""
            return AwsError(
                f"{resource} is in another region{where}",
                hint=f"pass --region {region}" if region else "pass the bucket's --region",
            )
        if code in _NOT_FOUND or status == 404:
            return AwsResourceNotFoundError(
                f"{resource} does not exist ({code or status})",
                hint="check the name, the account and the --region",
            )
        if code in {"Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown"}:
            return AwsError(
                f"AWS kept throttling {action} on {resource} after retries",
                hint="try again later or lower --workers",
            )
        return AwsError(f"{action} on {resource} failed: {code or status}")
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return AwsError(f"{action} on {resource} failed: {type(exc).__name__}")
    raise TypeError(f"not an AWS error: {type(exc).__name__}") from exc


@contextmanager
def aws_call(action: str, resource: str) -> Iterator[None]:
    """Run an AWS call, re-raising botocore failures as our errors (without the chain)."""
    try:
        yield
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise aws_error(exc, action=action, resource=resource) from None
