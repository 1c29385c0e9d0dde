"""``/os-security-groups`` and ``/os-security-group-rules``: neutron's groups in nova's words.

Served until 2.35, as nova's proxies are; each call goes to neutron with the caller's
token. A server's own groups (``/servers/{id}/os-security-groups``) and the
add/remove actions are in ``server_network``.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call, Reply
from stacklab.compute.api.base import api, compute, project_target
from stacklab.compute.api.images import PROXY_MAX
from stacklab.compute.proxies import new_ingress_rule, parse_cidr, uuid_like

_GROUPS = "/v2.1/os-security-groups"
_RULES = "/v2.1/os-security-group-rules"
_RULE = "os_compute_api:os-security-groups:"
_TEXT = {"type": "string", "minLength": 0, "maxLength": 255}
_GROUP_BODY = {
    "type": "object", "required": ["security_group"], "additionalProperties": True,
    "properties": {"security_group": {
        "type": "object", "required": ["name", "description"], "additionalProperties": True,
        "properties": {"name": _TEXT, "description": _TEXT}}}}
_RULE_BODY = {
    "type": "object", "required": ["security_group_rule"], "additionalProperties": True,
    "properties": {"security_group_rule": {
        "type": "object", "required": ["parent_group_id"], "additionalProperties": True,
        "properties": {"group_id": {"type": ["string", "null"], "format": "uuid"},
                       "parent_group_id": {"type": "string", "format": "uuid"},
                       "to_port": {}, "from_port": {}, "ip_protocol": {}, "cidr": {}}}}}


def _valid_id(value: str) -> str:
    if not uuid_like(value):
        raise BadRequest("Security group id should be uuid")
    return value


def render_rule(rule: dict[str, Any], group_data: dict[str, Any] | None) -> dict[str, Any]:
    """nova's view of a rule: the group it admits, or else the addresses."""
    return {"id": rule["id"], "parent_group_id": rule["parent_group_id"],
            "ip_protocol": rule["protocol"], "from_port": rule["from_port"],
            "to_port": rule["to_port"], "group": group_data or {},
            "ip_range": {} if rule["group_id"] else {"cidr": rule["cidr"]}}


