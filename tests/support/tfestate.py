"""A Terraform estate applied to the moto server, analysed, changed by ``ztflows pr``, and
applied again, phase by phase, as a team would.

An estate is a folder of ``tests/fixtures/estates``: a repository with one or more root
modules. The run copies it into a git repository, adds each root's provider
configuration (the moto server), applies every root, writes three days of flow logs for
the estate's conversations into S3 in AWS's layout, runs ``ztflows analyze`` (collecting
the inventory from moto) and ``ztflows pr --phase both``, then applies the branch's two
commits in turn. What each step left behind is kept for the test's assertions.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support.flowlogs import Records
from support.tfharness import Run, Terraform, provider_tf
from zt_flows.cli import main
from zt_flows.recommend.plan import Plan, read_plan
from zt_flows.tfrepo.model import RuleKey

ESTATES = Path(__file__).resolve().parents[1] / "fixtures" / "estates"
# Terraform makes hundreds of calls to the moto server: its request log says nothing here.
logging.getLogger("werkzeug").setLevel(logging.WARNING)
BUCKET = "estate-flow-logs"
STANDALONE = "modules/security-groups"
# client -> server:port, by private address (the estates' interfaces have fixed ones);
# 10.1.7.7 is a host of the old office network, named with --onprem-cidr 10.1.0.0/16.
CONVERSATIONS = (
    ("10.0.1.10", "10.0.1.20", 443),
    ("10.0.1.20", "10.0.1.30", 8443),
    ("10.0.1.30", "10.0.1.40", 5432),
    ("10.1.7.7", "10.0.1.40", 5432),
)
ONPREM = ("--onprem-cidr", "10.1.0.0/16")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    ).stdout


@dataclass
class Estate:
    name: str
    roots: tuple[str, ...]
    repo: Path
    work: Path
    endpoint: str
    terraform: Terraform
    ec2: Any
    s3: Any
    conversations: Sequence[tuple[str, str, int]] = CONVERSATIONS
    applies: dict[str, list[Run]] = field(default_factory=dict)
    plan: Plan | None = None
    pr_output: str = ""
    commits: list[str] = field(default_factory=list)
    groups_before: set[str] = field(default_factory=set)
    enis_before: set[str] = field(default_factory=set)
    timings: dict[str, float] = field(default_factory=dict)

    # ------------------------------------------------------------------ setup

    @classmethod
    def create(
        cls,
        name: str,
        roots: Sequence[str],
        work: Path,
        *,
        endpoint: str,
        terraform: Terraform,
        ec2: Any,
        s3: Any,
    ) -> Estate:
        repo = work / "infra"
        shutil.copytree(ESTATES / name, repo)
        for root in roots:
            (repo / root / "providers.tf").write_text(provider_tf(endpoint))
        (repo / ".gitignore").write_text(
            ".terraform/\n*.tfstate\n*.tfstate.*\n.terraform.lock.hcl\n"
        )
        git(repo.parent, "init", "--quiet", "-b", "main", str(repo))
        git(repo, "add", ".")
        git(repo, "commit", "--quiet", "-m", "The estate as the team wrote it")
        s3.create_bucket(Bucket=BUCKET)
        _delete_default_vpcs(ec2)
        return cls(name, tuple(roots), repo, work, endpoint, terraform, ec2, s3)

    def timed(self, what: str, action: Callable[[], Any]) -> Any:
        start = time.monotonic()
        try:
            return action()
        finally:
            self.timings[what] = self.timings.get(what, 0.0) + time.monotonic() - start

    def root_paths(self, extra: Sequence[str] = ()) -> list[Path]:
        return [self.repo / r for r in (*self.roots, *extra)]

    def apply_all(self, step: str, extra: Sequence[str] = ()) -> list[Run]:
        paths = self.root_paths(extra)
        for path in paths:
            if not (path / ".terraform").is_dir():
                self.timed("init", lambda p=path: self.terraform.init(p))
        runs = self.timed(step, lambda: self.terraform.each(paths, "apply"))
        self.applies[step] = runs
        return runs

    def inventory_ids(self) -> tuple[set[str], set[str]]:
        groups = {g["GroupId"] for g in self.ec2.describe_security_groups()["SecurityGroups"]}
        enis = {
            e["NetworkInterfaceId"]
            for e in self.ec2.describe_network_interfaces()["NetworkInterfaces"]
        }
        return groups, enis

    def deploy(
        self, *, stages: Sequence[Sequence[str]] = (), then: Callable[[], None] | None = None
    ) -> None:
        """Apply every root (in ``stages`` when roots depend on each other's resources)."""
        if not stages:
            self.apply_all("create")
        for stage in stages:
            paths = [self.repo / r for r in stage]
            for path in paths:
                self.timed("init", lambda p=path: self.terraform.init(p))
            self.timed("create", lambda p=paths: self.terraform.each(p, "apply"))
        if then is not None:
            then()
        self.groups_before, self.enis_before = self.inventory_ids()

    # ------------------------------------------------------------------ traffic

    def write_flow_logs(self) -> None:
        """Three days of the estate's conversations, after the flow log was created."""
        enis = {
            e["PrivateIpAddress"]: e["NetworkInterfaceId"]
            for e in self.ec2.describe_network_interfaces()["NetworkInterfaces"]
        }
        # Windows are whole days; the flow log was created today, so the window starts
        # tomorrow.
        start = (int(time.time()) // 86400 + 1) * 86400 + 3600
        records = Records()
        for day in range(3):
            for n, (client, server, port) in enumerate(self.conversations):
                records.connection(
                    (enis.get(client), client),
                    (enis.get(server), server),
                    40_000 + 7 * n + day,
                    port,
                    start=start + day * 86400 + n * 600,
                    intervals=2,
                )
        folder = records.write(self.work / "flowlogs")
        for path in sorted(folder.rglob("*.parquet")):
            self.s3.upload_file(str(path), BUCKET, path.relative_to(folder).as_posix())

    def analyze(self, *extra: str) -> Plan:
        extra = (*ONPREM, *extra)
        out = self.work / "out"
        code = self.timed(
            "analyze",
            lambda: main(
                [
                    "analyze",
                    f"s3://{BUCKET}/AWSLogs/",
                    "--endpoint-url",
                    self.endpoint,
                    "--region",
                    "us-east-1",
                    "--out",
                    str(out),
                    "--cache-dir",
                    str(self.work / "cache"),
                    "--quiet",
                    *extra,
                ]
            ),
        )
        assert code == 0
        self.plan = read_plan(out / "plan.json")
        return self.plan

    def state_options(self) -> list[str]:
        """--state for every root: its local state file is what terraform state pull prints."""
        return [
            o for r in self.roots for o in ("--state", f"{r}={self.repo / r / 'terraform.tfstate'}")
        ]

    def pull_request(self, capsys: Any, *extra: str) -> str:
        code = self.timed(
            "pr",
            lambda: main(
                [
                    "pr",
                    str(self.work / "out" / "plan.json"),
                    "--repo",
                    str(self.repo),
                    "--findings",
                    str(self.work / "out" / "findings.json"),
                    "--phase",
                    "both",
                    # The plan is verified against the groups as they are now: collected
                    # from the moto server again, as a user's run collects from AWS.
                    "--endpoint-url",
                    self.endpoint,
                    "--region",
                    "us-east-1",
                    *extra,
                ]
            ),
        )
        out, err = capsys.readouterr()
        assert code == 0, err
        self.pr_output = err
        branch = out.strip()
        self.commits = git(self.repo, "rev-list", "--reverse", f"main..{branch}").split()
        return branch

    # ------------------------------------------------------------------ rollout

    def standalone_roots(self) -> list[str]:
        return [STANDALONE] if (self.repo / STANDALONE).is_dir() else []

    def checkout(self, commit: str) -> None:
        git(self.repo, "checkout", "--quiet", commit)
        for root in self.standalone_roots():
            (self.repo / root / "providers.tf").write_text(
                provider_tf(self.endpoint, required_providers=False)
            )

    def rollout(self) -> None:
        assert len(self.commits) == 2, self.commits
        self.checkout(self.commits[0])
        self.apply_all("phase 1", self.standalone_roots())
        self.checkout(self.commits[1])
        self.apply_all("phase 2", self.standalone_roots())

    def plans_are_empty(self) -> list[Run]:
        return self.timed(
            "plan",
            lambda: self.terraform.each(self.root_paths(self.standalone_roots()), "plan_exit_code"),
        )

    def validations(self) -> list[Run]:
        return self.timed(
            "validate",
            lambda: self.terraform.each(self.root_paths(self.standalone_roots()), "validate"),
        )

    # ------------------------------------------------------------------ AWS as it is

    def aws_rules(self, group_id: str) -> set[RuleKey]:
        rules = self.ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["SecurityGroupRules"]
        out = set()
        for r in rules:
            direction = "egress" if r["IsEgress"] else "ingress"
            if r.get("CidrIpv4"):
                peer = ("cidr", r["CidrIpv4"])
            elif r.get("CidrIpv6"):
                peer = ("cidr", r["CidrIpv6"])
            elif r.get("PrefixListId"):
                peer = ("prefix_list", r["PrefixListId"])
            else:
                peer = ("security_group", r["ReferencedGroupInfo"]["GroupId"])
            low = None if r["IpProtocol"] == "-1" else r.get("FromPort")
            high = None if r["IpProtocol"] == "-1" else r.get("ToPort")
            out.add(RuleKey.of(direction, r["IpProtocol"], low, high, *peer))  # type: ignore[arg-type]
        return out

    def aws_descriptions(self, group_id: str) -> list[str]:
        rules = self.ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["SecurityGroupRules"]
        return [r.get("Description", "") for r in rules]


def _delete_default_vpcs(ec2: Any) -> None:
    """The account's default VPC goes, as many organisations do: only the estate remains."""
    for vpc in ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]:
        vpc_id = vpc["VpcId"]
        for subnet in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "Subnets"
        ]:
            ec2.delete_subnet(SubnetId=subnet["SubnetId"])
        for igw in ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
        )["InternetGateways"]:
            ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
            ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
        ec2.delete_vpc(VpcId=vpc_id)


