"""Typed access to a parsed JSON document that knows where each value came from.

Every accessor either returns a value of the expected type or raises
:class:`InventoryFormatError` naming the file, the JSON path of the bad value
(``NetworkInterfaces[3].Groups[0].GroupId``), what was expected and what was found.
Required keys go through the ``req_*`` accessors, optional ones through ``opt_*``;
nothing here ever raises ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime

from zt_flows.errors import InventoryFormatError, Location, excerpt

_MISSING = object()


def describe(value: object) -> str:
    """How a found value reads in an error message."""
    if value is _MISSING:
        return "nothing (the key is missing)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {excerpt(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class Node:
    """A JSON value at ``path`` inside the document ``source``."""

    __slots__ = ("path", "source", "value")

    def __init__(self, value: object, source: str, path: str = "") -> None:
        self.value = value
        self.source = source
        self.path = path

    # ------------------------------------------------------------------ errors

    def error(
        self, expected: str, found: str | None = None, *, key: str | None = None
    ) -> InventoryFormatError:
        path = self._child_path(key) if key is not None else self.path
        return InventoryFormatError(
            Location(self.source, path=path or None),
            expected,
            found if found is not None else describe(self.value),
        )

    def _child_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    # ------------------------------------------------------------------ structure

    def obj(self) -> Mapping[str, object]:
        if not isinstance(self.value, dict):
            raise self.error("an object")
        return self.value

    def child(self, key: str, expected: str = "a value") -> Node:
        """The value at ``key``, which must be present (possibly null)."""
        data = self.obj()
        if key not in data:
            raise self.error(expected, describe(_MISSING), key=key)
        return Node(data[key], self.source, self._child_path(key))

    def get(self, key: str) -> Node | None:
        """The value at ``key``, or None when it is absent or null."""
        value = self.obj().get(key)
        if value is None:
            return None
        return Node(value, self.source, self._child_path(key))

    def items(self) -> Iterator[Node]:
        if not isinstance(self.value, list):
            raise self.error("a list")
        for index, value in enumerate(self.value):
            yield Node(value, self.source, f"{self.path}[{index}]")

    def req_list(self, key: str) -> Iterator[Node]:
        return self.child(key, "a list").items()

    def opt_list(self, key: str) -> Iterator[Node]:
        node = self.get(key)
        return node.items() if node is not None else iter(())

    # ------------------------------------------------------------------ scalars

    def string(self) -> str:
        if not isinstance(self.value, str):
            raise self.error("a string")
        return self.value

    def req_str(self, key: str) -> str:
        return self.child(key, "a string").string()

    def opt_str(self, key: str) -> str | None:
        node = self.get(key)
        return node.string() if node is not None else None

    def opt_int(self, key: str) -> int | None:
        node = self.get(key)
        if node is None:
            return None
        if isinstance(node.value, bool) or not isinstance(node.value, int):
            raise node.error("an integer")
        return node.value

    def opt_bool(self, key: str, default: bool = False) -> bool:
        node = self.get(key)
        if node is None:
            return default
        if not isinstance(node.value, bool):
            raise node.error("true or false")
        return node.value

    def opt_time(self, key: str) -> datetime | None:
        """An ISO-8601 time as the AWS CLI prints it (``2026-11-17T12:00:00+00:00``, ``…Z``)."""
        node = self.get(key)
        if node is None:
            return None
        return node.time()

    def time(self) -> datetime:
        text = self.string()
        try:
            value = datetime.fromisoformat(text.strip())
        except ValueError:
            raise self.error("an ISO-8601 time such as 2026-11-17T12:00:00+00:00") from None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def address(self) -> str:
        """A single IPv4 or IPv6 address, normalised (``2600:1F18::0010`` → ``2600:1f18::10``)."""
        text = self.string()
        try:
            return str(ipaddress.ip_address(text.strip()))
        except ValueError:
            raise self.error("an IP address") from None

    def network(self) -> str:
        """A CIDR block, normalised to its network address in compressed form."""
        text = self.string()
        try:
            return str(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise self.error("a CIDR block such as 10.0.0.0/16") from None

    def opt_address(self, key: str) -> str | None:
        node = self.get(key)
        return node.address() if node is not None else None

    def opt_network(self, key: str) -> str | None:
        node = self.get(key)
        return node.network() if node is not None else None

    def tags(self, key: str) -> tuple[tuple[str, str], ...]:
        """``[{"Key": …, "Value": …}]`` as sorted ``(key, value)`` pairs."""
        pairs = {item.req_str("Key"): item.opt_str("Value") or "" for item in self.opt_list(key)}
        return tuple(sorted(pairs.items()))
