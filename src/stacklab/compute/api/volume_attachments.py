"""``/servers/{id}/os-volume_attachments``: a server's volumes, as nova's attachments API.

An attachment is named by its volume's id. What each shows grows with the
microversion: ``tag`` (2.70), ``delete_on_termination`` (2.79), then
``attachment_id`` and ``bdm_uuid`` instead of ``id`` (2.89). An attach
answers the new attachment (200) until 2.100, then only 202.
"""

from __future__ import annotations

from typing import Any

from stacklab.api.errors import BadRequest, Conflict, NotFound
from stacklab.api.service import Call, Reply, VersionedSchema
from stacklab.compute import models as m
from stacklab.compute import states
from stacklab.compute.api.base import api, compute
from stacklab.compute.api.security_groups import limited
from stacklab.compute.api.server_actions import check_state, precondition
from stacklab.compute.api.servers import check_lock, get_instance, server_target
from stacklab.compute.volume_swap import swap_volume
from stacklab.compute.volumes import ATTACHABLE, mapping_view

_ATTACHMENTS = "/v2.1/servers/{server_id}/os-volume_attachments"
_ONE = f"{_ATTACHMENTS}/{{volume_id}}"
_RULE = "os_compute_api:os-volumes-attachments:"
# nova's check_instance_state of swap_volume.
_SWAPPABLE = (states.ACTIVE, states.PAUSED, states.RESIZED)

# nova's parameter_types: a device path, a device tag, a strict boolean.
_UUID = {"type": "string", "format": "uuid"}
_DEVICE = {"type": ["string", "null"],
           "pattern": "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"}
