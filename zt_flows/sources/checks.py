"""Checking the values of Parquet objects: one DuckDB scan, once per object.

A Parquet object's footer says its columns are integers or strings; it does not say a
port is below 65536, an address parses, or ``start`` is before ``end``. Those rules
(:mod:`zt_flows.sources.values`) are checked by one vectorised DuckDB query over every
object of a column set, grouped by file, before any view is created. An object's verdict
(rows, bad records, Transit Gateway records, the first bad record) is kept in the cache
keyed by the object's identity (S3 ETag, or local path, size and mtime): objects never
change, so a later run reads the verdict instead of scanning again.

Only the first bad record of an object is looked at in detail (a second, one-row query),
on the error path.

Rules the objects' own footers prove are left out of the scan: a Parquet footer keeps each
row group's minimum, maximum and null count per column, so an integer column whose every
row group lies within its range cannot break its range rule (on the 100M-record sample
the ten range rules were half of the scan). A row group without those statistics proves
nothing and its column is checked row by row. The verdicts are the same either way: a rule
no row can break changes no row's first broken rule.
"""

from __future__ import annotations

import json
from collections.abc import Set
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import duckdb

from zt_flows.errors import FlowLogFormatError, Location, excerpt
from zt_flows.schema import FIELD_BY_NAME
from zt_flows.sources.cache import cache_entry
from zt_flows.sources.parquet import ParquetColumns
from zt_flows.sources.sql import identifier, integer, string_list, string_literal
from zt_flows.sources.values import (
    ADDRESS_EXPECTED,
    ADDRESS_FIELDS,
    ADDRESS_PATTERN,
    NUL_CHECKED,
    NUL_EXPECTED,
    TRANSIT_GATEWAY_ACCOUNT,
    value_check,
)

# Bump when the rules change: older verdicts are then ignored.
CHECKS_VERSION = "1"

SCAN_SQL = """
SELECT filename,
       count(*) AS records,
       count(*) FILTER (WHERE problem > 0) AS bad,
       count(*) FILTER (WHERE problem = 0) AS transit_gateway,
       min(file_row_number) FILTER (WHERE problem > 0) AS first_row
FROM (
    SELECT filename, file_row_number, {problem} AS problem
    FROM read_parquet({files}, filename = true, file_row_number = true,
                      hive_partitioning = false, union_by_name = false, binary_as_string = true)
)
GROUP BY filename
"""
ROW_SQL = """
SELECT {problem} AS problem, {values}
FROM read_parquet({file}, file_row_number = true, hive_partitioning = false,
                  binary_as_string = true)
WHERE file_row_number = {row}
"""


@dataclass(frozen=True)
class Rule:
    """One value rule for a column set: a SQL condition on the physical columns."""

    condition: str
    column: str  # the field (hyphenated) a message names
    expected: str
    kind: str  # how to render what was found: value, start_end, missing, nul
    address: bool = False  # a pattern match, checked on distinct values first
    # An integer range rule: the physical column and the largest valid value (the
    # smallest is 0), which footer statistics can prove.
    physical: str | None = None
    maximum: int | None = None


# The distinct values of the address columns that are no address: a pattern match costs
# far more than collecting distinct values, and a log repeats its addresses, so every
# distinct value is matched once instead of every row. Only when one fails are the rows
# scanned with the patterns, to count and locate the bad records.
BAD_ADDRESSES_SQL = """
SELECT address FROM (
    SELECT unnest(list_concat({lists})) AS address
    FROM read_parquet({files}, hive_partitioning = false, union_by_name = false,
                      binary_as_string = true)
) WHERE NOT regexp_full_match(address, {pattern})
LIMIT 1
"""


@dataclass(frozen=True)
class Verdict:
    """What the value checks found in one Parquet object."""

    records: int
    bad: int
    transit_gateway: int
    first_row: int | None = None  # 0-based row of the first bad record
    column: str | None = None
    expected: str | None = None
    found: str | None = None

    @property
    def kept(self) -> int:
        return self.records - self.bad - self.transit_gateway

    def error(self, uri: str) -> FlowLogFormatError:
        assert self.first_row is not None
        more = f" (and {self.bad - 1:,} more bad records)" if self.bad > 1 else ""
        return FlowLogFormatError(
            Location(uri, column=self.column, row=self.first_row + 1),
            self.expected or "valid values",
            (self.found or "an invalid value") + more,
            hint="--on-error skip leaves bad records out and counts them",
        )


