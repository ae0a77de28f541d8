"""What ``--on-error skip`` left out is recorded wherever the plan goes.

The sample's first day, plus a corrupt object and an object with records whose values
break a rule, analysed with ``--on-error skip``: plan.json says the evidence is incomplete
with the ingest summary's counts, the console summary and the pull request body say it too.
A run that skipped nothing writes plan.json byte for byte as before.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE_DATA
from support.sources import at, hive_key, parquet_bytes, record, write

from zt_flows.cli import main
from zt_flows.errors import PlanFormatError
from zt_flows.publish.body import commit_message, pr_body
from zt_flows.recommend import SkippedEvidence, plan_to_json, read_plan
from zt_flows.terraform import terraform_module

DAY = ["--since", "2026-11-16T00:00:00Z", "--until", "2026-11-17T00:00:00Z"]


def _source(tmp_path: Path, *, bad: bool) -> Path:
    source = tmp_path / "flowlogs"
    shutil.copytree(SAMPLE_DATA / "flowlogs", source)
    if bad:
        stamp = at("2026-11-16T10:05:00Z")
        write(source, "extra/" + hive_key(stamp), b"PAR1 not a Parquet object PAR1")
        bad_ports = [
            record("2026-11-16T10:00:00Z", dstport=70000 + i, srcport=40000 + i) for i in range(3)
        ]
        write(
            source,
            "extra/" + hive_key(at("2026-11-16T11:05:00Z")),
            parquet_bytes([*bad_ports, record("2026-11-16T10:00:00Z")]),
        )
    return source


def _analyze(
    source: Path, out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = main(
        [
            "analyze",
            str(source),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(out),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--on-error",
            "skip",
            "-q",
            *DAY,
        ]
    )
    return code, capsys.readouterr().err


def test_skipped_input_is_in_the_plan_the_summaries_and_the_pull_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    code, err = _analyze(_source(tmp_path, bad=True), out, tmp_path, capsys)
    assert code == 0, err
    assert (
        "  skipped        1 objects, 0 lines, 3 records (--on-error skip): the evidence is"
        " incomplete, see records.json"
    ) in err
    doc = json.loads((out / "plan.json").read_text())
    verification = doc["verification"]
    assert verification["evidence"] == "incomplete"
    assert verification["skipped"] == {"objects": 1, "lines": 0, "records": 3}
    summary = json.loads((out / "summary.json").read_text())["records"]
    assert (summary["skipped_objects"], summary["skipped_lines"], summary["skipped_records"]) == (
        1,
        0,
        3,
    )
    plan = read_plan(out / "plan.json")
    assert plan.verification.skipped == SkippedEvidence(objects=1, lines=0, records=3)
    assert plan_to_json(plan) == (out / "plan.json").read_text()  # read back, written the same
    module = terraform_module(plan)
    body = pr_body(plan, module)
    verification_section = body[body.index("### Verification") :]
    assert (
        "**The evidence is incomplete**: --on-error skip left out 1 object, 0 lines and 3"
        " records of flow logs. Traffic that only they showed was neither learnt nor replayed,"
        " so this change may block it: fix or remove the bad input and run again before"
        " merging."
    ) in verification_section
    assert "the evidence is incomplete (--on-error skip left out 1 object" in " ".join(
        commit_message(plan, module, "tf").split()
    )


def test_a_run_that_skipped_nothing_writes_the_same_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--on-error skip over clean input: plan.json as a run with --on-error stop writes it."""
    source = _source(tmp_path, bad=False)
    skipping = tmp_path / "skip"
    code, err = _analyze(source, skipping, tmp_path, capsys)
    assert code == 0, err
    assert "  skipped  " not in err
    stopping = tmp_path / "stop"
    code = main(
        [
            "analyze",
            str(source),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(stopping),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
            *DAY,
        ]
    )
    assert code == 0
    text = (skipping / "plan.json").read_text()
    assert text == (stopping / "plan.json").read_text()
    doc = json.loads(text)
    assert "evidence" not in doc["verification"]
    assert "skipped" not in doc["verification"]
    plan = read_plan(skipping / "plan.json")
    assert plan.verification.skipped is None
    assert "evidence is incomplete" not in pr_body(plan, terraform_module(plan))


def test_a_plan_that_says_incomplete_without_counts_is_refused(tmp_path: Path) -> None:
    plan = json.loads((SAMPLE_DATA.parent / "tests/fixtures/plans/sample_plan.json").read_text())
    plan["verification"]["evidence"] = "incomplete"
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan))
    with pytest.raises(PlanFormatError) as info:
        read_plan(path)
    assert str(info.value) == (f"{path}, at $.verification: expected key 'skipped', found nothing")
