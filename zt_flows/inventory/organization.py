"""The accounts of an AWS Organization: the AWS adapter behind ``inventory collect --organization``.

``ListAccounts`` answers only in the organization's management account or in a member
account registered as a delegated administrator
(https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccounts.html); it is
paginated, and every page is followed. Only ``ACTIVE`` accounts can be reached: a suspended
or closing account is listed as skipped, with its status, never silently dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3

from zt_flows.aws import aws_call, client_config
from zt_flows.settings import AwsSettings

# The role ztflows assumes in each member account unless --role-name says otherwise. It is
# not created by AWS: deploy it (for example with a CloudFormation StackSet) with the
# read-only inventory statements of docs/iam-policy.json, trusting the principal that runs
# ztflows. OrganizationAccountAccessRole, which AWS creates in accounts it creates, grants
# administrator access and works too, but is far more than ztflows needs.
DEFAULT_ROLE_NAME = "ztflows-read"
# Organizations' largest page (MaxResults 1-20).
PAGE_SIZE = 20


@dataclass(frozen=True)
class OrganizationAccount:
    """One account as ListAccounts describes it."""

    account_id: str
    name: str
    status: str  # ACTIVE | SUSPENDED | PENDING_CLOSURE
    partition: str  # from the account's ARN: aws, aws-cn, aws-us-gov

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"

    def role_arn(self, role_name: str) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:role/{role_name}"


def list_accounts(
    session: boto3.session.Session, settings: AwsSettings, *, page_size: int = PAGE_SIZE
) -> tuple[OrganizationAccount, ...]:
    """Every account of the caller's organization, in account-id order."""
    client = session.client(
        "organizations",
        region_name=session.region_name or "us-east-1",
        endpoint_url=settings.endpoint_url,
        config=client_config(settings),
    )
    found: list[OrganizationAccount] = []
    with aws_call("organizations:ListAccounts", "the organization"):
        for page in client.get_paginator("list_accounts").paginate(
            PaginationConfig={"PageSize": page_size}
        ):
            for account in page.get("Accounts", []):
                found.append(
                    OrganizationAccount(
                        account_id=str(account["Id"]),
                        name=str(account.get("Name", "")),
                        # Status is deprecated in favour of State, which is finer; either
                        # says whether the account can be reached.
                        status=str(account.get("State") or account.get("Status") or "ACTIVE"),
                        partition=str(account.get("Arn", "arn:aws:")).split(":")[1] or "aws",
                    )
                )
    return tuple(sorted(found, key=lambda a: a.account_id))


__all__ = ["DEFAULT_ROLE_NAME", "OrganizationAccount", "list_accounts"]
