"""A server's networking through nova: interfaces (``os-interface``) and security groups."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import ApiError, BadRequest, NotFound
from stacklab.api.service import Call, Reply
from stacklab.compute import states
from stacklab.compute.api.base import NEUTRON_ERRORS, api, compute
from stacklab.compute.api.server_actions import Precondition, action, check_state, precondition
from stacklab.compute.api.servers import bus_context, check_lock, get_instance, server_target
from stacklab.compute.neutron import NeutronClient, NeutronError

_SERVER = "/v2.1/servers/{server_id}"
_ATTACHABLE = (states.ACTIVE, states.PAUSED, states.STOPPED, states.SUSPENDED,
               states.SHELVED, states.SHELVED_OFFLOADED)


def neutron(call: Call) -> NeutronClient:
    client = compute(call).neutron
    if client is None or call.cloud.app is None:
        raise ApiError("Networking is not available.", status=501)
    return client


def _failure(exc: NeutronError) -> ApiError:
    return ApiError(exc.message, status=exc.status if exc.status < 500 else 500)


def _attachment(call: Call, port: dict[str, Any]) -> dict[str, Any]:
    body = {"port_state": port["status"], "port_id": port["id"], "net_id": port["network_id"],
            "mac_addr": port["mac_address"],
            "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]}
                          for f in port["fixed_ips"]]}
    if call.version_at_least("2.70"):
        body["tag"] = None
    return body


async def _ports(call: Call, server_id: str) -> list[dict[str, Any]]:
    try:
        listed = await neutron(call).request("GET", "/v2.0/ports",
                                             params={"device_id": server_id})
    except NeutronError as exc:
        raise _failure(exc) from None
    return list(listed["ports"])


@api.route("GET", f"{_SERVER}/os-interface", policy="os_compute_api:os-attach-interfaces:list",
           target=server_target, expected_errors=NEUTRON_ERRORS)
async def list_interfaces(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
    return {"interfaceAttachments": [_attachment(call, p)
                                     for p in await _ports(call, instance.uuid)]}


@api.route("GET", f"{_SERVER}/os-interface/{{port_id}}",
           policy="os_compute_api:os-attach-interfaces:show", target=server_target,
           expected_errors=NEUTRON_ERRORS)
async def show_interface(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
    for port in await _ports(call, instance.uuid):
        if port["id"] == call.params["port_id"]:
            return {"interfaceAttachment": _attachment(call, port)}
    raise NotFound(f"Port {call.params['port_id']} is not attached")


@api.route("POST", f"{_SERVER}/os-interface",
           policy="os_compute_api:os-attach-interfaces:create", target=server_target,
           expected_errors=NEUTRON_ERRORS)
async def attach_interface(call: Call) -> dict[str, Any]:
    body = call.body if isinstance(call.body, dict) else {}
    wanted = body.get("interfaceAttachment") or {}
    if not isinstance(wanted, dict) or (wanted.get("net_id") and wanted.get("port_id")):
        raise BadRequest("Must not input both network_id and port_id")
    service = compute(call)
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
        if instance.vm_state not in _ATTACHABLE or instance.task_state is not None:
            check_state(instance, "attach_interface", _attachable())
        host = instance.host or ""
        project = instance.project_id
        zone = instance.availability_zone or service.default_zone
        groups = list(instance.security_groups)
    client = neutron(call)
    if wanted.get("port_id"):
        request: dict[str, Any] = {"port": wanted["port_id"]}
    elif wanted.get("net_id"):
        request = {"uuid": wanted["net_id"]}
        fixed = wanted.get("fixed_ips") or []
        if fixed:
            request["fixed_ip"] = fixed[0].get("ip_address")
    else:
        request = {}
    # os-interface answers an unknown (or invisible) port or network with 404, not boot's 400.
    resolved = await client.resolve_networks([request] if request else "auto", project,
                                             call.headers.get("X-Auth-Token", ""),
                                             missing_status=404)
    if not resolved:
        raise BadRequest("No network is available to attach an interface to.")
    try:
        ports = await client.allocate_for_instance(instance.uuid, project, host, zone,
                                                   resolved, groups)
        addresses = await client.addresses(instance.uuid)
    except NeutronError as exc:
        raise _failure(exc) from None
    with service.db.session() as session:
        row = service.instances.find(session, instance.uuid)
        if row is not None:
            row.addresses = addresses
            if isinstance(row.networks, list):
                row.networks = [*row.networks, *resolved]
            service.instances.start_action(session, row, "attach_interface",
                                           bus_context(call))
    return {"interfaceAttachment": _attachment(call, ports[0])}


def _attachable() -> Precondition:
    return precondition(_ATTACHABLE)


@api.route("DELETE", f"{_SERVER}/os-interface/{{port_id}}",
           policy="os_compute_api:os-attach-interfaces:delete", target=server_target,
           status=202, expected_errors=NEUTRON_ERRORS)
async def detach_interface(call: Call) -> None:
    service = compute(call)
    port_id = call.params["port_id"]
    with service.db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        check_lock(call, instance)
        requests = instance.networks if isinstance(instance.networks, list) else []
        given = any(isinstance(r, dict) and r.get("port_id") == port_id for r in requests)
    if not any(p["id"] == port_id for p in await _ports(call, instance.uuid)):
        raise NotFound(f"Port {port_id} is not attached")
    client = neutron(call)
    try:
        if given:
            await client.request("PUT", f"/v2.0/ports/{port_id}", json={"port": {
                "device_id": "", "device_owner": "", "binding:host_id": ""}})
        else:
            await client.request("DELETE", f"/v2.0/ports/{port_id}")
        addresses = await client.addresses(instance.uuid)
    except NeutronError as exc:
        raise _failure(exc) from None
    with service.db.session() as session:
        row = service.instances.find(session, instance.uuid)
        if row is not None:
            row.addresses = addresses
            row.networks = [r for r in requests if not (isinstance(r, dict)
                                                        and r.get("port_id") == port_id)]
            service.instances.start_action(session, row, "detach_interface",
                                           bus_context(call))


# -- security groups (server actions and os-security-groups) --------------------------------


async def _group_id(call: Call, name: str) -> str:
    """The group named, as the caller sees it: nova looks it up with the user's context."""
    project_id = call.context.project_id or ""
    try:
        found = await neutron(call).find_security_group(
            name, project_id, call.headers.get("X-Auth-Token", ""))
    except NeutronError as exc:
        raise _failure(exc) from None
    if found is None:
        raise NotFound(f"Security group {name} is not found for project {project_id}")
    return found


