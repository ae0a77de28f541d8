"""`inventory collect --organization`: every account of an AWS Organization, over HTTP.

The moto server plays Organizations, STS, IAM and EC2. Where moto is more lenient than
AWS, the harness makes it behave like AWS:

* moto's AssumeRole succeeds for any role ARN, existing or not. AWS refuses a role that
  does not exist (or does not trust the caller) with ``AccessDenied``
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html), so
  :func:`aws_like_assume_role` refuses roles the target account's IAM does not hold.

AWS creates ``OrganizationAccountAccessRole`` in every account created through
``CreateAccount``
(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_accounts_create-cross-account-role.html),
and so does moto; the tests use that role the way an administrator would: to deploy the
collector role (``ztflows-read``) into the member accounts, with the IAM API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from conftest import REGION, REPO_ROOT

from zt_flows.cli import main
from zt_flows.errors import AwsError
from zt_flows.inventory import load_inventory
from zt_flows.inventory.collect import collect_snapshot
from zt_flows.inventory.organization import DEFAULT_ROLE_NAME, list_accounts
from zt_flows.settings import AwsSettings

MANAGEMENT = "123456789012"  # moto's default account
NOW = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
ADMIN_ROLE = "OrganizationAccountAccessRole"
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def aws_like_assume_role(aws_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """AssumeRole as AWS answers it: only roles that exist."""
    from moto.core.exceptions import AccessDeniedError
    from moto.iam.models import iam_backends
    from moto.sts.models import STSBackend

    assume = STSBackend.assume_role

    def assume_role(self: STSBackend, **kwargs: Any) -> Any:
        arn = kwargs["role_arn"]
        account = arn.split(":")[4]
        try:
            iam_backends[account]["aws"].get_role_by_arn(arn)
        except Exception:  # moto's IAMNotFoundException: AWS answers AccessDenied
            raise AccessDeniedError(
                user_arn=f"arn:aws:iam::{self.account_id}:user/ztflows",
                action=f"sts:AssumeRole on resource: {arn}",
            ) from None
        return assume(self, **kwargs)

    monkeypatch.setattr(STSBackend, "assume_role", assume_role)


def _session_in(
    management: boto3.session.Session, endpoint: str, account: str, role: str
) -> boto3.session.Session:
    sts = management.client("sts", endpoint_url=endpoint)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="setup")
    return boto3.session.Session(
        aws_access_key_id=creds["Credentials"]["AccessKeyId"],
        aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
        aws_session_token=creds["Credentials"]["SessionToken"],
        region_name=REGION,
    )


def _network(session: boto3.session.Session, endpoint: str, region: str, second: int) -> str:
    ec2 = session.client("ec2", endpoint_url=endpoint, region_name=region)
    vpc = ec2.create_vpc(CidrBlock=f"10.{second}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{second}.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_network_interface(SubnetId=subnet, Description=f"member {second}")
    return str(vpc)


@pytest.fixture
def organization(
    aws_like_assume_role: None, aws_session: boto3.session.Session, aws_env: str
) -> dict[str, Any]:
    """A management account and three members: two with the collector role, one without."""
    orgs = aws_session.client("organizations", endpoint_url=aws_env)
    orgs.create_organization(FeatureSet="ALL")
    members = [
        orgs.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for name in ("prod", "staging", "sandbox")
    ]
    prod, staging, sandbox = members
    vpcs: dict[str, str] = {}
    for index, account in enumerate(members):
        admin = _session_in(aws_session, aws_env, account, ADMIN_ROLE)
        vpcs[account] = _network(admin, aws_env, REGION, 30 + index)
        if account != sandbox:  # the sandbox never got the collector role deployed
            admin.client("iam", endpoint_url=aws_env).create_role(
                RoleName=DEFAULT_ROLE_NAME, AssumeRolePolicyDocument=TRUST
            )
    vpcs[MANAGEMENT] = _network(aws_session, aws_env, REGION, 20)
    return {"prod": prod, "staging": staging, "sandbox": sandbox, "vpcs": vpcs}


def test_list_accounts_follows_every_page(
    organization: dict[str, Any], aws_session: boto3.session.Session, aws_env: str
) -> None:
    settings = AwsSettings(endpoint_url=aws_env)
    one_by_one = list_accounts(aws_session, settings, page_size=1)
    assert [a.account_id for a in one_by_one] == sorted(
        [MANAGEMENT, organization["prod"], organization["staging"], organization["sandbox"]]
    )
    assert all(a.active and a.partition == "aws" for a in one_by_one)
    # A page of one really is one account: the listing above took four pages.
    orgs = aws_session.client("organizations", endpoint_url=aws_env)
    first = orgs.list_accounts(MaxResults=1)
    assert len(first["Accounts"]) == 1
    assert "NextToken" in first
    assert one_by_one[0].role_arn("ztflows-read") == (
        f"arn:aws:iam::{one_by_one[0].account_id}:role/ztflows-read"
    )


def test_organization_collects_every_reachable_account_and_reports_the_rest(
    organization: dict[str, Any],
    aws_session: boto3.session.Session,
    aws_env: str,
    tmp_path: Path,
) -> None:
    settings = AwsSettings(endpoint_url=aws_env, organization=True, regions=(REGION, "eu-west-1"))
    collected = collect_snapshot(aws_session, settings, tmp_path, now=NOW)

    folder = collected.folder
    reached = [MANAGEMENT, organization["prod"], organization["staging"]]
    for account in reached:
        for region in (REGION, "eu-west-1"):
            assert (folder / account / region / "describe-vpcs.json").is_file()
    sandbox = organization["sandbox"]
    assert not (folder / sandbox).exists()
    (failure,) = collected.failures
    assert (failure.account_id, failure.region) == (sandbox, None)
    assert failure.message == (
        f"access denied: sts:AssumeRole on arn:aws:iam::{sandbox}:role/{DEFAULT_ROLE_NAME}"
    )
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["account_ids"] == sorted(reached)
    assert manifest["regions"] == ["eu-west-1", REGION]
    assert manifest["failures"] == [
        {"account_id": sandbox, "region": None, "error": failure.message}
    ]
    # Each account's snapshot holds its own network, read through its own role.
    inventory = load_inventory(folder)
    (snapshot,) = inventory.snapshots
    assert snapshot.account_ids == tuple(sorted(reached))
    owners = {v.id: v.owner_id for v in inventory.vpcs.values()}
    for account in reached:
        assert owners[organization["vpcs"][account]] == account
    assert organization["vpcs"][sandbox] not in owners
    assert {eni.account_id for eni in inventory.interfaces.values()} == set(reached)


def test_organization_without_regions_takes_every_enabled_region(
    organization: dict[str, Any],
    aws_session: boto3.session.Session,
    aws_env: str,
) -> None:
    """Every account's own enabled regions (DescribeRegions in each account). The plan is
    checked rather than collected: every region of several accounts would instantiate the
    test server's whole EC2 emulation many times over, for the same per-region code the
    other tests run."""
    from zt_flows.inventory.collect import _organization_plan

    ec2 = aws_session.client("ec2", endpoint_url=aws_env)
    listed = ec2.describe_regions()["Regions"]
    enabled = sorted(
        r["RegionName"]
        for r in listed
        if r.get("OptInStatus") in ("opt-in-not-required", "opted-in")
    )
    # Regions the account has not opted in to are listed, and must not be collected.
    assert len(listed) > len(enabled) > 10
    settings = AwsSettings(endpoint_url=aws_env, organization=True)
    plan, failures = _organization_plan(aws_session, settings)
    regions: dict[str, list[str]] = {}
    for account, region in plan:
        regions.setdefault(account.account_id, []).append(region)
    assert sorted(regions) == sorted([MANAGEMENT, organization["prod"], organization["staging"]])
    assert all(sorted(found) == enabled for found in regions.values())
    assert [(f.account_id, f.region) for f in failures] == [(organization["sandbox"], None)]
    # A role no account has: only the caller's own account, through its own credentials.
    missing = AwsSettings(endpoint_url=aws_env, organization=True, role_name="missing-role")
    plan, failures = _organization_plan(aws_session, missing)
    assert {account.account_id for account, _ in plan} == {MANAGEMENT}
    assert {f.account_id for f in failures} == {
        organization["prod"],
        organization["staging"],
        organization["sandbox"],
    }
    assert all("role/missing-role" in f.message for f in failures)


def test_an_organization_without_accounts_is_an_aws_error(
    aws_like_assume_role: None,
    aws_session: boto3.session.Session,
    aws_env: str,
    tmp_path: Path,
) -> None:
    """Nothing listed, nothing collected: an error, and nothing is written."""
    settings = AwsSettings(endpoint_url=aws_env, organization=True, regions=(REGION,))
    with pytest.raises(AwsError, match="the organization lists no account that could be"):
        collect_snapshot(aws_session, settings, tmp_path / "out", now=NOW)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_cli_organization_reports_skipped_accounts(
    organization: dict[str, Any], aws_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "inventory",
            "collect",
            "--organization",
            "--region",
            REGION,
            "--endpoint-url",
            aws_env,
            "--out",
            str(tmp_path),
            "--quiet",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    folder = Path(captured.out.strip())
    assert folder.parent == tmp_path
    sandbox = organization["sandbox"]
    assert f"skipped account {sandbox}: access denied: sts:AssumeRole" in captured.err
    # The management account's interface and one in each member reached; not the sandbox's.
    assert "collected 3 network interfaces" in captured.err

    bad = main(["inventory", "collect", "--organization", "--role-name", "a b", "--out", "x"])
    assert bad == 2
    assert "--role-name: expected an IAM role name" in capsys.readouterr().err


def test_the_iam_policy_names_the_organization_actions() -> None:
    policy = json.loads((REPO_ROOT / "docs" / "iam-policy.json").read_text())
    actions = {
        action
        for statement in policy["Statement"]
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert {"organizations:ListAccounts", "sts:AssumeRole", "ec2:DescribeRegions"} <= actions
