"""``analyze --out``: every output swapped in at once, never over what ztflows did not write.

The outputs are written into a staging folder beside ``--out`` and swapped in at the end: a
failure part-way (a full disk, Ctrl-C) leaves the previous outputs whole, never a mix of two
runs, and leaves no staging folder behind. A manifest lists what ztflows wrote; the user's
files are carried over, and a folder holding files ztflows would replace but did not write is
refused before any work, with a hint that names no option ``analyze`` lacks.
"""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import SAMPLE_DATA

from zt_flows import pipeline
from zt_flows.cli import main
from zt_flows.engine import connect_engine
from zt_flows.errors import OutputError
from zt_flows.inventory import load_inventory
from zt_flows.outdir import MARKER
from zt_flows.pipeline import Recommendation, analyze, write_analysis
from zt_flows.settings import Settings, SourceSettings


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def run_cli(out: Path, cache: Path) -> int:
    return main(
        [
            "analyze",
            str(SAMPLE_DATA / "flowlogs"),
            "--inventory",
            str(SAMPLE_DATA / "inventory"),
            "--out",
            str(out),
            "--cache-dir",
            str(cache),
            "-q",
        ]
    )


@pytest.fixture(scope="module")
def recommendation(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Recommendation, duckdb.DuckDBPyConnection]]:
    cache = tmp_path_factory.mktemp("cache")
    settings = Settings(sources=SourceSettings(cache_dir=cache, progress=False))
    con = connect_engine(settings.engine)
    try:
        result = analyze(
            SAMPLE_DATA / "flowlogs",
            settings,
            con,
            inventory=load_inventory(SAMPLE_DATA / "inventory"),
        )
        yield result, con
    finally:
        con.close()


@pytest.fixture(scope="module")
def previous(
    recommendation: tuple[Recommendation, duckdb.DuckDBPyConnection],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """A folder written by an earlier run, with files of the user's beside the outputs."""
    result, con = recommendation
    out = tmp_path_factory.mktemp("previous") / "out"
    write_analysis(result, con, out)
    (out / "notes.txt").write_text("mine\n")
    (out / "terraform" / "backend.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    return out


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "out"
    shutil.copytree(folder, target)
    return target


def test_a_second_run_replaces_its_own_outputs_and_keeps_the_users(
    recommendation: tuple[Recommendation, duckdb.DuckDBPyConnection], previous: Path, tmp_path: Path
) -> None:
    result, con = recommendation
    out = copy_of(previous, tmp_path)
    (out / "report.md").write_text("stale\n")  # an output of the earlier run, changed
    write_analysis(result, con, out)
    assert (out / "notes.txt").read_text() == "mine\n"
    assert "backend" in (out / "terraform" / "backend.tf").read_text()
    assert (out / "report.md").read_text() == (previous / "report.md").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left


@pytest.mark.parametrize(
    "failure",
    [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()],
    ids=["disk-full", "ctrl-c"],
)
def test_a_failure_part_way_leaves_the_previous_outputs_whole(
    recommendation: tuple[Recommendation, duckdb.DuckDBPyConnection],
    previous: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    failure: BaseException,
) -> None:
    """The report is written after the plan, the edges and the Terraform: a failure there
    is after most of the new outputs exist, in the staging folder only."""
    result, con = recommendation
    out = copy_of(previous, tmp_path)
    before = tree(out)

    def broken(*args: object, **kwargs: object) -> object:
        raise failure

    monkeypatch.setattr(pipeline, "render_report", broken)
    expected: type[BaseException] = (
        OutputError if isinstance(failure, OSError) else KeyboardInterrupt
    )
    with pytest.raises(expected) as caught:
        write_analysis(result, con, out)
    if isinstance(caught.value, OutputError):
        assert "No space left" in caught.value.message
        assert "previous outputs are left as they were" in (caught.value.hint or "")
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_folder_ztflows_did_not_write_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.md").write_text("years of work\n")
    assert run_cli(out, tmp_path / "cache") == 2
    err = capsys.readouterr().err
    assert f"{out} (--out) is not empty and was not written by ztflows" in err
    assert "--force" not in err  # analyze has no such option
    assert not (tmp_path / "cache").exists()  # refused before reading anything
    assert tree(out) == {"thesis.md": b"years of work\n"}


def test_a_users_file_of_an_output_name_is_never_replaced(
    previous: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = copy_of(previous, tmp_path)
    manifest = (out / MARKER).read_text()
    (out / MARKER).write_text(manifest.replace("report.md\n", ""))  # the user's report.md
    before = tree(out)
    assert run_cli(out, tmp_path / "cache") == 2
    err = capsys.readouterr().err
    assert "holds files ztflows would replace but did not write: report.md" in err
    assert "--force" not in err
    assert tree(out) == before
