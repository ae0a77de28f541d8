"""Time-aware IP → endpoint resolution.

Private addresses are reused: when an ENI is deleted its IP goes back to the subnet and
a new ENI can get it. With several snapshots, an address resolves to the ENI that held
it at that moment. For each address, every snapshot names a holder (or none) and the
holders become intervals:

* before the first snapshot, its holder (if any) holds the address;
* between two snapshots with the same holder, that holder;
* when a later snapshot shows a different ENI, the newcomer takes over right after the
  earlier snapshot — or at its ``Attachment.AttachTime`` when that falls between the
  two snapshots (an instance replaced at noon takes its IP at noon);
* when a later snapshot shows no holder, the earlier holder keeps the address until
  that snapshot (the ENI was deleted at some point before it);
* after the last snapshot, its holder.

Delegated prefixes (``Ipv4Prefixes`` / ``Ipv6Prefixes``) are tracked the same way.
An ENI's record (its groups, which can change) is the one of the first snapshot at or
after the moment, or the last one before it if it was not seen again.

Addresses held by no ENI resolve to a labelled class, by longest-prefix match over
every known range (ties in the order listed): an AWS service range from an
AWS-managed prefix list, the CIDR of a peered VPC the inventory does not describe,
a configured on-premises range, a known VPC or subnet (``vpc_unknown``), other private
space (RFC 1918, RFC 6598, IPv6 ULA), and otherwise the internet.
"""

from __future__ import annotations

import ipaddress
import socket
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from zt_flows.errors import UsageError, excerpt
from zt_flows.inventory.classes import INTERNET, AddressClass, class_tables
from zt_flows.inventory.model import (
    Endpoint,
    EndpointKind,
    Inventory,
    NetworkInterface,
)
from zt_flows.inventory.outputs import OutputRows, int64s
from zt_flows.inventory.ranges import RangeTable, cidr_bounds

Key = tuple[int, int]  # (IP version, address as an integer)

# Rows whose `at` is null resolve as of the latest snapshot.
_LATEST = 2**62

OUTPUT_COLUMNS = ("kind", "id", "vpc_id", "label", "security_group_ids", "interface_role")


@dataclass(frozen=True)
class _Timeline:
    """Who holds one address (or prefix) over time: ``holders[i]`` before ``switches[i]``."""

    switches: tuple[int, ...]
    holders: tuple[str | None, ...]

    def at(self, moment: int) -> str | None:
        if not self.switches:
            return self.holders[0]
        return self.holders[bisect_right(self.switches, moment)]


def _epoch(moment: datetime | int) -> int:
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return int(moment.timestamp())
    return int(moment)


