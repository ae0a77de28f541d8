"""ztflows pr on an estate whose groups hold their rules inline, applied with real Terraform.

The estate (tests/fixtures/estates/inline) is applied to the moto server; its flow logs
are analysed; ``ztflows pr --phase both`` edits the ``ingress``/``egress`` blocks in
place; the two commits are applied in turn. Afterwards every changed group holds exactly
the plan's rules, ``terraform plan`` has nothing to do, ``terraform validate`` passes, and
no group or interface was destroyed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest
from support.tfestate import Estate, body, changed_groups, check_rollout, git, only_inserts

pytestmark = pytest.mark.terraform
FILE = "app/security_groups.tf"


@pytest.fixture
def estate(
    tmp_path: Path,
    aws_env: str,
    ec2_client: Any,
    s3_client: Any,
    terraform: Any,
    ec2_like_aws: None,
) -> Estate:
    return Estate.create(
        "inline",
        ["app"],
        tmp_path,
        endpoint=aws_env,
        terraform=terraform,
        ec2=ec2_client,
        s3=s3_client,
    )


def test_inline_rules_are_edited_in_place_and_apply(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    estate.deploy()
    estate.write_flow_logs()
    plan = estate.analyze()
    ids = {g.name: g.group_id for g in plan.security_groups}
    assert sorted(n for n, g in ids.items() if g in changed_groups(plan)) == [
        "api",
        "client",
        "db",
        "web",
    ]
    estate.pull_request(capsys, *estate.state_options())
    original = (estate.repo / FILE).read_text()
    phase1 = git(estate.repo, "show", f"{estate.commits[0]}:{FILE}")
    phase2 = git(estate.repo, "show", f"{estate.commits[1]}:{FILE}")
    assert git(estate.repo, "diff", "--name-only", "main", estate.commits[1]).split() == [FILE]
    # Phase 1 only adds blocks: the team's file is all there, byte for byte, in order.
    added = only_inserts(original, phase1)
    assert added.count("  ingress {") + added.count("  egress {") == 6
    # A group referenced where Terraform allows it; by id, saying why, where a reference
    # back would make two groups depend on each other.
    assert "security_groups = [aws_security_group." in added
    assert "by id, not by reference" in added
    # Phase 2: the broad rules are gone; the old office range stays on the database.
    groups = {
        name.strip('"'): attrs
        for block in hcl2.loads(phase2)["resource"]
        for rtype, named in block.items()
        if rtype == '"aws_security_group"'
        for name, attrs in named.items()
    }
    assert [i.get("cidr_blocks") for i in groups["db"]["ingress"]] == [['"10.1.0.0/16"'], None]
    assert groups["db"]["egress"] == []  # `egress = []`: Terraform revokes, not forgets
    assert "Everything out" not in phase2
    text = body(estate)
    assert "### Where each group is changed" in text
    for name in ("web", "api", "db", "client"):
        assert f"| {name} (`{ids[name]}`) | `app`: `{FILE}` | edited in place" in text
    estate.rollout()
    check_rollout(estate, plan)
    descriptions = estate.aws_descriptions(ids["api"])
    assert sorted(descriptions) == ["tcp/5432 to db (observed)", "tcp/8443 from web (observed)"]
