"""Longest-prefix lookups over CIDR blocks, by bisection over sorted integer ranges.

Any two CIDR blocks are either nested or disjoint, so a set of them flattens into
disjoint integer ranges where each range carries the payload of the innermost
(longest-prefix) block covering it, exactly like a route table. A lookup is then one
bisection, however many blocks there are.
"""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")


def cidr_bounds(cidr: str) -> tuple[int, int, int]:
    """``(version, first, last)`` of a CIDR block as integers."""
    network = ipaddress.ip_network(cidr, strict=False)
    first = int(network.network_address)
    return network.version, first, first + network.num_addresses - 1


class RangeTable(Generic[T]):
    """Disjoint ``[first, last]`` integer ranges with payloads; the innermost block wins.

    Built from ``(first, last, rank, payload)`` blocks that nest or are disjoint (CIDR
    blocks always are). For identical blocks the lowest ``rank`` wins.
    """

    __slots__ = ("_arrays", "_firsts", "_lasts", "_payloads")

    def __init__(self, blocks: Iterable[tuple[int, int, int, T]]) -> None:
        best: dict[tuple[int, int], tuple[int, T]] = {}
        for first, last, rank, payload in blocks:
            current = best.get((first, last))
            if current is None or rank < current[0]:
                best[(first, last)] = (rank, payload)
        # Outer blocks before the blocks they contain: by start, then by size descending.
        ordered = sorted(best.items(), key=lambda item: (item[0][0], -item[0][1]))
        firsts: list[int] = []
        lasts: list[int] = []
        payloads: list[T] = []

        def emit(first: int, last: int, payload: T) -> None:
            if first <= last:
                firsts.append(first)
                lasts.append(last)
                payloads.append(payload)

        stack: list[tuple[int, T]] = []  # open blocks: (last, payload), innermost on top
        position = 0
        for (first, last), (_, payload) in ordered:
            while stack and stack[-1][0] < first:
                end, outer = stack.pop()
                emit(position, end, outer)
                position = end + 1
            if stack:
                emit(position, first - 1, stack[-1][1])
            stack.append((last, payload))
            position = first
        while stack:
            end, outer = stack.pop()
            emit(position, end, outer)
            position = end + 1
        self._firsts = firsts
        self._lasts = lasts
        self._payloads = payloads
        self._arrays: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None = None

    def __len__(self) -> int:
        return len(self._firsts)

    @property
    def payloads(self) -> tuple[T, ...]:
        """The payload of every range, in the order :meth:`lookup_indices` numbers them."""
        return tuple(self._payloads)

    def lookup_indices(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """For many values below 2**63 (IPv4 addresses): the range index of each, or -1."""
        if self._arrays is None:
            self._arrays = (np.array(self._firsts, np.int64), np.array(self._lasts, np.int64))
        firsts, lasts = self._arrays
        index = np.searchsorted(firsts, values, side="right") - 1
        inside = (index >= 0) & (values <= lasts[np.maximum(index, 0)])
        return np.where(inside, index, -1).astype(np.int64)

    def lookup(self, value: int) -> T | None:
        index = bisect_right(self._firsts, value) - 1
        if index >= 0 and value <= self._lasts[index]:
            return self._payloads[index]
        return None
