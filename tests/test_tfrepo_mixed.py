"""ztflows pr on a mixed estate: two roots in two styles, and a group made by hand.

The application team's root (``app``) writes its groups' rules inline; the data team's
root (``data``) uses one resource per rule and looks the API's group up with a data
source; the batch clients' group was made in the console, and no Terraform manages it.
``ztflows pr`` reads both states with ``terraform show``, edits each root in its own style,
writes the hand-made group as the standalone module with import blocks, and the pull
request says which group went where, and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from support.tfestate import STANDALONE, Estate, body, check_rollout, git

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
        "mixed",
        ["app", "data"],
        tmp_path,
        endpoint=aws_env,
        terraform=terraform,
        ec2=ec2_client,
        s3=s3_client,
    )


def _clickops(ec2: Any) -> None:
    """The batch clients' group and interface, made by hand in the console."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["estate"]}])["Vpcs"][0]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])[
        "Subnets"
    ][0]
    group = ec2.create_security_group(
        GroupName="client", Description="Batch clients", VpcId=vpc["VpcId"]
    )["GroupId"]
    ec2.create_network_interface(
        SubnetId=subnet["SubnetId"], PrivateIpAddress="10.0.1.10", Groups=[group]
    )


def test_mixed_estate_goes_where_each_group_lives(
    estate: Estate, capsys: pytest.CaptureFixture[str]
) -> None:
    estate.deploy(stages=[["app"], ["data"]], then=lambda: _clickops(estate.ec2))
    estate.write_flow_logs()
    plan = estate.analyze()
    ids = {g.name: g.group_id for g in plan.security_groups}
    estate.pull_request(capsys)  # both states read with terraform show
    changed = git(estate.repo, "diff", "--name-only", "main", estate.commits[0]).split()
    assert "app/security_groups.tf" in changed
    assert "data/main.tf" in changed
    standalone = {c.removeprefix(STANDALONE + "/") for c in changed if c.startswith(STANDALONE)}
    # Only the hand-made group is adopted; the managed ones are not imported a second time.
    assert {n for n in standalone if n.startswith("sg_")} == {"sg_client.tf"}
    data = git(estate.repo, "show", f"{estate.commits[0]}:data/main.tf")
    # The data team already looks the API's group up: the new rule names it that way.
    assert "referenced_security_group_id = data.aws_security_group.api.id" in data
    text = body(estate)
    assert f"| client (`{ids['client']}`) |  | standalone module |" in text
    assert "no Terraform in the repository manages it" in text
    assert f"| db (`{ids['db']}`) | `data`: `data/main.tf` | edited in place" in text
    assert f"| web (`{ids['web']}`) | `app`: `app/security_groups.tf` | edited in place" in text
    assert "terraform show" in text
    estate.rollout()
    check_rollout(estate, plan)
