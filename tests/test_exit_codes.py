"""Exit codes of scans over flow records: the same mapping whichever command scans.

A corrupt Parquet page is exit 2 naming the object in ``ingest``, ``conversations`` and
``analyze`` alike, whether the value checks meet it or a later scan (the conversations,
after the object's verdict was read from the cache); an interrupted DuckDB query is exit
130; a bad ``--on-error skip`` run that kept nothing is exit 2.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLE_DATA
from support.signals import ztflows_command
from support.sources import record

from zt_flows.cli import main
from zt_flows.cli.errors import run_guarded
from zt_flows.errors import ExitCode
from zt_flows.sources.scanerrors import interrupted_query, scan_errors

INVENTORY = SAMPLE_DATA / "inventory"


def _object(root: Path) -> Path:
    recs = [record(srcaddr=f"10.0.{i % 250}.{i % 200}", srcport=1024 + i) for i in range(5000)]
    path = root / "page.log.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(recs), path, compression="snappy", use_dictionary=False)
    return path


def _corrupt(path: Path, *, keep_mtime: bool = False) -> None:
    """Scramble the srcaddr column's data page; footer and size stay as they were."""
    stat = path.stat()
    meta = pq.read_metadata(path)
    column = next(
        meta.row_group(0).column(i)
        for i in range(meta.num_columns)
        if meta.row_group(0).column(i).path_in_schema == "srcaddr"
    )
    data = bytearray(path.read_bytes())
    start = column.data_page_offset + 30
    data[start : start + 200] = b"\x5a" * 200
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _commands(src: Path, tmp_path: Path) -> dict[str, list[str]]:
    cache = ["--cache-dir", str(tmp_path / "cache"), "-q"]
    return {
        "ingest": ["ingest", str(src), "--out", str(tmp_path / "r.parquet"), *cache],
        "conversations": [
            "conversations",
            str(src),
            "--inventory",
            str(INVENTORY),
            "--out",
            str(tmp_path / "e.parquet"),
            *cache,
        ],
        "analyze": [
            "analyze",
            str(src),
            "--inventory",
            str(INVENTORY),
            "--out",
            str(tmp_path / "out"),
            *cache,
        ],
    }


@pytest.mark.parametrize("command", ["ingest", "conversations", "analyze"])
def test_a_corrupt_page_is_exit_2_in_every_command(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _object(tmp_path / "src")
    _corrupt(bad)
    code = main(_commands(tmp_path / "src", tmp_path)[command])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: {bad}: expected a readable Parquet object, found ")
    assert "internal error" not in err


@pytest.mark.parametrize("command", ["conversations", "analyze"])
def test_a_page_met_by_a_later_scan_is_exit_2(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The object was checked in an earlier run; it broke since without its size or time
    changing, so its verdict comes from the cache and the conversations' scan meets it."""
    bad = _object(tmp_path / "src")
    commands = _commands(tmp_path / "src", tmp_path)
    assert main(commands["ingest"]) == 0
    _corrupt(bad, keep_mtime=True)
    capsys.readouterr()
    code = main(commands[command])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith(f"error: {bad}: expected a readable Parquet object, found ")


def test_an_interrupted_query_is_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    """A real DuckDB query, interrupted as Ctrl-C interrupts it (the client's interrupt)."""
    con = duckdb.connect()
    started = threading.Event()

    def query() -> None:
        started.set()
        con.execute(
            "SELECT count(*) FROM range(10000000000) a, range(10) b WHERE a.range % 7 = b.range"
        ).fetchall()

    timer = threading.Timer(0.5, con.interrupt)
    timer.start()
    try:
        code = run_guarded(query, debug=False)
    finally:
        timer.cancel()
    assert started.is_set()
    assert code == ExitCode.INTERRUPTED == 130
    assert capsys.readouterr().err.strip() == "interrupted"


def test_ctrl_c_while_duckdb_reads_python_objects_is_exit_130(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Ctrl-C while DuckDB calls back into Python (reading an Arrow object's schema)
    surfaces as an InvalidInputException naming Python's KeyboardInterrupt: an
    interruption, not a bug. Other invalid input stays what it is."""

    class Interrupted:
        """An Arrow stream whose schema read is stopped, as Ctrl-C stops it."""

        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            raise KeyboardInterrupt

    con = duckdb.connect()

    def query() -> None:
        with scan_errors({}):
            con.register("stream", Interrupted())
            con.execute("SELECT count(*) FROM stream").fetchall()

    code = run_guarded(query, debug=False)
    err = capsys.readouterr().err.strip()
    assert (code, err) == (ExitCode.INTERRUPTED, "interrupted"), err
    assert not interrupted_query(duckdb.InvalidInputException("Invalid Input Error: no"))


def test_ctrl_c_during_the_scans_of_a_command_is_exit_130(tmp_path: Path) -> None:
    """``ztflows conversations`` on the sample, sent SIGINT at moments after its first
    scans began: whatever it was doing, exit 130 and 'interrupted'. A SIGINT during a DuckDB
    query on the main thread surfaces as ``RuntimeError("Query interrupted")``, not as the
    client's ``InterruptException`` of the test above."""
    cache = tmp_path / "cache"
    interrupted = 0
    for delay in (0.2, 0.8):
        shutil.rmtree(cache, ignore_errors=True)
        process = subprocess.Popen(
            ztflows_command(
                "conversations",
                str(SAMPLE_DATA / "flowlogs"),
                "--inventory",
                str(INVENTORY),
                "--out",
                str(tmp_path / "edges.parquet"),
                "--cache-dir",
                str(cache),
                "-q",
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 120
        while not (cache / "checked").exists() and process.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(delay)
        if process.poll() is not None:  # done before the signal: nothing to interrupt
            process.communicate()
            continue
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        out = tmp_path / "edges.parquet"
        if process.returncode == 0:
            # The signal landed after the command had finished its work: the work stands,
            # whole, and the exit code is the command's, not death by signal.
            assert "edges" in err, err
            assert pq.ParquetFile(out).metadata.num_rows > 0
            continue
        assert process.returncode == 130, err
        assert err.strip().splitlines()[-1] == "interrupted"
        # Outputs are written whole or not at all.
        assert not out.exists() or pq.ParquetFile(out).metadata.num_rows > 0
        interrupted += not out.exists()
    assert interrupted


def test_duckdb_out_of_memory_is_a_limit_not_a_bug(capsys: pytest.CaptureFixture[str]) -> None:
    """A real OutOfMemoryException (a tiny limit, nowhere to spill) is exit 2 naming the
    options that move the limit, never exit 70."""
    con = duckdb.connect(config={"memory_limit": "32MB", "temp_directory": ""})

    def query() -> None:
        con.execute("SELECT string_agg(i::VARCHAR, ',') FROM range(20000000) t(i)").fetchall()

    code = run_guarded(query, debug=False)
    err = capsys.readouterr().err
    assert code == ExitCode.INPUT, err
    assert err.startswith("error: DuckDB ran out of memory")
    assert "--memory-limit" in err
    assert "--temp-dir" in err
    assert "bug" not in err
