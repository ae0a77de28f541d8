"""The DuckDB engine: one connection, created by the caller and passed to every stage.

Nothing connects at import time. The connection never installs or downloads an
extension: ztflows must run on machines with no route to the internet, and the
extensions it uses (parquet, json) are built into the wheel.

Spilling: every connection gets a temporary folder of its own, ``ztflows-<pid>-<random>``
under ``--temp-dir`` or, by default, the system's temporary folder (never DuckDB's default
``./.tmp`` in the user's working directory). It is removed when the connection goes away or
the process exits (Ctrl-C included); folders of runs that were killed outright are removed
by the next run that finds their process gone. A statement that still needs more memory
than ``--memory-limit`` allows fails with DuckDB's out-of-memory error, which
:func:`engine_failure` turns into a :class:`~zt_flows.errors.ResourceLimitError` (exit 2,
naming the two settings), never an internal error.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import uuid
import weakref
from pathlib import Path

import duckdb

from zt_flows.errors import ResourceLimitError
from zt_flows.settings import EngineSettings

_RUN_PREFIX = "ztflows-"
_RUN_NAME = re.compile(r"^ztflows-(\d+)-[0-9a-f]{8}$")

_SETUP = (
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    # Row order of a scan is irrelevant to every aggregate we compute; not preserving it
    # lets DuckDB stream Parquet writes and saves memory on large inputs.
    "SET preserve_insertion_order = false",
)
# jemalloc's background threads purge freed pages: without them the memory of tables a
# stage dropped stays in the process (4.9 -> 4.2 GB after dropping 2.3 GB of tables at 10M
# estate records; with them 2.5 GB), under what the later Python stages allocate. Builds
# without jemalloc (macOS, Windows) have nothing to purge. The setting is the process's,
# not the connection's: a notebook's other connections get it too, which only frees memory.
# https://duckdb.org/docs/stable/core_extensions/jemalloc.html#background-threads
_PURGE = "SET allocator_background_threads = true"


def connect_engine(
    settings: EngineSettings, database: str | Path = ":memory:"
) -> duckdb.DuckDBPyConnection:
    """A configured DuckDB connection: memory-bounded, spilling to ``temp_dir`` when set."""
    con = duckdb.connect(str(database))
    for statement in _SETUP:
        con.execute(statement)
    with contextlib.suppress(duckdb.Error):
        con.execute(_PURGE)
    # SET does not take bound parameters; values are validated by DuckDB itself.
    con.execute(f"SET memory_limit = '{_checked_size(settings.memory_limit)}'")
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    run_dir = run_temp_dir(settings.temp_dir)
    con.execute(f"SET temp_directory = '{_checked_path(run_dir)}'")
    # Removed when the connection is collected, or at the latest when the process exits.
    weakref.finalize(con, shutil.rmtree, run_dir, True)
    return con


def run_temp_dir(root: Path | None) -> Path:
    """A fresh spill folder for one connection under ``root`` (default: the system's
    temporary folder); folders left by runs whose process is gone are removed first."""
    base = Path(root) if root is not None else Path(tempfile.gettempdir())
    _checked_path(base)
    base.mkdir(parents=True, exist_ok=True)
    _remove_orphans(base)
    path = base / f"{_RUN_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path.mkdir()
    return path


def _remove_orphans(base: Path) -> None:
    with contextlib.suppress(OSError):
        for entry in base.iterdir():
            match = _RUN_NAME.match(entry.name)
            if match and entry.is_dir() and not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def engine_failure(exc: BaseException) -> ResourceLimitError | None:
    """The error to report for a DuckDB failure that is a limit of the machine, not a bug:
    out of memory under ``--memory-limit``, or no space left to spill into."""
    text = str(exc)
    if isinstance(exc, duckdb.OutOfMemoryException) or "Out of Memory Error" in text:
        # DuckDB's first line names sizes only ("failed to allocate ... (1.4 MiB/1.9 MiB
        # used)"), never data.
        detail = (text.split("Error:", 1)[-1].strip().splitlines() or [""])[0][:120]
        return ResourceLimitError(
            f"DuckDB ran out of memory under --memory-limit: {detail}",
            hint="raise --memory-limit (default 4GB), or give --temp-dir a folder with more"
            " free space: what does not fit in memory spills there",
        )
    if isinstance(exc, duckdb.IOException) and "No space left" in text:
        return ResourceLimitError(
            "no space left to spill into the temporary folder",
            hint="point --temp-dir at a folder with more free space, or raise --memory-limit",
        )
    return None


def _checked_size(text: str) -> str:
    cleaned = text.strip().upper().replace(" ", "")
    number = cleaned.rstrip("KMGTIB")
    if not number or not number.replace(".", "", 1).isdigit():
        from zt_flows.errors import UsageError

        raise UsageError(f"--memory-limit: expected a size like 4GB or 512MB, found {text!r}")
    return cleaned


def _checked_path(path: Path) -> str:
    text = str(path)
    if "'" in text:
        from zt_flows.errors import UsageError

        raise UsageError(f"--temp-dir: a path with a quote cannot be used, found {text!r}")
    return text
