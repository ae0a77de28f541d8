"""Collecting a snapshot from EC2: the AWS adapter of the inventory stage.

Every call goes through a boto3 paginator (NextToken followed to the end, pages merged
into one document per command) with adaptive retries, and is written exactly as
``aws ec2 <command> --output json`` prints it: the result key only (no
``ResponseMetadata`` or ``NextToken``), four-space indentation, non-ASCII kept, times
as ISO-8601 strings. A user can therefore hand-make or extend a snapshot with the AWS
CLI, and a collected snapshot reads back the same way.

Accounts and regions are collected in parallel: EC2 throttles API requests per account
and Region, so they do not compete for the same request budget
(https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html).

The snapshot is written to a hidden temporary folder beside the target and renamed
into place when complete: an interrupted run leaves nothing that looks like a snapshot.

With ``settings.organization`` the accounts are those AWS Organizations lists, each reached
through ``settings.role_name``, in every enabled region unless regions are named; an
account or region that fails (a role that cannot be assumed, access denied) is left out
and reported in the manifest's ``failures`` instead of stopping the others.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, cast

import boto3
import botocore.client

from zt_flows.atomic import atomic_dir
from zt_flows.aws import aws_call, client_config, make_session
from zt_flows.errors import AwsError, OutputError, UsageError
from zt_flows.inventory import snapshot_files
from zt_flows.inventory.organization import OrganizationAccount, list_accounts
from zt_flows.parallel import Cancelled, run_parallel
from zt_flows.progress import NULL_PROGRESS, Progress, Task
from zt_flows.settings import AwsSettings

if TYPE_CHECKING:
    from mypy_boto3_sts import STSClient

ALL_REGIONS = "all"
SESSION_NAME = "ztflows-inventory"
_ENABLED = frozenset({"opt-in-not-required", "opted-in"})
_ROLE_ACCOUNT = re.compile(r"^arn:[\w-]+:iam::(\d{12}):role/")
# (account, region) pairs collected at once: each waits on its own Region's endpoint,
# so a handful of threads hides most of the latency of an --all-regions run.
REGION_WORKERS = 6


@dataclass(frozen=True)
class _Account:
    account_id: str
    session: boto3.session.Session
    via: str  # how it was reached, for messages: "profile prod", "role arn:…", "the session"


@dataclass(frozen=True)
class CollectionFailure:
    """An account, or one region of it, that could not be collected (organization mode)."""

    account_id: str
    region: str | None  # None: the whole account (its role, its regions)
    message: str  # the error, naming the IAM action; never credentials


@dataclass(frozen=True)
class CollectedSnapshot:
    """Where a snapshot was written, and what it had to leave out."""

    folder: Path
    failures: tuple[CollectionFailure, ...] = ()


def collect_inventory(
    session: boto3.session.Session,
    settings: AwsSettings,
    out: Path,
    *,
    progress: Progress = NULL_PROGRESS,
    now: datetime | None = None,
) -> Path:
    """Collect one snapshot into ``out/<taken-at>/`` and return that folder.

    Accounts: ``settings.profiles`` (one account each), and one assumed role per
    ``settings.assume_roles`` ARN (assumed with ``session``); with neither, the
    account of ``session``; with ``settings.organization``, every active account of the
    organization (see :func:`collect_snapshot`). Regions: ``settings.regions``, every
    enabled region for ``("all",)``, or the session's region.
    """
    return collect_snapshot(session, settings, out, progress=progress, now=now).folder


def collect_snapshot(
    session: boto3.session.Session,
    settings: AwsSettings,
    out: Path,
    *,
    progress: Progress = NULL_PROGRESS,
    now: datetime | None = None,
) -> CollectedSnapshot:
    """:func:`collect_inventory`, also returning what an organization-wide run left out.

    With ``settings.organization``, ``session`` must be able to call
    ``organizations:ListAccounts`` (the management account or a delegated administrator).
    Its own account is collected with ``session`` itself; every other active account
    through ``settings.role_name``. Without ``settings.regions`` every region enabled in
    each account is collected. Failures of single accounts or regions are returned (and
    written to the manifest); only when nothing at all could be collected is it an error.
    """
    taken_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    target = Path(out) / snapshot_files.folder_name(taken_at)
    if target.exists():
        raise OutputError(
            f"{target} already exists", hint="a snapshot taken at the same second is there"
        )
    if not (
        settings.regions
        or settings.region
        or session.region_name
        or settings.profiles
        or settings.organization
    ):
        raise UsageError(
            "no AWS region to collect in",
            hint="pass --region (repeatable) or --all-regions, or set AWS_REGION",
        )
    stack = contextlib.ExitStack()
    try:
        partial = stack.enter_context(atomic_dir(target))
    except OSError as exc:
        raise OutputError(
            f"cannot write a snapshot into {target.parent}: {exc.strerror or exc}"
        ) from None
    try:
        with stack:
            if settings.organization:
                plan, failures = _organization_plan(session, settings)
            else:
                accounts = _accounts(session, settings)
                plan = [(acct, region) for acct in accounts for region in _regions(acct, settings)]
                failures = []
            nested = len(plan) > 1 or settings.organization
            # Clients are made here, on one thread: a boto3 session is not thread-safe, the
            # clients it makes are.
            jobs = [
                _RegionJob(
                    account,
                    region,
                    _ec2(account, region, settings),
                    partial / account.account_id / region if nested else partial,
                )
                for account, region in plan
            ]
            places = (
                f"{plan[0][0].account_id} {plan[0][1]}"
                if len(plan) == 1
                else f"{len(plan)} regions"
            )
            with progress.task(
                f"inventory {places}", total=len(plan) * len(snapshot_files.COMMANDS)
            ) as task:
                if settings.organization:
                    outcomes = run_parallel(
                        jobs,
                        lambda job, cancel: _tolerant(job, task, cancel),
                        workers=REGION_WORKERS,
                    )
                    failures += [f for f in outcomes if f is not None]
                    done = [job for job, f in zip(jobs, outcomes, strict=True) if f is None]
                else:
                    run_parallel(
                        jobs,
                        lambda job, cancel: _collect_region(job, task, cancel),
                        workers=REGION_WORKERS,
                    )
                    done = jobs
            if not done:
                raise _nothing_collected(failures, settings)
            manifest: dict[str, object] = {
                "schema_version": snapshot_files.SCHEMA_VERSION,
                "taken_at": snapshot_files.format_time(taken_at),
                "account_ids": sorted({job.account.account_id for job in done}),
                "regions": sorted({job.region for job in done}),
            }
            ordered = sorted(failures, key=lambda f: (f.account_id, f.region or ""))
            if settings.organization:
                manifest["failures"] = [
                    {"account_id": f.account_id, "region": f.region, "error": f.message}
                    for f in ordered
                ]
            _write_json(partial / snapshot_files.MANIFEST, manifest)
    except OSError as exc:
        # Only files are written here (AWS failures arrive as AwsError): a full disk, a
        # quota, a read-only file system. atomic_dir removed the partial folder: nothing
        # that looks like a snapshot is left.
        raise OutputError(
            f"cannot write a snapshot into {target.parent}: {exc.strerror or exc}",
            hint="free space there or pass another --out; nothing was written",
        ) from None
    return CollectedSnapshot(target, tuple(ordered))


# --------------------------------------------------------------------------- accounts, regions


def _ec2(account: _Account, region: str, settings: AwsSettings) -> botocore.client.BaseClient:
    return cast(
        botocore.client.BaseClient,
        account.session.client(
            "ec2",
            region_name=region,
            endpoint_url=settings.endpoint_url,
            config=client_config(settings),
        ),
    )


def _accounts(session: boto3.session.Session, settings: AwsSettings) -> list[_Account]:
    accounts: list[_Account] = []
    for profile in settings.profiles:
        profile_session = make_session(
            replace(settings, profile=profile, region=session.region_name)
        )
        accounts.append(
            _Account(
                _caller_account(profile_session, settings), profile_session, f"profile {profile}"
            )
        )
    for role_arn in settings.assume_roles:
        accounts.append(_assume(session, role_arn, settings))
    if not accounts:
        accounts.append(
            _Account(_caller_account(session, settings), session, "the default credentials")
        )
    seen: dict[str, str] = {}
    for account in accounts:
        if account.account_id in seen:
            raise UsageError(
                f"{seen[account.account_id]} and {account.via} both reach account "
                f"{account.account_id}; pass one profile or role per account"
            )
        seen[account.account_id] = account.via
    return accounts


def _caller_account(session: boto3.session.Session, settings: AwsSettings) -> str:
    # GetCallerIdentity needs no IAM permission: it cannot be denied.
    sts = session.client(
        "sts",
        region_name=session.region_name or "us-east-1",
        endpoint_url=settings.endpoint_url,
        config=client_config(settings),
    )
    with aws_call("sts:GetCallerIdentity", "the caller"):
        return str(sts.get_caller_identity()["Account"])


def _assume(session: boto3.session.Session, role_arn: str, settings: AwsSettings) -> _Account:
    match = _ROLE_ACCOUNT.match(role_arn)
    if match is None:
        raise UsageError(
            f"--assume-role: expected a role ARN like arn:aws:iam::123456789012:role/ztflows, "
            f"found {role_arn!r}"
        )
    return _assume_with(_sts(session, settings), role_arn, session.region_name)


def _sts(session: boto3.session.Session, settings: AwsSettings) -> STSClient:
    return session.client(
        "sts",
        region_name=session.region_name or "us-east-1",
        endpoint_url=settings.endpoint_url,
        config=client_config(settings),
    )


def _assume_with(sts: STSClient, role_arn: str, region: str | None) -> _Account:
    match = _ROLE_ACCOUNT.match(role_arn)
    assert match is not None  # checked by the caller, or built from a listed account
    with aws_call("sts:AssumeRole", role_arn):
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME)["Credentials"]
    assumed = boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )
    return _Account(match.group(1), assumed, f"role {role_arn}")


def _organization_plan(
    session: boto3.session.Session, settings: AwsSettings
) -> tuple[list[tuple[_Account, str]], list[CollectionFailure]]:
    """Every (account, region) of the organization that could be reached, and those not."""
    if settings.profiles or settings.assume_roles:
        raise UsageError(
            "--organization finds the accounts itself: drop --profile (but one) and --assume-role"
        )
    caller = _caller_account(session, settings)
    members = list_accounts(session, settings)
    failures = [
        CollectionFailure(m.account_id, None, f"account status {m.status}: not collected")
        for m in members
        if not m.active
    ]
    # One STS client on this thread; the roles are assumed in parallel with it.
    sts = _sts(session, settings)

    def reach(
        member: OrganizationAccount, cancel: threading.Event
    ) -> tuple[_Account, list[str]] | str:
        if cancel.is_set():
            raise Cancelled
        try:
            if member.account_id == caller:
                account = _Account(caller, session, "the default credentials")
            else:
                role = member.role_arn(settings.role_name)
                account = _assume_with(sts, role, session.region_name)
            return account, _regions(account, settings)
        except AwsError as exc:
            return exc.message

    active = [m for m in members if m.active]
    # The caller's own session is used on this thread only: reach it first, alone.
    own = [m for m in active if m.account_id == caller]
    others = [m for m in active if m.account_id != caller]
    results = [reach(m, threading.Event()) for m in own]
    results += run_parallel(others, reach, workers=REGION_WORKERS)
    plan: list[tuple[_Account, str]] = []
    for member, result in zip([*own, *others], results, strict=True):
        if isinstance(result, str):
            failures.append(CollectionFailure(member.account_id, None, result))
        else:
            plan += [(result[0], region) for region in result[1]]
    return plan, failures


def _tolerant(job: _RegionJob, task: Task, cancel: threading.Event) -> CollectionFailure | None:
    """One region, its failure reported instead of raised; nothing half-written is kept."""
    try:
        _collect_region(job, task, cancel)
    except AwsError as exc:
        shutil.rmtree(job.folder, ignore_errors=True)
        return CollectionFailure(job.account.account_id, job.region, exc.message)
    return None


def _nothing_collected(failures: list[CollectionFailure], settings: AwsSettings) -> AwsError:
    if not failures:
        return AwsError(
            "the organization lists no account that could be collected",
            hint="check that the caller is the management account or a delegated administrator",
        )
    first = min(failures, key=lambda f: (f.account_id, f.region or ""))
    where = f"account {first.account_id}" + (f" in {first.region}" if first.region else "")
    return AwsError(
        f"no account could be collected ({len(failures)} failed); {where}: {first.message}",
        hint=f"check that the role {settings.role_name!r} (--role-name) exists in each account"
        " and trusts the caller",
    )


def _regions(account: _Account, settings: AwsSettings) -> list[str]:
    if settings.regions == (ALL_REGIONS,) or (settings.organization and not settings.regions):
        home = account.session.region_name or settings.region or "us-east-1"
        client = account.session.client(
            "ec2",
            region_name=home,
            endpoint_url=settings.endpoint_url,
            config=client_config(settings),
        )
        with aws_call("ec2:DescribeRegions", f"account {account.account_id}"):
            answer = client.describe_regions()
        # Without AllRegions AWS lists the enabled regions only; some emulators list every
        # region, so a region the account has not opted in to is skipped here too.
        return sorted(
            str(r["RegionName"])
            for r in answer["Regions"]
            if r.get("OptInStatus", "opt-in-not-required") in _ENABLED
        )
    if ALL_REGIONS in settings.regions:
        raise UsageError("pass either --all-regions or --region, not both")
    if settings.regions:
        return list(dict.fromkeys(settings.regions))
    region = settings.region or account.session.region_name
    if region is None:
        raise UsageError(
            "no AWS region to collect in",
            hint="pass --region, or set AWS_REGION or a profile region",
        )
    return [region]


# --------------------------------------------------------------------------- one region


@dataclass(frozen=True)
class _RegionJob:
    account: _Account
    region: str
    client: botocore.client.BaseClient
    folder: Path


def _collect_region(job: _RegionJob, task: Task, cancel: threading.Event) -> None:
    client = job.client
    folder = job.folder
    folder.mkdir(parents=True, exist_ok=True)
    where = f"account {job.account.account_id} in {job.region}"
    for command in snapshot_files.COMMANDS:
        if cancel.is_set():  # another region failed: stop at the next call
            raise Cancelled
        document = _paginate(client, command, where)
        _write_json(folder / command.file, document)
        if command is snapshot_files.PREFIX_LISTS:
            for prefix_list in document[command.result_key]:
                list_id = str(prefix_list["PrefixListId"])
                entries = _paginate(
                    client,
                    snapshot_files.PREFIX_LIST_ENTRIES,
                    f"{list_id} in {where}",
                    PrefixListId=list_id,
                )
                _write_json(folder / snapshot_files.entries_file(list_id), entries)
        task.advance()


def _paginate(
    client: botocore.client.BaseClient, command: snapshot_files.Command, where: str, **params: str
) -> dict[str, list[Mapping[str, object]]]:
    """Every page of one call, merged the way ``aws ec2 …`` merges them."""
    items: list[Mapping[str, object]] = []
    paginator = client.get_paginator(command.operation)
    config = {"PageSize": command.page_size}
    with aws_call(command.action, where):
        for page in paginator.paginate(PaginationConfig=config, **params):
            items.extend(page.get(command.result_key, []))
    return {command.result_key: items}


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _write_json(path: Path, document: object) -> None:
    text = json.dumps(document, indent=4, ensure_ascii=False, default=_json_default) + "\n"
    path.write_text(text, encoding="utf-8")


__all__ = [
    "ALL_REGIONS",
    "CollectedSnapshot",
    "CollectionFailure",
    "collect_inventory",
    "collect_snapshot",
]
