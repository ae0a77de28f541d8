"""The conversations stage's SQL, case by case, from fixtures a reader can scan.

Each file in ``tests/fixtures/sql/`` holds cases in the style of sqlglot's fixtures:
literal flow-log lines in (a text flow log, header first, as AWS writes one), the edges
the stage must find out. A case::

    # case: what it shows
    -- enis
    name address [group ...] [role=nat_gateway] [public=3.80.0.5]
    -- records
    version account-id interface-id srcaddr dstaddr ... log-status
    5 123456789012 eni-a 10.0.1.10 10.0.2.20 ... OK
    -- edges
    client server protocol server_port ...
    eni-a eni-b 6 5432 ...

An ENI ``name`` is ``eni-<name>`` in the VPC of support.flowlogs (10.0.0.0/16). The edges
section names the columns it checks (any of EDGE_SCHEMA's; ``client`` and ``server`` are
the ids); ``-`` is null. Each case runs through the real stage: the lines are written to
a file, read by read_flow_logs and turned into edges by build_conversations, against a
snapshot folder written from the ENIs. Times in the fixtures: 1794787200 is
2026-11-16T00:00:00Z.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from support.flowlogs import VPC, write_snapshot
from support.inventory import eni

from zt_flows.conversations import EDGE_SCHEMA, build_conversations
from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.inventory.model import InterfaceRole
from zt_flows.settings import Settings, SourceSettings
from zt_flows.sources import read_flow_logs

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "sql"
ALIASES = {"client": "client_id", "server": "server_id"}


@dataclass(frozen=True)
class Case:
    file: str
    title: str
    enis: tuple[str, ...]
    records: tuple[str, ...]
    edges: tuple[str, ...]

    @property
    def id(self) -> str:
        return f"{self.file}: {self.title}"


def read_cases(path: Path) -> list[Case]:
    """The cases of one fixture file (lines outside a case are comments)."""
    cases: list[Case] = []
    title: str | None = None
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None

    def close() -> None:
        if title is not None:
            cases.append(
                Case(
                    path.name,
                    title,
                    tuple(sections.get("enis", ())),
                    tuple(sections["records"]),
                    tuple(sections["edges"]),
                )
            )

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("# case:"):
            close()
            title, sections, current = line.removeprefix("# case:").strip(), {}, None
        elif line.startswith("-- ") and title is not None:
            current = sections.setdefault(line.removeprefix("-- ").strip(), [])
        elif line and not line.startswith("#") and current is not None:
            current.append(line)
    close()
    return cases


CASES = [case for path in sorted(FIXTURES.glob("*.txt")) for case in read_cases(path)]


def _interface(spec: str) -> object:
    name, address, *rest = spec.split()
    options = dict(item.split("=", 1) for item in rest if "=" in item)
    groups = tuple(item for item in rest if "=" not in item)
    role = InterfaceRole(options.get("role", "instance"))
    more: dict[str, object] = {}
    if role is InterfaceRole.NAT_GATEWAY:
        more = {"interface_type": "nat_gateway", "description": f"Interface for NAT Gateway {name}"}
    return eni(
        name,
        address,
        groups,
        vpc=VPC,
        role=role,
        public=tuple(options["public"].split(",")) if "public" in options else (),
        attached=None,
        **more,  # type: ignore[arg-type]
    )


def _value(text: str, column: str) -> object:
    if text == "-":
        return None
    kind = str(EDGE_SCHEMA.field(ALIASES.get(column, column)).type)
    if kind.startswith("int"):
        return int(text)
    if kind.startswith("date"):
        return date.fromisoformat(text)
    return text


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_stage_finds_the_expected_edges(case: Case, tmp_path: Path) -> None:
    inventory = write_snapshot(
        tmp_path / "inventory" / "2026-11-16T00-00-00Z",
        [_interface(spec) for spec in case.enis],  # type: ignore[misc]
        "2026-11-16T00:00:00Z",
    )
    logs = tmp_path / "flows.log"
    logs.write_text("\n".join(case.records) + "\n", encoding="utf-8")
    settings = Settings(sources=SourceSettings(cache_dir=tmp_path / "cache", progress=False))
    con = connect_engine(settings.engine)
    try:
        flows = read_flow_logs(logs, settings, con)
        edges = build_conversations(
            flows, load_inventory(inventory), settings.conversations, con
        ).edges
    finally:
        con.close()
    header, *rows = case.edges
    columns = header.split()
    expected = sorted(
        tuple(_value(text, column) for text, column in zip(row.split(), columns, strict=True))
        for row in rows
    )
    found = sorted(
        tuple(r[ALIASES.get(c, c)] for c in columns) for r in edges.iter_rows(named=True)
    )
    assert found == expected


def test_every_fixture_file_holds_cases() -> None:
    files = sorted(FIXTURES.glob("*.txt"))
    assert files
    for path in files:
        cases = read_cases(path)
        assert cases, path.name
        for case in cases:
            assert case.records[0].startswith("version"), case.id
            assert case.edges, case.id
