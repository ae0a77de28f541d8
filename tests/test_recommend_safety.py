"""Safe to apply: each open population keeps its range, on hand-built estates.

Every estate is an inventory and flow logs written by the test as AWS delivers them
(Parquet, Hive layout), run through the whole pipeline (records -> conversations ->
rules -> plan, replayed against the records). For each class of peers the tests assert
that a *new* peer of the population, one the logs never saw, is still allowed by the
plan, and that the replay against the records rejects a deliberately wrong plan.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from support.estate import allows, analyze_estate, final, rejected_by_replay, side, without
from support.flowlogs import DAY1, HOUR, Records
from support.inventory import (
    ACCOUNT,
    eni,
    flow_log,
    inventory,
    peering,
    prefix_list,
    rule,
    security_group,
)

from zt_flows.inventory.model import InterfaceRole, NetworkInterface
from zt_flows.recommend import plan_findings
from zt_flows.rules import EdgeSide
from zt_flows.terraform import render_terraform


def at(day: int = 0, hour: int = 0, minute: int = 0) -> int:
    return DAY1 + day * 86400 + hour * HOUR + minute * 60


def out_rule(group: str) -> object:
    return rule(group, "egress", "-1", None, "0.0.0.0/0", rule_id=f"{group[3:]}-out")


def internet_clients(records: Records, server: NetworkInterface, port: int, count: int) -> None:
    for i in range(count):
        records.connection(
            (None, f"198.18.{i // 200}.{i % 200 + 1}"),
            (server.id, server.private_ipv4s[0]),
            40000 + i,
            port,
            start=at(i % 3, 1 + i % 20),
            intervals=2,
        )


# --------------------------------------------------------------------------- listeners


WEB = eni("web", "10.0.1.10", ["sg-web"], public=["3.3.3.10"])


def test_public_instance_keeps_the_internet_on_the_ports_it_serves(tmp_path: Path) -> None:
    inv = inventory(
        [WEB],
        groups=["sg-web"],
        rules=[rule("sg-web", "ingress", "-1", None, "0.0.0.0/0", rule_id="all-in")],
    )
    records = Records()
    internet_clients(records, WEB, 443, 30)
    result = analyze_estate(tmp_path, inv, records)
    plan = result.plan
    assert final(plan, "sg-web") == {
        ("ingress", "tcp", 443, 443, "0.0.0.0/0", "open_population"),
        # Path MTU Discovery from any router on the internet path.
        ("ingress", "icmp", 3, 4, "0.0.0.0/0", "open_population"),
    }
    newcomer = side("203.0.113.77")
    assert allows(plan, inv, newcomer, side(WEB), 443)
    assert not allows(plan, inv, newcomer, side(WEB), 22)  # the ports narrowed
    assert allows(plan, inv, newcomer, side(WEB), 0, protocol=1)  # ICMP errors still in
    assert plan.verification.basis == "records"
    assert plan.kept_counts()["open_population"] == 2
    assert rejected_by_replay(result, without(plan, lambda r: r.ip_protocol == "tcp"))


def test_target_of_an_nlb_with_client_addresses_keeps_the_internet(tmp_path: Path) -> None:
    # The target has no public address: an NLB with client IP preservation hands it the
    # internet clients' own addresses.
    app = eni("app", "10.0.2.20", ["sg-app"])
    inv = inventory(
        [app],
        groups=["sg-app"],
        rules=[rule("sg-app", "ingress", "tcp", (8000, 9000), "0.0.0.0/0", rule_id="app-in")],
    )
    records = Records()
    internet_clients(records, app, 8080, 12)
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-app") == {
        ("ingress", "tcp", 8080, 8080, "0.0.0.0/0", "open_population"),
    }
    assert allows(result.plan, inv, side("192.0.2.200"), side(app), 8080)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.direction == "ingress"))


def test_dual_stack_listener_keeps_both_families(tmp_path: Path) -> None:
    alb = eni(
        "alb",
        "10.0.0.10",
        ["sg-alb"],
        role=InterfaceRole.LOAD_BALANCER,
        public=["3.3.3.3"],
        ipv6=["2600:1f18:1:2300::10"],
    )
    inv = inventory(
        [alb],
        groups=["sg-alb"],
        rules=[
            rule("sg-alb", "ingress", "tcp", 443, "0.0.0.0/0", rule_id="v4-443"),
            rule("sg-alb", "ingress", "tcp", 443, "::/0", rule_id="v6-443"),
            rule("sg-alb", "ingress", "tcp", 80, "0.0.0.0/0", rule_id="v4-80"),
        ],
        vpcs=[("vpc-a", "10.0.0.0/16", "2600:1f18:1:2300::/56")],
    )
    records = Records()
    internet_clients(records, alb, 443, 10)  # IPv4 clients only in the window
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-alb") == {
        ("ingress", "tcp", 443, 443, "0.0.0.0/0", "open_population"),
        ("ingress", "tcp", 443, 443, "::/0", "open_population"),  # same listener, IPv6
    }
    v6_client = EdgeSide("internet", "2001:db8::77", None, None, (), ("2001:db8::77",))
    v6_server = replace(side(alb), addrs=("2600:1f18:1:2300::10",))
    assert allows(result.plan, inv, v6_client, v6_server, 443)
    assert not allows(result.plan, inv, side("198.51.100.1"), side(alb), 80)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.peer.value == "0.0.0.0/0"))


# --------------------------------------------------------------------------- destinations


def test_internet_destinations_keep_the_internet_on_the_ports_used(tmp_path: Path) -> None:
    app = eni("app", "10.0.10.5", ["sg-app"])
    inv = inventory([app], groups=["sg-app"], rules=[out_rule("sg-app")])
    records = Records()
    for i, saas in enumerate(("198.18.5.5", "198.18.9.1", "203.0.113.40")):
        records.connection((app.id, "10.0.10.5"), (None, saas), 50000 + i, 443, start=at(0, i))
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-app") == {
        ("egress", "tcp", 443, 443, "0.0.0.0/0", "open_population"),
    }
    # A SaaS API that moves tomorrow is still reachable; other ports are not.
    assert allows(result.plan, inv, side(app), side("192.0.2.44"), 443)
    assert not allows(result.plan, inv, side(app), side("192.0.2.44"), 8443)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.direction == "egress"))


def test_aws_services_use_their_list_or_keep_the_range(tmp_path: Path) -> None:
    job = eni("job", "10.0.12.5", ["sg-job"])
    s3 = prefix_list("pl-s3", "com.amazonaws.us-east-1.s3", ["52.216.0.0/15"])
    inv = inventory([job], groups=["sg-job"], rules=[out_rule("sg-job")], prefix_lists=[s3])
    records = Records()
    records.connection((job.id, "10.0.12.5"), (None, "52.216.8.29"), 50001, 443, start=at())
    # SQS has no prefix list (flow logs name it AMAZON).
    records.record(job.id, "10.0.12.5", "3.5.140.2", 50002, 443, start=at(0, 1), flags=2,
                   direction="egress", dst_service="AMAZON")  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    plan = result.plan
    assert final(plan, "sg-job") == {
        ("egress", "tcp", 443, 443, "0.0.0.0/0", "open_population"),
    }  # the S3 list lies inside it: one rule
    assert allows(plan, inv, side(job), side("52.217.1.1", kind="aws_service"), 443)
    codes = {f.code for f in plan_findings(plan)}
    assert "ZT024" in codes  # an endpoint would let the rule name the service
    # S3 alone: the list, and a new S3 address in it is reachable.
    only_s3 = Records()
    only_s3.connection((job.id, "10.0.12.5"), (None, "52.216.8.29"), 50001, 443, start=at())
    result = analyze_estate(tmp_path / "s3", inv, only_s3)
    assert final(result.plan, "sg-job") == {("egress", "tcp", 443, 443, "pl-s3", None)}
    assert allows(result.plan, inv, side(job), side("52.217.200.1", kind="aws_service"), 443)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.peer.value == "pl-s3"))


def test_path_mtu_discovery_stays_from_the_existing_peer(tmp_path: Path) -> None:
    v6 = eni("web6", "10.0.1.11", ["sg-web6"], public=["3.3.3.11"], ipv6=["2600:1f18:1:2300::11"])
    inv = inventory(
        [v6],
        groups=["sg-web6"],
        rules=[
            rule("sg-web6", "ingress", "tcp", 443, "0.0.0.0/0", rule_id="https"),
            rule("sg-web6", "ingress", "icmp", None, "0.0.0.0/0", rule_id="icmp-all"),
            rule("sg-web6", "ingress", "icmpv6", None, "::/0", rule_id="icmp6-all"),
        ],
        vpcs=[("vpc-a", "10.0.0.0/16", "2600:1f18:1:2300::/56")],
    )
    records = Records()
    internet_clients(records, v6, 443, 5)
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-web6") == {
        ("ingress", "tcp", 443, 443, "0.0.0.0/0", "open_population"),
        ("ingress", "icmp", 3, 4, "0.0.0.0/0", "open_population"),
        ("ingress", "icmpv6", 2, 0, "::/0", "open_population"),
    }
    pmtud = next(r for r in result.plan.group("sg-web6").rules if r.ip_protocol == "icmp")
    assert "Path MTU Discovery" in pmtud.reason
    assert pmtud.replaces == ("icmp-all",)
    # A router's "packet too big" from anywhere on the path is still admitted (flow logs
    # cannot show these: ICMP records carry no type, and none was in the window).
    router = EdgeSide("internet", "2001:db8:ffff::1", None, None, (), ("2001:db8:ffff::1",))
    v6_side = replace(side(v6), addrs=("2600:1f18:1:2300::11",))
    assert allows(result.plan, inv, router, v6_side, 0, protocol=58)
    assert allows(result.plan, inv, side("192.0.2.254"), side(v6), 0, protocol=1)


# --------------------------------------------------------------------------- named ranges


def test_customer_prefix_list_is_never_replaced_by_its_members(tmp_path: Path) -> None:
    app = eni("app", "10.0.3.3", ["sg-app"])
    vpn = prefix_list("pl-vpn", "vpn-pool", ["172.20.0.0/16"], aws=False)
    inv = inventory(
        [app],
        groups=["sg-app"],
        rules=[rule("sg-app", "ingress", "tcp", (22, 443), "pl-vpn", rule_id="from-vpn")],
        prefix_lists=[replace(vpn, max_entries=20)],
    )
    records = Records()
    for i, client in enumerate(("172.20.5.9", "172.20.7.1")):
        records.connection((None, client), (app.id, "10.0.3.3"), 50000 + i, 22, start=at(0, i),
                           intervals=20)  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-app") == {
        ("ingress", "tcp", 22, 22, "pl-vpn", "open_population"),
    }
    assert allows(result.plan, inv, side("172.20.99.9", kind="private_other"), side(app), 22)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.peer.value == "pl-vpn"))


def test_peered_vpc_without_inventory_narrows_to_its_network(tmp_path: Path) -> None:
    db = eni("db", "10.0.20.5", ["sg-db"])
    pcx = replace(peering("vpc-a", "vpc-far"), accepter_cidrs=("10.50.0.0/16",))
    inv = inventory(
        [db],
        groups=["sg-db"],
        rules=[rule("sg-db", "ingress", "tcp", 5432, "10.0.0.0/8", rule_id="db-in")],
        peerings=[pcx],
    )
    records = Records()
    for i, client in enumerate(("10.50.1.4", "10.50.9.9")):
        records.connection((None, client), (db.id, "10.0.20.5"), 50000 + i, 5432, start=at(0, i))
    result = analyze_estate(tmp_path, inv, records)
    # The peer network at most, never its hosts.
    assert final(result.plan, "sg-db") == {("ingress", "tcp", 5432, 5432, "10.50.0.0/16", None)}
    assert allows(result.plan, inv, side("10.50.77.7", kind="peered_vpc"), side(db), 5432)
    assert not allows(result.plan, inv, side("10.60.0.1", kind="private_other"), side(db), 5432)


def test_named_ranges_narrow_to_the_range_never_to_hosts(tmp_path: Path) -> None:
    bastion = eni("bastion", "10.0.0.30", ["sg-bastion"], public=["3.3.3.30"])
    inv = inventory(
        [bastion],
        groups=["sg-bastion"],
        rules=[rule("sg-bastion", "ingress", "tcp", 22, "0.0.0.0/0", rule_id="ssh")],
    )
    records = Records()
    for i, client in enumerate(("198.51.100.7", "192.168.4.4")):
        records.connection((None, client), (bastion.id, "10.0.0.30"), 50000 + i, 22,
                           start=at(0, i), intervals=30)  # fmt: skip
    result = analyze_estate(
        tmp_path, inv, records, partner=("198.51.100.0/24",), onprem=("192.168.0.0/16",)
    )
    assert final(result.plan, "sg-bastion") == {
        ("ingress", "tcp", 22, 22, "198.51.100.0/24", None),
        ("ingress", "tcp", 22, 22, "192.168.0.0/16", None),
    }
    assert allows(result.plan, inv, side("198.51.100.200", kind="partner"), side(bastion), 22)
    assert allows(result.plan, inv, side("192.168.77.1", kind="onprem"), side(bastion), 22)
    assert not allows(result.plan, inv, side("203.0.113.1"), side(bastion), 22)
    assert rejected_by_replay(
        result, without(result.plan, lambda r: r.peer.value == "192.168.0.0/16")
    )


# --------------------------------------------------------------------------- port ranges


def test_port_ranges_in_use_as_ranges_stay_ranges(tmp_path: Path) -> None:
    ftp = eni("ftp", "10.0.5.5", ["sg-ftp"])
    node = eni("node", "10.0.6.6", ["sg-node"])
    client = eni("client", "10.0.7.7", ["sg-client"])
    inv = inventory(
        [ftp, node, client],
        groups=["sg-ftp", "sg-node", "sg-client"],
        rules=[
            rule("sg-ftp", "ingress", "tcp", (50000, 50100), "sg-client", rule_id="ftp-data"),
            rule("sg-node", "ingress", "tcp", (0, 65535), "10.0.0.0/16", rule_id="node-all"),
            out_rule("sg-client"),
        ],
    )
    records = Records()
    for i, port in enumerate((50003, 50047, 50091)):  # passive FTP data connections
        records.connection((client.id, "10.0.7.7"), (ftp.id, "10.0.5.5"), 40000 + i, port,
                           start=at(0, i))  # fmt: skip
    for i, port in enumerate((30080, 31001, 32100)):  # Kubernetes NodePorts
        records.connection((client.id, "10.0.7.7"), (node.id, "10.0.6.6"), 41000 + i, port,
                           start=at(0, i))  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-ftp") == {("ingress", "tcp", 50000, 50100, "sg-client", None)}
    assert final(result.plan, "sg-node") == {("ingress", "tcp", 30000, 32767, "sg-client", None)}
    assert allows(result.plan, inv, side(client), side(ftp), 50050)
    assert allows(result.plan, inv, side(client), side(node), 30500)
    assert not allows(result.plan, inv, side(client), side(node), 22)
    assert rejected_by_replay(result, without(result.plan, lambda r: r.from_port == 30000))


# --------------------------------------------------------------------------- unattributed


def test_addresses_no_eni_holds_keep_the_rule_and_are_reported(tmp_path: Path) -> None:
    app = eni("app", "10.0.3.3", ["sg-app"])
    db = eni("db", "10.0.20.5", ["sg-db"])
    inv = inventory(
        [app, db],
        groups=["sg-app", "sg-db"],
        rules=[
            rule("sg-db", "ingress", "tcp", 5432, "10.0.0.0/16", rule_id="db-in"),
            out_rule("sg-app"),
        ],
    )
    records = Records()
    records.connection((app.id, "10.0.3.3"), (db.id, "10.0.20.5"), 50000, 5432, start=at())
    # An instance terminated before the snapshot: its address is in the VPC, held by no ENI.
    records.connection((None, "10.0.3.77"), (db.id, "10.0.20.5"), 50001, 5432, start=at(0, 1))
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-db") == {
        ("ingress", "tcp", 5432, 5432, "10.0.0.0/16", "unattributed"),
    }
    # Its replacement, at an address the window never saw, still reaches the database.
    assert allows(result.plan, inv, side("10.0.3.88", kind="vpc_unknown"), side(db), 5432)
    found = [f for f in plan_findings(result.plan) if f.code == "ZT021"]
    assert found
    assert "10.0.3.77" in dict(found[0].details)["peers"]
    assert rejected_by_replay(result, without(result.plan, lambda r: r.existing_rule_id == "db-in"))


# --------------------------------------------------------------------------- CDN


def test_clients_all_through_cloudfront_get_its_list(tmp_path: Path) -> None:
    origin = eni("origin", "10.0.1.50", ["sg-origin"], public=["3.3.3.50"])
    cloudfront = prefix_list(
        "pl-cf", "com.amazonaws.global.cloudfront.origin-facing", ["130.176.0.0/16"]
    )
    inv = inventory(
        [origin],
        groups=["sg-origin"],
        rules=[rule("sg-origin", "ingress", "tcp", 443, "0.0.0.0/0", rule_id="https")],
        prefix_lists=[cloudfront],
    )
    records = Records()
    for i in range(6):
        records.connection((None, f"130.176.{i}.9"), (origin.id, "10.0.1.50"), 50000 + i, 443,
                           start=at(0, i))  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    plan = result.plan
    assert final(plan, "sg-origin") == {("ingress", "tcp", 443, 443, "pl-cf", None)}
    assert allows(plan, inv, side("130.176.200.1", kind="aws_service"), side(origin), 443)
    assert "ZT023" in {f.code for f in plan_findings(plan)}
    assert rejected_by_replay(result, without(plan, lambda r: r.peer.value == "pl-cf"))
    # One client from elsewhere: the internet population stays open.
    records.connection((None, "198.18.0.1"), (origin.id, "10.0.1.50"), 51000, 443, start=at(1))
    mixed = analyze_estate(tmp_path / "mixed", inv, records)
    assert final(mixed.plan, "sg-origin") == {
        ("ingress", "tcp", 443, 443, "0.0.0.0/0", "open_population")
    }


# --------------------------------------------------------------------------- unevaluable


APP_SG = "sg-0aaaa1111bbbb2222"
CROSS, DELETED, EMPTY, UNKNOWN, UNUSED = (f"sgr-0{n}aaaa1111bbbb222" for n in range(1, 6))


def test_rules_the_tool_cannot_evaluate_are_kept(tmp_path: Path) -> None:
    app = eni("app", "10.0.3.3", [APP_SG])
    other = rule(APP_SG, "ingress", "tcp", 8080, "sg-0ccc3333dddd44440", rule_id=CROSS)
    other = replace(other, referenced_group_owner_id="999988887777")
    inv = inventory(
        [app],
        groups=[APP_SG],
        rules=[
            other,
            rule(APP_SG, "ingress", "tcp", 9000, "sg-0eee5555ffff66660", rule_id=DELETED),
            rule(APP_SG, "ingress", "tcp", 9001, "pl-0aaa1111bbbb22220", rule_id=EMPTY),
            rule(APP_SG, "ingress", "tcp", 9002, "pl-0ccc3333dddd44440", rule_id=UNKNOWN),
            rule(APP_SG, "ingress", "tcp", 22, "10.0.0.0/16", rule_id=UNUSED),
        ],
        prefix_lists=[
            replace(
                prefix_list("pl-0aaa1111bbbb22220", "empty", ["10.9.0.0/16"], aws=False), cidrs=()
            )
        ],
    )
    records = Records()
    records.record(app.id, "10.0.3.3", "10.0.3.3", 1, 1, start=at(), action="ACCEPT")
    result = analyze_estate(tmp_path, inv, records)
    kept = {
        r.existing_rule_id: r.kept_for
        for r in result.plan.group(APP_SG).rules
        if r.action == "keep"
    }
    assert kept == {
        CROSS: "unevaluable",
        DELETED: "unevaluable",
        EMPTY: "unevaluable",
        UNKNOWN: "unevaluable",
    }
    removed = {r.existing_rule_id for r in result.plan.group(APP_SG).rules if r.action == "remove"}
    assert removed == {UNUSED}  # an evaluable rule nothing used still goes
    cross = next(r for r in result.plan.group(APP_SG).rules if r.existing_rule_id == CROSS)
    assert cross.peer.owner_id == "999988887777"
    # Terraform names it as the AWS provider reads it back for a group of another account
    # ("<account>/<group>"), so the imported rule does not drift.
    out = render_terraform(result.plan, tmp_path / "terraform")
    hcl = "\n".join(p.read_text() for p in sorted(out.directory.glob("*.tf")))
    assert 'referenced_security_group_id = "999988887777/sg-0ccc3333dddd44440"' in hcl
    codes = [(f.code, f.rule_id) for f in result.findings]
    assert ("ZT020", CROSS) in codes
    assert ("ZT001", CROSS) not in codes  # never UNUSED


# --------------------------------------------------------------------------- direction


def test_direction_in_doubt_keeps_both_readings(tmp_path: Path) -> None:
    # A GlusterFS client binds a privileged port (1021) to reach 24007; no handshake in the
    # window. Ports alone read it backwards (1021 < 1024 looks like the server).
    client = eni("gclient", "10.0.8.8", ["sg-gc"])
    server = eni("gserver", "10.0.9.9", ["sg-gs"])
    inv = inventory(
        [client, server],
        groups=["sg-gc", "sg-gs"],
        rules=[
            rule("sg-gs", "ingress", "-1", None, "10.0.0.0/16", rule_id="gs-legacy"),
            rule("sg-gc", "ingress", "-1", None, "10.0.0.0/16", rule_id="gc-legacy"),
            out_rule("sg-gc"),
            out_rule("sg-gs"),
        ],
    )
    records = Records()
    records.connection((client.id, "10.0.8.8"), (server.id, "10.0.9.9"), 1021, 24007,
                       start=at(), intervals=40, opened=False)  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    plan = result.plan
    assert plan.ambiguous >= 1
    # Both readings stay allowed: the real one (client -> 24007) and the port heuristic's.
    assert allows(plan, inv, side(client), side(server), 24007)
    assert allows(plan, inv, side(server), side(client), 1021)
    assert "ambiguous_orientation" in {r.kept_for for g in plan.security_groups for r in g.rules}
    assert "ZT022" in {f.code for f in plan_findings(plan)}
    # A plan that keeps only the reading the ports suggest is refused by the replay.
    wrong = without(plan, lambda r: r.kept_for == "ambiguous_orientation")
    assert rejected_by_replay(result, wrong)


def test_listener_in_the_ephemeral_range_keeps_both_readings(tmp_path: Path) -> None:
    a = eni("peer-a", "10.0.8.1", ["sg-a"])
    b = eni("peer-b", "10.0.9.1", ["sg-b"])
    inv = inventory(
        [a, b],
        groups=["sg-a", "sg-b"],
        rules=[
            rule("sg-b", "ingress", "tcp", (1024, 65535), "sg-a", rule_id="b-high"),
            rule("sg-a", "ingress", "tcp", (1024, 65535), "sg-b", rule_id="a-high"),
            out_rule("sg-a"),
            out_rule("sg-b"),
        ],
    )
    records = Records()
    # One long-lived connection, handshake before the window: a -> b:51000 from 40000.
    records.connection((a.id, "10.0.8.1"), (b.id, "10.0.9.1"), 40000, 51000, start=at(),
                       intervals=30, opened=False)  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    assert allows(result.plan, inv, side(a), side(b), 51000)
    assert allows(result.plan, inv, side(b), side(a), 40000)
    assert result.plan.ambiguous >= 1


# --------------------------------------------------------------------------- coverage


def test_groups_not_covered_by_an_all_traffic_flow_log_keep_their_rules(tmp_path: Path) -> None:
    web = eni("w", "10.0.1.1", ["sg-w"], subnet="subnet-pub")
    db = eni("d", "10.0.2.2", ["sg-d"], subnet="subnet-data")
    rules = [
        rule("sg-d", "ingress", "tcp", 5432, "10.0.0.0/16", rule_id="d-in"),
        out_rule("sg-w"),
        out_rule("sg-d"),
    ]
    records = Records()
    records.connection((web.id, "10.0.1.1"), (db.id, "10.0.2.2"), 50000, 5432, start=at())
    # The data subnet logs only REJECT: what it accepts is unknown.
    inv = inventory(
        [web, db],
        groups=["sg-w", "sg-d"],
        rules=rules,
        flow_logs=[flow_log("subnet-pub"), flow_log("subnet-data", "REJECT")],
    )
    plan = analyze_estate(tmp_path, inv, records).plan
    assert plan.group("sg-d").coverage == "uncovered"
    assert {r.action for r in plan.group("sg-d").rules} == {"keep"}
    assert {r.kept_for for r in plan.group("sg-d").rules} == {"not_covered"}
    assert plan.group("sg-w").coverage == "observed"
    # A VPC-wide ALL log created after the window started covers nobody for the window.
    late = inventory(
        [web, db],
        groups=["sg-w", "sg-d"],
        rules=rules,
        flow_logs=[flow_log("vpc-a", created=datetime(2026, 11, 16, 12, tzinfo=UTC))],
    )
    plan = analyze_estate(tmp_path / "late", late, records).plan
    assert {g.coverage for g in plan.security_groups} == {"uncovered"}
    # Covered from before the window: the group is observed and narrowed.
    covered = inventory([web, db], groups=["sg-w", "sg-d"], rules=rules,
                        flow_logs=[flow_log("vpc-a")])  # fmt: skip
    plan = analyze_estate(tmp_path / "covered", covered, records).plan
    assert final(plan, "sg-d") == {("ingress", "tcp", 5432, 5432, "sg-w", None)}


# --------------------------------------------------------------------------- probes


def test_a_session_older_than_the_window_is_no_probe(tmp_path: Path) -> None:
    bastion = eni("bastion", "10.0.0.30", ["sg-bastion"], public=["3.3.3.30"])
    inv = inventory(
        [bastion],
        groups=["sg-bastion"],
        rules=[rule("sg-bastion", "ingress", "tcp", 22, "0.0.0.0/0", rule_id="ssh")],
    )
    records = Records()
    # The only administrator's session opened before the window; keepalives since.
    records.connection((None, "203.0.113.5"), (bastion.id, "10.0.0.30"), 50000, 22,
                       start=at(), intervals=120, opened=False)  # fmt: skip
    result = analyze_estate(tmp_path, inv, records)
    assert final(result.plan, "sg-bastion") == {
        ("ingress", "tcp", 22, 22, "0.0.0.0/0", "open_population")
    }
    assert not result.plan.intentionally_blocked
    # Scanners alone (a handshake and a reset each) lose it.
    scans = Records()
    for i in range(5):
        scanner = f"45.9.0.{i}"
        scans.record(bastion.id, scanner, "10.0.0.30", 50000 + i, 22, start=at(0, i), flags=6,
                     packets=2, bytes_=100, direction="ingress")  # fmt: skip
        scans.record(bastion.id, "10.0.0.30", scanner, 22, 50000 + i, start=at(0, i), flags=18,
                     packets=1, bytes_=60, direction="egress")  # fmt: skip
    result = analyze_estate(tmp_path / "scans", inv, scans)
    assert final(result.plan, "sg-bastion") == set()
    assert len(result.plan.intentionally_blocked) == 5


__all__ = ["ACCOUNT", "security_group"]
