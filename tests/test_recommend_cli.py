"""`ztflows recommend` through the command line, in process, on the sample VPC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zt_flows.cli import main
from zt_flows.recommend import plan_to_json, read_plan

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def recommend(tmp_path: Path, *extra: str, out: str = "out/plan.json") -> tuple[int, Path]:
    target = tmp_path / out
    code = main(
        [
            "recommend",
            str(SAMPLE / "flowlogs"),
            "--inventory",
            str(SAMPLE / "inventory"),
            "--out",
            str(target),
            "--cache-dir",
            str(tmp_path / "cache"),
            "-q",
            *extra,
        ]
    )
    return code, target


def test_writes_a_verified_plan_and_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = recommend(tmp_path)
    assert code == 0
    plan = read_plan(out)
    assert plan_to_json(plan) == out.read_text()  # reads back to the same document
    assert plan.verification.blocked == 0
    assert plan.verification.replayed > 0
    assert len(plan.security_groups) == 17
    findings = json.loads((out.parent / "findings.json").read_text())
    codes = {f["code"] for f in findings["findings"]}
    # ZT018: ci-runner's VPC has no flow log (the snapshot says so).
    assert {"ZT003", "ZT004", "ZT010", "ZT011", "ZT013", "ZT015", "ZT018"} <= codes
    err = capsys.readouterr().err
    assert "exposure" in err
    assert f"-> {plan.exposure.after.combinations:,} combinations" in err
    assert "accepted records and 568 conversations replayed, 0 blocked" in err
    assert "kept       for safety: 5 open population, 1 not covered" in err
    assert not list(out.parent.glob(".*.tmp"))  # written through a temporary file


def test_same_input_same_bytes(tmp_path: Path) -> None:
    code_a, a = recommend(tmp_path, out="a/plan.json")
    code_b, b = recommend(tmp_path, "--findings", str(tmp_path / "f.json"), out="b/plan.json")
    assert code_a == code_b == 0
    assert a.read_bytes() == b.read_bytes()
    assert (a.parent / "findings.json").read_bytes() == (tmp_path / "f.json").read_bytes()


def test_settings_reach_the_plan(tmp_path: Path) -> None:
    code, out = recommend(tmp_path, "--min-days", "3", "--port-range-density", "0.9")
    assert code == 0
    plan = read_plan(out)
    assert plan.settings["min_days"] == 3
    assert plan.settings["port_range_density"] == 0.9
    # Seen on two days or fewer is now low confidence: the worker replaced mid-window.
    low = [r for g in plan.security_groups for r in g.final_rules() if r.confidence == "low"]
    assert all(r.evidence is not None and r.evidence.days_seen < 3 for r in low)
    assert low


def test_window_narrows_what_is_observed(tmp_path: Path) -> None:
    code, out = recommend(tmp_path, "--since", "2026-11-18", "--until", "2026-11-19")
    assert code == 0
    plan = read_plan(out)
    # The weekly job ran on the 17th only: outside this window, nothing proposes it.
    peers = {r.peer.name for g in plan.security_groups for r in g.final_rules()}
    assert "weekly-batch" not in peers
    assert plan.window_start is not None
    assert plan.window_start.isoformat().startswith("2026-11-18")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--port-range-density", "1.5"), "--port-range-density"),
        (("--min-flows", "0"), "--min-flows"),
        (("--since", "yesterday-ish"), "--since"),
    ],
)
def test_bad_options_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    code, out = recommend(tmp_path, *extra)
    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_missing_inventory_folder_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "recommend",
            str(SAMPLE / "flowlogs"),
            "--inventory",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "plan.json"),
            "-q",
        ]
    )
    assert code == 2
    assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "plan.json").exists()
