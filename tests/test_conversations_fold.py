"""Internet peers folded into classes: exact for every rule, bounded in size."""

from __future__ import annotations

import ipaddress
import itertools
import json
import random
from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
import pytest
from conftest import SAMPLE_DATA

from zt_flows.conversations.classes import CLASS_PREFIX, boundaries, segments, unfoldable
from zt_flows.conversations.queries import run_script
from zt_flows.engine import connect_engine
from zt_flows.inventory import load_inventory
from zt_flows.pipeline import analyze, write_analysis
from zt_flows.settings import Settings


def _settings(tmp: Path, threshold: int | None) -> Settings:
    base = Settings()
    return replace(
        base,
        conversations=replace(base.conversations, fold_threshold=threshold),
        sources=replace(base.sources, cache_dir=tmp / "cache", progress=False),
    )


def _run(tmp: Path, threshold: int | None) -> tuple[Path, pl.DataFrame]:
    settings = _settings(tmp, threshold)
    con = connect_engine(settings.engine)
    try:
        result = analyze(
            SAMPLE_DATA / "flowlogs",
            settings,
            con,
            inventory=load_inventory(SAMPLE_DATA / "inventory"),
        )
        out = tmp / "out"
        write_analysis(result, con, out)
        return out, result.observation.conversations.edges
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, pl.DataFrame]]:
    """The sample analysed as it is (no class reaches the threshold) and with every
    internet peer folded (threshold 0)."""
    return {
        "identity": _run(tmp_path_factory.mktemp("identity"), None),
        "folded": _run(tmp_path_factory.mktemp("folded"), 0),
    }


def _rules(path: Path) -> set[tuple[object, ...]]:
    plan = json.loads((path / "plan.json").read_text())
    return {
        (
            g["group_id"],
            r["direction"],
            r["action"],
            r["protocol"],
            r["from_port"],
            r["to_port"],
            json.dumps(r["peer"], sort_keys=True),
            r.get("existing_rule_id"),
            r.get("kept_for"),
        )
        for g in plan["security_groups"]
        for r in g["rules"]
    }


def test_folding_changes_no_rule_and_no_verdict(runs: dict[str, tuple[Path, pl.DataFrame]]) -> None:
    (plain, _), (folded, _) = runs["identity"], runs["folded"]
    assert _rules(plain) == _rules(folded)
    one, two = (json.loads((p / "plan.json").read_text()) for p in (plain, folded))
    assert two["verification"]["blocked"] == 0
    assert two["verification"]["records"] == one["verification"]["records"]
    # Probes on SSH keep their identity: the recommender judges each client.
    assert one["intentionally_blocked"] == two["intentionally_blocked"]
    assert one["probed"] == two["probed"]
    assert one["exposure"] == two["exposure"]


def test_default_threshold_leaves_the_sample_untouched(
    runs: dict[str, tuple[Path, pl.DataFrame]], tmp_path: Path
) -> None:
    plain, _ = runs["identity"]
    default, _ = _run(tmp_path, Settings().conversations.fold_threshold)
    for name in ("edges.parquet", "plan.json", "findings.json", "report.md", "summary.json"):
        assert (plain / name).read_bytes() == (default / name).read_bytes(), name


