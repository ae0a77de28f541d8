"""A plan read from disk is verified again: an edited plan that widens is refused, by the
library and by every command that acts on a plan (``terraform``, ``pr``, ``check``)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from zt_flows.cli import main
from zt_flows.errors import ExitCode, PlanTrustError
from zt_flows.inventory import load_inventory
from zt_flows.inventory.model import Inventory
from zt_flows.recommend import Plan, PlannedRule, read_plan, write_plan
from zt_flows.recommend.trust import verify_plan
from zt_flows.rules import RulePeer, RuleSpec

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def sample(sample_data_plan: Path) -> tuple[Plan, Inventory]:
    return read_plan(sample_data_plan), load_inventory(SAMPLE / "inventory")


def _group(plan: Plan, name: str) -> int:
    return next(i for i, g in enumerate(plan.security_groups) if g.name == name)


def _added(group_id: str, protocol: int | None, port: int | None) -> PlannedRule:
    """A rule added by hand: from anywhere, on ``protocol``/``port`` (None: all)."""
    spec = RuleSpec(group_id, "ingress", protocol, port, port, RulePeer("cidr", "0.0.0.0/0"))
    return PlannedRule(rule=spec, action="add", reason="edited by hand")


def _with_rule(plan: Plan, name: str, protocol: int | None, port: int | None) -> Plan:
    groups = list(plan.security_groups)
    i = _group(plan, name)
    rule = _added(groups[i].group_id, protocol, port)
    groups[i] = replace(groups[i], rules=(*groups[i].rules, rule))
    return replace(plan, security_groups=tuple(groups))


def test_the_plan_ztflows_wrote_verifies(sample: tuple[Plan, Inventory]) -> None:
    plan, inventory = sample
    verified = verify_plan(plan, inventory)
    assert verified.after.combinations == plan.exposure.after.combinations
    assert verified.before.combinations == plan.exposure.before.combinations


@pytest.mark.parametrize(
    ("group", "protocol", "port"),
    [
        ("postgres", None, None),  # all traffic from anywhere, to the database's group
        ("api", 6, 3306),  # a new 3306 from anywhere
    ],
)
def test_a_plan_edited_to_widen_is_refused(
    sample: tuple[Plan, Inventory], group: str, protocol: int | None, port: int | None
) -> None:
    plan, inventory = sample
    edited = _with_rule(plan, group, protocol, port)
    added = edited.security_groups[_group(plan, group)].rules[-1]
    with pytest.raises(PlanTrustError) as caught:
        verify_plan(edited, inventory)
    assert "allows more than the group's rules allow today" in caught.value.message
    assert added.key in caught.value.message  # the rule is named


def test_a_kept_rule_edited_to_say_more_is_refused(sample: tuple[Plan, Inventory]) -> None:
    plan, inventory = sample
    i = _group(plan, "web")
    web = plan.security_groups[i]
    kept = next(r for r in web.rules if r.action == "keep")
    widened = replace(kept, rule=replace(kept.rule, from_port=0, to_port=65535))
    groups = list(plan.security_groups)
    groups[i] = replace(web, rules=tuple(widened if r is kept else r for r in web.rules))
    with pytest.raises(PlanTrustError) as caught:
        verify_plan(replace(plan, security_groups=tuple(groups)), inventory)
    assert kept.rule.rule_id is not None
    assert kept.rule.rule_id in caught.value.message
    assert "the inventory says" in caught.value.message


def test_figures_that_do_not_follow_are_refused(sample: tuple[Plan, Inventory]) -> None:
    plan, inventory = sample
    rosier = replace(plan.exposure, after=replace(plan.exposure.after, combinations=1))
    with pytest.raises(PlanTrustError) as caught:
        verify_plan(replace(plan, exposure=rosier), inventory)
    assert "exposure after" in caught.value.message
    assert f"{plan.exposure.after.combinations:,}" in caught.value.message


def test_a_group_the_inventory_does_not_hold_is_refused(sample: tuple[Plan, Inventory]) -> None:
    plan, inventory = sample
    ghost = replace(plan.security_groups[0], group_id="sg-0123456789abcdef0", rules=())
    with pytest.raises(PlanTrustError) as caught:
        verify_plan(replace(plan, security_groups=(*plan.security_groups, ghost)), inventory)
    assert "sg-0123456789abcdef0" in caught.value.message


def test_on_premises_ranges_are_recorded_and_used_again(tmp_path: Path) -> None:
    """The exposure is measured with the on-premises ranges; the plan records them, so the
    figures measured again match the ones it was made with."""
    code = main(
        [
            "recommend",
            str(SAMPLE / "flowlogs"),
            "--inventory",
            str(SAMPLE / "inventory"),
            "--onprem-cidr",
            "0.0.0.0/2",  # a quarter of IPv4 "on premises": internet reach must change
            "--out",
            str(tmp_path / "plan.json"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
        ]
    )
    assert code == ExitCode.OK
    plan = read_plan(tmp_path / "plan.json")
    assert plan.settings["onprem_cidrs"] == ["0.0.0.0/2"]
    inventory = load_inventory(SAMPLE / "inventory")
    verified = verify_plan(plan, inventory)
    assert verified.before.combinations == plan.exposure.before.combinations
    with pytest.raises(PlanTrustError):  # measured without them, the figures differ
        verify_plan(plan, inventory, onprem_cidrs=())


# --------------------------------------------------------------------------- commands


@pytest.fixture
def widened(sample: tuple[Plan, Inventory], tmp_path: Path) -> tuple[Path, str]:
    """plan.json edited to let anyone reach the database on 3306; and that rule's key."""
    plan, _ = sample
    edited = _with_rule(plan, "postgres", 6, 3306)
    path = write_plan(edited, tmp_path / "edited" / "plan.json")
    return path, edited.security_groups[_group(plan, "postgres")].rules[-1].key