def rules_for(columns: ParquetColumns) -> tuple[Rule, ...]:
    """The value rules that apply to an object with these columns, in order of precedence."""
    physical = dict(columns.columns)
    integer_types = dict(columns.integer_types)
    rules: list[Rule] = []

    def col(name: str) -> str:
        return identifier(physical[name])

    for name, _ in columns.columns:
        field = FIELD_BY_NAME[name]
        check = value_check(field)
        if check is None:
            continue
        maximum, expected = check
        bound = f"{col(name)} > {integer(maximum)}"
        unsigned = integer_types.get(name, "").startswith("uint")
        negative = "false" if unsigned else f"{col(name)} < 0"
        rules.append(
            Rule(
                f"({negative} OR {bound})",
                field.text_name,
                expected,
                "value",
                physical=physical[name],
                maximum=maximum,
            )
        )
    if "start" in physical and "end" in physical:
        rules.append(
            Rule(
                f"{col('start')} > {col('end')}",
                "start",
                "a start no later than the end",
                "start_end",
            )
        )
    for name in sorted(ADDRESS_FIELDS & physical.keys()):
        pattern = string_literal(ADDRESS_PATTERN)
        rules.append(
            Rule(
                f"NOT regexp_full_match({col(name)}, {pattern})",
                FIELD_BY_NAME[name].text_name,
                ADDRESS_EXPECTED,
                "value",
                address=True,
            )
        )
    for name, _ in columns.columns:
        if name in NUL_CHECKED:
            rules.append(
                Rule(
                    f"contains({col(name)}, chr(0))",
                    FIELD_BY_NAME[name].text_name,
                    NUL_EXPECTED,
                    "nul",
                )
            )
    is_flow = (
        f"({col('log_status')} IS NULL OR {col('log_status')} = 'OK')"
        if "log_status" in physical
        else "true"
    )
    for name in ("srcaddr", "dstaddr"):
        missing = f"{col(name)} IS NULL" if name in physical else "true"
        rules.append(
            Rule(f"({is_flow} AND {missing})", name, "an address (the record is a flow)", "missing")
        )
    return tuple(rules)


def problem_sql(
    columns: ParquetColumns, rules: tuple[Rule, ...], *, proven: Set[int] = frozenset()
) -> str:
    """A CASE giving 0 for a Transit Gateway record, i for the first rule broken, else NULL
    (``proven``: the indexes of rules known to hold, left out)."""
    physical = dict(columns.columns)
    whens = []
    if "account_id" in physical:
        account = identifier(physical["account_id"])
        whens.append(f"WHEN {account} = {string_literal(TRANSIT_GATEWAY_ACCOUNT)} THEN 0")
    # Never empty: the two rules on flows without addresses are no range or pattern rule,
    # so nothing proves them away.
    whens += [
        f"WHEN {rule.condition} THEN {i + 1}" for i, rule in enumerate(rules) if i not in proven
    ]
    return "CASE " + " ".join(whens) + " END"


# Per physical column over every row group of the objects: the smallest minimum, the
# largest maximum, and whether a row group holds values without both statistics or with a
# minimum above its maximum (then the column proves nothing). Read from the footers only.
COLUMN_STATS_SQL = """
SELECT
    path_in_schema,
    min(TRY_CAST(stats_min_value AS HUGEINT)) AS low,
    max(TRY_CAST(stats_max_value AS HUGEINT)) AS high,
    bool_or(
        num_values > coalesce(stats_null_count, 0)
        AND (TRY_CAST(stats_min_value AS HUGEINT) IS NULL
             OR TRY_CAST(stats_max_value AS HUGEINT) IS NULL)
        -- A writer that ordered unsigned values as signed: the statistics say nothing.
        OR TRY_CAST(stats_min_value AS HUGEINT) > TRY_CAST(stats_max_value AS HUGEINT)
    ) AS unknown
FROM parquet_metadata({files})
WHERE list_contains($columns, path_in_schema)
GROUP BY path_in_schema
"""


