"""Assembling ``IpResolver.resolve_many``'s output columns from its distinct results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from zt_flows.inventory.classes import AddressClass
from zt_flows.inventory.model import Endpoint, EndpointKind, InterfaceRole


def int64s(values: object, fill: int) -> npt.NDArray[np.int64]:
    """An Arrow integer column as a NumPy int64 array, nulls replaced by ``fill``."""
    filled = pc.fill_null(cast("pa.ChunkedArray[Any]", values), pa.scalar(fill, pa.int64()))
    return np.asarray(filled, dtype=np.int64)


class OutputRows:
    """The distinct outputs of one ``resolve_many`` call, as rows to take from."""

    def __init__(self) -> None:
        self._index: dict[object, int] = {}
        self.kind: list[str] = []
        self.fixed_id: list[str | None] = []
        self.vpc_id: list[str | None] = []
        self.label: list[str | None] = []
        self.groups: list[list[str]] = []
        self.role: list[str | None] = []

    def _add(
        self,
        key: object,
        kind: EndpointKind,
        fixed_id: str | None,
        vpc_id: str | None,
        label: str | None,
        groups: Iterable[str],
        role: InterfaceRole | None,
    ) -> int:
        found = self._index.get(key)
        if found is not None:
            return found
        self._index[key] = len(self.kind)
        self.kind.append(kind.value)
        self.fixed_id.append(fixed_id)
        self.vpc_id.append(vpc_id)
        self.label.append(label)
        self.groups.append(list(groups))
        self.role.append(role.value if role is not None else None)
        return len(self.kind) - 1

    def add_class(self, found: AddressClass) -> int:
        return self._add(found, found.kind, found.fixed_id, found.vpc_id, found.label, (), None)

    def add_endpoint(self, e: Endpoint) -> int:
        return self._add(e, e.kind, e.id, e.vpc_id, e.label, e.security_group_ids, e.interface_role)

    def columns(
        self,
        row_output: npt.NDArray[np.int64],
        row_distinct: npt.NDArray[np.int64],
        texts: pa.Array[Any],
    ) -> dict[str, pa.Array[Any]]:
        take = pa.array(row_output, pa.int64(), mask=row_output < 0)
        fixed = pa.array(self.fixed_id, pa.string()).take(take)
        own = texts.take(pa.array(row_distinct, pa.int64(), mask=row_distinct < 0))
        return {
            "kind": pa.array(self.kind, pa.string()).take(take),
            "id": pc.coalesce(fixed, own),
            "vpc_id": pa.array(self.vpc_id, pa.string()).take(take),
            "label": pa.array(self.label, pa.string()).take(take),
            "security_group_ids": pa.array(self.groups, pa.list_(pa.string())).take(take),
            "interface_role": pa.array(self.role, pa.string()).take(take),
        }
