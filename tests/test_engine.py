"""The engine: spill folders per run, removed on the way out; out of memory is exit 2."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

from conftest import SAMPLE_DATA

from zt_flows.cli import main
from zt_flows.engine import connect_engine, run_temp_dir
from zt_flows.settings import EngineSettings


def _runs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.name.startswith("ztflows-"))


def test_each_connection_spills_into_its_own_folder_removed_afterwards(tmp_path: Path) -> None:
    con = connect_engine(EngineSettings(memory_limit="64MB", threads=1, temp_dir=tmp_path))
    (run,) = _runs(tmp_path)
    (setting,) = con.execute("SELECT current_setting('temp_directory')").fetchall()
    assert Path(setting[0]) == run
    # More than the limit holds: it must spill into the run's folder and finish.
    (count,) = con.execute(
        "SELECT count(*) FROM (SELECT i, md5(CAST(i AS VARCHAR)) AS h FROM range(3000000) t(i)"
        " ORDER BY h)"
    ).fetchall()
    assert count[0] == 3_000_000
    con.close()
    del con
    gc.collect()
    assert _runs(tmp_path) == []


def test_jemallocs_purging_threads_are_on(tmp_path: Path) -> None:
    """So the tables a stage drops give their memory back to the system instead of
    staying under what later stages allocate."""
    con = connect_engine(EngineSettings(temp_dir=tmp_path))
    (setting,) = con.execute("SELECT current_setting('allocator_background_threads')").fetchall()
    assert setting[0] is True
    con.close()


def test_a_killed_runs_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    gone = int(child.stdout)
    orphan = tmp_path / f"ztflows-{gone}-0123abcd"
    (orphan / "duckdb_temp_storage-0.tmp").parent.mkdir()
    (orphan / "duckdb_temp_storage-0.tmp").write_bytes(b"x" * 1024)
    mine = tmp_path / f"ztflows-{os.getpid()}-89abcdef"
    mine.mkdir()
    fresh = run_temp_dir(tmp_path)
    assert not orphan.exists()
    assert mine.exists()  # this process is alive: its folder is not an orphan
    assert fresh.parent == tmp_path


def test_out_of_memory_is_a_clear_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = main(
        [
            "analyze", str(SAMPLE_DATA / "flowlogs"), "--inventory", str(SAMPLE_DATA / "inventory"),
            "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"),
            "--memory-limit", "2MB", "--temp-dir", str(tmp_path / "spill"), "--quiet",
        ]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "ran out of memory" in err
    assert "--memory-limit" in err
    assert "--temp-dir" in err
    assert "bug" not in err
    assert _runs(tmp_path / "spill") == []