def parse_key(text: str) -> tuple[Key, str] | None:
    """``((version, int), normalised text)`` of an address string, None if it is not one."""
    try:
        return (4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")), text
    except (OSError, TypeError):
        pass
    try:
        address = ipaddress.ip_address(text.strip())
    except (ValueError, AttributeError):
        return None
    return (address.version, int(address)), str(address)


def _timeline(
    holders: Sequence[str | None], times: Sequence[int], attach: Sequence[dict[str, int]]
) -> _Timeline:
    """Intervals from the holder each snapshot shows (see the module docstring)."""
    switches: list[int] = []
    values: list[str | None] = [holders[0]]
    for i in range(len(times) - 1):
        before, after = holders[i], holders[i + 1]
        if before == after:
            continue
        if after is None:
            switch = times[i + 1]
        else:
            attached = attach[i + 1].get(after)
            in_gap = attached is not None and times[i] < attached <= times[i + 1]
            switch = attached if attached is not None and in_gap else times[i] + 1
        switches.append(switch)
        values.append(after)
    return _Timeline(tuple(switches), tuple(values))


class IpResolver:
    """Resolves addresses to endpoints at a moment; build with :func:`build_resolver`."""

    def __init__(
        self,
        *,
        addresses: dict[Key, _Timeline],
        prefixes: dict[int, RangeTable[_Timeline]],
        classes: dict[int, RangeTable[AddressClass]],
        records: dict[str, tuple[tuple[int, NetworkInterface], ...]],
        public_ips: dict[Key, str],
    ) -> None:
        self._addresses = addresses
        self._prefixes = prefixes
        self._classes = classes
        self._records = records
        self._record_times = {k: tuple(t for t, _ in v) for k, v in records.items()}
        self._public_ips = public_ips
        # Moments where an ENI's record changes (groups, addresses): resolution
        # results that name the ENI can change there.
        self._changes: dict[str, tuple[int, ...]] = {
            eni_id: tuple(
                recs[j - 1][0] + 1 for j in range(1, len(recs)) if recs[j][1] != recs[j - 1][1]
            )
            for eni_id, recs in records.items()
        }
        self._segments_cache: dict[Key, tuple[tuple[int, ...], tuple[Endpoint, ...]] | None] = {}

    # ------------------------------------------------------------------ single lookups

    def interface_at(self, interface_id: str, at: datetime | int) -> NetworkInterface | None:
        """The ENI's record in the snapshot valid at ``at``; None for an unknown ENI."""
        records = self._records.get(interface_id)
        if not records:
            return None
        index = bisect_left(self._record_times[interface_id], _epoch(at))
        return records[min(index, len(records) - 1)][1]

    def resolve(self, address: str, at: datetime | int) -> Endpoint:
        """The endpoint ``address`` was at ``at`` (a datetime, or epoch seconds)."""
        parsed = parse_key(address)
        if parsed is None:
            raise UsageError(f"not an IP address: {excerpt(address)}")
        key, text = parsed
        segments = self._segments(key)
        if segments is None:
            return self._classify(key).endpoint(text)
        switches, endpoints = segments
        return endpoints[bisect_right(switches, _epoch(at))]

    # ------------------------------------------------------------------ internals

    def _holder(self, key: Key, moment: int) -> str | None:
        timeline = self._addresses.get(key)
        holder = timeline.at(moment) if timeline is not None else None
        if holder is None:
            prefix = self._prefixes[key[0]].lookup(key[1])
            holder = prefix.at(moment) if prefix is not None else None
        return holder

    def _maybe_held(self, key: Key) -> bool:
        """Whether an ENI ever held the address (or a prefix around it), or it is a public IP."""
        return (
            key in self._addresses
            or key in self._public_ips
            or self._prefixes[key[0]].lookup(key[1]) is not None
        )

    def _classify(self, key: Key) -> AddressClass:
        found = self._classes[key[0]].lookup(key[1])
        if found is not None:
            return found
        # A public IP of a known ENI is still the internet to security groups (a rule
        # referencing the ENI's group does not match it); say whose it is.
        owner = self._public_ips.get(key)
        return AddressClass(EndpointKind.INTERNET, label=owner) if owner else INTERNET

    def _resolve_uncached(self, key: Key, text: str, moment: int) -> Endpoint:
        holder = self._holder(key, moment)
        if holder is not None:
            eni = self.interface_at(holder, moment)
            if eni is not None:
                return Endpoint(
                    EndpointKind.ENI,
                    eni.id,
                    vpc_id=eni.vpc_id,
                    security_group_ids=eni.security_group_ids,
                    label=eni.role.value,
                    interface_role=eni.role,
                )
        return self._classify(key).endpoint(text)

    def _segments(self, key: Key) -> tuple[tuple[int, ...], tuple[Endpoint, ...]] | None:
        """For an address some ENI ever held: the moments its endpoint changes, and the
        endpoints between them. None for an address no ENI ever held (static class)."""
        if key in self._segments_cache:
            return self._segments_cache[key]
        timelines = [self._addresses.get(key), self._prefixes[key[0]].lookup(key[1])]
        present = [t for t in timelines if t is not None]
        if not present:
            return None
        text = str(ipaddress.IPv4Address(key[1]) if key[0] == 4 else ipaddress.IPv6Address(key[1]))
        candidates: set[int] = set()
        for timeline in present:
            candidates.update(timeline.switches)
            for holder in timeline.holders:
                if holder is not None:
                    candidates.update(self._changes.get(holder, ()))
        ordered = sorted(candidates)
        first = ordered[0] - 1 if ordered else 0
        endpoints = [self._resolve_uncached(key, text, first)]
        switches: list[int] = []
        for moment in ordered:
            endpoint = self._resolve_uncached(key, text, moment)
            if endpoint != endpoints[-1]:
                switches.append(moment)
                endpoints.append(endpoint)
        result = (tuple(switches), tuple(endpoints))
        self._segments_cache[key] = result
        return result

    # ------------------------------------------------------------------ tables

    def resolve_many(self, table: pa.Table) -> pa.Table:
        """Resolve every row of ``table`` (``address`` string, ``at`` int64 epoch seconds).

        Returns the table with ``kind, id, vpc_id, label, security_group_ids
        (list<string>), interface_role`` appended (replacing columns of those names).
        Each distinct address is parsed and classified once; rows of addresses whose
        holder changes over time are placed by bisection over that address's switch
        moments. A null or unparseable address gives null outputs; a null ``at``
        resolves as of the latest snapshot.
        """
        for column in ("address", "at"):
            if column not in table.column_names:
                raise UsageError(f"resolve_many: the table has no {column!r} column")
        at = table.column("at")
        if pa.types.is_timestamp(at.type):
            at = at.cast(pa.timestamp("s", tz=at.type.tz), safe=False)
        moments = int64s(at.cast(pa.int64()), _LATEST)
        addresses = table.column("address")
        distinct = pc.unique(addresses).drop_null()
        row_distinct = int64s(pc.index_in(addresses, value_set=distinct), -1)

        outputs = OutputRows()
        # Per distinct address: an output index (>= 0), -1 unparseable, -2 time-dependent.
        static = np.full(len(distinct) + 1, -1, dtype=np.int64)  # the extra slot: null rows
        texts: list[str | None] = []
        varying: dict[int, tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]] = {}
        # Unheld IPv4 addresses are classified together, by one vectorised bisection.
        v4_positions: list[int] = []
        v4_values: list[int] = []
        for index, value in enumerate(distinct.to_pylist()):
            parsed = parse_key(value) if isinstance(value, str) else None
            texts.append(parsed[1] if parsed is not None else None)
            if parsed is None:
                continue
            key = parsed[0]
            if key[0] == 4 and not self._maybe_held(key):
                v4_positions.append(index)
                v4_values.append(key[1])
                continue
            segments = self._segments(key)
            if segments is None:
                static[index] = outputs.add_class(self._classify(key))
            elif not segments[0]:
                static[index] = outputs.add_endpoint(segments[1][0])
            else:
                static[index] = -2
                varying[index] = (
                    np.array(segments[0], dtype=np.int64),
                    np.array([outputs.add_endpoint(e) for e in segments[1]], dtype=np.int64),
                )
        if v4_positions:
            table4 = self._classes[4]
            classes = [outputs.add_class(c) for c in (*table4.payloads, INTERNET)]
            found = table4.lookup_indices(np.array(v4_values, dtype=np.int64))
            static[np.array(v4_positions)] = np.array(classes, dtype=np.int64)[found]
        row_output = static[row_distinct]  # -1 (null address) picks the extra slot
        pending = np.flatnonzero(row_output == -2)
        if pending.size:
            order = pending[np.argsort(row_distinct[pending], kind="stable")]
            groups, starts = np.unique(row_distinct[order], return_index=True)
            ends = [*starts[1:], order.size]
            for group, start, end in zip(groups.tolist(), starts.tolist(), ends, strict=True):
                rows = order[start:end]
                switches, output_ids = varying[group]
                row_output[rows] = output_ids[
                    np.searchsorted(switches, moments[rows], side="right")
                ]

        resolved = outputs.columns(row_output, row_distinct, pa.array(texts, pa.string()))
        base = table.drop_columns([c for c in OUTPUT_COLUMNS if c in table.column_names])
        for name in OUTPUT_COLUMNS:
            base = base.append_column(name, resolved[name])
        return base