async def _change_groups(call: Call, instance_uuid: str, name: str,
                         adding: bool) -> list[str]:
    group_id = await _group_id(call, name)
    ports = await _ports(call, instance_uuid)
    if not ports:
        raise BadRequest(f"Server {instance_uuid} has no ports to apply security groups to.")
    has = [group_id in p["security_groups"] for p in ports]
    if adding and all(has):
        raise BadRequest(f"Security group {name} is already associated with the instance "
                         f"{instance_uuid}")
    if not adding and not any(has):
        raise BadRequest(f"Security group {name} not associated with the instance "
                         f"{instance_uuid}")
    client = neutron(call)
    for port in ports:
        groups = [g for g in port["security_groups"] if g != group_id]
        if adding:
            groups.append(group_id)
        try:
            await client.request("PUT", f"/v2.0/ports/{port['id']}",
                                 json={"port": {"security_groups": groups}})
        except NeutronError as exc:
            raise _failure(exc) from None
    return [group_id]


def _sg_action(adding: bool) -> Any:
    async def handler(call: Call, session: Any, instance: Any, args: dict[str, Any]) -> Any:
        name = args["name"]
        await _change_groups(call, instance.uuid, name, adding)
        names = [g for g in instance.security_groups if g != name]
        instance.security_groups = [*names, name] if adding else names
        return Reply(None, status=202)
    return handler


action("addSecurityGroup", "os_compute_api:os-security-groups:add",
       _attachable(), record_as=None, expected_errors=NEUTRON_ERRORS)(_sg_action(True))
action("removeSecurityGroup", "os_compute_api:os-security-groups:remove",
       _attachable(), record_as=None, expected_errors=NEUTRON_ERRORS)(_sg_action(False))


@api.route("GET", f"{_SERVER}/os-security-groups",
           policy="os_compute_api:os-security-groups:list", target=server_target,
           expected_errors=NEUTRON_ERRORS)
async def server_security_groups(call: Call) -> dict[str, Any]:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
    ids = {g for p in await _ports(call, instance.uuid) for g in p["security_groups"]}
    try:
        groups = (await neutron(call).request("GET", "/v2.0/security-groups"))[
            "security_groups"]
    except NeutronError as exc:
        raise _failure(exc) from None
    return {"security_groups": [
        {"id": g["id"], "name": g["name"], "description": g["description"],
         "tenant_id": g["tenant_id"], "rules": []} for g in groups if g["id"] in ids]}
