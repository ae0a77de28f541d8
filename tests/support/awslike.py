"""Make the moto server behave as AWS does where our clients and Terraform can tell.

``serve_moto`` runs the server the ``moto_server`` fixture hands out. It answers one
request at a time: moto's backends are plain dictionaries, and a request that iterates
one while another thread adds to it fails with HTTP 500 ("dictionary changed size during
iteration", seen under DescribeSecurityGroupRules while groups were being created). AWS
does not fail a request because another ran beside it, and a 500 is not harmless: SDKs
retry it as a transient error
(https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html), so a
non-idempotent call that had already changed moto's state before failing, such as
AuthorizeSecurityGroupIngress, comes back from its retry as InvalidPermission.Duplicate
and a Terraform apply that AWS would accept fails. Connections are still served on their
own threads; only the application runs one request at a time.

moto is not EC2 in three places a Terraform apply of security-group rules runs into.
Each patch below restores the documented AWS behaviour; the product is never bent to
moto. The patches are applied to moto's backend classes in this process, where the
server runs, for the duration of a test that asks for them.

1. A rule's description is kept for every kind of peer. moto reads
   ``SecurityGroupRule.description`` from the CIDR range only, so a rule that references
   a group loses its description in ``DescribeSecurityGroupRules``; AWS returns it
   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRule.html:
   ``description``, "The security group rule description", for every rule).
2. Two rules that differ only in their description are the same rule: AWS refuses the
   second with ``InvalidPermission.Duplicate``
   (https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html: "you
   can't add a rule that's the same as an existing rule"; the description is not part
   of what makes a rule). moto compares the referenced group with its description.
3. ``ModifySecurityGroupRules`` accepts a rule without ports for protocol ``-1`` (all
   traffic has no ports), and changes the peer (``CidrIpv6``, ``PrefixListId``,
   ``ReferencedGroupId``) and the description of any rule
   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_SecurityGroupRuleRequest.html).
   moto rejects the first and ignores the others.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.ec2.exceptions import (
    InvalidParameterValue,
    InvalidSecurityGroupNotFoundError,
    InvalidSecurityGroupRuleIdNotFoundError,
    MissingParameter,
)
from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def one_request_at_a_time(app: WsgiApp) -> WsgiApp:
    """The application, run for one request at a time; the body is read under the lock
    too, since a WSGI body may be produced lazily from the backends."""
    lock = threading.Lock()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with lock:
            result = app(environ, start_response)
            try:
                return [bytes(chunk) for chunk in result]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()

    return serve


@contextmanager
def serve_moto() -> Iterator[str]:
    """A moto server on 127.0.0.1 (a free port) for the block; yields its endpoint URL."""
    app = one_request_at_a_time(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        thread.join()


def _description(self: SecurityGroupRule) -> str | None:
    for holder in (self.ip_range, self.source_group):
        if holder.get("Description") is not None:
            return holder["Description"]
    return getattr(self, "prefix_list_description", None)


def _peer_group(rule: SecurityGroupRule) -> tuple[str | None, str | None]:
    return rule.source_group.get("GroupId"), rule.source_group.get("UserId")


def _same_rule(self: SecurityGroupRule, other: SecurityGroupRule) -> bool:
    if self.ip_protocol != other.ip_protocol:
        return False
    if self.ip_range.get("CidrIp") != other.ip_range.get("CidrIp"):
        return False
    if self.ip_range.get("CidrIpv6") != other.ip_range.get("CidrIpv6"):
        return False
    if bool(self.source_group) != bool(other.source_group):
        return False
    if self.source_group and _peer_group(self) != _peer_group(other):
        return False
    if self.prefix_list_id != other.prefix_list_id:
        return False
    if self.ip_protocol != "-1":
        return self.from_port == other.from_port and self.to_port == other.to_port
    return True


def _modify_security_group_rules(
    self: SecurityGroupBackend, group_id: str, rules: dict[str, dict[str, Any]]
) -> None:
    group = self.get_security_group_by_name_or_id(group_id)
    if group is None:
        raise InvalidSecurityGroupNotFoundError(group_id)
    for rule_id, new in rules.items():
        peers = {
            k: new.get(k)
            for k in ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId")
            if new.get(k) is not None
        }
        if len(peers) != 1:
            raise MissingParameter(
                "The request must contain exactly one of: cidrIp, cidrIpv6, prefixListId,"
                " or referencedGroupId"
            )
        rule = group.get_rule(rule_id)
        if rule is None:
            raise InvalidSecurityGroupRuleIdNotFoundError(rule_id)
        protocol = new.get("IpProtocol")
        if protocol is None:
            raise InvalidParameterValue(
                "Invalid value 'null' for protocol. VPC security group rules must specify"
                " protocols explicitly."
            )
        protocol = {"all": "-1", "6": "tcp", "17": "udp", "1": "icmp"}.get(
            str(protocol).lower(), str(protocol).lower()
        )
        low, high = new.get("FromPort"), new.get("ToPort")
        if protocol == "-1":
            low = high = None
        elif low is None or high is None:
            raise InvalidParameterValue(
                "Invalid value for portRange. Must specify both from and to ports with TCP/UDP."
            )
        description = new.get("Description")
        if description is None:
            description = _description(rule)
        rule.ip_protocol = protocol
        rule.from_port = None if low is None else int(low)
        rule.to_port = None if high is None else int(high)
        rule.ip_range, rule.source_group, rule.prefix_list_id = {}, {}, None
        ((kind, value),) = peers.items()
        if kind == "CidrIpv4":
            rule.ip_range = {"CidrIp": value}
        elif kind == "CidrIpv6":
            rule.ip_range = {"CidrIpv6": value}
        elif kind == "PrefixListId":
            rule.prefix_list_id = value
        else:
            owner = self.account_id  # type: ignore[attr-defined]
            rule.source_group = {"GroupId": value, "UserId": owner, "OwnerId": owner}
        if description is not None:
            if rule.source_group:
                rule.source_group["Description"] = description
            elif rule.ip_range:
                rule.ip_range["Description"] = description
            else:
                rule.prefix_list_description = description  # type: ignore[attr-defined]


@contextmanager
def ec2_as_aws() -> Iterator[None]:
    """Apply the patches above while the block runs."""
    saved = (
        SecurityGroupRule.description,
        SecurityGroupRule.__eq__,
        SecurityGroupBackend.modify_security_group_rules,
    )
    SecurityGroupRule.description = property(_description)  # type: ignore[assignment,method-assign]
    SecurityGroupRule.__eq__ = _same_rule  # type: ignore[assignment,method-assign]
    SecurityGroupBackend.modify_security_group_rules = _modify_security_group_rules  # type: ignore[method-assign]
    try:
        yield
    finally:
        (
            SecurityGroupRule.description,  # type: ignore[method-assign]
            SecurityGroupRule.__eq__,  # type: ignore[method-assign]
            SecurityGroupBackend.modify_security_group_rules,  # type: ignore[method-assign]
        ) = saved
