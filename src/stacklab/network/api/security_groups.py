"""``/v2.0/security-groups`` and ``/v2.0/security-group-rules``."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from stacklab.api.errors import ApiError, BadRequest
from stacklab.api.service import Call
from stacklab.network import models as m
from stacklab.network.api.base import network, target_of
from stacklab.network.api.resource import Resource, assign, has_any, load, matches, serve
from stacklab.network.api.views import (
    RULE_ATTRIBUTES,
    SECURITY_GROUP_ATTRIBUTES,
    render_rule,
    render_security_group,
)

# neutron-lib's IP_PROTOCOL_MAP: the names a rule may use for an IP protocol.
_PROTOCOLS = {"ah": 51, "dccp": 33, "egp": 8, "esp": 50, "gre": 47, "hopopt": 0, "icmp": 1,
              "icmpv6": 58, "igmp": 2, "ipip": 4, "ipv6-encap": 41, "ipv6-frag": 44,
              "ipv6-icmp": 58, "ipv6-nonxt": 59, "ipv6-opts": 60, "ipv6-route": 43,
              "ospf": 89, "pgm": 113, "rsvp": 46, "sctp": 132, "tcp": 6, "udp": 17,
              "udplite": 136, "vrrp": 112}
# neutron's SG_PORT_PROTO_NUMS: the protocols whose rules take port ranges.
_PORTED_NUMBERS = (33, 132, 6, 17, 136)


def groups_of_project(call: Call, session: Session, group_ids: list[str],
                      project: str) -> list[m.SecurityGroup]:
    """Security groups a port or a rule names: each must be the given project's own, unless
    an admin asks; neutron answers SecurityGroupNotFound naming those that are not."""
    found = {g: session.get(m.SecurityGroup, g) for g in group_ids}
    missing = [g for g, row in found.items() if row is None
               or not (call.context.is_admin or row.project_id == project)]
    if missing:
        raise SECURITY_GROUP.not_found(", ".join(missing))
    return [row for row in found.values() if row is not None]


_RULES_PER_QUERY = 900


def _rules(session: Session, group_ids: list[str]) -> dict[str, list[Any]]:
    result: dict[str, list[Any]] = {g: [] for g in group_ids}
    table = m.SecurityGroupRule.__table__
    for start in range(0, len(group_ids), _RULES_PER_QUERY):
        chunk = group_ids[start:start + _RULES_PER_QUERY]
        for rule in session.execute(select(table).where(
                table.c.security_group_id.in_(chunk))
                .order_by(table.c.created_at, table.c.id)):
            result[rule.security_group_id].append(rule)
    return result


def _render(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    rules = _rules(session, [r.id for r in rows])
    return [render_security_group(r, rules[r.id]) for r in rows]


def _ensure_default(call: Call, session: Session) -> None:
    if call.context.project_id:
        network(call).default_security_group(session, call.context.project_id)


SECURITY_GROUP = Resource(
    name="security_group", collection="security_groups", model=m.SecurityGroup,
    response=SECURITY_GROUP_ATTRIBUTES, render=_render,
    not_found=lambda i: ApiError(f"Security group {i} does not exist", status=404,
                                 kind="SecurityGroupNotFound"),
    before_list=_ensure_default, path="security-groups")


def _make(call: Call, session: Session, project: str, fields: dict[str, Any],
          parent: Mapping[str, Any]) -> m.SecurityGroup:
    service = network(call)
    now = service.clock.now()
    service.default_security_group(session, project)
    group = m.SecurityGroup(id=service.ids.uuid(), project_id=project,
                            name=fields.get("name", ""),
                            description=fields.get("description", ""),
                            stateful=fields.get("stateful", True), tags=[],
                            created_at=now, updated_at=now)
    session.add(group)
    session.flush()
    # neutron gives every new group the two egress rules of its default group.
    for ethertype in ("IPv4", "IPv6"):
        session.add(m.SecurityGroupRule(
            id=service.ids.uuid(), project_id=project, security_group_id=group.id,
            direction="egress", ethertype=ethertype, created_at=now, updated_at=now))
    return group


def _apply(call: Call, session: Session, group: m.SecurityGroup, fields: dict[str, Any],
           parent: Mapping[str, Any]) -> None:
    # (a new name of "default" the attribute map refused already)
    if group.is_default and "name" in fields:
        raise ApiError("Updating default security group not allowed.", status=409,
                       kind="SecurityGroupCannotUpdateDefault")
    assign(call, session, group, fields, parent, resource="security_group")


def _remove(call: Call, session: Session, group: m.SecurityGroup) -> None:
    if group.is_default and not call.context.is_admin:
        raise ApiError("Insufficient rights for removing default security group.", status=409,
                       kind="SecurityGroupCannotRemoveDefault")
    if session.scalar(select(m.Port.id).where(
            has_any(m.Port.__table__.c.security_groups, [group.id])).limit(1)):
        raise ApiError(f"Security Group {group.id} in use.", status=409,
                       kind="SecurityGroupInUse")
    session.delete(group)


serve(SECURITY_GROUP, make=_make, apply=_apply, remove=_remove)


def _rule_key(rule: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two rules the same (neutron's _rule_to_key): protocols by number, an
    all-addresses prefix as no prefix."""
    protocol = rule.get("protocol")
    if protocol is not None:
        protocol = str(_PROTOCOLS.get(str(protocol), protocol))
    prefix = rule.get("remote_ip_prefix")
    if prefix in ("0.0.0.0/0", "::/0"):
        prefix = None
    return (rule.get("direction"), rule.get("ethertype"), protocol,
            rule.get("port_range_min"), rule.get("port_range_max"), prefix,
            rule.get("remote_group_id"))