def _refused(err: str, key: str) -> None:
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, err
    assert key in errors[0]
    assert "allows more than the group's rules allow today" in errors[0]
    assert "Traceback" not in err


def test_terraform_refuses_a_widened_plan_and_writes_nothing(
    widened: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, key = widened
    out = tmp_path / "tf"
    code = main(
        ["terraform", str(path), "--inventory", str(SAMPLE / "inventory"), "--out", str(out)]
    )
    assert code == ExitCode.INPUT
    _refused(capsys.readouterr().err, key)
    assert not out.exists()


def test_pr_refuses_a_widened_plan_and_commits_nothing(
    widened: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, key = widened
    repo = tmp_path / "infra"
    repo.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        [
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "start",
        ],
    ):
        subprocess.run(["git", *args], cwd=repo, check=True)
    code = main(["pr", str(path), "--inventory", str(SAMPLE / "inventory"), "--repo", str(repo)])
    assert code == ExitCode.INPUT
    _refused(capsys.readouterr().err, key)
    branches = subprocess.run(
        ["git", "branch", "--list"], cwd=repo, check=True, capture_output=True, text=True
    ).stdout.split()
    assert branches == ["*", "main"]


def test_check_refuses_a_widened_plan(
    widened: tuple[Path, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A widened plan blocks nothing, so a replay alone would pass it: check refuses it."""
    path, key = widened
    code = main(
        [
            "check",
            str(path),
            str(SAMPLE / "flowlogs"),
            "--inventory",
            str(SAMPLE / "inventory"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
        ]
    )
    assert code == ExitCode.INPUT
    _refused(capsys.readouterr().err, key)


def test_pr_body_carries_the_figures_measured_again(
    sample: tuple[Plan, Inventory], tmp_path: Path
) -> None:
    """Figures the check does not compare (the share of public space each entry admits) are
    still not read from the file: the verified plan carries the ones measured."""
    plan, inventory = sample
    after = plan.exposure.after
    assert after.internet_reach
    fudged = tuple(replace(r, ipv4_share=0.0, ipv6_share=0.0) for r in after.internet_reach)
    edited = replace(
        plan, exposure=replace(plan.exposure, after=replace(after, internet_reach=fudged))
    )
    verified = verify_plan(edited, inventory)
    assert verified.plan.exposure == plan.exposure
