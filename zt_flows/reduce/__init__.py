"""Daily partials: the conversations stage split at its one heavy scan.

Each UTC day of flow logs is reduced once (``sql/partial.sql``: per interface, addresses,
server port, hour and decision) into a Parquet partial kept in a state location, a folder
or ``s3://bucket/prefix``, with a manifest of the objects the day covers; later runs reduce
only the days whose objects changed. Partials hold no inventory-dependent value, so a new
snapshot never invalidates them. The same reduce runs on Apache Spark
(:mod:`zt_flows.reduce.spark`), from the same SQL text.

::

    reduction = reduce_flow_logs(source, settings, con, state=open_state("state/"), scratch=tmp)
    load_partials(con, reduction.partials)   # zt_reduced, for conversations_from_reduced
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from zt_flows.reduce.run import (
    Reduction,
    kept_in_partials,
    load_partials,
    plan_days,
    reduce_flow_logs,
)
from zt_flows.reduce.sql import PARTIAL_SCHEMA, render_partial
from zt_flows.reduce.state import StateStore, open_state

if TYPE_CHECKING:
    import boto3

    from zt_flows.settings import Settings


def default_state(settings: Settings) -> Path:
    """Where partials go when no state is named: under the cache directory."""
    return Path(settings.sources.cache_dir).expanduser() / "state"


def open_state_for(
    location: str, settings: Settings, *, session: boto3.session.Session | None = None
) -> StateStore:
    """The state at ``location`` (a folder, or s3://bucket/prefix through the AWS settings)."""
    if not location.startswith("s3://"):
        return open_state(location)
    from zt_flows.aws import make_session
    from zt_flows.sources import s3

    client = s3.s3_client(session or make_session(settings.aws), settings.aws, workers=4)
    return open_state(location, client=client)


__all__ = [
    "PARTIAL_SCHEMA",
    "Reduction",
    "StateStore",
    "default_state",
    "kept_in_partials",
    "load_partials",
    "open_state",
    "open_state_for",
    "plan_days",
    "reduce_flow_logs",
    "render_partial",
]
