"""Daily partials: reduce once, reuse, redo a day whose objects changed; same outputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_DATA

from zt_flows.cli import main
from zt_flows.reduce.sql import PARTIAL_SCHEMA

OUTPUTS = (
    "edges.parquet",
    "plan.json",
    "findings.json",
    "summary.json",
    "report.md",
    "report.html",
    "graph.graphml",
    "graph.svg",
)


def _analyze(source: Path, out: Path, cache: Path, state: str, *extra: str) -> int:
    return main(
        [
            "analyze", str(source), "--inventory", str(SAMPLE_DATA / "inventory"),
            "--out", str(out), "--cache-dir", str(cache), "--state", state, "--quiet", *extra,
        ]
    )  # fmt: skip


def _reduce(source: Path, state: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    code = main(
        ["reduce", str(source), "--state", str(state), "--cache-dir", str(cache), "--quiet",
         "--format", "json"]
    )  # fmt: skip
    assert code == 0
    return dict(json.loads(capsys.readouterr().out))


def _same(one: Path, two: Path) -> None:
    for name in OUTPUTS:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    for left in sorted((one / "terraform").rglob("*")):
        right = two / "terraform" / left.relative_to(one / "terraform")
        if left.is_file():
            assert left.read_bytes() == right.read_bytes(), left.name


@pytest.fixture
def flowlogs(tmp_path: Path) -> Path:
    """A copy of the sample's flow logs (the tests add and change objects)."""
    copy = tmp_path / "flowlogs"
    shutil.copytree(SAMPLE_DATA / "flowlogs", copy)
    return copy


def test_incremental_runs_give_the_outputs_of_a_full_run(
    flowlogs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    full = tmp_path / "full"
    assert _analyze(flowlogs, full, tmp_path / "c0", "off") == 0
    first = tmp_path / "first"
    assert _analyze(flowlogs, first, tmp_path / "c1", str(state)) == 0
    _same(full, first)
    # Nothing changed: every day is reused, nothing is read again.
    again = _reduce(flowlogs, state, tmp_path / "c1", capsys)
    assert again["reduced"] == []
    assert "2026-11-17" in again["reused"]
    second = tmp_path / "second"
    assert _analyze(flowlogs, second, tmp_path / "c2", str(state)) == 0
    _same(full, second)


def test_a_late_object_redoes_its_day_only(
    flowlogs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    # The state is filled without the last hour of the 17th: as if it came late.
    late = sorted(flowlogs.rglob("*20261117T2300Z*"))
    assert late
    aside = tmp_path / "aside"
    aside.mkdir()
    for path in late:
        shutil.move(path, aside / path.name)
    before = _reduce(flowlogs, state, tmp_path / "c1", capsys)
    assert "2026-11-17" in before["reduced"]
    for path in late:
        original = next(p for p in (aside / path.name,))
        shutil.move(original, path)
    after = _reduce(flowlogs, state, tmp_path / "c1", capsys)
    # Its day is redone (and the next, whose first minutes it may hold); the rest is reused.
    assert "2026-11-17" in after["reduced"]
    assert "2026-11-16" in after["reused"]
    assert set(after["reduced"]) <= {"2026-11-17", "2026-11-18"}
    full, incremental = tmp_path / "full", tmp_path / "incremental"
    assert _analyze(flowlogs, full, tmp_path / "c0", "off") == 0
    assert _analyze(flowlogs, incremental, tmp_path / "c2", str(state)) == 0
    _same(full, incremental)


def test_a_window_cut_day_is_reduced_for_the_run_and_not_kept(
    flowlogs: Path, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    window = ("--since", "2026-11-16T12:00Z", "--until", "2026-11-18T06:00Z")
    full, first, second = tmp_path / "full", tmp_path / "first", tmp_path / "second"
    assert _analyze(flowlogs, full, tmp_path / "c0", "off", *window) == 0
    assert _analyze(flowlogs, first, tmp_path / "c1", str(state), *window) == 0
    assert _analyze(flowlogs, second, tmp_path / "c2", str(state), *window) == 0
    _same(full, first)
    _same(full, second)
    kept = sorted(p.parent.name for p in state.rglob("manifest.json"))
    assert kept == ["day=2026-11-17"]  # the only whole day of the window


def test_partials_hold_the_partial_schema(flowlogs: Path, tmp_path: Path) -> None:
    state = tmp_path / "state"
    assert _analyze(flowlogs, tmp_path / "out", tmp_path / "c", str(state)) == 0
    partials = sorted(state.rglob("partial.parquet"))
    assert len(partials) >= 3
    total = 0
    for path in partials:
        table = pq.read_table(path)
        assert table.schema.names == PARTIAL_SCHEMA.names
        total += table.num_rows
        manifest = json.loads((path.parent / "manifest.json").read_text())
        assert all(o["identity"].startswith("size=") for o in manifest["objects"])
    assert total > 0


def test_the_state_can_live_in_s3(
    flowlogs: Path,
    tmp_path: Path,
    aws_env: str,
    s3_client,  # type: ignore[no-untyped-def]
    bucket: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = f"s3://{bucket}/ztflows/state"
    args = ["--state", state, "--endpoint-url", aws_env, "--quiet"]

    def reduce() -> dict[str, object]:
        capsys.readouterr()
        code = main(
            [
                "reduce",
                str(flowlogs),
                "--cache-dir",
                str(tmp_path / "c1"),
                "--format",
                "json",
                *args,
            ]
        )
        assert code == 0
        return dict(json.loads(capsys.readouterr().out))

    first = reduce()
    assert "2026-11-17" in first["reduced"]  # type: ignore[operator]
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert any(k.endswith("day=2026-11-17/manifest.json") for k in keys)
    again = reduce()
    assert again["reduced"] == []
    full, incremental = tmp_path / "full", tmp_path / "incremental"
    assert _analyze(flowlogs, full, tmp_path / "c0", "off") == 0
    code = main(
        [
            "analyze", str(flowlogs), "--inventory", str(SAMPLE_DATA / "inventory"),
            "--out", str(incremental), "--cache-dir", str(tmp_path / "c2"), *args,
        ]
    )  # fmt: skip
    assert code == 0
    _same(full, incremental)