def proven_rules(
    con: duckdb.DuckDBPyConnection, rules: tuple[Rule, ...], files: list[Path]
) -> frozenset[int]:
    """The indexes of the range rules that the footers of ``files`` prove hold for every
    row: each row group's statistics lie within the range (NULLs break no range rule)."""
    ranged = {
        i: (rule.physical, rule.maximum)
        for i, rule in enumerate(rules)
        if rule.physical is not None and rule.maximum is not None
    }
    if not ranged or not files:
        return frozenset()
    names = sorted({column for column, _ in ranged.values()})
    sql = COLUMN_STATS_SQL.format(files=string_list(files))
    stats = {
        str(name): (low, high, unknown)
        for name, low, high, unknown in con.execute(sql, {"columns": names}).fetchall()
    }
    proven = set()
    for i, (column, maximum) in ranged.items():
        found = stats.get(column)
        if found is None:
            continue  # no row group names the column: prove nothing, scan it
        low, high, unknown = found
        if unknown:
            continue
        if (low is None or int(low) >= 0) and (high is None or int(high) <= maximum):
            proven.add(i)
    return frozenset(proven)


def _addresses_hold(
    con: duckdb.DuckDBPyConnection, columns: ParquetColumns, files: list[Path]
) -> bool:
    """Whether every value of every address column is an address (distinct values only)."""
    names = [physical for name, physical in columns.columns if name in ADDRESS_FIELDS]
    if not names:
        return True
    lists = ", ".join(f"list(DISTINCT {identifier(n)})" for n in names)
    sql = BAD_ADDRESSES_SQL.format(
        lists=lists, files=string_list(files), pattern=string_literal(ADDRESS_PATTERN)
    )
    return not con.execute(sql).fetchall()


def keep_condition(columns: ParquetColumns) -> str:
    """The SQL condition that keeps only the records that pass every rule."""
    return f"({problem_sql(columns, rules_for(columns))}) IS NULL"


def check_values(
    con: duckdb.DuckDBPyConnection, columns: ParquetColumns, files: list[Path]
) -> dict[str, Verdict]:
    """The verdict of every file (by path) of one column set: one scan of them all."""
    rules = rules_for(columns)
    proven = set(proven_rules(con, rules, files))
    if _addresses_hold(con, columns, files):
        proven |= {i for i, rule in enumerate(rules) if rule.address}
    problem = problem_sql(columns, rules, proven=proven)
    sql = SCAN_SQL.format(problem=problem, files=string_list(files))
    rows = con.execute(sql).fetchall()
    verdicts: dict[str, Verdict] = {}
    for filename, records, bad, tgw, first_row in rows:
        verdict = Verdict(int(records), int(bad), int(tgw))
        if bad:
            detail = _first_bad(con, columns, rules, problem, Path(filename), int(first_row))
            verdict = replace(
                detail,
                records=verdict.records,
                bad=verdict.bad,
                transit_gateway=verdict.transit_gateway,
            )
        verdicts[str(filename)] = verdict
    for path in files:
        verdicts.setdefault(str(path), Verdict(0, 0, 0))  # no rows at all
    return verdicts


def _first_bad(
    con: duckdb.DuckDBPyConnection,
    columns: ParquetColumns,
    rules: tuple[Rule, ...],
    problem: str,
    path: Path,
    row: int,
) -> Verdict:
    names = [name for name, _ in columns.columns]
    values = ", ".join(
        f"CAST({identifier(physical)} AS VARCHAR) AS {identifier(name)}"
        for name, physical in columns.columns
    )
    sql = ROW_SQL.format(
        problem=problem, values=values, file=string_literal(path), row=integer(row)
    )
    fetched = con.execute(sql).fetchall()
    if not fetched:
        return Verdict(0, 0, 0, row, None, "valid values", "an invalid value")
    index, *raw = fetched[0]
    record = dict(zip(names, raw, strict=True))
    rule = rules[int(index) - 1]
    name = rule.column.replace("-", "_")
    if rule.kind == "start_end":
        found = f"start {record['start']} after end {record['end']}"
    elif rule.kind == "missing":
        found = "no value" if name in record else f"no {name} column in the object"
    elif rule.kind == "nul":
        found = "a NUL byte in the value"
    else:
        found = excerpt(record.get(name))
    return Verdict(0, 0, 0, row, rule.column, rule.expected, found)


# --------------------------------------------------------------------------- the cache


def load_verdict(path: Path) -> Verdict | None:
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.pop("checks", None) != CHECKS_VERSION:
        return None
    try:
        return Verdict(**doc)
    except TypeError:
        return None


def save_verdict(path: Path, verdict: Verdict) -> None:
    doc = {"checks": CHECKS_VERSION, **asdict(verdict)}
    with cache_entry(path) as tmp:
        tmp.write_text(json.dumps(doc, sort_keys=True), "utf-8")
