"""``ztflows.toml``: the settings a team keeps beside its runs, read into :class:`Settings`.

The file is read with the standard library's TOML parser and checked key by key: an unknown
key, a value of the wrong type or out of range is a :class:`ConfigurationError` naming the
file, the key path (``suppressions[2].expires``), what was expected and what was found. What
the file may hold is declared once, in :data:`KEYS`; ``docs/configuration.md`` documents
every key (a test holds the two together).

Command-line options override the file: :func:`zt_flows.cli.common.build_settings` starts
from the settings read here.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from zt_flows.errors import ConfigurationError, Location, excerpt
from zt_flows.settings import (
    ExpectedPeer,
    RecommendSettings,
    ScopeSettings,
    Settings,
    Suppression,
    normalize_cidrs,
    parse_port_range,
)

# Looked for in the working directory when no --config is given.
FILE_NAME = "ztflows.toml"


@dataclass(frozen=True)
class Key:
    """One key the file may hold: its path (``[]`` for the items of an array of tables) and
    what it takes, in the words an error uses."""

    path: str
    expected: str


KEYS: tuple[Key, ...] = (
    Key("scope.accounts", "a list of 12-digit AWS account ids"),
    Key("scope.regions", "a list of AWS Region names"),
    Key("scope.vpcs", "a list of VPC ids (vpc-…)"),
    Key("scope.groups", "a list of security-group ids (sg-…) or group-name patterns"),
    Key("networks.onprem", "a list of CIDR blocks"),
    Key("networks.partners", "a list of CIDR blocks"),
    Key("networks.scanners", "a list of CIDR blocks"),
    Key("recommend.min_flows", "an integer of at least 1"),
    Key("recommend.min_days", "an integer of at least 1"),
    Key("recommend.port_range_density", "a share in (0, 1]"),
    Key("recommend.port_ranges", "a list of port ranges LOW-HIGH"),
    Key("expected_peers[].client", "a conversation side (sg-…, internet, aws:SERVICE, …, *)"),
    Key("expected_peers[].server", "a conversation side (sg-…, internet, aws:SERVICE, …, *)"),
    Key("expected_peers[].port", "a protocol and port like tcp/443, udp/53, icmp or protocol 47"),
    Key("expected_peers[].reason", "a string"),
    Key("suppressions[].code", "a finding code (ZT001…)"),
    Key("suppressions[].subject", "the subject of a finding (sg-…, sgr-…, eni-…, …)"),
    Key("suppressions[].reason", "a non-empty string"),
    Key("suppressions[].expires", "a date like 2027-01-31"),
)
_EXPECTED = {k.path: k.expected for k in KEYS}
_TABLES = ("scope", "networks", "recommend")
_ARRAYS = ("expected_peers", "suppressions")
_REQUIRED = {"expected_peers": ("client", "server"), "suppressions": ("code", "subject", "reason")}

_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_VPC = re.compile(r"^vpc-[0-9a-f]+$")
_GROUP_ID = re.compile(r"^sg-[0-9a-f]+$")
_PORT = re.compile(r"^(tcp|udp|sctp)/\d{1,5}$|^(icmp|icmpv6)$|^protocol \d{1,3}$")
_TOML_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")


def find_configuration(given: Path | None, *, cwd: Path | None = None) -> Path | None:
    """The file to read: ``given``, else ``ztflows.toml`` in ``cwd`` if there is one."""
    if given is not None:
        return given
    candidate = (cwd or Path.cwd()) / FILE_NAME
    return candidate if candidate.is_file() else None


def load_configuration(path: Path, base: Settings | None = None) -> Settings:
    """``base`` (the defaults) with what ``path`` sets; raises :class:`ConfigurationError`."""
    source = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigurationError(Location(source), "a configuration file", "no such file") from None
    except IsADirectoryError:
        raise ConfigurationError(Location(source), "a configuration file", "a folder") from None
    except UnicodeDecodeError:
        raise ConfigurationError(Location(source), "UTF-8 text", "other bytes") from None
    except OSError as exc:
        found = exc.strerror or type(exc).__name__
        raise ConfigurationError(Location(source), "a readable file", found) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        found = _TOML_WHERE.sub("", message).strip() or "invalid TOML"
        line = int(where.group(1)) if where else None
        if where:
            found += f" at column {where.group(2)}"
        raise ConfigurationError(Location(source, line=line), "valid TOML", found) from None
    return _Reader(source).settings(doc, base or Settings(), path)


class _Reader:
    """Checks one parsed document, naming the key path of whatever is wrong."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, found: str, expected: str | None = None) -> ConfigurationError:
        # suppressions[2].expires is suppressions[].expires; scope.vpcs[1] an item of scope.vpcs
        template = re.sub(r"\[\d+\]", "[]", re.sub(r"\[\d+\]$", "", key))
        return ConfigurationError(
            Location(self.source, path=key), expected or _EXPECTED.get(template, "?"), found
        )

    def unknown(self, where: str, key: str, known: tuple[str, ...]) -> ConfigurationError:
        close = difflib.get_close_matches(key, known, n=1)
        path = f"{where}.{key}" if where else key
        hint = f"did you mean {close[0]!r}?" if close else None
        names = ", ".join(known)
        return ConfigurationError(
            Location(self.source, path=path),
            f"one of the keys {names}",
            f"unknown key {excerpt(key)}",
            hint=hint,
        )

    def table(self, doc: Mapping[str, object], where: str) -> Mapping[str, object]:
        value = doc.get(where.rsplit(".", 1)[-1], {})
        if not isinstance(value, dict):
            raise self.fail(where, _kind(value), "a table")
        prefix = where + "."
        known = tuple(k.path[len(prefix) :] for k in KEYS if k.path.startswith(prefix))
        for key in value:
            if key not in known:
                raise self.unknown(where, key, known)
        return value

    def settings(self, doc: Mapping[str, object], base: Settings, path: Path) -> Settings:
        for key in doc:
            if key not in (*_TABLES, *_ARRAYS):
                raise self.unknown("", key, (*_TABLES, *_ARRAYS))
        scope = self.table(doc, "scope")
        networks = self.table(doc, "networks")
        recommend = self.table(doc, "recommend")
        groups = self.strings(scope, "scope.groups", _group)
        conversations = base.conversations
        if "onprem" in networks:
            cidrs = self.cidrs(networks, "networks.onprem")
            conversations = replace(conversations, onprem_cidrs=cidrs)
        if "partners" in networks:
            cidrs = self.cidrs(networks, "networks.partners")
            conversations = replace(conversations, partner_cidrs=cidrs)
        if "scanners" in networks:
            cidrs = self.cidrs(networks, "networks.scanners")
            conversations = replace(conversations, scanner_cidrs=cidrs)
        return replace(
            base,
            scope=ScopeSettings(
                accounts=self.strings(scope, "scope.accounts", _matching(_ACCOUNT)),
                regions=self.strings(scope, "scope.regions", _matching(_REGION)),
                vpc_ids=self.strings(scope, "scope.vpcs", _matching(_VPC)),
                group_ids=tuple(g for g in groups if _GROUP_ID.match(g)),
                group_names=tuple(g for g in groups if not _GROUP_ID.match(g)),
            ),
            conversations=conversations,
            recommend=self.recommend(recommend, base),
            expected_peers=tuple(
                self.expected(item, f"expected_peers[{i}]")
                for i, item in enumerate(self.array(doc, "expected_peers"))
            ),
            suppressions=tuple(
                self.suppression(item, f"suppressions[{i}]")
                for i, item in enumerate(self.array(doc, "suppressions"))
            ),
            config_file=path,
        )

    # ------------------------------------------------------------------ values

    def strings(
        self, table: Mapping[str, object], key: str, check: Callable[[str], bool]
    ) -> tuple[str, ...]:
        name = key.rsplit(".", 1)[-1]
        if name not in table:
            return ()
        value = table[name]
        if not isinstance(value, list):
            raise self.fail(key, _kind(value))
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not check(item):
                raise self.fail(f"{key}[{i}]", _found(item))
            out.append(item)
        return tuple(sorted(set(out)))

    def cidrs(self, table: Mapping[str, object], key: str) -> tuple[str, ...]:
        values = self.strings(table, key, _is_cidr)
        return normalize_cidrs(values)

    def integer(self, table: Mapping[str, object], key: str, low: int) -> int | None:
        value = table.get(key.rsplit(".", 1)[-1])
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.fail(key, _found(value))
        return value

    def recommend(self, table: Mapping[str, object], base: Settings) -> RecommendSettings:
        changes: dict[str, object] = {}
        for name in ("min_flows", "min_days"):
            value = self.integer(table, f"recommend.{name}", 1)
            if value is not None:
                changes[name] = value
        if "port_range_density" in table:
            density = table["port_range_density"]
            if (
                isinstance(density, bool)
                or not isinstance(density, int | float)
                or not 0 < density <= 1
            ):
                raise self.fail("recommend.port_range_density", _found(density))
            changes["port_range_density"] = float(density)
        if "port_ranges" in table:
            ranges = self.strings(table, "recommend.port_ranges", _is_port_range)
            changes["port_ranges"] = tuple(sorted({parse_port_range(r) for r in ranges}))
        return replace(base.recommend, **changes)  # type: ignore[arg-type]

    def array(self, doc: Mapping[str, object], key: str) -> list[Mapping[str, object]]:
        value = doc.get(key, [])
        if not isinstance(value, list):
            raise self.fail(key, _kind(value), f"an array of tables ([[{key}]])")
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.fail(f"{key}[{i}]", _kind(item), "a table")
            known = tuple(k.path[len(key) + 3 :] for k in KEYS if k.path.startswith(key + "[]."))
            for name in item:
                if name not in known:
                    raise self.unknown(f"{key}[{i}]", name, known)
            for name in _REQUIRED[key]:
                if name not in item:
                    raise self.fail(f"{key}[{i}].{name}", "nothing")
        return value

    def text(self, item: Mapping[str, object], key: str, *, required: bool) -> str | None:
        value = item.get(key.rsplit(".", 1)[-1])
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, _found(value))
        return value.strip()

    def expected(self, item: Mapping[str, object], where: str) -> ExpectedPeer:
        port = self.text(item, f"{where}.port", required=False)
        if port is not None and not _PORT.match(port):
            raise self.fail(f"{where}.port", _found(port))
        return ExpectedPeer(
            client=self.text(item, f"{where}.client", required=True) or "",
            server=self.text(item, f"{where}.server", required=True) or "",
            port=port,
            reason=self.text(item, f"{where}.reason", required=False) or "",
        )

    def suppression(self, item: Mapping[str, object], where: str) -> Suppression:
        from zt_flows.findings import REGISTRY

        code = self.text(item, f"{where}.code", required=True) or ""
        if code not in REGISTRY:
            raise self.fail(f"{where}.code", _found(code))
        expires = item.get("expires")
        if expires is not None:
            expires = self.date(expires, f"{where}.expires")
        return Suppression(
            code=code,
            subject=self.text(item, f"{where}.subject", required=True) or "",
            reason=self.text(item, f"{where}.reason", required=True) or "",
            expires=expires,
        )

    def date(self, value: object, key: str) -> date:
        # TOML has a date type (expires = 2027-01-31); a quoted ISO date is accepted too.
        if isinstance(value, datetime):
            raise self.fail(key, f"a date and time {value.isoformat()}")
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(key, _found(value))


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return _found(value)


def _found(value: object) -> str:
    """A value as found, named by its TOML type and a short excerpt."""
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {excerpt(value)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, datetime | date):
        return f"the date {value.isoformat()}"
    if isinstance(value, dict | list):
        return _kind(value)
    return "nothing" if value is None else type(value).__name__


def _matching(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda text: bool(pattern.match(text))


def _group(text: str) -> bool:
    # An id (sg-…) or a name pattern; AWS group names may not start with "sg-", so the two
    # never overlap: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSecurityGroup.html
    return bool(_GROUP_ID.match(text)) or (bool(text.strip()) and not text.startswith("sg-"))


def _is_cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return False
    return True  # a bare address is its /32 or /128, as with --onprem-cidr


def _is_port_range(text: str) -> bool:
    try:
        parse_port_range(text)
    except ValueError:
        return False
    return True


__all__ = [
    "FILE_NAME",
    "KEYS",
    "Key",
    "find_configuration",
    "load_configuration",
]
