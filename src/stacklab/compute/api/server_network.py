"""A server's networking through nova: interfaces (``os-interface``) and security groups."""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, NotFound
from stacklab.api.service import Call, Reply
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.api.base import NEUTRON_ERRORS, api, compute
from stacklab.compute.api.security_groups import render_group
from stacklab.compute.api.server_actions import (
    ANYTIME,
    Precondition,
    action,
    check_state,
    precondition,
)
from stacklab.compute.api.servers import check_lock, get_instance, server_target
from stacklab.compute.proxies import nova_group

_SERVER = "/v2.1/servers/{server_id}"
_ATTACHABLE = (states.ACTIVE, states.PAUSED, states.STOPPED, states.SUSPENDED,
               states.SHELVED, states.SHELVED_OFFLOADED)


def _attachment(call: Call, port: dict[str, Any]) -> dict[str, Any]:
    body = {"port_state": port["status"], "port_id": port["id"], "net_id": port["network_id"],
            "mac_addr": port["mac_address"],
            "fixed_ips": [{"subnet_id": f["subnet_id"], "ip_address": f["ip_address"]}
                          for f in port["fixed_ips"]]}
    if call.version_at_least("2.70"):
        body["tag"] = None
    return body


def _server(call: Call, *, unlocked: bool = False) -> m.Instance:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        if unlocked:
            check_lock(call, instance)
        return instance


@api.route("GET", f"{_SERVER}/os-interface", policy="os_compute_api:os-attach-interfaces:list",
           target=server_target, expected_errors=NEUTRON_ERRORS)
async def list_interfaces(call: Call) -> dict[str, Any]:
    ports = await compute(call).interfaces.ports(_server(call).uuid)
    return {"interfaceAttachments": [_attachment(call, p) for p in ports]}


@api.route("GET", f"{_SERVER}/os-interface/{{port_id}}",
           policy="os_compute_api:os-attach-interfaces:show", target=server_target,
           expected_errors=NEUTRON_ERRORS)
async def show_interface(call: Call) -> dict[str, Any]:
    for port in await compute(call).interfaces.ports(_server(call).uuid):
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
    instance = _server(call, unlocked=True)
    if instance.vm_state not in _ATTACHABLE or instance.task_state is not None:
        check_state(instance, "attach_interface", _attachable())
    port = await compute(call).interfaces.attach(instance, wanted, call.context)
    return {"interfaceAttachment": _attachment(call, port)}


def _attachable() -> Precondition:
    return precondition(_ATTACHABLE)


@api.route("DELETE", f"{_SERVER}/os-interface/{{port_id}}",
           policy="os_compute_api:os-attach-interfaces:delete", target=server_target,
           status=202, expected_errors=NEUTRON_ERRORS)
async def detach_interface(call: Call) -> None:
    await compute(call).interfaces.detach(_server(call, unlocked=True), call.params["port_id"],
                                          call.context)


# -- security groups (server actions and os-security-groups) --------------------------------


def _sg_action(adding: bool) -> Any:
    async def handler(call: Call, session: Any, instance: Any, args: dict[str, Any]) -> Any:
        await compute(call).interfaces.change_security_group(instance, args["name"], adding,
                                                             call.context)
        return Reply(None, status=202)
    return handler


# nova changes the ports' groups whatever the server's state or lock (a rescued server too).
action("addSecurityGroup", "os_compute_api:os-security-groups:add",
       ANYTIME, record_as=None, expected_errors=NEUTRON_ERRORS)(_sg_action(True))
action("removeSecurityGroup", "os_compute_api:os-security-groups:remove",
       ANYTIME, record_as=None, expected_errors=NEUTRON_ERRORS)(_sg_action(False))


@api.route("GET", f"{_SERVER}/os-security-groups",
           policy="os_compute_api:os-security-groups:list", target=server_target,
           expected_errors=NEUTRON_ERRORS)
async def server_security_groups(call: Call) -> dict[str, Any]:
    groups = [nova_group(g) for g in
              await compute(call).interfaces.security_groups(_server(call).uuid)]
    data = await compute(call).networking.rule_group_data(call.context, groups)
    shown = [render_group(g, data) for g in groups]
    return {"security_groups": sorted(shown, key=lambda g: (g["tenant_id"] or "", g["name"]))}
