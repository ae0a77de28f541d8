"""findings.sarif and findings.asff.json: valid against their published schemas (vendored in
tests/fixtures/schemas, see its README), located in the Terraform ztflows wrote, and
accepted by Security Hub's own API definition and import."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import botocore.validate
import jsonschema
import pytest
from conftest import FIXTURES, SAMPLE_DATA

from zt_flows.cli import main
from zt_flows.findings import REGISTRY
from zt_flows.findings_export.sarif import FINGERPRINT
from zt_flows.render.findings_file import read_findings

SCHEMAS = FIXTURES / "schemas"


@pytest.fixture(scope="module")
def sample_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    out = tmp / "out"
    code = main(
        [
            "analyze",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp / "cache"),
            "--quiet",
        ]
    )
    assert code == 0
    return out


def _schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / name).read_text())  # type: ignore[no-any-return]


# --------------------------------------------------------------------------- SARIF


def test_sarif_is_valid_against_the_oasis_schema(sample_out: Path) -> None:
    schema = _schema("sarif-schema-2.1.0.json")
    assert schema["id"].endswith("/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json")
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    log = json.loads((sample_out / "findings.sarif").read_text())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert errors == []
    # The validator does see a broken log: a result without its message.
    broken = json.loads(json.dumps(log))
    del broken["runs"][0]["results"][0]["message"]
    assert not validator.is_valid(broken)


def test_sarif_has_every_finding_with_its_rule_metadata(sample_out: Path) -> None:
    log = json.loads((sample_out / "findings.sarif").read_text())
    (run,) = log["runs"]
    assert log["version"] == "2.1.0"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(REGISTRY)
    for rule in rules:
        kind = REGISTRY[rule["id"]]
        assert rule["shortDescription"]["text"] == kind.title
        assert rule["fullDescription"]["text"] == kind.why
        assert rule["properties"]["severity"] == kind.severity
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
    findings = read_findings(sample_out / "findings.json")
    results = run["results"]
    assert len(results) == len(findings) > 40
    by_fingerprint = {f.fingerprint: f for f in findings}
    assert len(by_fingerprint) == len(findings)  # the identity tells every finding apart
    for result in results:
        finding = by_fingerprint[result["partialFingerprints"][FINGERPRINT]]
        assert result["ruleId"] == finding.code
        assert rules[result["ruleIndex"]]["id"] == finding.code
        assert result["message"]["text"] == finding.message
        assert result["properties"]["severity"] == finding.severity
    levels = {r["ruleId"]: r["level"] for r in results}
    assert levels["ZT004"] == "error"  # critical
    assert levels["ZT010"] == "warning"  # medium
    assert levels["ZT013"] == "note"  # info


def test_sarif_points_at_the_resource_ztflows_wrote(sample_out: Path) -> None:
    results = json.loads((sample_out / "findings.sarif").read_text())["runs"][0]["results"]
    findings = {f.fingerprint: f for f in read_findings(sample_out / "findings.json")}
    imports = "".join(p.read_text() for p in (sample_out / "terraform").glob("*.tf"))
    checked_rules = checked_groups = 0
    for result in results:
        finding = findings[result["partialFingerprints"][FINGERPRINT]]
        (location,) = result["locations"]
        physical = location.get("physicalLocation")
        if physical is None:
            continue
        path = sample_out / physical["artifactLocation"]["uri"]
        line = path.read_text().splitlines()[physical["region"]["startLine"] - 1]
        match = re.fullmatch(r'resource "(\w+)" "(\w+)" \{', line)
        if match is not None:
            # The resource at that line is the one that adopts the finding's rule.
            address = f"{match.group(1)}.{match.group(2)}"
            assert re.search(rf'to = {re.escape(address)}\n  id = "{finding.rule_id}"', imports), (
                finding.code,
                address,
            )
            checked_rules += 1
        else:
            assert physical["region"]["startLine"] == 1
            assert line.startswith("# Security group ")
            assert f"({finding.group_id}" in line
            checked_groups += 1
    assert checked_rules > 10
    assert checked_groups > 3
    # A finding about a VPC has nothing in Terraform: a logical location only.
    (nat,) = [r for r in results if r["ruleId"] == "ZT026"]
    assert "physicalLocation" not in nat["locations"][0]
    assert nat["locations"][0]["logicalLocations"][0]["name"].startswith("vpc-")


def test_cli_format_sarif_prints_the_same_log(
    sample_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
            "--format",
            "sarif",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert printed == (out / "findings.sarif").read_text()
    assert printed == (sample_out / "findings.sarif").read_text()  # no paths of the run in it


# --------------------------------------------------------------------------- ASFF


def test_asff_is_valid_against_the_schema_and_complete(sample_out: Path) -> None:
    schema = _schema("asff-findings.schema.json")
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())
    doc = json.loads((sample_out / "findings.asff.json").read_text())
    assert sorted(validator.iter_errors(doc), key=lambda e: list(e.path)) == []
    findings = read_findings(sample_out / "findings.json")
    asff = doc["Findings"]
    assert len(asff) == len(findings)  # every account is known in the sample
    assert len({f["Id"] for f in asff}) == len(asff)
    plan = json.loads((sample_out / "plan.json").read_text())
    end = plan["window"]["end"].replace("Z", ".000Z")
    for item in asff:
        assert item["SchemaVersion"] == "2018-10-08"
        assert item["ProductArn"] == (
            "arn:aws:securityhub:us-east-1:012345678901:product/012345678901/default"
        )
        assert item["CreatedAt"] == item["UpdatedAt"] == item["LastObservedAt"] == end
        assert item["Severity"]["Label"] in ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
        assert item["FindingProviderFields"]["Severity"] == item["Severity"]
    groups = [r for f in asff for r in f["Resources"] if r["Type"] == "AwsEc2SecurityGroup"]
    assert groups
    for resource in groups:
        group_id = resource["Details"]["AwsEc2SecurityGroup"]["GroupId"]
        assert resource["Id"].endswith(f":security-group/{group_id}")
    # The validator does see a broken finding: a lower-case severity label.
    broken = json.loads(json.dumps(doc))
    broken["Findings"][0]["Severity"]["Label"] = "critical"
    assert not validator.is_valid(broken)


def test_the_asff_schema_requires_what_security_hub_requires() -> None:
    """The hand-written schema against AWS's machine-readable model shipped in botocore."""
    model = botocore.session.get_session().get_service_model("securityhub")
    required = set(model.shape_for("AwsSecurityFinding").metadata["required"])
    schema = _schema("asff-findings.schema.json")
    # The user guide lists Severity and Types among the attributes every finding has; the
    # API leaves them optional, as a provider may set them in FindingProviderFields.
    assert set(schema["definitions"]["finding"]["required"]) == required | {"Severity", "Types"}
    assert {"Severity", "Types"} <= set(model.shape_for("FindingProviderFields").members)
    resource = model.shape_for("Resource").metadata["required"]
    assert set(schema["definitions"]["resource"]["required"]) == set(resource)