def check_rollout(estate: Estate, plan: Plan, *, by_hand: Sequence[str] = ()) -> None:
    """What every estate must show after phase 2: the plan's rules, nothing destroyed.

    Groups in ``by_hand`` had changes the pull request leaves to a person: they hold the
    plan's rules and, until that person acts, the rules left for them.
    """
    for step in ("phase 1", "phase 2"):
        for run in estate.applies[step]:
            kept_types = (
                "aws_security_group.",
                "aws_default_security_group.",
                "aws_network_interface.",
            )
            lost = [a for a in run.destroyed if any(t in a for t in kept_types)]
            assert not lost, f"{step} destroyed {lost}:\n{run.out}"
    groups, enis = estate.inventory_ids()
    assert estate.groups_before <= groups
    assert estate.enis_before <= enis
    for gid in changed_groups(plan):
        final = planned(plan, gid, ("keep", "add"))
        if gid in by_hand:
            assert final <= estate.aws_rules(gid) <= final | planned(plan, gid, ("remove",))
        else:
            assert estate.aws_rules(gid) == final, gid
    for run in estate.plans_are_empty():
        assert run.code == 0, f"{run.cwd}: plan not empty:\n{run.out[-4000:]}"
    for run in estate.validations():
        assert run.code == 0, f"{run.cwd}: {run.err}"


def planned(plan: Plan, group_id: str, actions: Sequence[str]) -> set[RuleKey]:
    from zt_flows.tfrepo.planinput import rule_change

    group = next(g for g in plan.security_groups if g.group_id == group_id)
    return {rule_change(r).key for r in group.rules if r.action in actions}


def changed_groups(plan: Plan) -> list[str]:
    return [
        g.group_id
        for g in plan.security_groups
        if any(r.action in ("add", "remove") for r in g.rules)
    ]


def timings_line(estate: Estate) -> str:
    return json.dumps({k: round(v, 1) for k, v in estate.timings.items()})


def only_inserts(before: str, after: str) -> str:
    """The text ``after`` adds to ``before``; fails if it changes or removes anything."""
    import difflib

    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    added: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        assert op == "insert", (op, a[i1:i2], b[j1:j2])
        added += b[j1:j2]
    return "".join(added)


def body(estate: Estate) -> str:
    """The pull request body ztflows kept (PULL_REQUEST.md, or its copy in .git)."""
    kept = sorted((estate.repo / ".git" / "ztflows").glob("*.md"))
    if kept:
        return kept[0].read_text()
    return git(estate.repo, "show", f"{estate.commits[0]}:{STANDALONE}/PULL_REQUEST.md")