def render_group(group: dict[str, Any],
                 data: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """nova's view of a group; a rule naming a group no longer there is left out."""
    rules = []
    for rule in group["rules"]:
        other = rule["group_id"]
        if other and data.get(other) is None:
            continue
        rules.append(render_rule(rule, data.get(other) if other else None))
    return {"id": group["id"], "name": group["name"], "description": group["description"],
            "tenant_id": group["project_id"], "rules": rules}


async def _rendered(call: Call, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    data = await compute(call).networking.rule_group_data(call.context, groups)
    return [render_group(g, data) for g in groups]


def limited(call: Call, items: list[Any]) -> list[Any]:
    """nova's ``common.limited``: ``offset`` and ``limit`` (capped by [api] max_limit)."""
    values = {}
    for name in ("offset", "limit"):
        raw = call.query.get(name)
        if raw is None:
            continue
        try:
            values[name] = int(raw)
        except ValueError:
            raise BadRequest(f"{name} param must be an integer") from None
        if values[name] < 0:
            raise BadRequest(f"{name} param must be positive")
    offset = values.get("offset", 0)
    limit = min(values.get("limit", 1000) or 1000, 1000)
    return items[offset:offset + limit]


@api.route("GET", _GROUPS, policy=f"{_RULE}get", target=project_target, max_version=PROXY_MAX,
           expected_errors=404)
async def list_security_groups(call: Call) -> dict[str, Any]:
    everyone = call.context.is_admin and "all_tenants" in call.query
    groups = await compute(call).networking.groups(call.context, everyone)
    shown = await _rendered(call, limited(call, groups))
    return {"security_groups": sorted(shown, key=lambda g: (g["tenant_id"] or "", g["name"]))}


@api.route("GET", f"{_GROUPS}/{{group_id}}", policy=f"{_RULE}show", target=project_target,
           max_version=PROXY_MAX, expected_errors=(400, 404))
async def show_security_group(call: Call) -> dict[str, Any]:
    group_id = _valid_id(call.params["group_id"])
    group = await compute(call).networking.group(call.context, group_id)
    return {"security_group": (await _rendered(call, [group]))[0]}


@api.route("POST", _GROUPS, policy=f"{_RULE}create", target=project_target,
           max_version=PROXY_MAX, schema=_GROUP_BODY, expected_errors=(400, 403))
async def create_security_group(call: Call) -> dict[str, Any]:
    wanted = call.body["security_group"]
    group = await compute(call).networking.create_group(call.context, wanted["name"],
                                                        wanted["description"])
    return {"security_group": (await _rendered(call, [group]))[0]}


@api.route("PUT", f"{_GROUPS}/{{group_id}}", policy=f"{_RULE}update", target=project_target,
           max_version=PROXY_MAX, schema=_GROUP_BODY, expected_errors=(400, 404))
async def update_security_group(call: Call) -> dict[str, Any]:
    networking = compute(call).networking
    group = await networking.group(call.context, _valid_id(call.params["group_id"]))
    wanted = call.body["security_group"]
    changed = await networking.update_group(call.context, group["id"], wanted["name"],
                                            wanted["description"])
    return {"security_group": (await _rendered(call, [changed]))[0]}


@api.route("DELETE", f"{_GROUPS}/{{group_id}}", policy=f"{_RULE}delete", target=project_target,
           max_version=PROXY_MAX, status=202, expected_errors=(400, 404))
async def delete_security_group(call: Call) -> None:
    networking = compute(call).networking
    group = await networking.group(call.context, _valid_id(call.params["group_id"]))
    await networking.delete_group(call.context, group["id"])


@api.route("POST", _RULES, policy=f"{_RULE}rule:create", target=project_target,
           max_version=PROXY_MAX, schema=_RULE_BODY, expected_errors=(400, 403, 404))
async def create_security_group_rule(call: Call) -> dict[str, Any]:
    networking = compute(call).networking
    wanted = call.body["security_group_rule"]
    group_id = wanted.get("group_id")
    parent = await networking.group(call.context, wanted["parent_group_id"])
    source: dict[str, Any] | None = None
    if group_id is not None:
        source = await networking.group(call.context, group_id)
        new = new_ingress_rule(wanted.get("ip_protocol"), wanted.get("from_port"),
                               wanted.get("to_port"), group_id=group_id)
    else:
        new = new_ingress_rule(wanted.get("ip_protocol"), wanted.get("from_port"),
                               wanted.get("to_port"), cidr=parse_cidr(wanted.get("cidr")))
    if new is None:
        raise BadRequest("Not enough parameters to build a valid rule.")
    new["parent_group_id"] = parent["id"]
    if "cidr" in new:
        network, _, prefix = new["cidr"].partition("/")
        if network not in ("0.0.0.0", "::") and prefix == "0":
            raise BadRequest(f"Bad prefix for network in cidr {new['cidr']}")
    rule = await networking.add_rule(call.context, parent, new)
    data = {"name": source["name"], "tenant_id": source["project_id"]} if source else None
    return {"security_group_rule": render_rule(rule, data)}


@api.route("DELETE", f"{_RULES}/{{rule_id}}", policy=f"{_RULE}rule:delete",
           target=project_target, max_version=PROXY_MAX, status=202,
           expected_errors=(400, 404, 409))
async def delete_security_group_rule(call: Call) -> Reply:
    networking = compute(call).networking
    if not uuid_like(call.params["rule_id"]):
        raise BadRequest("Security group id should be uuid")
    rule = await networking.rule(call.context, call.params["rule_id"])
    await networking.group(call.context, rule["parent_group_id"])
    await networking.delete_rule(call.context, rule["id"])
    return Reply(None, status=202)


# A blank id (``DELETE /os-security-groups/``) names no group: nova's router finds nothing.
@api.route("DELETE", f"{_GROUPS}/", max_version=PROXY_MAX, expected_errors=404)
async def delete_blank_security_group(call: Call) -> None:
    raise NotFound("The resource could not be found.")
