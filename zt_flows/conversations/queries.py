"""The stage's SQL, kept in ``sql/*.sql`` files beside this module and read on first use."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def query(name: str) -> str:
    """The text of ``sql/<name>``."""
    return resources.files("zt_flows.conversations").joinpath("sql", name).read_text("utf-8")
