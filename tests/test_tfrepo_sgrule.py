"""ztflows pr on an estate whose rules are aws_security_group_rule resources.

New rules are resources beside their siblings, named the way the file names them
(``<group>_<what>``); a removed range of a multi-range rule changes its list (the provider
replaces the resource, and the pull request says so). Applied with real Terraform.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.tfestate import Estate, body, check_rollout, git, only_inserts

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
        "sgrule",
        ["app"],
        tmp_path,
        endpoint=aws_env,
        terraform=terraform,
        ec2=ec2_client,
        s3=s3_client,
    )


def test_sgrule_resources_are_edited_in_place_and_apply(
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
    for name in (
        "client_egress_tcp_443_to_web",
        "web_ingress_tcp_443_from_client",
        "web_egress_tcp_8443_to_api",
        "api_ingress_tcp_8443_from_web",
        "api_egress_tcp_5432_to_db",
        "db_ingress_tcp_5432_from_api",
    ):
        assert f'resource "aws_security_group_rule" "{name}" {{' in added
    assert "source_security_group_id = aws_security_group.web.id" in added
    assert "_egress_all" not in phase2
    assert 'cidr_blocks       = ["10.1.0.0/16"]' in phase2
    text = " ".join(body(estate).split())
    assert (
        "phase 2 changes the peer list of aws\\_security\\_group\\_rule.db\\_ingress\\_postgres"
        in text
    )
    estate.rollout()
    check_rollout(estate, plan)
