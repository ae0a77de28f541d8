"""Atomic writes: unique temporary names, nothing half-written, the old file kept on failure."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from zt_flows.atomic import atomic_dir, atomic_path, write_files, write_text
from zt_flows.errors import OutputError


def test_temporary_names_are_unique_per_call(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    with atomic_path(target) as first, atomic_path(target) as second:
        assert first != second
        assert first.parent == second.parent == tmp_path
        assert first.name.startswith(".plan.json.")
        first.write_text("one")
        second.write_text("two")
    # Both renames were whole: the last one won, and no temporary file is left.
    assert target.read_text() == "one"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_concurrent_writers_never_leave_a_mix(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    texts = [str(i) * 20_000 for i in range(4)]

    def write(text: str) -> None:
        for _ in range(3):
            write_text(target, text)

    threads = [threading.Thread(target=write, args=(t,)) for t in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert target.read_text() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failure_keeps_the_old_file_and_removes_the_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "edges.parquet"
    target.write_text("old")

    def interrupted() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        interrupted()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["edges.parquet"]


def test_new_files_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o027)
    try:
        path = write_text(tmp_path / "a" / "report.md", "x")
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o640


def test_a_write_that_cannot_happen_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputError, match="cannot write"):
        write_text(blocker / "plan.json", "{}")


def test_several_files_are_all_written_before_any_is_renamed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "report.md").write_text("old md")
    (tmp_path / "report.html").write_text("old html")
    real_replace = Path.replace
    renamed: list[str] = []

    def replace(self: Path, target: Path) -> Path:
        renamed.append(Path(target).name)
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    write_files(tmp_path, {"report.md": "new md", "report.html": "new html"})
    assert renamed == ["report.md", "report.html"]
    assert (tmp_path / "report.md").read_text() == "new md"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "report.md"]


def test_a_folder_is_swapped_in_whole(tmp_path: Path) -> None:
    target = tmp_path / "snapshot"
    with atomic_dir(target) as tmp:
        (tmp / "a.json").write_text("1")
        assert not target.exists()
    assert (target / "a.json").read_text() == "1"
    with pytest.raises(OutputError, match="appeared"), atomic_dir(target) as tmp:
        (tmp / "b.json").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["a.json"]
    with atomic_dir(target, replace=True) as tmp:
        (tmp / "b.json").write_text("2")
    assert sorted(p.name for p in target.iterdir()) == ["b.json"]

    def interrupted() -> None:
        with atomic_dir(target, replace=True) as tmp:
            (tmp / "c.json").write_text("3")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()
    assert sorted(p.name for p in target.iterdir()) == ["b.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot"]