def _invalid(kind: str, message: str) -> ApiError:
    return ApiError(message, status=400, kind=kind)


def _check_port_range(protocol: str | None, low: int | None, high: int | None) -> None:
    """neutron's _validate_port_range: ports only with a protocol; for the protocols with
    ports (TCP, UDP, DCCP, SCTP, UDP-Lite) a range from 1 with both ends; for ICMP a type
    and code each 0 to 255, no code without a type; for any other protocol no ports."""
    if low is None and high is None:
        return
    if protocol is None:
        raise _invalid("SecurityGroupProtocolRequiredWithPorts",
                       "Must also specify protocol if port range is given.")
    number = _PROTOCOLS.get(protocol, int(protocol) if protocol.isdigit() else -1)
    if number in _PORTED_NUMBERS:
        if low == 0 or high == 0:
            raise _invalid("SecurityGroupInvalidPortValue", "Invalid value for port 0")
        if low is None or high is None or low > high:
            raise _invalid("SecurityGroupInvalidPortRange",
                           "For TCP/UDP protocols, port_range_min must be <= port_range_max")
    elif number in (1, 58):  # ICMP, IPv6-ICMP
        for value, attr, field in ((low, "port_range_min", "type"),
                                   (high, "port_range_max", "code")):
            if value is not None and not 0 <= value <= 255:
                raise _invalid("SecurityGroupInvalidIcmpValue",
                               f"Invalid value for ICMP {field} ({attr}) {value}. It must be "
                               "0 to 255.")
        if low is None and high is not None:
            raise _invalid("SecurityGroupMissingIcmpType",
                           f"ICMP code (port-range-max) {high} is provided but ICMP type "
                           "(port-range-min) is missing.")
    else:
        raise _invalid("SecurityGroupInvalidProtocolForPort",
                       f"Ports cannot be specified for protocol {number}. Ports are only "
                       "supported for DCCP, SCTP, TCP, UDP, UDPLITE.")


