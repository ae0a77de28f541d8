"""ztflows pr on an estate built with the community security-group module's inputs.

The module is a reduced stand-in for terraform-aws-modules/security-group (see its
README in the fixture): same inputs, same resources by count index. ztflows appends new
rules to the ``*_with_source_security_group_id`` inputs and removes list elements only
where no index moves; a comma-separated ``cidr_blocks`` that loses one range is left to a
person, and the pull request says what to change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.tfestate import Estate, body, check_rollout, git, only_inserts

pytestmark = pytest.mark.terraform


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
        "module",
        ["app"],
        tmp_path,
        endpoint=aws_env,
        terraform=terraform,
        ec2=ec2_client,
        s3=s3_client,
    )


def test_community_module_inputs_are_edited_where_exact(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    estate.deploy()
    estate.write_flow_logs()
    plan = estate.analyze()
    ids = {g.name: g.group_id for g in plan.security_groups}
    estate.pull_request(capsys, *estate.state_options())
    original = (estate.repo / "app" / "security_groups.tf").read_text()
    phase1 = git(estate.repo, "show", f"{estate.commits[0]}:app/security_groups.tf")
    phase2 = git(estate.repo, "show", f"{estate.commits[1]}:app/security_groups.tf")
    added = only_inserts(original, phase1)
    assert added.count("_with_source_security_group_id = [") == 6
    assert "source_security_group_id = module.web_sg.security_group_id" in added
    # Phase 2: whole inputs go where every element does (no index moves) ...
    assert "ingress_rules" not in phase2
    assert 'egress_rules            = ["all-all"]' not in phase2
    # ... and the database's comma-separated ranges are left to a person.
    assert '"10.0.0.0/16,10.1.0.0/16"' in phase2
    text = " ".join(body(estate).split())
    assert "### To change by hand" in text
    assert f"phase 2, `{ids['db']}`" in text
    assert "it shares its element with rules that stay" in text
    estate.rollout()
    check_rollout(estate, plan, by_hand=[ids["db"]])