def test_asff_imports_into_security_hub(
    sample_out: Path, aws_env: str, aws_session: boto3.session.Session
) -> None:
    findings = json.loads((sample_out / "findings.asff.json").read_text())["Findings"]
    accounts = {f["AwsAccountId"] for f in findings}
    assert accounts == {"012345678901"}
    model = botocore.session.get_session().get_service_model("securityhub")
    shape = model.operation_model("BatchImportFindings").input_shape
    # BatchImportFindings takes at most 100 findings a request.
    batches = [findings[i : i + 100] for i in range(0, len(findings), 100)]
    for batch in batches:
        report = botocore.validate.ParamValidator().validate({"Findings": batch}, shape)
        assert not report.has_errors(), report.generate_report()
    # With the default product ARN, the caller must be the findings' account: import as it.
    sts = aws_session.client("sts", endpoint_url=aws_env)
    creds = sts.assume_role(
        RoleArn="arn:aws:iam::012345678901:role/security-hub-import", RoleSessionName="import"
    )["Credentials"]
    hub = boto3.session.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name="us-east-1",
    ).client("securityhub", endpoint_url=aws_env)
    imported = 0
    for batch in batches:
        answer = hub.batch_import_findings(Findings=batch)
        assert answer["FailedCount"] == 0, answer["FailedFindings"]
        imported += answer["SuccessCount"]
    assert imported == len(findings)
    stored = hub.get_findings(MaxResults=100)["Findings"]
    assert {f["Id"] for f in stored} == {f["Id"] for f in findings}
    # A second import of the same file updates, it does not add.
    hub.batch_import_findings(Findings=batches[0])
    assert len(hub.get_findings(MaxResults=100)["Findings"]) == len(findings)


def test_every_finding_code_is_documented() -> None:
    from conftest import REPO_ROOT

    text = (REPO_ROOT / "docs" / "findings.md").read_text()
    for kind in REGISTRY.values():
        assert f"| `{kind.code}` | `{kind.slug}` | {kind.title} | {kind.severity} |" in text