def _validate_rule(fields: dict[str, Any]) -> dict[str, Any]:
    """What the attribute map cannot check alone (direction and ethertype it has)."""
    direction, ethertype = fields["direction"], fields.get("ethertype", "IPv4")
    protocol = fields.get("protocol")
    if protocol is not None:
        protocol = str(protocol).lower()
        if protocol == "any":
            protocol = None
        elif protocol not in _PROTOCOLS and not (protocol.isdigit()
                                                 and 0 <= int(protocol) <= 255):
            names = ", ".join(["None", *sorted(_PROTOCOLS)])
            raise ApiError(f"Security group rule protocol {protocol} not supported. Only "
                           f"protocol values [{names}] and integer representations [0 to "
                           "255] are supported.", status=400,
                           kind="SecurityGroupRuleInvalidProtocol")
    low, high = fields.get("port_range_min"), fields.get("port_range_max")
    _check_port_range(protocol, low, high)
    prefix, normalized = fields.get("remote_ip_prefix"), None
    if prefix is not None:
        # neutron keeps the address as given, its mask added (10.2.3.124/24 stays so,
        # 10.0.0.1 is 10.0.0.1/32), and shows the network it names as normalized_cidr.
        try:
            given = ipaddress.ip_interface(prefix)
        except ValueError:
            raise BadRequest(f"Invalid input for remote_ip_prefix. Reason: '{prefix}' is not "
                             "a valid IP subnet.") from None
        if f"IPv{given.version}" != ethertype:
            raise ApiError(f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                           status=400, kind="SecurityGroupRuleParameterConflict")
        prefix, normalized = str(given), str(given.network)
    if prefix is not None and fields.get("remote_group_id"):
        raise ApiError("Only remote_ip_prefix or remote_group_id may be provided.",
                       status=400, kind="SecurityGroupRemoteGroupAndRemoteIpPrefix")
    return {"direction": direction, "ethertype": ethertype, "protocol": protocol,
            "port_range_min": int(low) if low is not None else None,
            "port_range_max": int(high) if high is not None else None,
            "remote_ip_prefix": prefix, "normalized_cidr": normalized,
            "remote_group_id": fields.get("remote_group_id"),
            "description": fields.get("description", "")}


def _rule_target(item: Mapping[str, Any], parent: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's policy target: neutron's rule checks read its group's owner (sg_owner),
    which owns a rule being created too, whoever asks (the parent's project)."""
    project = parent.get("project_id", item["project_id"])
    return target_of({"project_id": project, "security_group:project_id": project})


SECURITY_GROUP_RULE = Resource(
    name="security_group_rule", collection="security_group_rules",
    path="security-group-rules", model=m.SecurityGroupRule, response=RULE_ATTRIBUTES,
    render=lambda session, rows: [render_rule(r) for r in rows],
    not_found=lambda i: ApiError(f"Security group rule {i} does not exist", status=404,
                                 kind="SecurityGroupRuleNotFound"),
    target=_rule_target, scalar_lists=frozenset(),
    computed={"normalized_cidr": lambda t, wanted: matches(t.c.normalized_cidr, wanted)})


def _rule_group(call: Call, session: Session, fields: dict[str, Any], project: str
                ) -> Mapping[str, Any]:
    """The group a new rule goes in, as the caller sees it: its project owns the rule."""
    group = load(call, session, SECURITY_GROUP, fields["security_group_id"])[0]
    return {"project_id": group.project_id}


def _make_rule(call: Call, session: Session, project: str, fields: dict[str, Any],
               parent: Mapping[str, Any]) -> m.SecurityGroupRule:
    group = session.get_one(m.SecurityGroup, fields["security_group_id"])  # _rule_group's
    values = _validate_rule(fields)
    if values["remote_group_id"]:
        # neutron looks the remote group up in the rule's project (_check_security_group).
        groups_of_project(call, session, [values["remote_group_id"]], group.project_id)
    for existing in session.scalars(select(m.SecurityGroupRule).where(
            m.SecurityGroupRule.security_group_id == group.id)):
        if _rule_key(existing.__dict__) == _rule_key(values):
            raise ApiError(f"Security group rule already exists. Rule id is {existing.id}.",
                           status=409, kind="SecurityGroupRuleExists")
    service = network(call)
    now = service.clock.now()
    rule = m.SecurityGroupRule(id=service.ids.uuid(), project_id=group.project_id,
                               security_group_id=group.id, created_at=now, updated_at=now,
                               **values)
    session.add(rule)
    group.revision_number += 1
    return rule


serve(SECURITY_GROUP_RULE, make=_make_rule, parent_for=_rule_group,
      remove=lambda call, session, rule: session.delete(rule))
