"""An unwritable ``--out`` or ``--cache-dir`` is exit 2, found before any work starts.

The folders refuse writes for real (``faults.read_only_dir``: no write permission, or a
read-only file system when running as root). "Before any work" is checked by what did not
happen: no cache entry was written, no AWS endpoint was called (the commands that would
call one are pointed at a port where nothing listens: reaching it would be exit 3).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, SAMPLE_DATA
from faults import IS_ROOT, read_only_dir

from zt_flows.cli import main
from zt_flows.errors import OutputError
from zt_flows.writable import check_writable_dir, check_writable_file

INVENTORY = SAMPLE_DATA / "inventory"
FLOWLOGS = SAMPLE_DATA / "flowlogs"
PLAN = FIXTURES / "plans" / "sample_plan.json"
NOWHERE = "http://127.0.0.1:9"


def _reason(ro: Path) -> str:
    return f"{ro} is on a read-only file system" if IS_ROOT else f"permission denied in {ro}"


def _command(name: str, out: Path, cache: Path, tmp_path: Path) -> list[str]:
    local = [str(FLOWLOGS), "--inventory", str(INVENTORY), "--cache-dir", str(cache), "-q"]
    return {
        "analyze": ["analyze", *local, "--out", str(out)],
        "recommend": ["recommend", *local, "--out", str(out / "plan.json")],
        "conversations": ["conversations", *local, "--out", str(out / "edges.parquet")],
        "ingest": [
            "ingest",
            str(FLOWLOGS),
            "--cache-dir",
            str(cache),
            "--out",
            str(out / "r.parquet"),
            "-q",
        ],
        "terraform": [
            "terraform",
            str(PLAN),
            "--inventory",
            str(INVENTORY),
            "--out",
            str(out / "tf"),
        ],
        "graph": [
            "graph",
            str(FIXTURES / "edges" / "sample_edges.parquet"),
            "--inventory",
            str(INVENTORY),
            "--out",
            str(out / "g.graphml"),
            "-q",
        ],
        "inventory collect": [
            "inventory",
            "collect",
            "--region",
            "us-east-1",
            "--endpoint-url",
            NOWHERE,
            "--out",
            str(out),
            "-q",
        ],
    }[name]


COMMANDS = [
    "analyze",
    "recommend",
    "conversations",
    "ingest",
    "terraform",
    "graph",
    "inventory collect",
]


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unwritable_out_is_exit_2_before_any_work(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    with read_only_dir(tmp_path / "ro") as ro:
        code = main(_command(command, ro / "out", cache, tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: cannot write to {ro}")
    assert f"(--out): {_reason(ro)}\n" in err
    assert "  hint: pass --out a folder you can write to" in err
    assert not cache.exists()  # nothing was read, converted or collected


@pytest.mark.parametrize("command", ["analyze", "recommend", "conversations", "ingest"])
def test_an_unwritable_cache_dir_is_exit_2_before_any_work(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with read_only_dir(tmp_path / "ro") as ro:
        code = main(_command(command, out, ro / "cache", tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: cannot write to {ro / 'cache'} (--cache-dir): {_reason(ro)}")
    assert "hint: pass --cache-dir (or set ZTFLOWS_CACHE_DIR) to a folder you can write to" in err
    assert not out.exists()


def test_an_out_below_a_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    code = main(_command("analyze", blocker / "out", tmp_path / "cache", tmp_path))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: cannot create {blocker / 'out'} (--out): {blocker} is a file")


def test_the_checks_leave_nothing_behind(tmp_path: Path) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    check_writable_dir(existing, option="--out")
    check_writable_dir(tmp_path / "new" / "deeper", option="--out")
    check_writable_file(tmp_path / "new" / "plan.json", option="--out")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["existing"]


def test_a_folder_given_as_a_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(OutputError) as info:
        check_writable_file(tmp_path, option="--out")
    assert str(info.value) == f"{tmp_path} (--out) is a folder"
