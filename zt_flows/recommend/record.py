"""The recommender settings a plan records, and reading them back (for ``ztflows check``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, fields, replace

from zt_flows.settings import RecommendSettings


def settings_record(
    settings: RecommendSettings, *, onprem_cidrs: Sequence[str] = ()
) -> dict[str, object]:
    """The settings a plan was made with, JSON-ready and sorted. The on-premises ranges are
    recorded when there are any: the plan's exposure figures were measured with them, and a
    command that re-measures them (:func:`~zt_flows.recommend.trust.verify_plan`) needs them."""
    out: dict[str, object] = {}
    values = asdict(settings)
    if onprem_cidrs:
        values["onprem_cidrs"] = sorted(onprem_cidrs)
    for key, value in sorted(values.items()):
        out[key] = sorted(value) if isinstance(value, frozenset | set) else value
    return out


def onprem_from_record(record: Mapping[str, object]) -> tuple[str, ...]:
    """The on-premises ranges a plan's exposure figures were measured with."""
    value = record.get("onprem_cidrs", ())
    if not isinstance(value, list | tuple):
        return ()
    return tuple(str(v) for v in value)


def settings_from_record(
    record: Mapping[str, object], base: RecommendSettings | None = None
) -> RecommendSettings:
    """The settings a plan recorded (unknown or ill-typed keys keep ``base``'s values)."""
    base = base or RecommendSettings()
    changes: dict[str, object] = {}
    for f in fields(RecommendSettings):
        if f.name not in record:
            continue
        value, current = record[f.name], getattr(base, f.name)
        if isinstance(current, frozenset) and isinstance(value, list):
            changes[f.name] = frozenset(int(v) for v in value)
        elif isinstance(current, bool):
            if isinstance(value, bool):
                changes[f.name] = value
        elif isinstance(current, int | float) and isinstance(value, int | float):
            changes[f.name] = type(current)(value)
    return replace(base, **changes)  # type: ignore[arg-type]
