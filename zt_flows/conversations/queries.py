"""The stage's SQL, kept in ``sql/*.sql`` files beside this module and read on first use."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources

import duckdb


@cache
def query(name: str) -> str:
    """The text of ``sql/<name>``."""
    return resources.files("zt_flows.conversations").joinpath("sql", name).read_text("utf-8")


def run_script(
    con: duckdb.DuckDBPyConnection, name: str, params: Mapping[str, object] | None = None
) -> None:
    """Run every statement of ``sql/<name>``, binding each one's own ``$parameters``."""
    for statement in query(name).split(";\n"):
        if not statement.strip() or all(
            line.strip().startswith("--") or not line.strip() for line in statement.splitlines()
        ):
            continue
        used = {k: v for k, v in (params or {}).items() if f"${k}" in statement}
        con.execute(statement, used) if used else con.execute(statement)
