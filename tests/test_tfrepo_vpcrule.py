"""ztflows pr on an estate with one aws_vpc_security_group_*_rule resource per rule.

New rules follow the file's names (``api-…``, dashes); a ``for_each`` map loses the entry
of a removed range; the all-traffic rules go whole. Applied with real Terraform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.tfestate import Estate, check_rollout, git, only_inserts

pytestmark = pytest.mark.terraform
FILE = "app/rules.tf"


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
        "vpcrule",
        ["app"],
        tmp_path,
        endpoint=aws_env,
        terraform=terraform,
        ec2=ec2_client,
        s3=s3_client,
    )


def test_vpcrule_resources_are_edited_in_place_and_apply(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    estate.deploy()
    estate.write_flow_logs()
    plan = estate.analyze()
    estate.pull_request(capsys, *estate.state_options())
    original = (estate.repo / FILE).read_text()
    phase1 = git(estate.repo, "show", f"{estate.commits[0]}:{FILE}")
    phase2 = git(estate.repo, "show", f"{estate.commits[1]}:{FILE}")
    added = only_inserts(original, phase1)
    assert (
        'resource "aws_vpc_security_group_ingress_rule" "api-ingress-tcp-8443-from-web" {' in added
    )
    assert "referenced_security_group_id = aws_security_group.web.id" in added
    assert '    vpc    = "10.0.0.0/16"\n' not in phase2
    assert '    office = "10.1.0.0/16"\n' in phase2
    assert "all-out" not in phase2
    estate.rollout()
    check_rollout(estate, plan)