def test_folded_edges_are_classes_of_members(runs: dict[str, tuple[Path, pl.DataFrame]]) -> None:
    _, plain = runs["identity"]
    _, folded = runs["folded"]
    classes = folded.filter(pl.col("client_id").str.starts_with(CLASS_PREFIX))
    assert classes.height > 0
    assert (classes["client_kind"] == "internet").all()
    for class_id, addrs in classes.select("client_id", "client_addrs").iter_rows():
        block = ipaddress.ip_network(class_id.removeprefix(CLASS_PREFIX))
        for address in addrs:
            assert ipaddress.ip_address(address) in block
    # The users of the ALB on 443 become one edge per day, ALB node and family.
    users = folded.filter(pl.col("server_port") == 443, pl.col("client_kind") == "internet")
    assert set(users["client_id"]) == {"internet:0.0.0.0/0", "internet:::/0"}
    # Every flow is still there, per server, port and day.
    key = ["day", "server_id", "protocol", "server_port"]

    def totals(edges: pl.DataFrame) -> pl.DataFrame:
        return (
            edges.filter(pl.col("client_kind") == "internet")
            .group_by(key)
            .agg(pl.col("flows").sum(), pl.col("bytes").sum(), pl.col("accepted").sum())
            .sort(key)
        )

    assert totals(plain).equals(totals(folded))
    assert folded.height < plain.height / 2
    # Accepted SSH from the internet keeps every client's address.
    ssh = folded.filter(pl.col("server_port") == 22, pl.col("accepted") > 0)
    assert not ssh["client_id"].str.starts_with(CLASS_PREFIX).any()


def test_segments_class_by_innermost_block() -> None:
    found = segments(
        ["0.0.0.0/0", "203.0.113.0/24", "203.0.113.128/25", "::/0"],
        ["10.0.0.0/8", "203.0.113.7/32"],
    )

    def at(text: str) -> tuple[bool, str] | None:
        value = int(ipaddress.ip_address(text))
        version = ipaddress.ip_address(text).version
        for s in found:
            if s.version == version and s.first <= value <= s.last:
                return s.foldable, s.class_id
        return None

    assert at("8.8.8.8") == (True, "internet:0.0.0.0/0")
    assert at("10.1.2.3") == (False, "internet:0.0.0.0/0")
    assert at("203.0.113.5") == (True, "internet:203.0.113.0/24")
    assert at("203.0.113.7") == (False, "internet:203.0.113.0/24")
    assert at("203.0.113.200") == (True, "internet:203.0.113.128/25")
    assert at("2001:db8::1") == (True, "internet:::/0")
    # Pieces that agree are merged: around 10/8 and the /24, a handful of segments.
    assert len(found) <= 10
    # They tile each family without gaps or overlaps.
    for version, top in ((4, 2**32 - 1), (6, 2**128 - 1)):
        pieces = sorted((s.first, s.last) for s in found if s.version == version)
        assert pieces[0][0] == 0
        assert pieces[-1][1] == top
        assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(pieces))


def test_address_macros_agree_with_python() -> None:
    con = duckdb.connect()
    run_script(con, "macros.sql")
    rng = random.Random(14)
    texts = ["::", "::1", "1::", "2001:db8::1", "1:2:3:4:5:6:7:8", "0.0.0.0", "255.255.255.255"]
    texts += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(200)]
    for _ in range(200):
        value = rng.getrandbits(128)
        if rng.random() < 0.5:
            value &= ~((1 << 64) - 1)  # runs of zero groups, written with '::'
        texts.append(str(ipaddress.IPv6Address(value)))
    rows = con.execute(
        "SELECT t, zt_ip_family(t), CAST(zt_ip_value(t) AS VARCHAR) FROM unnest(?) AS u(t)",
        [texts],
    ).fetchall()
    for text, family, value in rows:
        address = ipaddress.ip_address(text)
        assert (family, int(value)) == (address.version, int(address)), text
    bad = con.execute(
        "SELECT zt_ip_value('::ffff:1.2.3.4'), zt_ip_value('1.2.3'), zt_ip_value('x')"
    ).fetchall()
    assert bad == [(None, None, None)]


def test_a_checked_plans_ranges_are_boundaries_of_the_classes() -> None:
    inventory = load_inventory(SAMPLE_DATA / "inventory")
    plain = boundaries(inventory)
    with_plan = boundaries(inventory, ["198.51.100.0/24"])
    assert "198.51.100.0/24" not in plain
    assert "198.51.100.0/24" in with_plan
    # Today's rule ranges are boundaries; the VPC is not foldable at all.
    assert "0.0.0.0/0" in plain
    assert "10.0.0.0/16" in unfoldable(inventory, (), ())
