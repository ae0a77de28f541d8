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
# Credentials AWS does not accept, by what is wrong with them. AWS answers these with 400,
# 401 or 403, so they are told apart from a missing permission by their code, never by
# the status. Codes: the errors common to every API
# (https://docs.aws.amazon.com/awsconsolehelpdocs/latest/gsg/common-errors.html), S3's
# (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList) and
# EC2's (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
_UNKNOWN_KEY = {
    "InvalidAccessKeyId",  # S3
    "InvalidClientTokenId",  # STS, IAM and other query APIs
    "UnrecognizedClientException",  # JSON APIs (CloudWatch Logs)
    "MissingAuthenticationToken",
    "InvalidSecurity",  # S3: "The provided security credentials are not valid."
    "InvalidToken",  # S3: a malformed session token
}
_BAD_SIGNATURE = {"SignatureDoesNotMatch", "InvalidSignatureException", "IncompleteSignature"}
_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"}
# EC2 answers an unknown key and a wrong secret alike.
_NOT_VALIDATED = {"AuthFailure"}
_CLOCK = {"RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture"}
_CREDENTIALS = _UNKNOWN_KEY | _BAD_SIGNATURE | _EXPIRED | _NOT_VALIDATED
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
        # Before the 403 test: AWS answers bad credentials with 403 too.
        if code in _CREDENTIALS:
            return _invalid_credentials(code, action)
        if code in _CLOCK:
            return AwsCredentialsError(
                f"AWS refused {action}: the request's time is more than 15 minutes off"
                f" AWS's clock ({code})",
                hint="set this machine's clock right (NTP) and try again",
            )
        if code in _ACCESS_DENIED or status == 403:
            return AwsAccessDeniedError(action, resource)
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


def _invalid_credentials(code: str, action: str) -> AwsCredentialsError:
    """The credentials are invalid (not a missing permission): say which part, never the key."""
    if code in _EXPIRED:
        what = "the session token has expired"
        hint = "refresh the credentials (aws sso login, or new keys from your role) and try again"
    elif code in _BAD_SIGNATURE:
        what = "the secret access key does not match the access key id"
        hint = "check AWS_SECRET_ACCESS_KEY or the profile's aws_secret_access_key"
    elif code in _UNKNOWN_KEY:
        what = "AWS does not know the access key id (deleted, deactivated or mistyped)"
        hint = "check AWS_ACCESS_KEY_ID or the profile's keys, or pass another --profile"
    else:
        what = "AWS could not validate the access key id and secret access key"
        hint = "check the access key id and secret of the profile or environment"
    return AwsCredentialsError(
        f"the AWS credentials are invalid for {action}: {what} ({code}); this is no missing"
        " permission",
        hint=hint,
    )


@contextmanager
def aws_call(action: str, resource: str) -> Iterator[None]:
    """Run an AWS call, re-raising botocore failures as our errors (without the chain)."""
    try:
        yield
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise aws_error(exc, action=action, resource=resource) from None
