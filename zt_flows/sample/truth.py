"""``ground_truth.csv``: every conversation the generator made, per day, with its count.

One row per (day, client, server, protocol, server port, expected action). Endpoints
are named the way the conversations stage resolves them: ENIs by id (the ENI holding
the address at the time), internet hosts by address, AWS services by the name flow
logs give them (``S3``, ``AMAZON``). ``connections`` counts the connections (or
refused attempts) that left at least one record on that day; one that spans
midnight counts on both days.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import numpy as np
import numpy.typing as npt

from zt_flows.sample.network import WINDOW_START
from zt_flows.sample.plan import Plan

HEADER = (
    "day",
    "client_kind",
    "client",
    "client_name",
    "server_kind",
    "server",
    "server_name",
    "protocol",
    "server_port",
    "action",
    "connections",
    "note",
)
Key = tuple[str, str, str, str, str, str, str, int, int, str]
Row = tuple[str, str, str, str, str, str, str, int, int, str, int, str]


def truth_rows(plan: Plan, counts: npt.NDArray[np.int64]) -> list[Row]:
    """Rows for ``counts[day, pair]`` > 0, merged per key, sorted."""
    merged: dict[Key, tuple[int, list[str]]] = {}
    days, pairs = np.nonzero(counts)
    for day, pair in zip(days.tolist(), pairs.tolist(), strict=True):
        t = plan.truth[pair]
        key: Key = (
            (WINDOW_START + timedelta(days=day)).strftime("%Y-%m-%d"),
            t.client.kind,
            t.client.id,
            t.client.name,
            t.server.kind,
            t.server.id,
            t.server.name,
            t.flow.protocol,
            t.flow.port,
            t.action,
        )
        total, notes = merged.get(key, (0, []))
        if t.flow.note not in notes:
            notes.append(t.flow.note)
        merged[key] = (total + int(counts[day, pair]), notes)
    return [
        (*key, total, "; ".join(notes))
        for key, (total, notes) in sorted(merged.items(), key=lambda kv: kv[0])
    ]


def write_ground_truth(path: Path, plan: Plan, counts: npt.NDArray[np.int64]) -> int:
    """Write the CSV; returns the number of rows."""
    rows = truth_rows(plan, counts)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    return len(rows)
