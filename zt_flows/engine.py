"""The DuckDB engine: one connection, created by the caller and passed to every stage.

Nothing connects at import time. The connection never installs or downloads an
extension: ztflows must run on machines with no route to the internet, and the
extensions it uses (parquet, json) are built into the wheel.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from zt_flows.settings import EngineSettings

_SETUP = (
    "SET autoinstall_known_extensions = false",
    "SET autoload_known_extensions = false",
    # Row order of a scan is irrelevant to every aggregate we compute; not preserving it
    # lets DuckDB stream Parquet writes and saves memory on large inputs.
    "SET preserve_insertion_order = false",
)


def connect_engine(
    settings: EngineSettings, database: str | Path = ":memory:"
) -> duckdb.DuckDBPyConnection:
    """A configured DuckDB connection: memory-bounded, spilling to ``temp_dir`` when set."""
    con = duckdb.connect(str(database))
    for statement in _SETUP:
        con.execute(statement)
    # SET does not take bound parameters; values are validated by DuckDB itself.
    con.execute(f"SET memory_limit = '{_checked_size(settings.memory_limit)}'")
    if settings.threads:
        con.execute(f"SET threads = {int(settings.threads)}")
    if settings.temp_dir is not None:
        Path(settings.temp_dir).mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{_checked_path(settings.temp_dir)}'")
    return con


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