# --------------------------------------------------------------------------- building


def build_resolver(
    inventory: Inventory,
    *,
    onprem_cidrs: Sequence[str] = (),
    partner_cidrs: Sequence[str] = (),
) -> IpResolver:
    """A resolver over every snapshot of ``inventory``; ``onprem_cidrs`` are VPN / DX ranges,
    ``partner_cidrs`` partners' ranges (both named by the user)."""
    by_time: dict[int, list[NetworkInterface]] = defaultdict(list)
    for snapshot in inventory.snapshots:
        by_time[_epoch(snapshot.taken_at)].extend(snapshot.interfaces)
    times = sorted(by_time)
    held: list[dict[Key, str]] = []
    delegated: list[dict[tuple[int, int, int], str]] = []
    attach: list[dict[str, int]] = []
    records: dict[str, list[tuple[int, NetworkInterface]]] = defaultdict(list)
    for moment in times:
        addresses: dict[Key, str] = {}
        prefixes: dict[tuple[int, int, int], str] = {}
        attached: dict[str, int] = {}
        for eni in by_time[moment]:
            records[eni.id].append((moment, eni))
            if eni.attach_time is not None:
                attached[eni.id] = _epoch(eni.attach_time)
            for text in eni.addresses:
                parsed = parse_key(text)
                # Two holders in one snapshot: overlapping VPCs in different accounts.
                # The lowest ENI id wins, so the choice is stable.
                if parsed is not None and eni.id < addresses.get(parsed[0], "~"):
                    addresses[parsed[0]] = eni.id
            for cidr in eni.ipv4_prefixes + eni.ipv6_prefixes:
                bounds = cidr_bounds(cidr)
                if eni.id < prefixes.get(bounds, "~"):
                    prefixes[bounds] = eni.id
        held.append(addresses)
        delegated.append(prefixes)
        attach.append(attached)

    address_timelines = {
        key: _timeline([h.get(key) for h in held], times, attach)
        for key in sorted({k for h in held for k in h})
    }
    prefix_blocks: dict[int, list[tuple[int, int, int, _Timeline]]] = {4: [], 6: []}
    for bounds in sorted({b for d in delegated for b in d}):
        timeline = _timeline([d.get(bounds) for d in delegated], times, attach)
        prefix_blocks[bounds[0]].append((bounds[1], bounds[2], 0, timeline))

    public_ips: dict[Key, str] = {}
    for eni in inventory.interfaces.values():
        for text in eni.public_ips:
            parsed = parse_key(text)
            if parsed is not None:
                public_ips[parsed[0]] = eni.id

    return IpResolver(
        addresses=address_timelines,
        prefixes={v: RangeTable(blocks) for v, blocks in prefix_blocks.items()},
        classes=class_tables(inventory, onprem_cidrs, partner_cidrs),
        records={k: tuple(v) for k, v in records.items()},
        public_ips=public_ips,
    )