_TAG = {"type": "string", "pattern": "^[^,/]*$", "minLength": 1, "maxLength": 60}
_TRUE = (True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes")
_FALSE = (False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no")
_BOOLEAN = {"type": ["boolean", "string"], "enum": [*_TRUE, *_FALSE]}


def _body(fields: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "required": ["volumeAttachment"], "additionalProperties": False,
            "properties": {"volumeAttachment": {
                "type": "object", "required": ["volumeId"], "additionalProperties": False,
                "properties": {"volumeId": _UUID, **fields}}}}


_CREATE = [
    VersionedSchema(_body({"device": _DEVICE}), None, "2.48"),
    VersionedSchema(_body({"device": _DEVICE, "tag": _TAG}), "2.49", "2.78"),
    VersionedSchema(_body({"device": _DEVICE, "tag": _TAG, "delete_on_termination": _BOOLEAN}),
                    "2.79", None),
]
_UPDATE = [
    VersionedSchema(_body({}), None, "2.84"),
    VersionedSchema(_body({"device": _DEVICE, "tag": _TAG, "delete_on_termination": _BOOLEAN,
                           "serverId": _UUID, "id": _UUID}), "2.85", None),
]


def _bool(value: Any) -> bool:
    return value in _TRUE


def render(call: Call, bdm: dict[str, Any]) -> dict[str, Any]:
    """nova's attachment detail view at the request's microversion."""
    body: dict[str, Any] = {}
    if not call.version_at_least("2.89"):
        body["id"] = bdm["volume_id"]
    body["volumeId"] = bdm["volume_id"]
    body["serverId"] = bdm["instance_uuid"]
    if bdm["device_name"]:
        body["device"] = bdm["device_name"]
    if call.version_at_least("2.70"):
        body["tag"] = bdm["tag"]
    if call.version_at_least("2.79"):
        body["delete_on_termination"] = bdm["delete_on_termination"]
    if call.version_at_least("2.89"):
        body["attachment_id"] = bdm["attachment_id"]
        body["bdm_uuid"] = bdm["uuid"]
    return body


def _server(call: Call) -> m.Instance:
    with compute(call).db.session() as session:
        instance = get_instance(call, session, call.params["server_id"])
        session.expunge(instance)
        return instance


def _mapping(call: Call, instance: m.Instance, volume_id: str) -> dict[str, Any]:
    with compute(call).db.session() as session:
        bdm = compute(call).volumes.find(session, instance.uuid, volume_id)
        if bdm is None:
            raise NotFound(f"Instance {call.params['server_id']} is not attached to volume "
                           f"{volume_id}")
        return mapping_view(bdm)


def _before_2_20(call: Call, instance: m.Instance, method: str) -> None:
    """A shelved server's volumes could only be changed from 2.20 on."""
    if instance.vm_state in (states.SHELVED, states.SHELVED_OFFLOADED) and \
            not call.version_at_least("2.20"):
        raise Conflict(f"Cannot '{method}' instance {call.params['server_id']} while it is in "
                       f"vm_state {instance.vm_state}")


@api.route("GET", _ATTACHMENTS, policy=f"{_RULE}index", target=server_target,
           expected_errors=404)
async def list_attachments(call: Call) -> dict[str, Any]:
    instance = _server(call)
    views = [b for b in compute(call).volumes.views(instance.uuid)]
    # nova pages the server's every mapping, then shows the volumes among them.
    return {"volumeAttachments": [render(call, b) for b in limited(call, views)
                                  if b["volume_id"]]}


@api.route("GET", _ONE, policy=f"{_RULE}show", target=server_target, expected_errors=404)
async def show_attachment(call: Call) -> dict[str, Any]:
    instance = _server(call)
    return {"volumeAttachment": render(call, _mapping(call, instance,
                                                      call.params["volume_id"]))}


@api.route("POST", _ATTACHMENTS, policy=f"{_RULE}create", target=server_target,
           schema=_CREATE, expected_errors=(400, 403, 404, 409))
async def attach_volume(call: Call) -> Any:
    wanted = call.body["volumeAttachment"]
    volume_id = wanted["volumeId"]
    instance = _server(call)
    _before_2_20(call, instance, "attach_volume")
    check_lock(call, instance)
    check_state(instance, "attach_volume", precondition(ATTACHABLE))
    delete_on_termination = _bool(wanted.get("delete_on_termination", False))
    made = await compute(call).volumes.attach(
        instance, volume_id, call.context, device=wanted.get("device"), tag=wanted.get("tag"),
        delete_on_termination=delete_on_termination,
        multiattach_ok=call.version_at_least("2.60"))
    if call.version_at_least("2.101"):
        return Reply(None, status=202)
    # nova answers what it asked for, the device included even when it has none yet.
    body: dict[str, Any] = {"id": volume_id, "serverId": instance.uuid, "volumeId": volume_id,
                            "device": made["device_name"]}
    if call.version_at_least("2.70"):
        body["tag"] = wanted.get("tag")
    if call.version_at_least("2.79"):
        body["delete_on_termination"] = delete_on_termination
    return {"volumeAttachment": body}


@api.route("PUT", _ONE, target=server_target, schema=_UPDATE, status=202,
           expected_errors=(400, 403, 404, 409))
async def update_attachment(call: Call) -> None:
    wanted = call.body["volumeAttachment"]
    old, new = call.params["volume_id"], wanted["volumeId"]
    instance = _server(call)
    only_swap = not call.version_at_least("2.85")
    if only_swap or old != new:
        # nova's empty target: cinder calls this for a volume of any project.
        call.authorize(f"{_RULE}swap", {})
    else:
        call.authorize(f"{_RULE}update", server_target(call))
    if not only_swap:
        _update_fields(call, instance, old, wanted)
    if only_swap or old != new:
        await _swap(call, instance, old, new)


def _update_fields(call: Call, instance: m.Instance, volume_id: str,
                   wanted: dict[str, Any]) -> None:
    """2.85: ``delete_on_termination`` changes; the other fields must be what they are."""
    volumes = compute(call).volumes
    bdm = _mapping(call, instance, volume_id)
    if "id" in wanted and wanted["id"] != volume_id:
        raise BadRequest("The id property is not mutable")
    if "serverId" in wanted and wanted["serverId"] != instance.uuid:
        raise BadRequest("The serverId property is not mutable")
    if "device" in wanted and wanted["device"] != bdm["device_name"]:
        raise BadRequest("The device property is not mutable")
    if "tag" in wanted and wanted["tag"] != bdm["tag"]:
        raise BadRequest("The tag property is not mutable")
    if "delete_on_termination" in wanted:
        volumes.update(bdm["uuid"],
                       delete_on_termination=_bool(wanted["delete_on_termination"]))


async def _swap(call: Call, instance: m.Instance, old: str, new: str) -> None:
    """A swap is cinder's step of a volume migration: refused for a volume not migrating."""
    volumes = compute(call).volumes
    token = call.context.auth_token
    old_volume = await volumes.volume(old, token)
    if not old_volume.get("migration_status"):
        raise Conflict(f"volume {old} is not migrating; this API should only be called by "
                       "Cinder")
    try:
        new_volume = await volumes.volume(new, token)
    except NotFound as exc:
        # A volume named in the body is the request's fault: 400, where the path's is 404.
        raise BadRequest(exc.message) from None
    check_lock(call, instance)
    check_state(instance, "swap_volume", precondition(_SWAPPABLE))
    await swap_volume(compute(call), instance, old_volume, new_volume, call.context)


@api.route("DELETE", _ONE, policy=f"{_RULE}delete", target=server_target, status=202,
           expected_errors=(400, 403, 404, 409))
async def detach_volume(call: Call) -> None:
    volume_id = call.params["volume_id"]
    instance = _server(call)
    _before_2_20(call, instance, "detach_volume")
    volumes = compute(call).volumes
    await volumes.volume(volume_id, call.context.auth_token)
    bdm = _mapping(call, instance, volume_id)
    if bdm["boot_index"] == 0:
        raise BadRequest("Cannot detach a root device volume")
    check_lock(call, instance)
    check_state(instance, "detach_volume", precondition(ATTACHABLE))
    if instance.vm_state != states.SHELVED_OFFLOADED:
        service = compute(call)
        record = service.service_record(instance.host) if instance.host else None
        if record is None or not service.services.is_up(record):
            raise Conflict("Service is unavailable at this time.")
    await volumes.detach(instance, bdm, call.context)
