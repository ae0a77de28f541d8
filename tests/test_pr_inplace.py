"""ztflows pr on a repository whose Terraform manages some of the plan's groups.

The sample plan's ``api`` and ``postgres`` groups are written inline in the repository's
``db`` root (its state given as a ``terraform state pull`` file); every other group is
managed by nobody. The pull request edits ``db/main.tf`` in place and writes the others
as the standalone module, in two commits; its body says which group went where and why.
Real Terraform applies of such branches are in tests/test_tfrepo_*.py.
"""

# ruff: noqa: F811 (the fixtures imported from test_publish are parameters here)
from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest
from support.tfrepo import StateBuilder, inline
from test_publish import (  # noqa: F401 (fixtures)
    BRANCH,
    INVENTORY,
    SAMPLE,
    Repos,
    git,
    isolated_git,
    repos,
)

from zt_flows.cli import main
from zt_flows.errors import OutputError, UsageError
from zt_flows.publish.pull_request import prepare_pull_request
from zt_flows.recommend.plan import Plan, read_plan

API, POSTGRES = "sg-0f3a1c2b4d5e60013", "sg-0f3a1c2b4d5e60015"
DB_TF = """\
# Owned by the data team.
resource "aws_security_group" "api" {
  name   = "api"
  vpc_id = "vpc-0c41f5a2b7d3e9001"

  ingress {
    description = "API from VPC"
    from_port   = 8443
    to_port     = 8443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "postgres" {
  name   = "postgres"
  vpc_id = "vpc-0c41f5a2b7d3e9001"

  ingress {
    description = "Postgres from VPC"
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


def db_state(api: str = API, postgres: str = POSTGRES) -> StateBuilder:
    return (
        StateBuilder()
        .group(
            "api",
            api,
            ingress=[inline("tcp", 8443, 8443, cidrs=["10.0.0.0/16"], description="API from VPC")],
            egress=[inline("-1", 0, 0, cidrs=["0.0.0.0/0"])],
        )
        .group(
            "postgres",
            postgres,
            ingress=[
                inline("tcp", 5432, 5432, cidrs=["10.0.0.0/16"], description="Postgres from VPC")
            ],
            egress=[inline("-1", 0, 0, cidrs=["0.0.0.0/0"])],
        )
    )


@pytest.fixture
def plan() -> Plan:
    return read_plan(SAMPLE)


def with_db(repos: Repos, tmp_path: Path, state: StateBuilder) -> tuple[Repos, Path]:
    (repos.clone / "db").mkdir()
    (repos.clone / "db" / "main.tf").write_text(DB_TF)
    git(repos.clone, "add", ".")
    git(repos.clone, "commit", "--quiet", "-m", "The data team's groups")
    git(repos.clone, "push", "--quiet", "origin", "main")
    return repos, state.write(tmp_path / "db.tfstate")


@pytest.fixture
def infra(repos: Repos, tmp_path: Path) -> tuple[Repos, Path]:
    return with_db(repos, tmp_path, db_state())


def test_managed_groups_are_edited_in_place_the_others_go_standalone(
    infra: tuple[Repos, Path], plan: Plan
) -> None:
    repos, state = infra
    prepared = prepare_pull_request(plan, repos.clone, phase="both", state_files={"db": state})
    assert len(prepared.commits) == 2
    first, second = prepared.commits
    where = {p.name: p for p in prepared.placements}
    assert where["api"].outcome == where["postgres"].outcome == "edited"
    assert where["api"].root == "db"
    assert where["api"].files == ("db/main.tf",)
    assert where["web"].outcome == "standalone"
    assert "no Terraform in the repository manages it" in where["web"].why
    # Phase 1: the team's file gains rules, and the standalone module has the rest.
    changed = git(repos.clone, "diff", "--name-only", "main", first).split()
    assert "db/main.tf" in changed
    standalone = {c.split("/")[-1] for c in changed if c.startswith("modules/security-groups/")}
    assert "sg_web.tf" in standalone
    assert "sg_api.tf" not in standalone  # not adopted a second time, into a second state
    assert "sg_postgres.tf" not in standalone
    phase1 = git(repos.clone, "show", f"{first}:db/main.tf")
    assert phase1.startswith(DB_TF[:200])
    doc = hcl2.loads(phase1)
    postgres = doc["resource"][1]['"aws_security_group"']['"postgres"']
    assert len(postgres["ingress"]) == 2
    # api is written first: its egress refers to postgres; postgres's new ingress would
    # close a dependency cycle, so it names api by id, and says why.
    assert "${aws_security_group.postgres.id}" in str(doc["resource"][0])
    assert "aws_security_group.api by id, not by reference" in phase1
    # Phase 2: the broad rules go, and the standalone module's pending removals with them.
    removed = git(repos.clone, "diff", "--name-status", first, second).split("\n")
    assert "D\tmodules/security-groups/pending_removal.tf" in removed
    assert "M\tdb/main.tf" in removed
    phase2 = git(repos.clone, "show", f"{second}:db/main.tf")
    assert "API from VPC" not in phase2
    assert "Postgres from VPC" not in phase2
    body = prepared.body
    assert "### Where each group is changed" in body
    assert "| api (`sg-0f3a1c2b4d5e60013`) | `db`: `db/main.tf` | edited in place" in body
    assert "standalone module" in body
    assert "### Rollout and rollback of the standalone module" in body
    assert "second commit of this branch" in body
    message = git(repos.clone, "log", "-1", "--format=%B", second)
    assert message.startswith("ztflows: phase 2, remove the broad rules")


def test_phase_two_alone_needs_phase_one_merged(infra: tuple[Repos, Path], plan: Plan) -> None:
    repos, state = infra
    with pytest.raises(UsageError, match="phase 1 is not merged and applied"):
        prepare_pull_request(plan, repos.clone, phase="2", state_files={"db": state})
    assert git(repos.clone, "branch", "--list").split() == ["*", "main"]


def test_phase_two_after_phase_one_only_removes(infra: tuple[Repos, Path], plan: Plan) -> None:
    repos, state = infra
    first = prepare_pull_request(plan, repos.clone, phase="1", state_files={"db": state})
    git(repos.clone, "merge", "--quiet", "--ff-only", first.branch)
    git(repos.clone, "push", "--quiet", "origin", "main")
    applied = StateBuilder()
    merged = hcl2.loads((repos.clone / "db" / "main.tf").read_text())
    for block in merged["resource"]:
        for name, attrs in block['"aws_security_group"'].items():
            gid = API if name == '"api"' else POSTGRES
            rules = {"ingress": [], "egress": []}
            for direction in rules:
                for item in attrs.get(direction, []):
                    peers = item.get("security_groups", [])
                    groups = [
                        API if "api" in p else POSTGRES if "postgres" in p else p.strip('"')
                        for p in peers
                    ]
                    cidrs = [c.strip('"') for c in item.get("cidr_blocks", [])]
                    rules[direction].append(
                        inline(
                            item["protocol"].strip('"'),
                            item["from_port"],
                            item["to_port"],
                            cidrs=cidrs,
                            groups=groups,
                            description=item.get("description", '""').strip('"'),
                        )
                    )
            applied.group(name.strip('"'), gid, **rules)
    state.unlink()
    applied.write(state)
    second = prepare_pull_request(plan, repos.clone, phase="2", state_files={"db": state})
    assert second.branch == f"{BRANCH}-phase-2"
    assert len(second.commits) == 1
    diff = git(repos.clone, "diff", "main", second.branch, "--", "db/main.tf")
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert added == ["+  egress = []"]  # postgres keeps no outbound rule at all
    names = git(repos.clone, "diff", "--name-status", "main", second.branch).split("\n")
    assert "D\tmodules/security-groups/pending_removal.tf" in names


def test_a_path_holding_other_files_is_refused_by_name(repos: Repos, plan: Plan) -> None:
    with pytest.raises(OutputError) as info:
        prepare_pull_request(plan, repos.clone, path="modules/network")
    message = str(info.value) + (info.value.hint or "")
    assert "modules/network" in message
    assert "not written by ztflows" in message
    assert "ztflows-pr-" not in message  # no temporary path
    assert "--force" not in message  # ztflows pr has no such option


def test_cli_takes_states_per_root(
    repos: Repos, tmp_path: Path, sample_data_plan: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The command verifies the plan against the inventory first: the sample's, and its ids.
    ids = {g.name: g.group_id for g in read_plan(sample_data_plan).security_groups}
    repos, state = with_db(repos, tmp_path, db_state(ids["api"], ids["postgres"]))
    args = ["pr", str(sample_data_plan), "--inventory", str(INVENTORY), "--repo", str(repos.clone)]
    assert main([*args, "--state", f"db={state}", "--phase", "both"]) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert f"api ({ids['api']}): edited, its Terraform is in db (aws_security_group.api)" in err
    assert main([*args, "--state", str(state)]) == 2
    assert "expected ROOT=FILE" in capsys.readouterr().err
    assert main([*args, "--state", f"nowhere={state}", "--branch", "x"]) == 2
    assert "not a Terraform root" in capsys.readouterr().err


def test_without_a_standalone_module_the_body_stays_out_of_the_commit(
    infra: tuple[Repos, Path], plan: Plan
) -> None:
    repos, state = infra
    managed = [g for g in plan.security_groups if g.group_id in (API, POSTGRES)]
    small: Any = type(plan)(**{**plan.__dict__, "security_groups": tuple(managed)})
    prepared = prepare_pull_request(small, repos.clone, state_files={"db": state})
    assert prepared.files == ("db/main.tf",)
    body_file = Path(prepared.body_file)
    assert body_file.is_file()
    assert ".git" in body_file.parts
    assert body_file.read_text() == prepared.body


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--phase", "3"], "--phase: expected '1', '2' or 'both'"),
        (["--forge", "bitbucket"], "--forge: expected 'auto', 'github' or 'gitlab'"),
    ],
)
def test_phase_and_forge_are_choices(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plan_file = tmp_path / "plan.json"
    plan_file.write_text("{}", encoding="utf-8")
    assert main(["pr", str(plan_file), "--repo", str(tmp_path), *args]) == 2
    assert capsys.readouterr().err.startswith(f"error: {message}, found '{args[-1]}'")
