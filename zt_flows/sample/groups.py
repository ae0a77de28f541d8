"""The sample's security groups and their rules (``SCENARIO.md``, "Security groups today")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from zt_flows.sample.ids import aws_id
from zt_flows.vocabulary import Direction

PeerKind = Literal["cidr4", "cidr6", "group", "prefix_list"]


@dataclass(frozen=True)
class RuleDef:
    """One rule, one peer; ``protocol`` "-1" means every protocol and port."""

    direction: Direction
    protocol: str
    from_port: int
    to_port: int
    peer_kind: PeerKind
    peer: str  # a CIDR, a group key, or a prefix-list id
    description: str | None = None


@dataclass(frozen=True)
class GroupDef:
    key: str
    name: str
    vpc: str
    description: str
    rules: tuple[RuleDef, ...]

    @property
    def id(self) -> str:
        return aws_id("sg", self.key)

    def rule_id(self, index: int) -> str:
        return aws_id("sgr", f"{self.key}/{index}")


def _in(
    port: int, peer_kind: PeerKind, peer: str, proto: str = "tcp", desc: str | None = None
) -> RuleDef:
    return RuleDef("ingress", proto, port, port, peer_kind, peer, desc)


def _self_reference(group_key: str) -> RuleDef:
    """The default group's rule: all traffic from members of the group itself."""
    return RuleDef("ingress", "-1", -1, -1, "group", group_key)


_EGRESS_ALL = RuleDef("egress", "-1", -1, -1, "cidr4", "0.0.0.0/0")
_VPC = "10.0.0.0/16"


def security_groups() -> tuple[GroupDef, ...]:
    """The groups of SCENARIO.md's \"Security groups today\", in that order."""

    def g(
        key: str, name: str, desc: str, *rules: RuleDef, vpc: str = "prod", egress: bool = True
    ) -> GroupDef:
        return GroupDef(key, name, vpc, desc, (*rules, *((_EGRESS_ALL,) if egress else ())))

    return (
        g(
            "web-alb",
            "web-alb",
            "Public load balancer",
            _in(443, "cidr4", "0.0.0.0/0", desc="HTTPS from anywhere"),
            _in(443, "cidr6", "::/0", desc="HTTPS from anywhere (IPv6)"),
            _in(80, "cidr4", "0.0.0.0/0", desc="HTTP redirect"),
        ),
        g(
            "web",
            "web",
            "Web tier",
            _in(8080, "group", "web-alb", desc="from the load balancer"),
            _in(22, "group", "bastion", desc="SSH from bastion"),
        ),
        g("api", "api", "API tier", _in(8443, "cidr4", _VPC, desc="API from the VPC")),
        g("worker", "worker", "Background workers"),
        g("postgres", "postgres", "RDS PostgreSQL", _in(5432, "cidr4", _VPC)),
        g(
            "redis",
            "redis",
            "ElastiCache Redis",
            _in(6379, "group", "api"),
            _in(6379, "group", "worker"),
        ),
        g("bastion", "bastion", "SSH bastion", _in(22, "cidr4", "0.0.0.0/0", desc="SSH")),
        g(
            "node-exporter",
            "node-exporter",
            "Prometheus node exporter",
            _in(9100, "cidr4", "10.0.0.0/8", desc="metrics scrapes"),
            egress=False,
        ),
        g("monitoring", "monitoring", "Prometheus server"),
        g(
            "dns-resolver",
            "dns-resolver",
            "Internal DNS resolver",
            _in(53, "cidr4", _VPC, proto="udp", desc="DNS"),
            _in(53, "cidr4", _VPC, desc="DNS over TCP"),
        ),
        g(
            "legacy-allow-vpc",
            "legacy-allow-vpc",
            "TEMP allow all from VPC (migration 2023)",
            RuleDef("ingress", "-1", -1, -1, "cidr4", _VPC, "legacy: whole VPC"),
        ),
        g("reports-lambda", "reports-lambda", "Reports Lambda function"),
        g("weekly-batch", "weekly-batch", "Weekly batch job"),
        g(
            "default-prod",
            "default",
            "default VPC security group",
            _self_reference("default-prod"),
        ),
        g(
            "jenkins-old",
            "jenkins-old",
            "Jenkins (decommissioned)",
            _in(8080, "cidr4", _VPC),
            _in(50000, "cidr4", _VPC),
        ),
        g("ci-runner", "ci-runner", "CI runners", vpc="shared-services"),
        g(
            "default-shared",
            "default",
            "default VPC security group",
            _self_reference("default-shared"),
            vpc="shared-services",
        ),
    )
